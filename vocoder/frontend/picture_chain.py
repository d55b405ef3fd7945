"""The analyst chain: any picture without our metadata (a photo, a drawing,
a screenshot of another tool) → a spectrogram under a given spec.

Channel, crop, flip, resize, blur, polarity, intensity → dB → magnitude:
every step is an option (:class:`PictureOptions`) with a recorded default.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from vocoder.errors import VocoderError
from vocoder.frontend import colormap
from vocoder.frontend.crop import find_plot_area
from vocoder.frontend.display_axes import band_rows
from vocoder.frontend.picture import Picture
from vocoder.frontend.picture_options import PictureOptions
from vocoder.frontend.spectrogram_png import MIN_SIDE, brightness_to_magnitude, check_frames
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram


# Off-bar pixels (text, gridlines, cursors) above this share of the plot get a warning: the fill
# from neighbours is then a large part of what is heard.
MASKED_WARNING = 0.02


def _through_colour_bar(picture: Picture, box: tuple[int, int, int, int], options: PictureOptions,
                        steps: list[dict]) -> torch.Tensor:
    """The plot's values read through the picture's colour bar (palette index or nearest bar colour),
    off-bar colours masked and filled from their neighbours."""
    from vocoder.frontend.plot_layout import bar_from_box, decode_through_bar, find_layout

    if options.colorbar == "auto":
        found = find_layout(picture).bar
        if found is None:
            raise VocoderError("--colorbar auto found no colour bar in the picture: give its box with --colorbar "
                               "L,T,R,B")
        bar_box = found.box
    else:
        bar_box = tuple(int(v) for v in options.colorbar)  # type: ignore[union-attr]
    bar = bar_from_box(picture, bar_box)
    decoded = decode_through_bar(picture, box, bar)
    step = {"step": "decode_colour_bar", "bar": bar.summary(), **decoded.summary()}
    if decoded.masked_fraction > MASKED_WARNING:
        step["warning"] = (f"{decoded.masked_fraction:.1%} of the plot's pixels are not colours of the bar (text, "
                           "gridlines, a cursor?): filled from their neighbours; check the --preview")
    if decoded.mean_delta_e is not None and decoded.mean_delta_e > colormap.POOR_FIT_DELTA_E:
        step["warning"] = (f"the plot's colours are far from the bar's (mean ΔE {decoded.mean_delta_e:.1f} > "
                           f"{colormap.POOR_FIT_DELTA_E:g}): is --colorbar the right box?")
    steps.append(step)
    return torch.from_numpy(decoded.values).unsqueeze(0)


def _select_channels(picture: Picture, box: tuple[int, int, int, int], options: PictureOptions,
                     steps: list[dict]) -> torch.Tensor:
    """The cropped ``box`` → (channels, H, W) values in [0, 1] before polarity."""
    bands = picture.bands
    left, top, right, bottom = box
    pixels = picture.pixels[top:bottom, left:right]
    colour = bands.startswith("RGB")
    if bands.endswith("A"):
        steps.append({"step": "drop_alpha", "note": "the alpha channel was ignored"})
    if options.colorbar is not None:
        if not colour and picture.palette_indices is None:
            raise VocoderError("--colorbar needs a colour picture; this one is greyscale (leave --colorbar out)")
        return _through_colour_bar(picture, box, options, steps)
    if options.colormap is not None:
        if not colour:
            raise VocoderError("--colormap needs a colour picture; this one is greyscale (leave --colormap out)")
        if options.colormap == "auto":
            fit, scores = colormap.decode_auto(pixels)
            how = {"method": "nearest colour (CIELAB) on the best-fitting known map", "candidates_mean_delta_e": scores}
        else:
            fit = colormap.decode(pixels, options.colormap)
            how = {"method": "nearest colour (CIELAB) on a named matplotlib map"}
        step = {"step": "decode_colormap", **fit.summary(), **how}
        if not fit.fits:
            step["warning"] = (f"the pixels are far from the {fit.name} colour map (mean ΔE {fit.mean_delta_e:.1f} > "
                               f"{colormap.POOR_FIT_DELTA_E:g}): the values are probably wrong; try --colormap auto "
                               "or --colorbar")
        steps.append(step)
        return torch.from_numpy(fit.values).unsqueeze(0)
    px = torch.from_numpy(pixels)
    if options.planes is not None:
        chosen = []
        for plane in options.planes:
            if plane == "grey" or not colour:
                chosen.append(_luminance(px) if colour else px[..., 0])
            else:
                chosen.append(px[..., "rgb".index(plane)])
        steps.append({"step": "select_channel", "planes": list(options.planes),
                      "method": " + ".join(f"{p} → channel {i}" for i, p in enumerate(options.planes))
                      + ("" if colour else " (grey picture: every plane is the grey value)")})
        return torch.stack(chosen).contiguous()
    channel = options.channel
    if channel == "stereo":
        if not colour:
            raise VocoderError("--channel stereo needs a colour image (R = left, G = right); this one is greyscale")
        chosen, how = px[..., :2].permute(2, 0, 1), "R → left, G → right"
    elif not colour:
        chosen, how = px[..., :1].permute(2, 0, 1), "greyscale image used as is"
        if channel != "grey":
            how += f" (--channel {channel} has no separate plane in a grey image)"
    elif channel == "grey":
        chosen, how = _luminance(px).unsqueeze(0), "luminance 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601)"
    else:
        index = "rgb".index(channel)
        chosen, how = px[..., index].unsqueeze(0), f"{channel.upper()} plane only"
    steps.append({"step": "select_channel", "channel": channel, "method": how})
    return chosen.contiguous()


def _luminance(px: torch.Tensor) -> torch.Tensor:
    # ITU-R BT.601 luma, the weights Pillow's convert("L") uses.
    return px[..., :3] @ torch.tensor([0.299, 0.587, 0.114], dtype=px.dtype)


def _gaussian_blur(planes: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian, radius ceil(3σ), reflected at the edges (repeated
    when the picture is no wider than the radius).

    scipy filters in place along each axis; torch's float64 conv2d would
    build an im2col copy (2r+1) times the picture's size (1.5 GB for σ = 20
    on 513 × 3000 pixels).
    """
    from scipy.ndimage import gaussian_filter1d

    radius = max(1, int(math.ceil(3 * sigma)))
    # scipy's "mirror" is torch's "reflect" (edge not repeated); "nearest" is "replicate".
    mode = "mirror" if min(planes.shape[-2:]) > radius else "nearest"
    out = planes.numpy().astype(np.float64, copy=True)
    for axis in (-2, -1):
        gaussian_filter1d(out, sigma, axis=axis, mode=mode, radius=radius, output=out)
    return torch.from_numpy(out)


def _crop(picture: Picture, options: PictureOptions, steps: list[dict]) -> tuple[int, int, int, int]:
    """The box of the picture to read: all of it, the given one, or the plot area found."""
    if options.crop is None:
        return 0, 0, picture.width, picture.height
    if options.crop == "auto":
        found = find_plot_area(picture.pixels)
        box = found.box
        step = {"step": "crop", "box": list(box), "method": "auto: " + found.method, "confidence": found.confidence}
        if not found.sure:
            step["warning"] = (f"--crop auto is unsure of the plot area (confidence {found.confidence:.2f}); it "
                               f"used {box[0]},{box[1]},{box[2]},{box[3]}: check the preview, or give --crop L,T,R,B")
    else:
        box = tuple(int(v) for v in options.crop)  # type: ignore[union-attr]
        step = {"step": "crop", "box": list(box), "method": "--crop LEFT,TOP,RIGHT,BOTTOM (pixels)"}
    left, top, right, bottom = box
    if not (0 <= left < right <= picture.width and 0 <= top < bottom <= picture.height):
        raise VocoderError(f"--crop {left},{top},{right},{bottom} is not a box inside the "
                           f"{picture.width}×{picture.height} picture")
    if right - left < 2 or bottom - top < 2:
        raise VocoderError(f"--crop {left},{top},{right},{bottom} leaves less than 2×2 pixels")
    steps.append(step)
    return left, top, right, bottom


def _polarity(planes: torch.Tensor, options: PictureOptions, bit_depth: int, steps: list[dict],
              from_producer: bool) -> torch.Tensor:
    if options.dark_is_loud:
        planes = 1.0 - planes
        steps.append({"step": "invert_polarity", "note": "dark is loud: value = 1 − brightness"})
    if options.quantisation == "truncate":
        # The producer truncated v·max to an integer: the value lies in the step above, not at its
        # floor; take the step's centre. Exact zeros (silence) stay zero.
        half = 0.5 / (2**bit_depth - 1)
        planes = torch.where(planes > 0, (planes - half).clamp(min=0.0), planes)
        steps.append({"step": "dequantise", "rule": "truncated integers: value − half a step (zeros kept)"})
    loud = float((planes > 0.5).to(torch.float64).mean())
    if loud > 0.5 and not from_producer and options.colorbar is None:  # a bar says which end is loud
        hint = "--dark-is-loud" if not options.dark_is_loud else "no --dark-is-loud"
        steps.append({"step": "polarity_check", "fraction_loud_half": loud,
                      "warning": f"{loud:.0%} of the picture is in the loud half of the scale, unusual for a "
                                 f"spectrogram: if dark means loud in this picture, try {hint}"})
    return planes


def full_scale_reference(spec: SpectrogramSpec) -> float:
    """The STFT magnitude of a full-scale sine at a bin's centre under this spec: 0 dBFS."""
    from vocoder.frontend.stft import window

    return float(window(spec, torch.float64).sum()) / 2.0


def _to_magnitude(planes: torch.Tensor, spec: SpectrogramSpec, options: PictureOptions,
                  steps: list[dict]) -> torch.Tensor:
    reference = options.level_reference or 1.0
    if options.db_reference == "full-scale":
        reference = full_scale_reference(spec)
        steps.append({"step": "db_reference", "reference": "full-scale", "amplitude_of_0_db": reference,
                      "rule": "0 dB = a full-scale sine's STFT magnitude (window sum / 2): dBFS"})
    if options.mapping == "power":
        assert options.power is not None
        magnitude = reference * planes.to(torch.float64).clamp(min=0.0) ** (1.0 / options.power)
        steps.append({"step": "intensity_to_magnitude", "mapping": "power", "power": options.power,
                      "reference": reference, "rule": "amplitude = reference · value^(1/power); 0 → silence"})
        return magnitude.to(torch.float32)
    steps.append({"step": "intensity_to_magnitude", "mapping": "db", "db_min": options.db_min,
                  "db_max": options.db_max, "reference": reference,
                  "rule": "value 0 → silence; v > 0 → dB = db_min + v·(db_max − db_min)"})
    return brightness_to_magnitude(planes, options.db_min, options.db_max, reference)


def _undo_pre_emphasis(magnitude: torch.Tensor, spec: SpectrogramSpec, db_per_octave: float,
                       steps: list[dict]) -> torch.Tensor:
    """Take off the tilt a producer added: ``db_per_octave`` × log2(f / 1000 Hz) dB at each band's
    centre (Praat's pre-emphasis rule; a band at 0 Hz is taken at its upper half's centre)."""
    centres = np.asarray(spec.axis.centre_frequencies(spec), dtype=np.float64)
    floor = spec.sample_rate / spec.n_fft / 2
    gain_db = -db_per_octave * np.log2(np.maximum(centres, floor) / 1000.0)
    steps.append({"step": "undo_pre_emphasis", "db_per_octave": db_per_octave, "reference_hz": 1000.0,
                  "rule": "dB − pre_emphasis · log2(f / 1000 Hz) at each band's centre frequency"})
    gain = torch.from_numpy(10.0 ** (gain_db / 20.0)).to(magnitude.dtype).view(1, -1, 1)
    return magnitude * gain


def _sample_display_rows(planes: torch.Tensor, spec: SpectrogramSpec, row_scale: str,
                         steps: list[dict]) -> torch.Tensor:
    """One row per band, sampled where a plotting program drew that band (bottom row first)."""

    height = planes.shape[1]
    sampled = _sample_rows(planes, band_rows(spec, height, row_scale))
    steps.append({"step": "display_rows", "row_scale": row_scale, "from_rows": height, "to_bands": spec.n_bins,
                  "method": "each band sampled at its cell centre as librosa.display.specshow draws the axis "
                            "(matplotlib symlog transform for mel: linthresh 1000 Hz, base 2)"})
    return sampled


def _place_rows(planes: torch.Tensor, spec: SpectrogramSpec, options: PictureOptions,
                steps: list[dict]) -> tuple[torch.Tensor, int, int]:
    """Rows the picture covers: all bins, or (linear axis) the bins in --freq-range."""
    if options.freq_range is None:
        return planes, 0, spec.n_bins
    low, high = options.freq_range
    if not spec.axis.is_identity:
        fmin, fmax = spec.axis.band(spec)
        if abs(low - fmin) > 1e-6 or abs(high - fmax) > 1e-6:
            raise VocoderError(f"--freq-range on a {spec.axis.kind} axis must equal its band "
                               f"({fmin:g}..{fmax:g} Hz): set the axis's range instead")
        return planes, 0, spec.n_bins
    nyquist = spec.sample_rate / 2
    if high > nyquist:
        raise VocoderError(f"--freq-range top {high:g} Hz is above the Nyquist frequency {nyquist:g} Hz")
    hz_per_bin = spec.sample_rate / spec.n_fft
    first, last = int(math.ceil(low / hz_per_bin)), int(math.floor(high / hz_per_bin))
    if last - first < 1:
        raise VocoderError(f"--freq-range {low:g}-{high:g} Hz spans less than two STFT bins")
    steps.append({"step": "frequency_range", "low_hz": low, "high_hz": high, "bins": [first, last],
                  "scale": options.freq_scale, "note": "bins outside the range are silent"})
    if options.freq_scale != "linear":
        planes = _sample_scaled_rows(planes, np.arange(first, last + 1) * hz_per_bin, options, steps)
    return planes, first, last + 1


def _sample_scaled_rows(planes: torch.Tensor, frequencies: np.ndarray, options: PictureOptions,
                        steps: list[dict]) -> torch.Tensor:
    """One row per bin from a picture whose rows are spaced on a log or symlog frequency axis
    between its bottom edge and top edge (``--freq-range``): each bin sampled (linearly between
    the two nearest rows) where the axis draws its frequency. Rows are bottom first (after the flip)."""
    from vocoder.frontend.tick_labels import Scale

    assert options.freq_range is not None
    scale = Scale("log") if options.freq_scale == "log" else Scale("symlog", *options.symlog)  # type: ignore[misc]
    height = planes.shape[1]
    low, high = scale.forward(np.asarray(options.freq_range, dtype=np.float64))
    position = (scale.forward(frequencies) - low) / (high - low)
    steps.append({"step": "scaled_frequency_rows", "scale": options.freq_scale, "symlog": options.symlog,
                  "from_rows": height, "to_bins": len(frequencies),
                  "method": f"each bin sampled where a {options.freq_scale} frequency axis from the bottom to the "
                            "top edge draws it (linear between the two nearest rows)"})
    return _sample_rows(planes, position * height - 0.5)


def _sample_rows(planes: torch.Tensor, rows: np.ndarray) -> torch.Tensor:
    """The planes at fractional rows (0 = centre of the first row), linear between the two nearest,
    clamped to the picture."""
    height = planes.shape[1]
    at = torch.from_numpy(rows).clamp(0, height - 1)
    below = at.floor().long().clamp(max=height - 1)
    above = (below + 1).clamp(max=height - 1)
    weight = (at - below).to(planes.dtype).view(1, -1, 1)
    return planes[:, below] * (1 - weight) + planes[:, above] * weight


def plain_geometry(width: int, height: int, spec: SpectrogramSpec, options: PictureOptions,
                   path: str = "the picture") -> tuple[int, int | None]:
    """(frames, samples or None) a picture without metadata becomes, from its
    header alone; refuses pictures too small to be a spectrogram."""
    if width < MIN_SIDE or height < MIN_SIDE:
        raise VocoderError(f"{path} is {width}×{height} pixels: too small to be a spectrogram "
                           f"(at least {MIN_SIDE}×{MIN_SIDE}: a time and a frequency axis)")
    seconds = options.seconds
    if seconds is None:
        check_frames(width, None, spec, path)
        return width, None
    n_samples = int(round(seconds * spec.sample_rate))
    needed = max(spec.n_fft, spec.min_samples())
    if n_samples < needed:
        flag = "--time-range" if options.time_range is not None else "--duration"
        raise VocoderError(f"{flag} spans {seconds:g} s: shorter than one STFT frame of the spec "
                           f"({needed} samples = {needed / spec.sample_rate:.3g} s)")
    return spec.n_frames(n_samples), n_samples


def picture_to_spectrogram(picture: Picture, spec: SpectrogramSpec, options: PictureOptions,
                           producer: dict | None = None, path: str = "the picture",
                           found: dict | None = None) -> Spectrogram:
    """The analyst's chain for a picture that carries no spec of its own.

    ``producer``: the claims of a known producer whose conventions set the options (recorded);
    ``found``: how a drawn plot's parts and axes were read into the options (recorded).
    """
    options.validate()
    steps: list[dict[str, Any]] = [{
        "step": "read_picture", "format": picture.format, "mode": picture.source_mode,
        "width": picture.width, "height": picture.height, "bit_depth": picture.bit_depth,
        "notes": picture.notes,
    }]
    if producer is not None:
        steps.append({"step": "producer_conventions", **producer,
                      "note": "spec and mapping read from the file's own tags: a claim by whoever made it"})
    if found is not None:
        steps.append(found)
    planes = _select_channels(picture, _crop(picture, options, steps), options, steps)
    planes = _polarity(planes, options, picture.bit_depth, steps, producer is not None)
    if options.flip:
        planes = torch.flip(planes, dims=[1])
        steps.append({"step": "flip_vertical", "note": "top image row = highest frequency"})
    else:
        steps.append({"step": "no_flip", "note": "top image row = lowest frequency"})
    frames, n_samples = plain_geometry(planes.shape[-1], planes.shape[-2], spec, options, path)
    if options.row_scale != "uniform":
        planes = _sample_display_rows(planes, spec, options.row_scale, steps)
    planes, first_bin, end_bin = _place_rows(planes, spec, options, steps)
    rows = end_bin - first_bin
    if planes.shape[1:] != (rows, frames):
        resized = F.interpolate(planes.unsqueeze(0), size=(rows, frames), mode="bilinear",
                                align_corners=False, antialias=True)[0].clamp(0.0, 1.0)
        # Keep true black black: pixel 0 means silence, not -80 dB.
        black = F.interpolate((planes > 0).to(planes.dtype).unsqueeze(0), size=(rows, frames),
                              mode="bilinear", align_corners=False, antialias=True)[0] == 0
        steps.append({"step": "resize", "from": list(planes.shape[1:]), "to": [rows, frames],
                      "method": "bilinear with antialiasing (torch.nn.functional.interpolate)",
                      "frames_from": ("--time-range" if options.time_range is not None else
                                      "--duration" if options.duration is not None else "image width")})
        planes = torch.where(black, torch.zeros_like(resized), resized)
    if rows != spec.n_bins:
        full = torch.zeros((planes.shape[0], spec.n_bins, frames), dtype=planes.dtype)
        full[:, first_bin:end_bin] = planes
        planes = full
    if options.blur_sigma > 0:
        planes = _gaussian_blur(planes, options.blur_sigma).clamp(0.0, 1.0)
        steps.append({"step": "gaussian_blur", "sigma_pixels": options.blur_sigma})
    magnitude = _to_magnitude(planes, spec, options, steps)
    if options.pre_emphasis:
        magnitude = _undo_pre_emphasis(magnitude, spec, options.pre_emphasis, steps)
    return Spectrogram(magnitude=magnitude, spec=spec, provenance=tuple(steps), n_samples=n_samples)


def warnings_of(spectrogram: Spectrogram) -> list[str]:
    """The warnings recorded by the decoding steps, for the CLI to print."""
    return [step["warning"] for step in spectrogram.provenance if isinstance(step, dict) and step.get("warning")]

"""Spectrogram ↔ image.

Two directions, two kinds of picture:

* A spectrogram we encoded carries its spec and pixel→dB mapping as JSON in a
  PNG text chunk; decoding it is the exact inverse up to quantisation.
* Any other picture (a photo, a drawing, a screenshot of another tool) goes
  through an analyst's preprocessing chain — channel, flip, resize, blur,
  intensity → dB → magnitude — where every step is an option with a recorded
  default.

Pixel value 0 always means silence (magnitude 0), so a black image is silent.
Brightness p > 0 maps linearly to dB: dB = db_min + p / p_max · (db_max - db_min),
and magnitude = reference · 10^(dB / 20).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from vocoder.errors import VocoderError
from vocoder.frontend import colormap
from vocoder.frontend.crop import find_plot_area
from vocoder.frontend.display_axes import band_rows
from vocoder.frontend.picture import METADATA_KEY, Picture, encode_png
from vocoder.frontend.picture_options import MAX_DB, PictureOptions
from vocoder.frontend.producers import recognise
from vocoder.provenance import RECORD_VERSION, VERSION_KEY
from vocoder.spec import PRESETS, SpectrogramSpec
from vocoder.spectrogram import Spectrogram
from vocoder.untrusted import brief, shown

FORMAT_NAME = "vocoder.spectrogram"
FORMAT_VERSION = 1
DEFAULT_DYNAMIC_RANGE_DB = 100.0
# A picture is at least 2×2 pixels: one time and one frequency step.
MIN_SIDE = 2
CHANNEL_NAMES = {1: ["mono"], 2: ["left", "right"]}


@dataclass(frozen=True)
class DbMapping:
    """Pixel value ↔ magnitude. Pixel 0 is silence; see the module docstring."""

    bits: int
    db_min: float
    db_max: float
    reference: float  # linear amplitude that 0 dB stands for

    def __post_init__(self) -> None:
        # The one check for every mapping: from `encode`'s options or from an
        # image's metadata (which anyone can write).
        if not isinstance(self.bits, int) or isinstance(self.bits, bool) or self.bits not in (8, 16):
            raise VocoderError(f"the pixel mapping needs 8 or 16 bits (got {shown(self.bits)})")
        for name in ("db_min", "db_max", "reference"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise VocoderError(f"the pixel mapping's {name} must be a finite number (got {shown(value)})")
        if not -MAX_DB <= self.db_min < self.db_max <= MAX_DB:
            raise VocoderError(f"the pixel mapping needs -{MAX_DB:g} <= db_min < db_max <= {MAX_DB:g} dB "
                               f"(got {self.db_min:g} .. {self.db_max:g}); a dynamic range is at most {2 * MAX_DB:g} dB")
        if not 0 < self.reference < 1e30:
            raise VocoderError(f"the pixel mapping's reference amplitude must be positive (got {self.reference:g})")

    @property
    def max_value(self) -> int:
        return 2**self.bits - 1

    def to_pixels(self, magnitude: torch.Tensor) -> np.ndarray:
        db = 20.0 * torch.log10(magnitude.to(torch.float64) / self.reference)
        scaled = (db - self.db_min) / (self.db_max - self.db_min) * self.max_value
        scaled = torch.nan_to_num(scaled, nan=0.0, neginf=0.0)
        return torch.clamp(torch.round(scaled), 0, self.max_value).numpy()

    def to_magnitude(self, fraction: torch.Tensor) -> torch.Tensor:
        return brightness_to_magnitude(fraction, self.db_min, self.db_max, self.reference)


def brightness_to_magnitude(fraction: torch.Tensor, db_min: float, db_max: float,
                            reference: float = 1.0) -> torch.Tensor:
    """Brightness in [0, 1] (pixel / max) → linear amplitude; 0 → silence."""
    fraction = fraction.to(torch.float64)
    db = db_min + fraction * (db_max - db_min)
    mag = reference * torch.pow(10.0, db / 20.0)
    return torch.where(fraction > 0, mag, torch.zeros_like(mag)).to(torch.float32)


# -- encoding ----------------------------------------------------------------


def spectrogram_to_png(
    spectrogram: Spectrogram,
    bits: int = 16,
    dynamic_range_db: float = DEFAULT_DYNAMIC_RANGE_DB,
    source: dict[str, Any] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """PNG bytes (grey for mono, RGB with R=left, G=right, B=0 for stereo) and
    the metadata embedded in them.

    0 dB is the spectrogram's largest magnitude; ``dynamic_range_db`` below it
    maps to pixel 1, anything quieter to pixel 0 (silence).
    """
    check_png_options(bits, dynamic_range_db, spectrogram.channels)
    mag = spectrogram.magnitude
    peak = float(mag.max())
    if not peak > 0:
        raise VocoderError("the spectrogram is silent: nothing to encode")
    mapping = DbMapping(bits=bits, db_min=-float(dynamic_range_db), db_max=0.0, reference=peak)
    pixels = mapping.to_pixels(mag)[:, ::-1, :]  # low frequencies at the bottom
    below = float((pixels == 0).mean())
    planes = np.transpose(pixels, (1, 2, 0))  # bins × frames × channels
    if spectrogram.channels == 2:
        planes = np.concatenate([planes, np.zeros_like(planes[..., :1])], axis=2)
    else:
        planes = planes[..., 0]
    array = planes.astype(np.uint16 if bits == 16 else np.uint8)
    metadata = png_metadata(spectrogram.spec, mapping, spectrogram.channels, spectrogram.length, below, source,
                            spectrogram.provenance)
    return encode_png(array, {METADATA_KEY: json.dumps(metadata)}), metadata


def check_png_options(bits: int, dynamic_range_db: float, channels: int) -> None:
    """One line for what `encode` cannot write: the bit depth, the dynamic
    range, more than two channels (whole or block-wise encoding alike)."""
    if not (isinstance(dynamic_range_db, (int, float)) and 0 < dynamic_range_db <= MAX_DB):
        raise VocoderError(f"--dynamic-range must be in (0, {MAX_DB:g}] dB (got {shown(dynamic_range_db)})")
    DbMapping(bits=bits, db_min=-float(dynamic_range_db), db_max=0.0, reference=1.0)  # checks bits
    if channels not in CHANNEL_NAMES:
        raise VocoderError(f"only mono or stereo audio can become an image (got {channels} channels)")


def metadata_decode_step(mapping: DbMapping, how: str = "") -> dict[str, Any]:
    """The provenance step of decoding pixels through an embedded mapping."""
    return {"step": "decode_image", "method": "embedded metadata (exact inverse up to quantisation)" + how,
            "mapping": asdict(mapping), "quantisation_step_db": (mapping.db_max - mapping.db_min) / mapping.max_value}


def png_metadata(spec: SpectrogramSpec, mapping: DbMapping, channels: int, n_samples: int, below: float,
                 source: dict[str, Any] | None, provenance) -> dict[str, Any]:
    """The metadata a vocoder PNG carries (whole or block-wise encoding alike):
    `encode`'s record, versioned like every other."""
    return {
        VERSION_KEY: RECORD_VERSION,
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "spec": spec.to_dict(),
        "mapping": asdict(mapping),
        "layout": {
            "rows": "frequency bins, highest at the top",
            "columns": "frames, earliest at the left",
            "channels": CHANNEL_NAMES[channels],
            "colour": "grey" if channels == 1 else "R=left, G=right, B=0",
            "pixel_zero": "silence (magnitude 0)",
        },
        "n_samples": n_samples,
        "fraction_below_range": below,
        "source": source or {},
        "provenance": list(provenance),
    }


# -- decoding: our own images --------------------------------------------------


@dataclass(frozen=True)
class Embedded:
    """What an image's vocoder metadata says, checked against its header.

    Everything here comes from the file, i.e. from whoever made it: each
    field is type- and range-checked before anything is sized by it.
    """

    spec: SpectrogramSpec
    mapping: DbMapping
    channels: int
    n_samples: int | None
    provenance: tuple[dict[str, Any], ...]


def embedded(meta: dict[str, Any], path: str, width: int, height: int, bands: str, bit_depth: int) -> Embedded:
    """Validate embedded metadata against the image header (no pixels needed)."""
    if meta.get("format") != FORMAT_NAME:
        raise VocoderError(f"{path}: embedded metadata is not a {FORMAT_NAME} record")
    if meta.get("version") != FORMAT_VERSION:
        raise VocoderError(f"{path}: metadata version {shown(meta.get('version'))} is not supported "
                           f"(expected {FORMAT_VERSION})")
    try:
        spec = SpectrogramSpec.from_dict(meta["spec"])
        if not isinstance(meta["mapping"], dict):
            raise TypeError("mapping is not an object")
        mapping = DbMapping(**meta["mapping"])
        layout = meta["layout"]
        channels = layout["channels"] if isinstance(layout, dict) else None
    except (KeyError, TypeError) as exc:
        raise VocoderError(f"{path}: embedded metadata is incomplete ({brief(exc, 80)})") from None
    except VocoderError as exc:
        raise VocoderError(f"{path}: embedded metadata: {exc}") from None
    known = {len(names): names for names in CHANNEL_NAMES.values()}
    if not isinstance(channels, list) or channels not in known.values():
        raise VocoderError(f"{path}: embedded layout channels must be {CHANNEL_NAMES[1]} or {CHANNEL_NAMES[2]} "
                           f"(got {shown(channels)})")
    if height != spec.n_bins:
        raise VocoderError(
            f"{path} is {height} pixels tall but its embedded spec has {spec.n_bins} bins: "
            "it was resized after encoding; use --ignore-metadata to read it as a plain picture"
        )
    if bit_depth != mapping.bits:
        raise VocoderError(f"{path} is {bit_depth}-bit but its metadata says {mapping.bits}-bit")
    n_channels = len(channels)
    if (n_channels == 1) != (bands.rstrip("A") == "L"):
        raise VocoderError(f"{path}: metadata says {n_channels} channel(s) but the image is {bands}")
    n_samples = meta.get("n_samples")
    if n_samples is not None:
        if not isinstance(n_samples, int) or isinstance(n_samples, bool) or n_samples < 1:
            raise VocoderError(f"{path}: embedded n_samples {shown(n_samples)} is not a positive whole number")
        if n_samples > 100 * spec.n_samples(width) + spec.n_fft:
            raise VocoderError(f"{path}: embedded n_samples {shown(n_samples)} is absurd for an image "
                               f"{width} frames wide")
        if spec.n_frames(n_samples) != width:
            n_samples = None  # a claim the pixels contradict: the record reports it, the pixels set the length
    check_frames(width, n_samples, spec, path)
    provenance = meta.get("provenance", [])
    if not isinstance(provenance, list) or not all(isinstance(step, dict) for step in provenance):
        raise VocoderError(f"{path}: embedded provenance must be a list of steps (JSON objects)")
    return Embedded(spec, mapping, n_channels, n_samples, tuple(provenance))


def check_frames(frames: int, n_samples: int | None, spec: SpectrogramSpec, path: str) -> None:
    """Refuse a picture with too few columns to describe one STFT frame of audio."""
    length = n_samples if n_samples is not None else spec.n_samples(frames)
    needed = max(spec.n_fft, spec.min_samples())
    if length < needed:
        raise VocoderError(f"{path} is too small to be a spectrogram: {frames} frame(s) give {max(length, 0)} "
                           f"samples, the spec's STFT needs at least {needed} "
                           f"({-(-(needed - spec.n_samples(1)) // spec.hop_length) + 1} frames)")


def _metadata_spectrogram(picture: Picture, path: str) -> Spectrogram:
    info = embedded(picture.metadata or {}, path, picture.width, picture.height, picture.bands, picture.bit_depth)
    spec, mapping, n_channels, n_samples = info.spec, info.mapping, info.channels, info.n_samples
    values = torch.from_numpy(picture.pixels[::-1].copy())  # bottom row = bin 0
    planes = values[..., :1] if n_channels == 1 else values[..., :2]
    magnitude = mapping.to_magnitude(planes.permute(2, 0, 1).contiguous())
    return Spectrogram(
        magnitude=magnitude, spec=spec, n_samples=n_samples,
        provenance=info.provenance + (metadata_decode_step(mapping),),
    )


# -- decoding: any picture -------------------------------------------------------


def _select_channels(pixels: np.ndarray, bands: str, options: PictureOptions, steps: list[dict],
                     full: np.ndarray) -> torch.Tensor:
    """Pixels (cropped) → (channels, H, W) values in [0, 1] before polarity."""
    colour = bands.startswith("RGB")
    if bands.endswith("A"):
        steps.append({"step": "drop_alpha", "note": "the alpha channel was ignored"})
    if options.colormap is not None or options.colorbar is not None:
        if not colour:
            raise VocoderError("--colormap needs a colour picture; this one is greyscale (leave --colormap out)")
        if options.colorbar is not None:
            fit = colormap.decode(pixels, "colorbar", colormap.lut_from_colorbar(full, options.colorbar))
            how = {"method": "nearest colour (CIELAB) on the colour bar sampled from the picture",
                   "colorbar_box": list(options.colorbar)}
        elif options.colormap == "auto":
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


def _crop(picture: Picture, options: PictureOptions, steps: list[dict]) -> np.ndarray:
    if options.crop is None:
        return picture.pixels
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
    return picture.pixels[top:bottom, left:right]


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
    if loud > 0.5 and not from_producer:
        hint = "--dark-is-loud" if not options.dark_is_loud else "no --dark-is-loud"
        steps.append({"step": "polarity_check", "fraction_loud_half": loud,
                      "warning": f"{loud:.0%} of the picture is in the loud half of the scale, unusual for a "
                                 f"spectrogram: if dark means loud in this picture, try {hint}"})
    return planes


def _to_magnitude(planes: torch.Tensor, options: PictureOptions, steps: list[dict]) -> torch.Tensor:
    reference = options.level_reference or 1.0
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


def _sample_display_rows(planes: torch.Tensor, spec: SpectrogramSpec, row_scale: str,
                         steps: list[dict]) -> torch.Tensor:
    """One row per band, sampled where a plotting program drew that band (bottom row first)."""

    height = planes.shape[1]
    rows = torch.from_numpy(band_rows(spec, height, row_scale)).clamp(0, height - 1)
    below = rows.floor().long().clamp(max=height - 1)
    above = (below + 1).clamp(max=height - 1)
    weight = (rows - below).to(planes.dtype).view(1, -1, 1)
    sampled = planes[:, below] * (1 - weight) + planes[:, above] * weight
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
                  "note": "bins outside the range are silent"})
    return planes, first, last + 1


def plain_geometry(width: int, height: int, spec: SpectrogramSpec, options: PictureOptions,
                   path: str = "the picture") -> tuple[int, int | None]:
    """(frames, samples or None) a picture without metadata becomes, from its
    header alone; refuses pictures too small to be a spectrogram."""
    if width < MIN_SIDE or height < MIN_SIDE:
        raise VocoderError(f"{path} is {width}×{height} pixels: too small to be a spectrogram "
                           f"(at least {MIN_SIDE}×{MIN_SIDE}: a time and a frequency axis)")
    if options.duration is None:
        check_frames(width, None, spec, path)
        return width, None
    n_samples = int(round(options.duration * spec.sample_rate))
    needed = max(spec.n_fft, spec.min_samples())
    if n_samples < needed:
        raise VocoderError(f"--duration {options.duration:g} s is shorter than one STFT frame of the spec "
                           f"({needed} samples = {needed / spec.sample_rate:.3g} s)")
    return spec.n_frames(n_samples), n_samples


def picture_to_spectrogram(picture: Picture, spec: SpectrogramSpec, options: PictureOptions,
                           producer: dict | None = None, path: str = "the picture") -> Spectrogram:
    """The analyst's chain for a picture that carries no spec of its own.

    ``producer``: the claims of a known producer whose conventions set the options (recorded).
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
    pixels = _crop(picture, options, steps)
    planes = _select_channels(pixels, picture.bands, options, steps, picture.pixels)
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
                      "frames_from": "--duration" if options.duration is not None else "image width"})
        planes = torch.where(black, torch.zeros_like(resized), resized)
    if rows != spec.n_bins:
        full = torch.zeros((planes.shape[0], spec.n_bins, frames), dtype=planes.dtype)
        full[:, first_bin:end_bin] = planes
        planes = full
    if options.blur_sigma > 0:
        planes = _gaussian_blur(planes, options.blur_sigma).clamp(0.0, 1.0)
        steps.append({"step": "gaussian_blur", "sigma_pixels": options.blur_sigma})
    magnitude = _to_magnitude(planes, options, steps)
    return Spectrogram(magnitude=magnitude, spec=spec, provenance=tuple(steps), n_samples=n_samples)


def warnings_of(spectrogram: Spectrogram) -> list[str]:
    """The warnings recorded by the decoding steps, for the CLI to print."""
    return [step["warning"] for step in spectrogram.provenance if isinstance(step, dict) and step.get("warning")]


def picture_uses_metadata(picture: Picture, ignore_metadata: bool) -> bool:
    return picture.metadata is not None and not ignore_metadata


def picture_producer(picture: Picture, ignore_metadata: bool):
    """The known producer's reading of a picture without our metadata, or None."""
    if ignore_metadata or picture.metadata is not None:
        return None
    return recognise(picture)


def image_to_spectrogram(picture: Picture, spec: SpectrogramSpec | None, options: PictureOptions,
                         ignore_metadata: bool = False, path: str = "") -> Spectrogram:
    """Exact decode when the picture carries our metadata; a known producer's
    conventions when it carries theirs; otherwise the analyst chain under
    ``spec`` (the ``linear`` preset when None)."""
    if picture_uses_metadata(picture, ignore_metadata):
        return _metadata_spectrogram(picture, path)
    reading = picture_producer(picture, ignore_metadata)
    if reading is not None:
        return picture_to_spectrogram(picture, reading.spec, reading.options,
                                      producer={"producer": reading.producer, "claims": reading.claims})
    if spec is None:
        spec = PRESETS["linear"]
    return picture_to_spectrogram(picture, spec, options, path=path or "the picture")

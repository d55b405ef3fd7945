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
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from vocoder.errors import VocoderError
from vocoder.frontend.picture import METADATA_KEY, Picture, encode_png
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram
from vocoder.untrusted import brief, shown

FORMAT_NAME = "vocoder.spectrogram"
FORMAT_VERSION = 1
DEFAULT_DYNAMIC_RANGE_DB = 100.0
# Largest |dB| a mapping may name. 200 dB of amplitude is 10^10: beyond the
# ~150 dB a float32 waveform can resolve, and its powers (10^20) still fit
# float32 sums; a larger figure is a typo or a hostile file, not a recording.
MAX_DB = 200.0
# A picture is at least 2×2 pixels: one time and one frequency step.
MIN_SIDE = 2
# --duration above a day is a typo; the memory budget decides below that.
MAX_DURATION = 86_400.0
# A Gaussian wider than 1000 pixels flattens any spectrogram to a constant.
MAX_BLUR = 1000.0
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
    if not (isinstance(dynamic_range_db, (int, float)) and 0 < dynamic_range_db <= MAX_DB):
        raise VocoderError(f"--dynamic-range must be in (0, {MAX_DB:g}] dB (got {shown(dynamic_range_db)})")
    DbMapping(bits=bits, db_min=-float(dynamic_range_db), db_max=0.0, reference=1.0)  # checks bits
    if spectrogram.channels not in CHANNEL_NAMES:
        raise VocoderError(f"only mono or stereo audio can become an image (got {spectrogram.channels} channels)")
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
    metadata = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "spec": spectrogram.spec.to_dict(),
        "mapping": asdict(mapping),
        "layout": {
            "rows": "frequency bins, highest at the top",
            "columns": "frames, earliest at the left",
            "channels": CHANNEL_NAMES[spectrogram.channels],
            "colour": "grey" if spectrogram.channels == 1 else "R=left, G=right, B=0",
            "pixel_zero": "silence (magnitude 0)",
        },
        "n_samples": spectrogram.length,
        "fraction_below_range": below,
        "source": source or {},
        "provenance": list(spectrogram.provenance),
    }
    return encode_png(array, {METADATA_KEY: json.dumps(metadata)}), metadata


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
        if not isinstance(n_samples, int) or isinstance(n_samples, bool) or n_samples < 1 \
                or spec.n_frames(n_samples) != width:
            raise VocoderError(f"{path}: embedded n_samples {shown(n_samples)} does not fit the image's {width} "
                               "frames under its spec")
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
        provenance=info.provenance + (
            {"step": "decode_image", "method": "embedded metadata (exact inverse up to quantisation)",
             "mapping": asdict(mapping), "quantisation_step_db": (mapping.db_max - mapping.db_min) / mapping.max_value},
        ),
    )


# -- decoding: any picture -------------------------------------------------------


ChannelChoice = Literal["grey", "r", "g", "b", "stereo"]


@dataclass(frozen=True)
class PictureOptions:
    """How an analyst turns a picture without metadata into a spectrogram."""

    channel: ChannelChoice = "grey"
    duration: float | None = None  # seconds; None: one frame per image column
    flip: bool = True  # image top = highest frequency
    blur_sigma: float = 0.0  # Gaussian blur in output pixels; 0 = off
    db_min: float = -80.0  # brightness 0+ (librosa's display default top_db=80)
    db_max: float = 0.0  # brightness 1

    def validate(self) -> None:
        """The one check of an analyst's options (CLI, notebook or bench)."""
        if self.channel not in ("grey", "r", "g", "b", "stereo"):
            raise VocoderError(f"--channel must be grey, r, g, b or stereo (got {shown(self.channel)})")
        numbers = {"--duration": self.duration, "--blur": self.blur_sigma, "--db-range MIN": self.db_min,
                   "--db-range MAX": self.db_max}
        for flag, value in numbers.items():
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)
                                      or not math.isfinite(value)):
                raise VocoderError(f"{flag} must be a finite number (got {shown(value)})")
        if self.duration is not None and not 0 < self.duration <= MAX_DURATION:
            raise VocoderError(f"--duration must be a positive number of seconds, at most {MAX_DURATION:g} "
                               f"(one day; got {self.duration:g})")
        if not 0 <= self.blur_sigma <= MAX_BLUR:
            raise VocoderError(f"--blur must be in 0..{MAX_BLUR:g} pixels (got {self.blur_sigma:g})")
        if not -MAX_DB <= self.db_min < self.db_max <= MAX_DB:
            raise VocoderError(f"--db-range needs -{MAX_DB:g} <= MIN < MAX <= {MAX_DB:g} "
                               f"(got {self.db_min:g} {self.db_max:g})")


def _select_channels(picture: Picture, channel: ChannelChoice, steps: list[dict]) -> torch.Tensor:
    """Picture → (channels, H, W) in [0, 1]."""
    px = torch.from_numpy(picture.pixels)
    colour = picture.bands.startswith("RGB")
    if picture.bands.endswith("A"):
        steps.append({"step": "drop_alpha", "note": "the alpha channel was ignored"})
    if channel == "stereo":
        if not colour:
            raise VocoderError("--channel stereo needs a colour image (R = left, G = right); this one is greyscale")
        chosen, how = px[..., :2].permute(2, 0, 1), "R → left, G → right"
    elif not colour:
        chosen, how = px[..., :1].permute(2, 0, 1), "greyscale image used as is"
        if channel != "grey":
            how += f" (--channel {channel} has no separate plane in a grey image)"
    elif channel == "grey":
        # ITU-R BT.601 luma, the weights Pillow's convert("L") uses.
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=px.dtype)
        chosen, how = (px[..., :3] @ weights).unsqueeze(0), "luminance 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601)"
    else:
        index = "rgb".index(channel)
        chosen, how = px[..., index].unsqueeze(0), f"{channel.upper()} plane only"
    steps.append({"step": "select_channel", "channel": channel, "method": how})
    return chosen.contiguous()


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
                           path: str = "the picture") -> Spectrogram:
    """The analyst's chain for a picture that carries no spec of its own."""
    options.validate()
    steps: list[dict[str, Any]] = [{
        "step": "read_picture", "format": picture.format, "mode": picture.source_mode,
        "width": picture.width, "height": picture.height, "bit_depth": picture.bit_depth,
        "notes": picture.notes,
    }]
    planes = _select_channels(picture, options.channel, steps)
    if options.flip:
        planes = torch.flip(planes, dims=[1])
        steps.append({"step": "flip_vertical", "note": "top image row = highest frequency"})
    else:
        steps.append({"step": "no_flip", "note": "top image row = lowest frequency"})
    frames, n_samples = plain_geometry(picture.width, picture.height, spec, options, path)
    bins = spec.n_bins
    if planes.shape[1:] != (bins, frames):
        resized = F.interpolate(planes.unsqueeze(0), size=(bins, frames), mode="bilinear",
                                align_corners=False, antialias=True)[0].clamp(0.0, 1.0)
        # Keep true black black: pixel 0 means silence, not -80 dB.
        black = F.interpolate((planes > 0).to(planes.dtype).unsqueeze(0), size=(bins, frames),
                              mode="bilinear", align_corners=False, antialias=True)[0] == 0
        planes = torch.where(black, torch.zeros_like(resized), resized)
        steps.append({"step": "resize", "from": [picture.height, picture.width], "to": [bins, frames],
                      "method": "bilinear with antialiasing (torch.nn.functional.interpolate)",
                      "frames_from": "--duration" if options.duration is not None else "image width"})
    if options.blur_sigma > 0:
        planes = _gaussian_blur(planes, options.blur_sigma).clamp(0.0, 1.0)
        steps.append({"step": "gaussian_blur", "sigma_pixels": options.blur_sigma})
    magnitude = brightness_to_magnitude(planes, options.db_min, options.db_max)
    steps.append({"step": "intensity_to_magnitude", "db_min": options.db_min, "db_max": options.db_max,
                  "reference": 1.0, "rule": "brightness 0 → silence; b > 0 → dB = db_min + b·(db_max − db_min)"})
    return Spectrogram(magnitude=magnitude, spec=spec, provenance=tuple(steps), n_samples=n_samples)


def picture_uses_metadata(picture: Picture, ignore_metadata: bool) -> bool:
    return picture.metadata is not None and not ignore_metadata


def image_to_spectrogram(picture: Picture, spec: SpectrogramSpec | None, options: PictureOptions,
                         ignore_metadata: bool = False, path: str = "") -> Spectrogram:
    """Exact decode when the picture carries our metadata; otherwise the
    analyst chain under ``spec`` (the ``linear`` preset when None)."""
    if picture_uses_metadata(picture, ignore_metadata):
        return _metadata_spectrogram(picture, path)
    if spec is None:
        from vocoder.spec import PRESETS

        spec = PRESETS["linear"]
    return picture_to_spectrogram(picture, spec, options, path or "the picture")

"""Our spectrogram PNG: a spectrogram ↔ a PNG that carries its spec and
pixel→dB mapping as JSON in a text chunk, so decoding is the exact inverse
up to quantisation.

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

from vocoder.errors import VocoderError
from vocoder.frontend.picture import METADATA_KEY, Picture, encode_png
from vocoder.frontend.picture_options import MAX_DB, check_magnitudes
from vocoder.provenance.format import RECORD_VERSION, VERSION_KEY
from vocoder.safety.text import brief, shown
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram


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
        # In float64, the loudest and the quietest non-zero magnitude the pixels can
        # stand for: each must be a normal float32 whose power the backends can sum.
        quietest = self.reference * 10.0 ** ((self.db_min + (self.db_max - self.db_min) / self.max_value) / 20.0)
        loudest = self.reference * 10.0 ** (self.db_max / 20.0)
        check_magnitudes(quietest, loudest, f"the pixel mapping (reference {self.reference:.3g}, "
                                            f"{self.db_min:g} .. {self.db_max:g} dB)")

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


def metadata_spectrogram(picture: Picture, path: str) -> Spectrogram:
    info = embedded(picture.metadata or {}, path, picture.width, picture.height, picture.bands, picture.bit_depth)
    spec, mapping, n_channels, n_samples = info.spec, info.mapping, info.channels, info.n_samples
    values = torch.from_numpy(picture.pixels[::-1].copy())  # bottom row = bin 0
    planes = values[..., :1] if n_channels == 1 else values[..., :2]
    magnitude = mapping.to_magnitude(planes.permute(2, 0, 1).contiguous())
    return Spectrogram(
        magnitude=magnitude, spec=spec, n_samples=n_samples,
        provenance=info.provenance + (metadata_decode_step(mapping),),
    )

"""Hilbert-curve sonification: pixels read along a space-filling curve into a
1-D signal, and back.

A Hilbert curve visits every pixel of a 2^k × 2^k square once, moving one
pixel at a time, so neighbouring samples are neighbouring pixels and the
picture's local texture becomes the sound's local texture (the "image to
sound" mapping of Hilbert 1891's curve as used in sensory-substitution work).
Unlike a spectrogram inversion this is exactly invertible: `desonify` puts
every sample back where it came from. Other sizes are padded to the next
power-of-two square with zeros, and the original size is recorded.

Values: ``bipolar`` maps brightness 0..1 to samples −1..+1 (full scale,
no DC at mid-grey), ``unipolar`` maps it to 0..1. Samples are written as
32-bit float WAV so that the round trip of 8- and 16-bit pictures is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from vocoder.errors import VocoderError

ValueMap = Literal["bipolar", "unipolar"]
MAX_SIDE = 8192  # a 8192² curve is 67 M samples (25 min at 44.1 kHz); beyond that ask for less


def hilbert_order(side: int) -> np.ndarray:
    """(row, column) of the d-th pixel along the Hilbert curve of a side × side square.

    The iterative d → (x, y) construction of the curve (rotate the quadrant,
    then offset it) for d = 0 .. side² − 1, vectorised over d.
    """
    if side < 1 or side & (side - 1):
        raise ValueError("the side of a Hilbert square must be a power of two")
    d = np.arange(side * side, dtype=np.int64)
    x = np.zeros_like(d)
    y = np.zeros_like(d)
    t = d.copy()
    s = 1
    while s < side:
        rx = 1 & (t // 2)
        ry = 1 & (t ^ rx)
        # Rotate the sub-square when ry == 0.
        flip = (ry == 0) & (rx == 1)
        x = np.where(flip, s - 1 - x, x)
        y = np.where(flip, s - 1 - y, y)
        swap = ry == 0
        x, y = np.where(swap, y, x), np.where(swap, x, y)
        x += s * rx
        y += s * ry
        t //= 4
        s *= 2
    return np.stack([y, x], axis=1)


def padded_side(height: int, width: int) -> int:
    """The side of the power-of-two square a height × width picture is padded
    to, refused above MAX_SIDE (from the header, before anything is decoded)."""
    side = 1
    while side < max(height, width):
        side *= 2
    if side > MAX_SIDE:
        raise VocoderError(f"a {width}×{height} picture needs a {side}² Hilbert curve, above the {MAX_SIDE}² limit")
    return side


@dataclass(frozen=True)
class Sonified:
    samples: np.ndarray  # channels × side²
    side: int
    height: int
    width: int


def sonify(planes: np.ndarray, value_map: ValueMap = "bipolar") -> Sonified:
    """Planes (channels × H × W, values in [0, 1]) → channels × side² samples."""
    channels, height, width = planes.shape
    side = padded_side(height, width)
    square = np.zeros((channels, side, side), dtype=np.float64)
    square[:, :height, :width] = planes
    order = hilbert_order(side)
    values = square[:, order[:, 0], order[:, 1]]
    samples = 2.0 * values - 1.0 if value_map == "bipolar" else values
    return Sonified(samples.astype(np.float32), side, height, width)


def curve_side(n: int, height: int | None = None, width: int | None = None) -> int:
    """The side of the square ``n`` samples fill, checked (and that a height ×
    width picture fits it): from the audio's header, before a sample is read."""
    side = math.isqrt(n) if n > 0 else 0
    if side < 1 or side * side != n or side & (side - 1) or side > MAX_SIDE:
        raise VocoderError(f"{n} samples are not a power-of-two square of side 1..{MAX_SIDE}: not made by "
                           "`vocoder sonify --curve hilbert` (or trimmed since)")
    if height is not None and width is not None and not (1 <= height <= side and 1 <= width <= side):
        raise VocoderError(f"a size of {width}x{height} does not fit the {side}×{side} curve these samples fill")
    return side


def desonify(samples: np.ndarray, height: int, width: int, value_map: ValueMap = "bipolar") -> np.ndarray:
    """channels × N samples → channels × height × width values in [0, 1] (inverse of sonify)."""
    channels, n = samples.shape
    side = curve_side(n, height, width)
    values = (samples.astype(np.float64) + 1.0) / 2.0 if value_map == "bipolar" else samples.astype(np.float64)
    square = np.zeros((channels, side, side), dtype=np.float64)
    order = hilbert_order(side)
    square[:, order[:, 0], order[:, 1]] = values
    return np.clip(square[:, :height, :width], 0.0, 1.0)

"""The picture a bench inverts: the encoded spectrogram PNG, optionally
degraded the way a picture someone sent often is (fewer bits, a blur).

A spectrogram that reaches an analyst has rarely kept 16 bits: it was saved as
an 8-bit PNG, screenshotted, scaled. ``vocoder bench --png-bits 8 --blur 0.7``
measures every backend on such a picture instead of the clean one, so the
numbers say how much of a backend's fidelity survives the trip. The degraded
PNG is what lands in the bench's ``images/`` folder and what gets decoded,
through the same embedded-metadata path as a clean one; the blur is recorded
in the PNG's own provenance, so the output record shows it among its steps.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vocoder.errors import VocoderError
# The same blur `vocoder invert --blur` applies to a plain picture.
from vocoder.frontend.picture import METADATA_KEY, encode_png, read_picture
from vocoder.frontend.picture_chain import _gaussian_blur as gaussian_blur
from vocoder.frontend.spectrogram_png import spectrogram_to_png
from vocoder.spectrogram import Spectrogram


@dataclass(frozen=True)
class Degradation:
    """How the bench's input picture differs from a clean 16-bit encoding."""

    png_bits: int = 16
    blur_sigma: float = 0.0  # Gaussian blur of the pixels, in pixels; 0 = none

    def validate(self) -> None:
        if self.png_bits not in (8, 16):
            raise VocoderError(f"--png-bits must be 8 or 16 (got {self.png_bits})")
        if not (math.isfinite(self.blur_sigma) and self.blur_sigma >= 0):
            raise VocoderError(f"--blur must be a number of pixels >= 0 (got {self.blur_sigma})")

    @property
    def clean(self) -> bool:
        return self.png_bits == 16 and self.blur_sigma == 0

    @property
    def label(self) -> str:
        """'16-bit PNG' or '8-bit PNG, blur σ 0.7 px': shown in summaries."""
        text = f"{self.png_bits}-bit PNG"
        return text + (f", blur σ {self.blur_sigma:g} px" if self.blur_sigma > 0 else "")

    def to_dict(self) -> dict[str, Any]:
        return {"png_bits": self.png_bits, "blur_sigma_pixels": self.blur_sigma, "label": self.label}


def write_input_picture(spectrogram: Spectrogram, degradation: Degradation, path: Path,
                        source: dict[str, Any]) -> None:
    """Encode ``spectrogram`` to ``path`` at ``degradation.png_bits``; when a
    blur is asked for, blur the stored pixels (each plane, both axes, as an
    image editor would) and store them again at the same bit depth."""
    degradation.validate()
    png_bytes, metadata = spectrogram_to_png(spectrogram, bits=degradation.png_bits, source=source)
    path.write_bytes(png_bytes)
    if degradation.blur_sigma == 0:
        return
    picture = read_picture(path)
    planes = torch.from_numpy(np.ascontiguousarray(picture.pixels.transpose(2, 0, 1)))  # (planes, H, W) in [0, 1]
    blurred = gaussian_blur(planes, degradation.blur_sigma).clamp(0.0, 1.0)
    top = 2**degradation.png_bits - 1
    integers = torch.round(blurred * top).numpy().astype(np.uint16 if degradation.png_bits == 16 else np.uint8)
    array = integers[0] if integers.shape[0] == 1 else integers.transpose(1, 2, 0)
    metadata["provenance"] = list(metadata["provenance"]) + [{
        "step": "degrade_picture", "method": "Gaussian blur of the stored pixels, both axes, then requantised",
        "blur_sigma_pixels": degradation.blur_sigma, "bits": degradation.png_bits,
        "note": "a simulated loss (what happens to a picture someone sent): the picture no longer decodes exactly",
    }]
    path.write_bytes(encode_png(np.ascontiguousarray(array), {METADATA_KEY: json.dumps(metadata)}))

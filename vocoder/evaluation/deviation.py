"""How far an output departs from the spectrogram it was made from, cell by
cell, with no reference recording: what an examiner can show in casework.

The output's spectrogram is taken on the input's own axis (linear, mel or
log rows) and compared with the input as decoded: 10·log10 of their power
ratio per cell (``hallucination.difference_map_db``: + where the output added
energy, − where it lost some). The shares summarise it: of the output's
energy, how much sits in cells more than 6 and 20 dB louder than the input
(added); of the input's energy, how much sits in cells the output made more
than 6 and 20 dB quieter (lost); and of the output's linear energy, how much
lies above the input's band (out of band).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from vocoder.evaluation import hallucination as hal
from vocoder.evaluation.spectra import ESTIMATE, Spectra
from vocoder.spectrogram import Spectrogram

THRESHOLDS_DB = (6.0, 20.0)


@dataclass(frozen=True)
class Deviation:
    difference_db: torch.Tensor  # channels × rows × frames, clipped to ±hal.DIFFERENCE_CLIP_DB
    shares: dict[str, Any]


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def deviation(input_spectrogram: Spectrogram, output: torch.Tensor, spectra: Spectra | None = None) -> Deviation:
    """The deviation map of ``output`` (channels × samples, at the input's level) from the input
    (``spectra``: the output's transforms, shared with ``fidelity.against_input``)."""
    spec = input_spectrogram.spec
    spectra = spectra if spectra is not None else Spectra({ESTIMATE: output})
    R = input_spectrogram.magnitude.double() ** 2
    E = spectra.own_domain_power(ESTIMATE, spec)
    frames = min(R.shape[-1], E.shape[-1])
    R, E = R[..., :frames], E[..., :frames]
    difference = hal.difference_map_db(R, E)
    shares: dict[str, Any] = {}
    for threshold in THRESHOLDS_DB:
        shares[f"added_beyond_{threshold:g}_db"] = _share(float(E[difference > threshold].sum()), float(E.sum()))
        shares[f"lost_beyond_{threshold:g}_db"] = _share(float(R[difference < -threshold].sum()), float(R.sum()))
    out_of_band_db = hal.out_of_band_db(spectra.magnitude(ESTIMATE, spec.as_linear()) ** 2,
                                        torch.fft.rfftfreq(spec.n_fft, 1.0 / spec.sample_rate), spec.axis.band(spec)[1])
    shares["out_of_band"] = 0.0 if out_of_band_db is None else 10.0 ** (out_of_band_db / 10.0)
    shares["definitions"] = (
        "on the input's own axis, cell by cell: added = share of the output's energy in cells more than N dB "
        "louder than the input; lost = share of the input's energy in cells the output made more than N dB "
        "quieter; out_of_band = share of the output's linear STFT energy above the input's band "
        f"({spec.axis.band(spec)[1]:g} Hz); the map is 10·log10((output + δ) / (input + δ)), δ = max(input)·1e-9, "
        f"clipped to ±{hal.DIFFERENCE_CLIP_DB:g} dB")
    return Deviation(difference, shares)

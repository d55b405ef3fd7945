"""Perceptual and pitch metrics from established implementations.

PESQ (ITU-T P.862.2 wideband) through the ``pesq`` package, STOI/ESTOI
(Taal et al. 2011; Jensen & Taal 2016) through ``pystoi``, F0 from librosa's
pYIN (Mauch & Dixon 2014), which needs no model weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torchaudio.functional as AF

PESQ_RATE = 16000  # wideband PESQ is defined at 16 kHz
# pYIN search ranges: adult speech, and instruments up to a trumpet's high C.
F0_RANGE = {"speech": (60.0, 500.0), "monophonic": (60.0, 1600.0)}


def _mono(x: torch.Tensor) -> torch.Tensor:
    return x.double().reshape(-1, x.shape[-1]).mean(dim=0)


def pesq_wb(reference: torch.Tensor, estimate: torch.Tensor, sample_rate: int) -> float:
    """Wideband PESQ (MOS-LQO, 1.04–4.64) after resampling both to 16 kHz."""
    from pesq import pesq

    ref = AF.resample(_mono(reference), sample_rate, PESQ_RATE).numpy()
    est = AF.resample(_mono(estimate), sample_rate, PESQ_RATE).numpy()
    return float(pesq(PESQ_RATE, ref, est, "wb"))


def stoi(reference: torch.Tensor, estimate: torch.Tensor, sample_rate: int, extended: bool = False) -> float:
    """STOI (or ESTOI with ``extended``), 0–1; pystoi resamples to 10 kHz itself."""
    from pystoi import stoi as _stoi

    # pystoi's ESTOI dithers its normalisation with EPS · N(0, 1) drawn from
    # numpy's global generator (utils.row_col_normalize): seeded here, and
    # the caller's generator state put back, so a rerun gives the same digits.
    state = np.random.get_state()
    try:
        np.random.seed(0)
        return float(_stoi(_mono(reference).numpy(), _mono(estimate).numpy(), sample_rate, extended=extended))
    finally:
        np.random.set_state(state)


@dataclass(frozen=True)
class PitchTrack:
    f0_hz: np.ndarray  # NaN where unvoiced
    voiced: np.ndarray  # bool


def pitch_track(x: torch.Tensor, sample_rate: int, kind: str = "speech", hop_length: int = 256) -> PitchTrack:
    """pYIN F0 and voicing decisions (librosa defaults otherwise)."""
    import librosa

    fmin, fmax = F0_RANGE[kind]
    f0, voiced, _ = librosa.pyin(_mono(x).numpy(), fmin=fmin, fmax=fmax, sr=sample_rate,
                                 frame_length=2048, hop_length=hop_length)
    return PitchTrack(f0, voiced.astype(bool))


def f0_rmse_cents(reference: PitchTrack, estimate: PitchTrack) -> float:
    """RMS of 1200·log2(f̂0 / f0) over frames both tracks call voiced; NaN if none."""
    n = min(len(reference.f0_hz), len(estimate.f0_hz))
    both = reference.voiced[:n] & estimate.voiced[:n]
    if not both.any():
        return math.nan
    cents = 1200.0 * np.log2(estimate.f0_hz[:n][both] / reference.f0_hz[:n][both])
    return float(np.sqrt(np.mean(cents**2)))


def voicing_f1(reference: PitchTrack, estimate: PitchTrack) -> float:
    """F1 of the estimate's voiced decisions against the reference's (voiced = positive)."""
    n = min(len(reference.voiced), len(estimate.voiced))
    ref, est = reference.voiced[:n], estimate.voiced[:n]
    true_positive = float(np.sum(ref & est))
    if true_positive == 0:
        return 0.0
    precision = true_positive / float(np.sum(est))
    recall = true_positive / float(np.sum(ref))
    return 2 * precision * recall / (precision + recall)

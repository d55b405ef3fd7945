"""Mel filterbanks, built by the library a spec names.

The mel axis (:class:`vocoder.frontend.filterbank.MelAxis`) uses these
matrices; its inverse is the NNLS every non-linear axis shares. Like the
axes, this module is below :mod:`vocoder.spec` and is handed a spec.
"""

from __future__ import annotations

from functools import lru_cache

import librosa
import numpy as np
import torch
import torchaudio.functional as AF


@lru_cache(maxsize=16)
def _filterbank_cached(spec: "SpectrogramSpec") -> torch.Tensor:
    if spec.mel_filterbank == "torchaudio":
        fb = AF.melscale_fbanks(spec.n_stft_bins, spec.fmin, spec.f_max, spec.n_mels, spec.sample_rate,
                                norm=spec.mel_norm, mel_scale=spec.mel_scale)
        return fb.T.to(torch.float64).contiguous()
    fb = librosa.filters.mel(
        sr=spec.sample_rate, n_fft=spec.n_fft, n_mels=spec.n_mels, fmin=spec.fmin,
        fmax=spec.f_max, htk=spec.mel_scale == "htk", norm=spec.mel_norm, dtype=np.float64,
    )
    return torch.from_numpy(fb)


def filterbank(spec: "SpectrogramSpec") -> torch.Tensor:
    """The (n_mels × n_fft//2+1) mel matrix of a mel spec, as float64.

    Built by the library the spec names: librosa for HiFi-GAN and BigVGAN,
    torchaudio (whose float32 weights we keep exactly) for Vocos.
    """
    if spec.scale != "mel":
        raise ValueError("filterbank() needs a mel spec")
    return _filterbank_cached(spec)


def linear_to_mel(linear_magnitude: torch.Tensor, spec: "SpectrogramSpec") -> torch.Tensor:
    """Apply the mel filterbank: (..., n_fft//2+1, frames) → (..., n_mels, frames)."""
    return torch.matmul(filterbank(spec).to(linear_magnitude.dtype), linear_magnitude)


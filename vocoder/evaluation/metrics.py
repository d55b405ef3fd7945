"""Fidelity metrics on tensors: spectral and waveform distances.

Every function takes the reference first and the estimate second, works on
mono or multichannel tensors (channels × samples, or channels × bins × frames)
and returns a Python float. Formulas and sources are in each docstring and in
docs/metrics.md.

Spectral metrics are measured in a frequency band, by default the band the
spectrogram spec encodes (``spec_band``: fmin..fmax, Nyquist for a linear
spec): a mel that stops at 8 kHz says nothing above it, and a full-band
distance is then dominated by what the inversion had to invent there (MCD
35.8 dB over 0-11 kHz vs 9.3 dB over 0-8 kHz on one LJ Speech clip). The
full-band value is the same function with ``full_band=True`` (or ``band=None``).
"""

from __future__ import annotations

import math

import torch

from vocoder.errors import VocoderError
from vocoder.frontend import stft as stft_ops
from vocoder.frontend.filterbank import MelAxis
from vocoder.spec import SpectrogramSpec

# Multi-resolution STFT settings of BigVGAN's M-STFT evaluation (Lee et al.
# 2023, after Parallel WaveGAN, Yamamoto et al. 2020): (n_fft, hop, win).
MSTFT_RESOLUTIONS = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))
_TINY = 1e-12

Band = tuple[float, float]


def spec_band(spec: SpectrogramSpec) -> Band:
    """(lowest, highest) frequency in Hz that ``spec``'s axis describes."""
    return spec.axis.band(spec)


def covers_full_band(spec: SpectrogramSpec) -> bool:
    """True when the spec describes 0..Nyquist, so in-band equals full-band."""
    low, high = spec.axis.band(spec)
    return low <= 0 and high >= spec.sample_rate / 2


def band_bins(n_fft: int, sample_rate: float, band: Band | None) -> torch.Tensor:
    """Boolean mask of the rfft bins with fmin <= f <= fmax (all bins for None)."""
    freqs = torch.fft.rfftfreq(n_fft, 1.0 / sample_rate, dtype=torch.float64)
    if band is None:
        return torch.ones_like(freqs, dtype=torch.bool)
    mask = (freqs >= band[0]) & (freqs <= band[1])
    if not bool(mask.any()):
        raise VocoderError(f"no STFT bin of n_fft {n_fft} at {sample_rate:g} Hz lies in the spectrogram's band "
                           f"{band[0]:g}-{band[1]:g} Hz: in-band metrics need a wider band or a longer FFT")
    return mask


def _db(ratio: float, power: bool = False) -> float:
    """10·log10 for power ratios, 20·log10 for amplitude ratios; 0 → -inf."""
    if ratio <= 0:
        return -math.inf
    return (10.0 if power else 20.0) * math.log10(ratio)


def spectral_convergence_db(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    """20·log10(‖|S| − |Ŝ|‖_F / ‖|S|‖_F) on magnitudes, in dB.

    The phase-retrieval literature's measure of how close a reconstruction's
    magnitude is to the target (Sturmel & Daudet 2011; Perraudin et al. 2013).
    An exact reconstruction gives −∞ (in practice < −100 dB); silence gives 0 dB.
    """
    reference, estimate = reference.double(), estimate.double()
    norm = torch.linalg.vector_norm(reference)
    if norm == 0:
        raise ValueError("spectral convergence is undefined for a silent reference")
    return _db(float(torch.linalg.vector_norm(reference - estimate) / norm))


def snr_db(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    """10·log10(‖s‖² / ‖s − ŝ‖²) on waveforms, no alignment."""
    reference, estimate = reference.double(), estimate.double()
    error = float(torch.sum((reference - estimate) ** 2))
    signal = float(torch.sum(reference**2))
    return math.inf if error == 0 else _db(signal / error, power=True)


def si_sdr_db(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    """Scale-invariant SDR (Le Roux et al. 2019), per channel, averaged.

    Both signals are made zero-mean; the target is the projection of the
    estimate onto the reference: α = ⟨ŝ, s⟩ / ‖s‖², SI-SDR = 10·log10(‖αs‖² / ‖αs − ŝ‖²).
    """
    reference = reference.double().reshape(-1, reference.shape[-1])
    estimate = estimate.double().reshape(-1, estimate.shape[-1])
    values = []
    for s, e in zip(reference, estimate):
        s, e = s - s.mean(), e - e.mean()
        alpha = torch.dot(e, s) / torch.dot(s, s).clamp_min(_TINY)
        target = alpha * s
        noise = float(torch.sum((target - e) ** 2))
        values.append(math.inf if noise == 0 else _db(float(torch.sum(target**2)) / noise, power=True))
    return sum(values) / len(values)


def aligned_snr_db(reference: torch.Tensor, estimate: torch.Tensor, max_lag: int) -> tuple[float, int, int]:
    """SNR after the best sign and integer lag within ±max_lag samples.

    Phase retrieval cannot recover a global sign, and a small shift is
    inaudible; this SNR forgives both (the plain SNR does not). For lag L > 0
    (the estimate is late) it compares reference[0 : n−L] with
    estimate[L : n], i.e. over the overlapping samples only. Returns
    (snr_db, lag, sign).
    """
    reference, estimate = reference.double(), estimate.double()
    n = reference.shape[-1]
    best = (-math.inf, 0, 1)
    for lag in range(-max_lag, max_lag + 1):
        if abs(lag) >= n:
            continue
        if lag >= 0:
            ref, est = reference[..., : n - lag], estimate[..., lag:n]
        else:
            ref, est = reference[..., -lag:], estimate[..., : n + lag]
        for sign in (1, -1):
            value = snr_db(ref, sign * est)
            if value > best[0]:
                best = (value, lag, sign)
    return best


# LSD and MCD compare log powers; a band the output leaves empty (a mel that
# stops at 8 kHz) would otherwise weigh by the arbitrary depth of a log(0)
# guard. Both powers are floored this far below the reference's maximum.
LOG_POWER_FLOOR_DB = -80.0


def _floored_log_pair(reference_power: torch.Tensor, estimate_power: torch.Tensor):
    floor = float(reference_power.max()) * 10 ** (LOG_POWER_FLOOR_DB / 10)
    floor = max(floor, torch.finfo(torch.float64).tiny)
    return torch.log(reference_power.clamp_min(floor)), torch.log(estimate_power.clamp_min(floor))


def log_spectral_distance_db(reference: torch.Tensor, estimate: torch.Tensor, spec: SpectrogramSpec,
                             full_band: bool = False) -> float:
    """LSD = mean over frames of sqrt(mean over bins of (10·log10(P/P̂))²), in dB.

    P and P̂ are STFT powers under ``spec``'s framing (linear bins within the
    spec's fmin..fmax, or every bin with ``full_band``), both floored at
    LOG_POWER_FLOOR_DB below max(P) in that band. As used for speech
    bandwidth extension (e.g. Kuleshov et al. 2017; Liu et al. 2022).
    """
    linear = spec.as_linear()
    return log_spectral_distance_of_powers(stft_ops.magnitude(reference.double(), linear) ** 2,
                                           stft_ops.magnitude(estimate.double(), linear) ** 2, spec, full_band)


def log_spectral_distance_of_powers(reference_power: torch.Tensor, estimate_power: torch.Tensor,
                                    spec: SpectrogramSpec, full_band: bool = False) -> float:
    """:func:`log_spectral_distance_db` from the linear STFT powers under ``spec``'s framing."""
    rows = band_bins(spec.n_fft, spec.sample_rate, None if full_band else spec_band(spec))
    log_p, log_e = _floored_log_pair(reference_power[..., rows, :], estimate_power[..., rows, :])
    diff = (10 / math.log(10)) * (log_p - log_e)
    per_frame = torch.sqrt(torch.mean(diff**2, dim=-2))  # over bins
    return float(per_frame.mean())


def mel_l1(reference: torch.Tensor, estimate: torch.Tensor, spec: SpectrogramSpec) -> float:
    """mean |ln max(mel(s), floor) − ln max(mel(ŝ), floor)|: HiFi-GAN's mel loss
    (Kong et al. 2020) under a mel ``spec`` with a log floor."""
    return mel_l1_of_magnitudes(stft_ops.magnitude(reference.double(), spec),
                                stft_ops.magnitude(estimate.double(), spec), spec)


def mel_l1_of_magnitudes(reference_magnitude: torch.Tensor, estimate_magnitude: torch.Tensor,
                         spec: SpectrogramSpec) -> float:
    """:func:`mel_l1` from the STFT magnitudes under the mel ``spec``."""
    if not isinstance(spec.axis, MelAxis) or spec.log_floor is None:
        raise ValueError("mel_l1 needs a mel spec with a log floor")
    a = spec.axis.forward(spec, reference_magnitude)
    b = spec.axis.forward(spec, estimate_magnitude)
    floor = spec.log_floor
    return float(torch.mean(torch.abs(torch.log(a.clamp_min(floor)) - torch.log(b.clamp_min(floor)))))


def _stft_magnitude(x: torch.Tensor, n_fft: int, hop: int, win: int) -> torch.Tensor:
    window = torch.hann_window(win, dtype=torch.float64)
    X = torch.stft(x.reshape(-1, x.shape[-1]), n_fft, hop, win, window, center=True, return_complex=True)
    return X.abs()


def multi_resolution_stft_distance(reference: torch.Tensor, estimate: torch.Tensor,
                                   resolutions=MSTFT_RESOLUTIONS, eps: float = 1e-7,
                                   band: Band | None = None, sample_rate: float | None = None) -> float:
    """Mean over resolutions of (spectral convergence + log-magnitude L1).

    SC = ‖|S| − |Ŝ|‖_F / ‖|S|‖_F (a ratio, not dB) and
    L1 = mean |ln(|S| + eps) − ln(|Ŝ| + eps)|, with Hann windows, centred
    frames, at BigVGAN's M-STFT resolutions (FFT 1024/2048/512, hop
    120/240/50, window 600/1200/240). The form of Parallel WaveGAN's
    multi-resolution STFT loss (Yamamoto et al. 2020). Lower is better.
    With ``band`` (Hz, needs ``sample_rate``) only the bins inside it count.
    """
    if band is not None and sample_rate is None:
        raise ValueError("a band needs the sample rate")
    return multi_resolution_distance_of_magnitudes(multi_resolution_magnitudes(reference, resolutions),
                                                   multi_resolution_magnitudes(estimate, resolutions),
                                                   resolutions, eps, band, sample_rate)


def multi_resolution_magnitudes(x: torch.Tensor, resolutions=MSTFT_RESOLUTIONS) -> list[torch.Tensor]:
    """|STFT| of ``x`` at each resolution, as :func:`multi_resolution_stft_distance` computes them."""
    return [_stft_magnitude(x.double(), *r) for r in resolutions]


def multi_resolution_distance_of_magnitudes(reference_magnitudes: list[torch.Tensor],
                                            estimate_magnitudes: list[torch.Tensor], resolutions=MSTFT_RESOLUTIONS,
                                            eps: float = 1e-7, band: Band | None = None,
                                            sample_rate: float | None = None) -> float:
    """:func:`multi_resolution_stft_distance` from each resolution's magnitudes."""
    if band is not None and sample_rate is None:
        raise ValueError("a band needs the sample rate")
    total = 0.0
    for (n_fft, _, _), S, E in zip(resolutions, reference_magnitudes, estimate_magnitudes):
        rows = band_bins(n_fft, sample_rate or 1.0, band)
        S, E = S[..., rows, :], E[..., rows, :]
        sc = torch.linalg.vector_norm(S - E) / torch.linalg.vector_norm(S).clamp_min(_TINY)
        l1 = torch.mean(torch.abs(torch.log(S + eps) - torch.log(E + eps)))
        total += float(sc + l1)
    return total / len(resolutions)


def mel_cepstral_distortion_db(reference: torch.Tensor, estimate: torch.Tensor, spec: SpectrogramSpec,
                               n_mels: int = 80, n_coefficients: int = 13, full_band: bool = False) -> float:
    """MCD = (10 / ln 10)·sqrt(2·Σ_{d=1..D} (c_d − ĉ_d)²), averaged over frames, in dB.

    c are mel cepstra: the orthonormal DCT-II of the natural-log mel power
    (``n_mels`` slaney bands over the spec's fmin..fmax, or 0..Nyquist with
    ``full_band``, under ``spec``'s framing, both
    floored at LOG_POWER_FLOOR_DB below the reference's maximum), c_0
    (energy) excluded, D = ``n_coefficients`` (Kubichek 1993's formula on
    MFCC-style cepstra; frames are already aligned, so no DTW).
    """
    mel_spec = mcd_mel_spec(spec, n_mels, full_band)
    return mel_cepstral_distortion_of_magnitudes(stft_ops.magnitude(reference.double(), mel_spec),
                                                 stft_ops.magnitude(estimate.double(), mel_spec), mel_spec,
                                                 n_coefficients)


def mcd_mel_spec(spec: SpectrogramSpec, n_mels: int = 80, full_band: bool = False) -> SpectrogramSpec:
    """The mel bands MCD measures on: ``n_mels`` slaney bands under ``spec``'s
    framing, over its band (or 0..Nyquist with ``full_band``)."""
    low, high = (0.0, None) if full_band else spec.axis.band(spec)
    return SpectrogramSpec(
        sample_rate=spec.sample_rate, n_fft=spec.n_fft, hop_length=spec.hop_length, win_length=spec.win_length,
        window=spec.window, kaiser_beta=spec.kaiser_beta, gauss_gamma=spec.gauss_gamma, padding=spec.padding,
        axis=MelAxis(n_mels=n_mels, fmin=low, fmax=high, mel_scale="slaney", mel_norm="slaney",
                     mel_filterbank="librosa"),
    )


def mel_cepstral_distortion_of_magnitudes(reference_magnitude: torch.Tensor, estimate_magnitude: torch.Tensor,
                                          mel_spec: SpectrogramSpec, n_coefficients: int = 13) -> float:
    """:func:`mel_cepstral_distortion_db` from the STFT magnitudes under ``mel_spec`` (:func:`mcd_mel_spec`)."""
    import scipy.fft

    def mel_power(magnitude: torch.Tensor) -> torch.Tensor:
        return mel_spec.axis.forward(mel_spec, magnitude ** 2)

    def cepstra(log_power: torch.Tensor):
        return scipy.fft.dct(log_power.numpy(), type=2, norm="ortho", axis=-2)[..., 1: n_coefficients + 1, :]

    log_reference, log_estimate = _floored_log_pair(mel_power(reference_magnitude), mel_power(estimate_magnitude))
    diff = cepstra(log_reference) - cepstra(log_estimate)
    per_frame = (10.0 / math.log(10.0)) * (2.0 * (diff**2).sum(axis=-2)) ** 0.5
    return float(per_frame.mean())


# When does a full-band value say more about the uncovered band than the
# covered one? This project's rule (docs/metrics.md, "Bands"): the full-band
# mean differs from the in-band mean by more than 20% of the in-band value,
# and, for a dB metric, by more than 1 dB (so a metric near 0 dB, where 20%
# is a hair, does not warn on rounding-sized gaps).
BAND_WARN_RELATIVE = 0.2
BAND_WARN_DB = 1.0


def full_band_dominated(in_band: float, full_band: float, unit: str) -> bool:
    """True when ``full_band`` departs from ``in_band`` by the rule above."""
    if not (math.isfinite(in_band) and math.isfinite(full_band)):
        return False
    gap = abs(full_band - in_band)
    return gap > BAND_WARN_RELATIVE * abs(in_band) and (unit != "dB" or gap > BAND_WARN_DB)

"""Spectral metrics inside the band the spectrogram encodes, checked against
independent numpy/librosa computations, and the full-band warning rule."""

import math

import librosa
import numpy as np
import pytest
import scipy.fft
import torch

from vocoder.evaluation import fidelity, metrics as m
from vocoder.evaluation.report import band_warnings, summarise
from vocoder.frontend.audio import Audio, audio_to_spectrogram
from vocoder.spec import PRESETS

SR = 22050
HIFIGAN = PRESETS["hifigan"]  # mel 0-8000 Hz at 22.05 kHz: 8-11 kHz is not encoded


def _noise(seed, seconds=1.0):
    generator = torch.Generator().manual_seed(seed)
    return 0.1 * torch.randn((1, int(seconds * SR)), generator=generator, dtype=torch.float64)


def _replace_above(x, other, hz):
    """x below ``hz``, ``other`` above it (an inversion that invented the top band)."""
    X, O = torch.fft.rfft(x), torch.fft.rfft(other)
    above = torch.fft.rfftfreq(x.shape[-1], 1 / SR) > hz
    X[..., above] = O[..., above]
    return torch.fft.irfft(X, n=x.shape[-1])


def _pair():
    reference = _noise(1)
    estimate = 0.8 * reference + 0.03 * _noise(2)
    return reference, _replace_above(estimate, 0.001 * _noise(3), 8000)  # a nearly empty top band


def _librosa_power(x, spec=HIFIGAN):
    """|STFT|² under HiFi-GAN's framing, written out: reflect pad (n_fft−hop)/2, center=False."""
    pad = (spec.n_fft - spec.hop_length) // 2
    padded = np.pad(x[0].numpy(), (pad, pad), mode="reflect")
    return np.abs(librosa.stft(padded, n_fft=spec.n_fft, hop_length=spec.hop_length, window="hann",
                               center=False)) ** 2


def _lsd(P, E):
    floor = P.max() * 1e-8  # -80 dB re. the reference's maximum
    diff = 10 * np.log10(np.maximum(P, floor) / np.maximum(E, floor))
    return np.mean(np.sqrt(np.mean(diff**2, axis=0)))


def test_in_band_lsd_matches_a_librosa_computation_over_0_to_8_khz():
    reference, estimate = _pair()
    P, E = _librosa_power(reference), _librosa_power(estimate)
    rows = librosa.fft_frequencies(sr=SR, n_fft=1024) <= 8000
    assert m.log_spectral_distance_db(reference, estimate, HIFIGAN) == pytest.approx(_lsd(P[rows], E[rows]), rel=1e-6)
    full = m.log_spectral_distance_db(reference, estimate, HIFIGAN, full_band=True)
    assert full == pytest.approx(_lsd(P, E), rel=1e-6)
    assert full > 3 * m.log_spectral_distance_db(reference, estimate, HIFIGAN)  # the empty top dominates


def _librosa_mcd(reference, estimate, fmax):
    def log_mel(x):
        power = librosa.feature.melspectrogram(S=_librosa_power(x), sr=SR, n_mels=80, fmin=0.0, fmax=fmax,
                                               norm="slaney", htk=False)
        return power

    P, E = log_mel(reference), log_mel(estimate)
    floor = P.max() * 1e-8
    c = [scipy.fft.dct(np.log(np.maximum(x, floor)), type=2, norm="ortho", axis=0)[1:14] for x in (P, E)]
    return np.mean(10 / np.log(10) * np.sqrt(2 * np.sum((c[0] - c[1]) ** 2, axis=0)))


def test_in_band_mcd_matches_librosa_mel_over_the_spec_band():
    reference, estimate = _pair()
    assert m.mel_cepstral_distortion_db(reference, estimate, HIFIGAN) == pytest.approx(
        _librosa_mcd(reference, estimate, 8000.0), rel=1e-5)
    assert m.mel_cepstral_distortion_db(reference, estimate, HIFIGAN, full_band=True) == pytest.approx(
        _librosa_mcd(reference, estimate, SR / 2), rel=1e-5)


def test_band_limited_mstft_matches_librosa():
    reference, estimate = _pair()
    total = 0.0
    for n_fft, hop, win in m.MSTFT_RESOLUTIONS:
        rows = librosa.fft_frequencies(sr=SR, n_fft=n_fft) <= 8000
        S, E = (np.abs(librosa.stft(x[0].numpy(), n_fft=n_fft, hop_length=hop, win_length=win, window="hann",
                                    center=True, pad_mode="reflect"))[rows] for x in (reference, estimate))
        total += np.linalg.norm(S - E) / np.linalg.norm(S) + np.mean(np.abs(np.log(S + 1e-7) - np.log(E + 1e-7)))
    value = m.multi_resolution_stft_distance(reference, estimate, band=(0.0, 8000.0), sample_rate=SR)
    assert value == pytest.approx(total / 3, rel=1e-6)
    with pytest.raises(ValueError, match="sample rate"):
        m.multi_resolution_stft_distance(reference, estimate, band=(0.0, 8000.0))


def _measure(reference, estimate, spec, names):
    spectrogram = audio_to_spectrogram(Audio(reference.float(), SR), spec)
    values = fidelity.against_reference(reference, estimate, spectrogram, "speech", names)
    return {k: v.value for k, v in values.items()}


def test_bench_metrics_default_to_the_band_and_keep_the_full_band_twin():
    reference, estimate = _pair()
    names = ("sc_db", "sc_fullband_db", "mcd_db", "mcd_fullband_db", "mstft", "mstft_fullband")
    values = _measure(reference, estimate, HIFIGAN, names)
    P, E = _librosa_power(reference), _librosa_power(estimate)
    rows = librosa.fft_frequencies(sr=SR, n_fft=1024) <= 8000

    def sc(a, b):
        return 20 * math.log10(np.linalg.norm(np.sqrt(a) - np.sqrt(b)) / np.linalg.norm(np.sqrt(a)))

    assert values["sc_db"] == pytest.approx(sc(P[rows], E[rows]), abs=1e-6)
    assert values["sc_fullband_db"] == pytest.approx(sc(P, E), abs=1e-6)
    assert values["mcd_db"] == pytest.approx(_librosa_mcd(reference, estimate, 8000.0), rel=1e-5)
    assert values["mcd_fullband_db"] > values["mcd_db"] + 10
    assert values["mstft_fullband"] > values["mstft"]


def test_a_spec_covering_0_to_nyquist_has_equal_twins():
    reference, estimate = _pair()
    values = _measure(reference, estimate, PRESETS["linear"], ("sc_db", "sc_fullband_db", "mcd_db", "mcd_fullband_db"))
    assert values["sc_db"] == values["sc_fullband_db"]
    assert values["mcd_db"] == values["mcd_fullband_db"]


def test_the_warning_rule_by_hand():
    assert m.full_band_dominated(9.3, 35.8, "dB")  # the MCD
    assert not m.full_band_dominated(9.3, 10.0, "dB")  # 7.5%: no
    assert not m.full_band_dominated(0.5, 1.2, "dB")  # > 20% but < 1 dB
    assert m.full_band_dominated(0.1, 0.46, "ln")  # unitless: the relative rule alone
    assert not m.full_band_dominated(-math.inf, 3.0, "dB")


class _Choice:
    def __init__(self, label):
        self.label = label


def test_summary_warns_only_for_the_dominated_backend():
    rows = [{"clip": f"c{i}", "backend": b, "mcd_db": 9.0 + i, "mcd_fullband_db": full + i}
            for i in range(3) for b, full in (("a", 35.0), ("b", 9.5))]
    backends = [_Choice("a"), _Choice("b")]
    lines = band_warnings(summarise(rows, backends, ("mcd_db", "mcd_fullband_db")), backends)
    assert len(lines) == 1 and lines[0].startswith("`a`: `mcd_fullband_db` 36 vs in-band `mcd_db` 10")


def test_a_band_holding_no_stft_bin_is_one_clear_error():
    from vocoder.errors import VocoderError

    with pytest.raises(VocoderError, match="no STFT bin of n_fft 512 at 22050 Hz lies in the spectrogram's band 100-110"):
        m.band_bins(512, SR, (100.0, 110.0))

"""Each metric against a value computed independently: by hand on small
arrays, or with another library's implementation."""

import math

import librosa
import numpy as np
import pytest
import scipy.fft
import torch
from torchmetrics.functional.audio import scale_invariant_signal_distortion_ratio

from vocoder.evaluation import metrics as m, perceptual as p
from vocoder.spec import PRESETS

SR = 22050


def _noise(seconds=1.0, seed=0, channels=1):
    generator = torch.Generator().manual_seed(seed)
    return 0.1 * torch.randn((channels, int(seconds * SR)), generator=generator, dtype=torch.float64)


def _tone(hz, seconds=1.0, amplitude=0.5):
    t = torch.arange(int(seconds * SR), dtype=torch.float64) / SR
    return (amplitude * torch.sin(2 * math.pi * hz * t)).unsqueeze(0)


def test_spectral_convergence_by_hand():
    reference = torch.tensor([[3.0, 4.0]])
    assert m.spectral_convergence_db(reference, torch.tensor([[3.0, 0.0]])) == pytest.approx(20 * math.log10(4 / 5))
    assert m.spectral_convergence_db(reference, torch.zeros_like(reference)) == pytest.approx(0.0)  # silence
    assert m.spectral_convergence_db(reference, reference.clone()) == -math.inf  # exact


def test_snr_by_hand():
    assert m.snr_db(torch.tensor([1.0, 1, 1, 1]), torch.tensor([1.0, 1, 1, 0])) == pytest.approx(10 * math.log10(4))


def test_si_sdr_matches_torchmetrics():
    reference = _noise(seed=1)
    estimate = 0.5 * reference + 0.05 * _noise(seed=2)
    expected = float(scale_invariant_signal_distortion_ratio(estimate, reference, zero_mean=True))
    assert m.si_sdr_db(reference, estimate) == pytest.approx(expected, abs=1e-6)


def test_aligned_snr_forgives_a_delayed_negated_copy():
    reference = _noise(seed=3)
    delayed = torch.zeros_like(reference)
    delayed[..., 37:] = -reference[..., :-37]
    assert m.snr_db(reference, delayed) < 3  # the plain SNR does not forgive it
    value, lag, sign = m.aligned_snr_db(reference, delayed, max_lag=256)
    assert value > 60 and lag == 37 and sign == -1


def test_log_spectral_distance_of_a_doubled_signal_is_6_dB():
    reference = _noise(seed=4)
    assert m.log_spectral_distance_db(reference, 2 * reference, PRESETS["linear"]) == pytest.approx(
        20 * math.log10(2), abs=1e-6)


def test_log_spectral_distance_of_a_missing_band_is_bounded_by_the_floor():
    reference = _noise(seed=12)
    spectrum = torch.fft.rfft(reference)
    spectrum[..., torch.fft.rfftfreq(reference.shape[-1], 1 / SR) > 8000] = 0
    lowpassed = torch.fft.irfft(spectrum, n=reference.shape[-1])
    value = m.log_spectral_distance_db(reference, lowpassed, PRESETS["linear"])
    # White noise sits ~0-10 dB under its own peak bin; the emptied quarter of
    # the bins reads ~70-80 dB down at the -80 dB floor: sqrt(0.27 * 75²) ≈ 39 dB.
    assert 30 < value < 45


def _librosa_log_mel(x, spec):
    pad = (spec.n_fft - spec.hop_length) // 2
    padded = np.pad(x[0].numpy(), (pad, pad), mode="reflect")
    X = np.abs(librosa.stft(padded, n_fft=spec.n_fft, hop_length=spec.hop_length, window="hann", center=False))
    X = np.sqrt(X**2 + spec.magnitude_eps)
    fb = librosa.filters.mel(sr=spec.sample_rate, n_fft=spec.n_fft, n_mels=spec.axis.n_mels, fmin=spec.axis.fmin,
                             fmax=spec.axis.fmax, norm="slaney", dtype=np.float64)
    return np.log(np.clip(fb @ X, spec.log_floor, None))


def test_mel_l1_matches_librosa():
    spec = PRESETS["hifigan"]
    reference, estimate = _noise(seed=5), _noise(seed=6)
    expected = np.mean(np.abs(_librosa_log_mel(reference, spec) - _librosa_log_mel(estimate, spec)))
    assert m.mel_l1(reference, estimate, spec) == pytest.approx(expected, rel=1e-6)


def test_multi_resolution_stft_matches_a_librosa_computation():
    reference, estimate = _noise(seed=7), 0.7 * _noise(seed=7) + 0.02 * _noise(seed=8)
    total = 0.0
    for n_fft, hop, win in ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240)):
        S = np.abs(librosa.stft(reference[0].numpy(), n_fft=n_fft, hop_length=hop, win_length=win,
                                window="hann", center=True, pad_mode="reflect"))
        E = np.abs(librosa.stft(estimate[0].numpy(), n_fft=n_fft, hop_length=hop, win_length=win,
                                window="hann", center=True, pad_mode="reflect"))
        total += np.linalg.norm(S - E) / np.linalg.norm(S) + np.mean(np.abs(np.log(S + 1e-7) - np.log(E + 1e-7)))
    assert m.multi_resolution_stft_distance(reference, estimate) == pytest.approx(total / 3, rel=1e-6)


def test_mel_cepstral_distortion_matches_librosa_and_ignores_gain():
    spec = PRESETS["linear"]
    reference, estimate = _noise(seed=9), _noise(seed=10)

    def cepstra(x):  # mel power, computed by librosa
        power = librosa.feature.melspectrogram(y=x[0].numpy(), sr=SR, n_fft=1024, hop_length=256, n_mels=80,
                                               power=2.0, center=True, pad_mode="reflect", norm="slaney", htk=False)
        return power

    ref_power, est_power = cepstra(reference), cepstra(estimate)
    floor = ref_power.max() * 1e-8  # -80 dB re. the reference's maximum

    def dct(power):
        return scipy.fft.dct(np.log(np.maximum(power, floor)), type=2, norm="ortho", axis=0)[1:14]

    diff = dct(ref_power) - dct(est_power)
    expected = np.mean(10 / np.log(10) * np.sqrt(2 * np.sum(diff**2, axis=0)))
    assert m.mel_cepstral_distortion_db(reference, estimate, spec) == pytest.approx(expected, rel=1e-5)
    # c0 (energy) is excluded: a louder copy is not distorted
    assert m.mel_cepstral_distortion_db(reference, 3 * reference, spec) == pytest.approx(0.0, abs=1e-6)


def test_pesq_and_stoi_rank_a_clean_copy_above_a_noisy_one():
    speech = torch.from_numpy(librosa.chirp(fmin=200, fmax=3000, sr=SR, duration=3.0)).unsqueeze(0)
    speech = speech * (0.5 + 0.5 * torch.sin(2 * math.pi * 3 * torch.arange(speech.shape[-1]) / SR))  # syllable-like
    noisy = speech + 0.3 * _noise(seconds=3.0, seed=11)
    assert p.pesq_wb(speech, speech, SR) > 4.5
    assert p.pesq_wb(speech, noisy, SR) < p.pesq_wb(speech, speech, SR) - 1
    assert p.stoi(speech, speech, SR) > 0.99 and p.stoi(speech, noisy, SR) < 0.9
    assert p.stoi(speech, noisy, SR, extended=True) < p.stoi(speech, speech, SR, extended=True)


def test_f0_rmse_of_a_semitone_shift_is_100_cents():
    low, high = _tone(220.0, 1.5), _tone(220.0 * 2 ** (1 / 12), 1.5)
    a = p.pitch_track(low, SR, "speech")
    b = p.pitch_track(high, SR, "speech")
    assert p.f0_rmse_cents(a, b) == pytest.approx(100.0, abs=15.0)
    assert p.f0_rmse_cents(a, a) == 0.0
    assert p.voicing_f1(a, a) == 1.0
    silent_track = p.PitchTrack(np.full_like(a.f0_hz, np.nan), np.zeros_like(a.voiced))
    assert p.voicing_f1(a, silent_track) == 0.0 and math.isnan(p.f0_rmse_cents(a, silent_track))

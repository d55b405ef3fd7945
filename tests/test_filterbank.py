"""Frequency axes: forward and inverse per axis, the log axis against an
independent construction, and the spec fields each axis owns."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from vocoder.errors import VocoderError
from vocoder.frontend.filterbank import AXES, LinearAxis, LogAxis, MelAxis, filterbank_for
from vocoder.frontend.mel import filterbank as mel_matrix
from vocoder.spec import PRESETS, SpectrogramSpec
from vocoder.spectrogram import Spectrogram

SR, N_FFT = 22050, 1024
LOG_36 = SpectrogramSpec(sample_rate=SR, n_fft=N_FFT, hop_length=256, win_length=N_FFT,
                         scale="log", bands_per_octave=36, fmin=50.0)


def _random_linear(channels=2, frames=40, bins=513, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand((channels, bins, frames), generator=generator, dtype=torch.float64) ** 4


def independent_log_filterbank(sr, n_fft, bands_per_octave, fmin, fmax):
    """The documented log axis, built band by band with np.interp: centres
    fmin·2^(k/B) up to fmax, a triangle from the previous centre to the next
    (each side at least one bin spacing wide), rows summing to 1."""
    spacing = sr / n_fft
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    rows = []
    k = 0
    while True:
        centre = fmin * 2 ** (k / bands_per_octave)
        if centre > fmax * (1 + 1e-12):
            break
        below = min(fmin * 2 ** ((k - 1) / bands_per_octave), centre - spacing)
        above = max(fmin * 2 ** ((k + 1) / bands_per_octave), centre + spacing)
        row = np.interp(freqs, [below, centre, above], [0.0, 1.0, 0.0], left=0.0, right=0.0)
        rows.append(row / row.sum())
        k += 1
    return np.array(rows)


def test_every_scale_has_one_axis_class():
    assert set(AXES) == {"linear", "mel", "log"}
    assert isinstance(filterbank_for(PRESETS["linear"]), LinearAxis)
    assert isinstance(PRESETS["hifigan"].filterbank(), MelAxis)
    assert isinstance(LOG_36.filterbank(), LogAxis)
    assert PRESETS["linear"].is_linear and not PRESETS["hifigan"].is_linear and not LOG_36.is_linear


def test_linear_axis_is_the_identity():
    spec = PRESETS["linear"]
    axis = spec.filterbank()
    x = _random_linear()
    assert axis.forward(x) is x
    s = Spectrogram(x.float(), spec)
    assert axis.inverse(s) is s
    assert axis.n_bins == 513
    np.testing.assert_allclose(axis.centre_frequencies(), np.fft.rfftfreq(N_FFT, 1 / SR))


@pytest.mark.parametrize("preset", ["hifigan", "bigvgan-24k", "vocos-24k"])
def test_mel_axis_is_the_presets_mel_filterbank(preset):
    spec = PRESETS[preset]
    axis = spec.filterbank()
    assert axis.n_bins == spec.n_mels == spec.n_bins
    assert torch.equal(axis.matrix(), mel_matrix(spec))
    x = _random_linear(1, 7)
    assert torch.equal(axis.forward(x), torch.matmul(mel_matrix(spec), x))
    centres = axis.centre_frequencies()
    assert len(centres) == spec.n_mels and np.all(np.diff(centres) > 0) and centres[-1] < spec.f_max


def test_log_axis_matches_an_independent_construction():
    reference = independent_log_filterbank(SR, N_FFT, 36, 50.0, SR / 2)
    matrix = LOG_36.filterbank().matrix().numpy()
    assert matrix.shape == reference.shape == (281, 513)  # ⌊36·log2(11025/50)⌋ + 1 bands
    np.testing.assert_allclose(matrix, reference, atol=1e-12)


@pytest.mark.parametrize("sr, n_fft, bpo, fmin, fmax", [
    (22050, 4096, 12, 27.5, 8000.0),
    (16000, 256, 24, 100.0, 8000.0),
    (44100, 2048, 48, 30.0, 20000.0),
])
def test_log_axis_matches_the_construction_at_other_geometries(sr, n_fft, bpo, fmin, fmax):
    spec = SpectrogramSpec(sample_rate=sr, n_fft=n_fft, hop_length=n_fft // 4, win_length=n_fft, scale="log",
                           bands_per_octave=bpo, fmin=fmin, fmax=fmax)
    np.testing.assert_allclose(spec.filterbank().matrix().numpy(),
                               independent_log_filterbank(sr, n_fft, bpo, fmin, fmax), atol=1e-12)


def test_log_axis_has_exactly_b_bands_per_octave_and_no_empty_band():
    axis = LOG_36.filterbank()
    centres = axis.centre_frequencies()
    assert centres[0] == 50.0 and centres[-1] <= SR / 2
    np.testing.assert_allclose(centres[36::36] / centres[:-36:36][: len(centres[36::36])], 2.0)
    matrix = axis.matrix()
    assert torch.all(matrix.sum(1) - 1 < 1e-12) and torch.all(matrix.max(1).values > 0)
    assert "36 per octave" in axis.describe()


def test_bands_narrower_than_a_bin_interpolate_the_stft():
    """Below ~1.1 kHz (36 per octave at 22050/1024) a band is the linear
    interpolation of its two nearest bins: a magnitude that rises linearly
    with frequency reads exactly its centre frequency there."""
    axis = LOG_36.filterbank()
    freqs = torch.from_numpy(np.fft.rfftfreq(N_FFT, 1 / SR)).reshape(1, -1, 1)
    bands = axis.forward(freqs)[0, :, 0].numpy()
    centres = axis.centre_frequencies()
    narrow = centres * (2 ** (1 / 36) - 1) < SR / N_FFT
    narrow &= centres * (1 - 2 ** (-1 / 36)) < SR / N_FFT
    assert narrow.sum() > 100
    np.testing.assert_allclose(bands[narrow], centres[narrow], rtol=1e-12)


def test_a_tone_lands_in_the_band_at_its_frequency():
    from vocoder.frontend.stft import magnitude

    t = torch.arange(SR, dtype=torch.float64) / SR
    tone = torch.sin(2 * torch.pi * 1760.0 * t).unsqueeze(0)
    bands = LOG_36.filterbank().forward(magnitude(tone, LOG_36))[0].mean(-1).numpy()
    centres = LOG_36.filterbank().centre_frequencies()
    assert abs(np.log2(centres[bands.argmax()] / 1760.0)) <= 1 / 36


@pytest.mark.parametrize("spec", [PRESETS["hifigan"], LOG_36], ids=["mel", "log"])
def test_inverse_reproduces_the_bands_with_non_negative_magnitudes(spec):
    axis = spec.filterbank()
    bands = axis.forward(_random_linear()).float()
    estimate = axis.inverse(Spectrogram(bands, spec, provenance=({"step": "test"},)))
    assert estimate.spec == spec.as_linear() and estimate.spec.is_linear
    assert estimate.magnitude.shape == (2, 513, 40) and (estimate.magnitude >= 0).all()
    rebuilt = axis.forward(estimate.magnitude.double())
    relative = torch.linalg.vector_norm(rebuilt - bands.double()) / torch.linalg.vector_norm(bands.double())
    assert relative < 1e-3
    step = estimate.provenance[-1]
    assert step["step"] == f"{spec.scale}_to_linear" and step["relative_residual"] < 1e-3


def test_log_inverse_leaves_bins_no_band_reaches_at_zero():
    axis = LOG_36.filterbank()
    estimate = axis.inverse(Spectrogram(axis.forward(_random_linear(1, 10)).float(), LOG_36)).magnitude
    unreached = axis.matrix().sum(0) == 0  # here: 0 and 21.5 Hz, below the lowest band
    assert unreached.sum() == 2 and estimate[:, unreached, :].abs().max() == 0


def test_log_spec_json_round_trip_and_as_linear():
    data = json.loads(LOG_36.to_json())
    assert data["scale"] == "log" and data["bands_per_octave"] == 36 and data["fmin"] == 50.0
    assert SpectrogramSpec.from_json(LOG_36.to_json()) == LOG_36
    linear = LOG_36.as_linear()
    assert linear.scale == "linear" and linear.bands_per_octave is None and linear.fmin == 0.0
    assert linear.n_bins == 513 and LOG_36.n_bins == 281


@pytest.mark.parametrize("change, message", [
    (dict(bands_per_octave=None), "bands_per_octave"),
    (dict(bands_per_octave=0), "bands_per_octave"),
    (dict(bands_per_octave=12.5), "bands_per_octave"),
    (dict(fmin=0.0), "fmin > 0"),
    (dict(fmax=20000.0), "Nyquist"),
    (dict(n_mels=80), "a log axis takes no n_mels"),
    (dict(mel_scale="slaney"), "a log axis takes no mel_scale"),
])
def test_invalid_log_specs_are_refused(change, message):
    with pytest.raises(VocoderError, match=message):
        dataclasses.replace(LOG_36, **change)


def test_axis_fields_of_other_axes_are_refused():
    with pytest.raises(VocoderError, match="a mel axis takes no bands_per_octave"):
        dataclasses.replace(PRESETS["hifigan"], bands_per_octave=36)
    with pytest.raises(VocoderError, match="a linear axis takes no n_mels"):
        dataclasses.replace(PRESETS["linear"], n_mels=80)

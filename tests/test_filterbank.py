"""Frequency axes: forward and inverse per axis, the log axis against an
independent construction, and the fields each axis owns."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from vocoder.errors import VocoderError
from vocoder.frontend.filterbank import AXES, LinearAxis, LogAxis, MelAxis
from vocoder.spec import PRESETS, SpectrogramSpec
from vocoder.spectrogram import Spectrogram

SR, N_FFT = 22050, 1024
LOG_36 = SpectrogramSpec(sample_rate=SR, n_fft=N_FFT, hop_length=256, win_length=N_FFT,
                         axis=LogAxis(bands_per_octave=36, fmin=50.0))


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


def test_every_kind_has_one_axis_class():
    assert {"linear", "mel", "log"} <= set(AXES)
    assert isinstance(PRESETS["linear"].axis, LinearAxis)
    assert isinstance(PRESETS["hifigan"].axis, MelAxis)
    assert isinstance(LOG_36.axis, LogAxis)
    assert PRESETS["linear"].axis.is_identity and not PRESETS["hifigan"].axis.is_identity
    assert not LOG_36.axis.is_identity


def test_linear_axis_is_the_identity():
    spec = PRESETS["linear"]
    axis = spec.axis
    x = _random_linear()
    assert axis.forward(spec, x) is x
    s = Spectrogram(x.float(), spec)
    assert axis.inverse(s) is s
    assert axis.n_rows(spec) == 513 and axis.band(spec) == (0.0, SR / 2)
    np.testing.assert_allclose(axis.centre_frequencies(spec), np.fft.rfftfreq(N_FFT, 1 / SR))


def _library_mel(spec):
    """The preset's mel matrix straight from the library its peer used."""
    import librosa
    import torchaudio.functional as AF

    axis = spec.axis
    if axis.mel_filterbank == "torchaudio":
        return AF.melscale_fbanks(spec.n_fft // 2 + 1, axis.fmin, axis.fmax, axis.n_mels, spec.sample_rate,
                                  norm=axis.mel_norm, mel_scale=axis.mel_scale).T.double()
    return torch.from_numpy(librosa.filters.mel(sr=spec.sample_rate, n_fft=spec.n_fft, n_mels=axis.n_mels,
                                                fmin=axis.fmin, fmax=axis.fmax, htk=axis.mel_scale == "htk",
                                                norm=axis.mel_norm, dtype=np.float64))


@pytest.mark.parametrize("preset", ["hifigan", "bigvgan-24k", "vocos-24k"])
def test_mel_axis_is_the_presets_mel_filterbank(preset):
    spec = PRESETS[preset]
    axis = spec.axis
    assert axis.n_rows(spec) == axis.n_mels == spec.n_bins
    assert torch.equal(axis.matrix(spec), _library_mel(spec))
    x = _random_linear(1, 7)
    assert torch.equal(axis.forward(spec, x), torch.matmul(_library_mel(spec), x))
    centres = axis.centre_frequencies(spec)
    assert len(centres) == axis.n_mels and np.all(np.diff(centres) > 0) and centres[-1] < axis.fmax


def test_log_axis_matches_an_independent_construction():
    reference = independent_log_filterbank(SR, N_FFT, 36, 50.0, SR / 2)
    matrix = LOG_36.axis.matrix(LOG_36).numpy()
    assert matrix.shape == reference.shape == (281, 513)  # ⌊36·log2(11025/50)⌋ + 1 bands
    np.testing.assert_allclose(matrix, reference, atol=1e-12)


@pytest.mark.parametrize("sr, n_fft, bpo, fmin, fmax", [
    (22050, 4096, 12, 27.5, 8000.0),
    (16000, 256, 24, 100.0, 8000.0),
    (44100, 2048, 48, 30.0, 20000.0),
])
def test_log_axis_matches_the_construction_at_other_geometries(sr, n_fft, bpo, fmin, fmax):
    spec = SpectrogramSpec(sample_rate=sr, n_fft=n_fft, hop_length=n_fft // 4, win_length=n_fft,
                           axis=LogAxis(bands_per_octave=bpo, fmin=fmin, fmax=fmax))
    np.testing.assert_allclose(spec.axis.matrix(spec).numpy(),
                               independent_log_filterbank(sr, n_fft, bpo, fmin, fmax), atol=1e-12)


def test_log_axis_has_exactly_b_bands_per_octave_and_no_empty_band():
    axis = LOG_36.axis
    centres = axis.centre_frequencies(LOG_36)
    assert centres[0] == 50.0 and centres[-1] <= SR / 2
    np.testing.assert_allclose(centres[36::36] / centres[:-36:36][: len(centres[36::36])], 2.0)
    matrix = axis.matrix(LOG_36)
    assert torch.all(matrix.sum(1) - 1 < 1e-12) and torch.all(matrix.max(1).values > 0)
    assert "36 per octave" in axis.describe(LOG_36)


def test_bands_narrower_than_a_bin_interpolate_the_stft():
    """Below ~1.1 kHz (36 per octave at 22050/1024) a band is the linear
    interpolation of its two nearest bins: a magnitude that rises linearly
    with frequency reads exactly its centre frequency there."""
    axis = LOG_36.axis
    freqs = torch.from_numpy(np.fft.rfftfreq(N_FFT, 1 / SR)).reshape(1, -1, 1)
    bands = axis.forward(LOG_36, freqs)[0, :, 0].numpy()
    centres = axis.centre_frequencies(LOG_36)
    narrow = centres * (2 ** (1 / 36) - 1) < SR / N_FFT
    narrow &= centres * (1 - 2 ** (-1 / 36)) < SR / N_FFT
    assert narrow.sum() > 100
    np.testing.assert_allclose(bands[narrow], centres[narrow], rtol=1e-12)


def test_a_tone_lands_in_the_band_at_its_frequency():
    from vocoder.frontend.stft import magnitude

    t = torch.arange(SR, dtype=torch.float64) / SR
    tone = torch.sin(2 * torch.pi * 1760.0 * t).unsqueeze(0)
    bands = LOG_36.axis.forward(LOG_36, magnitude(tone, LOG_36))[0].mean(-1).numpy()
    centres = LOG_36.axis.centre_frequencies(LOG_36)
    assert abs(np.log2(centres[bands.argmax()] / 1760.0)) <= 1 / 36


@pytest.mark.parametrize("spec", [PRESETS["hifigan"], LOG_36], ids=["mel", "log"])
def test_inverse_reproduces_the_bands_with_non_negative_magnitudes(spec):
    axis = spec.axis
    bands = axis.forward(spec, _random_linear()).float()
    estimate = axis.inverse(Spectrogram(bands, spec, provenance=({"step": "test"},)))
    assert estimate.spec == spec.as_linear() and estimate.spec.axis.is_identity
    assert estimate.magnitude.shape == (2, 513, 40) and (estimate.magnitude >= 0).all()
    rebuilt = axis.forward(spec, estimate.magnitude.double())
    relative = torch.linalg.vector_norm(rebuilt - bands.double()) / torch.linalg.vector_norm(bands.double())
    assert relative < 1e-3
    step = estimate.provenance[-1]
    assert step["step"] == f"{axis.kind}_to_linear" and step["relative_residual"] < 1e-3


def test_log_inverse_leaves_bins_no_band_reaches_at_zero():
    axis = LOG_36.axis
    estimate = axis.inverse(Spectrogram(axis.forward(LOG_36, _random_linear(1, 10)).float(), LOG_36)).magnitude
    unreached = axis.matrix(LOG_36).sum(0) == 0  # here: 0 and 21.5 Hz, below the lowest band
    assert unreached.sum() == 2 and estimate[:, unreached, :].abs().max() == 0


def test_log_spec_json_round_trip_and_as_linear():
    data = json.loads(LOG_36.to_json())
    assert data["axis"] == {"kind": "log", "bands_per_octave": 36, "fmin": 50.0, "fmax": None}
    assert SpectrogramSpec.from_json(LOG_36.to_json()) == LOG_36
    linear = LOG_36.as_linear()
    assert linear.axis == LinearAxis() and json.loads(linear.to_json())["axis"] == {"kind": "linear"}
    assert linear.n_bins == 513 and LOG_36.n_bins == 281


@pytest.mark.parametrize("change, message", [
    (dict(bands_per_octave=None), "bands_per_octave"),
    (dict(bands_per_octave=0), "bands_per_octave"),
    (dict(bands_per_octave=12.5), "bands_per_octave"),
    (dict(bands_per_octave=True), "bands_per_octave"),
    (dict(fmin=0.0), "fmin > 0"),
    (dict(fmin=float("nan")), "fmin must be a number"),
    (dict(fmax=20000.0), "Nyquist"),
    (dict(fmax="8000"), "fmax must be a number or null"),
])
def test_invalid_log_axes_are_refused_in_one_line(change, message):
    with pytest.raises(VocoderError, match=message) as caught:
        dataclasses.replace(LOG_36, axis=dataclasses.replace(LOG_36.axis, **change))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("axis, message", [
    ({"kind": "log", "bands_per_octave": 36, "fmin": 50.0, "n_mels": 80}, "a log axis takes no n_mels"),
    ({"kind": "mel", "n_mels": 80, "bands_per_octave": 36}, "a mel axis takes no bands_per_octave"),
    ({"kind": "linear", "n_mels": 80}, "a linear axis takes no n_mels"),
    ({"kind": "mel"}, "a mel axis needs n_mels"),
    ({"kind": "bark"}, "unknown frequency axis 'bark'"),
    ({"n_mels": 80}, "unknown frequency axis None"),
    ("mel", "must be a JSON object"),
])
def test_axis_json_with_fields_of_another_axis_or_no_kind_is_refused(axis, message):
    data = {**json.loads(PRESETS["linear"].to_json()), "axis": axis}
    with pytest.raises(VocoderError, match=message):
        SpectrogramSpec.from_dict(data)

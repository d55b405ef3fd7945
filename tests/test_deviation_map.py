"""The deviation map (issue #20's self-check without a reference): the output
against the spectrogram it came from, cell by cell; constructed cases where
the truth of what was added or lost is known."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import run_cli
from vocoder.evaluation.deviation import deviation
from vocoder.frontend.audio import Audio, audio_to_spectrogram
from vocoder.spec import get_preset

RATE = 22050
SPEC = get_preset("linear")  # 1024-point STFT: bins 21.5 Hz apart
HZ = RATE / SPEC.n_fft


def _spectrogram(x: np.ndarray):
    return audio_to_spectrogram(Audio(torch.from_numpy(x[None]).float(), RATE), SPEC)


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    return np.random.default_rng(0).standard_normal(2 * RATE) * 0.1


def test_the_same_signal_deviates_nowhere(noise):
    shares = deviation(_spectrogram(noise), torch.from_numpy(noise[None])).shares
    assert all(shares[k] < 1e-6 for k in shares if k != "definitions")


def test_a_tone_added_outside_the_input_is_found_where_it_is(noise):
    quiet = np.fft.irfft(np.fft.rfft(noise) * (np.fft.rfftfreq(len(noise), 1 / RATE) < 2000), len(noise))
    tone = 0.05 * np.sin(2 * np.pi * 3000 * np.arange(len(noise)) / RATE)
    found = deviation(_spectrogram(quiet), torch.from_numpy((quiet + tone)[None]))
    added = found.difference_db[0] > 20
    # Of the energy in cells the map marks added, nearly all lies at the tone (the rest is its
    # window's sidelobes, above a silent input: added too, and marked so).
    energy = _spectrogram(quiet + tone).magnitude[0].double() ** 2
    frames = added.shape[-1]
    near = ((torch.arange(added.shape[0]) * HZ - 3000).abs() < 4 * HZ)[:, None]
    marked = energy[:, :frames] * added
    assert float(marked[near.expand_as(marked)].sum() / marked.sum()) > 0.995
    tone_share = (tone ** 2).sum() / ((quiet + tone) ** 2).sum()
    assert found.shares["added_beyond_20_db"] == pytest.approx(tone_share, rel=0.1)
    assert found.shares["lost_beyond_6_db"] < 0.01


def test_a_band_removed_from_the_output_is_found_where_it_was(noise):
    freqs = np.fft.rfftfreq(len(noise), 1 / RATE)
    band = (freqs > 1000) & (freqs < 2000)
    cut = np.fft.irfft(np.fft.rfft(noise) * ~band, len(noise))
    found = deviation(_spectrogram(noise), torch.from_numpy(cut[None]))
    lost = found.difference_db[0] < -20
    rows = torch.nonzero(lost)[:, 0].double() * HZ
    assert float(((rows > 1000 - 3 * HZ) & (rows < 2000 + 3 * HZ)).double().mean()) > 0.99
    # Inside the band's core every cell is lost; the band holds about 1000/11025 of white noise's energy.
    assert float(lost[int(1100 / HZ):int(1900 / HZ)].double().mean()) > 0.95
    assert found.shares["lost_beyond_20_db"] == pytest.approx(1000 / 11025, rel=0.15)
    assert found.shares["added_beyond_6_db"] < 0.01


def test_energy_above_the_input_band_is_out_of_band(noise):
    mel = get_preset("hifigan")  # 80 mel bands to 8 kHz
    low = np.fft.irfft(np.fft.rfft(noise) * (np.fft.rfftfreq(len(noise), 1 / RATE) < 7000), len(noise))
    tone = 0.05 * np.sin(2 * np.pi * 10000 * np.arange(len(noise)) / RATE)
    spectrogram = audio_to_spectrogram(Audio(torch.from_numpy(low[None]).float(), RATE), mel)
    shares = deviation(spectrogram, torch.from_numpy((low + tone)[None])).shares
    assert shares["out_of_band"] == pytest.approx((tone ** 2).sum() / ((low + tone) ** 2).sum(), rel=0.1)
    assert deviation(spectrogram, torch.from_numpy(low[None])).shares["out_of_band"] < 1e-3


def test_invert_writes_the_map_and_the_shares(tmp_path, encoded):
    result = run_cli("invert", encoded, "-o", tmp_path / "out.wav", "--iters", "8", "--deviation-map")
    assert result.code == 0, result.err
    record = json.loads((tmp_path / "out.wav.json").read_text())["deviation_vs_input"]
    assert record["map"] == str(tmp_path / "out.wav.deviation.png")
    assert (tmp_path / "out.wav.deviation.png").stat().st_size > 0
    assert 0 <= record["added_beyond_20_db"] <= record["added_beyond_6_db"] <= 1
    assert 0 <= record["lost_beyond_20_db"] <= record["lost_beyond_6_db"] <= 1
    assert "deviation map" in result.out and "added beyond 6 / 20 dB" in result.out
    # The map is an output like the others: never replaced without --force, nothing written when refused.
    again = run_cli("invert", encoded, "-o", tmp_path / "other.wav", "--iters", "1", "--deviation-map")
    assert again.code == 0
    (tmp_path / "third.wav.deviation.png").write_bytes(b"kept")
    refused = run_cli("invert", encoded, "-o", tmp_path / "third.wav", "--iters", "1", "--deviation-map")
    assert refused.code == 2 and "--force" in refused.err and not (tmp_path / "third.wav").exists()
    assert (tmp_path / "third.wav.deviation.png").read_bytes() == b"kept"


def test_a_block_wise_inversion_refuses_the_map(tmp_path, encoded):
    result = run_cli("invert", encoded, "-o", tmp_path / "b.wav", "--iters", "1", "--deviation-map",
                     "--block-seconds", "2")
    assert result.code == 2 and "--deviation-map" in result.err and result.err.count("\n") == 1, result.err
    assert not (tmp_path / "b.wav").exists()

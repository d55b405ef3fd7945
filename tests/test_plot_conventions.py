"""The conventions that change a drawn plot's values: a log frequency axis, a
time range that is part of a recording, pre-emphasis, and dB re. full scale."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
from PIL import Image

from conftest import run_cli
from vocoder.frontend.picture import read_picture
from vocoder.frontend.picture_chain import picture_to_spectrogram
from vocoder.frontend.picture_options import PictureOptions
from vocoder.spec import get_preset

SPEC = get_preset("linear")  # 22050 Hz, n_fft 1024: bins 21.5 Hz apart
HZ_PER_BIN = SPEC.sample_rate / SPEC.n_fft


def _grey(path, rows: np.ndarray) -> None:
    Image.fromarray(np.clip(np.rint(rows * 255), 0, 255).astype(np.uint8), mode="L").save(path)


def _decoded(path, **options) -> np.ndarray:
    """The chain's magnitude (rows = bins, bottom first) for a grey picture."""
    return picture_to_spectrogram(read_picture(path), SPEC, PictureOptions(**options)).magnitude[0].numpy()


def test_a_row_drawn_on_a_log_axis_lands_on_its_frequency(tmp_path):
    # 100..10000 Hz over 200 rows: the row halfway up is drawn at 1000 Hz (the geometric mean).
    picture = np.zeros((200, 64))
    picture[99:101] = 1.0  # rows 99-100 from the top straddle the middle
    _grey(tmp_path / "log.png", picture)
    magnitude = _decoded(tmp_path / "log.png", freq_range=(100.0, 10000.0), freq_scale="log")
    loudest = int(magnitude[:, 32].argmax())
    assert abs(loudest * HZ_PER_BIN - 1000.0) < 2 * HZ_PER_BIN
    # Read as linear, the same row is at 5050 Hz: the option changes the value, as it must.
    linear = _decoded(tmp_path / "log.png", freq_range=(100.0, 10000.0))
    assert abs(int(linear[:, 32].argmax()) * HZ_PER_BIN - 5050.0) < 3 * HZ_PER_BIN
    assert magnitude[:int(100 / HZ_PER_BIN)].max() == 0  # below the axis: silent


def test_pre_emphasis_is_taken_off_at_six_db_per_octave(tmp_path):
    _grey(tmp_path / "flat.png", np.full((513, 40), 0.5))
    plain = _decoded(tmp_path / "flat.png")
    undone = _decoded(tmp_path / "flat.png", pre_emphasis=6.0)
    ratio_db = 20 * np.log10(undone[:, 20] / plain[:, 20])
    for hz in (250.0, 1000.0, 4000.0):  # about +12, 0 and -12 dB
        k = int(round(hz / HZ_PER_BIN))
        assert ratio_db[k] == pytest.approx(-6.0 * np.log2(k * HZ_PER_BIN / 1000.0), abs=0.01)
    assert ratio_db[int(round(4000 / HZ_PER_BIN))] < -11.5


def test_full_scale_keeps_the_level_the_bar_states(tmp_path):
    # A sine at bin 46 (990.5 Hz), -6 dBFS, drawn on a -120..0 dBFS scale as its STFT is: the
    # Hann window's main lobe puts half the centre's amplitude (-6 dB) in each neighbouring bin.
    picture = np.zeros((513, 200))
    value = round((-6.0 + 120.0) / 120.0 * 255) / 255
    picture[512 - 46] = value
    picture[[512 - 45, 512 - 47]] = round((-12.0 + 120.0) / 120.0 * 255) / 255
    _grey(tmp_path / "tone.png", picture)
    drawn_db = -120.0 + value * 120.0
    common = ("--figure", "plain", "--crop", "0,0,200,513", "--db-range", "-120", "0", "--iters", "32")
    result = run_cli("invert", tmp_path / "tone.png", "-o", tmp_path / "fs.wav", "--db-reference", "full-scale",
                     *common)
    assert result.code == 0, result.err
    samples, _ = soundfile.read(tmp_path / "fs.wav")
    middle = samples[len(samples) // 4: 3 * len(samples) // 4]
    amplitude_db = 20 * np.log10(np.sqrt(2) * np.sqrt(np.mean(middle ** 2)))
    assert amplitude_db == pytest.approx(drawn_db, abs=1.0)
    record = json.loads((tmp_path / "fs.wav.json").read_text())
    assert record["picture_options"]["db_reference"] == "full-scale"
    # Re. peak, the same picture has no level: normalised to -1 dBFS peak.
    result = run_cli("invert", tmp_path / "tone.png", "-o", tmp_path / "peak.wav", *common)
    assert result.code == 0, result.err
    peak, _ = soundfile.read(tmp_path / "peak.wav")
    assert 20 * np.log10(np.abs(peak).max()) == pytest.approx(-1.0, abs=0.1)


def test_a_time_range_gives_the_length_and_records_the_start(tmp_path):
    _grey(tmp_path / "part.png", np.random.default_rng(0).random((64, 120)) * 0.8)
    result = run_cli("invert", tmp_path / "part.png", "-o", tmp_path / "part.wav", "--figure", "plain",
                     "--crop", "0,0,120,64", "--time-range", "2", "4.5", "--iters", "1")
    assert result.code == 0, result.err
    assert soundfile.info(tmp_path / "part.wav").duration == pytest.approx(2.5, abs=1e-3)
    record = json.loads((tmp_path / "part.wav.json").read_text())
    assert record["picture_options"]["time_range"] == [2.0, 4.5]


@pytest.mark.parametrize("flags, says", [
    (("--time-range", "2", "1"), "--time-range needs 0 <= START < END"),
    (("--time-range", "0", "2", "--duration", "2"), "--time-range and --duration exclude each other"),
    (("--freq-scale", "log"), "--freq-scale log needs --freq-range LOW HIGH with LOW > 0"),
    (("--freq-scale", "log", "--freq-range", "0", "8000"), "with LOW > 0"),
    (("--pre-emphasis", "60"), "--pre-emphasis must be within"),
    (("--pre-emphasis", "nan"), "--pre-emphasis must be a finite number"),
    (("--db-reference", "full-scale", "--mapping", "power", "--power", "0.5"), "goes with --mapping db"),
    (("--db-range", "-300", "-36"), "at most 200 dB apart"),
    (("--db-range", "-500", "-450"), "within ±400 dB"),
])
def test_contradictory_conventions_are_one_line(tmp_path, flags, says):
    _grey(tmp_path / "p.png", np.full((64, 64), 0.5))
    result = run_cli("invert", tmp_path / "p.png", "-o", tmp_path / "p.wav", *flags)
    assert result.code == 2 and says in result.err and result.err.count("\n") == 1, result.err
    assert not (tmp_path / "p.wav").exists()


def test_a_colour_scale_in_db_of_power_density_is_accepted(tmp_path):
    # matplotlib's specgram labels its bar in dB of a power spectral density: −227 .. −36 dB for music.
    _grey(tmp_path / "psd.png", np.random.default_rng(2).random((64, 64)) * 0.9)
    result = run_cli("invert", tmp_path / "psd.png", "-o", tmp_path / "psd.wav", "--figure", "plain",
                     "--db-range", "-227", "-36", "--iters", "1")
    assert result.code == 0, result.err

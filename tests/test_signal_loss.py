"""A file that holds less than the run suggests says so: digital silence is
warned about in one line, and the invert record's self-check measures the
samples the file holds (after 16-bit quantisation), not the unquantised
waveform."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from conftest import run_cli, write_wav


@pytest.fixture(scope="module")
def quiet_png(tmp_path_factory):
    """A vocoder PNG of a tone whose peak (-130 dBFS) no 16-bit sample can hold (one step is -90 dBFS)."""
    folder = tmp_path_factory.mktemp("quiet")
    t = np.arange(8000) / 16000
    write_wav(folder / "quiet.wav", 10 ** (-130 / 20) * np.sin(2 * np.pi * 500 * t), 16000, subtype="FLOAT")
    assert run_cli("encode", folder / "quiet.wav", "-o", folder / "quiet.png").code == 0
    return folder / "quiet.png"


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
@pytest.mark.parametrize("blockwise", [False, True])
def test_a_quiet_recording_quantised_to_nothing_is_warned_about(quiet_png, tmp_path, suffix, blockwise):
    out = tmp_path / f"o{suffix}"
    extra = ["--block-seconds", "0.2"] if blockwise else []
    result = run_cli("invert", quiet_png, "-o", out, "--iters", "2", *extra)
    assert result.code == 0, result
    warnings = [line for line in result.err.splitlines() if line.startswith("vocoder: warning:")]
    assert any("below what" in line and "16-bit" in line for line in warnings), result.err
    assert np.abs(sf.read(out, dtype="int16")[0]).max() <= 1  # silence, or libsndfile's ±1 rounding noise
    record = json.loads((tmp_path / f"o{suffix}.json").read_text())
    assert any(re.search(r"peak \(-1[0-4]\d dBFS\)", w) for w in record["warnings"]), record["warnings"]
    assert "the samples the file holds" in record["fidelity_vs_input"]["measured_against"]
    if not blockwise and suffix == ".flac":  # the file holds zeros: the self-check says all of the input is missing
        assert record["fidelity_vs_input"]["missing_db"] > -1.0


def test_an_all_black_picture_is_warned_about_as_silent(tmp_path):
    Image.fromarray(np.zeros((40, 60), np.uint8)).save(tmp_path / "black.png")
    result = run_cli("invert", tmp_path / "black.png", "-o", tmp_path / "b.wav", "--iters", "2")
    assert result.code == 0, result
    assert "vocoder: warning:" in result.err and "silent" in result.err
    record = json.loads((tmp_path / "b.wav.json").read_text())
    assert any("silent" in w for w in record["warnings"])


def test_sonify_of_a_black_picture_unipolar_is_warned_about_as_silent(tmp_path):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "black.png")
    result = run_cli("sonify", tmp_path / "black.png", "-o", tmp_path / "s.wav", "--value-map", "unipolar")
    assert result.code == 0, result
    assert "vocoder: warning:" in result.err and "silent" in result.err
    assert json.loads((tmp_path / "s.wav.json").read_text())["warnings"]
    bipolar = run_cli("sonify", tmp_path / "black.png", "-o", tmp_path / "b.wav")  # black is -1: not silent
    assert bipolar.code == 0 and "warning" not in bipolar.err


def test_a_loud_inversion_has_no_warning_and_its_self_check_is_of_the_file(encoded, tmp_path):
    out = tmp_path / "o.wav"
    result = run_cli("invert", encoded, "-o", out, "--iters", "4", "--backend", "griffinlim")
    assert result.code == 0 and "warning" not in result.err, result
    record = json.loads((tmp_path / "o.wav.json").read_text())
    assert record["warnings"] == []
    assert "after its WAV, 16-bit PCM quantisation" in record["fidelity_vs_input"]["measured_against"]

"""A file's bytes are in the format its name says, or the command refuses in
one line naming the formats it writes; nothing is written then."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from conftest import SAMPLES, run_cli


@pytest.fixture
def picture(tmp_path):
    Image.fromarray((np.arange(12 * 16).reshape(12, 16) % 256).astype(np.uint8)).save(tmp_path / "in.png")
    return tmp_path / "in.png"


def refused(result, *words):
    assert result.code == 2, result
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    for word in words:
        assert word in result.err, result.err


@pytest.mark.parametrize("name", ["x.mp3", "x.flac", "x.ogg", "x.aiff", "x", "x.wav.mp3", "x.WAV.txt"])
def test_sonify_writes_float_wav_only_and_refuses_other_names(picture, tmp_path, name):
    refused(run_cli("sonify", picture, "-o", tmp_path / name), "sonify writes .wav")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


@pytest.mark.parametrize("name", ["x.wav", "X.WAV"])
def test_sonify_output_is_a_float_wav(picture, tmp_path, name):
    assert run_cli("sonify", picture, "-o", tmp_path / name).code == 0
    assert sf.info(tmp_path / name).subtype == "FLOAT" and sf.info(tmp_path / name).format == "WAV"


@pytest.mark.parametrize("name", ["p.jpg", "p.jpeg", "p.tif", "p.gif", "p.webp", "p", "p.png.jpg"])
def test_pictures_are_written_as_png_only(picture, tmp_path, name):
    assert run_cli("sonify", picture, "-o", tmp_path / "s.wav").code == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    refused(run_cli("desonify", tmp_path / "s.wav", "-o", tmp_path / name), "desonify writes a PNG", ".png")
    refused(run_cli("pattern", "chirp", "-o", tmp_path / name, "--duration", "0.2"), "pattern writes a PNG")
    refused(run_cli("pattern", "text", "-o", tmp_path / name, "--duration", "0.2"), "pattern writes a PNG")
    refused(run_cli("encode", SAMPLES / "LJ001-0006.wav", "-o", tmp_path / name), "encode writes a PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_desonify_and_pattern_write_real_pngs(picture, tmp_path):
    assert run_cli("sonify", picture, "-o", tmp_path / "s.wav").code == 0
    assert run_cli("desonify", tmp_path / "s.wav", "-o", tmp_path / "d.PNG").code == 0
    assert run_cli("pattern", "grid", "-o", tmp_path / "g.png", "--duration", "0.2").code == 0
    for name in ("d.PNG", "g.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["o.mp3", "o.aac", "o.m4a", "o", "o.png"])
def test_invert_refuses_audio_names_it_cannot_write(encoded, tmp_path, name):
    refused(run_cli("invert", encoded, "-o", tmp_path / name, "--iters", "1"), ".wav, .flac, .ogg")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix, container", [(".wav", "WAV"), (".flac", "FLAC"), (".ogg", "OGG")])
def test_invert_writes_the_format_its_name_says(encoded, tmp_path, suffix, container):
    assert run_cli("invert", encoded, "-o", tmp_path / f"o{suffix}", "--iters", "1").code == 0
    assert sf.info(tmp_path / f"o{suffix}").format == container

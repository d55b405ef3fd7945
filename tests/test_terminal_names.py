"""File names reach the terminal as text, never as control sequences, and
any legal name is a legal output name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli, write_wav

VOCODER = str(Path(sys.executable).parent / "vocoder")
HOSTILE = ["bad\x1b[31mred", "bell\x07", "line\nbreak", "back\rspace", "tab\there", "del\x7f", "c1\x9bnext"]


@pytest.mark.parametrize("name", HOSTILE, ids=["ESC", "BEL", "LF", "CR", "TAB", "DEL", "CSI"])
def test_an_error_line_shows_control_characters_as_escapes(tmp_path, name):
    result = run_cli("sonify", tmp_path / f"{name}.png", "-o", tmp_path / "o.wav")
    assert result.code == 2
    line = result.err.rstrip("\n")
    assert "\n" not in line and all(c.isprintable() for c in line), repr(line)
    if name.isspace() or not any(c.isspace() for c in name):  # ESC, BEL, DEL, CSI: shown as escapes
        assert name.encode("unicode_escape").decode("ascii") in line, line  # the user still sees what is there
    else:  # a newline, CR or tab: the one line shows it as a space
        assert " ".join(name.split()) in line, line


def test_a_notice_naming_a_hostile_file_is_escaped_too(tmp_path):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "x\x1b]0;title\x07.png")
    result = subprocess.run([VOCODER, "info", "x\x1b]0;title\x07.png"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "x\\x1b]0;title\\x07.png: no embedded vocoder metadata" in result.stderr


@pytest.mark.parametrize("command", [["sonify", "black.png", "-o", "x\x1b[2J\x07.wav", "--value-map", "unipolar"],
                                     ["invert", "black.png", "-o", "x\x1b[2J\x07.wav", "--iters", "1"]],
                         ids=["sonify", "invert"])
def test_a_warning_naming_a_hostile_output_is_escaped(tmp_path, command):
    """The silence warning names the output: escaped on every command that
    gives it, and so is the line on standard output that says what was written."""
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "black.png")
    result = subprocess.run([VOCODER, *command], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "vocoder: warning: x\\x1b[2J\\x07.wav" in result.stderr, result.stderr
    assert "\x1b" not in result.stderr + result.stdout and "\x07" not in result.stderr + result.stdout
    assert "wrote x\\x1b[2J\\x07.wav" in result.stdout, result.stdout


def test_bench_progress_shows_a_hostile_clip_name_escaped(tmp_path):
    t = np.arange(22050) / 22050
    write_wav(tmp_path / "c\x1b[2J\x07.wav", (0.3 * np.sin(2 * np.pi * 220 * t))[:, None])
    result = subprocess.run([VOCODER, "bench", "c\x1b[2J\x07.wav", "--out", "out", "--backends", "fgla", "--iters",
                             "2", "--metrics", "sc_db", "--progress"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "c\\x1b[2J\\x07" in result.stderr  # the progress bar names the clip, escaped
    assert "\x1b[2J" not in result.stderr and "\x07" not in result.stderr


@pytest.mark.parametrize("name", ["a" * 246 + ".wav", "é" * 123 + ".wav", "b" * 200 + ".wav"],
                         ids=["250-bytes", "250-bytes-utf8", "204-bytes"])
def test_an_output_name_as_long_as_the_system_allows_is_written(tmp_path, name):
    """With its record (NAME.json) at 255 bytes, the system's limit: the temporaries' names must not grow past it."""
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "p.png")
    result = run_cli("sonify", tmp_path / "p.png", "-o", tmp_path / name)
    assert result.code == 0, result
    assert sorted(os.listdir(tmp_path)) == sorted(["p.png", name, name + ".json"])

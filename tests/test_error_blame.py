"""An error says which side failed (an input that cannot be read, an output
that cannot be written, standard output) and whether the outputs stand."""

from __future__ import annotations

import builtins
import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli

VOCODER = str(Path(sys.executable).parent / "vocoder")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    Image.fromarray((np.arange(256).reshape(16, 16)).astype(np.uint8)).save(tmp_path / "p.png")
    assert run_cli("sonify", tmp_path / "p.png", "-o", tmp_path / "s.wav").code == 0
    return tmp_path


def _one_line(code: int, err: str) -> str:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("vocoder: error: "), (code, err)
    return lines[0]


@pytest.mark.parametrize("command, unreadable", [
    (["sonify", "p.png", "-o", "q.wav"], "p.png"),
    (["info", "p.png"], "p.png"),
    (["invert", "p.png", "-o", "q.wav", "--iters", "1"], "p.png"),
    (["desonify", "s.wav", "-o", "q.png"], "s.wav.json"),  # the record beside the audio
], ids=["sonify", "info", "invert", "desonify-record"])
def test_an_input_that_cannot_be_read_is_blamed_not_the_outputs(folder, monkeypatch, command, unreadable):
    real_open = builtins.open

    def denied(path, mode="r", *args, **kwargs):
        if os.path.basename(os.fspath(path)) == unreadable and not any(c in mode for c in "wax+"):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denied)
    monkeypatch.chdir(folder)
    before = sorted(os.listdir(folder))
    result = run_cli(*command)
    # A record beside the input decides how the audio is read: unreadable is refused, never taken as absent.
    line = _one_line(result.code, result.err)
    assert f"cannot read {folder}/{unreadable}" in line or f"cannot read {unreadable}" in line, line
    assert "Permission denied" in line and "cannot write" not in line and line.endswith("nothing was written")
    assert sorted(os.listdir(folder)) == before


@pytest.mark.parametrize("command", [
    ["info", "locked/x.png"],
    ["invert", "locked/x.png", "-o", "q.wav", "--iters", "1"],
    ["encode", "locked/x.wav", "-o", "q.png"],
    ["desonify", "locked/x.wav", "-o", "q.png"],
    ["import", "locked/g_0001", "--config", "locked/config.json", "-o", "m.safetensors"],
    ["export", "locked/m.ckpt", "-o", "m.safetensors"],
], ids=lambda c: c[0])
def test_an_input_behind_a_folder_that_cannot_be_entered_is_unreadable_not_missing(folder, monkeypatch, command):
    """A folder without search permission (simulated: the tests may run as root,
    which passes every permission) hides its files' existence: "cannot read",
    never "not found"."""
    real_stat = os.stat

    def denied(path, *args, **kwargs):
        if "locked/" in os.fsdecode(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", denied)
    monkeypatch.chdir(folder)
    before = sorted(os.listdir(folder))
    line = _one_line(*(lambda r: (r.code, r.err))(run_cli(*command)))
    assert "cannot read locked/" in line and "Permission denied" in line and "not found" not in line, line
    assert sorted(os.listdir(folder)) == before


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_an_input_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind):
    """A folder is named as one; a FIFO, which would block a read for ever, is refused unread."""
    path = tmp_path / "x.png"
    path.mkdir() if kind == "folder" else os.mkfifo(path)
    for command in (["info", "x.png"], ["invert", "x.png", "-o", "q.wav"], ["sonify", "x.png", "-o", "q.wav"]):
        result = subprocess.run([VOCODER, *command], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        line = _one_line(result.returncode, result.stderr)
        assert ("is a folder, not a file" if kind == "folder" else "is not a regular file") in line, line
    assert sorted(os.listdir(tmp_path)) == ["x.png"]


def test_a_closed_stdout_is_refused_before_any_work(folder):
    for command in (["info", "p.png"], ["sonify", "p.png", "-o", "q.wav"]):
        result = subprocess.run([VOCODER, *command], cwd=folder, capture_output=False, stdout=None,
                                stderr=subprocess.PIPE, text=True, timeout=120,
                                preexec_fn=lambda: os.close(1))
        line = _one_line(result.returncode, result.stderr)
        assert "standard output is closed" in line and "internal error" not in line
    assert not (folder / "q.wav").exists()


def test_a_full_stdout_after_the_outputs_were_published_says_they_stand(folder):
    with open("/dev/full", "w") as full:
        result = subprocess.run([VOCODER, "sonify", "p.png", "-o", "q.wav"], cwd=folder, stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    line = _one_line(result.returncode, result.stderr)
    assert line == ("vocoder: error: cannot write to standard output: No space left on device; "
                    "outputs already written stand: q.wav, q.wav.json")
    assert (folder / "q.wav").exists() and (folder / "q.wav.json").exists()


def test_a_full_stdout_of_a_command_that_writes_nothing_says_so(folder):
    with open("/dev/full", "w") as full:
        result = subprocess.run([VOCODER, "info", "p.png"], cwd=folder, stdout=full, stderr=subprocess.PIPE,
                                text=True, timeout=120)
    assert _one_line(result.returncode, result.stderr) == (
        "vocoder: error: cannot write to standard output: No space left on device; nothing was written")


def test_a_broken_pipe_after_the_outputs_were_published_says_they_stand(folder):
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([VOCODER, "sonify", "p.png", "-o", "q.wav"], cwd=folder, stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    line = _one_line(result.returncode, result.stderr)
    assert "standard output was closed" in line and line.endswith("outputs already written stand: q.wav, q.wav.json")


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize("command", [
    ["sonify", "p.png", "-o", "o.wav"],
    ["desonify", "s.wav", "-o", "o.png"],
    ["pattern", "chirp", "-o", "c.png", "--duration", "0.5"],
    ["pattern", "text", "-o", "t.png", "--duration", "0.5"],
], ids=["sonify", "desonify", "pattern-chirp", "pattern-text"])
def test_a_write_that_cannot_fit_is_one_line_and_leaves_nothing(folder, command):
    before = sorted(os.listdir(folder))
    result = subprocess.run([VOCODER, *command], cwd=folder, capture_output=True, text=True, timeout=120,
                            preexec_fn=_limit_file_size(600))
    line = _one_line(result.returncode, result.stderr)
    assert "cannot write" in line and line.endswith("nothing was written"), line
    assert sorted(os.listdir(folder)) == before


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1) to mount a small tmpfs")
def test_a_full_disk_is_one_line_for_every_small_command(folder):
    if subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("user namespaces are not available here")
    disk = folder / "disk"
    disk.mkdir()
    commands = ["sonify p.png -o o.wav", "desonify s.wav -o o.png", "pattern chirp -o c.png --duration 0.5"]
    script = (f'mount -t tmpfs -o size=12k tmpfs "{disk}" && cd "{disk}" && cp ../p.png ../s.wav ../s.wav.json . && '
              + " ; ".join(f'"{VOCODER}" {c}; echo "rc=$?"' for c in commands) + "; ls -A")
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    assert result.stdout.split() == ["rc=2"] * 3 + ["p.png", "s.wav", "s.wav.json"], result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3 and all(ln.startswith("vocoder: error: cannot write") and
                                   ln.endswith("No space left on device; nothing was written") for ln in lines), lines


def test_a_fifo_beside_an_input_is_never_opened(tmp_path):
    """The record `info` and `desonify` look for beside the audio, as a FIFO:
    info goes on without it, desonify refuses it; neither waits on it."""
    Image.fromarray((np.arange(256).reshape(16, 16)).astype(np.uint8)).save(tmp_path / "p.png")
    assert run_cli("sonify", tmp_path / "p.png", "-o", tmp_path / "s.wav").code == 0
    os.unlink(tmp_path / "s.wav.json")
    os.mkfifo(tmp_path / "s.wav.json")
    info = subprocess.run([VOCODER, "info", "s.wav"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert info.returncode == 0 and "s.wav: audio" in info.stdout, info
    desonify = subprocess.run([VOCODER, "desonify", "s.wav", "-o", "q.png"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)
    assert "is not a regular file" in _one_line(desonify.returncode, desonify.stderr)
    assert not (tmp_path / "q.png").exists()

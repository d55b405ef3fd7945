"""`sonify` reruns write the same bytes; its writes go through the atomic
outputs, so a write that fails is one line and leaves nothing."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys

import numpy as np
from PIL import Image

from conftest import PROJECT, run_cli


def test_sonify_reruns_are_byte_identical_and_time_only_with_timings(tmp_path):
    Image.fromarray((np.arange(20 * 30 * 3).reshape(20, 30, 3) % 256).astype(np.uint8)).save(tmp_path / "in.png")
    for name in ("a.wav", "b.wav"):
        assert run_cli("sonify", tmp_path / "in.png", "-o", tmp_path / name).code == 0
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    assert b"PEAK" not in (tmp_path / "a.wav").read_bytes()
    first, second = (json.loads((tmp_path / f"{n}.wav.json").read_text()) for n in "ab")
    for record in (first, second):
        assert "wall_seconds" not in record
        record.pop("environment"), record["output"].pop("path")
    assert first == second
    assert run_cli("sonify", tmp_path / "in.png", "-o", tmp_path / "t.wav", "--timings").code == 0
    assert json.loads((tmp_path / "t.wav.json").read_text())["wall_seconds"]["total"] >= 0


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_sonify_that_cannot_write_is_one_line_and_leaves_nothing(tmp_path):
    Image.fromarray((np.arange(64 * 64) % 256).reshape(64, 64).astype(np.uint8)).save(tmp_path / "in.png")
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    result = subprocess.run([sys.executable, "-m", "vocoder", "sonify", "in.png", "-o", "s.wav"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300,
                            preexec_fn=_limit_file_size(8_000))
    assert result.returncode == 2, result
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot write" in result.stderr, result.stderr
    assert sorted(os.listdir(tmp_path)) == ["in.png"]

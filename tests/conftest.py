"""Shared fixtures: the reference data, and running the CLI in-process."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocoder.cli import main

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared" / "data"
SAMPLES = PROJECT / "samples"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real recordings); tests that need it skip without it."""
    if not (SHARED / "audio" / "ljspeech").is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED


@pytest.fixture(scope="session")
def ljspeech(shared_data) -> list[Path]:
    """Three LJ Speech clips of different lengths."""
    return [shared_data / "audio" / "ljspeech" / f"LJ001-00{n}.wav" for n in ("02", "06", "11")]


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out!r}, err={self.err!r})"


def run_cli(*args: str) -> CliResult:
    """Run `vocoder ARGS` in this process, returning exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    return run_cli


def write_wav(path: Path, samples: np.ndarray, rate: int = 22050, subtype: str = "PCM_16") -> Path:
    sf.write(path, samples, rate, subtype=subtype)
    return path

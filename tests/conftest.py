"""Shared fixtures: the reference data, and running the CLI in-process."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocoder.cli import main

PROJECT = Path(__file__).resolve().parents[1]
# The real recordings; VOCODER_SHARED_DATA points elsewhere (tests/test_paths.py uses it).
SHARED = Path(os.environ.get("VOCODER_SHARED_DATA") or PROJECT.parent / "shared" / "data")
SAMPLES = PROJECT / "samples"
SHARED_MISSING = f"the real recordings are not present in {SHARED} (../shared/data beside the project)"


def pytest_configure(config) -> None:
    """Under pytest-xdist each worker gets its share of the cores for torch's
    threads: N workers each using every core would only fight for them. The
    variable is set too, so the commands tests start as child processes run
    (and record) the same thread count as those run in-process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        # numba's on-disk cache (librosa's pyin gufuncs, our kernels) is not safe for processes that
        # write the same entries at once: two workers compiling pyin together in a fresh .venv left
        # a cache that crashed every later `bench` with SIGSEGV. Each worker (and the commands it
        # starts) keeps its own, beside the environment, reused by the next run.
        os.environ["NUMBA_CACHE_DIR"] = str(Path(sys.prefix) / "numba-cache" / worker)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 0)
    if workers > 1:
        import torch

        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        torch.set_num_threads(threads)


def in_ci() -> bool:
    """True on a CI runner (CI=true, as GitHub Actions, GitLab and most others set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real recordings): skipped without it locally, a failure in CI."""
    if not (SHARED / "audio" / "ljspeech").is_dir():
        if in_ci():
            pytest.fail(f"{SHARED_MISSING}; CI must provide it (a skip here would hide untested code)",
                        pytrace=False)
        pytest.skip(SHARED_MISSING)
    return SHARED


def pytest_terminal_summary(terminalreporter) -> None:
    """One line saying how many tests skipped for want of the real recordings."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if SHARED_MISSING in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} tests skipped because {SHARED_MISSING}; "
                                    "with CI=true that is a failure")


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


@pytest.fixture(scope="session")
def encoded(tmp_path_factory) -> Path:
    """The bundled speech clip encoded with the hifigan preset (read-only for tests)."""
    out = tmp_path_factory.mktemp("enc") / "speech.png"
    result = run_cli("encode", SAMPLES / "LJ001-0006.wav", "-o", out, "--preset", "hifigan")
    assert result.code == 0, result
    return out


@pytest.fixture
def cli():
    return run_cli


def write_wav(path: Path, samples: np.ndarray, rate: int = 22050, subtype: str = "PCM_16") -> Path:
    sf.write(path, samples, rate, subtype=subtype)
    return path

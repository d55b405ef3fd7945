"""The commands that should answer at once import no heavy library (issue #23).

`vocoder --version`, `--help`, `backends`, `info` (on a PNG written by
`vocoder encode`, on a plain picture, on an audio file) and every command's
`--help` each run in a child process through the console script's
`vocoder.entry.main`; after it returns, the child prints which of the heavy
libraries (each costs from a tenth of a second to seconds to import) are in
``sys.modules``. None may be. Timings are in experiments/startup, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from vocoder.cli import COMMANDS, TRAINING

PROJECT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "torchaudio", "numba", "librosa", "scipy", "lightning", "pytorch_lightning", "matplotlib")
MARK = "heavy modules loaded:"

# Runs the console script's main with ARGV, then reports the heavy modules loaded.
WRAPPER = f"""
import json, sys
from vocoder.entry import main
try:
    main()
except SystemExit:
    pass
finally:
    sys.stdout.flush()
    print({MARK!r}, json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))
"""


def heavy_loaded(*argv: str) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(PROJECT))
    done = subprocess.run([sys.executable, "-c", WRAPPER, *argv], capture_output=True, text=True, env=env,
                          cwd=PROJECT, timeout=120)
    reports = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    assert reports, f"vocoder {' '.join(argv)} printed no report: {done.stdout[-500:]} {done.stderr[-500:]}"
    return json.loads(reports[-1][len(MARK):])


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """A short tone as WAV, and the PNG `vocoder encode` makes of it."""
    folder = tmp_path_factory.mktemp("startup")
    audio = folder / "tone.wav"
    samples = (0.3 * np.sin(2 * np.pi * 440 * np.arange(5512) / 22050) * 32767).astype("<i2")
    with wave.open(str(audio), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22050)
        out.writeframes(samples.tobytes())
    encoded = folder / "tone.png"
    subprocess.run([sys.executable, "-m", "vocoder", "encode", str(audio), "-o", str(encoded)], check=True,
                   env=dict(os.environ, PYTHONPATH=str(PROJECT)), cwd=PROJECT, capture_output=True, timeout=300)
    return {"audio": str(audio), "encoded": str(encoded), "picture": str(PROJECT / "samples" / "text.png")}


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["backends"]], ids=" ".join)
def test_quick_commands_import_nothing_heavy(argv):
    assert heavy_loaded(*argv) == []


@pytest.mark.parametrize("kind", ["encoded", "picture", "audio"])
def test_info_imports_nothing_heavy(files, kind):
    assert heavy_loaded("info", files[kind]) == []


@pytest.mark.parametrize("command", [*COMMANDS, *TRAINING])
def test_command_help_imports_nothing_heavy(command):
    assert heavy_loaded(command, "--help") == []

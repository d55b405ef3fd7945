import os
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT


def test_demo_runs_from_the_bundled_samples_alone(tmp_path):
    """`make demo` runs scripts/demo.sh; it needs nothing outside the repo."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(PROJECT / "scripts" / "demo.sh"), str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    for name in ("speech.png", "speech.png.preview.png", "speech_fgla.wav", "speech_fgla.wav.json",
                 "speech_fgla.wav.preview.png", "text.wav", "text.wav.json", "text.wav.preview.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert str(tmp_path / "speech_fgla.wav") in done.stdout
    assert (tmp_path / "compare" / "report.html").stat().st_size > 0
    assert "hifigan" in done.stdout and "pghi+fgla" in done.stdout and "mel_l1" in done.stdout
    assert "may contain sound that was not in the input" in done.stderr  # the learned output is labelled

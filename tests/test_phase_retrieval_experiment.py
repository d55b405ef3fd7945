"""experiments/phase-retrieval/run.py: the traced loop is the backend's own
(same output as ``invert`` at every count), and the time-to-threshold helper."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import torch

from vocoder.frontend.audio import Audio, audio_to_spectrogram
from vocoder.frontend.stft import istft
from vocoder.inversion import create
from vocoder.spec_overrides import SpecOverrides, effective_spec

RUN = Path(__file__).resolve().parents[1] / "experiments" / "phase-retrieval" / "run.py"


@pytest.fixture(scope="module")
def run():
    spec = importlib.util.spec_from_file_location("phase_retrieval_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grid_ends_at_max(run):
    assert run.grid(30)[-1] == 30 and run.grid(30)[0] == 0
    assert run.grid(30) == sorted(set(run.grid(30)))


def test_time_to_first_reaching_count(run):
    points = [{"sc_db": -10.0, "seconds": 0.1}, {"sc_db": -31.0, "seconds": 0.2}, {"sc_db": -36.0, "seconds": 0.3}]
    assert run.time_to(points, -30.0) == 0.2
    assert run.time_to(points, -35.0) == 0.3
    assert math.isinf(run.time_to(points, -40.0))


@pytest.mark.parametrize("name,options", [("fgla", {}), ("pghi+fgla", {}), ("agla", {"init": "pghi"}), ("admm", {}),
                                          ("griffinlim", {})])
def test_traced_loop_matches_invert(run, name, options):
    torch.manual_seed(0)
    t = torch.arange(11025) / 22050
    samples = (0.3 * torch.sin(2 * math.pi * 440 * t) + 0.05 * torch.randn(t.shape)).unsqueeze(0)
    spec = effective_spec("linear", SpecOverrides(hop_length=128))
    spectrogram = audio_to_spectrogram(Audio(samples, 22050), spec)
    seen = {}
    inverter = create(name, iters=7, **options)
    target = inverter.prepare(spectrogram)

    def callback(n, X):
        if n in (3, 7):
            seen[n] = istft(X.contiguous(), target.spec, target.n_samples)

    run.loop_of(inverter, target, 7, callback)
    assert torch.allclose(seen[7], inverter.invert(target), atol=1e-6)
    assert torch.allclose(seen[3], create(name, iters=3, **options).invert(target), atol=1e-6)

"""A backend added from outside the package: one class and one ``register``
call, nothing else edited, and every command that lists, parses, checks or
budgets backends knows it (its option, default, help and working set)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pytest
import torch

from conftest import run_cli, write_wav
from vocoder.frontend.stft import istft
from vocoder.inversion import Inverter, registry
from vocoder.safety import budget
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

NAME = "zero-phase-test"


@dataclass
class ZeroPhase(Inverter):
    """Zero phase, scaled by ``gain``: the smallest backend there is."""

    name: ClassVar[str] = NAME
    summary: ClassVar[str] = "test fixture: the magnitude with zero phase, times --gain"
    declared_bytes: ClassVar[float] = 2**20  # what working_set declares; a test raises it

    gain: float = field(default=0.5, metadata={"help": "output scale"})

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        return type(self).declared_bytes

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        magnitude = spectrogram.magnitude.detach().to("cpu", torch.complex64)
        return self.gain * istft(magnitude, spectrogram.spec, spectrogram.length)


@pytest.fixture
def registered():
    registry.register(NAME, ZeroPhase)
    try:
        yield
    finally:
        del registry.BACKENDS[NAME]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A 0.3 s tone, and its vocoder PNG."""
    folder = tmp_path_factory.mktemp("extension")
    write_wav(folder / "tone.wav", (0.3 * np.sin(np.arange(6615) * 0.2))[:, None])
    assert run_cli("encode", folder / "tone.wav", "-o", folder / "tone.png").code == 0
    return folder


def test_listed_with_its_option_default_and_help(registered):
    text = run_cli("backends")
    assert text.code == 0, text
    block = text.out.split(f"\n{NAME} ", 1)[1]
    assert "test fixture" in block.splitlines()[0]
    assert "gain" in block and "float" in block and "default 0.5" in block and "output scale" in block
    rows = json.loads(run_cli("backends", "--json").out)
    row = next(r for r in rows if r["name"] == NAME)
    assert row["options"] == [{"name": "gain", "type": "float", "default": 0.5, "choices": None,
                               "help": "output scale"}]
    assert row["learned"] is False and row["blockwise"] is False


def test_invert_help_offers_its_flag(registered):
    result = run_cli("invert", "--help")
    assert result.code == 0
    def help_of(flag: str) -> str:
        text = result.out.split(f"\n  {flag}", 1)[1]
        return " ".join(text.split("\n  -", 1)[0].split("\n\n", 1)[0].split())

    assert help_of("--gain GAIN") == f"output scale ({NAME}: default 0.5)"
    assert NAME in help_of("--backend BACKEND").replace("- ", "-")  # argparse wraps lines at hyphens


def test_invert_runs_it_and_records_the_option(registered, folder, tmp_path):
    out = tmp_path / "out.wav"
    result = run_cli("invert", folder / "tone.png", "-o", out, "--backend", NAME, "--gain", "0.25")
    assert result.code == 0, result
    backend = json.loads((tmp_path / "out.wav.json").read_text())["backend"]
    assert backend["name"] == NAME and backend["parameters"] == {"gain": 0.25}


def test_bench_runs_it_with_its_option(registered, folder, tmp_path):
    result = run_cli("bench", folder / "tone.wav", "--backends", f"{NAME}:gain=0.25", "--out", tmp_path / "b",
                     "--metrics", "sc_db")
    assert result.code == 0, result
    with open(tmp_path / "b" / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [json.loads(r["backend_options"]) for r in rows] == [{"gain": 0.25}]


def test_the_memory_estimate_is_its_declared_working_set(registered, folder, tmp_path, monkeypatch):
    # The cap is what this process already holds plus room: under xdist a worker's resident memory
    # depends on the tests it ran before.
    cap = f"{(budget.resident() + budget.LAZY_IMPORTS) // 2**20 + 1024}M"
    args = ("invert", folder / "tone.png", "-o", tmp_path / "o.wav", "--backend", NAME, "--max-memory", cap)
    assert run_cli(*args).code == 0
    monkeypatch.setattr(ZeroPhase, "declared_bytes", 2**40)
    result = run_cli(*args[:3], tmp_path / "p.wav", *args[4:])
    assert result.code == 2 and result.err.count("\n") == 1, result
    assert "largest step: phase retrieval" in result.err and NAME in result.err
    assert not (tmp_path / "p.wav").exists()


@pytest.mark.parametrize("value", ["loud", "nan", "1e999"])
def test_a_wrong_value_is_one_line(registered, folder, tmp_path, value):
    result = run_cli("invert", folder / "tone.png", "-o", tmp_path / "o.wav", "--backend", NAME, "--gain", value)
    assert result.code == 2 and result.err.count("\n") == 1, result
    assert f"{NAME}: --gain must be a finite number" in result.err
    result = run_cli("bench", folder / "tone.wav", "--backends", f"{NAME}:gain={value}", "--out", tmp_path / "b")
    assert result.code == 2 and result.err.count("\n") == 1, result
    assert f"{NAME}: --gain must be a finite number" in result.err
    assert not (tmp_path / "b").exists()


def test_an_option_it_does_not_take_is_refused(registered, folder, tmp_path):
    result = run_cli("invert", folder / "tone.png", "-o", tmp_path / "o.wav", "--backend", NAME, "--iters", "3")
    assert result.code == 2 and f"backend '{NAME}' does not take --iters (it takes: --gain)" in result.err


def test_registration_refuses_a_taken_name_and_a_backend_without_a_working_set(registered):
    with pytest.raises(ValueError, match="already registered"):
        registry.register(NAME, ZeroPhase)

    @dataclass
    class Unbounded(Inverter):
        name: ClassVar[str] = "unbounded-test"
        summary: ClassVar[str] = "declares no working set"

    with pytest.raises(TypeError, match="declares no working_set"):
        registry.register("unbounded-test", Unbounded)
    assert "unbounded-test" not in registry.BACKENDS

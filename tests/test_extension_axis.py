"""A new frequency axis is one class and one registration: this file adds a toy
axis and nothing else, and `encode`, `info`, `invert`, the memory budget and
the option checks all take it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import soundfile as sf
import torch

from conftest import SAMPLES, run_cli
from vocoder.frontend.filterbank import AxisOption, FrequencyAxis, register_axis, unregister_axis, whole_number
from vocoder.safety.text import shown
from vocoder.safety.untrusted import is_whole


@dataclass(frozen=True)
class QuadraticAxis(FrequencyAxis):
    """``bands`` triangles whose centres grow with the square of their index,
    up to Nyquist: a toy stand-in for a Bark- or ERB-like axis."""

    kind: ClassVar[str] = "quadratic"
    options: ClassVar[tuple[AxisOption, ...]] = (
        AxisOption("--quad-bands", "bands", whole_number, "N", "quadratic bands"),)

    bands: int

    def problems(self, spec):
        if not is_whole(self.bands) or not 2 <= self.bands <= spec.n_stft_bins // 4:
            yield f"a quadratic axis needs bands in 2..{spec.n_stft_bins // 4} (got {shown(self.bands)})"

    def n_rows(self, spec):
        return self.bands

    def centre_frequencies(self, spec):
        return spec.sample_rate / 2 * (np.arange(1, self.bands + 1) / self.bands) ** 2

    def describe(self, spec):
        return f"quadratic, {self.bands} bands up to {spec.sample_rate / 2:g} Hz"

    def matrix(self, spec):
        centres = self.centre_frequencies(spec)
        spacing = spec.sample_rate / spec.n_fft
        edges = np.concatenate([[0.0], centres, [centres[-1] + spacing]])
        freqs = np.arange(spec.n_stft_bins) * spacing
        rows = [np.interp(freqs, [min(edges[k], edges[k + 1] - spacing), edges[k + 1],
                                  max(edges[k + 2], edges[k + 1] + spacing)], [0.0, 1.0, 0.0])
                for k in range(self.bands)]
        return torch.from_numpy(np.array(rows))


@pytest.fixture
def quadratic():
    register_axis(QuadraticAxis)
    yield QuadraticAxis
    unregister_axis("quadratic")


@pytest.fixture
def clip(tmp_path):
    data, rate = sf.read(SAMPLES / "LJ001-0006.wav", dtype="int16")
    path = tmp_path / "clip.wav"
    sf.write(path, data[rate: rate + rate // 2], rate, subtype="PCM_16")
    return path


def _one_line_error(result, fragment):
    assert result.code == 2 and result.err.count("\n") == 1 and fragment in result.err, result


def test_encode_info_and_invert_go_through_the_registered_axis(quadratic, clip, tmp_path):
    png, wav = tmp_path / "q.png", tmp_path / "q.wav"
    result = run_cli("encode", clip, "-o", png, "--scale", "quadratic", "--quad-bands", "24")
    assert result.code == 0, result
    metadata = json.loads(run_cli("info", "--json", png).out)
    assert metadata["spec"]["axis"] == {"kind": "quadratic", "bands": 24}
    info = run_cli("info", png)
    assert info.code == 0 and "quadratic, 24 bands up to 11025 Hz" in info.out, info
    result = run_cli("invert", png, "-o", wav, "--backend", "fgla", "--iters", "2")
    assert result.code == 0, result
    record = json.loads((tmp_path / "q.wav.json").read_text())
    step = record["steps"][-1]
    assert step["step"] == "quadratic_to_linear" and step["relative_residual"] < 1e-2
    assert sf.info(wav).frames == 11025


def test_the_memory_estimate_includes_the_axis_inverse_cost(quadratic, clip, tmp_path, monkeypatch):
    png = tmp_path / "q.png"
    assert run_cli("encode", clip, "-o", png, "--scale", "quadratic", "--quad-bands", "24").code == 0
    monkeypatch.setattr(QuadraticAxis, "inverse_cost", lambda self, spec, channels, frames: float(2**50))
    result = run_cli("invert", png, "-o", tmp_path / "q.wav", "--backend", "fgla", "--max-memory", "64G")
    _one_line_error(result, "quadratic → linear")
    assert not (tmp_path / "q.wav").exists()


@pytest.mark.parametrize("value, fragment", [
    ("many", "argument --quad-bands: expected a whole number, got 'many'"),
    ("1", "a quadratic axis needs bands in 2..128 (got 1)"),
])
def test_a_bad_value_of_its_option_is_one_line(quadratic, clip, tmp_path, value, fragment):
    result = run_cli("encode", clip, "-o", tmp_path / "q.png", "--scale", "quadratic", "--quad-bands", value)
    _one_line_error(result, fragment)
    assert not (tmp_path / "q.png").exists()


def test_its_option_is_refused_on_another_axis_and_gone_once_unregistered(clip, tmp_path):
    register_axis(QuadraticAxis)
    try:
        _one_line_error(run_cli("encode", clip, "-o", tmp_path / "q.png", "--quad-bands", "24"),
                        "a linear axis takes no --quad-bands (an option of the quadratic axis")
        assert run_cli("encode", clip, "-o", tmp_path / "q.png", "--scale", "quadratic", "--quad-bands",
                       "24").code == 0
    finally:
        unregister_axis("quadratic")
    _one_line_error(run_cli("encode", clip, "-o", tmp_path / "x.png", "--scale", "quadratic"), "invalid choice")
    _one_line_error(run_cli("invert", tmp_path / "q.png", "-o", tmp_path / "q.wav"),
                    "unknown frequency axis 'quadratic'")

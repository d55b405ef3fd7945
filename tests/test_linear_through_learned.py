"""A linear picture through a learned model: the model's mel is made from it
(recorded), and the model's output is put back under the given magnitude."""

from __future__ import annotations

import json

import pytest
import torch

from conftest import PROJECT, SAMPLES, run_cli
from vocoder.frontend.audio import audio_to_spectrogram, read_audio, resample
from vocoder.frontend.model_features import obstacles, to_model_features
from vocoder.spec import get_preset
from vocoder.spec_overrides import SpecOverrides, effective_spec

TINY = PROJECT / "checkpoints" / "hifigan_tiny" / "hifigan_tiny-100batches.safetensors"
MEL = get_preset("hifigan")


@pytest.fixture(scope="module")
def speech():
    return resample(read_audio(SAMPLES / "LJ001-0006.wav"), MEL.sample_rate)


def _log_mel_error(made, truth) -> float:
    def log(x):
        return torch.log(torch.clamp(x, min=MEL.log_floor))

    return float((log(made.magnitude) - log(truth.magnitude)).abs().mean())


def test_the_models_mel_made_from_a_linear_spectrogram_is_the_one_made_from_the_audio(speech):
    truth = audio_to_spectrogram(speech, MEL)
    same_framing = effective_spec("hifigan", SpecOverrides(scale="linear"))
    made = to_model_features(audio_to_spectrogram(speech, same_framing), MEL)
    assert made.spec == MEL and made.magnitude.shape == truth.magnitude.shape
    assert _log_mel_error(made, truth) < 1e-3
    # the linear preset centres its frames half a hop earlier: interpolated, and said so
    shifted = to_model_features(audio_to_spectrogram(speech, get_preset("linear")), MEL)
    assert shifted.magnitude.shape == truth.magnitude.shape
    assert _log_mel_error(shifted, truth) < 0.2
    assert "+0.5 input frames" in shifted.provenance[-1]["frame_shift"]


def test_another_framing_cannot_be_converted():
    assert obstacles(get_preset("bigvgan-24k"), MEL) and not obstacles(get_preset("linear"), MEL)


@pytest.fixture(scope="module")
def linear_png(tmp_path_factory):
    out = tmp_path_factory.mktemp("linear") / "speech.png"
    assert run_cli("encode", SAMPLES / "LJ001-0006.wav", "-o", out, "--preset", "linear").code == 0
    return out


def _invert(png, out, *more):
    result = run_cli("invert", png, "-o", out, "--backend", "learned", "--checkpoint", TINY, *more)
    assert result.code == 0, result
    return result, json.loads(out.with_name(out.name + ".json").read_text())


def test_a_linear_png_goes_through_a_learned_model_and_back_onto_its_magnitude(tmp_path, linear_png):
    result, record = _invert(linear_png, tmp_path / "projected.wav")
    _, bare = _invert(linear_png, tmp_path / "bare.wav", "--projection-iters", "0")
    assert [s["step"] for s in record["steps"]][-1] == "to_model_features"
    assert record["backend"]["input_spec"]["axis"]["kind"] == "mel"
    converted = record["backend"]["parameters"]["converted_input"]
    assert "linear spectrogram" in converted["input"] and "32 projections" in converted["projection"]
    assert "none" in bare["backend"]["parameters"]["converted_input"]["projection"]
    assert record["learned_model"]["weights_sha256"] and "made by" in result.err
    # measured against the linear input it was given: the projection pulls the output onto it
    assert record["fidelity_vs_input"]["domain"] == "linear"
    assert record["fidelity_vs_input"]["consistency_db"] < bare["fidelity_vs_input"]["consistency_db"] - 3


def test_a_linear_png_composes_with_band(tmp_path, linear_png):
    _, record = _invert(linear_png, tmp_path / "band.wav", "--backend", "learned>band", "--projection-iters", "2")
    first, band = record["backend"]["parameters"]["stages"]
    assert "2 projections" in first["found"]["projection"]
    assert band["found"]["band_hz"] == [0.0, MEL.sample_rate / 2] and band["found"]["removed_outside_band"] == 0

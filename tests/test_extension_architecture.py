"""A new architecture is one generator class, one declaration and one registration.

Everything an architecture needs lives in this file (a toy generator of a
few hundred parameters and its declaration), registered for this module
only. Without any other file touched, `vocoder fit` trains it with the existing
discriminators and losses, its checkpoint goes through
`vocoder export`, the generic `learned` backend inverts a mel picture with
it, `vocoder models` lists it, the memory budget uses its declared figure,
and a config with a bad value is refused in one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from torch import nn

from conftest import SAMPLES, run_cli
from vocoder.errors import VocoderError
from vocoder.inversion.base import LEARNED_OUTPUT_STATEMENT
from vocoder.models.architecture import Architecture
from vocoder.models.norm import weight_normed
from vocoder.safety.text import shown

RATE, HOP, BANDS = 22050, 256, 80  # the hifigan preset's rate, hop and mel bands
TINY_DISCRIMINATORS = {
    "mpd": {"class_path": "vocoder.models.MultiPeriodDiscriminator",
            "init_args": {"periods": [2], "channels": [2, 2, 2, 2, 2]}},
    "msd": {"class_path": "vocoder.models.MultiScaleDiscriminator",
            "init_args": {"scales": 1, "channels": [2, 2, 2, 2, 2, 2, 2]}},
}


class ToyGenerator(nn.Module):
    """Log-mel → waveform: a 1×1 convolution from the bands to a few channels
    (weight norm on, as a trainable generator has), then a transposed
    convolution by the hop."""

    def __init__(self, in_channels: int, channels: int = 2, hop: int = HOP):
        super().__init__()
        self.in_channels, self.channels, self.hop = in_channels, channels, hop
        self.conv = weight_normed(nn.Conv1d(in_channels, channels, 1))
        self.up = nn.ConvTranspose1d(channels, 1, hop, stride=hop)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.up(self.conv(mel)))

    def config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "channels": self.channels, "hop": self.hop}


class Toy(Architecture):
    name = "toy"
    summary = "toy generator of the extension test (one convolution, one transposed convolution; no paper)"
    generator = ToyGenerator
    LIMITS = {"in_channels": 1024, "channels": 64, "hop": 4096}

    def check_config(self, config: Any) -> dict[str, Any]:
        if not isinstance(config, dict) or set(config) != set(self.LIMITS):
            raise VocoderError(f"a toy config holds {', '.join(self.LIMITS)} (got {shown(config)})")
        for key, most in self.LIMITS.items():
            value = config[key]
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
                raise VocoderError(f"toy {key} must be a whole number in 1..{most} (got {shown(value)})")
        return dict(config)

    def bands(self, config: dict[str, Any]) -> int:
        return config["in_channels"]

    def hop_length(self, config: dict[str, Any]) -> int:
        return config["hop"]

    def parameters(self, config: dict[str, Any]) -> int:
        c = config["channels"]
        return config["in_channels"] * c + c + c * config["hop"] + 1

    def activations(self, config: dict[str, Any], channels: int, frames: int) -> float:
        # The features, the convolution's output and the waveform, float32.
        return 4 * channels * frames * (config["in_channels"] + config["channels"] + config["hop"])

    def describe(self, config: dict[str, Any]) -> str:
        return f"toy ({config['channels']} channels, hop {config['hop']})"


@pytest.fixture(scope="module")
def toy():
    from vocoder.models import registry

    architecture = Toy()
    registry.register(architecture)
    yield architecture
    registry.unregister(Toy.name)


def toy_config(folder: Path, **trainer: Any) -> Path:
    """A training config naming the toy generator, tiny discriminators and two short clips."""
    clips = folder / "clips"
    clips.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(2):
        sf.write(clips / f"c{i}.wav", (0.1 * rng.standard_normal(RATE // 2)).astype(np.float32), RATE)
    config = {"model": {"generator": {"class_path": f"{__name__}.ToyGenerator", "init_args": {"channels": 2}},
                        **TINY_DISCRIMINATORS, "log_audio": 0},
              "data": {"data_dir": str(clips), "segment": 1024, "batch_size": 1, "val_count": 1},
              "trainer": {"accelerator": "cpu", "devices": 1, "logger": False, "enable_progress_bar": False,
                          "enable_model_summary": False, "num_sanity_val_steps": 0, **trainer}}
    path = folder / "toy.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def files(toy, tmp_path_factory) -> Path:
    """A mel picture of the bundled speech, and a toy training checkpoint from
    one batch of a real `vocoder fit` (the existing discriminators and losses)."""
    folder = tmp_path_factory.mktemp("toy")
    speech, rate = sf.read(SAMPLES / "LJ001-0006.wav", dtype="float32")
    sf.write(folder / "short.wav", speech[: rate // 2], rate)
    assert run_cli("encode", folder / "short.wav", "-o", folder / "mel.png", "--preset", "hifigan").code == 0
    config = toy_config(folder, max_steps=1, limit_val_batches=0)
    result = run_cli("fit", "--config", config, "--run", "toy", "--checkpoint_root", folder / "runs")
    assert result.code == 0, result
    return folder


@pytest.fixture(scope="module")
def exported(files) -> Path:
    result = run_cli("export", files / "runs" / "toy" / "last.ckpt", "-o", files / "toy.safetensors", "--name", "toy-test",
                     "--training-data", "nothing (untrained)", "--licence", "CC0")
    assert result.code == 0, result
    return files / "toy.safetensors"


def test_the_training_checkpoint_names_the_architecture(files):
    meta = torch.load(files / "runs" / "toy" / "last.ckpt", weights_only=True)["vocoder"]
    assert meta["architecture"] == "toy" and meta["config"] == {"in_channels": BANDS, "channels": 2, "hop": HOP}
    assert meta["trained_batches"] == 1


def test_export_writes_a_model_file_and_card_described_by_the_declaration(toy, exported):
    from vocoder.models.store import read_model_file

    meta, state = read_model_file(str(exported))
    assert meta["architecture"] == "toy" and meta["name"] == "toy-test"
    assert "conv.weight" in state and not any("parametrizations" in k for k in state)  # weight norm folded
    config = meta["config"]
    generator = toy.fold(toy.build(config))  # the inference form, as the card counts it
    assert toy.parameters(config) == sum(p.numel() for p in generator.parameters()) == 675
    card = Path(f"{exported}.md").read_text()
    assert "toy (2 channels, hop 256) (`toy`), 675 parameters" in card and "CC0" in card


def test_the_learned_backend_inverts_with_it_and_says_so(files, exported):
    out = files / "out.wav"
    result = run_cli("invert", files / "mel.png", "-o", out, "--backend", "learned", "--checkpoint", exported)
    assert result.code == 0, result
    record = json.loads(Path(f"{out}.json").read_text())
    assert record["backend"]["name"] == "learned" and record["backend"]["parameters"]["architecture"] == "toy"
    learned = record["learned_model"]
    assert learned["name"] == "toy-test" and learned["architecture"] == "toy (2 channels, hop 256)"
    assert learned["training_data"] == "nothing (untrained)" and learned["statement"] == LEARNED_OUTPUT_STATEMENT
    assert "toy-test" in result.err and "may contain sound" in result.err
    audio, rate = sf.read(out)
    assert rate == RATE and audio.shape[0] == RATE // 2 and np.abs(audio).max() > 0


def test_the_hifigan_name_refuses_another_architecture(files, exported):
    result = run_cli("invert", files / "mel.png", "-o", files / "x.wav", "--backend", "hifigan",
                     "--checkpoint", exported)
    assert result.code == 2 and result.err.count("\n") == 1, result
    assert "holds a toy model" in result.err and "--backend learned" in result.err
    assert not (files / "x.wav").exists()


def test_models_lists_the_architecture(toy):
    result = run_cli("models")
    assert result.code == 0, result
    assert f"toy           {Toy.summary}" in result.out and "hifigan " in result.out


def test_the_budget_uses_the_declared_activations(toy, files, exported, monkeypatch):
    monkeypatch.setattr(Toy, "activations", lambda self, config, channels, frames: 2.0**45)
    out = files / "huge.wav"
    result = run_cli("invert", files / "mel.png", "-o", out, "--backend", "learned", "--checkpoint", exported,
                     "--max-memory", "8G")
    assert result.code == 2 and result.err.count("\n") == 1, result
    assert "needs about" in result.err and "phase retrieval" in result.err and not out.exists()


def test_training_estimates_from_the_declaration(toy, tmp_path, monkeypatch):
    """`vocoder validate` on a config naming the toy generator: its declared
    activations decide the validation step; a huge figure is refused."""
    path = toy_config(tmp_path)
    monkeypatch.setattr(Toy, "activations", lambda self, config, channels, frames: 2.0**45)
    result = run_cli("validate", "--config", path, "--max-memory", "8G")
    assert result.code == 2 and result.err.count("\n") == 1, result
    assert "needs about" in result.err and "validation on the longest clip" in result.err


@pytest.mark.parametrize("value, message", [
    (2.5, "toy channels must be a whole number in 1..64 (got 2.5)"),
    (10**9, "toy channels must be a whole number in 1..64 (got 1000000000)"),  # gigabytes of weights
    ("2", "toy channels must be a whole number in 1..64 (got '2')"),
    (float("nan"), "NaN is not a JSON number"),  # refused before any declaration sees it
])
def test_a_config_with_a_bad_value_is_refused_in_one_line(files, exported, value, message):
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(exported), framework="pt") as fh:
        meta = json.loads(fh.metadata()["vocoder"])
        state = {key: fh.get_tensor(key) for key in fh.keys()}
    meta["config"]["channels"] = value
    bad = files / "bad.safetensors"
    save_file(state, str(bad), metadata={"vocoder": json.dumps(meta)})
    result = run_cli("invert", files / "mel.png", "-o", files / "bad.wav", "--backend", "learned",
                     "--checkpoint", bad)
    assert result.code == 2 and result.err.count("\n") == 1, result
    assert result.err.startswith(f"vocoder: error: {bad}") and message in result.err, result

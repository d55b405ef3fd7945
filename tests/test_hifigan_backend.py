"""The `hifigan` backend: checkpoints and exports, spec checks, refusing pickles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from conftest import SAMPLES, run_cli
from test_training import clips, fit  # noqa: F401  (fixture)

SPEECH = SAMPLES / "LJ001-0006.wav"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, clips) -> Path:  # noqa: F811
    tmp = tmp_path_factory.mktemp("hifigan")
    result = fit(tmp, clips, "backend", max_steps=1, val_check_interval=1, limit_val_batches=1)
    assert result.code == 0, result
    return tmp / "ckpt" / "backend" / "last.ckpt"


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("encoded")
    out = {}
    for preset in ("hifigan", "bigvgan-24k"):
        out[preset] = folder / f"{preset}.png"
        assert run_cli("encode", SPEECH, "-o", out[preset], "--preset", preset).code == 0
    return out


def test_export_then_load_gives_identical_audio(tmp_path, checkpoint, encoded):
    from vocoder.frontend.image import image_to_spectrogram
    from vocoder.frontend.picture import read_picture
    from vocoder.inversion import create

    exported = tmp_path / "model.safetensors"
    result = run_cli("export", checkpoint, "-o", exported)
    assert result.code == 0, result
    assert exported.read_bytes()[8:9] == b"{"  # safetensors: length + JSON header, no pickle
    spectrogram = image_to_spectrogram(read_picture(str(encoded["hifigan"])), None, None, False, "x")
    from_ckpt = create("hifigan", checkpoint=str(checkpoint))
    from_export = create("hifigan", checkpoint=str(exported))
    a = from_ckpt.invert(from_ckpt.prepare(spectrogram))
    b = from_export.invert(from_export.prepare(spectrogram))
    assert a.shape == (1, spectrogram.length) and a.abs().max() > 0
    assert torch.equal(a, b)
    assert from_export.fixed_spec() == from_ckpt.fixed_spec()


def test_invert_cli_with_a_checkpoint_writes_audio_and_a_record(tmp_path, checkpoint, encoded):
    out = tmp_path / "speech.wav"
    result = run_cli("invert", encoded["hifigan"], "-o", out, "--backend", "hifigan", "--checkpoint", checkpoint)
    assert result.code == 0, result
    record = json.loads((tmp_path / "speech.wav.json").read_text())
    assert record["backend"]["name"] == "hifigan"
    assert record["backend"]["parameters"]["checkpoint_sha256"]
    assert record["backend"]["parameters"]["generator"]["in_channels"] == 80


def test_a_plain_picture_is_mapped_onto_the_models_spec(tmp_path, checkpoint):
    out = tmp_path / "text.wav"
    result = run_cli("invert", SAMPLES / "text.png", "-o", out, "--backend", "hifigan", "--checkpoint", checkpoint,
                     "--duration", "0.5")
    assert result.code == 0, result
    assert json.loads((tmp_path / "text.wav.json").read_text())["spec"]["axis"]["n_mels"] == 80


def test_another_spec_is_refused_naming_the_difference(tmp_path, checkpoint, encoded):
    out = tmp_path / "x.wav"
    result = run_cli("invert", encoded["bigvgan-24k"], "-o", out, "--backend", "hifigan", "--checkpoint", checkpoint)
    assert result.code == 2
    assert "axis.n_mels: 80 vs 100" in result.err and "sample_rate: 22050 vs 24000" in result.err
    assert result.err.count("\n") == 1 and not out.exists()


class Planted:
    """Unpickling this would create a file: the test proves it never happens."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_checkpoint_with_a_pickled_object_is_refused_not_run(tmp_path, checkpoint):
    marker = tmp_path / "code-ran"
    bad = tmp_path / "bad.ckpt"
    good = torch.load(checkpoint, weights_only=True)
    good["hyper_parameters"] = {"payload": Planted(marker)}
    torch.save(good, bad)
    out = tmp_path / "x.wav"
    result = run_cli("invert", SAMPLES / "text.png", "-o", out, "--backend", "hifigan", "--checkpoint", bad)
    assert result.code == 2, result
    assert "refusing" in result.err and "pickled Python objects" in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert not marker.exists() and not out.exists()
    assert run_cli("export", bad, "-o", tmp_path / "m.safetensors").code == 2
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize("args,message", [
    ((), "needs --checkpoint"),
    (("--checkpoint", "/nonexistent.ckpt"), "checkpoint not found"),
])
def test_user_errors_are_one_line(tmp_path, args, message):
    out = tmp_path / "x.wav"
    result = run_cli("invert", SAMPLES / "text.png", "-o", out, "--backend", "hifigan", *args)
    assert result.code == 2 and message in result.err and not out.exists(), result


def test_classical_backends_refuse_a_checkpoint(tmp_path):
    result = run_cli("invert", SAMPLES / "text.png", "-o", tmp_path / "x.wav", "--checkpoint", "m.ckpt")
    assert result.code == 2 and "does not take --checkpoint" in result.err


def test_a_random_file_is_not_a_checkpoint(tmp_path):
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint at all")
    result = run_cli("invert", SAMPLES / "text.png", "-o", tmp_path / "x.wav", "--backend", "hifigan",
                     "--checkpoint", junk)
    assert result.code == 2 and "junk.ckpt is not a PyTorch checkpoint" in result.err, result

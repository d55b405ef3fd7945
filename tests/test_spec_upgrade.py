"""Files written before the axis was nested (flat ``scale``, ``n_mels``, ``fmin``, ...)
still read, through the one upgrade (``spec.upgrade_flat_axis``); real old files
are in tests/fixtures/old_format (README there: which commit made them)."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from conftest import PROJECT, SAMPLES, run_cli
from vocoder.errors import VocoderError
from vocoder.frontend.filterbank import LogAxis
from vocoder.frontend.picture import read_picture
from vocoder.spec import PRESETS, SpectrogramSpec, upgrade_flat_axis

OLD = PROJECT / "tests" / "fixtures" / "old_format"
TINY_MODEL = PROJECT / "checkpoints" / "hifigan_tiny" / "hifigan_tiny-100batches.safetensors"


def _metadata(png) -> dict:
    result = run_cli("info", "--json", png)
    assert result.code == 0, result
    return json.loads(result.out)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """The clip the old PNGs were made of: the sample's first 0.5 s, 16-bit PCM."""
    data, rate = sf.read(SAMPLES / "LJ001-0006.wav", dtype="int16")
    path = tmp_path_factory.mktemp("clip") / "axes_short.wav"
    sf.write(path, data[: rate // 2], rate, subtype="PCM_16")
    return path


@pytest.mark.parametrize("name, args, expected", [
    ("hifigan_flat_spec.png", ("--preset", "hifigan"), PRESETS["hifigan"]),
    ("log_flat_spec.png", ("--scale", "log", "--bands-per-octave", "12", "--fmin", "50"),
     SpectrogramSpec(sample_rate=22050, n_fft=1024, hop_length=256, win_length=1024,
                     axis=LogAxis(bands_per_octave=12, fmin=50.0))),
])
def test_an_old_png_reads_as_the_same_spec_and_pixels_as_a_new_one(clip, tmp_path, name, args, expected):
    old = _metadata(OLD / name)
    assert "scale" in old["spec"] and "axis" not in old["spec"]  # the file really is in the flat form
    assert SpectrogramSpec.from_dict(old["spec"]) == expected
    new_png = tmp_path / "new.png"
    assert run_cli("encode", clip, "-o", new_png, *args).code == 0
    new = _metadata(new_png)
    assert new["spec"]["axis"]["kind"] == expected.axis.kind and "scale" not in new["spec"]
    assert SpectrogramSpec.from_dict(new["spec"]) == expected
    assert (read_picture(str(OLD / name)).pixels == read_picture(str(new_png)).pixels).all()


def test_an_old_png_and_record_invert_and_describe(tmp_path):
    info = run_cli("info", OLD / "hifigan_flat_spec.png")
    assert "mel, 80 bands (slaney scale, slaney norm, librosa), 0 Hz to 8000 Hz" in info.out, info
    result = run_cli("invert", OLD / "hifigan_flat_spec.png", "-o", tmp_path / "a.wav", "--iters", "2")
    assert result.code == 0, result
    record = json.loads((tmp_path / "a.wav.json").read_text())
    old_record = json.loads((OLD / "fgla_record_flat_spec.json").read_text())
    assert SpectrogramSpec.from_dict(record["spec"]) == SpectrogramSpec.from_dict(old_record["spec"])
    assert SpectrogramSpec.from_dict(old_record["backend"]["input_spec"]) == PRESETS["hifigan"].as_linear()


@pytest.mark.parametrize("model", [OLD / "tiny_flat_spec.ckpt", TINY_MODEL], ids=["training-checkpoint", "model-file"])
def test_old_model_files_load_and_invert(tmp_path, model):
    from vocoder.models.store import load_file

    assert load_file(model).spec == PRESETS["hifigan"]
    result = run_cli("invert", OLD / "hifigan_flat_spec.png", "-o", tmp_path / "m.wav", "--backend", "hifigan",
                     "--checkpoint", model)
    assert result.code == 0, result


FLAT_MEL = {"sample_rate": 22050, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "scale": "mel",
            "n_mels": 80, "fmin": 0.0, "fmax": 8000.0, "mel_scale": "slaney", "mel_norm": "slaney",
            "mel_filterbank": "librosa", "bands_per_octave": None}


def test_the_upgrade_moves_the_axis_fields_and_keeps_the_rest():
    upgraded = upgrade_flat_axis({**FLAT_MEL, "log_floor": 1e-5})
    assert upgraded == {"sample_rate": 22050, "n_fft": 1024, "hop_length": 256, "win_length": 1024,
                        "log_floor": 1e-5, "axis": {"kind": "mel", "n_mels": 80, "fmin": 0.0, "fmax": 8000.0,
                                                    "mel_scale": "slaney", "mel_norm": "slaney",
                                                    "mel_filterbank": "librosa"}}
    linear = {k: v for k, v in FLAT_MEL.items() if k not in ("scale", "n_mels")}
    linear.update(fmax=None, mel_scale=None, mel_norm=None, mel_filterbank=None)
    assert upgrade_flat_axis(linear)["axis"] == {"kind": "linear"}  # no scale: the old default, linear


@pytest.mark.parametrize("data, fragment", [
    ({**FLAT_MEL, "axis": {"kind": "mel", "n_mels": 80}}, "gives its axis twice"),
    ({**PRESETS["linear"].to_dict(), "n_mels": 80}, "gives its axis twice"),
    ({**FLAT_MEL, "bands_per_octave": 12}, "contradicts itself: a mel axis takes no bands_per_octave 12"),
    ({**FLAT_MEL, "scale": "linear"}, "a linear axis takes no n_mels 80, fmax 8000.0, mel_scale 'slaney'"),
    ({**FLAT_MEL, "scale": "bark"}, "scale must be one of linear, mel, log"),
])
def test_a_spec_with_both_forms_or_contradicting_itself_is_one_line(data, fragment):
    with pytest.raises(VocoderError, match=None) as caught:
        SpectrogramSpec.from_dict(data)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)

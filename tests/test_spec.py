import dataclasses
import json

import pytest

from vocoder.errors import VocoderError
from vocoder.frontend.filterbank import LinearAxis, MelAxis
from vocoder.spec import PRESETS, SpectrogramSpec, get_preset

# The reference table of the design brief, column by column ("axis.NAME": a field of the axis).
BRIEF = {
    "hifigan": {"sample_rate": 22050, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "axis.n_mels": 80,
                "axis.fmin": 0.0, "axis.fmax": 8000.0, "axis.mel_scale": "slaney", "axis.mel_norm": "slaney",
                "log_floor": 1e-5, "padding": "same", "axis.mel_filterbank": "librosa"},
    "bigvgan-24k": {"sample_rate": 24000, "n_fft": 1024, "hop_length": 256, "win_length": 1024,
                    "axis.n_mels": 100, "axis.fmin": 0.0, "axis.fmax": 12000.0, "axis.mel_scale": "slaney",
                    "axis.mel_norm": "slaney", "log_floor": 1e-5, "padding": "same"},
    "vocos-24k": {"sample_rate": 24000, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "axis.n_mels": 100,
                  "axis.fmin": 0.0, "axis.fmax": 12000.0, "axis.mel_scale": "htk", "axis.mel_norm": None,
                  "log_floor": 1e-7, "padding": "center"},
    "linear": {"sample_rate": 22050, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "axis": LinearAxis(),
               "padding": "center"},
}


@pytest.mark.parametrize("name", BRIEF)
def test_presets_match_the_brief(name):
    spec = get_preset(name)
    for field, value in BRIEF[name].items():
        owner, _, leaf = field.rpartition(".")
        assert getattr(spec.axis if owner else spec, leaf) == value, field
    assert spec.window == "hann" and spec.pad_mode == "reflect"


def test_linear_preset_has_513_bins_up_to_nyquist():
    spec = PRESETS["linear"]
    assert spec.n_bins == 513 and spec.axis.band(spec) == (0.0, 11025)


@pytest.mark.parametrize("name", PRESETS)
def test_json_round_trip(name):
    spec = PRESETS[name]
    text = spec.to_json()
    assert SpectrogramSpec.from_json(text) == spec
    assert json.loads(text)["sample_rate"] == spec.sample_rate


def test_spec_is_frozen_and_hashable():
    spec = PRESETS["hifigan"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.hop_length = 128  # type: ignore[misc]
    assert {spec: 1}[PRESETS["hifigan"]] == 1


@pytest.mark.parametrize("change, message", [
    (dict(hop_length=2048), "hop_length"),
    (dict(win_length=4096), "win_length"),
    (dict(window="kaiser"), "window"),
    (dict(padding="valid"), "padding"),
    (dict(log_floor=0.0), "log_floor"),
    (dict(axis="mel"), "axis must be a frequency axis"),
])
def test_invalid_specs_are_refused_with_the_field_named(change, message):
    with pytest.raises(VocoderError, match=message):
        dataclasses.replace(PRESETS["hifigan"], **change)


@pytest.mark.parametrize("change, message", [
    (dict(fmax=20000.0), "Nyquist"),
    (dict(fmin=float("nan")), "fmin must be a number"),
    (dict(n_mels=None), "n_mels"),
    (dict(n_mels=600), "n_mels, a whole number in 1..n_fft//2"),
    (dict(n_mels=80.0), "n_mels"),
    (dict(mel_scale="bark"), "mel_scale"),
    (dict(mel_norm=1), "mel_norm"),
    (dict(mel_filterbank="scipy"), "mel_filterbank"),
])
def test_invalid_mel_axes_are_refused_with_the_field_named(change, message):
    spec = PRESETS["hifigan"]
    with pytest.raises(VocoderError, match=message) as caught:
        dataclasses.replace(spec, axis=dataclasses.replace(spec.axis, **change))
    assert "\n" not in str(caught.value)


def test_a_new_mel_axis_gets_hifigans_recipe():
    assert MelAxis(n_mels=64) == MelAxis(n_mels=64, fmin=0.0, fmax=None, mel_scale="slaney", mel_norm="slaney",
                                         mel_filterbank="librosa")


def test_from_dict_refuses_unknown_and_missing_fields():
    data = PRESETS["linear"].to_dict()
    with pytest.raises(VocoderError, match="unknown"):
        SpectrogramSpec.from_dict({**data, "colour": "blue"})
    del data["n_fft"]
    with pytest.raises(VocoderError, match="incomplete"):
        SpectrogramSpec.from_dict(data)
    with pytest.raises(VocoderError, match="not valid JSON"):
        SpectrogramSpec.from_json("{nope")


def test_unknown_preset_lists_the_choices():
    with pytest.raises(VocoderError, match="hifigan"):
        get_preset("hifi-gan")


@pytest.mark.parametrize("name", PRESETS)
def test_frame_count_conventions(name):
    spec = PRESETS[name]
    n = 256 * 100
    if spec.padding == "same":
        assert spec.n_frames(n) == 100  # HiFi-GAN: frames * hop == samples
    else:
        assert spec.n_frames(n) == 101  # torch.stft(center=True): 1 + n // hop
    assert spec.n_samples(spec.n_frames(n)) == n


def test_differences_name_the_fields():
    diff = PRESETS["hifigan"].differences(PRESETS["bigvgan-24k"])
    assert "axis.n_mels: 80 vs 100" in diff
    assert any(d.startswith("sample_rate") for d in diff)
    assert not any(d.startswith("n_fft") for d in diff)

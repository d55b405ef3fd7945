import dataclasses
import json

import pytest

from vocoder.errors import VocoderError
from vocoder.spec import PRESETS, SpectrogramSpec, get_preset

# The reference table of the design brief, column by column.
BRIEF = {
    "hifigan": dict(sample_rate=22050, n_fft=1024, hop_length=256, win_length=1024, n_mels=80, fmin=0.0,
                    fmax=8000.0, mel_scale="slaney", mel_norm="slaney", log_floor=1e-5, padding="same",
                    mel_filterbank="librosa"),
    "bigvgan-24k": dict(sample_rate=24000, n_fft=1024, hop_length=256, win_length=1024, n_mels=100, fmin=0.0,
                        fmax=12000.0, mel_scale="slaney", mel_norm="slaney", log_floor=1e-5, padding="same"),
    "vocos-24k": dict(sample_rate=24000, n_fft=1024, hop_length=256, win_length=1024, n_mels=100, fmin=0.0,
                      fmax=12000.0, mel_scale="htk", mel_norm=None, log_floor=1e-7, padding="center"),
    "linear": dict(sample_rate=22050, n_fft=1024, hop_length=256, win_length=1024, n_mels=None, fmin=0.0,
                   fmax=None, scale="linear", padding="center"),
}


@pytest.mark.parametrize("name", BRIEF)
def test_presets_match_the_brief(name):
    spec = get_preset(name)
    for field, value in BRIEF[name].items():
        assert getattr(spec, field) == value, field
    assert spec.window == "hann" and spec.pad_mode == "reflect"


def test_linear_preset_has_513_bins_up_to_nyquist():
    spec = PRESETS["linear"]
    assert spec.n_bins == 513 and spec.f_max == 11025


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
    (dict(fmax=20000.0), "Nyquist"),
    (dict(n_mels=None), "n_mels"),
    (dict(mel_scale="bark"), "mel_scale"),
    (dict(mel_filterbank="scipy"), "mel_filterbank"),
    (dict(window="kaiser"), "window"),
    (dict(padding="valid"), "padding"),
    (dict(log_floor=0.0), "log_floor"),
])
def test_invalid_specs_are_refused_with_the_field_named(change, message):
    with pytest.raises(VocoderError, match=message):
        dataclasses.replace(PRESETS["hifigan"], **change)


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
    assert any(d.startswith("n_mels") for d in diff)
    assert any(d.startswith("sample_rate") for d in diff)
    assert not any(d.startswith("n_fft") for d in diff)

"""mel-gd: a waveform fitted to the mel target by Adam from pghi+fgla's start."""

import pytest
import torch

from conftest import SAMPLES
from vocoder.errors import VocoderError
from vocoder.frontend.audio import audio_to_spectrogram, read_audio
from vocoder.inversion import create
from vocoder.models.losses import LogMel
from vocoder.spec import PRESETS


def test_descent_moves_the_log_mel_closer_than_its_start():
    import dataclasses

    clip = read_audio(SAMPLES / "LJ001-0006.wav")
    clip = dataclasses.replace(clip, samples=clip.samples[:, : 2 * clip.sample_rate])  # 2 s keeps it quick
    mel = audio_to_spectrogram(clip, PRESETS["hifigan"])
    target = torch.log(torch.clamp(mel.magnitude, min=mel.spec.log_floor))
    log_mel = LogMel(mel.spec)

    def distance(backend) -> float:
        return float(torch.nn.functional.l1_loss(log_mel(backend.invert(backend.prepare(mel))), target))

    start = distance(create("mel-gd", iters=0, fgla_iters=16))
    fitted = distance(create("mel-gd", iters=20, fgla_iters=16))
    # The start (pghi+fgla) matches the NNLS linear magnitude, not the mel;
    # 25 Adam steps on the mel itself must close a good part of that gap.
    assert fitted < 0.8 * start, (fitted, start)


def test_linear_specs_and_bad_options_are_refused_in_one_line():
    linear = audio_to_spectrogram(read_audio(SAMPLES / "LJ001-0006.wav"), PRESETS["linear"])
    with pytest.raises(VocoderError, match="mel spectrograms only") as info:
        create("mel-gd").prepare(linear)
    assert "\n" not in str(info.value)
    with pytest.raises(VocoderError, match="lr"):
        create("mel-gd", lr=0)

"""mel-gd: a waveform fitted to the mel target by Adam from pghi+fgla's start."""

import dataclasses

import pytest
import torch

from conftest import SAMPLES
from vocoder.errors import VocoderError
from vocoder.frontend.audio import audio_to_spectrogram, read_audio
from vocoder.inversion import create
from vocoder.inversion.mel_gd import fit_waveform
from vocoder.models.losses import LogMel
from vocoder.spec import PRESETS


def _half_second_mel():
    clip = read_audio(SAMPLES / "LJ001-0006.wav")
    clip = dataclasses.replace(clip, samples=clip.samples[:, : clip.sample_rate // 2])  # 0.5 s: the NNLS is the slow part
    return clip, audio_to_spectrogram(clip, PRESETS["hifigan"])


def test_the_recording_a_mel_came_from_scores_nearly_zero_on_the_loss():
    """mel-gd's objective (fit_waveform's loss: L1 between log-mels, in the
    target's own band), evaluated at the true waveform against the mel made
    from it, before any step. Fitted up to Nyquist instead (an old bug,
    0-11 kHz against a 0-8 kHz target), it scored 0.95."""
    clip, mel = _half_second_mel()
    waveform, losses = fit_waveform(clip.samples, mel, 0)
    assert len(losses) == 1 and losses[0] < 1e-3, losses
    assert torch.equal(waveform, clip.samples)  # no step taken: the loss is the truth's own


def test_descent_moves_the_log_mel_closer_than_its_start():
    clip, mel = _half_second_mel()
    start_backend = create("pghi+fgla", iters=16)  # mel-gd's start, with one NNLS for the test
    start = start_backend.invert(start_backend.prepare(mel))
    fitted, losses = fit_waveform(start, mel, 40)
    target = torch.log(torch.clamp(mel.magnitude, min=mel.spec.log_floor))
    distance = float(torch.nn.functional.l1_loss(LogMel(mel.spec, fmax=mel.spec.axis.fmax)(fitted), target))
    assert distance == pytest.approx(losses[-1], rel=1e-5)
    # The start matches the NNLS linear magnitude, not the mel; 40 Adam steps
    # on the mel itself must close a good part of that gap (at the default
    # step, Adam's first steps add noise: the loss rises, then falls).
    assert losses[-1] < 0.8 * losses[0], losses


def test_linear_specs_and_bad_options_are_refused_in_one_line():
    linear = audio_to_spectrogram(read_audio(SAMPLES / "LJ001-0006.wav"), PRESETS["linear"])
    with pytest.raises(VocoderError, match="mel spectrograms only") as info:
        create("mel-gd").prepare(linear)
    assert "\n" not in str(info.value)
    with pytest.raises(VocoderError, match="lr"):
        create("mel-gd", lr=0)


def test_listed_as_classical_and_records_its_start():
    from vocoder.describe import backend_rows

    row = next(r for r in backend_rows() if r["name"] == "mel-gd")
    assert not row["learned"]
    assert "NNLS" in create("mel-gd").parameters()["start"]

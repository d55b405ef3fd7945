"""The one inversion core: a spectrogram and an inverter → the waveform, its
level, and its checks against the input, for `invert` (whole or block-wise)
and `bench`.

A whole-signal run goes through :func:`invert_whole`; a block-wise run
(``vocoder.streaming``) inverts, levels and checks a block at a time, since
it never holds the whole waveform, and hands what it found to the same
:class:`Inverted`, so both paths reach one record builder with the same
sections. `bench` uses :func:`run` (it measures against reference audio, not
against its input, and writes the waveform unscaled).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from vocoder.errors import VocoderError
from vocoder.evaluation.deviation import Deviation, deviation
from vocoder.evaluation.fidelity import ESTIMATE, Spectra, against_input
from vocoder.frontend.audiofile import AudioFormat, decode_audio, encode_audio, lost_signal
from vocoder.inversion.base import Inverter
from vocoder.spectrogram import Spectrogram

# Peak level for audio from a picture with no absolute level (-1 dBFS).
PICTURE_PEAK = 10 ** (-1 / 20)
# Largest peak written unscaled to 16-bit PCM; louder output is scaled down.
CLIP_PEAK = 0.999

SELF_CHECK = "the spectrogram as decoded from the picture: a self-check of the inversion"


@dataclass(frozen=True)
class Run:
    """One inversion: the backend's input (its steps say how it was prepared),
    the waveform (channels × samples, unscaled) and the wall-clock seconds of
    preparing and inverting."""

    prepared: Spectrogram
    waveform: torch.Tensor
    seconds: float


def run(inverter: Inverter, spectrogram: Spectrogram) -> Run:
    """Prepare (e.g. mel → linear) and invert, timed."""
    started = time.perf_counter()
    prepared = inverter.prepare(spectrogram)
    waveform = inverter.invert(prepared)
    return Run(prepared, waveform, time.perf_counter() - started)


@dataclass(frozen=True)
class Inverted:
    """What the record says of an inversion, whole or block-wise."""

    prepared: Spectrogram  # the backend's input; a block-wise run's has no frames, only its spec and steps
    channels: int
    samples: int
    level: dict[str, Any]  # level_rule's record
    fidelity: dict[str, Any]  # fidelity_vs_input
    seconds: float
    warnings: list[str]  # what the output lost without the user asking (digital silence)
    deviation: Deviation | None = None  # the output against the input, cell by cell (--deviation-map)


def level_rule(peak: float, absolute: bool) -> tuple[float, dict[str, Any]]:
    """The output's gain for its ``peak``, and what the record says of it.

    With an absolute level (our own PNGs) only clipping is prevented; a
    picture has no level, so it is peak-normalised to -1 dBFS.
    """
    if peak == 0.0:
        return 1.0, {"rule": "silent output left as is", "gain_db": 0.0, "peak_before": 0.0}
    if absolute:
        target = min(peak, CLIP_PEAK)
        rule = "absolute level kept; scaled down only if it would clip 16-bit PCM"
    else:
        target = PICTURE_PEAK
        rule = "picture has no absolute level: peak-normalised to -1 dBFS"
    gain = target / peak
    return gain, {"rule": rule, "gain_db": float(20 * np.log10(gain)), "peak_before": peak}


def check_finite(samples: torch.Tensor | np.ndarray) -> None:
    finite = torch.isfinite(samples).all() if isinstance(samples, torch.Tensor) else np.isfinite(samples).all()
    if not finite:
        raise VocoderError("the inversion produced non-finite samples; this is a bug, please report it")


def invert_whole(inverter: Inverter, spectrogram: Spectrogram, absolute_level: bool, audio_format: AudioFormat,
                 name: str, deviation_map: bool = False) -> tuple[bytes, Inverted]:
    """The whole spectrogram inverted, levelled and encoded as ``audio_format``;
    the self-check measures the samples the file holds (after its quantisation
    or coding) against the input, divided by the gain (the energies are
    relative to the input's level). ``name`` names the output in warnings."""
    result = run(inverter, spectrogram)
    check_finite(result.waveform)
    waveform = result.waveform
    peak = float(waveform.abs().max()) if waveform.numel() else 0.0
    gain, level = level_rule(peak, absolute_level)
    sample_rate = result.prepared.spec.sample_rate
    audio = encode_audio(waveform * gain, sample_rate, audio_format)
    decoded = decode_audio(audio)[:, :waveform.shape[1]]
    decoded = np.pad(decoded, ((0, 0), (0, waveform.shape[1] - decoded.shape[1])))  # a codec's short tail
    written = torch.from_numpy(decoded).to(waveform.dtype)
    spectra = Spectra({ESTIMATE: written / gain})  # the output's transforms, for the self-check and the map
    fidelity = {**against_input(spectrogram, written / gain, spectra), "measured_against": (
        f"{SELF_CHECK} (the samples the file holds, after its {audio_format.description} quantisation), not "
        "evidence that the picture was decoded right (the preview shows the decoding)")}
    lost = lost_signal(name, float(np.abs(decoded).max(initial=0.0)), peak * gain, audio_format)
    departure = deviation(spectrogram, written / gain, spectra) if deviation_map else None
    return audio, Inverted(result.prepared, int(waveform.shape[0]), int(waveform.shape[1]), level, fidelity,
                           result.seconds, [lost] if lost else [], departure)


def blockwise_fidelity(domain: str, consistency_db: float | None, audio_format: AudioFormat) -> dict[str, Any]:
    """``fidelity_vs_input`` of a block-wise run: the consistency it measured a block at a time."""
    return {"domain": domain, "consistency_db": consistency_db,
            "not_measured": "hallucinated, missing and out-of-band energy are measured on whole-signal runs only",
            "measured_against": f"{SELF_CHECK} (the samples the file holds, after its {audio_format.description} "
                                "quantisation)"}

"""Audio files ↔ waveforms ↔ spectrograms."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from vocoder.errors import VocoderError
from vocoder.frontend import stft as stft_ops
from vocoder.provenance.hashing import sha256_file
from vocoder.safety.outputs import open_input
from vocoder.safety.text import brief
from vocoder.safety.untrusted import sniff
from vocoder.spec import MAX_SAMPLE_RATE, SpectrogramSpec
from vocoder.spectrogram import Spectrogram


@dataclass
class Audio:
    """A waveform (channels × samples, float32 in [-1, 1]) and where it came from."""

    samples: torch.Tensor
    sample_rate: int
    provenance: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class AudioHeader:
    """What an audio file's header declares: all the memory budget needs."""

    frames: int
    channels: int
    sample_rate: int


# More channels than this is a multitrack session or a broken header, not a recording to look at.
MAX_CHANNELS = 64


def audio_info(path: str | os.PathLike) -> AudioHeader:
    """The header of a wav/flac/ogg file, checked, without reading samples."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise VocoderError(f"audio file not found: {path}")
    if os.path.getsize(path) == 0:
        raise VocoderError(f"audio file {path} is empty (0 bytes)")
    try:
        with open_input(path) as fh:  # soundfile cannot open a name that is not UTF-8; a file object works
            info = sf.info(fh)
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError, OSError) as exc:
        kind = sniff(path)
        if kind and "audio" not in kind:
            raise VocoderError(f"{path} is not audio: its content is {kind}") from None
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise VocoderError(f"cannot read audio {path}: {brief(detail)}") from None
    if not 1 <= info.samplerate <= MAX_SAMPLE_RATE:
        raise VocoderError(f"audio file {path} declares a sample rate of {info.samplerate} Hz, outside "
                           f"1..{MAX_SAMPLE_RATE}")
    if not 1 <= info.channels <= MAX_CHANNELS:
        raise VocoderError(f"audio file {path} declares {info.channels} channels (vocoder reads 1..{MAX_CHANNELS})")
    if not 0 <= info.frames < 2**40:
        raise VocoderError(f"audio file {path} declares {info.frames} samples: a broken or hostile header")
    return AudioHeader(int(info.frames), int(info.channels), int(info.samplerate))


def read_audio(path: str | os.PathLike) -> Audio:
    """Read wav/flac/ogg with soundfile, refusing empty, silent or non-finite audio."""
    path = os.fspath(path)
    header = audio_info(path)
    try:
        with open_input(path) as fh:
            data, rate = sf.read(fh, dtype="float32", always_2d=True, frames=header.frames)
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError, OSError, MemoryError) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise VocoderError(f"cannot read audio {path}: {brief(detail)}") from None
    if data.size == 0:
        raise VocoderError(f"audio file {path} holds no samples")
    if not np.isfinite(data).all():
        raise VocoderError(f"audio file {path} holds NaN or infinite samples")
    if not np.any(data):
        raise VocoderError(f"audio file {path} is silent (every sample is zero): there is nothing to analyse")
    samples = torch.from_numpy(np.ascontiguousarray(data.T))
    record = {
        "step": "read_audio", "path": path, "sha256": sha256_file(path),
        "sample_rate": int(rate), "channels": int(samples.shape[0]), "samples": int(samples.shape[1]),
    }
    return Audio(samples, int(rate), [record])


def resample(audio: Audio, sample_rate: int) -> Audio:
    """Band-limited sinc resampling (torchaudio), recorded when it happens."""
    if audio.sample_rate == sample_rate:
        return audio
    out = AF.resample(audio.samples, audio.sample_rate, sample_rate)
    step = {
        "step": "resample", "from_rate": audio.sample_rate, "to_rate": sample_rate,
        "method": "torchaudio.functional.resample (windowed sinc, hann, lowpass_filter_width=6, rolloff=0.99)",
    }
    return Audio(out, sample_rate, audio.provenance + [step])


def check_length(n_samples: int, spec: SpectrogramSpec, what: str = "audio") -> None:
    """Refuse a waveform too short for the spec's STFT (at least one full frame)."""
    if n_samples < spec.min_samples() or n_samples < spec.n_fft:
        raise VocoderError(f"{what} is too short for the STFT: {n_samples} samples at {spec.sample_rate} Hz, "
                           f"the spec needs at least {max(spec.n_fft, spec.min_samples())}")


def audio_to_spectrogram(audio: Audio, spec: SpectrogramSpec) -> Spectrogram:
    """Magnitude spectrogram of ``audio`` under ``spec`` (resampling if needed).

    Stereo stays two channels. For a mel or log spec the magnitudes are the
    axis's filterbank applied to |STFT| (power 1), as HiFi-GAN, BigVGAN and
    Vocos do for mel.
    """
    audio = resample(audio, spec.sample_rate)
    n = audio.samples.shape[-1]
    check_length(n, spec)
    mag = stft_ops.magnitude(audio.samples, spec)
    mag = spec.axis.forward(spec, mag)
    return Spectrogram(
        magnitude=mag.contiguous(), spec=spec, n_samples=n,
        provenance=tuple(audio.provenance) + ({"step": "stft", "spec": spec.to_dict()},),
    )

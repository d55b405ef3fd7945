"""Audio files ↔ waveforms ↔ spectrograms."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import soundfile as sf

from vocoder import costs
from vocoder.errors import VocoderError
from vocoder.provenance.hashing import sha256_file
from vocoder.safety.budget import Estimate
from vocoder.safety.outputs import existing_input, open_input
from vocoder.safety.text import brief
from vocoder.safety.untrusted import sniff
from vocoder.spec import MAX_SAMPLE_RATE, SpectrogramSpec
from vocoder.spectrogram import Spectrogram

if TYPE_CHECKING:  # torch loads when samples are read: `info` asks only the header
    import torch


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
    existing_input(path, "audio file")
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


def read_samples(path: str | os.PathLike, dtype: str = "float32",
                 estimate: Estimate | None = None) -> tuple[np.ndarray, AudioHeader]:
    """(frames × channels samples, the header) of a wav/flac/ogg file, refusing
    empty or non-finite audio. What reading holds, counted from the header and
    added to ``estimate`` (the caller's job besides), must pass the memory cap
    before a sample is read, so no caller can read first and estimate after."""
    path = os.fspath(path)
    header = audio_info(path)
    job = estimate or Estimate(f"reading {os.path.basename(path)} ({header.frames:,} samples)")
    job.add("reading the audio", costs.audio_read(header.channels, header.frames, np.dtype(dtype).itemsize))
    job.check()
    try:
        with open_input(path) as fh:
            data, _ = sf.read(fh, dtype=dtype, always_2d=True, frames=header.frames)
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError, OSError, MemoryError) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise VocoderError(f"cannot read audio {path}: {brief(detail)}") from None
    if data.size == 0:
        raise VocoderError(f"audio file {path} holds no samples")
    if not np.isfinite(data).all():
        raise VocoderError(f"audio file {path} holds NaN or infinite samples")
    return data, header


def read_audio(path: str | os.PathLike, estimate: Estimate | None = None) -> Audio:
    """Read wav/flac/ogg with soundfile (after the memory check of
    :func:`read_samples`), refusing empty, silent or non-finite audio."""
    path = os.fspath(path)
    data, header = read_samples(path, "float32", estimate)
    rate = header.sample_rate
    if not np.any(data):
        raise VocoderError(f"audio file {path} is silent (every sample is zero): there is nothing to analyse")
    import torch

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
    import torchaudio.functional as AF

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
    from vocoder.frontend import stft as stft_ops

    audio = resample(audio, spec.sample_rate)
    n = audio.samples.shape[-1]
    check_length(n, spec)
    mag = stft_ops.magnitude(audio.samples, spec)
    mag = spec.axis.forward(spec, mag)
    return Spectrogram(
        magnitude=mag.contiguous(), spec=spec, n_samples=n,
        provenance=tuple(audio.provenance) + ({"step": "stft", "spec": spec.to_dict()},),
    )

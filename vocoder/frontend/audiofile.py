"""Audio files out: the format follows the file's extension, and the bytes
depend on the samples only, so a rerun writes the same file.

libsndfile puts two run-dependent things in its files: a float WAV's PEAK
chunk carries the time of writing, and an Ogg stream's serial number is
random. The first chunk is dropped (it is optional: peaks are a cache of
what the samples say); the second is set to a constant, with each page's
checksum recomputed.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vocoder.errors import VocoderError
from vocoder.safety.text import printable

if TYPE_CHECKING:  # soundfile and torch load where a file is written: `backends` and `info` read AUDIO_SUFFIXES only
    import soundfile as sf
    import torch


@dataclass(frozen=True)
class AudioFormat:
    container: str  # libsndfile major format
    subtype: str
    description: str  # what the record says


FORMATS = {
    ".wav": AudioFormat("WAV", "PCM_16", "WAV, 16-bit PCM"),
    ".flac": AudioFormat("FLAC", "PCM_16", "FLAC, 16-bit (lossless)"),
    ".ogg": AudioFormat("OGG", "VORBIS", "Ogg Vorbis (lossy)"),
}
# The formats vocoder reads and writes (read_audio is tested on them); folders are searched for these.
AUDIO_SUFFIXES = tuple(FORMATS)
# Bench keeps outputs unscaled so every number can be recomputed from them.
FLOAT_WAV = AudioFormat("WAV", "FLOAT", "WAV, 32-bit float (unscaled, for exact recomputation)")
# Any constant will do; one logical stream per file needs no uniqueness.
OGG_SERIAL = 0x766F636F  # "voco"


# `sonify` writes 32-bit float WAV only: its round trip through `desonify` is exact (frontend/sonify.py).
SONIFY_FORMATS = {".wav": FLOAT_WAV}


def output_format(path: str | os.PathLike, formats: dict[str, AudioFormat] = FORMATS,
                  writer: str = "vocoder") -> AudioFormat:
    """The format a file name asks for among those ``writer`` writes, or a
    one-line refusal: the bytes written always match the name."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in formats:
        raise VocoderError(f"cannot tell which audio format {printable(os.fspath(path))} should be: {writer} writes "
                           f"{', '.join(formats)} (the extension decides), got {printable(suffix) or 'no extension'}")
    return formats[suffix]


def encode_audio(samples: torch.Tensor | np.ndarray, sample_rate: int, fmt: AudioFormat) -> bytes:
    """(channels × samples) → the bytes of a ``fmt`` file."""
    import soundfile as sf
    import torch  # here, not above: `info` on audio reads AUDIO_SUFFIXES only

    data = samples.detach().cpu().numpy() if isinstance(samples, torch.Tensor) else np.asarray(samples)
    buffer = io.BytesIO()
    sf.write(buffer, np.ascontiguousarray(data.T), sample_rate, format=fmt.container, subtype=fmt.subtype)
    raw = buffer.getvalue()
    if fmt.container == "WAV":
        return _without_riff_chunk(raw, b"PEAK")
    if fmt.container == "OGG":
        return _with_ogg_serial(raw, OGG_SERIAL)
    return raw


def decode_audio(data: bytes) -> np.ndarray:
    """The samples an audio file's bytes hold (channels × samples, float64):
    what a listener gets, after the format's quantisation or coding."""
    import soundfile as sf

    samples, _ = sf.read(io.BytesIO(data), dtype="float64", always_2d=True)
    return samples.T


def as_written(samples: torch.Tensor | np.ndarray, sample_rate: int, fmt: AudioFormat) -> np.ndarray:
    """``samples`` as a ``fmt`` file holds them (encoded and decoded again)."""
    return decode_audio(encode_audio(samples, sample_rate, fmt))


def lost_signal(name: str, written_peak: float, peak_before: float, fmt: AudioFormat) -> str | None:
    """A one-line warning when the file holds nothing of the signal (digital
    silence, or no more than one step of a 16-bit format, which libsndfile's
    rounding leaves as ±1 noise), saying whether the format's resolution or
    the input lost it; None otherwise."""
    step = 2.0**-15 if fmt.subtype == "PCM_16" else 0.0
    if written_peak > step:
        return None
    if peak_before <= 0:
        return f"{name} is silent: the input held no signal (an all-black picture?)"
    held = "digital silence" if written_peak == 0 else "nothing but one quantisation step (±1)"
    return (f"{name} holds {held}: the signal's peak ({20 * np.log10(peak_before):.0f} dBFS) is below what "
            f"{fmt.description} resolves")


def open_stream(path: str | os.PathLike, sample_rate: int, channels: int, fmt: AudioFormat) -> sf.SoundFile:
    """A ``fmt`` file written a block of (samples × channels) at a time, for
    output too long to hold: 16-bit WAV and FLAC only, whose bytes need no
    fixing afterwards (no PEAK chunk, no stream serial)."""
    import soundfile as sf

    if fmt not in (FORMATS[".wav"], FORMATS[".flac"]):
        raise VocoderError(f"audio written a block at a time is .wav or .flac, not {fmt.description}")
    return sf.SoundFile(path, "w", samplerate=sample_rate, channels=channels, format=fmt.container,
                        subtype=fmt.subtype)


def _without_riff_chunk(data: bytes, kind: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    chunks, position = [], 12
    while position + 8 <= len(data):
        name, size = data[position:position + 4], struct.unpack("<I", data[position + 4:position + 8])[0]
        end = position + 8 + size + (size & 1)  # chunks are padded to even length
        if name != kind:
            chunks.append(data[position:end])
        position = end
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _ogg_crc_table() -> list[int]:
    # Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0
    # (RFC 3533 section 6, "CRC_checksum").
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_OGG_CRC = _ogg_crc_table()


def _ogg_crc(page: bytes) -> int:
    crc = 0
    for byte in page:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _OGG_CRC[((crc >> 24) ^ byte) & 0xFF]
    return crc


def _with_ogg_serial(data: bytes, serial: int) -> bytes:
    """Every page's bitstream serial set to ``serial``, checksums redone
    (RFC 3533 section 6: the page header layout)."""
    out, position = bytearray(), 0
    while position < len(data):
        if data[position:position + 4] != b"OggS" or position + 27 > len(data):
            raise ValueError("not an Ogg page where one was expected")
        segments = data[position + 26]
        table = data[position + 27:position + 27 + segments]
        end = position + 27 + segments + sum(table)
        page = bytearray(data[position:end])
        page[14:18] = struct.pack("<I", serial)
        page[22:26] = b"\0\0\0\0"
        page[22:26] = struct.pack("<I", _ogg_crc(page))
        out += page
        position = end
    return bytes(out)

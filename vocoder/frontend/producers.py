"""Pictures made by known spectrogram programs, read by their own conventions.

A producer writes its parameters into the file (Riffusion: EXIF tags); from
them we know the spec, how brightness maps to amplitude, which planes hold
which channel, and the duration. Like our own embedded metadata, this is a
claim from the file, recorded as such, and the pixels are then decoded by the
ordinary picture chain with those options.

One entry per producer in PRODUCERS: ``recognise(picture)`` says whether the
file is one of its own, ``read(picture)`` returns the spec and options. Add a
producer by adding a class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from vocoder.errors import VocoderError
from vocoder.frontend.filterbank import MelAxis
from vocoder.frontend.picture import Picture
from vocoder.frontend.picture_options import PictureOptions
from vocoder.spec import SpectrogramSpec


@dataclass(frozen=True)
class ProducerReading:
    producer: str
    spec: SpectrogramSpec
    options: PictureOptions
    claims: dict[str, Any]  # the producer's own parameters, as read from the file
    n_samples: int | None  # waveform length the producer's frames describe


class Producer(Protocol):
    name: str

    def recognise(self, picture: Picture) -> bool: ...

    def read(self, picture: Picture) -> ProducerReading: ...


class Riffusion:
    """Riffusion (Forsgren & Martiros 2022; riffusion 0.0.5 ``SpectrogramParams``
    and ``image_util``): a torchaudio mel spectrogram (HTK scale, no norm, Hann
    window of ``window_duration_ms`` zero-padded to ``padded_duration_ms``,
    centred frames every ``step_size_ms``), each value divided by the maximum,
    raised to ``power_for_image``, and drawn as 255 − 255·v truncated to 8 bits
    (dark is loud); mono is grey, stereo puts left in G and right in B; the
    lowest frequency is the bottom row. Parameters are EXIF tags 11000–11080.
    """

    name = "riffusion"
    # riffusion.spectrogram_params.SpectrogramParams.ExifTags
    TAGS = {"sample_rate": 11000, "stereo": 11005, "step_size_ms": 11010, "window_duration_ms": 11020,
            "padded_duration_ms": 11030, "num_frequencies": 11040, "min_frequency": 11050,
            "max_frequency": 11060, "power_for_image": 11070, "max_value": 11080}
    REQUIRED = ("sample_rate", "step_size_ms", "window_duration_ms", "padded_duration_ms", "num_frequencies",
                "min_frequency", "max_frequency", "power_for_image")

    def recognise(self, picture: Picture) -> bool:
        return all(self.TAGS[k] in picture.exif for k in self.REQUIRED)

    def _number(self, picture: Picture, key: str, default: float | None = None) -> float:
        value = picture.exif.get(self.TAGS[key], default)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                value = None
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise VocoderError(f"Riffusion EXIF tag {key} ({self.TAGS[key]}) is not a finite number: {value!r}")
        return float(value)

    def read(self, picture: Picture) -> ProducerReading:
        claims = {k: picture.exif[t] for k, t in self.TAGS.items() if t in picture.exif}
        sr = self._number(picture, "sample_rate")
        if not (1000 <= sr <= 384000 and sr == int(sr)):
            raise VocoderError(f"Riffusion EXIF sample_rate {sr:g} Hz is not a plausible audio rate")
        sr = int(sr)
        # SpectrogramParams.n_fft / win_length / hop_length: int(ms / 1000 * sample_rate)
        n_fft, win, hop = (int(self._number(picture, k) / 1000.0 * sr)
                           for k in ("padded_duration_ms", "window_duration_ms", "step_size_ms"))
        power = self._number(picture, "power_for_image")
        if not 0 < power <= 10:
            raise VocoderError(f"Riffusion EXIF power_for_image {power:g} is outside (0, 10]")
        max_value = self._number(picture, "max_value", 0.0)
        stereo = bool(self._number(picture, "stereo", 0))
        if stereo and not picture.bands.startswith("RGB"):
            raise VocoderError("the Riffusion tags say stereo (left in G, right in B) but the picture is greyscale")
        spec = SpectrogramSpec(
            sample_rate=sr, n_fft=n_fft, hop_length=hop, win_length=win, window="hann", padding="center",
            pad_mode="reflect",
            axis=MelAxis(n_mels=int(self._number(picture, "num_frequencies")),
                         fmin=self._number(picture, "min_frequency"), fmax=self._number(picture, "max_frequency"),
                         mel_scale="htk", mel_norm=None, mel_filterbank="torchaudio"),
        )
        if picture.height != spec.n_bins:
            raise VocoderError(f"the picture is {picture.height} rows tall but its Riffusion tags say "
                               f"{spec.n_bins} frequencies: it was resized after it was made")
        # Riffusion's waveforms are int16-valued floats (pydub samples): max_value/32768 is the
        # full-scale amplitude of the loudest mel value, so the level can be restored.
        level = max_value / 32768.0 if max_value > 0 else None
        options = PictureOptions(
            planes=("g", "b") if stereo else ("r",), flip=True, mapping="power", power=power,
            dark_is_loud=True, quantisation="truncate", level_reference=level,
        )
        frames = picture.width
        return ProducerReading(self.name, spec, options, claims, spec.n_samples(frames))


PRODUCERS: tuple[Producer, ...] = (Riffusion(),)


def recognise(picture: Picture) -> ProducerReading | None:
    """The reading of the first producer that claims the picture, or None."""
    for producer in PRODUCERS:
        if producer.recognise(picture):
            return producer.read(picture)
    return None

"""Test patterns whose truth is known: spectrogram pictures to check any
backend and axis against.

`chirp`, `tones` and `grid` are synthesised as audio first (the truth), so
their picture is that audio's spectrogram and the bench can measure every
backend against the audio. `text` is drawn straight onto the spectrogram:
its truth is the picture itself (there is no waveform it came from), which
makes it the hardest case for phase recovery and a clear view of what each
backend invents.
"""

from __future__ import annotations

import numpy as np
import torch

from vocoder.errors import VocoderError
from vocoder.spec import SpectrogramSpec

KINDS = ("chirp", "tones", "grid", "text")
LEVEL = 0.5  # peak amplitude of synthesised patterns (−6 dBFS)


def _top(spec: SpectrogramSpec) -> float:
    return 0.9 * spec.axis.band(spec)[1]


def synthesise(kind: str, spec: SpectrogramSpec, seconds: float) -> np.ndarray:
    """The truth waveform of an audio pattern (1 × samples, float64)."""
    sr = spec.sample_rate
    t = np.arange(int(round(seconds * sr))) / sr
    low = max(spec.axis.band(spec)[0], 50.0)
    if kind == "chirp":  # exponential sweep low → 0.9·fmax: equal time per octave, a straight line on a log axis
        rate = np.log(_top(spec) / low) / seconds
        wave = np.sin(2 * np.pi * low * (np.exp(rate * t) - 1) / rate)
    elif kind == "tones":  # a 220 Hz harmonic series up to the top, 1/k amplitudes
        harmonics = [k for k in range(1, 64) if 220.0 * k < _top(spec)]
        wave = sum(np.sin(2 * np.pi * 220.0 * k * t) / k for k in harmonics)
    elif kind == "grid":  # steady tones at octaves (rows) and clicks every 0.5 s (columns)
        freqs = [f for f in (125, 250, 500, 1000, 2000, 4000, 8000, 16000) if low <= f < _top(spec)]
        wave = sum(np.sin(2 * np.pi * f * t) for f in freqs) / max(1, len(freqs)) ** 0.5
        clicks = np.zeros_like(t)
        clicks[(np.arange(0.25, seconds, 0.5) * sr).astype(int)] = len(freqs) ** 0.5
        wave = wave + clicks
    else:
        raise VocoderError(f"pattern {kind!r} has no waveform; choose one of {', '.join(KINDS[:-1])}")
    wave = np.asarray(wave, dtype=np.float64)
    return (LEVEL * wave / np.abs(wave).max())[None, :]


def draw_text(text: str, spec: SpectrogramSpec, frames: int) -> torch.Tensor:
    """Text drawn onto a bins × frames magnitude (1 inside the letters, 0 elsewhere), low bins at index 0."""
    from PIL import Image, ImageDraw, ImageFont

    bins = spec.n_bins
    try:
        font = ImageFont.load_default(size=64)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        font = ImageFont.load_default()
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text, font=font)
    glyphs = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(glyphs).text((2 - left, 2 - top), text, fill=255, font=font)
    # Stretched to 90 % of the duration and half the bands, centred: legible on any axis and length.
    width, height = max(1, int(0.9 * frames)), max(1, int(0.5 * bins))
    canvas = Image.new("L", (frames, bins), 0)
    canvas.paste(glyphs.resize((width, height), Image.Resampling.BILINEAR),
                 ((frames - width) // 2, (bins - height) // 2))
    pixels = np.asarray(canvas, dtype=np.float64)[::-1] / 255.0  # top of the picture = highest bin
    return torch.from_numpy(pixels.copy()).float().unsqueeze(0)

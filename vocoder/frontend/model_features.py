"""A spectrogram under another spec turned into a trained model's features:
a linear or log picture (or a mel framed otherwise) through a learned model.

Possible when both share the sample rate, FFT size, hop, window length and
window: the input's linear STFT magnitude (its axis's inverse; the identity
for a linear axis) is moved onto the model's frame positions, the model's
magnitude epsilon applied, and the model's filterbank applied, as the front
end makes the model's features from audio. Padding conventions differ only in
where frames sit: ``center`` puts frame k's centre at sample k·hop, ``same``
(HiFi-GAN's) half a hop later, so each model frame is interpolated linearly
between the two input frames around it. Everything is one recorded step.
"""

from __future__ import annotations

import dataclasses

import torch

from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

# What must agree for the conversion to be a resampling of frame positions
# and a filterbank, not a guess.
FRAMING = ("sample_rate", "n_fft", "hop_length", "win_length", "window", "gaussian_gamma", "kaiser_beta")


def obstacles(source: SpectrogramSpec, model: SpectrogramSpec) -> list[str]:
    """Why ``source`` cannot become ``model``'s features (empty: it can)."""
    return [f"{name}: {getattr(model, name)!r} vs {getattr(source, name)!r}" for name in FRAMING
            if getattr(source, name) != getattr(model, name)]


def to_model_features(spectrogram: Spectrogram, model: SpectrogramSpec,
                      linear: Spectrogram | None = None) -> Spectrogram:
    """``spectrogram`` (``obstacles`` empty) as ``model``'s features, with the step recorded.
    ``linear``: its axis's inverse, when the caller has it already."""
    source = spectrogram.spec
    if linear is None:
        linear = source.axis.inverse(spectrogram)  # a recorded step of its own where it is not the identity
    magnitude = linear.magnitude.to(torch.float64)
    n = spectrogram.length
    frames = model.n_frames(n)
    shift = (source.side_padding - model.side_padding) / model.hop_length  # model frame j ↔ input frame j + shift
    have = magnitude.shape[-1]
    positions = torch.clamp(torch.arange(frames, dtype=torch.float64) + shift, 0, have - 1)
    below = positions.floor().long()
    above = torch.clamp(below + 1, max=have - 1)
    weight = positions - below
    moved = magnitude[..., below] * (1 - weight) + magnitude[..., above] * weight
    if model.magnitude_eps:
        moved = torch.sqrt(moved.square() + model.magnitude_eps)
    features = model.axis.forward(model, moved).to(torch.float32)
    step = {"from": source.to_dict(), "to": "the model's spec",
            "rule": "input linear magnitude → model frame positions (linear interpolation) → "
                    f"sqrt(|X|² + {model.magnitude_eps:g}) → the model's {model.axis.kind} filterbank"}
    if shift:
        step["frame_shift"] = (f"model frames sit {shift:+g} input frames from the input's "
                               f"({source.padding} vs {model.padding} padding): interpolated")
    return dataclasses.replace(linear, magnitude=features, spec=model, n_samples=n,
                               provenance=linear.provenance + ({"step": "to_model_features", **step},))

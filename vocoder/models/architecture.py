"""What the rest of vocoder needs to know about a neural vocoder's generator.

One declaration per architecture (a subclass of :class:`Architecture`,
registered in :mod:`vocoder.models.registry`) answers every question the
model store, the memory budget, the published models, training and the
learned backend ask, so none of them names an architecture: how to check a
constructor config read from a file anyone can write, how to describe it,
how large it is and how much memory inference takes (both from the config,
before anything is built), what it consumes, and how its training form
(weight norm on) becomes its inference form.

A generator class needs ``config() -> dict``: its constructor's keyword
arguments as plain JSON values, so ``cls(**config)`` rebuilds it (with
weight norm on, the training form, if it uses any).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, ClassVar

import torch
from torch import nn

from vocoder.errors import VocoderError
from vocoder.models.norm import remove_weight_norm
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram


class Architecture(ABC):
    """One neural vocoder's generator, declared for the store, the budget, training and inference."""

    name: ClassVar[str]  # as model files and checkpoints record it ("hifigan")
    summary: ClassVar[str]  # one line naming the paper
    generator: ClassVar[type[nn.Module]]
    scale: ClassVar[str] = "mel"  # the spec axis whose log magnitudes it consumes
    default_layout: ClassVar[str | None] = None  # what training builds when its config names no generator

    # -- a config from a file ----------------------------------------------------------

    @abstractmethod
    def check_config(self, config: Any) -> dict[str, Any]:
        """A constructor config from a file anyone can write, as plain values; a
        wrong type, a value out of range, NaN/inf or a size that would ask for
        gigabytes raises one-line VocoderError naming the field."""

    @abstractmethod
    def bands(self, config: dict[str, Any]) -> int:
        """Input bands (rows of the spec's axis) the generator takes."""

    @abstractmethod
    def hop_length(self, config: dict[str, Any]) -> int:
        """Samples the generator makes per input frame."""

    @abstractmethod
    def parameters(self, config: dict[str, Any]) -> int:
        """Parameters of the inference generator (weight norm folded), counted from the config."""

    @abstractmethod
    def activations(self, config: dict[str, Any], channels: int, frames: int) -> float:
        """Bytes inference holds at its peak beyond the weights, for ``channels``
        spectrograms of ``frames`` frames (the memory budget's figure)."""

    def describe(self, config: dict[str, Any]) -> str:
        """A short name for this config in records, model cards and listings."""
        return self.name

    def layout(self, name: str, bands: int) -> dict[str, Any]:
        """A named published config (e.g. a paper's V1) for ``bands`` input bands."""
        raise VocoderError(f"architecture {self.name!r} has no named layout {name!r}")

    def fits(self, config: dict[str, Any], spec: SpectrogramSpec) -> str | None:
        """Why a (checked) config cannot consume ``spec``, or None when it can."""
        bands, hop = self.bands(config), self.hop_length(config)
        if bands != spec.n_bins or hop != spec.hop_length:
            return (f"the generator ({bands} bands, hop {hop}) does not fit its spec ({spec.n_bins} bands, "
                    f"hop {spec.hop_length})")
        return None

    def consumes(self, spec: SpectrogramSpec) -> str:
        """What the generator reads, in words: '80 log-mel bands at 22050 Hz'."""
        return f"{spec.n_bins} log-{self.scale} bands at {spec.sample_rate} Hz"

    # -- building and running -------------------------------------------------------

    def build(self, config: dict[str, Any]) -> nn.Module:
        """The generator in its training form (weight norm on, where it uses any)."""
        return self.generator(**config)

    def config_of(self, generator: nn.Module) -> dict[str, Any]:
        return generator.config()

    def fold(self, generator: nn.Module) -> nn.Module:
        """Training form → inference form: every weight-norm parametrisation folded."""
        remove_weight_norm(generator)
        return generator

    def features(self, spectrogram: Spectrogram) -> torch.Tensor:
        """What the generator reads: the spec's log features, channels as batch."""
        return spectrogram.log_features()

    def inference(self, generator: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        """The forward pass used for inversion (an architecture may supply a faster equal one)."""
        return generator

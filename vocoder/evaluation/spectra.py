"""Named waveforms and their STFT magnitudes, each transform computed once and
shared by every measure that asks for it (the metric catalogue, the self-check
against the input, the deviation map): its own module so that the catalogue
can use the deviation map, which uses it, without a cycle."""

from __future__ import annotations

import torch

from vocoder.frontend import stft as stft_ops
from vocoder.spec import SpectrogramSpec

REFERENCE, ESTIMATE = "reference", "estimate"


class Spectra:
    """Named waveforms (float64) and their STFT magnitudes, each computed once
    per framing and magnitude epsilon: a metric asks for the framing it
    needs and shares the transform with every other metric that needs it."""

    def __init__(self, signals: dict[str, torch.Tensor]):
        self.signals = {name: x.double() for name, x in signals.items()}
        self._magnitudes: dict[tuple, torch.Tensor] = {}
        self._own_domain: dict[tuple, torch.Tensor] = {}

    def magnitude(self, which: str, spec: SpectrogramSpec) -> torch.Tensor:
        """``stft_ops.magnitude`` of one signal under ``spec`` (only its framing and epsilon count)."""
        key = (which, spec.as_linear(), spec.magnitude_eps)
        if key not in self._magnitudes:
            self._magnitudes[key] = stft_ops.magnitude(self.signals[which], spec)
        return self._magnitudes[key]

    def own_domain_power(self, which: str, spec: SpectrogramSpec) -> torch.Tensor:
        """Power on ``spec``'s own axis (linear, mel or log rows)."""
        key = (which, spec)
        if key not in self._own_domain:
            self._own_domain[key] = spec.axis.forward(spec, self.magnitude(which, spec)) ** 2
        return self._own_domain[key]

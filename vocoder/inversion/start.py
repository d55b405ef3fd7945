"""Where an iterative backend starts: random or zero phase, or PGHI's.

Shared by the backends with an ``init`` option that includes ``pghi``
(``agla``, ``admm``): the spec check, the recorded parameters and the
starting phase itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vocoder.inversion.griffinlim import initial_phase
from vocoder.inversion.pghi import START_PHASE, gamma as pghi_gamma, pghi_phase
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

if TYPE_CHECKING:  # for annotations: the declaration (`vocoder backends`) loads no torch
    import torch


class StartsFromPhase:
    """Mixin for an Inverter dataclass with fields ``init``, ``tol`` and ``seed``."""

    def check_spec(self, spec: SpectrogramSpec) -> None:
        if self.init == "pghi":
            pghi_gamma(spec)  # PGHI's window rule

    def parameters(self) -> dict:
        params = super().parameters()
        if self.init == "pghi":
            params["start_phase"] = "PGHI's: " + START_PHASE
        else:
            del params["tol"]  # only PGHI's start reads it
        return params

    def start_phase(self, spectrogram: Spectrogram) -> torch.Tensor:
        if self.init == "pghi":
            return pghi_phase(spectrogram, self.tol, self.seed)
        return initial_phase(spectrogram.magnitude.shape, self.init, self.seed)

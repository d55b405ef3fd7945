"""Phase retrieval started from another stage's waveform: how ``fgla``,
``griffinlim``, ``pghi+fgla``, ``agla`` and ``admm`` refine (``A>fgla``).

The start waveform's own STFT phase replaces the backend's start (random,
zero or PGHI's). ``iters`` then counts projections onto the given magnitude:
``iters=0`` leaves the start as it is, ``iters=1`` puts the given magnitude
under the start's phase (one least-squares inverse STFT), and every further
one is one iteration of the backend's own loop. So ``X>fgla:iters=0`` is X,
and the refinement moves away from X only as far as its iterations take it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from vocoder.spectrogram import Spectrogram

if TYPE_CHECKING:  # the declaration (`vocoder backends`) loads no torch
    import torch

# Where the start's STFT is exactly zero its phase is undefined; 1 (phase 0)
# is what torch.polar of an all-zero angle gives, as fgla's zero init.
_UNIT = 1.0


def phase_of(waveform: torch.Tensor, spectrogram: Spectrogram) -> torch.Tensor:
    """Unit-modulus complex phase (channels × bins × frames) of ``waveform``'s
    STFT under ``spectrogram``'s (linear) framing, cut or padded to its frames."""
    import torch

    from vocoder.frontend.stft import stft

    X = stft(waveform.detach().to("cpu", torch.float32), spectrogram.spec)
    frames = spectrogram.magnitude.shape[-1]
    if X.shape[-1] < frames:
        X = torch.nn.functional.pad(X, (0, frames - X.shape[-1]))
    X = X[..., :frames]
    size = X.abs()
    return torch.where(size > 0, X / torch.clamp(size, min=torch.finfo(torch.float32).tiny),
                       torch.full_like(X, _UNIT))


class RefinesFromPhase:
    """Mixin for a phase-retrieval Inverter dataclass with an ``iters`` field
    whose ``invert_from`` starts with one projection onto the magnitude."""

    def refine(self, spectrogram: Spectrogram, start: torch.Tensor) -> torch.Tensor:
        if self.iters == 0:
            return start
        rest = dataclasses.replace(self, iters=self.iters - 1)  # the first projection is invert_from's start
        return rest.invert_from(spectrogram, phase_of(start, spectrogram))

    def refine_parameters(self) -> dict:
        """The record of this backend as a refinement: its own start's options
        (init, seed, PGHI's tol) play no part."""
        params = {k: v for k, v in self.parameters().items() if k not in _OWN_START}
        return {**params, "start": START}


# What a refinement's record says instead of the backend's own start.
START = ("the previous stage's waveform: its STFT phase replaces the backend's own start; iters counts "
         "projections onto the given magnitude (0: the previous stage's output unchanged)")
_OWN_START = ("init", "seed", "tol", "start_phase")

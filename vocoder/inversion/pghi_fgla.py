"""PGHI-initialised fast Griffin-Lim.

FGLA from random phase spends its first tens of iterations finding a phase
structure PGHI computes directly; starting from PGHI's phase it only refines.
The same FGLA loop as the ``fgla`` backend, given PGHI's phase as its start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from vocoder import costs
from vocoder.inversion.base import Inverter
from vocoder.inversion.griffinlim import check_options, fast_griffin_lim
from vocoder.inversion.pghi import START_PHASE, check_tol, gamma, pghi_phase
from vocoder.inversion.refining import RefinesFromPhase
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

if TYPE_CHECKING:  # for annotations: the declaration (`vocoder backends`) loads no torch
    import torch

# PGHI only has to give FGLA the phase of the coefficients that carry the
# energy; the quiet ones FGLA re-estimates within a few iterations. At 1e-3
# (−60 dB) PGHI takes 25–40% of its time at 1e-5 and FGLA reaches −30 dB in
# as many iterations (11 vs 12 on LJ001-0027 at redundancy 4, 2 at 8); at
# 1e-2 it needs 16 (experiments/classical-speed/results.md).
HYBRID_TOL = 1e-3


@dataclass
class PGHIFastGriffinLim(RefinesFromPhase, Inverter):
    name: ClassVar[str] = "pghi+fgla"
    summary: ClassVar[str] = ("fast Griffin-Lim started from PGHI's phase (--iters, --momentum, --tol); "
                              "classical, any spec with a gauss, hann, hamming or blackman window")

    iters: int = field(default=100, metadata={"help": "iterations"})
    # Perraudin, Balazs & Søndergaard 2013 recommend α = 0.99 (as for fgla).
    momentum: float = field(default=0.99, metadata={"help": "momentum α of the extrapolation (0 is Griffin-Lim)"})
    tol: float = field(default=HYBRID_TOL, metadata={"help": "coefficients below TOL × the peak get random phase"})
    seed: int = field(default=0, metadata={"help": "seed of the random phase"})

    def __post_init__(self) -> None:
        check_options(self.iters, self.momentum, "random")
        check_tol(self.tol)

    def check_spec(self, spec: SpectrogramSpec) -> None:
        gamma(spec)  # PGHI's window rule

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        # PGHI first; then FGLA's buffers with PGHI's phase held.
        return max(costs.pghi_buffers(channels, spec, frames, samples),
                   costs.fgla_buffers(channels, spec, frames, samples) + costs.spectra(1, channels, spec, frames))

    def parameters(self) -> dict:
        return {**super().parameters(), "start_phase": "PGHI's: " + START_PHASE}

    def start_phase(self, spectrogram: Spectrogram) -> torch.Tensor:
        return pghi_phase(spectrogram, self.tol, self.seed)

    def invert_from(self, spectrogram: Spectrogram, phase: torch.Tensor, callback=None) -> torch.Tensor:
        return fast_griffin_lim(spectrogram, self.iters, self.momentum, phase=phase, label="pghi+fgla",
                                callback=callback)

"""Griffin-Lim (Griffin & Lim 1984) and fast Griffin-Lim (Perraudin,
Balazs & Søndergaard 2013), batched over channels in torch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from tqdm.auto import tqdm

from vocoder.errors import VocoderError
from vocoder.frontend.stft import InverseSTFT, stft
from vocoder.inversion.base import Inverter
from vocoder.spectrogram import Spectrogram

# torchaudio's GriffinLim guards the phase normalisation with the same 1e-16.
_EPS = 1e-16


def initial_phase(shape: torch.Size, init: str, seed: int) -> torch.Tensor:
    """Unit-modulus complex phases: uniform random (seeded) or all zero."""
    if init == "zero":
        return torch.ones(shape, dtype=torch.complex64)
    generator = torch.Generator().manual_seed(seed)
    angle = torch.rand(shape, generator=generator, dtype=torch.float32) * (2 * math.pi)
    return torch.polar(torch.ones_like(angle), angle)


def fast_griffin_lim(spectrogram: Spectrogram, iters: int, momentum: float,
                     init: str = "random", seed: int = 0, progress: bool | None = None) -> torch.Tensor:
    """Phase retrieval for a linear magnitude; returns (channels × samples).

    Each iteration projects onto consistent spectrograms (iSTFT then STFT)
    and back onto the target magnitude; with ``momentum`` α > 0 the projection
    is extrapolated, t_n = c_n + α (c_n − c_{n−1}) (FGLA). α = 0 is plain
    Griffin-Lim.
    """
    spec = spectrogram.spec
    if spec.scale != "linear":
        raise ValueError("Griffin-Lim needs a linear magnitude; convert the mel first")
    mag = spectrogram.magnitude.to(torch.float32)
    inverse = InverseSTFT(spec, mag.shape[-1], spectrogram.length)
    X = mag * initial_phase(mag.shape, init, seed)
    previous = None
    for _ in tqdm(range(iters), desc="griffin-lim", unit="it", disable=None if progress is None else not progress,
                  leave=False):
        rebuilt = stft(inverse(X), spec)
        if rebuilt.shape != mag.shape:
            raise RuntimeError(f"STFT of the estimate has shape {tuple(rebuilt.shape)}, expected {tuple(mag.shape)}")
        target = rebuilt
        if momentum and previous is not None:
            target = rebuilt + momentum * (rebuilt - previous)
        previous = rebuilt
        X = mag * (target / (target.abs() + _EPS))
    return inverse(X)


def _check(iters: int, momentum: float, init: str) -> None:
    if not isinstance(iters, int) or iters < 0:
        raise VocoderError(f"--iters must be a whole number >= 0 (got {iters})")
    if not (0.0 <= momentum < 2.0):
        # Perraudin et al. prove convergence for α < 1 and observe it up to ~1.5.
        raise VocoderError(f"--momentum must be in [0, 2) (got {momentum})")
    if init not in ("random", "zero"):
        raise VocoderError(f"--init must be 'random' or 'zero' (got {init!r})")


@dataclass
class GriffinLim(Inverter):
    name: ClassVar[str] = "griffinlim"
    summary: ClassVar[str] = "Griffin-Lim (1984): alternating projections, no momentum; classical, any spec"

    iters: int = 100
    init: Literal["random", "zero"] = "random"
    seed: int = 0

    def __post_init__(self) -> None:
        _check(self.iters, 0.0, self.init)

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        return fast_griffin_lim(spectrogram, self.iters, 0.0, self.init, self.seed)


@dataclass
class FastGriffinLim(Inverter):
    name: ClassVar[str] = "fgla"
    summary: ClassVar[str] = "fast Griffin-Lim (Perraudin et al. 2013), momentum 0.99; classical, any spec"

    iters: int = 100
    # Perraudin, Balazs & Søndergaard 2013 recommend α = 0.99.
    momentum: float = 0.99
    init: Literal["random", "zero"] = "random"
    seed: int = 0

    def __post_init__(self) -> None:
        _check(self.iters, self.momentum, self.init)

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        return fast_griffin_lim(spectrogram, self.iters, self.momentum, self.init, self.seed)

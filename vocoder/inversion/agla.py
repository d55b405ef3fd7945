"""Accelerated Griffin-Lim (AGLA).

Nenov, Peng, Perraudin & Balazs, "Faster than fast: accelerating the
Griffin-Lim algorithm", ICASSP 2023 (convergence analysis in the extended
version, arXiv:2306.12504). With P_A the projection onto the target
magnitude and P_C the projection onto consistent spectrograms (iSTFT then
STFT), FGLA's single extrapolation becomes two, plus a relaxation:

    t_n = (1 − γ) d_{n−1} + γ P_C(P_A(c_{n−1}))
    c_n = t_n + α (t_n − t_{n−1})
    d_n = t_n + β (t_n − t_{n−1})

γ = 1 gives FGLA with momentum α whatever β is (tested). As in our FGLA,
the first iteration has no history: t_1 = d_1 = c_1 = P_C(P_A(c_0)). The
output is the iSTFT of P_A(c_n), as for ``fgla``.

The loop is FGLA's (:func:`~vocoder.inversion.griffinlim.fast_griffin_lim`):
the same time-major buffers and :class:`~vocoder.frontend.stft.ConsistencyProjection`,
with one more spectrum (d) and a fused numba pass for the three updates
and the magnitude projection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

from vocoder import costs, lazy_jit
from vocoder.errors import VocoderError
from vocoder.inversion.base import Inverter
from vocoder.inversion.griffinlim import _EPS, _floats, check_options, start_iterations
from vocoder.inversion.pghi import check_tol
from vocoder.inversion.pghi_fgla import HYBRID_TOL
from vocoder.inversion.refining import RefinesFromPhase
from vocoder.inversion.start import StartsFromPhase
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

if TYPE_CHECKING:  # for annotations: the declaration (`vocoder backends`) loads no torch
    import torch

# Nenov et al. 2023 (ICASSP), experiments section: α = 0.99, β = 1.1,
# γ = 1.2, quoted from secondary memory: the paper's text could not be read
# on this machine to check them, so they are marked "to be verified"
# (issue 11). What vouches for them here is our own measurement on speech
# (tests/test_agla_admm.py, experiments/phase-retrieval).
DEFAULT_ALPHA = 0.99
DEFAULT_BETA = 1.1
DEFAULT_GAMMA = 1.2


@lazy_jit.njit(cache=True, nogil=True, error_model="numpy")
def _agla_update(rebuilt, previous, d, magnitude, out, alpha, beta, gamma, first):
    """One fused pass over every coefficient.

    ``rebuilt`` holds P_C(P_A(c_{n−1})) on entry and t_n on exit (so it is
    t_{n−1} of the next iteration); ``previous`` is t_{n−1}; ``d`` is
    d_{n−1} on entry and d_n on exit; ``out`` receives P_A(c_n). All are
    complex64 viewed as flat float32 (re, im); ``magnitude`` is flat float32.
    """
    a, b, g = np.float32(alpha), np.float32(beta), np.float32(gamma)
    one = np.float32(1.0)
    eps = np.float32(_EPS)
    for i in range(magnitude.size):
        pr = rebuilt[2 * i]
        pi = rebuilt[2 * i + 1]
        if first:
            tr, ti = pr, pi
            cr, ci = tr, ti
            d[2 * i], d[2 * i + 1] = tr, ti
        else:
            tr = (one - g) * d[2 * i] + g * pr
            ti = (one - g) * d[2 * i + 1] + g * pi
            dr = tr - previous[2 * i]
            di = ti - previous[2 * i + 1]
            cr, ci = tr + a * dr, ti + a * di
            d[2 * i] = tr + b * dr
            d[2 * i + 1] = ti + b * di
        rebuilt[2 * i] = tr
        rebuilt[2 * i + 1] = ti
        scale = magnitude[i] / (np.sqrt(cr * cr + ci * ci) + eps)
        out[2 * i] = cr * scale
        out[2 * i + 1] = ci * scale


def accelerated_griffin_lim(spectrogram: Spectrogram, iters: int, alpha: float, beta: float, gamma: float,
                            phase: torch.Tensor, progress: bool | None = None,
                            callback=None) -> torch.Tensor:
    """AGLA on a linear magnitude from ``phase`` (unit-modulus complex,
    channels × bins × frames); returns (channels × samples). ``callback(n, X)``
    sees P_A(c_n) (channels × bins × frames, a view the loop overwrites)
    after n = 0, 1, …, iters iterations, as in ``fast_griffin_lim``."""
    from tqdm.auto import tqdm

    project, mag_tf, X = start_iterations(spectrogram, phase, "AGLA")
    rebuilt, previous, d = project.new_spectrum(), project.new_spectrum(), project.new_spectrum()
    mag_flat, X_flat, d_flat = mag_tf.numpy().reshape(-1), _floats(X), _floats(d)
    views = {id(b): _floats(b) for b in (rebuilt, previous)}
    if callback is not None:
        callback(0, X.transpose(1, 2))
    for n in tqdm(range(iters), desc="agla", unit="it", disable=None if progress is None else not progress,
                  leave=False):
        project(X, out=rebuilt)
        _agla_update(views[id(rebuilt)], views[id(previous)], d_flat, mag_flat, X_flat,
                     alpha, beta, gamma, n == 0)
        rebuilt, previous = previous, rebuilt
        if callback is not None:
            callback(n + 1, X.transpose(1, 2))
    return project.waveform(X)


def check_agla(alpha: float, beta: float, gamma: float) -> None:
    # Ranges wide enough for the paper's grid search around its defaults,
    # narrow enough that a typo (α = 99) is refused rather than diverging.
    for flag, value, low, high in (("alpha", alpha, 0.0, 2.0), ("beta", beta, 0.0, 3.0),
                                   ("gamma", gamma, 0.0, 3.0)):
        if not (low <= value < high) or (flag == "gamma" and value == 0.0):
            raise VocoderError(f"agla: {flag} must be in {'(' if flag == 'gamma' else '['}{low:g}, {high:g}) "
                               f"(got {value})")


@dataclass
class AcceleratedGriffinLim(RefinesFromPhase, StartsFromPhase, Inverter):
    name: ClassVar[str] = "agla"
    summary: ClassVar[str] = ("accelerated Griffin-Lim (Nenov et al. 2023), alpha/beta/gamma, --init random|zero|pghi; "
                              "classical, any spec (pghi start: gauss, hann, hamming or blackman window)")

    iters: int = field(default=100, metadata={"help": "iterations"})
    alpha: float = field(default=DEFAULT_ALPHA, metadata={"help": "α, the momentum of c"})
    beta: float = field(default=DEFAULT_BETA, metadata={"help": "β, the momentum of d"})
    gamma: float = field(default=DEFAULT_GAMMA, metadata={"help": "γ, the relaxation (1 is FGLA)"})
    init: Literal["random", "zero", "pghi"] = field(
        default="random", metadata={"help": "initial phase (pghi: PGHI's, which --tol tunes)"})
    # Only used with init=pghi: PGHI's tolerance as for pghi+fgla (the
    # iterations re-estimate the quiet coefficients; see pghi_fgla.HYBRID_TOL).
    tol: float = field(default=HYBRID_TOL, metadata={"help": "coefficients below TOL × the peak get random phase"})
    seed: int = field(default=0, metadata={"help": "seed of the random phase"})

    def __post_init__(self) -> None:
        check_options(self.iters, 0.0, "random" if self.init == "pghi" else self.init)
        check_agla(self.alpha, self.beta, self.gamma)
        check_tol(self.tol)

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        # FGLA's buffers plus d_n (complex64); with init=pghi, PGHI first and
        # its phase held while the loop runs (the larger of the two either way).
        return max(costs.pghi_buffers(channels, spec, frames, samples),
                   costs.fgla_buffers(channels, spec, frames, samples) + costs.spectra(2, channels, spec, frames))

    def invert_from(self, spectrogram: Spectrogram, phase: torch.Tensor, callback=None) -> torch.Tensor:
        return accelerated_griffin_lim(spectrogram, self.iters, self.alpha, self.beta, self.gamma, phase,
                                       callback=callback)

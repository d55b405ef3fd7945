"""Griffin-Lim-like phase retrieval by ADMM.

Masuyama, Yatabe & Oikawa, "Griffin-Lim like phase recovery via alternating
direction method of multipliers", IEEE Signal Processing Letters 26(1),
184–188, 2019. Phase retrieval is split into the amplitude constraint on x
(|x| = A) and the consistency constraint on z (z = STFT of a signal),
coupled by x = z; with P_A the projection onto the target magnitude and P_C
the projection onto consistent spectrograms (iSTFT then STFT):

    x_{k+1} = P_A(z_k − u_k)
    z_{k+1} = (ρ y + P_C(y)) / (1 + ρ),   y = x_{k+1} + u_k
    u_{k+1} = u_k + x_{k+1} − z_{k+1}  ( = y − z_{k+1})

ρ = 0 is the paper's Algorithm 1 (both constraints hard: plain ADMM on two
indicator functions); ρ > 0 its Algorithm 2, which relaxes the consistency
step toward y. This is the order and placement of ρ in the authors' own
reference code (the ADMMGLA MATLAB function published with the paper),
read for the algorithm only. z_0 = A·(initial phase), u_0 = 0. Each
iteration costs one iSTFT and one STFT, as Griffin-Lim's; the extra
additions are the "auxiliary variable ... which effectively modifies
phase" that the paper's abstract credits for the faster convergence.

``iters`` counts consistency projections and the output is iSTFT(x) after
the last one, i.e. x_{iters+1}: the reference code's N iterations output
x_N, whose last projection is computed but unused, so our N matches its N+1.
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

# ρ = 0 (Algorithm 1): the value set in the authors' example script
# (main_phase_reconstruction.m of their published ADMMGLA code, which
# describes ρ's useful range as 0.00–1.00). The paper's experiments were not
# available to check which ρ they report for Algorithm 2.
DEFAULT_RHO = 0.0


@lazy_jit.njit(cache=True, nogil=True, error_model="numpy")
def _admm_update(p, y, z, u, magnitude, rho, first):
    """One fused pass over every coefficient. On entry ``p`` = P_C(y) (unused
    when ``first``), ``y`` = x_k + u_{k−1}; on exit ``z``, ``u`` are updated
    (skipped when ``first``), ``p`` holds x_{k+1} = P_A(z − u) and ``y`` holds
    x_{k+1} + u, the next projection's input. All complex64 viewed as flat
    float32 (re, im); ``magnitude`` flat float32."""
    r = np.float32(rho)
    inv = np.float32(1.0) / (np.float32(1.0) + r)
    eps = np.float32(_EPS)
    for i in range(magnitude.size):
        if first:
            zr, zi = z[2 * i], z[2 * i + 1]
            ur, ui = u[2 * i], u[2 * i + 1]
        else:
            yr, yi = y[2 * i], y[2 * i + 1]
            zr = (r * yr + p[2 * i]) * inv
            zi = (r * yi + p[2 * i + 1]) * inv
            ur, ui = yr - zr, yi - zi
            z[2 * i], z[2 * i + 1] = zr, zi
            u[2 * i], u[2 * i + 1] = ur, ui
        wr, wi = zr - ur, zi - ui
        scale = magnitude[i] / (np.sqrt(wr * wr + wi * wi) + eps)
        xr, xi = wr * scale, wi * scale
        p[2 * i], p[2 * i + 1] = xr, xi
        y[2 * i] = xr + ur
        y[2 * i + 1] = xi + ui


def admm_phase_retrieval(spectrogram: Spectrogram, iters: int, rho: float, phase: torch.Tensor,
                         progress: bool | None = None, callback=None) -> torch.Tensor:
    """ADMM from z_0 = A·``phase``, u_0 = 0; returns (channels × samples).
    ``callback(n, X)`` sees x after n = 0, 1, …, iters projections
    (channels × bins × frames, magnitude A; a view the loop overwrites)."""
    from tqdm.auto import tqdm

    project, mag_tf, z = start_iterations(spectrogram, phase, "ADMM")
    u, y, x = project.new_spectrum(), project.new_spectrum(), project.new_spectrum()
    mag_flat = mag_tf.numpy().reshape(-1)
    x_f, y_f, z_f, u_f = _floats(x), _floats(y), _floats(z), _floats(u)
    _admm_update(x_f, y_f, z_f, u_f, mag_flat, rho, True)  # x_1 = P_A(z_0), y = x_1
    if callback is not None:
        callback(0, x.transpose(1, 2))
    for n in tqdm(range(iters), desc="admm", unit="it", disable=None if progress is None else not progress,
                  leave=False):
        project(y, out=x)
        _admm_update(x_f, y_f, z_f, u_f, mag_flat, rho, False)
        if callback is not None:
            callback(n + 1, x.transpose(1, 2))
    return project.waveform(x)


def check_rho(rho: float) -> None:
    if not (0.0 <= rho <= 1e6):
        raise VocoderError(f"admm: rho must be in [0, 1e6] (got {rho})")


@dataclass
class ADMMPhaseRetrieval(RefinesFromPhase, StartsFromPhase, Inverter):
    name: ClassVar[str] = "admm"
    summary: ClassVar[str] = ("ADMM phase retrieval (Masuyama, Yatabe & Oikawa 2019), rho, --init random|zero|pghi; "
                              "classical, any spec (pghi start: gauss, hann, hamming or blackman window)")

    iters: int = field(default=100, metadata={"help": "iterations"})
    rho: float = field(default=DEFAULT_RHO, metadata={"help": "ρ, 0 keeps both constraints hard (1 is Griffin-Lim)"})
    init: Literal["random", "zero", "pghi"] = field(
        default="random", metadata={"help": "initial phase (pghi: PGHI's, which --tol tunes)"})
    # Only used with init=pghi: PGHI's tolerance as for pghi+fgla (the
    # iterations re-estimate the quiet coefficients; see pghi_fgla.HYBRID_TOL).
    tol: float = field(default=HYBRID_TOL, metadata={"help": "coefficients below TOL × the peak get random phase"})
    seed: int = field(default=0, metadata={"help": "seed of the random phase"})

    def __post_init__(self) -> None:
        check_options(self.iters, 0.0, "random" if self.init == "pghi" else self.init)
        check_rho(self.rho)
        check_tol(self.tol)

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        # z, u, y = x + u and x (complex64) where FGLA has three spectra, the PGHI phase (init=pghi) held.
        return max(costs.pghi_buffers(channels, spec, frames, samples),
                   costs.fgla_buffers(channels, spec, frames, samples) + costs.spectra(3, channels, spec, frames))

    @classmethod
    def runs_blockwise(cls) -> bool:
        # Block-wise inversion holds a block's committed frames through the
        # iteration callback, which reaches x but not the y and u that ADMM
        # carries between iterations: measured 0.64 dB worse SC than the whole
        # signal at 1.1 s blocks (tests/test_blockwise.py's limit is 0.5).
        return False

    def invert_from(self, spectrogram: Spectrogram, phase: torch.Tensor, callback=None) -> torch.Tensor:
        return admm_phase_retrieval(spectrogram, self.iters, self.rho, phase, callback=callback)

"""Griffin-Lim-like phase retrieval by ADMM.

Masuyama, Yatabe & Oikawa, "Griffin-Lim like phase recovery via alternating
direction method of multipliers", IEEE Signal Processing Letters 26(1),
184–188, 2019. Phase retrieval is split into a consistency constraint on x
(x = STFT of a signal) and an amplitude term on z, coupled by x = z:

    x_{k+1} = P_C(z_k − u_k)                      (least-squares iSTFT, then STFT)
    z_{k+1} = prox(x_{k+1} + u_k)
    u_{k+1} = u_k + x_{k+1} − z_{k+1}

With the hard amplitude constraint the prox is the projection P_A onto the
target magnitude and the penalty ρ drops out (indicator functions); with
the amplitude *penalty* ½‖|z| − A‖² it is

    prox(v) = (ρ v + P_A(v)) / (1 + ρ),

which is what ``rho`` sets (ρ = 0: the hard constraint). Each iteration
costs one iSTFT and one STFT, as Griffin-Lim's; the extra additions are the
"auxiliary variable that effectively modifies phase" the paper credits for
the faster convergence. The output is the signal of the x-step,
iSTFT(z_K − u_K).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numba
import numpy as np
import torch
from tqdm.auto import tqdm

from vocoder.errors import VocoderError
from vocoder.frontend.stft import ConsistencyProjection
from vocoder.inversion.base import Inverter
from vocoder.inversion.griffinlim import _EPS, _floats, check_options, initial_phase
from vocoder.inversion.pghi import START_PHASE, check_tol, gamma as pghi_gamma, pghi_phase
from vocoder.inversion.pghi_fgla import HYBRID_TOL
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

# Masuyama, Yatabe & Oikawa 2019, experiments: ρ = 0.1 for the relaxed
# (amplitude-penalty) algorithm. That value is as I recall it; the paper's
# text was not available to check it against when this was written (issue
# 11 tracks verifying it). ρ = 0 (the hard constraint) is the paper's first
# algorithm and is available as rho=0.
DEFAULT_RHO = 0.1


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _admm_update(x, z, u, magnitude, w, rho):
    """v = x + u; z = (ρ v + P_A(v)) / (1 + ρ); u = v − z; w = z − u (the
    next x-step's input). All complex64 viewed as flat float32 (re, im)."""
    r = np.float32(rho)
    inv = np.float32(1.0) / (np.float32(1.0) + r)
    eps = np.float32(_EPS)
    for i in range(magnitude.size):
        vr = x[2 * i] + u[2 * i]
        vi = x[2 * i + 1] + u[2 * i + 1]
        scale = magnitude[i] / (np.sqrt(vr * vr + vi * vi) + eps)
        zr = (r * vr + scale * vr) * inv
        zi = (r * vi + scale * vi) * inv
        ur, ui = vr - zr, vi - zi
        z[2 * i], z[2 * i + 1] = zr, zi
        u[2 * i], u[2 * i + 1] = ur, ui
        w[2 * i] = zr - ur
        w[2 * i + 1] = zi - ui


def admm_phase_retrieval(spectrogram: Spectrogram, iters: int, rho: float, phase: torch.Tensor,
                         progress: bool | None = None, callback=None) -> torch.Tensor:
    """ADMM from z_0 = |S|·``phase``, u_0 = 0; returns (channels × samples).
    ``callback(n, W)`` sees W = z_n − u_n (channels × bins × frames, a view the
    loop overwrites), whose iSTFT is the n-th signal estimate."""
    spec = spectrogram.spec
    if not spec.is_linear:
        raise ValueError("ADMM needs a linear magnitude; invert the filterbank first")
    mag = spectrogram.magnitude.detach().to("cpu", torch.float32)
    if phase.shape != mag.shape:
        raise ValueError(f"initial phase has shape {tuple(phase.shape)}, the magnitude {tuple(mag.shape)}")
    channels, _, frames = mag.shape
    project = ConsistencyProjection(spec, channels, frames, spectrogram.length)
    mag_tf = mag.transpose(1, 2).contiguous()
    z = (mag_tf * phase.detach().to("cpu", torch.complex64).transpose(1, 2)).contiguous()
    w = z.clone()  # z_0 − u_0
    x, u = project.new_spectrum(), project.new_spectrum()
    mag_flat = mag_tf.numpy().reshape(-1)
    x_f, z_f, u_f, w_f = _floats(x), _floats(z), _floats(u), _floats(w)
    if callback is not None:
        callback(0, w.transpose(1, 2))
    for n in tqdm(range(iters), desc="admm", unit="it", disable=None if progress is None else not progress,
                  leave=False):
        project(w, out=x)
        _admm_update(x_f, z_f, u_f, mag_flat, w_f, rho)
        if callback is not None:
            callback(n + 1, w.transpose(1, 2))
    return project.waveform(w)


def check_rho(rho: float) -> None:
    if not (0.0 <= rho <= 1e6):
        raise VocoderError(f"admm: rho must be in [0, 1e6] (got {rho})")


@dataclass
class ADMMPhaseRetrieval(Inverter):
    name: ClassVar[str] = "admm"
    summary: ClassVar[str] = ("ADMM phase retrieval (Masuyama, Yatabe & Oikawa 2019), rho, --init random|zero|pghi; "
                              "classical, any spec (pghi start: gauss, hann, hamming or blackman window)")

    iters: int = 100
    rho: float = DEFAULT_RHO
    init: Literal["random", "zero", "pghi"] = "random"
    # Only used with init=pghi: PGHI's tolerance as for pghi+fgla (the
    # iterations re-estimate the quiet coefficients; see pghi_fgla.HYBRID_TOL).
    tol: float = HYBRID_TOL
    seed: int = 0

    def __post_init__(self) -> None:
        check_options(self.iters, 0.0, "random" if self.init == "pghi" else self.init)
        check_rho(self.rho)
        check_tol(self.tol)

    def check_spec(self, spec: SpectrogramSpec) -> None:
        if self.init == "pghi":
            pghi_gamma(spec)

    def parameters(self) -> dict:
        params = super().parameters()
        if self.init == "pghi":
            params["start_phase"] = "PGHI's: " + START_PHASE
        else:
            del params["tol"]
        return params

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        if self.init == "pghi":
            phase = pghi_phase(spectrogram, self.tol, self.seed)
        else:
            phase = initial_phase(spectrogram.magnitude.shape, self.init, self.seed)
        return admm_phase_retrieval(spectrogram, self.iters, self.rho, phase)

"""HiFi-GAN's losses: least-squares GAN (Mao et al. 2017), feature matching
(Larsen et al. 2016) and L1 between log-mel spectrograms.

Weights are applied by the caller (HiFi-GAN: mel ×45, feature matching ×2,
adversarial ×1); these functions return unweighted sums over
sub-discriminators, as HiFi-GAN's ``discriminator_loss``/``generator_loss`` do.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from vocoder.frontend import stft as stft_ops
from vocoder.frontend.filterbank import MelAxis
from vocoder.spec import SpectrogramSpec


def discriminator_loss(real: list[torch.Tensor], fake: list[torch.Tensor]) -> torch.Tensor:
    """Σ_k E[(D_k(x) − 1)²] + E[D_k(G(s))²]."""
    return sum(torch.mean((1 - r) ** 2) + torch.mean(f ** 2) for r, f in zip(real, fake))


def generator_adversarial_loss(fake: list[torch.Tensor]) -> torch.Tensor:
    """Σ_k E[(D_k(G(s)) − 1)²]."""
    return sum(torch.mean((1 - f) ** 2) for f in fake)


def feature_matching_loss(real: list[list[torch.Tensor]], fake: list[list[torch.Tensor]]) -> torch.Tensor:
    """Σ over sub-discriminators and layers of mean |D_k^i(x) − D_k^i(G(s))|.

    HiFi-GAN's code multiplies this sum by 2 inside ``feature_loss``; here the
    2 is the configurable feature-matching weight instead.
    """
    return sum(torch.mean(torch.abs(r.detach() - f)) for rs, fs in zip(real, fake) for r, f in zip(rs, fs))


class LogMel(nn.Module):
    """Differentiable ln(max(mel, floor)) under a spec, in the waveform's dtype.

    Uses the front end's STFT framing and filterbank, so the loss mel and the
    input mel can never disagree on framing. HiFi-GAN computes its mel loss
    up to Nyquist ("fmax_for_loss": null) while its input mel stops at
    8 kHz; ``fmax`` selects that.
    """

    def __init__(self, spec: SpectrogramSpec, fmax: float | None = None):
        super().__init__()
        if not isinstance(spec.axis, MelAxis) or spec.log_floor is None:
            raise ValueError("LogMel needs a mel spec with a log floor")
        if fmax != spec.axis.fmax:
            spec = dataclasses.replace(spec, axis=dataclasses.replace(spec.axis, fmax=fmax))
        self.spec = spec
        self.register_buffer("fb", spec.axis.matrix(spec).to(torch.float32), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """(batch, [1,] samples) → (batch, n_mels, frames)."""
        if waveform.ndim == 3:
            waveform = waveform.squeeze(1)
        X = stft_ops.stft(waveform, self.spec)
        mag = torch.sqrt(X.real.square() + X.imag.square() + self.spec.magnitude_eps)
        return torch.log(torch.clamp(torch.matmul(self.fb.to(mag.dtype), mag), min=self.spec.log_floor))

"""HiFi-GAN's discriminators (Kong et al. 2020): multi-period (MPD) and
multi-scale (MSD, from MelGAN, Kumar et al. 2019).

Each returns, per sub-discriminator, its logits and the list of feature maps
that the feature-matching loss compares. Layer widths default to HiFi-GAN's;
``channels`` shrinks them for CPU-sized experiments.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vocoder.models.hifigan import LRELU_SLOPE
from vocoder.models.norm import spectral_normed, weight_normed

Outputs = tuple[list[torch.Tensor], list[list[torch.Tensor]]]

# HiFi-GAN MPD periods (prime, to avoid overlapping patterns).
DEFAULT_PERIODS = (2, 3, 5, 7, 11)
# HiFi-GAN DiscriminatorP widths.
DEFAULT_MPD_CHANNELS = (32, 128, 512, 1024, 1024)
# HiFi-GAN / MelGAN DiscriminatorS widths.
DEFAULT_MSD_CHANNELS = (128, 128, 256, 512, 1024, 1024, 1024)


def _run_stack(convs: nn.ModuleList, post: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Leaky-ReLU conv stack then the output conv; (flattened logits, every
    layer's activations for the feature-matching loss)."""
    fmap = []
    for conv in convs:
        x = F.leaky_relu(conv(x), LRELU_SLOPE)
        fmap.append(x)
    x = post(x)
    fmap.append(x)
    return torch.flatten(x, 1, -1), fmap


class PeriodDiscriminator(nn.Module):
    """Reshapes audio to (T/p × p) and applies 2-D convs with (k × 1) kernels."""

    def __init__(self, period: int, channels: Sequence[int] = DEFAULT_MPD_CHANNELS,
                 kernel_size: int = 5, stride: int = 3):
        super().__init__()
        self.period = period
        pad = (kernel_size - 1) // 2
        widths = [1, *channels]
        layers = []
        for i in range(len(channels)):
            s = stride if i < len(channels) - 1 else 1  # the last conv keeps the length
            layers.append(weight_normed(nn.Conv2d(widths[i], widths[i + 1], (kernel_size, 1), (s, 1), (pad, 0))))
        self.convs = nn.ModuleList(layers)
        self.conv_post = weight_normed(nn.Conv2d(channels[-1], 1, (3, 1), 1, (1, 0)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        b, c, t = x.shape
        if t % self.period:
            pad = self.period - t % self.period
            x = F.pad(x, (0, pad), mode="reflect")
            t += pad
        x = x.view(b, c, t // self.period, self.period)
        return _run_stack(self.convs, self.conv_post, x)


class MultiPeriodDiscriminator(nn.Module):
    def __init__(self, periods: Sequence[int] = DEFAULT_PERIODS, channels: Sequence[int] = DEFAULT_MPD_CHANNELS):
        super().__init__()
        self.discriminators = nn.ModuleList(PeriodDiscriminator(int(p), channels) for p in periods)

    def forward(self, audio: torch.Tensor) -> Outputs:
        logits, fmaps = [], []
        for d in self.discriminators:
            score, fmap = d(audio)
            logits.append(score)
            fmaps.append(fmap)
        return logits, fmaps


class ScaleDiscriminator(nn.Module):
    """MelGAN's discriminator block: strided grouped 1-D convs."""

    # (kernel, stride, groups) per layer: HiFi-GAN DiscriminatorS.
    LAYOUT = ((15, 1, 1), (41, 2, 4), (41, 2, 16), (41, 4, 16), (41, 4, 16), (41, 1, 16), (5, 1, 1))

    def __init__(self, channels: Sequence[int] = DEFAULT_MSD_CHANNELS, use_spectral_norm: bool = False):
        super().__init__()
        if len(channels) != len(self.LAYOUT):
            raise ValueError(f"a scale discriminator needs {len(self.LAYOUT)} channel widths")
        norm = spectral_normed if use_spectral_norm else weight_normed
        widths = [1, *channels]
        layers = []
        for i, (k, s, g) in enumerate(self.LAYOUT):
            groups = min(g, widths[i], widths[i + 1])
            while widths[i] % groups or widths[i + 1] % groups:  # narrow widths: fewer groups
                groups -= 1
            layers.append(norm(nn.Conv1d(widths[i], widths[i + 1], k, s, groups=groups, padding=(k - 1) // 2)))
        self.convs = nn.ModuleList(layers)
        self.conv_post = norm(nn.Conv1d(channels[-1], 1, 3, 1, padding=1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return _run_stack(self.convs, self.conv_post, x)


class MultiScaleDiscriminator(nn.Module):
    """Three scale discriminators on raw, ×2 and ×4 average-pooled audio; the
    first uses spectral norm (HiFi-GAN MSD)."""

    def __init__(self, scales: int = 3, channels: Sequence[int] = DEFAULT_MSD_CHANNELS):
        super().__init__()
        self.discriminators = nn.ModuleList(
            ScaleDiscriminator(channels, use_spectral_norm=(i == 0)) for i in range(scales))
        # HiFi-GAN: AvgPool1d(4, 2, padding=2) between scales.
        self.pool = nn.AvgPool1d(4, 2, padding=2)

    def forward(self, audio: torch.Tensor) -> Outputs:
        logits, fmaps = [], []
        x = audio
        for i, d in enumerate(self.discriminators):
            if i:
                x = self.pool(x)
            score, fmap = d(x)
            logits.append(score)
            fmaps.append(fmap)
        return logits, fmaps

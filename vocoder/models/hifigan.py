"""HiFi-GAN generator (Kong, Kim & Bae 2020, "HiFi-GAN: Generative Adversarial
Networks for Efficient and High Fidelity Speech Synthesis").

Architecture facts (layer order, kernel/padding rules, leaky-ReLU slope 0.1,
N(0, 0.01) init, weight norm on every conv) follow the paper and its V1/V2/V3
configs; the number of input bands comes from the spectrogram spec.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vocoder.models.norm import remove_weight_norm, weight_normed

# HiFi-GAN generator and discriminators use leaky ReLU with slope 0.1.
LRELU_SLOPE = 0.1


@dataclass(frozen=True)
class GeneratorArch:
    """Every architectural switch of the generator (JSON-serialisable)."""

    upsample_rates: tuple[int, ...]
    upsample_kernel_sizes: tuple[int, ...]
    upsample_initial_channel: int
    resblock: Literal["1", "2"]
    resblock_kernel_sizes: tuple[int, ...]
    resblock_dilation_sizes: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(map(list, v)) if k == "resblock_dilation_sizes" else list(v) if isinstance(v, tuple) else v)
                for k, v in asdict(self).items()}


VERSIONS: dict[str, GeneratorArch] = {
    # HiFi-GAN V1 config (config_v1.json): 13.92M parameters.
    "v1": GeneratorArch((8, 8, 2, 2), (16, 16, 4, 4), 512, "1", (3, 7, 11), ((1, 3, 5),) * 3),
    # HiFi-GAN V2 config (config_v2.json): V1 at 128 channels, 0.92M parameters.
    "v2": GeneratorArch((8, 8, 2, 2), (16, 16, 4, 4), 128, "1", (3, 7, 11), ((1, 3, 5),) * 3),
    # HiFi-GAN V3 config (config_v3.json): ResBlock2, 1.46M parameters.
    "v3": GeneratorArch((8, 8, 4), (16, 16, 8), 256, "2", (3, 5, 7), ((1, 2), (2, 6), (3, 12))),
}


def _init_normal(module: nn.Module) -> None:
    # HiFi-GAN utils.init_weights: conv weights ~ N(0, 0.01).
    if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d)):
        module.weight.data.normal_(0.0, 0.01)


def _same_padding(kernel: int, dilation: int) -> int:
    return (kernel * dilation - dilation) // 2


class ResBlock1(nn.Module):
    """HiFi-GAN ResBlock1: per dilation, lrelu → dilated conv → lrelu → conv, residual."""

    def __init__(self, channels: int, kernel: int, dilations: Sequence[int]):
        super().__init__()
        self.convs1 = nn.ModuleList(
            weight_normed(nn.Conv1d(channels, channels, kernel, dilation=d, padding=_same_padding(kernel, d)))
            for d in dilations)
        self.convs2 = nn.ModuleList(
            weight_normed(nn.Conv1d(channels, channels, kernel, padding=_same_padding(kernel, 1)))
            for _ in dilations)
        self.apply(_init_normal)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            x = x + c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
        return x


class ResBlock2(nn.Module):
    """HiFi-GAN ResBlock2 (V3): per dilation, lrelu → dilated conv, residual."""

    def __init__(self, channels: int, kernel: int, dilations: Sequence[int]):
        super().__init__()
        self.convs = nn.ModuleList(
            weight_normed(nn.Conv1d(channels, channels, kernel, dilation=d, padding=_same_padding(kernel, d)))
            for d in dilations)
        self.apply(_init_normal)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c in self.convs:
            x = x + c(F.leaky_relu(x, LRELU_SLOPE))
        return x


class HiFiGANGenerator(nn.Module):
    """Log-mel frames (batch × n_mels × frames) → waveform (batch × 1 × frames·hop).

    The hop is the product of ``upsample_rates`` and must equal the spec's hop.
    Weight norm is on after construction (training); call
    :meth:`remove_weight_norm` for inference or export.
    """

    def __init__(self, in_channels: int, upsample_rates: Sequence[int] = VERSIONS["v1"].upsample_rates,
                 upsample_kernel_sizes: Sequence[int] = VERSIONS["v1"].upsample_kernel_sizes,
                 upsample_initial_channel: int = VERSIONS["v1"].upsample_initial_channel,
                 resblock: Literal["1", "2"] = "1",
                 resblock_kernel_sizes: Sequence[int] = VERSIONS["v1"].resblock_kernel_sizes,
                 resblock_dilation_sizes: Sequence[Sequence[int]] = VERSIONS["v1"].resblock_dilation_sizes):
        super().__init__()
        if len(upsample_rates) != len(upsample_kernel_sizes):
            raise ValueError("upsample_rates and upsample_kernel_sizes need the same length")
        if len(resblock_kernel_sizes) != len(resblock_dilation_sizes):
            raise ValueError("resblock_kernel_sizes and resblock_dilation_sizes need the same length")
        if upsample_initial_channel % (2 ** len(upsample_rates)):
            raise ValueError("upsample_initial_channel must halve cleanly at every upsampling stage")
        if str(resblock) not in ("1", "2"):
            raise ValueError(f"resblock must be '1' or '2' (got {resblock!r})")
        self.in_channels = int(in_channels)
        self.arch = GeneratorArch(
            tuple(int(r) for r in upsample_rates), tuple(int(k) for k in upsample_kernel_sizes),
            int(upsample_initial_channel), str(resblock), tuple(int(k) for k in resblock_kernel_sizes),
            tuple(tuple(int(d) for d in ds) for ds in resblock_dilation_sizes),
        )
        a = self.arch
        block = ResBlock1 if a.resblock == "1" else ResBlock2
        self.conv_pre = weight_normed(nn.Conv1d(self.in_channels, a.upsample_initial_channel, 7, padding=3))
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        ch = a.upsample_initial_channel
        for rate, kernel in zip(a.upsample_rates, a.upsample_kernel_sizes):
            self.ups.append(weight_normed(nn.ConvTranspose1d(ch, ch // 2, kernel, rate, padding=(kernel - rate) // 2)))
            ch //= 2
            for k, ds in zip(a.resblock_kernel_sizes, a.resblock_dilation_sizes):
                self.resblocks.append(block(ch, k, ds))
        self.conv_post = weight_normed(nn.Conv1d(ch, 1, 7, padding=3))
        self.ups.apply(_init_normal)
        self.conv_post.apply(_init_normal)

    @classmethod
    def from_version(cls, version: str, in_channels: int) -> "HiFiGANGenerator":
        if version not in VERSIONS:
            raise ValueError(f"unknown HiFi-GAN version {version!r}; choose one of {', '.join(VERSIONS)}")
        return cls(in_channels, **asdict(VERSIONS[version]))

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "HiFiGANGenerator":
        """Inverse of :meth:`config` (what checkpoints and exports store)."""
        return cls(**config)

    def config(self) -> dict[str, Any]:
        """Constructor arguments as plain JSON types."""
        return {"in_channels": self.in_channels, **self.arch.to_dict()}

    @property
    def hop_length(self) -> int:
        hop = 1
        for r in self.arch.upsample_rates:
            hop *= r
        return hop

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(mel)
        n_kernels = len(self.arch.resblock_kernel_sizes)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            # The multi-receptive-field fusion: average of the level's resblocks.
            xs = self.resblocks[i * n_kernels](x)
            for j in range(1, n_kernels):
                xs = xs + self.resblocks[i * n_kernels + j](x)
            x = xs / n_kernels
        # HiFi-GAN applies F.leaky_relu with torch's default slope (0.01) here.
        x = self.conv_post(F.leaky_relu(x))
        return torch.tanh(x)

    def remove_weight_norm(self) -> "HiFiGANGenerator":
        remove_weight_norm(self)
        return self

"""A faster CPU forward pass for a trained :class:`HiFiGANGenerator`.

``prepare_for_inference(generator)`` returns a callable that computes the same
function as ``generator`` (log-mel, batch × bands × frames → waveform,
batch × 1 × samples) from a snapshot of its weights, with three changes that
only reorder floating-point work (experiments/hifigan-v1-speed measures each):

- Activations stay channels-last, as (batch, channels, 1, time) tensors run
  through 2-D convolutions. The plain 1-D path hands oneDNN channels-first
  tensors, which it copies into its blocked layout before every convolution
  and back after it; channels-last tensors are used as they are.
- A transposed convolution with stride s becomes one ordinary convolution
  with s × as many output channels (one per output phase) and a reshape: the
  polyphase form of the same sums, which oneDNN runs at its convolution speed.
- Where oneDNN's fused kernels are present (``torch.ops.mkldnn``), the leaky
  ReLU after a resblock's first convolution and the residual addition after
  its second are applied inside the convolution instead of as separate passes
  over memory. In every case the 1/K average of a level's K resblocks is
  folded into the next layer's weights (leaky ReLU commutes with a positive
  scale), and the leaky ReLU of a level's input, which its K resblocks all
  start with, is computed once.

Everything else (layer order, padding, slopes) is the generator's own, so the
output equals the plain forward pass to float32 rounding (tests/test_inference.py).
"""

from __future__ import annotations

import functools
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from vocoder.models.hifigan import LRELU_SLOPE, HiFiGANGenerator

CHANNELS_LAST = torch.channels_last


@functools.lru_cache(maxsize=1)
def fused_kernels_available() -> bool:
    """Whether oneDNN's fused convolution ops exist here and compute what we ask of them.

    They are internal to PyTorch (the ones its compiler emits on CPU), so rather
    than trust their signature across versions, check them once on a small
    problem against the unfused ops.
    """
    if not torch.backends.mkldnn.is_available() or not hasattr(torch.ops, "mkldnn"):
        return False
    try:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(2, 8, 1, 19, generator=gen).contiguous(memory_format=CHANNELS_LAST)
        r = torch.randn(2, 8, 1, 19, generator=gen).contiguous(memory_format=CHANNELS_LAST)
        w = torch.randn(8, 8, 1, 3, generator=gen).contiguous(memory_format=CHANNELS_LAST)
        b = torch.randn(8, generator=gen)
        with torch.inference_mode():
            y = F.conv2d(x, w, b, padding=(0, 2), dilation=(1, 2))
            got_lrelu = _fused_conv(x, w, b, 2, 2, "leaky_relu")
            got_add = _fused_conv_add(x, r, w, b, 2, 2)
            acc = r.clone()
            _fused_conv_add_(x, acc, w, b, 2, 2)
        expected = (F.leaky_relu(y, LRELU_SLOPE), r + y, r + y)
        return all(torch.allclose(g, e, rtol=1e-5, atol=1e-5) for g, e in zip((got_lrelu, got_add, acc), expected))
    except (AttributeError, RuntimeError, TypeError):
        return False


def _fused_conv(x, w, b, padding: int, dilation: int, post: str = "none") -> torch.Tensor:
    scalars = [LRELU_SLOPE] if post == "leaky_relu" else []
    return torch.ops.mkldnn._convolution_pointwise(x, w, b, [0, padding], [1, 1], [1, dilation], 1, post, scalars, "")


def _fused_conv_add(x, residual, w, b, padding: int, dilation: int) -> torch.Tensor:
    return torch.ops.mkldnn._convolution_pointwise.binary(
        x, residual, w, b, [0, padding], [1, 1], [1, dilation], 1, "add", None, None, [], None)


def _fused_conv_add_(x, residual, w, b, padding: int, dilation: int) -> torch.Tensor:
    return torch.ops.mkldnn._convolution_pointwise_.binary(
        residual, x, w, b, [0, padding], [1, 1], [1, dilation], 1, "add", None, None, [], None)


class _Conv:
    """One stride-1 Conv1d as a channels-last 2-D convolution, fused with what follows it where possible."""

    def __init__(self, conv: nn.Conv1d, fused: bool, scale: float = 1.0):
        if conv.stride[0] != 1 or conv.groups != 1 or conv.padding_mode != "zeros":
            raise ValueError("only stride-1, ungrouped, zero-padded convolutions are supported")
        weight = conv.weight.detach().float() * scale
        self.weight = weight[:, :, None, :].contiguous(memory_format=CHANNELS_LAST)
        self.bias = conv.bias.detach().float().clone() if conv.bias is not None else None
        self.padding, self.dilation = int(conv.padding[0]), int(conv.dilation[0])
        self.fused = fused

    def __call__(self, x: torch.Tensor, lrelu: bool = False) -> torch.Tensor:
        """conv(x), or leaky_relu(conv(x), 0.1)."""
        if self.fused:
            return _fused_conv(x, self.weight, self.bias, self.padding, self.dilation, "leaky_relu" if lrelu else "none")
        y = F.conv2d(x, self.weight, self.bias, padding=(0, self.padding), dilation=(1, self.dilation))
        return F.leaky_relu(y, LRELU_SLOPE, inplace=True) if lrelu else y

    def add(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """residual + conv(x), as a new tensor."""
        if self.fused:
            return _fused_conv_add(x, residual, self.weight, self.bias, self.padding, self.dilation)
        return self(x).add_(residual)

    def add_(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """residual += conv(x), in place."""
        if self.fused:
            return _fused_conv_add_(x, residual, self.weight, self.bias, self.padding, self.dilation)
        return residual.add_(self(x))


class _PolyphaseUpsample:
    """ConvTranspose1d (stride s) as one stride-1 convolution with s phases of output channels.

    Output sample n = m·s + r of the transposed convolution is a sum of
    W[:, :, k] · x[i] over i·s + k = n + padding; for each phase r that is an
    ordinary correlation of x around m with the taps k ≡ r + padding (mod s).
    Stacking the phases' taps as output channels makes one convolution whose
    channel axis, read as (time, phase, channel), is the upsampled signal.
    """

    def __init__(self, up: nn.ConvTranspose1d, scale: float = 1.0):
        if up.groups != 1 or up.dilation[0] != 1 or up.output_padding[0] != 0:
            raise ValueError("only ungrouped, undilated transposed convolutions are supported")
        weight = up.weight.detach().float() * scale  # (in, out, kernel)
        c_in, c_out, kernel = weight.shape
        stride, padding = int(up.stride[0]), int(up.padding[0])
        taps = {}  # phase -> [(input offset from m, kernel index)]
        for r in range(stride):
            q, c = (r + padding) % stride, (r + padding) // stride
            taps[r] = [(c - j, q + j * stride) for j in range(-(-(kernel - q) // stride))]
        offsets = [o for phase in taps.values() for o, _ in phase]
        self.lo, self.hi = min(offsets), max(offsets)
        width = self.hi - self.lo + 1
        phases = weight.new_zeros(stride, c_out, c_in, width)
        for r, phase in taps.items():
            for offset, k in phase:
                phases[r, :, :, offset - self.lo] = weight[:, :, k].T
        self.weight = phases.reshape(stride * c_out, c_in, 1, width).contiguous(memory_format=CHANNELS_LAST)
        bias = up.bias.detach().float() if up.bias is not None else weight.new_zeros(c_out)
        self.bias = bias.repeat(stride)
        self.stride, self.padding, self.kernel, self.c_out = stride, padding, kernel, c_out

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        batch, length = x.shape[0], x.shape[-1]
        n_out = (length - 1) * self.stride - 2 * self.padding + self.kernel
        frames = -(-n_out // self.stride)
        # Phase r of output frame m reads x[m + lo + t], t < width: pad so every frame is in range.
        pad = max(0, -self.lo, frames - 1 + self.hi - (length - 1))
        z = F.conv2d(x, self.weight, self.bias, padding=(0, pad))
        start = self.lo + pad
        z = z[..., start:start + frames]
        # Channels-last memory of z is (batch, frames, phase, channel): reading it as
        # (batch, frames·phase, channel) interleaves the phases in time.
        y = z.permute(0, 2, 3, 1).reshape(batch, 1, frames * self.stride, self.c_out)[:, :, :n_out]
        return y.permute(0, 3, 1, 2).contiguous(memory_format=CHANNELS_LAST)


class FastHiFiGAN:
    """The forward pass of a :class:`HiFiGANGenerator`, from a snapshot of its weights.

    Later changes to the generator's weights are not seen: prepare again.
    """

    def __init__(self, generator: HiFiGANGenerator, fused: bool | None = None):
        self.fused = fused_kernels_available() if fused is None else bool(fused)
        if self.fused and not fused_kernels_available():
            raise RuntimeError("oneDNN's fused convolution kernels are not available in this PyTorch build")
        arch = generator.arch
        self.n_kernels = len(arch.resblock_kernel_sizes)
        self.resblock = arch.resblock
        self.in_channels = generator.in_channels
        # The MRF average's 1/K moves into the layer after it (see the module docstring).
        scale = 1.0 / self.n_kernels
        with torch.no_grad():
            self.conv_pre = _Conv(generator.conv_pre, self.fused)
            self.ups = [_PolyphaseUpsample(up, 1.0 if i == 0 else scale) for i, up in enumerate(generator.ups)]
            self.resblocks = [self._blocks(block) for block in generator.resblocks]
            self.conv_post = _Conv(generator.conv_post, self.fused, scale)

    def _blocks(self, block: nn.Module) -> list[tuple[_Conv, _Conv | None]]:
        if self.resblock == "1":
            return [(_Conv(a, self.fused), _Conv(b, self.fused)) for a, b in zip(block.convs1, block.convs2)]
        return [(_Conv(c, self.fused), None) for c in block.convs]

    def _resblock(self, pairs: list[tuple[_Conv, _Conv | None]], x: torch.Tensor,
                  x_lrelu: torch.Tensor) -> torch.Tensor:
        """One resblock on x (not modified); x_lrelu = leaky_relu(x), shared by the level's resblocks."""
        if not pairs:
            return x.clone()
        for n, (first, second) in enumerate(pairs):
            a = x_lrelu if n == 0 else F.leaky_relu(x, LRELU_SLOPE)
            if second is None:  # ResBlock2: x + conv(lrelu(x))
                conv, h = first, a
            else:  # ResBlock1: x + conv2(lrelu(conv1(lrelu(x))))
                conv, h = second, first(a, lrelu=True)
            x = conv.add(h, x) if n == 0 else conv.add_(h, x)
        return x

    def __call__(self, mel: torch.Tensor) -> torch.Tensor:
        if mel.dim() != 3 or mel.shape[1] != self.in_channels:
            raise ValueError(f"expected log-mel of shape (batch, {self.in_channels}, frames), got {tuple(mel.shape)}")
        with torch.inference_mode():
            x = self.conv_pre(mel.float()[:, :, None, :].contiguous(memory_format=CHANNELS_LAST))
            for i, up in enumerate(self.ups):
                x = up(F.leaky_relu(x, LRELU_SLOPE))
                x_lrelu = F.leaky_relu(x, LRELU_SLOPE)
                total = None
                for j in range(self.n_kernels):
                    y = self._resblock(self.resblocks[i * self.n_kernels + j], x, x_lrelu)
                    total = y if total is None else total.add_(y)
                x = total  # the sum; its 1/K is in the next layer's weights
            # HiFi-GAN's last leaky ReLU has torch's default slope (0.01), as in the generator.
            x = self.conv_post(F.leaky_relu(x))
            return torch.tanh(x)[:, :, 0, :].contiguous()


def prepare_for_inference(generator: HiFiGANGenerator) -> Callable[[torch.Tensor], torch.Tensor]:
    """A callable computing ``generator``'s forward pass faster on CPU (same output to float32 rounding).

    Takes log-mel (batch × bands × frames) and returns the waveform
    (batch × 1 × frames·hop) under ``torch.inference_mode``. The generator's
    weights are copied; weight norm may be folded or not (the effective weight
    is read). On a generator outside the CPU, the generator itself is returned
    (run under ``torch.inference_mode``).
    """
    if not isinstance(generator, HiFiGANGenerator):
        raise TypeError(f"expected a HiFiGANGenerator, got {type(generator).__name__}")
    if any(p.device.type != "cpu" for p in generator.parameters()):
        return _under_inference_mode(generator)
    return FastHiFiGAN(generator)


def _under_inference_mode(generator: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    def forward(mel: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return generator(mel)
    return forward

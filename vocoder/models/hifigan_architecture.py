"""HiFi-GAN's declaration (:class:`HiFiGAN`): how the store, the budget,
training and the learned backend treat a :class:`HiFiGANGenerator` and its
configs.

It sits beside :mod:`vocoder.models.hifigan` rather than in it because it
also names the generator's fast CPU forward pass
(:mod:`vocoder.models.inference`), which imports the generator.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from vocoder.errors import VocoderError
from vocoder.models.architecture import Architecture
from vocoder.models.hifigan import VERSIONS, HiFiGANGenerator
from vocoder.models.inference import prepare_for_inference
from vocoder.safety.text import shown

F32 = 4

# Bounds on a generator read from a file's metadata. The widest published
# HiFi-GAN-family generators (BigVGAN v2: 1536 channels, 6 levels) sit well
# inside; anything beyond is a hostile or broken file, refused before a
# single weight is allocated.
CONFIG_LIMITS = {"in_channels": 1024, "upsample_initial_channel": 8192, "levels": 8, "rate": 64, "kernel": 256,
                 "resblocks": 8, "dilations": 8, "dilation": 64}
_CONFIG_KEYS = ("in_channels", "upsample_rates", "upsample_kernel_sizes", "upsample_initial_channel", "resblock",
                "resblock_kernel_sizes", "resblock_dilation_sizes")


def check_config(config: Any) -> dict[str, Any]:
    """A generator configuration from a file, type- and range-checked (raises
    VocoderError naming the first bad field); returns it as plain values."""
    def whole(name: str, value: Any, low: int, high: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise VocoderError(f"generator {name} must be a whole number in {low}..{high} (got {shown(value)})")
        return value

    def whole_list(name: str, value: Any, low: int, high: int, most: int) -> list[int]:
        if not isinstance(value, list) or not 1 <= len(value) <= most:
            raise VocoderError(f"generator {name} must be a list of 1..{most} numbers (got {shown(value)})")
        return [whole(name, v, low, high) for v in value]

    if not isinstance(config, dict):
        raise VocoderError(f"the generator configuration must be a JSON object (got {shown(config)})")
    unknown = sorted(set(config) - set(_CONFIG_KEYS))
    missing = [k for k in _CONFIG_KEYS if k not in config]
    if unknown or missing:
        raise VocoderError(f"generator configuration: unknown {shown(unknown)}, missing {missing}")
    lim = CONFIG_LIMITS
    rates = whole_list("upsample_rates", config["upsample_rates"], 1, lim["rate"], lim["levels"])
    kernels = whole_list("upsample_kernel_sizes", config["upsample_kernel_sizes"], 1, lim["kernel"], lim["levels"])
    if len(kernels) != len(rates) or any(k < r for k, r in zip(kernels, rates)):
        raise VocoderError("generator upsample_kernel_sizes must pair with upsample_rates, each kernel >= its rate")
    width = whole("upsample_initial_channel", config["upsample_initial_channel"], 2 ** len(rates),
                  lim["upsample_initial_channel"])
    if width % 2 ** len(rates):
        raise VocoderError(f"generator upsample_initial_channel {width} must halve cleanly at {len(rates)} levels")
    if config["resblock"] not in ("1", "2"):
        raise VocoderError(f"generator resblock must be '1' or '2' (got {shown(config['resblock'])})")
    block_kernels = whole_list("resblock_kernel_sizes", config["resblock_kernel_sizes"], 1, lim["kernel"],
                               lim["resblocks"])
    dilations = config["resblock_dilation_sizes"]
    if not isinstance(dilations, list) or len(dilations) != len(block_kernels):
        raise VocoderError("generator resblock_dilation_sizes must give one list per resblock kernel")
    dilations = [whole_list("resblock_dilation_sizes", d, 1, lim["dilation"], lim["dilations"]) for d in dilations]
    return {"in_channels": whole("in_channels", config["in_channels"], 1, lim["in_channels"]),
            "upsample_rates": rates, "upsample_kernel_sizes": kernels, "upsample_initial_channel": width,
            "resblock": config["resblock"], "resblock_kernel_sizes": block_kernels,
            "resblock_dilation_sizes": dilations}


class HiFiGAN(Architecture):
    """Kong, Kim & Bae 2020: transposed convolutions with multi-receptive-field
    resblocks, log-mel in, weight norm on every convolution while training."""

    name = "hifigan"
    summary = ("HiFi-GAN (Kong, Kim & Bae 2020, NeurIPS): transposed convolutions and multi-receptive-field "
               "resblocks; published layouts " + ", ".join(VERSIONS))
    generator = HiFiGANGenerator
    default_layout = "v1"

    def check_config(self, config: Any) -> dict[str, Any]:
        return check_config(config)

    def bands(self, config: dict[str, Any]) -> int:
        return config["in_channels"]

    def hop_length(self, config: dict[str, Any]) -> int:
        hop = 1
        for rate in config["upsample_rates"]:
            hop *= rate
        return hop

    def parameters(self, config: dict[str, Any]) -> int:
        c0, n_in = config["upsample_initial_channel"], config["in_channels"]
        total = n_in * c0 * 7 + c0  # conv_pre
        ch = c0
        convs_per_block = 2 if config["resblock"] == "1" else 1
        for rate, kernel in zip(config["upsample_rates"], config["upsample_kernel_sizes"]):
            total += ch * (ch // 2) * kernel + ch // 2
            ch //= 2
            for k, dilations in zip(config["resblock_kernel_sizes"], config["resblock_dilation_sizes"]):
                total += convs_per_block * len(dilations) * (ch * ch * k + ch)
        return total + ch * 7 + 1  # conv_post

    def activations(self, config: dict[str, Any], channels: int, frames: int) -> float:
        """At each upsampling level the input, the upsampled signal, the running
        sum over resblocks and a resblock's two intermediates (float32); the
        largest level dominates."""
        ch, length, peak = config["upsample_initial_channel"], frames, 0.0
        for rate in config["upsample_rates"]:
            before = ch * length
            ch, length = ch // 2, length * rate
            peak = max(peak, F32 * channels * (before + 5 * ch * length))
        return peak + F32 * channels * config["in_channels"] * frames * 3

    def describe(self, config: dict[str, Any]) -> str:
        """'HiFi-GAN V1' when the config is a published layout, else 'HiFi-GAN (custom layout)'."""
        layout = {k: v for k, v in config.items() if k != "in_channels"}
        for version, known in VERSIONS.items():
            if layout == known.to_dict():
                return f"HiFi-GAN {version.upper()}"
        return "HiFi-GAN (custom layout)"

    def layout(self, name: str, bands: int) -> dict[str, Any]:
        if name not in VERSIONS:
            raise VocoderError(f"HiFi-GAN has no layout {name!r}; published: {', '.join(VERSIONS)}")
        return {"in_channels": bands, **VERSIONS[name].to_dict()}

    def inference(self, generator: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        # Same function as the generator to float32 rounding, ~1.5x faster on CPU (channels-last,
        # polyphase upsampling, fused kernels); measured in experiments/hifigan-v1-speed.
        return prepare_for_inference(generator)

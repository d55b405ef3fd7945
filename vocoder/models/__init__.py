"""Neural vocoder building blocks in plain torch (never imports Lightning).

A generator is usable from a notebook: ``HiFiGANGenerator.from_version("v1", n_mels=80)``.
"""

from vocoder.models.discriminators import MultiPeriodDiscriminator, MultiScaleDiscriminator
from vocoder.models.hifigan import VERSIONS, HiFiGANGenerator
from vocoder.models.losses import (
    discriminator_loss,
    feature_matching_loss,
    generator_adversarial_loss,
    LogMel,
)

__all__ = [
    "VERSIONS", "HiFiGANGenerator", "LogMel", "MultiPeriodDiscriminator", "MultiScaleDiscriminator",
    "discriminator_loss", "feature_matching_loss", "generator_adversarial_loss",
]

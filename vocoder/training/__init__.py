"""Training (the only package that imports Lightning).

`vocoder fit|validate|test` lands in :func:`vocoder.training.cli.run`.
"""

from vocoder.training.data import AudioDataModule
from vocoder.training.module import HiFiGANModule, NonFiniteLossError

__all__ = ["AudioDataModule", "HiFiGANModule", "NonFiniteLossError"]

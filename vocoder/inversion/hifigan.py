"""`hifigan`: the `learned` backend for HiFi-GAN models only.

The name the learned backend had before any other architecture existed;
records and scripts that say `hifigan` keep meaning a HiFi-GAN generator,
and a model of another architecture is refused here in favour of `learned`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from vocoder.inversion.learned import Learned


@dataclass
class HiFiGAN(Learned):
    name: ClassVar[str] = "hifigan"
    summary: ClassVar[str] = ("HiFi-GAN (Kong et al. 2020) generator; --checkpoint a model name (vocoder models), "
                              ".safetensors or .ckpt; learned, fixed spec")
    architecture_name: ClassVar[str | None] = "hifigan"

"""Inversion backends: spectrogram → waveform. See registry.register."""

from vocoder.inversion.base import Inverter, Option
from vocoder.inversion.registry import BACKENDS, backend_class, create, register

__all__ = ["BACKENDS", "Inverter", "Option", "backend_class", "create", "register"]

"""Inversion backends: spectrogram → waveform. See registry.BACKENDS."""

from vocoder.inversion.base import Inverter
from vocoder.inversion.registry import BACKENDS, backend_class, create, describe

__all__ = ["BACKENDS", "Inverter", "backend_class", "create", "describe"]

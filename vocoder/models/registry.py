"""Architecture name → its declaration (:class:`vocoder.models.architecture.Architecture`).

Adding a neural vocoder: one module (its generator and declaration) plus one
line in ``ARCHITECTURES``; the store, the budget, the published models,
training and the `learned` backend then take it with no other change.
:func:`register` adds one at run time (tests, plugins).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from vocoder.errors import VocoderError
from vocoder.models.architecture import Architecture
from vocoder.models.hifigan_architecture import HiFiGAN
from vocoder.safety.text import shown

ARCHITECTURES: dict[str, Architecture] = {
    HiFiGAN.name: HiFiGAN(),
}
# What training builds when its config names no generator (HiFi-GAN's recipe).
DEFAULT = HiFiGAN.name


def register(architecture: Architecture) -> None:
    """Add an architecture under its name (refused if the name is taken); :func:`unregister` undoes it."""
    if architecture.name in ARCHITECTURES:
        raise VocoderError(f"an architecture named {architecture.name!r} is already registered")
    ARCHITECTURES[architecture.name] = architecture


def unregister(name: str) -> None:
    ARCHITECTURES.pop(name, None)


def names() -> list[str]:
    return list(ARCHITECTURES)


def get(name: Any) -> Architecture:
    """The declaration of ``name`` (as a file's metadata says it), or one line naming the known ones."""
    try:
        return ARCHITECTURES[name]
    except (KeyError, TypeError):
        raise VocoderError(f"unknown model architecture {shown(name)}; known: {', '.join(ARCHITECTURES)}") from None


def of(generator: nn.Module) -> Architecture:
    """The declaration whose generator class ``generator`` is an instance of."""
    found = next((a for a in ARCHITECTURES.values() if isinstance(generator, a.generator)), None)
    if found is None:
        raise VocoderError(f"{type(generator).__module__}.{type(generator).__qualname__} is not a registered "
                           f"model architecture (known: {', '.join(ARCHITECTURES)}); a generator needs a "
                           "declaration in vocoder.models.registry")
    return found


def default_generator(bands: int) -> nn.Module:
    """The generator training builds when its config names none: the default architecture's default layout."""
    architecture = ARCHITECTURES[DEFAULT]
    return architecture.build(architecture.layout(architecture.default_layout, bands))

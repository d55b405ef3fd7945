"""Name → backend class. Adding a backend: one module plus one line here.

Entries are import paths, loaded on first use, so listing backends or running
a classical one never imports a neural backend's heavy dependencies.
"""

from __future__ import annotations

import importlib
from typing import Any

from vocoder.errors import VocoderError
from vocoder.inversion.base import Inverter

BACKENDS: dict[str, str] = {
    "griffinlim": "vocoder.inversion.griffinlim:GriffinLim",
    "fgla": "vocoder.inversion.griffinlim:FastGriffinLim",
    "pghi": "vocoder.inversion.pghi:PGHI",
    "pghi+fgla": "vocoder.inversion.pghi_fgla:PGHIFastGriffinLim",
    "agla": "vocoder.inversion.agla:AcceleratedGriffinLim",
    "admm": "vocoder.inversion.admm:ADMMPhaseRetrieval",
    "mel-gd": "vocoder.inversion.mel_gd:MelGradientDescent",
    "hifigan": "vocoder.inversion.hifigan:HiFiGAN",
    "learned": "vocoder.inversion.learned:Learned",
}


def backend_class(name: str) -> type[Inverter]:
    try:
        target = BACKENDS[name]
    except KeyError:
        raise VocoderError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}") from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def create(name: str, **options: Any) -> Inverter:
    """Build backend ``name`` from the options the user set (None = not set)."""
    cls = backend_class(name)
    given = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(given) - set(cls.options()))
    if unknown:
        flags = ", ".join(f"--{k}" for k in unknown)
        raise VocoderError(f"backend {name!r} does not take {flags} (it takes: {', '.join(cls.options()) or 'nothing'})")
    return cls(**cls.check_options(given))


def describe() -> list[tuple[str, str]]:
    """(name, one-line summary) for every registered backend."""
    return [(name, backend_class(name).summary) for name in BACKENDS]

"""Name → backend. Adding a backend: its class, plus one ``register`` call.

A backend's class declares everything else: its options (dataclass fields
with help, see ``Inverter.option_table``), its memory working set, whether
it runs block-wise. Built-in entries are import paths, loaded on first use,
so `vocoder info` or a classical run never imports every backend (nor a
neural backend's heavy dependencies).
"""

from __future__ import annotations

import importlib
from typing import Any

from vocoder.errors import VocoderError
from vocoder.inversion.base import Inverter

# name → class, or "module:attr" until first use.
BACKENDS: dict[str, type[Inverter] | str] = {}


def register(name: str, target: type[Inverter] | str) -> None:
    """Make backend ``name`` available: a class, or a lazy "module:attr" path
    (checked when first loaded). A name already taken is refused."""
    if name in BACKENDS:
        raise ValueError(f"backend name {name!r} is already registered ({BACKENDS[name]})")
    if not isinstance(target, str):
        _check_declared(name, target)
    BACKENDS[name] = target


def _check_declared(name: str, cls: type) -> None:
    """What a backend must declare, said before anyone runs it."""
    if not (isinstance(cls, type) and issubclass(cls, Inverter)):
        raise TypeError(f"backend {name!r}: {cls!r} is not an Inverter subclass")
    if "working_set" in getattr(cls, "__abstractmethods__", ()):
        raise TypeError(f"backend {name!r} ({cls.__name__}) declares no working_set: the bytes its inversion "
                        "holds at its peak, which the memory budget needs before any work")
    cls.option_table()  # every option has help and a type the command line can give


def backend_class(name: str) -> type[Inverter]:
    try:
        target = BACKENDS[name]
    except KeyError:
        raise VocoderError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}") from None
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        cls = getattr(importlib.import_module(module), attr)
        _check_declared(name, cls)
        BACKENDS[name] = target = cls
    return target


def create(name: str, **options: Any) -> Inverter:
    """Build backend ``name`` from the options the user set (None = not set)."""
    cls = backend_class(name)
    return cls(**cls.check_options({k: v for k, v in options.items() if v is not None}))


def blockwise_backends() -> list[str]:
    """The backends that can run block-wise (imports every backend)."""
    return [name for name in BACKENDS if backend_class(name).runs_blockwise()]


register("griffinlim", "vocoder.inversion.griffinlim:GriffinLim")
register("fgla", "vocoder.inversion.griffinlim:FastGriffinLim")
register("pghi", "vocoder.inversion.pghi:PGHI")
register("pghi+fgla", "vocoder.inversion.pghi_fgla:PGHIFastGriffinLim")
register("agla", "vocoder.inversion.agla:AcceleratedGriffinLim")
register("admm", "vocoder.inversion.admm:ADMMPhaseRetrieval")
register("mel-gd", "vocoder.inversion.mel_gd:MelGradientDescent")
register("hifigan", "vocoder.inversion.hifigan:HiFiGAN")
register("learned", "vocoder.inversion.learned:Learned")
register("band", "vocoder.inversion.band:BandLimit")

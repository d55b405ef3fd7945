"""The interface every inversion backend implements, and the table of
options a backend declares (its dataclass fields, each with its help)."""

from __future__ import annotations

import dataclasses
import math
import sys
import typing
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from vocoder.errors import VocoderError
from vocoder.safety.text import shown
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

if TYPE_CHECKING:  # the option tables (`vocoder backends`) need no torch
    import torch

# Said wherever a learned backend's output appears (record, stderr, report).
LEARNED_OUTPUT_STATEMENT = (
    "learned model: its output may contain sound that was not in the input spectrogram "
    "(a trained vocoder fills in detail from what it saw in training)"
)


@dataclasses.dataclass(frozen=True)
class Option:
    """One user-settable option of a backend: the command line's flag
    (``--name``), bench's ``NAME:name=value`` and `vocoder backends` all
    come from it."""

    name: str
    type: str  # shown to users: int, float, str, or the choices joined by |
    default: Any
    choices: tuple[Any, ...] | None
    help: str
    hint: Any = dataclasses.field(repr=False, compare=False)  # the field's type, for checking values

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "default": self.default,
                "choices": list(self.choices) if self.choices else None, "help": self.help}


class Inverter(ABC):
    """Spectrogram → waveform.

    Subclasses are dataclasses whose fields are their user-settable options
    (``iters``, ``seed``, …), each with its help text
    (``field(default=…, metadata={"help": …})``; a ``Literal`` type lists the
    choices). :meth:`option_table` reads them; the command line, bench and
    `vocoder backends` are generated from it. Fields named ``_…`` or with
    ``init=False`` are state, not options.

    ``needs_stft_bins`` says what the backend consumes: True for phase
    retrieval, which takes linear STFT magnitudes under any spec (an input on
    another axis is converted first by its axis's inverse, and the conversion
    is recorded); False for backends that consume the input's own rows (mel-gd;
    trained backends, which declare the one spec they were trained on).
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    needs_stft_bins: ClassVar[bool] = True

    def fixed_spec(self) -> SpectrogramSpec | None:
        """The one spec a trained backend accepts; None for 'any spec'.

        A picture without metadata is then read under this spec (the front end
        maps it onto the model's bins); a spectrogram with another spec is
        refused rather than silently reinterpreted.
        """
        return None

    def learned_model(self) -> dict[str, Any] | None:
        """Identity of the trained model behind a learned backend, None for a
        classical one: ``name``, ``architecture``, ``weights_sha256``,
        ``training_data``, ``licence`` and ``statement`` (LEARNED_OUTPUT_STATEMENT).
        Every output of a learned backend carries it."""
        return None

    def prepare(self, spectrogram: Spectrogram) -> Spectrogram:
        """Convert the input to what this backend consumes (recorded)."""
        fixed = self.fixed_spec()
        if fixed is not None:
            if spectrogram.spec != fixed:
                raise VocoderError(
                    f"backend {self.name!r} only accepts the spec it was trained on; the input differs in "
                    + "; ".join(f"{d} (model vs input)" for d in fixed.differences(spectrogram.spec))
                )
            return spectrogram
        self.check_spec(spectrogram.spec)
        if self.needs_stft_bins:
            return spectrogram.spec.axis.inverse(spectrogram)  # identity on a linear axis
        return spectrogram

    @abstractmethod
    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        """Bytes :meth:`invert` holds at its peak for this input, from the
        shape alone (the memory budget asks before any work; see budget.py's
        building blocks). Every backend declares it: the registry refuses one
        that does not, rather than guess."""

    @classmethod
    def option_table(cls) -> list[Option]:
        """The options this backend takes, from its dataclass fields."""
        if not dataclasses.is_dataclass(cls):
            return []
        table = []
        for f in dataclasses.fields(cls):
            if not f.init or f.name.startswith("_"):
                continue
            if "help" not in f.metadata:
                raise TypeError(f"backend {cls.name!r}: option {f.name!r} has no help "
                                "(field(..., metadata={'help': ...}))")
            hint = _option_hint(cls, f)
            choices = typing.get_args(hint) if typing.get_origin(hint) is typing.Literal else None
            if choices is None and not set(typing.get_args(hint) or (hint,)) - {type(None)} <= _TYPES:
                raise TypeError(f"backend {cls.name!r}: option {f.name!r} is a {hint}; the command line gives "
                                "int, float, str or a Literal of choices")
            if f.default is not dataclasses.MISSING:
                default = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = None
            table.append(Option(f.name, _type_name(hint), default, choices, f.metadata["help"], hint))
        return table

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        """Options as the fields' types want them, or one line naming the bad one.

        The one check of every option's type before a backend sees it, from
        the command line or from bench's ``NAME:key=value`` text: whole
        numbers for int fields (seeds within 0..2^63-1), finite numbers for
        float fields, one of the listed words for Literal fields. Each is
        named by its flag, as the command line spells it.
        """
        table = {o.name: o for o in cls.option_table()}
        unknown = sorted(set(options) - set(table))
        if unknown:
            flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
            raise VocoderError(f"backend {cls.name!r} does not take {flags} "
                               f"(it takes: {', '.join(o.flag for o in table.values()) or 'nothing'})")
        return {key: _coerce(f"{cls.name}: {table[key].flag}", key, value, table[key].hint)
                for key, value in options.items()}

    def check_spec(self, spec: SpectrogramSpec) -> None:
        """Refuse, with one line, a spec this backend cannot invert (beyond the
        fixed-spec rule); called by ``prepare`` and by the bench before any work."""

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        """(channels × samples) float32 waveform of ``spectrogram.length`` samples."""
        return self.invert_from(spectrogram, self.start_phase(spectrogram))

    # Phase-retrieval backends split their work in two, which is what lets
    # them run block-wise (inversion/blockwise.py): where they start, and the
    # inversion from a given start. Backends without a start phase (learned
    # ones, mel-gd) override ``invert`` instead and cannot run block-wise.
    def start_phase(self, spectrogram: Spectrogram) -> torch.Tensor:
        """Unit-modulus complex start phase (channels × bins × frames)."""
        raise NotImplementedError(f"backend {self.name!r} has no start phase")

    def invert_from(self, spectrogram: Spectrogram, phase: torch.Tensor, callback=None) -> torch.Tensor:
        """The inversion of ``spectrogram`` (linear) from ``phase``. ``callback(n, X)``
        sees the estimate (channels × bins × frames) after each iteration n and
        may write into it: block-wise inversion holds the frames a block shares
        with the one before at that block's values."""
        raise NotImplementedError(f"backend {self.name!r} cannot start from a given phase")

    @classmethod
    def runs_blockwise(cls) -> bool:
        return cls.invert_from is not Inverter.invert_from

    # A refinement continues from another stage's waveform: the later stages
    # of a composed backend (``A>B``, inversion/compose.py). Phase-retrieval
    # backends start from the waveform's phase (inversion/refining.py), mel-gd
    # from its samples; ``band`` only refines.
    starts: ClassVar[bool] = True  # False: a refinement only, never a first stage

    def refine(self, spectrogram: Spectrogram, start: torch.Tensor) -> torch.Tensor:
        """``start`` (channels × samples, another stage's output) moved towards
        ``spectrogram`` (the input as :meth:`prepare` made it for this backend);
        a refinement with no work to do (``iters=0``) returns ``start`` as it is."""
        raise NotImplementedError(f"backend {self.name!r} cannot refine another stage's output")

    @classmethod
    def refines(cls) -> bool:
        return cls.refine is not Inverter.refine

    def refine_parameters(self) -> dict[str, Any]:
        """The record of this backend as a refinement (by default its parameters)."""
        return self.parameters()

    def stage_report(self) -> dict[str, Any] | None:
        """What the last :meth:`refine` found that the record should say (e.g. the
        energy ``band`` removed); None when there is nothing to say."""
        return None

    def parameters(self) -> dict[str, Any]:
        return dataclasses.asdict(self) if dataclasses.is_dataclass(self) else {}


# What _coerce turns command-line text into (besides a Literal's choices).
_TYPES = {int, float, str}

# Seeds go to torch.Generator.manual_seed (at most 2^64 - 1) and numpy's
# default_rng (non-negative): 0..2^63-1 suits both, and any real use.
MAX_SEED = 2**63 - 1


def _option_hint(cls: type, f: dataclasses.Field) -> Any:
    """The type of one option field, its annotation evaluated where it was
    written (as typing.get_type_hints does, but for this field alone: a
    private field may be annotated with a model or torch type, which a
    backend's declaration does not import)."""
    if not isinstance(f.type, str):
        return f.type
    owner = next(k for k in cls.__mro__ if f.name in k.__dict__.get("__annotations__", {}))
    # Module names first, then the class's: typing.get_type_hints's order for a class.
    return eval(f.type, dict(vars(owner)), vars(sys.modules[owner.__module__]))  # noqa: S307 (our own source)


def _type_name(hint: Any) -> str:
    """int, float, str; the choices of a Literal joined by |; an Optional's inner type."""
    if typing.get_origin(hint) is typing.Literal:
        return "|".join(map(str, typing.get_args(hint)))
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if args:
        return " or ".join(_type_name(a) for a in args)
    return getattr(hint, "__name__", str(hint))


def _coerce(flag: str, key: str, value: Any, want: Any) -> Any:
    args = typing.get_args(want)
    if typing.get_origin(want) is typing.Literal:
        if value not in args:
            raise VocoderError(f"{flag} must be one of {', '.join(map(str, args))} (got {shown(value)})")
        return value
    if want is int or (int in args and float not in args):
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                pass
        if not isinstance(value, int) or isinstance(value, bool):
            raise VocoderError(f"{flag} must be a whole number (got {shown(value)})")
        if key == "seed" and not 0 <= value <= MAX_SEED:
            raise VocoderError(f"{flag} must be in 0..{MAX_SEED} (got {shown(value)})")
        return value
    if want is float or float in args:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise VocoderError(f"{flag} must be a finite number (got {shown(value)})")
        return float(value)
    if want is str or str in args:
        if not isinstance(value, str):
            raise VocoderError(f"{flag} must be text (got {shown(value)})")
    return value

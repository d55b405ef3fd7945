"""Composed backends: "this backend, then that refinement", written
``A>B:key=value>C…`` (``hifigan-v1-universal>band``,
``hifigan-v1-lj>fgla:iters=32>band``).

Every stage is a registered backend with its own options (``NAME:key=value``,
as bench has always written them). A published model's name stands for the
learned backend with that checkpoint (``hifigan-v1-lj`` =
``learned:checkpoint=hifigan-v1-lj``). The first stage makes a waveform from
the spectrogram; each later one refines the waveform before it
(:meth:`Inverter.refine`: phase retrieval from its phase, mel-gd from its
samples, band by removing what the input does not support), each on the
input as its own :meth:`~Inverter.prepare` makes it. A composition with a
learned stage is learned: its record names the model and every stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vocoder.errors import VocoderError
from vocoder.inversion.base import LEARNED_OUTPUT_STATEMENT, Inverter
from vocoder.inversion.registry import BACKENDS, backend_class, create
from vocoder.safety.text import shown
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

if TYPE_CHECKING:  # the declaration (`vocoder backends`) loads no torch
    import torch

THEN = ">"
SYNTAX = ("NAME[:KEY=VALUE…][>REFINEMENT[:KEY=VALUE…]…], e.g. hifigan-v1-universal>band or "
          "hifigan-v1-lj>fgla:iters=32 (NAME: a backend or a published model's name)")


@dataclass(frozen=True)
class Stage:
    """One stage as written: the backend's name, its own options (text until
    checked) and, for a published model's name, that name."""

    name: str
    options: dict[str, Any]
    model: str | None = None

    @property
    def label(self) -> str:
        """'fgla iters=32', or the model's name for a published model."""
        if self.model is not None:
            return self.model + "".join(f" {k}={v}" for k, v in self.options.items() if k != "checkpoint")
        return self.name + "".join(f" {k}={v}" for k, v in self.options.items())


def _model_names() -> list[str]:
    from vocoder.models.pretrained import MODELS  # torch: only when a name is not a backend

    return list(MODELS)


def _stage(text: str, whole: str) -> Stage:
    name, _, rest = text.partition(":")
    name = name.strip()
    if not name:
        raise VocoderError(f"backend {shown(whole)} has an empty stage; write {SYNTAX}")
    own: dict[str, Any] = {}
    for pair in filter(None, rest.split(":")):
        key, eq, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key:
            raise VocoderError(f"backend option {shown(pair)} in {shown(whole)} is not KEY=VALUE")
        if key in own:
            raise VocoderError(f"backend option {key!r} is given twice in stage {shown(text)} of {shown(whole)}")
        own[key] = value.strip()
    if name in BACKENDS:
        return Stage(name, own)
    models = _model_names()
    if name in models:
        if "checkpoint" in own:
            raise VocoderError(f"{name} is a published model; it takes no checkpoint= (in {shown(whole)})")
        return Stage("learned", {"checkpoint": name, **own}, model=name)
    raise VocoderError(f"unknown backend {shown(name)} in {shown(whole)}; choose a backend "
                       f"({', '.join(BACKENDS)}) or a published model ({', '.join(models)})")


def parse(text: str) -> list[Stage]:
    """``A>B:key=value>C`` → stages, each name known; what each stage may be
    (a first stage makes a waveform, later ones refine) is checked here."""
    stages = [_stage(part, text) for part in text.split(THEN)]
    for position, stage in enumerate(stages):
        cls = backend_class(stage.name)
        if position == 0 and not cls.starts:
            raise VocoderError(f"{stage.name} refines another stage's output and cannot come first in "
                               f"{shown(text)} (e.g. hifigan-v1-universal>{stage.name})")
        if position > 0 and not cls.refines():
            able = ", ".join(n for n in BACKENDS if backend_class(n).refines())
            raise VocoderError(f"{stage.name} cannot refine another stage's output (stage {position + 1} of "
                               f"{shown(text)}); refinements: {able}")
    return stages


def build(text: str, defaults: dict[str, Any] | None = None, strict: bool = True) -> Inverter:
    """The inverter ``text`` names: one backend, or a :class:`Composed` one.

    ``defaults`` (the command line's flags, bench's ``--iters``/``--seed``)
    go to every stage that takes them and does not set its own; with
    ``strict`` one that no stage takes is refused, as `invert` refuses a
    flag its backend does not take.
    """
    return build_stages(parse(text), text, defaults, strict)


def build_stages(stages: list[Stage], text: str, defaults: dict[str, Any] | None = None,
                 strict: bool = True) -> Inverter:
    """:func:`build` of the stages ``text`` was parsed into."""
    given = {k: v for k, v in (defaults or {}).items() if v is not None}
    inverters = [create(stage.name, **stage_options(stage, given)) for stage in stages]
    if strict:
        table = [o for s in stages for o in backend_class(s.name).option_table()]
        unused = sorted(set(given) - {o.name for o in table})
        if unused:
            flags = ", ".join("--" + k.replace("_", "-") for k in unused)
            taken = ", ".join(dict.fromkeys(o.flag for o in table)) or "nothing"
            raise VocoderError(f"backend {shown(text)} does not take {flags} (it takes: {taken})")
    if len(stages) == 1:
        return inverters[0]
    return Composed(text, stages, inverters)


def stage_options(stage: Stage, defaults: dict[str, Any]) -> dict[str, Any]:
    """A stage's options, checked: its own, else the defaults it takes."""
    cls = backend_class(stage.name)
    takes = {o.name for o in cls.option_table()}
    return cls.check_options({**{k: v for k, v in defaults.items() if k in takes and v is not None},
                              **stage.options})


class Composed(Inverter):
    """A first stage and its refinements, run as one backend."""

    summary = "composed: " + SYNTAX

    def __init__(self, text: str, stages: list[Stage], inverters: list[Inverter]):
        self.name = text
        self.stages = stages
        self.inverters = inverters
        self._reports: list[dict[str, Any] | None] = [None] * len(stages)
        self._steps: list[list[dict]] = [[] for _ in stages]

    @property
    def learned_stage(self) -> Inverter | None:
        return next((i for i in self.inverters if i.learned_model() is not None), None)

    def fixed_spec(self) -> SpectrogramSpec | None:
        """A learned stage's spec: the one a picture is read under and the only one accepted."""
        specs = [i.fixed_spec() for i in self.inverters if i.fixed_spec() is not None]
        if any(s != specs[0] for s in specs[1:]):
            raise VocoderError(f"the learned stages of {shown(self.name)} were trained on different specs")
        return specs[0] if specs else None

    def check_spec(self, spec: SpectrogramSpec) -> None:
        for inverter in self.inverters:
            inverter.check_spec(spec)

    def prepare(self, spectrogram: Spectrogram) -> Spectrogram:
        """Checked for every stage; each stage prepares its own copy in :meth:`invert`."""
        self.check_spec(spectrogram.spec)
        return spectrogram

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        # One stage runs at a time, holding the waveform before it.
        held = 4 * channels * samples
        return max(i.working_set(channels, spec, frames, samples) for i in self.inverters) + held

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        first, *rest = self.inverters
        prepared = first.prepare(spectrogram)
        self._steps[0] = _new_steps(spectrogram, prepared)
        waveform = first.invert(prepared)
        self._reports[0] = first.stage_report()
        for index, inverter in enumerate(rest, start=1):
            if getattr(inverter, "iters", None) == 0:  # nothing to do: not even its input's conversion
                self._reports[index] = {"skipped": "iters=0: the previous stage's output, unchanged"}
                continue
            prepared = inverter.prepare(spectrogram)
            self._steps[index] = _new_steps(spectrogram, prepared)
            waveform = inverter.refine(prepared, waveform)
            self._reports[index] = inverter.stage_report()
        return waveform

    def learned_model(self) -> dict[str, Any] | None:
        stage = self.learned_stage
        if stage is None:
            return None
        identity = dict(stage.learned_model())
        identity["composed"] = (f"{shown(self.name)}: the later stages move the learned output towards the input, "
                                "but what they keep of it, its phase above all, is the model's")
        identity["statement"] = LEARNED_OUTPUT_STATEMENT
        return identity

    def parameters(self) -> dict[str, Any]:
        stages = []
        for index, (stage, inverter) in enumerate(zip(self.stages, self.inverters)):
            entry: dict[str, Any] = {"stage": index + 1, "backend": stage.name, "written": stage.label,
                                     "role": "first: inverts the input" if index == 0 else
                                     "refines the previous stage's output",
                                     "parameters": inverter.parameters() if index == 0 else
                                     inverter.refine_parameters(),
                                     "learned": inverter.learned_model() is not None}
            if self._steps[index]:
                entry["input_steps"] = self._steps[index]
            if self._reports[index] is not None:
                entry["found"] = self._reports[index]
            stages.append(entry)
        seeds = [s["parameters"].get("seed") for s in stages if s["parameters"].get("seed") is not None]
        return {"composed": self.name, "stages": stages, **({"seed": seeds[0]} if seeds else {})}


def model_files(inverter: Inverter) -> list[str]:
    """The checkpoints an inverter's stages read (inputs the outputs may not replace)."""
    stages = inverter.inverters if isinstance(inverter, Composed) else [inverter]
    return [s.checkpoint for s in stages if isinstance(getattr(s, "checkpoint", None), str)]


def label(stages: list[Stage]) -> str:
    """How tables name a backend: 'fgla iters=32', 'hifigan-v1-lj > band'."""
    return " > ".join(stage.label for stage in stages)


def _new_steps(before: Spectrogram, after: Spectrogram) -> list[dict]:
    """The steps a stage's prepare added (e.g. mel → linear by NNLS)."""
    return list(after.provenance[len(before.provenance):])

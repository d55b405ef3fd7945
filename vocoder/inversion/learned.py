"""`learned`: a trained generator of any registered architecture as an inversion backend.

``checkpoint`` is a published model's name (`vocoder models`), a model file
(``.safetensors`` from `vocoder export` or `vocoder import`) or a training
checkpoint (``.ckpt`` from `vocoder fit`); :mod:`vocoder.models.store` reads
the files without running pickled code, and :mod:`vocoder.models.loading`
resolves a name or a file. What the model consumes, how much memory it takes
and how it runs come from its architecture's declaration
(:mod:`vocoder.models.registry`), so a new architecture needs nothing here.
The model's spec travels with it and is the only spec the backend accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from vocoder.errors import VocoderError
from vocoder.inversion.base import LEARNED_OUTPUT_STATEMENT, Inverter
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

if TYPE_CHECKING:  # the models load with one: the declaration (`vocoder backends`) loads no torch
    import torch

    from vocoder.models import store
    from vocoder.models.architecture import Architecture


# fgla iterations that put a converted input's linear magnitude under the
# model's output (as `X>fgla:iters=32`; the study's compositions measure it).
PROJECTION_ITERS = 32


@dataclass
class Learned(Inverter):
    name: ClassVar[str] = "learned"
    summary: ClassVar[str] = ("a trained generator of any architecture `vocoder models` lists; --checkpoint a "
                              "model name, .safetensors or .ckpt; learned, fixed spec")
    needs_stft_bins: ClassVar[bool] = False
    # The one architecture a backend of this name runs (None: any registered one).
    architecture_name: ClassVar[str | None] = None

    checkpoint: str | None = field(default=None, metadata={"help": (
        "trained model: a name from `vocoder models` (e.g. hifigan-v1-lj), a .safetensors from "
        "`vocoder export`/`vocoder import`, or a .ckpt from `vocoder fit`")})
    # A linear or log input (the model's framing) gets the model's features made
    # from it, and the model's output is then put under the given magnitude.
    projection_iters: int = field(default=PROJECTION_ITERS, metadata={"help": (
        "when the input is not the model's own spectrogram (a linear or log one with its framing): fgla "
        "iterations from the model's output onto the given linear magnitude (0: the model's output as is)")})
    _given: Spectrogram | None = field(default=None, init=False, repr=False, compare=False)
    _report: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)
    _model: store.LoadedModel | None = field(default=None, init=False, repr=False, compare=False)
    _forward: Callable[[torch.Tensor], torch.Tensor] | None = field(default=None, init=False, repr=False,
                                                                    compare=False)

    def __post_init__(self) -> None:
        if not self.checkpoint:
            raise VocoderError(f"backend {self.name!r} needs --checkpoint: a model name (`vocoder models`), a "
                               ".safetensors from `vocoder export`/`vocoder import`, or a .ckpt from `vocoder fit`")
        from vocoder.inversion.griffinlim import MAX_ITERS
        from vocoder.models import loading

        if not 0 <= self.projection_iters <= MAX_ITERS:
            raise VocoderError(f"--projection-iters must be a whole number in 0..{MAX_ITERS} "
                               f"(got {self.projection_iters})")

        self._model = loading.load(self.checkpoint)
        held = self._model.meta["architecture"]
        if self.architecture_name is not None and held != self.architecture_name:
            raise VocoderError(f"backend {self.name!r} runs {self.architecture_name} models; {self.checkpoint} "
                               f"holds a {held} model (run it with --backend {Learned.name})")
        self._forward = None  # built on first use (a fast path may copy the weights)

    @property
    def model(self) -> store.LoadedModel:
        assert self._model is not None
        return self._model

    @property
    def architecture(self) -> Architecture:
        from vocoder.models import registry

        return registry.get(self.model.meta["architecture"])

    def fixed_spec(self) -> SpectrogramSpec:
        return self.model.spec

    def prepare(self, spectrogram: Spectrogram) -> Spectrogram:
        """The model's own spectrogram as it is; one with its framing on another
        axis (or padding) converted to its features (recorded), kept for the
        projection after the model; anything else refused in one line."""
        from vocoder.frontend.model_features import to_model_features

        fixed = self.fixed_spec()
        self._given = self._report = None
        if spectrogram.spec == fixed:
            return spectrogram
        self.check_spec(spectrogram.spec)
        self._given = spectrogram.spec.axis.inverse(spectrogram)
        self._report = {"input": f"a {spectrogram.spec.axis.kind} spectrogram ({spectrogram.spec.padding} padding) "
                                 "with the model's framing: the model's features were made from it (see the steps)",
                        "projection_iters": self.projection_iters}
        return to_model_features(spectrogram, fixed, self._given)

    def check_spec(self, spec: SpectrogramSpec) -> None:
        """Its own spec, or one with its framing; anything else refused in one line."""
        from vocoder.frontend.model_features import obstacles

        fixed = self.fixed_spec()
        if spec != fixed and obstacles(spec, fixed):
            raise VocoderError(
                f"backend {self.name!r} only accepts the spec it was trained on, or one with its framing that its "
                "features can be made from; the input differs in "
                + "; ".join(f"{d} (model vs input)" for d in fixed.differences(spec)))

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        model = self.architecture.activations(self.model.meta["config"], channels, frames)
        if spec == self.fixed_spec():
            return model
        from vocoder import costs  # a converted input: its linear magnitude held, then fgla's projection

        held = costs.spectra(1, channels, spec.as_linear(), frames)
        return max(model, costs.fgla_buffers(channels, spec.as_linear(), frames, samples)) + held

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        import torch

        architecture = self.architecture
        features = architecture.features(spectrogram)  # channels as batch
        if self._forward is None:
            self._forward = architecture.inference(self.model.generator)
        with torch.inference_mode():
            audio = self._forward(features)[:, 0]
        n = spectrogram.length
        if audio.shape[-1] < n:
            audio = torch.nn.functional.pad(audio, (0, n - audio.shape[-1]))
        audio = audio[:, :n].float().contiguous()
        if self._given is not None:
            audio = self._project(audio)
        return audio

    def _project(self, audio: torch.Tensor) -> torch.Tensor:
        """The model's output put under the given linear magnitude (fgla from its phase)."""
        from vocoder.inversion.griffinlim import FastGriffinLim

        given, self._given = self._given, None
        self._report = {**(self._report or {}), "projection": (
            f"fgla: {self.projection_iters} projections onto the given linear magnitude from the phase of the "
            "model's output" if self.projection_iters else "none (projection_iters=0): the model's output as is")}
        return FastGriffinLim(iters=self.projection_iters).refine(given, audio)

    def stage_report(self) -> dict[str, Any] | None:
        return self._report

    def learned_model(self) -> dict[str, Any]:
        meta = self.model.meta
        return {"name": self.model.name,
                "architecture": self.architecture.describe(meta["config"]),
                "weights_sha256": self.model.sha256,
                "training_data": meta.get("training_data") or "not recorded",
                "licence": meta.get("licence") or "not recorded",
                "statement": LEARNED_OUTPUT_STATEMENT}

    def parameters(self) -> dict[str, Any]:
        meta = self.model.meta
        found = {"converted_input": self._report} if self._report else {}
        return {**found, "checkpoint": self.checkpoint, "model_file": self.model.path,
                "checkpoint_sha256": self.model.sha256,
                "architecture": meta["architecture"], "generator": meta["config"],
                "trained_batches": meta.get("trained_batches"), "source": meta.get("source"),
                "init_from": meta.get("init_from")}

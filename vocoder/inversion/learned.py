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
    _model: store.LoadedModel | None = field(default=None, init=False, repr=False, compare=False)
    _forward: Callable[[torch.Tensor], torch.Tensor] | None = field(default=None, init=False, repr=False,
                                                                    compare=False)

    def __post_init__(self) -> None:
        if not self.checkpoint:
            raise VocoderError(f"backend {self.name!r} needs --checkpoint: a model name (`vocoder models`), a "
                               ".safetensors from `vocoder export`/`vocoder import`, or a .ckpt from `vocoder fit`")
        from vocoder.models import loading

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

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        return self.architecture.activations(self.model.meta["config"], channels, frames)

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
        return audio[:, :n].float().contiguous()

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
        return {"checkpoint": self.checkpoint, "model_file": self.model.path, "checkpoint_sha256": self.model.sha256,
                "architecture": meta["architecture"], "generator": meta["config"],
                "trained_batches": meta.get("trained_batches"), "source": meta.get("source"),
                "init_from": meta.get("init_from")}

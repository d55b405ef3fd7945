"""`hifigan`: a trained HiFi-GAN generator as an inversion backend.

``checkpoint`` is a pretrained name (``hifigan-v1-lj``, see `vocoder models`),
a model file (``.safetensors`` from `vocoder export` or `vocoder import`) or a
training checkpoint (``.ckpt`` from `vocoder fit`); :mod:`vocoder.models.store`
reads the files without running pickled code, and
:mod:`vocoder.models.loading` resolves a name or a file. The model's spec travels with
it and is the only spec the backend accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from vocoder import budget
from vocoder.errors import VocoderError
from vocoder.inversion.base import LEARNED_OUTPUT_STATEMENT, Inverter
from vocoder.models import loading, store
from vocoder.models.inference import prepare_for_inference
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram


@dataclass
class HiFiGAN(Inverter):
    name: ClassVar[str] = "hifigan"
    summary: ClassVar[str] = ("HiFi-GAN (Kong et al. 2020) generator; --checkpoint a model name (vocoder models), "
                              ".safetensors or .ckpt; learned, fixed spec")
    input_scale: ClassVar[str] = "mel"

    checkpoint: str | None = field(default=None, metadata={"help": (
        "trained model: a name from `vocoder models` (e.g. hifigan-v1-lj), a .safetensors from "
        "`vocoder export`/`vocoder import`, or a .ckpt from `vocoder fit`")})
    _model: store.LoadedModel | None = field(default=None, init=False, repr=False, compare=False)
    _forward: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.checkpoint:
            raise VocoderError("backend 'hifigan' needs --checkpoint: a model name (`vocoder models`), a "
                               ".safetensors from `vocoder export`/`vocoder import`, or a .ckpt from `vocoder fit`")
        self._model = loading.load(self.checkpoint)
        self._forward = None  # the fast CPU path is built on first use (experiments/hifigan-v1-speed)

    @property
    def model(self) -> store.LoadedModel:
        assert self._model is not None
        return self._model

    def fixed_spec(self) -> SpectrogramSpec:
        return self.model.spec

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        return budget.generator_activations(self.model.generator.config(), channels, frames)

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        features = spectrogram.log_features()  # channels as batch
        if self._forward is None:
            # Same function as the generator to float32 rounding, ~1.5x faster on CPU (channels-last,
            # polyphase upsampling, fused kernels); measured in experiments/hifigan-v1-speed.
            self._forward = prepare_for_inference(self.model.generator)
        with torch.inference_mode():
            audio = self._forward(features)[:, 0]
        n = spectrogram.length
        if audio.shape[-1] < n:
            audio = torch.nn.functional.pad(audio, (0, n - audio.shape[-1]))
        return audio[:, :n].float().contiguous()

    def learned_model(self) -> dict[str, Any]:
        meta = self.model.meta
        return {"name": self.model.name,
                "architecture": store.describe_architecture(meta["architecture"], meta["config"]),
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

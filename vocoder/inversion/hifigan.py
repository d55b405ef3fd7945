"""`hifigan`: a trained HiFi-GAN generator as an inversion backend.

Loads either a training checkpoint (``.ckpt``, read with
``torch.load(weights_only=True)`` so a pickled object is refused, never run)
or an export (``.safetensors``: plain tensors plus the spec and architecture
as JSON metadata). The model's spec travels with it and is the only spec the
backend accepts.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import zipfile
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from vocoder import budget
from vocoder.errors import VocoderError
from vocoder.inversion.base import Inverter
from vocoder.models.hifigan import HiFiGANGenerator, check_config
from vocoder.provenance import AtomicOutputs, sha256_file
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram
from vocoder.untrusted import brief, load_json, shown

META_KEY = "vocoder"  # same key the training module writes (kept import-free of Lightning)
EXPORT_FORMAT = 1


@dataclass
class LoadedModel:
    generator: HiFiGANGenerator  # weight norm removed, eval mode
    spec: SpectrogramSpec
    meta: dict[str, Any]


def _read_checkpoint(path: str) -> dict[str, Any]:
    if not zipfile.is_zipfile(path):  # torch.save has written zip archives since torch 1.6
        raise VocoderError(f"{path} is not a PyTorch checkpoint (expected a .ckpt from `vocoder fit` "
                           "or a .safetensors from `vocoder export`)")
    budget.checkpoint_read(path).check()
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()
        detail = next((ln for ln in first if "GLOBAL" in ln or "Unsupported" in ln), first[0] if first else "")
        detail = detail.split(" was not an allowed global")[0].replace("WeightsUnpickler error: ", "")
        raise VocoderError(
            f"refusing {path}: it holds pickled Python objects that only run as code when loaded "
            f"({detail.strip()}); vocoder loads weights only. Use a checkpoint written by `vocoder fit` "
            "or an export from `vocoder export`"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any failure of the deserialiser on a user's file means unreadable
        raise VocoderError(f"cannot read checkpoint {path}: {brief(exc) or type(exc).__name__}") from None
    if not isinstance(checkpoint, dict) or META_KEY not in checkpoint or "state_dict" not in checkpoint \
            or not isinstance(checkpoint["state_dict"], dict):
        raise VocoderError(f"{path} is not a vocoder HiFi-GAN training checkpoint (no '{META_KEY}' metadata)")
    return checkpoint


def _checked_meta(path: str, meta: Any) -> tuple[SpectrogramSpec, dict[str, Any]]:
    """The spec and generator configuration from a file's metadata, checked
    before anything is sized by them."""
    if not isinstance(meta, dict):
        raise VocoderError(f"{path}: its '{META_KEY}' metadata is not a JSON object")
    if meta.get("model") != "hifigan":
        raise VocoderError(f"{path} holds a {shown(meta.get('model'))} model, not hifigan")
    try:
        spec = SpectrogramSpec.from_dict(meta.get("spec"))
        config = check_config(meta.get("generator"))
    except VocoderError as exc:
        raise VocoderError(f"{path}: {exc}") from None
    hop = math.prod(config["upsample_rates"])
    if config["in_channels"] != spec.n_bins or hop != spec.hop_length:
        raise VocoderError(f"{path}: the generator ({config['in_channels']} bands, hop {hop}) does not fit its "
                           f"spec ({spec.n_bins} bands, hop {spec.hop_length})")
    return spec, config


def _build(path: str, meta: dict[str, Any], state: dict[str, torch.Tensor], weight_norm: bool) -> LoadedModel:
    spec, config = _checked_meta(path, meta)
    budget.model_load(config, os.path.getsize(path)).check()
    try:
        generator = HiFiGANGenerator.from_config(config)
        if not weight_norm:
            generator.remove_weight_norm()
        generator.load_state_dict(state)
    except (TypeError, KeyError, ValueError, RuntimeError) as exc:
        raise VocoderError(f"{path}: weights do not fit the recorded architecture: {brief(exc, 200)}") from None
    if weight_norm:
        generator.remove_weight_norm()
    return LoadedModel(generator.eval(), spec, meta)


def load(path: str | os.PathLike) -> LoadedModel:
    """A generator ready for inference, from a ``.ckpt`` or ``.safetensors`` file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise VocoderError(f"checkpoint not found: {path}")
    if path.endswith(".safetensors"):
        from safetensors import SafetensorError, safe_open
        from safetensors.torch import load_file

        try:
            with safe_open(path, framework="pt") as fh:
                header = fh.metadata() or {}
        except (SafetensorError, OSError, ValueError) as exc:
            raise VocoderError(f"cannot read {path}: {brief(exc, 120)}") from None
        if META_KEY not in header:
            raise VocoderError(f"{path} has no '{META_KEY}' metadata: not exported by `vocoder export`")
        meta = load_json(header[META_KEY], f"{path}'s '{META_KEY}' metadata")
        _checked_meta(path, meta)  # before a single tensor is read
        try:
            state = load_file(path)
        except (SafetensorError, OSError, ValueError) as exc:
            raise VocoderError(f"cannot read {path}: {brief(exc, 120)}") from None
        return _build(path, meta, state, weight_norm=False)
    checkpoint = _read_checkpoint(path)
    prefix = "generator."
    state = {k[len(prefix):]: v for k, v in checkpoint["state_dict"].items()
             if isinstance(k, str) and k.startswith(prefix)}
    return _build(path, checkpoint[META_KEY], state, weight_norm=True)


def export(checkpoint: str | os.PathLike, output: str | os.PathLike) -> dict[str, Any]:
    """Training checkpoint → safetensors generator (weight norm folded) + JSON metadata."""
    from safetensors.torch import save_file

    model = load(checkpoint)
    meta = {"format": EXPORT_FORMAT, "model": "hifigan", "spec": model.spec.to_dict(),
            "generator": model.generator.config(), "source_sha256": sha256_file(checkpoint),
            "batches": model.meta.get("batches")}
    state = {k: v.detach().contiguous() for k, v in model.generator.state_dict().items()}
    with AtomicOutputs() as outputs:
        tmp = outputs.reserve(output)
        save_file(state, tmp, metadata={META_KEY: json.dumps(meta, sort_keys=True)})
    return meta


@dataclass
class HiFiGAN(Inverter):
    name: ClassVar[str] = "hifigan"
    summary: ClassVar[str] = "HiFi-GAN (Kong et al. 2020) generator, --checkpoint .ckpt or .safetensors; trained, fixed spec"
    input_scale: ClassVar[str] = "mel"

    checkpoint: str | None = None
    _model: LoadedModel | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.checkpoint:
            raise VocoderError("backend 'hifigan' needs --checkpoint PATH (a .ckpt from `vocoder fit` or a "
                               ".safetensors from `vocoder export`)")
        self._model = load(self.checkpoint)

    def fixed_spec(self) -> SpectrogramSpec:
        assert self._model is not None
        return self._model.spec

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        assert self._model is not None
        return budget.generator_activations(self._model.generator.config(), channels, frames)

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        assert self._model is not None
        features = spectrogram.log_features()  # channels as batch
        with torch.inference_mode():
            audio = self._model.generator(features)[:, 0]
        n = spectrogram.length
        if audio.shape[-1] < n:
            audio = torch.nn.functional.pad(audio, (0, n - audio.shape[-1]))
        return audio[:, :n].float().contiguous()

    def parameters(self) -> dict[str, Any]:
        assert self._model is not None and self.checkpoint is not None
        return {"checkpoint": os.path.abspath(self.checkpoint), "checkpoint_sha256": sha256_file(self.checkpoint),
                "generator": self._model.generator.config(), "trained_batches": self._model.meta.get("batches")}

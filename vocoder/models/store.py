"""One place for model files: reading and writing every checkpoint format the
project knows. What an architecture is (its config check, size, how it is
built and folded) comes from its declaration in :mod:`vocoder.models.registry`;
nothing here names one.

Formats:

- **Model file** (``.safetensors``, written by :func:`save`): plain tensors
  (weight norm folded) and one JSON metadata entry under ``"vocoder"`` with
  the architecture, its constructor arguments, the spectrogram spec, and the
  model's provenance (name, training data, licence, source file and its
  sha256, training batches, starting weights). Loading it runs no code.
- **Training checkpoint** (``.ckpt`` from ``vocoder fit``): a Lightning zip
  read with ``torch.load(weights_only=True)``, so a pickled object is refused,
  never executed; the same metadata travels under its ``"vocoder"`` key.

This is the bottom of the model files: it reads and writes paths only.
Published models' names (``hifigan-v1-lj``) become cached model files in
:mod:`vocoder.models.pretrained`, above this module, and a reference that may
be either is resolved by :mod:`vocoder.models.loading`. Nothing here imports
Lightning.
"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize

from vocoder import costs
from vocoder.errors import VocoderError
from vocoder.models import registry
from vocoder.models.architecture import Architecture
from vocoder.provenance.format import VERSION_KEY
from vocoder.provenance.hashing import sha256_file
from vocoder.provenance.record import model_record
from vocoder.safety.outputs import AtomicOutputs, existing_input, reading
from vocoder.safety.text import brief, shown
from vocoder.safety.untrusted import load_json
from vocoder.spec import PRESETS, SpectrogramSpec

META_KEY = "vocoder"  # safetensors metadata key and training-checkpoint key
FORMAT = 2  # 1: the first exports ({"model", "generator", "batches", "source_sha256"}), still read

@dataclass
class LoadedModel:
    """A generator ready for inference (eval mode, weight norm folded)."""

    generator: nn.Module
    spec: SpectrogramSpec
    meta: dict[str, Any]  # format-2 metadata
    path: str  # the file the weights were read from
    sha256: str  # of that file

    @property
    def name(self) -> str:
        return self.meta.get("name") or os.path.basename(self.path)


def preset_name(spec: SpectrogramSpec) -> str | None:
    return next((name for name, preset in PRESETS.items() if preset == spec), None)


def _upgrade(meta: Any, where: str) -> dict[str, Any]:
    """Metadata of any known format → format 2 (validated enough to build from)."""
    if not isinstance(meta, dict):
        raise VocoderError(f"{where}: its '{META_KEY}' metadata is not a JSON object")
    if meta.get("format") == 1 or (meta.get("format") is None and "model" in meta):
        meta = {"format": FORMAT, "architecture": meta.get("model"), "config": meta.get("generator"),
                "spec": meta.get("spec"), "trained_batches": meta.get("batches"),
                "source": {"kind": "vocoder fit checkpoint", "sha256": meta.get("source_sha256")}}
    if meta.get("format") != FORMAT:
        raise VocoderError(f"{where}: unknown model metadata format {meta.get('format')!r}")
    if meta.get("architecture") not in registry.names():
        raise VocoderError(f"{where} holds a {shown(meta.get('architecture'))} model; vocoder knows "
                           f"{', '.join(registry.names())}")
    if isinstance(meta.get("spec"), dict):
        read_spec(meta, where)  # the spec first: its errors say the most
    if not isinstance(meta.get("config"), dict) or not isinstance(meta.get("spec"), dict):
        raise VocoderError(f"{where}: its metadata lacks the model's config or spec")
    config = checked_config(registry.get(meta["architecture"]), meta["config"], read_spec(meta, where), where)
    return {**meta, "config": config}


def checked_config(architecture: Architecture, config: Any, spec: SpectrogramSpec, where: str) -> dict[str, Any]:
    """A generator config from a file (any architecture's: its declaration
    checks every field's type, finiteness and range), and that it fits
    ``spec``; refused in one line naming ``where`` before anything is built."""
    try:
        checked = architecture.check_config(config)
    except VocoderError as exc:
        raise VocoderError(f"{where}: {exc}") from None
    misfit = architecture.fits(checked, spec)
    if misfit:
        raise VocoderError(f"{where}: {misfit}")
    return checked


def build(meta: dict[str, Any], state: dict[str, torch.Tensor], where: str, weight_norm: bool) -> nn.Module:
    """The generator of ``meta`` with ``state`` loaded, in eval mode, weight norm folded.

    ``weight_norm``: the state dict holds weight-norm parametrisations (training
    checkpoints) rather than folded weights (model files).
    """
    architecture = registry.get(meta["architecture"])
    costs.model_load(architecture.parameters(meta["config"]),
                      os.path.getsize(where) if os.path.isfile(where) else 0).check()
    try:
        generator = architecture.build(meta["config"])
        if not weight_norm:
            architecture.fold(generator)
        generator.load_state_dict(state)
    except (TypeError, KeyError, ValueError, RuntimeError) as exc:
        raise VocoderError(f"{where}: weights do not fit the recorded architecture: {brief(exc, 200)}") from None
    if weight_norm:
        architecture.fold(generator)
    return generator.eval()


def read_spec(meta: dict[str, Any], where: str) -> SpectrogramSpec:
    try:
        return SpectrogramSpec.from_dict(meta["spec"])
    except VocoderError as exc:
        raise VocoderError(f"{where}: {exc}") from None


# -- reading --------------------------------------------------------------------


def torch_load_weights(path: str, what: str) -> Any:
    """``torch.load(weights_only=True)`` with every failure as one clear line.

    A file that holds pickled Python objects (which would run as code) is
    refused, never executed.
    """
    costs.checkpoint_read(path).check()
    try:
        return torch.load(reading(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        lines = str(exc).strip().splitlines()
        detail = next((ln for ln in lines if "GLOBAL" in ln or "Unsupported" in ln), lines[0] if lines else "")
        detail = detail.split(" was not an allowed global")[0].replace("WeightsUnpickler error: ", "")
        raise VocoderError(
            f"refusing {path}: it holds pickled Python objects that only run as code when loaded "
            f"({detail.strip()}); vocoder loads weights only"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any failure of the deserialiser on a user's file means unreadable
        raise VocoderError(f"cannot read checkpoint {path} ({what}): {brief(exc) or type(exc).__name__}") from None


def read_training_checkpoint(path: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(metadata, generator state dict with weight norm) of a ``vocoder fit`` checkpoint."""
    if not zipfile.is_zipfile(path):  # torch.save has written zip archives since torch 1.6
        raise VocoderError(f"{path} is not a PyTorch checkpoint, so not a vocoder checkpoint (expected a .ckpt from `vocoder fit` or a "
                           ".safetensors model file; convert original HiFi-GAN files with `vocoder import`)")
    checkpoint = torch_load_weights(path, "a training checkpoint")
    if not isinstance(checkpoint, dict) or META_KEY not in checkpoint or not isinstance(checkpoint.get("state_dict"),
                                                                                        dict):
        raise VocoderError(f"{path} is not a vocoder training checkpoint (no '{META_KEY}' metadata); an "
                           "original HiFi-GAN generator file can be converted with `vocoder import`")
    meta = _upgrade(checkpoint[META_KEY], path)
    prefix = "generator."
    state = {k[len(prefix):]: v for k, v in checkpoint["state_dict"].items()
             if isinstance(k, str) and k.startswith(prefix)}
    return meta, state


def read_model_file(path: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(metadata, folded state dict) of a ``.safetensors`` model file."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(reading(path), framework="pt") as fh:
            header = fh.metadata() or {}
            if META_KEY not in header:
                raise VocoderError(f"{path} has no '{META_KEY}' metadata: not a vocoder model file "
                                   "(`vocoder export` and `vocoder import` write them)")
            meta = _upgrade(load_json(header[META_KEY], f"{path}'s '{META_KEY}' metadata"), path)
            state = {key: fh.get_tensor(key) for key in fh.keys()}  # only after the metadata is checked
    except (SafetensorError, OSError, ValueError) as exc:
        raise VocoderError(f"cannot read {path} as a safetensors model file: {brief(exc, 120)}") from None
    return meta, state


def load_file(path: str | os.PathLike) -> LoadedModel:
    """A generator from a model file (``.safetensors``) or a training checkpoint
    (any other name); a published model's name is :func:`vocoder.models.loading.load`'s."""
    path = os.fspath(path)
    if path.endswith(".safetensors"):
        meta, state = read_model_file(path)
        generator = build(meta, state, path, weight_norm=False)
    else:
        meta, state = read_training_checkpoint(path)
        generator = build(meta, state, path, weight_norm=True)
    return LoadedModel(generator, read_spec(meta, path), meta, os.path.abspath(path), sha256_file(path))


# -- writing --------------------------------------------------------------------


def save(generator: nn.Module, spec: SpectrogramSpec, meta: dict[str, Any], path: str | os.PathLike,
         card: bool = True, force: bool | None = None) -> dict[str, Any]:
    """Write a model file (and its model card, ``PATH.md``) all-or-nothing.

    ``meta`` holds the provenance fields (name, training_data, licence, source,
    trained_batches, init_from, ...); architecture, config and spec are taken
    from the generator and ``spec``. Weight norm must already be folded.
    Returns the full metadata written. ``force`` None follows the command's
    --force; the pretrained cache passes True (its files are ours to renew).
    """
    from safetensors.torch import save

    path = os.fspath(path)
    if not path.endswith(".safetensors"):
        raise VocoderError(f"a model file must be a .safetensors file (got {path})")
    architecture = registry.of(generator)
    full = {**meta, "format": FORMAT, "architecture": architecture.name, "config": architecture.config_of(generator),
            "spec": spec.to_dict()}
    state = {k: v.detach().contiguous().cpu() for k, v in generator.state_dict().items()}
    with AtomicOutputs(force=force) as outputs:
        # Bytes handed to our temporary: save_file would make (and rename) a temporary of its own.
        outputs.write_bytes(path, save(state, metadata={META_KEY: json.dumps(full, sort_keys=True)}))
        if card:
            outputs.write_text(card_path(path), model_card(full, os.path.basename(path)))
    return full


def export(checkpoint: str, output: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Training checkpoint (or model file) → model file + card, weight norm folded.

    ``overrides`` set provenance the checkpoint cannot know (name, training_data,
    licence); None values are ignored.
    """
    existing_input(checkpoint, "checkpoint")
    loaded = load_file(checkpoint)
    keep = {k: v for k, v in loaded.meta.items()
            if k not in ("format", "architecture", "config", "spec", "source", VERSION_KEY)}
    keep.update({k: v for k, v in (overrides or {}).items() if v is not None})
    source = {"kind": "vocoder fit checkpoint" if not checkpoint.endswith(".safetensors") else "model file",
              "file": os.path.basename(checkpoint), "sha256": sha256_file(checkpoint)}
    return save(loaded.generator, loaded.spec, model_record(keep, source), output)


def card_path(model_path: str | os.PathLike) -> str:
    """The model card beside a model file: m.safetensors → m.safetensors.md."""
    return os.fspath(model_path) + ".md"


def model_card(meta: dict[str, Any], filename: str) -> str:
    """Markdown describing a model file: what it is, what it learnt from, where it came from."""
    source = meta.get("source") or {}
    config = meta["config"]
    architecture = registry.get(meta["architecture"])
    spec = SpectrogramSpec.from_dict(meta["spec"])
    preset = preset_name(spec)
    lines = [
        f"# {meta.get('name') or filename}",
        "",
        f"- **File**: `{filename}` (safetensors: weights and JSON metadata, no pickled code)",
        f"- **Architecture**: {architecture.describe(config)} "
        f"(`{meta['architecture']}`), {architecture.parameters(config):,} parameters with weight "
        "norm folded",
        f"- **Generator config**: `{json.dumps(config, sort_keys=True)}`",
        f"- **Spec**: {'preset `' + preset + '`, ' if preset else ''}{spec.sample_rate} Hz, n_fft {spec.n_fft}, "
        f"hop {spec.hop_length}, window {spec.win_length}, {spec.axis.describe(spec)}, padding {spec.padding}, "
        f"log floor {spec.log_floor}",
        f"- **Training data**: {meta.get('training_data') or 'not recorded'}",
        f"- **Training**: {_training_line(meta)}",
        f"- **Licence**: {meta.get('licence') or 'not recorded'}",
        f"- **Source**: {source.get('kind', 'not recorded')}"
        + (f", `{source['file']}`" if source.get("file") else "")
        + (f", sha256 `{source['sha256']}`" if source.get("sha256") else ""),
    ]
    if meta.get("init_from"):
        init = meta["init_from"]
        lines.append(f"- **Started from**: {init.get('name')} (weights sha256 `{init.get('weights_sha256')}`)")
    if meta.get("notes"):
        lines.append(f"- **Notes**: {meta['notes']}")
    lines += ["", "A learned vocoder fills in detail from what it saw in training: its output may contain sound "
              "that was not in the input spectrogram. Compare it with a classical backend before relying on it.", ""]
    return "\n".join(lines)


def _training_line(meta: dict[str, Any]) -> str:
    batches = meta.get("trained_batches")
    return f"{batches:,} generator updates" if isinstance(batches, int) else "not recorded"


def weight_norm_state(generator: nn.Module, folded: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A folded state dict rewritten for ``generator`` with weight norm on.

    Weight norm writes w = g · v/‖v‖ (norm over every dim but 0); with v = w and
    g = ‖w‖ the parametrised weight equals w exactly, so a published or
    exported generator can resume training (fine-tuning) from its weights.
    """
    state, folded_weights = {}, set()
    for name, module in generator.named_modules():
        prefix = f"{name}." if name else ""
        if parametrize.is_parametrized(module, "weight"):
            weight = folded[prefix + "weight"]
            dims = tuple(range(1, weight.dim()))
            state[prefix + "parametrizations.weight.original0"] = weight.norm(dim=dims, keepdim=True)
            state[prefix + "parametrizations.weight.original1"] = weight
            folded_weights.add(prefix + "weight")
    state.update({k: v for k, v in folded.items() if k not in folded_weights})  # biases, plain layers
    return state

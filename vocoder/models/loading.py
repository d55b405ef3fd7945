"""A model reference to a generator: a published model's name
(``hifigan-v1-lj``, :mod:`vocoder.models.pretrained`), a model file or a
training checkpoint (:mod:`vocoder.models.store`).

Above both: the store reads files only, the pretrained names turn a name into
a cached model file through the store, and this is the one place a reference
that may be either is resolved, for the learned backends and for a
fine-tuning start.
"""

from __future__ import annotations

import os

from torch import nn

from vocoder.errors import VocoderError
from vocoder.models import pretrained, registry
from vocoder.models.store import LoadedModel, load_file, weight_norm_state
from vocoder.safety.outputs import existing_input


def load(reference: str | os.PathLike) -> LoadedModel:
    """A generator from a pretrained name, a model file or a training checkpoint."""
    reference = os.fspath(reference)
    if reference in pretrained.MODELS:
        return load_file(pretrained.resolve(reference))
    existing_input(reference, "checkpoint", " (neither a file nor a known model name; `vocoder models` lists "
                   "the names)")
    return load_file(reference)


def load_into_training_generator(generator: nn.Module, reference: str) -> LoadedModel:
    """Copy a pretrained/exported generator's weights into ``generator`` (weight norm on)."""
    loaded = load(reference)
    architecture = registry.of(generator)
    if loaded.meta["architecture"] != architecture.name:
        raise VocoderError(f"--model.init_generator {reference} is a {loaded.meta['architecture']} model; the "
                           f"configured generator is {architecture.name}")
    ours, theirs = architecture.config_of(generator), architecture.config_of(loaded.generator)
    if ours != theirs:
        diff = [k for k in sorted(set(ours) | set(theirs)) if ours.get(k) != theirs.get(k)]
        raise VocoderError(f"--model.init_generator {reference}: its architecture differs from the configured "
                           f"generator in {', '.join(diff)} (set the generator's init_args to match it)")
    state = weight_norm_state(generator, loaded.generator.state_dict())
    try:
        generator.load_state_dict(state)
    except RuntimeError as exc:
        raise VocoderError(f"--model.init_generator {reference}: {str(exc).splitlines()[0]}") from None
    return loaded

"""The interface every inversion backend implements."""

from __future__ import annotations

import dataclasses
import math
import typing
from abc import ABC
from typing import Any, ClassVar

import torch

from vocoder import budget
from vocoder.errors import VocoderError
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram
from vocoder.untrusted import shown

# Said wherever a learned backend's output appears (record, stderr, report).
LEARNED_OUTPUT_STATEMENT = (
    "learned model: its output may contain sound that was not in the input spectrogram "
    "(a trained vocoder fills in detail from what it saw in training)"
)


class Inverter(ABC):
    """Spectrogram → waveform.

    Subclasses are dataclasses whose fields are their user-settable options
    (``iters``, ``seed``, …); the registry builds them from CLI options and
    refuses options a backend does not take.

    ``needs_stft_bins`` says what the backend consumes: True for phase
    retrieval, which takes linear STFT magnitudes under any spec (an input on
    another axis is converted first by its axis's inverse, and the conversion
    is recorded); False for backends that consume the input's own rows (mel-gd;
    trained backends, which declare the one spec they were trained on).
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    needs_stft_bins: ClassVar[bool] = True

    def fixed_spec(self) -> SpectrogramSpec | None:
        """The one spec a trained backend accepts; None for 'any spec'.

        A picture without metadata is then read under this spec (the front end
        maps it onto the model's bins); a spectrogram with another spec is
        refused rather than silently reinterpreted.
        """
        return None

    def learned_model(self) -> dict[str, Any] | None:
        """Identity of the trained model behind a learned backend, None for a
        classical one: ``name``, ``architecture``, ``weights_sha256``,
        ``training_data``, ``licence`` and ``statement`` (LEARNED_OUTPUT_STATEMENT).
        Every output of a learned backend carries it."""
        return None

    def prepare(self, spectrogram: Spectrogram) -> Spectrogram:
        """Convert the input to what this backend consumes (recorded)."""
        fixed = self.fixed_spec()
        if fixed is not None:
            if spectrogram.spec != fixed:
                raise VocoderError(
                    f"backend {self.name!r} only accepts the spec it was trained on; the input differs in "
                    + "; ".join(f"{d} (model vs input)" for d in fixed.differences(spectrogram.spec))
                )
            return spectrogram
        self.check_spec(spectrogram.spec)
        if self.needs_stft_bins:
            return spectrogram.spec.axis.inverse(spectrogram)  # identity on a linear axis
        return spectrogram

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        """Bytes :meth:`invert` holds at its peak for this input (the memory
        budget asks before any work); learned backends add their activations."""
        return budget.phase_retrieval(self.name, channels, spec.as_linear(), frames, samples)

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        """Options as the fields' types want them, or one line naming the bad one.

        The one check of every option's type before a backend sees it, from
        the command line or from bench's ``NAME:key=value`` text: whole
        numbers for int fields (seeds within 0..2^63-1), finite numbers for
        float fields, one of the listed words for Literal fields.
        """
        hints = typing.get_type_hints(cls)
        checked = {}
        for key, value in options.items():
            want = hints.get(key)
            flag = f"{cls.name}: --{key}" if key in ("iters", "seed", "tol", "momentum", "init", "checkpoint", "alpha", "beta", "gamma", "rho", "lr") \
                else f"{cls.name}: {key}"
            checked[key] = _coerce(flag, key, value, want)
        return checked

    def check_spec(self, spec: SpectrogramSpec) -> None:
        """Refuse, with one line, a spec this backend cannot invert (beyond the
        fixed-spec rule); called by ``prepare`` and by the bench before any work."""

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        """(channels × samples) float32 waveform of ``spectrogram.length`` samples."""
        return self.invert_from(spectrogram, self.start_phase(spectrogram))

    # Phase-retrieval backends split their work in two, which is what lets
    # them run block-wise (inversion/blockwise.py): where they start, and the
    # inversion from a given start. Backends without a start phase (learned
    # ones, mel-gd) override ``invert`` instead and cannot run block-wise.
    def start_phase(self, spectrogram: Spectrogram) -> torch.Tensor:
        """Unit-modulus complex start phase (channels × bins × frames)."""
        raise NotImplementedError(f"backend {self.name!r} has no start phase")

    def invert_from(self, spectrogram: Spectrogram, phase: torch.Tensor, callback=None) -> torch.Tensor:
        """The inversion of ``spectrogram`` (linear) from ``phase``. ``callback(n, X)``
        sees the estimate (channels × bins × frames) after each iteration n and
        may write into it: block-wise inversion holds the frames a block shares
        with the one before at that block's values."""
        raise NotImplementedError(f"backend {self.name!r} cannot start from a given phase")

    @classmethod
    def runs_blockwise(cls) -> bool:
        return cls.invert_from is not Inverter.invert_from

    def parameters(self) -> dict[str, Any]:
        return dataclasses.asdict(self) if dataclasses.is_dataclass(self) else {}

    @classmethod
    def options(cls) -> list[str]:
        if not dataclasses.is_dataclass(cls):
            return []
        return [f.name for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")]


# Seeds go to torch.Generator.manual_seed (at most 2^64 - 1) and numpy's
# default_rng (non-negative): 0..2^63-1 suits both, and any real use.
MAX_SEED = 2**63 - 1


def _coerce(flag: str, key: str, value: Any, want: Any) -> Any:
    args = typing.get_args(want)
    if typing.get_origin(want) is typing.Literal:
        if value not in args:
            raise VocoderError(f"{flag} must be one of {', '.join(map(str, args))} (got {shown(value)})")
        return value
    if want is int or (int in args and float not in args):
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                pass
        if not isinstance(value, int) or isinstance(value, bool):
            raise VocoderError(f"{flag} must be a whole number (got {shown(value)})")
        if key == "seed" and not 0 <= value <= MAX_SEED:
            raise VocoderError(f"{flag} must be in 0..{MAX_SEED} (got {shown(value)})")
        return value
    if want is float or float in args:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise VocoderError(f"{flag} must be a finite number (got {shown(value)})")
        return float(value)
    if want is str or str in args:
        if not isinstance(value, str):
            raise VocoderError(f"{flag} must be text (got {shown(value)})")
    return value

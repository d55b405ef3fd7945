"""The Spectrogram object: magnitudes, their exact spec, and how they were made."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from vocoder.spec import SpectrogramSpec

if TYPE_CHECKING:  # torch loads with the first computation: `info` and `backends` never need it
    import torch


@dataclass(frozen=True)
class Spectrogram:
    """Linear-amplitude magnitudes (channels × bins × frames) plus their meaning.

    ``provenance`` is the ordered list of steps that produced the values; each
    step is a JSON-serialisable dict with at least a ``"step"`` key. Converting
    functions return a new Spectrogram with one more step, never mutate.
    """

    magnitude: torch.Tensor
    spec: SpectrogramSpec
    provenance: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    # Length of the waveform these frames describe, when known (audio input or
    # embedded metadata); otherwise the spec's natural length for the frames.
    n_samples: int | None = None

    def __post_init__(self) -> None:
        m = self.magnitude
        if m.ndim != 3:
            raise ValueError(f"magnitude must be channels × bins × frames, got shape {tuple(m.shape)}")
        if m.shape[1] != self.spec.n_bins:
            raise ValueError(f"magnitude has {m.shape[1]} bins but the spec says {self.spec.n_bins}")

    @property
    def channels(self) -> int:
        return self.magnitude.shape[0]

    @property
    def frames(self) -> int:
        return self.magnitude.shape[2]

    @property
    def length(self) -> int:
        """Waveform length in samples that an inversion should produce."""
        return self.n_samples if self.n_samples is not None else self.spec.n_samples(self.frames)

    @property
    def duration(self) -> float:
        return self.length / self.spec.sample_rate

    def with_step(self, step: str, magnitude: torch.Tensor | None = None,
                  spec: SpectrogramSpec | None = None, **details: Any) -> "Spectrogram":
        """A copy with new values and/or spec and one more provenance step."""
        return replace(
            self,
            magnitude=self.magnitude if magnitude is None else magnitude,
            spec=self.spec if spec is None else spec,
            provenance=self.provenance + ({"step": step, **details},),
        )

    def log_features(self) -> torch.Tensor:
        """ln(max(x, log_floor)): the features neural vocoders are trained on."""
        floor = self.spec.log_floor
        if floor is None:
            raise ValueError("this spec defines no log floor")
        import torch

        return torch.log(torch.clamp(self.magnitude, min=floor))

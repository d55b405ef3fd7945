"""What an inversion added that was never there, and what it lost.

Defined exactly in docs/metrics.md. All measures work on power
spectrograms (|X|², or a mel magnitude squared) of a reference R and an
estimate E under one spec, aligned frame for frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

QUIET_BELOW_DB = 60.0  # "more than 60 dB below the reference's maximum"
DIFFERENCE_CLIP_DB = 30.0  # the difference map's colour range, ± dB
# Both powers get this much (re. the reference's maximum) added before the
# difference map's ratio, so bins where both are near-silent read ~0 dB
# instead of the ratio of two rounding errors.
DIFFERENCE_FLOOR_DB = -90.0


def power_db(ratio: float) -> float:
    """10·log10 of a power ratio; -inf for 0."""
    return -math.inf if ratio <= 0 else 10.0 * math.log10(ratio)


@dataclass(frozen=True)
class EnergyMeasures:
    """Energy ratios in dB (-inf when there is no such energy at all)."""

    hallucinated_db: float  # E's energy where R is quiet, over R's total
    missing_db: float  # R's energy where E is quiet, over R's total
    # hallucinated_db of R against itself: the floor an exact reconstruction
    # reaches, set by R's own low-level content (e.g. window sidelobes).
    hallucinated_floor_db: float


def _aligned(reference: torch.Tensor, estimate: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if reference.shape[:-1] != estimate.shape[:-1]:
        raise ValueError(f"reference {tuple(reference.shape)} and estimate {tuple(estimate.shape)} differ in "
                         "channels or bins: compute both under the same spec")
    frames = min(reference.shape[-1], estimate.shape[-1])
    return reference[..., :frames].double(), estimate[..., :frames].double()


def energy_measures(reference_power: torch.Tensor, estimate_power: torch.Tensor,
                    quiet_below_db: float = QUIET_BELOW_DB) -> EnergyMeasures:
    """Hallucinated and missing energy ratios (see docs/metrics.md)."""
    R, E = _aligned(reference_power, estimate_power)
    total = float(R.sum())
    if total <= 0:
        raise ValueError("energy measures are undefined for a silent reference")
    threshold = float(R.max()) * 10 ** (-quiet_below_db / 10)
    quiet_in_reference = R < threshold
    quiet_in_estimate = E < threshold
    return EnergyMeasures(
        hallucinated_db=power_db(float(E[quiet_in_reference].sum()) / total),
        missing_db=power_db(float(R[quiet_in_estimate].sum()) / total),
        hallucinated_floor_db=power_db(float(R[quiet_in_reference].sum()) / total),
    )


def out_of_band_db(estimate_power: torch.Tensor, bin_frequencies: torch.Tensor, fmax: float) -> float | None:
    """Energy of E above ``fmax`` over E's total, in dB (linear STFT power,
    bins × frames). None when no bin lies above fmax (the input described the
    whole band, so nothing can be out of it)."""
    above = bin_frequencies > fmax
    if not bool(above.any()):
        return None
    E = estimate_power.double()
    total = float(E.sum())
    if total <= 0:
        return -math.inf
    return power_db(float(E[..., above, :].sum()) / total)


def difference_map_db(reference_power: torch.Tensor, estimate_power: torch.Tensor,
                      clip_db: float = DIFFERENCE_CLIP_DB) -> torch.Tensor:
    """10·log10((E + δ) / (R + δ)) clipped to ±clip_db, δ = max(R)·10^(−9):
    positive where the estimate added energy, negative where it lost some."""
    R, E = _aligned(reference_power, estimate_power)
    delta = float(R.max()) * 10 ** (DIFFERENCE_FLOOR_DB / 10)
    if delta <= 0:
        delta = torch.finfo(torch.float64).tiny
    return torch.clamp(10 * torch.log10((E + delta) / (R + delta)), -clip_db, clip_db)

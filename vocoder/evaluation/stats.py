"""Confidence for benchmark means: percentile bootstrap over clips.

A mean over nine clips hides how much the clips disagree. Each backend's mean
gets a percentile-bootstrap 95% interval (Efron & Tibshirani 1993, "An
Introduction to the Bootstrap", ch. 13), and two backends are compared by a
paired bootstrap of their per-clip differences (Koehn 2004, "Statistical
significance tests for machine translation evaluation", EMNLP; the same
resampling, on differences): the difference is called clear when its 95%
interval excludes zero. Resampling uses a fixed seed, so a rerun on the same
numbers gives the same bounds, bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RESAMPLES = 10_000  # Efron & Tibshirani (1993) suggest >= 1000 for percentile intervals
LEVEL = 0.95
SEED = 20261125  # fixed: intervals are part of byte-identical reports


@dataclass(frozen=True)
class Interval:
    """A statistic with its bootstrap interval over n values."""

    estimate: float
    low: float
    high: float
    n: int

    def excludes(self, value: float) -> bool:
        return value < self.low or value > self.high


def _resampled_means(values: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Means of ``resamples`` draws of len(values) with replacement."""
    rng = np.random.Generator(np.random.PCG64(seed))
    index = rng.integers(0, values.size, size=(resamples, values.size))
    return values[index].mean(axis=1)


def bootstrap_mean(values, resamples: int = RESAMPLES, level: float = LEVEL, seed: int = SEED) -> Interval | None:
    """Mean of the finite ``values`` with its percentile-bootstrap interval;
    None when fewer than two finite values (no spread to resample)."""
    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    if data.size < 2:
        return None
    means = _resampled_means(data, resamples, seed)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(float(data.mean()), float(low), float(high), int(data.size))


def paired_difference(first: dict, second: dict, resamples: int = RESAMPLES, level: float = LEVEL,
                      seed: int = SEED) -> Interval | None:
    """Mean of first − second over the clips both have a finite value for
    (dicts clip → value), with a paired-bootstrap interval; None under two clips."""
    shared = sorted(k for k in first.keys() & second.keys()
                    if first[k] is not None and second[k] is not None
                    and math.isfinite(first[k]) and math.isfinite(second[k]))
    return bootstrap_mean([first[k] - second[k] for k in shared], resamples, level, seed)

"""Bootstrap intervals: against scipy's bootstrap, coverage of a known mean,
reproducibility, the paired comparison, and how the summary shows them."""

import numpy as np
import pytest
import scipy.stats

from vocoder.evaluation import stats
from vocoder.evaluation.report import _fmt, comparisons, summarise


def test_interval_agrees_with_scipy_percentile_bootstrap():
    values = np.random.default_rng(1).exponential(2.0, size=30)
    ours = stats.bootstrap_mean(values)
    theirs = scipy.stats.bootstrap((values,), np.mean, n_resamples=20_000, method="percentile",
                                   confidence_level=0.95, random_state=np.random.default_rng(2)).confidence_interval
    assert ours.estimate == pytest.approx(values.mean())
    # two independent resamplings of the same percentile interval: Monte-Carlo error only
    assert ours.low == pytest.approx(theirs.low, abs=0.05) and ours.high == pytest.approx(theirs.high, abs=0.05)


def test_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(3)
    hits = sum(not stats.bootstrap_mean(rng.normal(3.0, 2.0, size=25), resamples=2000, seed=i).excludes(3.0)
               for i in range(300))
    # percentile intervals undercover slightly at n=25 (Efron & Tibshirani 1993, ch. 13);
    # binomial 95% range around 0.94 over 300 trials is about ±0.027
    assert 0.89 <= hits / 300 <= 0.98


def test_same_seed_same_bounds_other_seed_other_bounds():
    values = [-24.1, -26.3, -22.0, -23.5, -25.2, -21.9, -24.8, -23.0, -26.0]
    assert stats.bootstrap_mean(values) == stats.bootstrap_mean(list(values))
    assert stats.bootstrap_mean(values, seed=7) != stats.bootstrap_mean(values)
    assert stats.bootstrap_mean([1.0]) is None and stats.bootstrap_mean([1.0, float("inf")]) is None


def test_paired_comparison_sees_a_consistent_gap_the_unpaired_intervals_hide():
    rng = np.random.default_rng(4)
    clips = rng.normal(-20.0, 5.0, size=9)  # clips differ a lot from each other
    a = {f"c{i}": v for i, v in enumerate(clips)}
    b = {f"c{i}": v + 1.0 + rng.normal(0, 0.2) for i, v in enumerate(clips)}  # b is 1 dB worse on every clip
    ia, ib = stats.bootstrap_mean(a.values()), stats.bootstrap_mean(b.values())
    assert ia.high > ib.low  # the per-backend intervals overlap
    gap = stats.paired_difference(a, b)
    assert gap.n == 9 and gap.excludes(0.0) and gap.low < -1.0 + 0.3 and gap.high > -1.0 - 0.3
    noise = {k: v + rng.normal(0, 0.5) for k, v in a.items()}
    assert not stats.paired_difference(a, noise).excludes(0.0)


def test_paired_comparison_uses_only_clips_both_have():
    gap = stats.paired_difference({"x": 1.0, "y": 2.0, "z": 5.0}, {"x": 0.0, "y": 1.0, "w": 9.0})
    assert gap.n == 2 and gap.estimate == 1.0 and gap.low == gap.high == 1.0


class _Choice:
    def __init__(self, label):
        self.label = label


def test_summary_cells_and_comparisons():
    backends = [_Choice("pghi+fgla"), _Choice("griffinlim")]
    rows = [{"clip": f"c{i}", "backend": b, "sc_db": v + shift}
            for i, v in enumerate([-24.1, -26.3, -22.0, -23.5, -25.2]) for b, shift in (("pghi+fgla", 0.0),
                                                                                         ("griffinlim", 3.0))]
    summary = summarise(rows, backends, ("sc_db",))
    cell = summary["sc_db"]["pghi+fgla"]
    expected = stats.bootstrap_mean([-24.1, -26.3, -22.0, -23.5, -25.2])
    assert cell["ci95"] == [expected.low, expected.high]
    assert _fmt(cell) == f"-24.2 [{expected.low:.3g}, {expected.high:.3g}] n=5"
    (entry,) = comparisons(rows, summary, backends)["sc_db"]
    assert (entry["best"], entry["other"], entry["n"], entry["clear"]) == ("pghi+fgla", "griffinlim", 5, True)
    assert entry["difference"] == pytest.approx(-3.0)

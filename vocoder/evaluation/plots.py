"""Benchmark figures: metric box plots, spectrogram triptychs, difference maps."""

from __future__ import annotations

import os

import numpy as np
import torch

from vocoder.evaluation.hallucination import DIFFERENCE_CLIP_DB
from vocoder.plots import plt  # Agg backend already selected

FLOOR_DB = -100.0


def _db_re_max(power: torch.Tensor, peak: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        db = 10 * np.log10(power.double().numpy() / peak) if peak > 0 else np.full(tuple(power.shape), FLOOR_DB)
    return np.maximum(db, FLOOR_DB)


def _extent(seconds: float, top_hz: float) -> tuple[float, float, float, float]:
    return (0.0, seconds, 0.0, top_hz)


def plot_triptych(reference_power: torch.Tensor, estimate_power: torch.Tensor, difference_db: torch.Tensor,
                  seconds: float, top_hz: float, path: str | os.PathLike, title: str) -> None:
    """Reference, output (dB re. the reference's maximum) and their difference
    map (dB, + = added, − = lost), first channel, one figure."""
    peak = float(reference_power.max())
    fig, axes = plt.subplots(3, 1, figsize=(9, 7.5), constrained_layout=True, sharex=True)
    panels = [
        (_db_re_max(reference_power[0], peak), "reference", "magma", (FLOOR_DB, 0.0), "dB re. reference max"),
        (_db_re_max(estimate_power[0], peak), "output", "magma", (FLOOR_DB, 0.0), "dB re. reference max"),
        (difference_db[0].numpy(), "difference: 10·log10(output / reference)", "RdBu_r",
         (-DIFFERENCE_CLIP_DB, DIFFERENCE_CLIP_DB), "dB (+ added, − lost)"),
    ]
    for ax, (image, name, cmap, (lo, hi), label) in zip(axes, panels):
        im = ax.imshow(image, origin="lower", aspect="auto", extent=_extent(seconds, top_hz), cmap=cmap,
                       vmin=lo, vmax=hi)
        ax.set_title(name, fontsize=10)
        ax.set_ylabel("frequency (Hz)")
        fig.colorbar(im, ax=ax, label=label)
    axes[-1].set_xlabel("time (s)")
    fig.suptitle(title, fontsize=11)
    fig.savefig(path, format="png", dpi=72)
    plt.close(fig)


def plot_difference_map(difference_db: torch.Tensor, seconds: float, top_hz: float,
                        path: str | os.PathLike, title: str) -> None:
    """The difference map alone, with labelled axes and a colour bar."""
    fig, ax = plt.subplots(figsize=(10, 3.6), constrained_layout=True)
    im = ax.imshow(difference_db[0].numpy(), origin="lower", aspect="auto", extent=_extent(seconds, top_hz),
                   cmap="RdBu_r", vmin=-DIFFERENCE_CLIP_DB, vmax=DIFFERENCE_CLIP_DB)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, label="10·log10(output / reference), dB (+ added, − lost)")
    fig.savefig(path, format="png", dpi=80)
    plt.close(fig)


def plot_metric_boxes(values: dict[str, dict[str, list[float]]], units: dict[str, str],
                      better: dict[str, str], path: str | os.PathLike) -> None:
    """One panel per metric, one box per backend (its values over clips)."""
    metrics = [name for name in values if any(values[name].values())]
    if not metrics:
        return
    columns = 3
    rows = (len(metrics) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), constrained_layout=True,
                             squeeze=False)
    for ax, name in zip(axes.flat, metrics):
        labels = [label for label, v in values[name].items() if v]
        data = [values[name][label] for label in labels]
        ax.boxplot(data, tick_labels=labels, showmeans=True)
        ax.set_title(f"{name} ({better[name]} is better)", fontsize=9)
        ax.set_ylabel(units[name] or "value")
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.savefig(path, format="png", dpi=80)
    plt.close(fig)

"""Benchmark figures: metric box plots, spectrogram triptychs, difference maps, clip rows."""

from __future__ import annotations

import os

import numpy as np
import torch

from vocoder.evaluation.hallucination import DIFFERENCE_CLIP_DB
from vocoder.plots import plt  # Agg backend already selected

FLOOR_DB = -100.0  # the bench's input picture maps 100 dB (frontend.image.DEFAULT_DYNAMIC_RANGE_DB)


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
    fig.savefig(path, format="png", dpi=72, bbox_inches="tight", pad_inches=0.1)
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
    fig.savefig(path, format="png", dpi=80, bbox_inches="tight", pad_inches=0.1)
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
    fig.savefig(path, format="png", dpi=80, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)


def shared_difference_limit(differences: list[torch.Tensor]) -> float:
    """One symmetric colour range (dB) for a clip's difference maps: the 99th
    percentile of |difference| over every backend's bins, rounded up to 5 dB,
    at most DIFFERENCE_CLIP_DB (beyond it the colour saturates)."""
    values = [d.abs().double().numpy().ravel() for d in differences if d.numel()]
    worst = float(np.percentile(np.concatenate(values), 99)) if values else 0.0
    return float(min(DIFFERENCE_CLIP_DB, max(5.0, 5.0 * np.ceil(worst / 5.0))))


def plot_clip_row(reference_power: torch.Tensor, outputs: list[tuple[str, torch.Tensor, torch.Tensor]],
                  seconds: float, top_hz: float, path: str | os.PathLike, title: str) -> None:
    """Truth and every backend side by side: spectrograms (dB re. the truth's
    maximum) on top, difference maps below on one colour scale shared by the
    clip's backends. ``outputs``: (label, output power, difference dB)."""
    peak = float(reference_power.max())
    limit = shared_difference_limit([d[0] for _, _, d in outputs])
    columns = 1 + len(outputs)
    fig, axes = plt.subplots(2, columns, figsize=(3.2 * columns + 1.6, 5.4), constrained_layout=True,
                             sharex=True, sharey=True, squeeze=False)
    panels = [("truth (reference)", reference_power)] + [(label, power) for label, power, _ in outputs]
    for ax, (name, power) in zip(axes[0], panels):
        top = ax.imshow(_db_re_max(power[0], peak), origin="lower", aspect="auto", extent=_extent(seconds, top_hz),
                        cmap="magma", vmin=FLOOR_DB, vmax=0.0)
        ax.set_title(name, fontsize=9)
    axes[0][0].tick_params(labelbottom=True)
    axes[0][0].set_xlabel("time (s)")
    fig.colorbar(top, ax=list(axes[0]), label="dB re. truth max", shrink=0.9)
    axes[1][0].axis("off")
    axes[1][0].text(0.5, 0.5, f"difference maps\n10·log10(output / truth)\nshared scale ±{limit:g} dB\n"
                    "red: added, blue: lost", ha="center", va="center", fontsize=8, transform=axes[1][0].transAxes)
    for ax, (label, _, difference) in zip(axes[1][1:], outputs):
        bottom = ax.imshow(difference[0].numpy(), origin="lower", aspect="auto", extent=_extent(seconds, top_hz),
                           cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"difference: {label}", fontsize=9)
        ax.set_xlabel("time (s)")
    if outputs:
        fig.colorbar(bottom, ax=list(axes[1]), label="dB (+ added, − lost)", shrink=0.9)
    axes[0][0].set_ylabel("frequency (Hz)")
    axes[1][1 if outputs else 0].set_ylabel("frequency (Hz)")
    axes[1][1 if outputs else 0].yaxis.set_tick_params(labelleft=True)
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, format="png", dpi=72, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)

"""Figures an analyst looks at: spectrograms in dB with labelled axes."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from vocoder.spectrogram import Spectrogram  # noqa: E402

PREVIEW_FLOOR_DB = -100.0  # when nothing says which dB range the values came through


def mapping_floor_db(spectrogram: Spectrogram) -> float:
    """The lowest dB re. maximum the spectrogram's picture mapping could hold
    (db_min − db_max of its last dB mapping step), else PREVIEW_FLOOR_DB."""
    for step in reversed(spectrogram.provenance):
        mapping = step.get("mapping")
        if isinstance(mapping, dict) and "db_min" in mapping and "db_max" in mapping:
            return float(mapping["db_min"]) - float(mapping["db_max"])
        if mapping == "db" and "db_min" in step and "db_max" in step:
            return float(step["db_min"]) - float(step["db_max"])
    return PREVIEW_FLOOR_DB


def frame_times(spectrogram: Spectrogram) -> tuple[float, float]:
    """Centre times (s) of the first and last frame under the spec's framing."""
    spec = spectrogram.spec
    offset = spec.n_fft / 2 - spec.side_padding  # where frame 0's centre falls
    first = offset / spec.sample_rate
    return first, first + (spectrogram.frames - 1) * spec.hop_length / spec.sample_rate


def _band_ticks(spectrogram: Spectrogram) -> tuple[list[float], list[str]]:
    """Row positions of round frequencies on a band axis (mel, log)."""
    spec = spectrogram.spec
    centres = spec.axis.centre_frequencies(spec)
    ticks, labels = [], []
    for hz in (0, 50, 100, 250, 500, 1000, 2000, 4000, 8000, 12000, 16000, 20000):
        if centres[0] <= hz <= centres[-1] or (hz == 0 and centres[0] < 50):
            band = float(np.interp(hz, centres, np.arange(len(centres))))
            ticks.append(band)
            labels.append(f"{hz / 1000:g}k" if hz >= 1000 else f"{hz}")
    return ticks, labels


def _frequency_axis(ax, spectrogram: Spectrogram, t0: float, t1: float) -> tuple[float, float, float, float]:
    """Label ``ax``'s frequency axis for the spectrogram's rows; the imshow extent that goes with it."""
    spec = spectrogram.spec
    if not spec.axis.is_identity:  # one row per band, labelled at round frequencies
        ticks, labels = _band_ticks(spectrogram)
        ax.set_yticks(ticks, labels)
        ax.set_ylabel(f"frequency (Hz; {spec.n_bins} {spec.axis.kind} bands)")
        return t0, t1, -0.5, spec.n_bins - 0.5
    ax.set_ylabel("frequency (Hz)")
    return t0, t1, 0.0, spec.sample_rate / 2


def _row_position(spectrogram: Spectrogram, row: float) -> float:
    """Where row ``row``'s centre sits on the axis _frequency_axis labels."""
    spec = spectrogram.spec
    return row if not spec.axis.is_identity else row * spec.sample_rate / spec.n_fft


def plot_deviation_map(difference_db, spectrogram: Spectrogram, path: str | os.PathLike, title: str) -> None:
    """The output against the input it was made from, cell by cell on the input's axis: red where
    the output is louder (added), blue where it is quieter (lost), the ±6 and ±20 dB contours, and
    dashed lines at the edges of the input's band (its lowest and highest row holding energy)."""
    diff = difference_db.detach().to("cpu").double().numpy()
    clip = float(abs(diff).max()) if diff.size else 1.0
    t0, t1 = frame_times(spectrogram)
    names = ["left", "right"] if len(diff) == 2 else [f"channel {i}" for i in range(len(diff))]
    fig, axes = plt.subplots(len(diff), 1, figsize=(10, 3.2 * len(diff) + 0.6), squeeze=False,
                             constrained_layout=True)
    energy = spectrogram.magnitude.detach().to("cpu").double().numpy()
    for index, (ax, plane, name) in enumerate(zip(axes[:, 0], diff, names)):
        extent = _frequency_axis(ax, spectrogram, t0, t1)
        limit = max(clip, 20.0)
        im = ax.imshow(plane, origin="lower", aspect="auto", extent=extent, cmap="RdBu_r", vmin=-limit,
                       vmax=limit, interpolation="nearest")
        rows = np.flatnonzero(energy[min(index, len(energy) - 1)].max(axis=-1) > 0)
        if len(rows):
            for row in (rows[0] - 0.5, rows[-1] + 0.5):
                ax.axhline(_row_position(spectrogram, row), color="black", linestyle="--", linewidth=0.8)
        ax.set_xlabel("time (s)")
        ax.set_title(f"{title} — {name}" if len(diff) > 1 else title, fontsize=10)
        bar = fig.colorbar(im, ax=ax, label="output vs input, dB (+ added, − lost)")
        for level in (-20, -6, 6, 20):
            bar.ax.axhline(level, color="black", linewidth=0.6)
    fig.savefig(path, format="png", dpi=100, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)


def plot_spectrogram(spectrogram: Spectrogram, path: str | os.PathLike, title: str,
                     floor_db: float | None = None) -> None:
    """Write a PNG of the magnitudes in dB re. their maximum, one panel per channel;
    the colour bar runs from ``floor_db`` (default: the picture mapping's range) to 0."""
    floor = mapping_floor_db(spectrogram) if floor_db is None else float(floor_db)
    mag = spectrogram.magnitude.detach().to("cpu").double().numpy()
    peak = mag.max()
    with np.errstate(divide="ignore"):
        db = 20 * np.log10(mag / peak) if peak > 0 else np.full_like(mag, floor)
    db = np.maximum(db, floor)
    t0, t1 = frame_times(spectrogram)
    names = ["left", "right"] if spectrogram.channels == 2 else [f"channel {i}" for i in range(spectrogram.channels)]
    fig, axes = plt.subplots(spectrogram.channels, 1, figsize=(10, 3.2 * spectrogram.channels + 0.6),
                             squeeze=False, constrained_layout=True)
    for ax, plane, name in zip(axes[:, 0], db, names):
        extent = _frequency_axis(ax, spectrogram, t0, t1)
        im = ax.imshow(plane, origin="lower", aspect="auto", extent=extent, cmap="magma",
                       vmin=floor, vmax=0.0, interpolation="nearest")
        ax.set_xlabel("time (s)")
        ax.set_title(f"{title} — {name}" if spectrogram.channels > 1 else title, fontsize=10)
        fig.colorbar(im, ax=ax, label=f"dB re. maximum ({floor:g} … 0)")
    fig.savefig(path, format="png", dpi=100, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)


FOUND_COLOURS = {"plot area": "#00e5ff", "colour bar": "#ff00d4", "label": "#ffd400"}


def plot_found_parts(pixels: np.ndarray, claims: list[dict], axes: dict | None, path: str | os.PathLike) -> None:
    """The picture at its own size with the plot area, the colour bar and every tick label that
    was read drawn as boxes (the label's value beside it), for an examiner to check the reading."""
    from matplotlib.patches import Rectangle

    height, width = pixels.shape[:2]
    dpi = 100
    fig = plt.figure(figsize=(max(width, 400) / dpi, max(height, 300) / dpi + 0.4), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, height / (height + 40)))
    ax.imshow(pixels[..., :3] if pixels.shape[2] >= 3 else pixels[..., 0], cmap="gray", vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_axis_off()

    def box(bounds, colour, text=None):
        left, top, right, bottom = bounds
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False, lw=1.5,
                               edgecolor=colour))
        if text:
            ax.text(left, top - 2, text, color=colour, fontsize=7, va="bottom",
                    bbox={"facecolor": "black", "alpha": 0.6, "pad": 1, "lw": 0})

    for claim in claims:
        if claim["value_of"] in ("plot area", "colour bar"):
            box(claim["value"], FOUND_COLOURS[claim["value_of"]], claim["value_of"])
    for axis in (axes or {}).values():
        if not isinstance(axis, dict):
            continue
        for label in axis.get("labels") or []:
            box(label["box"], FOUND_COLOURS["label"], f"{label['value']:g}")
    fig.text(0.01, 1 - 0.35 / (height / dpi + 0.4), "found: plot area (cyan), colour bar (magenta), tick labels "
             "read (yellow, with the value read)", fontsize=8, va="center")
    fig.savefig(path, format="png", dpi=dpi)
    plt.close(fig)

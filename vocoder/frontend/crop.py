"""Finding the plot area in a screenshot of a spectrogram figure.

A figure from matplotlib, librosa's specshow, Audacity or Praat is a plot
rectangle inside a frame: a uniform background with sparse tick labels,
titles and perhaps a colour bar. The plot area is the largest rectangle whose
rows and columns are densely "not background"; its border (axis spines, a
line of one colour) is trimmed off. The result carries a confidence, so a
doubtful crop is reported rather than trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A row/column belongs to the plot when this fraction of it differs from the
# background: tick labels and titles stay far below, a spectrogram far above.
DENSE = 0.6
SURE = 0.8  # confidence below this is reported as unsure


@dataclass(frozen=True)
class PlotArea:
    box: tuple[int, int, int, int]  # LEFT, TOP, RIGHT, BOTTOM (right/bottom exclusive)
    confidence: float  # fraction of the box's pixels that differ from the background
    method: str

    @property
    def sure(self) -> bool:
        return self.confidence >= SURE


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    """(start, end) of the longest run of True; (0, 0) when none."""
    best, start = (0, 0), None
    for i, value in enumerate(np.append(mask, False)):
        if value and start is None:
            start = i
        elif not value and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def _is_frame(line: np.ndarray, background: np.ndarray, tolerance: float) -> bool:
    """A border line to trim: one colour (an axis spine), or mostly close to the
    background (an antialiased edge where the plot meets the frame)."""
    if np.abs(line - np.median(line, axis=0)).max() <= tolerance:
        return True
    strong = np.abs(line - background).max(axis=-1) > 4 * tolerance
    return bool(strong.mean() < DENSE)


def find_plot_area(pixels: np.ndarray, tolerance: float = 0.04) -> PlotArea:
    """The plot rectangle of a figure (pixels: H × W × bands in [0, 1])."""
    rgb = pixels[..., :3] if pixels.shape[2] >= 3 else pixels[..., :1]
    height, width = rgb.shape[:2]
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    values, counts = np.unique(np.round(border * 255).astype(np.int64), axis=0, return_counts=True)
    background = values[counts.argmax()] / 255.0
    differs = np.abs(rgb - background).max(axis=2) > tolerance
    # Alternate: dense rows within the current columns, dense columns within those rows.
    top, bottom, left, right = 0, height, 0, width
    for _ in range(3):
        rows = differs[:, left:right].mean(axis=1) >= DENSE
        top, bottom = _longest_run(rows)
        if bottom - top < 2:
            break
        cols = differs[top:bottom].mean(axis=0) >= DENSE
        left, right = _longest_run(cols)
        if right - left < 2:
            break
    if bottom - top < 2 or right - left < 2:
        return PlotArea((0, 0, width, height), 0.0, "no dense rectangle found; the whole picture")
    # Trim the frame: outer rows/columns of one colour (spines) and background lines.
    trimmed = 0
    for _ in range(2):  # a spine can sit outside an antialiased edge, or inside it
        while bottom - top > 2 and _is_frame(rgb[top, left:right], background, tolerance):
            top, trimmed = top + 1, trimmed + 1
        while bottom - top > 2 and _is_frame(rgb[bottom - 1, left:right], background, tolerance):
            bottom, trimmed = bottom - 1, trimmed + 1
        while right - left > 2 and _is_frame(rgb[top:bottom, left], background, tolerance):
            left, trimmed = left + 1, trimmed + 1
        while right - left > 2 and _is_frame(rgb[top:bottom, right - 1], background, tolerance):
            right, trimmed = right - 1, trimmed + 1
    confidence = float(differs[top:bottom, left:right].mean())
    area = (bottom - top) * (right - left) / (height * width)
    if area < 0.05:
        confidence = min(confidence, area / 0.05)
    method = (f"largest rectangle whose rows and columns are >= {DENSE:.0%} unlike the background "
              f"(RGB {np.round(background * 255).astype(int).tolist()}), {trimmed} frame lines (spines, antialiased edges) trimmed")
    return PlotArea((int(left), int(top), int(right), int(bottom)), confidence, method)

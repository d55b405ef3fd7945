"""The parts of a drawn plot: the plot area, the colour bar, and the plot's
pixels read through the bar.

A screenshot from SoX, ffmpeg, matplotlib, librosa or Praat is a plot inside
an axes frame, tick labels and titles around it, and (all but Praat) a colour
bar beside or under it. The bar is the picture's own legend: its colours, in
order, are the map the plot was drawn with, so the plot is decoded by
position along the bar, with no guess of a named colour map. Colours far from
every bar colour (text, gridlines, a cursor) are masked and filled from their
neighbours, and counted.

Assumption (every tool here): a bar's low end is at its bottom (vertical) or
left (horizontal).

Memory: the crop module's 16-bit colour planes (6 bytes a pixel) and a few
boolean masks; decoding holds the plot's values (float64) and mask.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vocoder.frontend import colormap
from vocoder.frontend.crop import PlotArea, as_rgb8, background_of, differs, find_plot_area, runs
from vocoder.frontend.picture import Picture

TOLERANCE = 10  # 8-bit steps: "the same colour" (antialiasing and JPEG noise stay below)
MIN_BAR_WIDTH = 3  # pixels across the bar (ffmpeg: 10, SoX: 14, matplotlib: ~15)
MIN_BAR_LENGTH = 0.25  # of the plot's side it runs beside
MIN_BAR_DELTA_E = 20.0  # ΔE between the bar's ends: a bar changes colour
# Pixels further than this (ΔE, CIE 1976) from every colour of the bar are masked: resampling
# and antialiasing inside a plot mix neighbouring map colours (on the bar's path, ΔE ≲ 3); text,
# gridlines and cursors are tens of ΔE away.
MASK_DELTA_E = 10.0


@dataclass(frozen=True)
class ColourBar:
    """A colour bar: where it is and the colours it shows from its low end to its high end."""

    box: tuple[int, int, int, int]  # LEFT, TOP, RIGHT, BOTTOM (exclusive)
    orientation: str  # "vertical" or "horizontal"
    extent: tuple[float, float]  # coordinates along the long axis (pixel i spans [i, i+1)) of the low and high end
    colours: np.ndarray  # K × 3 sRGB in [0, 1], one per pixel along the bar, low → high
    positions: np.ndarray  # K: each sample's position in [0, 1] between the ends
    confidence: float
    method: str
    index_positions: np.ndarray | None = None  # palette pictures: 256 positions (NaN: index not on the bar)

    def summary(self) -> dict:
        return {"box": list(self.box), "orientation": self.orientation, "low_end": "bottom" if
                self.orientation == "vertical" else "left", "extent": [round(v, 2) for v in self.extent],
                "samples": len(self.colours), "confidence": round(self.confidence, 3), "method": self.method,
                "palette_levels": None if self.index_positions is None
                else int(np.isfinite(self.index_positions).sum())}


@dataclass(frozen=True)
class BarDecoding:
    """The plot's pixels as positions along the bar: 0 = its low end, 1 = its high end."""

    values: np.ndarray  # H × W float64, masked pixels filled
    masked: np.ndarray  # H × W bool: colour off the bar (text, gridlines, cursors)
    method: str
    mean_delta_e: float | None  # over unmasked pixels matched by colour; None when all were table lookups
    exact: bool  # every unmasked pixel read by palette-index lookup

    @property
    def masked_count(self) -> int:
        return int(self.masked.sum())

    @property
    def masked_fraction(self) -> float:
        return float(self.masked.mean()) if self.masked.size else 0.0

    def summary(self) -> dict:
        return {"method": self.method, "exact": self.exact, "masked_pixels": self.masked_count,
                "masked_fraction": round(self.masked_fraction, 6), "mask_delta_e": MASK_DELTA_E,
                "mean_delta_e": None if self.mean_delta_e is None else round(self.mean_delta_e, 3)}


@dataclass(frozen=True)
class PlotLayout:
    plot: PlotArea
    bar: ColourBar | None
    is_plot: bool  # drawn by a plotting program: axes, labels, a bar (not a spectrogram edge to edge)
    evidence: tuple[str, ...] = field(default_factory=tuple)

    def boxes(self) -> dict[str, tuple[int, int, int, int]]:
        """Named boxes for `info` and `--preview` to draw."""
        named = {"plot": self.plot.box}
        if self.bar is not None:
            named["colour bar"] = self.bar.box
        return named

    def summary(self) -> dict:
        return {"is_plot": self.is_plot, "evidence": list(self.evidence),
                "plot": {"box": list(self.plot.box), "confidence": round(self.plot.confidence, 3),
                         "method": self.plot.method, "frame": None if self.plot.frame is None else list(self.plot.frame)},
                "colour_bar": None if self.bar is None else self.bar.summary()}


def _bar_candidates(planes: np.ndarray, background: np.ndarray, outside: np.ndarray, min_length: int):
    """Vertical bars: columns (allowed by ``outside``) whose pixels equal both horizontal neighbours
    along a long run; yields (first column, last column, first row, end row)."""
    steady = np.zeros(planes.shape[1:], dtype=bool)
    steady[:, 1:-1] = (~differs(planes[:, :, 1:-1], planes[:, :, :-2], TOLERANCE)
                       & ~differs(planes[:, :, 1:-1], planes[:, :, 2:], TOLERANCE))
    steady &= differs(planes, background, TOLERANCE) & outside[None, :]
    found = runs(np.ascontiguousarray(steady.T), min_length)  # per column: (column, first row, end row)
    if len(found) == 0:
        return
    found = found[np.lexsort((found[:, 1], found[:, 0]))]
    group = [found[0]]
    for run in found[1:]:
        last = group[-1]
        if run[0] == last[0] + 1 and abs(run[1] - last[1]) <= 2 and abs(run[2] - last[2]) <= 2:
            group.append(run)
            continue
        yield group
        group = [run]
    yield group


def _find_bar(picture: Picture, planes: np.ndarray, background: np.ndarray, plot: PlotArea) -> ColourBar | None:
    left, top, right, bottom = plot.frame or plot.box
    best = None
    for orientation in ("vertical", "horizontal"):
        view = planes if orientation == "vertical" else np.ascontiguousarray(planes.transpose(0, 2, 1))
        lo, hi = (left, right) if orientation == "vertical" else (top, bottom)
        side = (bottom - top) if orientation == "vertical" else (right - left)
        outside = np.ones(view.shape[2], dtype=bool)
        outside[max(lo - 2, 0):hi + 2] = False
        for group in _bar_candidates(view, background, outside, max(8, int(MIN_BAR_LENGTH * side))):
            if len(group) < MIN_BAR_WIDTH - 2:
                continue
            first_col, last_col = int(group[0][0]), int(group[-1][0])
            start, end = int(np.median([g[1] for g in group])), int(np.median([g[2] for g in group]))
            core = view[:, start:end, first_col:last_col + 1].mean(axis=2).T / 255.0  # along × 3
            if orientation == "vertical":
                core = core[::-1]  # low end (bottom) first
            lab = colormap.srgb_to_lab(core)
            ends = float(np.linalg.norm(lab[-1] - lab[0]))
            if ends < MIN_BAR_DELTA_E:
                continue
            score = (end - start) * ends
            if best is None or score > best[0]:
                best = (score, orientation, first_col - 1, last_col + 2, start, end, core, ends)
    if best is None:
        return None
    _, orientation, c0, c1, start, end, core, ends = best
    box = (c0, start, c1, end) if orientation == "vertical" else (start, c0, end, c1)
    length = end - start
    # A level per pixel along the bar, the ends at the end pixels' centres (SoX 14.4.2 spectrogram.c
    # draws row j at j/(k-1) of the range and labels its ends there; ffmpeg's showspectrum legend
    # likewise labels the end rows). matplotlib's ends are the field's edges: half a pixel away.
    positions = np.linspace(0.0, 1.0, length)
    extent = ((end - 0.5, start + 0.5) if orientation == "vertical" else (start + 0.5, end - 0.5))
    method = (f"a {orientation} strip of {c1 - c0} pixels, constant across and changing along "
              f"({length} pixels, ΔE {ends:.0f} between its ends), beside the plot; low end "
              f"{'bottom' if orientation == 'vertical' else 'left'} (assumed, as every tool here draws it); "
              "extent: the colour ends (end pixels' centres)")
    index_positions = None
    if picture.palette_indices is not None:
        index_positions, how = _palette_table(picture.palette_indices, box, orientation, positions)
        method += "; " + how
    return ColourBar(box, orientation, extent, core, positions, min(1.0, length / (0.5 * max(1, (
        plot.box[3] - plot.box[1]) if orientation == "vertical" else (plot.box[2] - plot.box[0])))), method,
        index_positions)


def _palette_table(indices: np.ndarray, box, orientation: str, positions: np.ndarray):
    """Index → position along the bar, when the bar's pixels run through palette indices
    monotonically (one index across the bar at each step): then each index is a level."""
    left, top, right, bottom = box
    strip = indices[top:bottom, left + 1:right - 1]
    along = strip[::-1, :] if orientation == "vertical" else strip.T
    if not (along == along[:, :1]).all():
        return None, "palette indices vary across the bar: decoded by colour"
    seq = along[:, 0].astype(np.int64)
    steps = np.diff(seq)
    if not ((steps >= 0).all() or (steps <= 0).all()) or len(np.unique(seq)) < 8:
        return None, "palette indices along the bar are not monotone: decoded by colour"
    table = np.full(256, np.nan)
    for index in np.unique(seq):
        table[index] = positions[seq == index].mean()
    return table, (f"palette indices run monotonically through {len(np.unique(seq))} levels: each index's "
                   "position is the mean position of its pixels along the bar (exact table lookup)")


def _fill(values: np.ndarray, masked: np.ndarray) -> np.ndarray:
    """Masked pixels take the nearest unmasked value in the same column (same time, nearest
    frequency); columns wholly masked (a cursor line) take the nearest column's."""
    if not masked.any():
        return values
    height, width = values.shape
    rows = np.arange(height)[:, None].repeat(width, axis=1)
    above = np.where(~masked, rows, -1)
    np.maximum.accumulate(above, axis=0, out=above)
    below = np.where(~masked, rows, height)
    below = np.minimum.accumulate(below[::-1], axis=0)[::-1]
    use_below = (above < 0) | ((below < height) & (below - rows < rows - above))
    source = np.where(use_below, below, above)
    empty = source[0] < 0
    source = np.clip(source, 0, height - 1)
    filled = np.where(masked, np.take_along_axis(values, source, axis=0), values)
    if empty.any() and not empty.all():
        cols = np.arange(width)
        valid = np.nonzero(~empty)[0]
        nearest = valid[np.clip(np.searchsorted(valid, cols), 0, len(valid) - 1)]
        left = valid[np.clip(np.searchsorted(valid, cols) - 1, 0, len(valid) - 1)]
        nearest = np.where(np.abs(left - cols) < np.abs(nearest - cols), left, nearest)
        filled[:, empty] = filled[:, nearest[empty]]
    return filled


def decode_through_bar(picture: Picture, plot_box: tuple[int, int, int, int], bar: ColourBar) -> BarDecoding:
    """The plot's pixels → positions along the bar in [0, 1]; off-bar colours masked and filled."""
    left, top, right, bottom = plot_box
    rgb = picture.pixels[top:bottom, left:right, :3]
    if rgb.shape[2] < 3:
        rgb = np.repeat(rgb[..., :1], 3, axis=2)
    colours, inverse, counts = colormap._distinct_colours(rgb)
    found, distance = colormap._nearest(colormap.srgb_to_lab(colours), colormap.srgb_to_lab(bar.colours))
    values = np.interp(found, np.linspace(0, 1, len(bar.positions)), bar.positions)[inverse].reshape(rgb.shape[:2])
    delta_e = distance[inverse].reshape(rgb.shape[:2])
    exact = False
    if bar.index_positions is not None and picture.palette_indices is not None:
        table = bar.index_positions[picture.palette_indices[top:bottom, left:right]]
        on_bar = np.isfinite(table)
        values = np.where(on_bar, table, values)
        delta_e = np.where(on_bar, 0.0, delta_e)
        exact = bool(on_bar.all())
        method = (f"palette index → position on the bar (table lookup) for {on_bar.mean():.1%} of the pixels; "
                  f"indices not on the bar matched by colour (CIELAB)")
        matched = ~on_bar
    else:
        method = "nearest colour (CIELAB) among the bar's colours, refined along its path"
        matched = np.ones(values.shape, dtype=bool)
    masked = delta_e > MASK_DELTA_E
    kept = matched & ~masked
    mean_delta_e = float(delta_e[kept].mean()) if kept.any() else None
    method += (f"; colours ΔE > {MASK_DELTA_E:g} from the bar masked ({int(masked.sum())} pixels) and filled "
               "from the nearest unmasked pixel in the same column")
    return BarDecoding(_fill(values, masked), masked, method, mean_delta_e, exact and not masked.any())


def _margin_evidence(planes: np.ndarray, background: np.ndarray, plot: PlotArea, bar: ColourBar | None) -> list[str]:
    """Text and ticks outside the plot: non-background pixels in the margins, sparse."""
    left, top, right, bottom = plot.frame or plot.box
    unlike = differs(planes, background, TOLERANCE)
    unlike[top:bottom, left:right] = False
    if bar is not None:
        bl, bt, br, bb = bar.box
        unlike[max(bt - 2, 0):bb + 2, max(bl - 2, 0):br + 2] = False
    height, width = unlike.shape
    margin = height * width - (bottom - top) * (right - left)
    if margin < 0.03 * height * width:
        return []
    fraction = unlike.sum() / margin
    return [f"marks beside the plot ({fraction:.1%} of the margins: tick labels, titles)"] if 0.002 <= fraction <= 0.3 else []


def find_layout(picture: Picture) -> PlotLayout:
    """The plot area, the colour bar (None when absent) and whether this looks like a drawn plot."""
    planes = as_rgb8(picture.pixels)
    background = background_of(planes)
    plot = find_plot_area(picture.pixels)
    evidence: list[str] = []
    bar = None
    if plot.frame is not None:
        evidence.append("axes frame at {},{},{},{}".format(*plot.frame))
    if plot.box != (0, 0, picture.width, picture.height):
        bar = _find_bar(picture, planes, background, plot)
        if bar is not None:
            evidence.append("colour bar at {},{},{},{} ({})".format(*bar.box, bar.orientation))
        evidence += _margin_evidence(planes, background, plot, bar)
    is_plot = plot.frame is not None and len(evidence) >= 2 or (bar is not None and len(evidence) >= 2)
    return PlotLayout(plot, bar, is_plot, tuple(evidence))

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

Where a bar's ends stand (its ``extent``), decided per picture from what is
drawn around it:

- an outline of one colour round the field (matplotlib's colour bar: the
  field is drawn from vmin to vmax inside the outline's spines): the ends are
  the field's edges, i.e. the outline's inner edges;
- no outline (SoX, ffmpeg): the ends are the end pixels' centres. SoX 14.4.2
  spectrogram.c paints bar row j with the level of j/(k-1) of its range and
  puts its end labels on rows 0 and k-1; ffmpeg 5.1's showspectrum legend
  labels the top row 0 dBFS and row y from the top 1 - y/(h-1) of the range
  (its bar colours row y from the bottom with y/h, one part in h below the
  labels: the labels are taken as the truth).

Memory: the crop module's 16-bit colour planes (6 bytes a pixel) and a few
boolean masks for the layout; decoding holds the plot's 24-bit colour keys
(int32), each pixel's distinct-colour index, its values (float64), ΔE
(float64) and mask (on a picture of more than 2^20 pixels, 200 MB of colour
tables while its colours are counted: a 4362×2176 ffmpeg screenshot's float
pixels are 228 MB), and while filling masked pixels a few planes over the
masked pixels' bounding box.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vocoder.errors import VocoderError
from vocoder.frontend import colormap
from vocoder.frontend.crop import PlotArea, as_rgb8, background_of, differs, find_plot_area, runs
from vocoder.frontend.picture import Picture

TOLERANCE = 10  # 8-bit steps: "the same colour" (antialiasing and JPEG noise stay below)
MIN_BAR_WIDTH = 3  # pixels across the bar (ffmpeg: 10, SoX: 14, matplotlib: ~15)
MIN_BAR_LENGTH = 0.25  # of the plot's side it runs beside
MIN_BAR_DELTA_E = 20.0  # ΔE between the bar's ends: a bar changes colour
# Growing a bar from its steady middle, a step to the next pixel along it may be this many times
# the largest step inside the middle, and never less than MIN_STEP_DELTA_E (8-bit rounding of a
# dark colour alone moves ΔE by ~1-2): a bar's outline or the background is a jump of tens.
STEP_FACTOR = 2.0
MIN_STEP_DELTA_E = 8.0
# Pixels further than this (ΔE, CIE 1976) from every colour of the bar are masked: resampling
# and antialiasing inside a plot mix neighbouring map colours (on the bar's path, ΔE ≲ 3); text,
# gridlines and cursors are tens of ΔE away.
MASK_DELTA_E = 10.0
# Palette pictures: an index not on the bar whose colour is this close (ΔE) to the bar's low-end
# colour is "below the bar's range" (SoX 14.4.2 paints levels under its range with palette entry 4,
# black, beside its lowest bar colour (0, 0, 3)) and reads as the low end: value 0, silence.
BELOW_RANGE_DELTA_E = 5.0
# Palette pictures whose plot holds more than this share of indices that are neither on the bar nor
# below its range were not drawn with the bar's indices (a re-quantised screenshot): read by colour.
MAX_OFF_PALETTE = 0.05


@dataclass(frozen=True)
class ColourBar:
    """A colour bar: where it is and the colours it shows from its low end to its high end."""

    box: tuple[int, int, int, int]  # LEFT, TOP, RIGHT, BOTTOM (exclusive): the colour field, no outline
    orientation: str  # "vertical" or "horizontal"
    extent: tuple[float, float]  # coordinates along the long axis (pixel i spans [i, i+1)) of the low and high end
    colours: np.ndarray  # K × 3 sRGB in [0, 1], one per pixel along the bar, low → high
    positions: np.ndarray  # K: each sample's position between the ends (0 = low, 1 = high)
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
    exact: bool  # every pixel read by palette-index lookup (on the bar, or below its range), none masked
    below_range: int = 0  # palette pixels whose index is the bar's below-range colour, read as 0

    @property
    def masked_count(self) -> int:
        return int(self.masked.sum())

    @property
    def masked_fraction(self) -> float:
        return float(self.masked.mean()) if self.masked.size else 0.0

    def summary(self) -> dict:
        return {"method": self.method, "exact": self.exact, "masked_pixels": self.masked_count,
                "masked_fraction": round(self.masked_fraction, 6), "mask_delta_e": MASK_DELTA_E,
                "below_range_pixels": self.below_range,
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


@dataclass(frozen=True)
class _Strip:
    """A bar found in a margin, in that margin's coordinates (along × across)."""

    start: int  # along: first pixel and end (exclusive) of the colour field
    end: int
    first: int  # across: first column and end (exclusive) of the field
    last: int
    colours: np.ndarray  # (end - start) × 3 in [0, 255], in along order, averaged across the core
    ends_delta_e: float
    outlined: bool  # one colour (not the background) just beyond both ends and along both sides


def _column_groups(found: np.ndarray) -> list[list[tuple[int, int, int]]]:
    """Runs (across column, start, end) grouped across adjacent columns whose runs overlap by at
    least half the shorter one (a bar's edge columns, antialiased or outlined, start elsewhere)."""
    groups: list[list[tuple[int, int, int]]] = []
    for run in sorted(map(tuple, found.tolist())):
        for group in groups:
            last = group[-1]
            if last[0] == run[0] - 1 and min(last[2], run[2]) - max(last[1], run[1]) >= min(
                    last[2] - last[1], run[2] - run[1]) / 2:
                group.append(run)
                break
        else:
            groups.append([run])
    return groups


def _grow(ok: np.ndarray, step: np.ndarray, bound: float, start: int, end: int) -> tuple[int, int]:
    """Extend [start, end) along the bar over pixels that are ``ok`` and continue its colour
    sequence (ΔE to the neighbour inside at most ``bound``); step[i] is ΔE between i and i+1."""
    while start > 0 and ok[start - 1] and step[start - 1] <= bound:
        start -= 1
    while end < len(ok) and ok[end] and step[end - 1] <= bound:
        end += 1
    return start, end


def _strip_bar(strip: np.ndarray, background: np.ndarray, min_length: int) -> list[_Strip]:
    """Bars in one margin (3 × along × across colour planes, contiguous).

    Seeds are columns whose pixels equal both neighbours across over a long
    run, grouped when their runs overlap; from the middle half of the seed the
    bar is widened over columns of the same colours and grown along while its
    pixels stay constant across, unlike both sides (the background beyond a
    near-background end), and continue its colour sequence.
    """
    steady = np.zeros(strip.shape[1:], dtype=bool)
    steady[:, 1:-1] = (~differs(strip[:, :, 1:-1], strip[:, :, :-2], TOLERANCE)
                       & ~differs(strip[:, :, 1:-1], strip[:, :, 2:], TOLERANCE))
    steady &= differs(strip, background, TOLERANCE)
    found = runs(np.ascontiguousarray(steady.T), min_length)
    bars = []
    along, across = strip.shape[1:]
    for group in _column_groups(found):
        if len(group) < MIN_BAR_WIDTH - 2:
            continue
        c0, c1 = group[0][0], group[-1][0] + 1
        s, e = int(np.median([g[1] for g in group])), int(np.median([g[2] for g in group]))
        seed = slice(s + (e - s) // 4, e - (e - s) // 4)
        core = strip[:, :, c0:c1]
        mean = core.mean(axis=2)  # 3 × along
        first, last = c0, c1  # widen over columns of the core's colours (antialiased edges included)

        def alike(column: int) -> bool:
            return bool((np.abs(strip[:, seed, column] - mean[:, seed]).max(axis=0) <= 2 * TOLERANCE).mean() >= 0.8)

        while first > 0 and alike(first - 1):
            first -= 1
        while last < across and alike(last):
            last += 1
        sides = [np.median(strip[:, seed, first - 1], axis=1) if first > 0 else background[:, 0, 0],
                 np.median(strip[:, seed, last], axis=1) if last < across else background[:, 0, 0]]
        constant = (core.max(axis=2) - core.min(axis=2)).max(axis=0) <= TOLERANCE
        # Exactly the colour beside the bar (its outline, or the background past a near-background
        # end: ffmpeg's (0, 1, 0) above black, SoX's (0, 0, 3)): not the bar.
        hidden = ((np.abs(mean - sides[0][:, None]).max(axis=0) < 0.5)
                  | (np.abs(mean - sides[1][:, None]).max(axis=0) < 0.5))
        lab = colormap.srgb_to_lab(mean.T / 255.0)
        step = np.linalg.norm(np.diff(lab, axis=0), axis=1)
        inner = step[seed.start:seed.stop - 1]
        bound = max(MIN_STEP_DELTA_E, STEP_FACTOR * float(inner.max()) if len(inner) else 0.0)
        start, end = _grow(constant & ~hidden, step, bound, seed.start, seed.stop)
        ends = float(np.linalg.norm(lab[end - 1] - lab[start]))
        if end - start < min_length or ends < MIN_BAR_DELTA_E:
            continue
        outlined = _outlined(mean, sides, background, start, end)
        if not _on_background(strip, sides, background, first, last, seed, outlined):
            continue  # a strip of a spectrogram's own content, not a legend beside it
        if outlined:  # an end of the outline's colour (grey's black) hides in it: outlines are equally thick
            low, high = _run_of(mean, sides[0], start - 1, -1), _run_of(mean, sides[0], end, 1)
            start, end = start - max(low - high, 0), end + max(high - low, 0)
        bars.append(_Strip(start, end, first, last, mean[:, start:end].T, ends, outlined))
    return bars


def _on_background(strip, sides, background, first: int, last: int, seed: slice, outlined: bool) -> bool:
    """A legend stands on the page: the background right beside the bar, or a few pixels beyond
    its outline (past the outline's antialiased edge)."""
    page = background[:, 0, 0]
    if not outlined:
        return all(np.abs(side - page).max() <= TOLERANCE for side in sides)
    across = strip.shape[2]
    return all(any(0 <= c < across and np.abs(np.median(strip[:, seed, c], axis=1) - page).max() <= TOLERANCE
                   for c in columns) for columns in (range(first - 2, first - 6, -1), range(last + 1, last + 5)))


def _run_of(mean: np.ndarray, colour: np.ndarray, index: int, direction: int) -> int:
    """How many pixels from ``index`` on in ``direction`` have ``colour`` (a few at most)."""
    count = 0
    while 0 <= index < mean.shape[1] and count < 8 and np.abs(mean[:, index] - colour).max() <= 2 * TOLERANCE:
        index, count = index + direction, count + 1
    return count


def _outlined(mean: np.ndarray, sides: list[np.ndarray], background: np.ndarray, start: int, end: int) -> bool:
    """One colour, not the background, along both sides of the field and just beyond both ends."""
    if start == 0 or end == mean.shape[1]:
        return False
    colour = sides[0]
    return bool(np.abs(colour - background[:, 0, 0]).max() > TOLERANCE
                and np.abs(sides[1] - colour).max() <= TOLERANCE
                and np.abs(mean[:, start - 1] - colour).max() <= 2 * TOLERANCE
                and np.abs(mean[:, end] - colour).max() <= 2 * TOLERANCE)


def _find_bar(picture: Picture, planes: np.ndarray, background: np.ndarray, plot: PlotArea) -> ColourBar | None:
    """The longest, most colourful bar in the margins beside (vertical) or under/over (horizontal)
    the plot's frame."""
    left, top, right, bottom = plot.frame or plot.box
    height, width = planes.shape[1:]
    best = None
    for orientation in ("vertical", "horizontal"):
        lo, hi, size = (left, right, width) if orientation == "vertical" else (top, bottom, height)
        side = (bottom - top) if orientation == "vertical" else (right - left)
        for a, b in ((0, max(lo - 2, 0)), (min(hi + 2, size), size)):
            if b - a < MIN_BAR_WIDTH:
                continue
            strip = planes[:, :, a:b] if orientation == "vertical" else planes[:, a:b, :].transpose(0, 2, 1)
            for bar in _strip_bar(np.ascontiguousarray(strip), background, max(8, int(MIN_BAR_LENGTH * side))):
                score = (bar.end - bar.start) * bar.ends_delta_e
                if best is None or score > best[0]:
                    best = (score, orientation, a, bar, side)
    if best is None:
        return None
    _, orientation, offset, bar, side = best
    start, end, length = bar.start, bar.end, bar.end - bar.start
    if orientation == "vertical":
        box = (offset + bar.first, start, offset + bar.last, end)
        colours = bar.colours[::-1] / 255.0  # low end (bottom) first
        extent = (float(end), float(start)) if bar.outlined else (end - 0.5, start + 0.5)
        centres = end - 0.5 - np.arange(length)
    else:
        box = (start, offset + bar.first, end, offset + bar.last)
        colours = bar.colours / 255.0
        extent = (float(start), float(end)) if bar.outlined else (start + 0.5, end - 0.5)
        centres = start + 0.5 + np.arange(length)
    positions = (centres - extent[0]) / (extent[1] - extent[0])
    low = "bottom" if orientation == "vertical" else "left"
    method = (f"a {orientation} strip of {box[2] - box[0] if orientation == 'vertical' else box[3] - box[1]} "
              f"pixels, constant across and changing along ({length} pixels, ΔE {bar.ends_delta_e:.0f} between "
              f"its ends), beside the plot; low end {low} (assumed, as every tool here draws it); extent: "
              + ("the field's edges inside its outline (the field spans the bar's limits, as matplotlib draws it)"
                 if bar.outlined else "the end pixels' centres (no outline; SoX and ffmpeg label their end rows)"))
    index_positions = None
    if picture.palette_indices is not None:
        index_positions, how = _palette_table(picture.palette_indices, box, orientation, positions)
        method += "; " + how
    return ColourBar(box, orientation, extent, colours, positions, min(1.0, length / (0.5 * max(1, side))), method,
                     index_positions)


def bar_from_box(picture: Picture, box: tuple[int, int, int, int]) -> ColourBar:
    """The colour bar in ``box`` (the user's, or the one found): its ends are the box's edges along
    its longer side, low end at the bottom (vertical) or left (horizontal); each step along it is
    the mean colour of the middle half across it."""
    left, top, right, bottom = (int(v) for v in box)
    if not (0 <= left < right <= picture.width and 0 <= top < bottom <= picture.height):
        raise VocoderError(f"--colorbar {left},{top},{right},{bottom} is not a box inside the "
                           f"{picture.width}×{picture.height} picture")
    orientation = "vertical" if bottom - top >= right - left else "horizontal"
    field = picture.pixels[top:bottom, left:right]
    field = field[..., :3] if field.shape[2] >= 3 else np.repeat(field[..., :1], 3, axis=2)
    along = field[::-1].transpose(1, 0, 2) if orientation == "vertical" else field  # across × along, low first
    across = along.shape[0]
    core = along[across // 4: across - across // 4] if across >= 4 else along
    colours = core.mean(axis=0)
    length = len(colours)
    if length < 8:
        raise VocoderError(f"--colorbar box is only {length} pixels long; it must span the bar")
    extent = (float(bottom), float(top)) if orientation == "vertical" else (float(left), float(right))
    positions = (np.arange(length) + 0.5) / length
    method = (f"a {orientation} bar in the box {left},{top},{right},{bottom}: its ends are the box's edges, low "
              f"end {'bottom' if orientation == 'vertical' else 'left'}")
    index_positions = None
    if picture.palette_indices is not None:
        index_positions, how = _palette_table(picture.palette_indices, (left, top, right, bottom), orientation,
                                              positions)
        method += "; " + how
    return ColourBar((left, top, right, bottom), orientation, extent, colours, positions, 1.0, method,
                     index_positions)


def _palette_table(indices: np.ndarray, box, orientation: str, positions: np.ndarray):
    """Index → position along the bar, when the bar's pixels run through palette indices
    monotonically (one index across the bar at each step): then each index is a level."""
    left, top, right, bottom = box
    strip = indices[top:bottom, left:right]
    along = strip[::-1, :] if orientation == "vertical" else strip.T
    if not (along == along[:, :1]).all():
        return None, "palette indices vary across the bar: decoded by colour"
    seq = along[:, 0].astype(np.int64)
    steps = np.diff(seq)
    levels = np.unique(seq)
    if not ((steps >= 0).all() or (steps <= 0).all()) or len(levels) < 8:
        return None, "palette indices along the bar are not monotone: decoded by colour"
    table = np.full(256, np.nan)
    for index in levels:
        table[index] = positions[seq == index].mean()
    return table, (f"palette indices run monotonically through {len(levels)} levels: each index's "
                   "position is the mean position of its pixels along the bar (exact table lookup)")


def _interpolate_along(values: np.ndarray, masked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masked pixels interpolated down each column between the nearest unmasked pixels above and
    below; (values, span): the span is the distance between them, twice the distance to the one
    found when only one side has any, and infinite when neither does."""
    n = values.shape[0]
    rows = np.arange(n, dtype=np.int32)[:, None]
    above = np.where(masked, np.int32(-1), rows)
    np.maximum.accumulate(above, axis=0, out=above)
    below = np.where(masked, np.int32(n), rows)
    below = np.minimum.accumulate(below[::-1], axis=0)[::-1]
    has_above, has_below = above >= 0, below < n
    value_above = np.take_along_axis(values, np.clip(above, 0, n - 1), axis=0)
    value_below = np.take_along_axis(values, np.clip(below, 0, n - 1), axis=0)
    both = has_above & has_below
    t = np.where(both, (rows - above) / np.maximum(below - above, 1), 0.0)
    filled = np.where(both, value_above + t * (value_below - value_above),
                      np.where(has_above, value_above, value_below))
    span = np.where(both, below - above, np.where(has_above, 2.0 * (rows - above),
                                                  np.where(has_below, 2.0 * (below - rows), np.inf)))
    return filled, span


def _fill(values: np.ndarray, masked: np.ndarray) -> np.ndarray:
    """Masked pixels (text, gridlines, a cursor) from their unmasked neighbours: linear
    interpolation down the column or along the row, whichever span is shorter (a horizontal
    gridline is bridged from above and below, a vertical cursor from left and right)."""
    if not masked.any() or masked.all():
        return values
    rows = np.nonzero(masked.any(axis=1))[0]
    cols = np.nonzero(masked.any(axis=0))[0]
    window = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]  # only the masked pixels' bounding box
    down, down_span = _interpolate_along(values[:, window[1]], masked[:, window[1]])
    across, across_span = _interpolate_along(values[window[0]].T, masked[window[0]].T)
    down, down_span = down[window[0]], down_span[window[0]]
    across, across_span = across.T[:, window[1]], across_span.T[:, window[1]]
    filled = values.copy()
    filled[window] = np.where(masked[window], np.where(down_span <= across_span, down, across), values[window])
    return filled


def _bar_path(bar: ColourBar) -> tuple[np.ndarray, np.ndarray]:
    """The bar's colours as a path in CIELAB with each sample's position: runs of one colour (a map
    level drawn over several pixels) become one sample at their mean position."""
    lab = colormap.srgb_to_lab(bar.colours)
    new = np.ones(len(lab), dtype=bool)
    new[1:] = np.abs(np.diff(bar.colours, axis=0)).max(axis=1) > 0.25 / 255  # another 8-bit colour
    run = np.cumsum(new) - 1
    counts = np.bincount(run)
    return (np.stack([np.bincount(run, lab[:, k]) for k in range(3)], axis=1) / counts[:, None],
            np.bincount(run, bar.positions) / counts)


def _by_colour(picture: Picture, plot_box, bar: ColourBar) -> tuple[np.ndarray, np.ndarray]:
    """(positions, ΔE) of the plot's pixels: nearest colour on the bar's path in CIELAB, refined
    between neighbouring samples, computed once per distinct colour."""
    left, top, right, bottom = plot_box
    rgb = picture.pixels[top:bottom, left:right]
    if rgb.shape[2] < 3:
        rgb = np.repeat(rgb[..., :1], 3, axis=2)
    colours, inverse, _ = colormap.distinct_colours(rgb, picture.bit_depth)
    lab_path, path_positions = _bar_path(bar)
    found, distance = colormap.nearest_on_map(colormap.srgb_to_lab(colours), lab_path)
    positions = np.interp(found, np.linspace(0.0, 1.0, len(path_positions)), path_positions)
    shape = rgb.shape[:2]
    return positions[inverse].reshape(shape), distance[inverse].reshape(shape)


def _by_palette(picture: Picture, plot_box, bar: ColourBar):
    """(values, masked, below-range count, method) by palette-index lookup, or None when the plot
    was not drawn with the bar's indices."""
    left, top, right, bottom = plot_box
    indices = picture.palette_indices[top:bottom, left:right]
    values = bar.index_positions[indices]
    off = ~np.isfinite(values)
    low = colormap.srgb_to_lab(bar.colours[0])
    below = np.zeros(256, dtype=bool)
    for index in np.unique(indices[off]):
        if index < len(picture.palette):
            below[index] = np.linalg.norm(colormap.srgb_to_lab(picture.palette[index]) - low) <= BELOW_RANGE_DELTA_E
    below_range = below[indices] & off
    masked = off & ~below_range
    if masked.mean() > MAX_OFF_PALETTE:
        return None
    values[below_range] = 0.0
    method = (f"palette index → position on the bar (table lookup) for {1 - off.mean():.1%} of the pixels; "
              f"{int(below_range.sum())} pixels of an index beside the bar's low-end colour (ΔE ≤ "
              f"{BELOW_RANGE_DELTA_E:g}: below its range, SoX's silence) read as 0; {int(masked.sum())} pixels of "
              "other indices (text, grid) masked")
    return values, masked, int(below_range.sum()), method


def decode_through_bar(picture: Picture, plot_box: tuple[int, int, int, int], bar: ColourBar) -> BarDecoding:
    """The plot's pixels → positions along the bar in [0, 1]; off-bar colours masked and filled.

    Palette pictures whose bar runs through palette indices are read by index
    (exact); any other picture by nearest colour on the bar's path in CIELAB,
    pixels more than MASK_DELTA_E from it masked. Masked pixels are filled by
    linear interpolation from their nearest unmasked neighbours in the column
    or the row, whichever span is shorter.
    """
    palette = None
    if bar.index_positions is not None and picture.palette_indices is not None:
        palette = _by_palette(picture, plot_box, bar)
    if palette is not None:
        values, masked, below_range, method = palette
        mean_delta_e, exact = None, not masked.any()
    else:
        values, delta_e = _by_colour(picture, plot_box, bar)
        masked = delta_e > MASK_DELTA_E
        mean_delta_e = float(delta_e[~masked].mean()) if not masked.all() else None
        below_range, exact = 0, False
        method = (("palette indices off the bar in more than "
                   f"{MAX_OFF_PALETTE:.0%} of the plot: " if bar.index_positions is not None else "")
                  + f"nearest colour (CIELAB) on the bar's path, refined between its samples; colours ΔE > "
                  f"{MASK_DELTA_E:g} from it masked ({int(masked.sum())} pixels)")
    if masked.any():
        method += ("; masked pixels filled by linear interpolation from the nearest unmasked pixels in their "
                   "column or row, whichever span is shorter")
    return BarDecoding(_fill(values, masked), masked, method, mean_delta_e, exact, below_range)


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
    plot = find_plot_area(picture.pixels, rgb8=planes)
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

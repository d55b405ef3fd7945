"""Finding the plot area in a screenshot of a spectrogram figure.

Every plotting program we meet draws the plot inside an axes frame: thin
straight lines of one colour around it (matplotlib's spines, SoX's grey box,
ffmpeg's grey box, Praat's black frame), with tick marks and labels outside.
The frame is found from its lines, so the plot's own content does not matter:
ffmpeg's plot is mostly as black as its background, Praat's is mostly as
white as its page. The plot area is what lies inside the frame's innermost
line.

A picture without a frame (a plot with its axes turned off) falls back to the
largest rectangle whose rows and columns are densely "not background", its
border (a line of one colour, an antialiased edge) trimmed. Either way the
result carries a confidence, so a doubtful crop is reported rather than
trusted.

Memory: the pixels as three 16-bit planes (6 bytes a pixel), their transpose
while columns are searched, a few boolean masks and one 16-bit difference
plane at a time: for a 4362×2176 ffmpeg picture about 150 MB besides the
caller's float pixels (228 MB as float64).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A row/column belongs to the plot when this fraction of it differs from the
# background: tick labels and titles stay far below, a spectrogram far above.
DENSE = 0.6
SURE = 0.8  # confidence below this is reported as unsure
# A frame line spans at least this fraction of the picture's side (a plot is
# never smaller), and its colour varies along it by at most this many steps
# of 8 bits from its median (gradients, e.g. a colour bar's rows, are not lines).
LINE_FRACTION = 0.1
LINE_SPREAD = 24
TICK_GAP = 3  # gaps this long (pixels) in a line are closed: ticks and labels touching it
CORNER_SLACK = 4  # pixels by which a frame's sides may miss each other at a corner
OVERSHOOT = 12  # pixels a side may run on past a corner (an end tick in line with it)
MAX_LINE_WIDTH = 6  # rows (or columns) of one frame side, antialiasing included
# A plot fills at least this fraction of a screenshot's width and height (SoX: 85 %, matplotlib's
# default figure: 62 % by 77 %); smaller boxes of lines are content (a chessboard, text).
MIN_PLOT_FRACTION = 0.3
TRIM_LIMIT = 3  # lines the dense-rectangle fallback may trim from each side


@dataclass(frozen=True)
class PlotArea:
    box: tuple[int, int, int, int]  # LEFT, TOP, RIGHT, BOTTOM (right/bottom exclusive)
    confidence: float  # frame: fraction of its sides drawn; dense: fraction of the box unlike the background
    method: str
    frame: tuple[int, int, int, int] | None = None  # the axes frame's outer box, when found by its lines

    @property
    def sure(self) -> bool:
        return self.confidence >= SURE


def as_rgb8(pixels: np.ndarray) -> np.ndarray:
    """3 × H × W int16 colour planes (grey repeated), 8-bit steps: the one compact copy the layout
    search works on (planes, so each comparison runs over contiguous memory). Made in blocks of
    rows, so the float temporaries stay small."""
    planes = np.empty((3,) + pixels.shape[:2], dtype=np.int16)
    bands = [0, 1, 2] if pixels.shape[2] >= 3 else [0, 0, 0]
    for start in range(0, pixels.shape[0], 128):
        block = np.clip(pixels[start:start + 128, :, bands], 0.0, 1.0)
        block *= 255
        planes[:, start:start + 128] = np.rint(block, out=block).transpose(2, 0, 1)
    return planes


def background_of(planes: np.ndarray) -> np.ndarray:
    """The most common colour on the picture's border (3 × 1 × 1, to compare with planes)."""
    border = np.concatenate([planes[:, 0], planes[:, -1], planes[:, :, 0], planes[:, :, -1]], axis=1).T
    values, counts = np.unique(border, axis=0, return_counts=True)
    return values[counts.argmax()].reshape(3, 1, 1)


def differs(a: np.ndarray, b: np.ndarray, tolerance: int) -> np.ndarray:
    """Where two colour-plane images (3 × ...; or one and a colour) differ by more than tolerance in some band."""
    out = np.abs(a[0] - b[0]) > tolerance
    for band in (1, 2):
        out |= np.abs(a[band] - b[band]) > tolerance
    return out


def runs(mask: np.ndarray, min_length: int) -> np.ndarray:
    """Runs of True along each row of a 2-D mask, at least min_length long: k × 3 (row, start, end exclusive)."""
    height, width = mask.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    steps = np.diff(padded, axis=1)
    rows_s, starts = np.nonzero(steps == 1)
    rows_e, ends = np.nonzero(steps == -1)  # same order: row-major, one end per start
    keep = ends - starts >= min_length
    return np.stack([rows_s[keep], starts[keep], ends[keep]], axis=1) if keep.any() else np.zeros((0, 3), np.int64)


def _close_gaps(mask: np.ndarray, gap: int) -> np.ndarray:
    """Fill runs of False no longer than 2·gap between True pixels of a row: a binary closing with a
    (2·gap + 1)-wide row, written with runs so that `info` on a plain picture never loads scipy."""
    height, width = mask.shape
    holes = runs(~mask, 1)
    holes = holes[(holes[:, 1] > 0) & (holes[:, 2] < width) & (holes[:, 2] - holes[:, 1] <= 2 * gap)]
    marks = np.zeros((height, width + 1), dtype=np.int32)
    np.add.at(marks, (holes[:, 0], holes[:, 1]), 1)
    np.add.at(marks, (holes[:, 0], holes[:, 2]), -1)
    return mask | (np.cumsum(marks, axis=1)[:, :width] > 0)


@dataclass(frozen=True)
class _Side:
    first: int  # first and last row (or column) of the line group
    last: int
    start: int  # its extent along the line (end exclusive)
    end: int
    colour: tuple[int, int, int]  # of its row most unlike the background (an antialiased line's core)
    contrast: int  # that row's difference from the background, 8-bit steps


def _line_groups(rgb8: np.ndarray, background: np.ndarray, tolerance: int) -> list[_Side]:
    """Horizontal frame lines: rows of one colour, unlike the background, with an edge above or
    below, at least LINE_FRACTION of the width long; adjacent rows merged (a thick or
    antialiased line is one side)."""
    height, width = rgb8.shape[1:]
    along = ~differs(rgb8[:, :, 1:], rgb8[:, :, :-1], tolerance)
    same = np.zeros((height, width), dtype=bool)
    same[:, 1:] |= along
    same[:, :-1] |= along
    del along
    across = differs(rgb8[:, 1:], rgb8[:, :-1], tolerance)
    edge = np.zeros((height, width), dtype=bool)
    edge[1:] |= across
    edge[:-1] |= across
    del across
    line = same & edge & differs(rgb8, background, tolerance)
    del same, edge
    min_length = max(16, int(LINE_FRACTION * width))
    candidates = np.nonzero(line.sum(axis=1) >= min_length - 2 * TICK_GAP)[0]  # the only rows worth a look
    found = runs(_close_gaps(line[candidates], TICK_GAP), min_length)
    sides: list[_Side] = []
    for row, start, end in zip(candidates[found[:, 0]], found[:, 1], found[:, 2]):
        # Keep the stretch of the run's main colour: a label touching the line is not the line.
        colours = rgb8[:, row, start:end].T
        main = np.median(colours[line[row, start:end]], axis=0)
        same_colour = line[row, start:end] & (np.abs(colours - main).max(axis=1) <= LINE_SPREAD)
        stretch = runs(_close_gaps(same_colour[None, :], TICK_GAP), min_length)
        if len(stretch) == 0:
            continue
        _, first, last = stretch[np.argmax(stretch[:, 2] - stretch[:, 1])]
        start, end = start + first, start + last
        colour = tuple(int(v) for v in main)
        contrast = int(np.abs(main - background[:, 0, 0]).max())
        previous = sides[-1] if sides else None
        if (previous is not None and previous.last == row - 1 and abs(previous.start - start) <= CORNER_SLACK
                and abs(previous.end - end) <= CORNER_SLACK and row - previous.first < MAX_LINE_WIDTH):
            if previous.contrast >= contrast:
                colour, contrast = previous.colour, previous.contrast
            sides[-1] = _Side(previous.first, int(row), min(previous.start, int(start)), max(previous.end, int(end)),
                              colour, contrast)
        else:
            sides.append(_Side(int(row), int(row), int(start), int(end), colour, contrast))
    return sides


def _reaches(start, end, first: int, last: int):
    """Lines [start, end) (numbers or arrays) reach both corners (first..last inclusive),
    overshooting by at most OVERSHOOT plus a few hundredths of the side's length (Praat's end
    ticks continue the frame lines)."""
    over = OVERSHOOT + (last - first) // 50
    return ((first - over <= start) & (start <= first + CORNER_SLACK)
            & (last + 1 - CORNER_SLACK <= end) & (end <= last + 1 + over))


def _one_colour(*sides: _Side) -> bool:
    """A frame's four sides are drawn in one colour (a white gridline meeting black spines is not a frame)."""
    colours = np.array([side.colour for side in sides])
    return bool((colours.max(axis=0) - colours.min(axis=0)).max() <= LINE_SPREAD)


def find_axes_frame(pixels: np.ndarray, tolerance: float = 0.04, rgb8: np.ndarray | None = None) -> PlotArea | None:
    """The plot inside an axes frame drawn as four lines meeting at the corners, or None.

    Of several frames (a colour bar's outline, a figure border), the largest
    that holds no other frame of at least half its area: the innermost plot.
    """
    rgb8 = as_rgb8(pixels) if rgb8 is None else rgb8
    background = background_of(rgb8)
    steps = int(round(tolerance * 255))
    rows = _line_groups(rgb8, background, steps)
    cols = _line_groups(np.ascontiguousarray(rgb8.transpose(0, 2, 1)), background, steps)
    min_height, min_width = (int(MIN_PLOT_FRACTION * side) for side in rgb8.shape[1:])
    rows = [r for r in rows if r.end - r.start >= min_width]  # shorter ones cannot be a frame's side
    cols = [c for c in cols if c.end - c.start >= min_height]
    col_starts = np.array([c.start for c in cols], dtype=np.int64)
    col_ends = np.array([c.end for c in cols], dtype=np.int64)
    frames = []
    for i, top in enumerate(rows):  # content rows of one colour make these many: the sides are found at once
        for bottom in rows[i + 1:]:
            if bottom.first - top.last < min_height:
                continue
            sides = [cols[k] for k in np.flatnonzero(_reaches(col_starts, col_ends, top.first, bottom.last))]
            for j, left in enumerate(sides):
                for right in sides[j + 1:]:
                    if (right.first - left.last >= min_width and _reaches(top.start, top.end, left.first, right.last)
                            and _reaches(bottom.start, bottom.end, left.first, right.last)
                            and _one_colour(top, bottom, left, right)):
                        frames.append(((left.last + 1, top.last + 1, right.first, bottom.first),
                                       (left.first, top.first, right.last + 1, bottom.last + 1)))
    if not frames:
        return None

    def area(box):
        return (box[2] - box[0]) * (box[3] - box[1])

    def holds(a, b):
        return a != b and a[0] <= b[0] and a[1] <= b[1] and a[2] >= b[2] and a[3] >= b[3] and area(b) >= area(a) / 2

    frames.sort(key=lambda f: -area(f[0]))
    inner, outer = next((f for f in frames if not any(holds(f[0], g[0]) for g in frames)), frames[0])
    method = (f"axes frame: four lines of one colour around the plot (outer box {list(outer)}), "
              "the plot taken inside its innermost lines")
    return PlotArea(tuple(int(v) for v in inner), 1.0, method, tuple(int(v) for v in outer))


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    """(start, end) of the longest run of True; (0, 0) when none."""
    found = runs(mask[None, :], 1)
    if len(found) == 0:
        return 0, 0
    best = found[np.argmax(found[:, 2] - found[:, 1])]
    return int(best[1]), int(best[2])


def _is_frame(line: np.ndarray, background: np.ndarray, tolerance: float) -> bool:
    """A border line to trim: one colour (an axis spine), or mostly close to the
    background (an antialiased edge where the plot meets the frame)."""
    if np.abs(line - np.median(line, axis=0)).max() <= tolerance:
        return True
    strong = np.abs(line - background).max(axis=-1) > 4 * tolerance
    return bool(strong.mean() < DENSE)


def find_dense_rectangle(pixels: np.ndarray, tolerance: float = 0.04) -> PlotArea:
    """The largest rectangle of rows and columns densely unlike the background (no frame drawn)."""
    rgb = pixels[..., :3] if pixels.shape[2] >= 3 else pixels[..., :1]
    height, width = rgb.shape[:2]
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    values, counts = np.unique(np.round(border * 255).astype(np.int64), axis=0, return_counts=True)
    background = values[counts.argmax()] / 255.0
    unlike = np.abs(rgb - background).max(axis=2) > tolerance
    # Alternate: dense rows within the current columns, dense columns within those rows.
    top, bottom, left, right = 0, height, 0, width
    for _ in range(3):
        rows = unlike[:, left:right].mean(axis=1) >= DENSE
        top, bottom = _longest_run(rows)
        if bottom - top < 2:
            break
        cols = unlike[top:bottom].mean(axis=0) >= DENSE
        left, right = _longest_run(cols)
        if right - left < 2:
            break
    if bottom - top < 2 or right - left < 2:
        return PlotArea((0, 0, width, height), 0.0, "no frame and no dense rectangle found; the whole picture")
    # Trim the border: outer rows/columns of one colour (spines) and background lines, a few at most
    # (a spectrogram's own silent rows are one colour too).
    trimmed = 0
    for _ in range(2):  # a spine can sit outside an antialiased edge, or inside it
        for _ in range(TRIM_LIMIT):
            if bottom - top > 2 and _is_frame(rgb[top, left:right], background, tolerance):
                top, trimmed = top + 1, trimmed + 1
            if bottom - top > 2 and _is_frame(rgb[bottom - 1, left:right], background, tolerance):
                bottom, trimmed = bottom - 1, trimmed + 1
            if right - left > 2 and _is_frame(rgb[top:bottom, left], background, tolerance):
                left, trimmed = left + 1, trimmed + 1
            if right - left > 2 and _is_frame(rgb[top:bottom, right - 1], background, tolerance):
                right, trimmed = right - 1, trimmed + 1
    confidence = float(unlike[top:bottom, left:right].mean())
    area = (bottom - top) * (right - left) / (height * width)
    if area < 0.05:
        confidence = min(confidence, area / 0.05)
    method = (f"no axes frame; largest rectangle whose rows and columns are >= {DENSE:.0%} unlike the background "
              f"(RGB {np.round(background * 255).astype(int).tolist()}), {trimmed} border lines (spines, "
              "antialiased edges) trimmed")
    return PlotArea((int(left), int(top), int(right), int(bottom)), confidence, method)


def find_plot_area(pixels: np.ndarray, tolerance: float = 0.04, rgb8: np.ndarray | None = None) -> PlotArea:
    """The plot rectangle of a figure (pixels: H × W × bands in [0, 1]): inside its axes frame,
    else the dense rectangle. ``rgb8``: the pixels' ``as_rgb8`` planes, when the caller has them."""
    return find_axes_frame(pixels, tolerance, rgb8) or find_dense_rectangle(pixels, tolerance)

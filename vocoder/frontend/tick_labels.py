"""Reading the numbers printed on a figure's axes and colour bar.

A screenshot of SoX, ffmpeg, matplotlib, librosa, Octave or Praat says its
time range, frequency range and dB range only in its tick labels. Here the
margin beside each side of the plot (and the outer side of the colour bar) is
cut out, the axis furniture (spines, tick marks, the bar's outline) removed,
the labels found as blobs of ink on the line nearest the plot, redrawn one per
line, enlarged and cleaned, and read by Tesseract in one call per strip. Each
label's pixel is the centre of its own ink along the axis (matplotlib, SoX and
ffmpeg centre a label on its tick; Praat writes the two end values centred on
the plot's edges), so the value at any pixel is a robust fit of value against
position: every pair of labels proposes a line, the one most labels agree with
wins (OCR misreads become counted outliers), and a logarithmic or librosa's
symlog scale is tried when that fits more labels.

Nothing here raises on a picture: what cannot be read becomes a note and a
low confidence. Tesseract is optional; without it the reading says so.
Cost: every strip's labels go on one sheet per rendering, so three Tesseract
runs per picture (the second and third only for doubtful labels), one thread
each; measured 0.6-0.9 s per picture for SoX, matplotlib, librosa and Praat
figures and 1.8 s for ffmpeg's 4362 × 2176 default, on a shared 2-core
machine. At most MAX_LABELS labels are read per strip and a sheet is drawn
smaller beyond MAX_SHEET_PIXELS.
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import ndimage

SURE = 0.5  # an axis reading below this confidence is not to be trusted
INK = 0.3  # a pixel is ink when it differs from the strip's background by this much (of full scale)
TEXT_HEIGHT = 32  # Tesseract reads best with capitals about 30 px tall (its manual: "Improving the quality")
MAX_SCALE = 6
MAX_LABELS = 16  # labels read per strip
MAX_SHEET_PIXELS = 4_000_000  # a sheet larger than this is drawn smaller
TIMEOUT_S = 30.0
# librosa 0.11 display.__scale_axes: y_axis="mel" is symlog base 2, threshold 1 kHz, linscale 1;
# y_axis="log" is symlog base 2, threshold C2 (65.406 Hz), linscale 0.5 (as display_axes.py).
LIBROSA_SYMLOGS = ((2.0, 1000.0, 1.0), (2.0, 65.40639132514966, 0.5))

Box = tuple[int, int, int, int]  # LEFT, TOP, RIGHT, BOTTOM; right and bottom exclusive


@functools.lru_cache(maxsize=8)
def _version(executable: str) -> str | None:
    try:
        done = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (done.stdout + done.stderr).split("\n")
    return lines[0].strip() or None if done.returncode == 0 else None


def ocr_engine() -> str | None:
    """The Tesseract on PATH, as its first version line ("tesseract 5.3.0"); None when absent."""
    executable = shutil.which("tesseract")
    return _version(executable) if executable else None


@dataclass(frozen=True)
class Label:
    text: str  # as Tesseract read it
    value: float  # in the axis unit (s, Hz, dB), after ms/kHz/"DC" conversions
    box: Box  # where its ink is in the picture
    confidence: float  # Tesseract's, 0..1


def _symlog(values: np.ndarray, base: float, linthresh: float, linscale: float) -> np.ndarray:
    """matplotlib's SymmetricalLogTransform (scale.py): linear within ±linthresh, log beyond."""
    adjusted = linscale / (1.0 - 1.0 / base)
    magnitude = np.abs(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        logged = np.sign(values) * linthresh * (adjusted + np.log(magnitude / linthresh) / np.log(base))
    return np.where(magnitude <= linthresh, values * adjusted, logged)


def _symlog_inverse(values: np.ndarray, base: float, linthresh: float, linscale: float) -> np.ndarray:
    adjusted = linscale / (1.0 - 1.0 / base)
    magnitude = np.abs(values)
    inner = linthresh * adjusted
    with np.errstate(over="ignore"):
        outer = np.sign(values) * linthresh * np.power(base, magnitude / linthresh - adjusted)
    return np.where(magnitude <= inner, values / adjusted, outer)


@dataclass(frozen=True)
class Scale:
    """How values map to positions: linear, log10, or matplotlib's symlog."""

    kind: str  # "linear" | "log" | "symlog"
    base: float = 10.0
    linthresh: float = 0.0
    linscale: float = 0.0

    def forward(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        if self.kind == "linear":
            return values
        if self.kind == "log":
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)
        return _symlog(values, self.base, self.linthresh, self.linscale)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        if self.kind == "linear":
            return values
        if self.kind == "log":
            return np.power(10.0, values)
        return _symlog_inverse(values, self.base, self.linthresh, self.linscale)


@dataclass(frozen=True)
class AxisReading:
    quantity: str  # "time" | "frequency" | "level"
    unit: str  # "s" | "Hz" | "dB" | "dBFS": labels in ms or kHz are converted
    side: str  # "bottom" | "top" | "left" | "right": where the labels were
    scale: str  # "linear" | "log" | "symlog"
    labels: tuple[Label, ...]  # the labels the fit used
    confidence: float  # 0..1: Tesseract's confidence times how well the labels fit one scale
    intercept: float  # scale.forward(value) = intercept + slope × pixel
    slope: float
    scale_parameters: Scale
    outliers: tuple[Label, ...]  # labels read but off the fitted scale (misreads)
    residual_px: float  # RMS distance of the used labels from the fit, in pixels
    title: str  # the axis title or unit text seen ("Time (s)", "dBFS"), "" when none
    ends: tuple[float, float]  # pixel coordinates of the plotted range's ends (plot edges, bar ends)

    def value_at(self, pixel: float) -> float:
        """The value at a pixel coordinate along the axis (x for time, y otherwise;
        continuous: pixel column i spans [i, i + 1))."""
        return float(self.scale_parameters.inverse(np.asarray(self.intercept + self.slope * pixel)))

    def summary(self) -> dict:
        scale = {"kind": self.scale}
        if self.scale == "symlog":
            scale.update(base=self.scale_parameters.base, linthresh=self.scale_parameters.linthresh,
                         linscale=self.scale_parameters.linscale)
        return {"quantity": self.quantity, "unit": self.unit, "side": self.side, "scale": scale,
                "confidence": round(self.confidence, 3), "sure": self.confidence >= SURE,
                "at_ends": [self.value_at(p) for p in self.ends], "ends_px": list(self.ends),
                "residual_px": round(self.residual_px, 3), "title": self.title,
                "labels": [{"text": lab.text, "value": lab.value, "box": list(lab.box),
                            "confidence": round(lab.confidence, 3)} for lab in self.labels],
                "outliers": [{"text": lab.text, "box": list(lab.box)} for lab in self.outliers],
                "method": "Tesseract on the margin strip; value fitted to label centres by agreement of pairs"}


@dataclass(frozen=True)
class AxesReading:
    engine: str | None
    time: AxisReading | None
    frequency: AxisReading | None
    level: AxisReading | None
    notes: tuple[str, ...]  # what could not be read and why, one short line each

    def summary(self) -> dict:
        return {"engine": self.engine, "notes": list(self.notes),
                **{name: None if axis is None else axis.summary()
                   for name, axis in (("time", self.time), ("frequency", self.frequency), ("level", self.level))}}


@dataclass(frozen=True)
class _Strip:
    """A margin to read: where it is, which way its values run, and its edge nearest the plot."""

    quantity: str
    side: str
    region: Box
    along: str  # "x": values run left→right; "y": top→bottom
    near: str  # the region's edge next to the plot or bar: "top", "bottom", "left", "right"
    ends: tuple[float, float]  # the plotted range along the axis: label centres must lie within it


@dataclass(frozen=True)
class _Group:
    """One blob of text ink (a label, a title) in picture coordinates."""

    box: Box
    rotated: bool  # tall text written bottom to top (a vertical axis title)


def _strips(shape: tuple[int, ...], plot: Box, bar: Box | None, orientation: str | None) -> list[_Strip]:
    height, width = shape[:2]
    left, top, right, bottom = plot
    pad_x, pad_y = max(8, round(0.06 * (right - left))), max(8, round(0.06 * (bottom - top)))
    below, above, at_left, at_right = height, 0, 0, width
    strips = []
    if bar is not None and orientation in ("vertical", "horizontal"):
        b_left, b_top, b_right, b_bottom = bar
        pad = max(8, round(0.15 * ((b_bottom - b_top) if orientation == "vertical" else (b_right - b_left))))
        if orientation == "vertical" and b_left >= (left + right) / 2:
            at_right = b_left
            strips.append(_Strip("level", "right", (b_left, b_top - pad, width, b_bottom + pad), "y", "left",
                                 (b_top, b_bottom)))
        elif orientation == "vertical":
            at_left = b_right
            strips.append(_Strip("level", "left", (0, b_top - pad, b_right, b_bottom + pad), "y", "right",
                                 (b_top, b_bottom)))
        elif b_top >= (top + bottom) / 2:
            below = b_top
            strips.append(_Strip("level", "bottom", (b_left - pad, b_top, b_right + pad, height), "x", "top",
                                 (b_left, b_right)))
        else:
            above = b_bottom
            strips.append(_Strip("level", "top", (b_left - pad, 0, b_right + pad, b_bottom), "x", "bottom",
                                 (b_left, b_right)))
    strips += [_Strip("time", "bottom", (left - pad_x, bottom, right + pad_x, below), "x", "top", (left, right)),
               _Strip("time", "top", (left - pad_x, above, right + pad_x, top), "x", "bottom", (left, right)),
               _Strip("frequency", "left", (at_left, top - pad_y, left, bottom + pad_y), "y", "right", (top, bottom)),
               _Strip("frequency", "right", (right, top - pad_y, at_right, bottom + pad_y), "y", "left", (top, bottom))]
    clipped = []
    for strip in strips:
        x0, y0, x1, y1 = strip.region
        region = (max(0, x0), max(0, y0), min(width, x1), min(height, y1))
        if region[2] - region[0] >= 4 and region[3] - region[1] >= 4:
            clipped.append(_Strip(strip.quantity, strip.side, region, strip.along, strip.near, strip.ends))
    return clipped


def _contrast(pixels: np.ndarray, region: Box, blanks: list[Box]) -> np.ndarray:
    """How far each pixel of the region is from its background (the commonest colour), 0..1;
    the plot and the bar themselves are blanked."""
    x0, y0, x1, y1 = region
    rgb = pixels[y0:y1, x0:x1, :3] if pixels.shape[2] >= 3 else pixels[y0:y1, x0:x1, :1]
    flat = rgb.reshape(-1, rgb.shape[2])[:: max(1, rgb.shape[0] * rgb.shape[1] // 100_000)]
    codes = np.round(flat * 255).astype(np.int64) @ (256 ** np.arange(flat.shape[1]))
    values, counts = np.unique(codes, return_counts=True)
    common = values[counts.argmax()]
    background = np.array([(common // 256 ** k) % 256 for k in range(flat.shape[1])]) / 255.0
    contrast = np.abs(rgb - background).max(axis=2)
    for b_left, b_top, b_right, b_bottom in blanks:
        contrast[max(0, b_top - y0):max(0, b_bottom - y0), max(0, b_left - x0):max(0, b_right - x0)] = 0.0
    return contrast


def _without_furniture(ink: np.ndarray, near: str) -> np.ndarray:
    """Ink less the axis furniture: whatever touches the edge next to the plot (the spine and the
    tick marks drawn from it) and long thin lines (spines, the bar's outline, gridlines)."""
    labelled, count = ndimage.label(ink, structure=np.ones((3, 3)))
    if count == 0:
        return ink
    edge = {"top": labelled[:2], "bottom": labelled[-2:], "left": labelled[:, :2], "right": labelled[:, -2:]}[near]
    drop = np.zeros(count + 1, dtype=bool)
    drop[np.unique(edge)] = True
    for index, found in enumerate(ndimage.find_objects(labelled), start=1):
        rows, cols = found[0].stop - found[0].start, found[1].stop - found[1].start
        if max(rows, cols) >= 8 * max(1, min(rows, cols)) and max(rows, cols) >= 0.3 * max(ink.shape):
            drop[index] = True
    drop[0] = False
    return ink & ~drop[labelled]


def _groups(ink: np.ndarray, upright_only: bool) -> tuple[list[_Group], float]:
    """Blobs of text (characters joined across gaps under 0.7 of a character height), and the text
    height. Beside a vertical axis text may be written bottom to top, so characters join in both
    directions there; above and below a plot only sideways (matplotlib's "Time (s)" sits half a
    character under its tick labels)."""
    labelled, count = ndimage.label(ink, structure=np.ones((3, 3)))
    if count == 0:
        return [], 0.0
    heights = [s[0].stop - s[0].start for s in ndimage.find_objects(labelled)]
    text_height = float(np.median([h for h in heights if h >= 3] or heights))
    reach = max(1, round(0.35 * text_height))
    kernel = np.ones((3 if upright_only else 2 * reach + 1, 2 * reach + 1), bool)
    joined, _ = ndimage.label(ndimage.binary_dilation(ink, kernel), structure=np.ones((3, 3)))
    groups = []
    for found in ndimage.find_objects(joined):
        own = ink[found]
        rows, cols = np.nonzero(own)
        if rows.size < 3:
            continue
        top, left = found[0].start + rows.min(), found[1].start + cols.min()
        box = (int(left), int(top), int(found[1].start + cols.max() + 1), int(found[0].start + rows.max() + 1))
        tall, wide = box[3] - box[1], box[2] - box[0]
        # written bottom to top: taller than wide, and several characters (a lone "8" is one blob)
        stacked = tall > 1.5 * wide and tall > 1.5 * text_height and ndimage.label(own)[1] >= 2
        groups.append(_Group(box, rotated=not upright_only and stacked))
    return groups, text_height


@dataclass(frozen=True)
class _Rendering:
    """One way of drawing the labels for Tesseract. Its LSTM misreads isolated digits of small
    bitmap fonts now and then, differently at each size, so a label read doubtfully is read again
    another way and the fit chooses among the readings (measured on SoX's 61 labels and titles: each
    way alone reads 85-90 % of them, the three together all)."""

    text_height: float  # pixels the text is enlarged to (Tesseract's manual: 20-40 px reads best)
    blur: float  # Gaussian radius after enlarging, pixels
    binarise: bool
    numbers_only: bool  # restrict Tesseract to the characters tick labels use


# First every piece as numbers; then, again, those not read as a number or read with under
# DOUBTFUL confidence, as numbers and last unrestricted (titles: "Frequency (kHz)"; and Tesseract
# gives "-10 dB" confidence 0 when restricted to NUMBER_CHARACTERS, which has no space).
RENDERINGS = (_Rendering(27.0, 0.0, False, True), _Rendering(36.0, 1.2, True, True),
              _Rendering(32.0, 0.0, False, False))
DOUBTFUL = 0.85
NUMBER_CHARACTERS = "0123456789.-+:kHzdBFSsmDC"


@dataclass(frozen=True)
class _Piece:
    """A group's ink, ready to draw: contrast 0..1 (text = 1), turned upright, and its text height."""

    ink: np.ndarray
    text_height: float


def _piece(contrast: np.ndarray, origin: tuple[int, int], group: _Group, text_height: float) -> _Piece:
    x0, y0 = origin
    left, top, right, bottom = group.box
    ink = contrast[max(0, top - y0 - 1):bottom - y0 + 1, max(0, left - x0 - 1):right - x0 + 1]
    ink = np.clip(ink / max(float(ink.max()), 1e-6), 0.0, 1.0)
    if group.rotated:
        ink = np.rot90(ink, k=-1)
        text_height = float(min(ink.shape[0], 2 * text_height))
    return _Piece(ink, text_height)


def _fewer_labels(groups: list[_Group], strip: _Strip, text_height: float) -> list[_Group]:
    """At most MAX_LABELS of the groups on the line nearest the plot (the tick labels), evenly spread
    and the end ones kept, and every group further out (titles): ffmpeg writes 50 labels an axis,
    and reading them all costs time without making the fit surer."""
    width, height = strip.region[2] - strip.region[0], strip.region[3] - strip.region[1]
    distance = {"top": lambda b: b[1], "bottom": lambda b: height - b[3],
                "left": lambda b: b[0], "right": lambda b: width - b[2]}[strip.near]
    if not groups:
        return groups
    distances, counts = np.unique([distance(g.box) for g in groups], return_counts=True)
    aligned = distances[counts.argmax()]  # labels share their edge nearest the plot
    band = [g for g in groups if abs(distance(g.box) - aligned) <= 1.5 * text_height and not g.rotated]
    if len(band) <= MAX_LABELS:
        return groups
    axis = 0 if strip.along == "x" else 1
    band.sort(key=lambda g: g.box[axis])
    kept = {id(band[round(k)]) for k in np.linspace(0, len(band) - 1, MAX_LABELS)}
    return [g for g in groups if id(g) in kept or all(g is not b for b in band)]


def _sheet(pieces: list[_Piece], rendering: _Rendering) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The pieces drawn one per line, black on white, enlarged (bicubic: smooths bitmap fonts such as
    ffmpeg's 8-pixel one); the sheet and each piece's rows in it."""
    from PIL import Image, ImageFilter

    scales = [float(np.clip(rendering.text_height / max(p.text_height, 1.0), 1.0, MAX_SCALE)) for p in pieces]
    area = sum(p.ink.size * s * s for p, s in zip(pieces, scales)) * 3  # lines and gaps
    shrink = min(1.0, math.sqrt(MAX_SHEET_PIXELS / max(area, 1.0)))
    gap, lines, rows = round(rendering.text_height), [], []
    y = gap
    for piece, scale in zip(pieces, scales):
        scale = max(1.0, scale * shrink)
        size = (max(1, round(piece.ink.shape[1] * scale)), max(1, round(piece.ink.shape[0] * scale)))
        image = Image.fromarray((piece.ink * 255).astype(np.uint8)).resize(size, Image.BICUBIC)
        if rendering.blur:
            image = image.filter(ImageFilter.GaussianBlur(rendering.blur))
        drawn = np.asarray(image)
        if rendering.binarise:
            drawn = np.where(drawn >= 128, 255, 0).astype(np.uint8)
        lines.append((y, drawn))
        rows.append((y, y + drawn.shape[0]))
        y += drawn.shape[0] + gap
    width = max((d.shape[1] for _, d in lines), default=1) + 2 * gap
    sheet = np.full((y, width), 255, dtype=np.uint8)
    for top, drawn in lines:
        sheet[top:top + drawn.shape[0], gap:gap + drawn.shape[1]] = 255 - drawn
    return sheet, rows


def _tesseract(sheet: np.ndarray, numbers_only: bool) -> list[tuple[float, str, float]]:
    """Tesseract's words on a sheet: (row of the word's centre, text, confidence 0..1), in reading
    order; page segmentation 6 (one block of lines)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(sheet).save(buffer, format="PNG")
    limit = ["-c", f"tessedit_char_whitelist={NUMBER_CHARACTERS}"] if numbers_only else []
    # One thread: Tesseract's OpenMP threads only wait on each other on a sheet this small.
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(["tesseract", "stdin", "stdout", "--psm", "6", *limit, "tsv"],
                          input=buffer.getvalue(), capture_output=True, timeout=TIMEOUT_S, env=environment)
    words = []
    for line in done.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cells = line.split("\t")
        if len(cells) == 12 and cells[0] == "5" and cells[11].strip() and float(cells[10]) >= 0:
            top, height = int(cells[7]), int(cells[9])
            words.append((top + height / 2, cells[11].strip(), float(cells[10]) / 100.0))
    return words


def _readings(pieces: list[_Piece]) -> list[list[tuple[str, float, bool]]]:
    """Each piece's text as the renderings read it: [(text, confidence, restricted to numbers), ...]."""
    readings: list[list[tuple[str, float, bool]]] = [[] for _ in pieces]
    for rendering in RENDERINGS:
        def wanted(read: list[tuple[str, float, bool]]) -> bool:
            if rendering is RENDERINGS[0]:
                return True
            numbers = [conf for text, conf, _ in read if _parse(text) is not None]
            return not numbers or max(numbers) < DOUBTFUL
        chosen = [index for index, read in enumerate(readings) if wanted(read)]
        if not chosen:
            continue
        sheet, rows = _sheet([pieces[index] for index in chosen], rendering)
        words = _tesseract(sheet, rendering.numbers_only)
        for index, (top, bottom) in zip(chosen, rows):
            own = [(text, conf) for centre, text, conf in words if top - 2 <= centre < bottom + 2]
            if own:
                readings[index].append((" ".join(t for t, _ in own), min(c for _, c in own),
                                        rendering.numbers_only))
    return readings


_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-", "~": "-"})
_NUMBER = re.compile(r"^([+-]?)(\d+(?:\.\d*)?|\.\d+)(k)?(khz|hz|ms|s|dbfs|db)?$", re.IGNORECASE)
_CLOCK = re.compile(r"^(\d+):(\d{1,2}(?:\.\d+)?)$")  # m:ss(.f), as librosa's TimeFormatter writes
_MISREAD = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"})
_SUFFIX_SCALE = {"khz": 1000.0, "ms": 0.001}


def _parse(text: str) -> tuple[float, str, float] | None:
    """A tick label's number, the unit written with it ("" when none) and its printed rounding (both
    numbers in s, Hz or dB when a unit is written): "1.04s", "+0 dB", "DC" (0 Hz: SoX and ffmpeg),
    "2k", "10981.93", "0:01.5"."""
    compact = text.translate(_DASHES).replace(" ", "").rstrip(".,")
    # SoX 14.4's built-in font draws the decimal point as a raised dot ("0•2"), read as +, - or *
    compact = re.sub(r"(?<=\d)[·•∙*+-](?=\d)", ".", compact)
    if compact.upper() == "DC":
        return 0.0, "hz", 0.0
    for candidate in (compact, compact.translate(_MISREAD) if re.search(r"\d", compact) else compact):
        clock = _CLOCK.match(candidate)
        if clock:
            return 60.0 * int(clock.group(1)) + float(clock.group(2)), "s", _rounding(candidate)
        number = _NUMBER.match(candidate)
        if number:
            sign, digits, kilo, unit = number.groups()
            unit = (unit or "").lower()
            factor = (1000.0 if kilo else 1.0) * _SUFFIX_SCALE.get(unit, 1.0)
            value = float(digits) * (-1.0 if sign == "-" else 1.0)
            return value * factor, ("hz" if kilo and not unit else unit), _rounding(digits) * factor
    return None


def _dotted_zero_variants(text: str) -> list[tuple[str, float]]:
    """The text, and (held less sure) each way of reading some of its 6s as 0s: ffmpeg's legend
    font (libavutil's xga_font_data, an IBM VGA font) dots its zero, which Tesseract reads as 6
    ("0.50s" → "6.56s"). The fit keeps whichever reading lies on the scale."""
    sixes = [i for i, ch in enumerate(text) if ch == "6"][:3]
    variants = [(text, 1.0)]
    for mask in range(1, 2 ** len(sixes)):
        chars = list(text)
        for bit, position in enumerate(sixes):
            if mask >> bit & 1:
                chars[position] = "0"
        variants.append(("".join(chars), 0.9))
    return variants


def _rounding(text: str) -> float:
    """Half a unit of the label's last digit: ffmpeg prints "8.83s" and "-19" for ticks that are not
    round, so a label can sit up to this far from its exact value."""
    decimals = re.search(r"\.(\d+)", text)
    return 0.5 * 10.0 ** -(len(decimals.group(1)) if decimals else 0)


_UNITS = {"time": ((r"\bms\b", "ms", 0.001), (r"\(s\)|\bs\b|\bsec", "s", 1.0), ("time", "s", 1.0)),
          "frequency": (("khz|kh2", "kHz", 1000.0), ("hz|h2", "Hz", 1.0)),  # Tesseract reads z as 2 now and then
          "level": ((r"dbfs|fs\b", "dBFS", 1.0), ("db", "dB", 1.0))}  # small "dBFS" reads as "ABFS", "3FS"
_BASE_UNIT = {"time": "s", "frequency": "Hz", "level": "dB"}


def _unit_from_title(quantity: str, title: str) -> tuple[str, float] | None:
    """The unit an axis title names ("Frequency (kHz)" → kHz, ×1000), None when it names none."""
    lowered = title.lower()
    for pattern, unit, factor in _UNITS[quantity]:
        if re.search(pattern, lowered):
            return unit, factor
    return None


@dataclass(frozen=True)
class _Candidate:
    """One reading of one label: which label (owner), its number and unit, where it is."""

    owner: int
    label: Label
    unit: str
    rounding: float  # half the last printed digit: "8.83s" → 0.005 s


@dataclass(frozen=True)
class _StripText:
    candidates: list[_Candidate]
    title: str
    notes: list[str]


_WRITTEN_UNITS = {"time": ("", "s", "ms"), "frequency": ("", "hz", "khz"), "level": ("", "db", "dbfs")}


def _belongs(quantity: str, value: float, unit: str) -> bool:
    """Whether a number can be a label of this axis: its written unit is this axis's, and no
    frequency is negative (a colour bar's "-40" beside a plot whose bar was not found)."""
    return unit in _WRITTEN_UNITS[quantity] and not (quantity == "frequency" and value < 0)


def _strip_text(strip: _Strip, groups: list[_Group], readings: list[list[tuple[str, float, bool]]]) -> _StripText:
    """The numbers (every reading of every label centred within the plotted range) and the title text."""
    if not groups:
        return _StripText([], "", [f"{strip.side}: no text"])
    start, stop = strip.ends
    tolerance = max(3.0, 0.01 * (stop - start))
    candidates, titles = [], []
    for owner, (group, read) in enumerate(zip(groups, readings)):
        left, top, right, bottom = group.box
        centre = (left + right) / 2 if strip.along == "x" else (top + bottom) / 2
        seen: dict[tuple[float, str, float], tuple[str, float]] = {}
        for text, confidence, _ in read:
            for variant, doubt in _dotted_zero_variants(text):
                parsed = None if group.rotated else _parse(variant)
                if parsed is not None and confidence * doubt >= seen.get(parsed, ("", -1.0))[1]:
                    seen[parsed] = (variant, confidence * doubt)  # readings that agree: the surest
        if start - tolerance <= centre <= stop + tolerance:
            candidates += [_Candidate(owner, Label(text, value, group.box, confidence), unit, rounding)
                           for (value, unit, rounding), (text, confidence) in seen.items()
                           if _belongs(strip.quantity, value, unit)]
        if not seen:
            titles += [text for text, _, restricted in read if not restricted and sum(map(str.isalpha, text)) >= 2]
    notes = [] if candidates else [f"{strip.side}: no number read"]
    return _StripText(candidates, " ".join(titles), notes)


@dataclass(frozen=True)
class _Fit:
    scale: Scale
    chosen: dict[int, int]  # label (owner) → the candidate on the line
    intercept: float
    slope: float
    residual_px: float


def _fit(positions: np.ndarray, values: np.ndarray, rounding: np.ndarray, owners: np.ndarray, scale: Scale,
         tolerance: float) -> _Fit | None:
    """The line (in the scale's space) most labels lie within `tolerance` pixels of (beyond their
    printed rounding), one reading per label: every pair of readings of different labels proposes
    one (RANSAC over all pairs), the largest agreement wins, least squares on it."""
    t = scale.forward(values)
    slack = np.abs(scale.forward(values + rounding) - t)
    usable = np.flatnonzero(np.isfinite(t) & np.isfinite(slack))
    if len(usable) < 2:
        return None
    i, j = np.array(list(combinations(usable, 2))).T
    dp, dt = positions[j] - positions[i], t[j] - t[i]
    proper = (owners[i] != owners[j]) & (np.abs(dp) > 0.5) & (dt != 0)
    if not proper.any():
        return None
    i, j = i[proper], j[proper]
    slope = dt[proper] / dp[proper]
    intercept = t[i] - slope * positions[i]

    def excess(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # pixels off the line beyond the rounding
        with np.errstate(invalid="ignore"):
            off = np.maximum(np.abs(t[None, :] - a[:, None] - b[:, None] * positions[None, :]) - slack, 0)
            off = off / np.abs(b)[:, None]
        return np.where(np.isfinite(off), off, np.inf)

    off = excess(intercept, slope)
    order = np.argsort(owners, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(owners[order]) != 0])
    nearest = np.minimum.reduceat(off[:, order], starts, axis=1)  # each label's closest reading
    within = nearest <= tolerance
    score = within.sum(axis=1) - np.where(within, nearest, 0).sum(axis=1) / (tolerance * (nearest.shape[1] + 1))
    best = off[score.argmax()]
    chosen: dict[int, int] = {}
    for index in np.argsort(best):
        if best[index] <= tolerance and int(owners[index]) not in chosen:
            chosen[int(owners[index])] = int(index)
    if len(chosen) < 2:
        return None
    used = np.array(sorted(chosen.values()))
    slope_, intercept_ = np.polyfit(positions[used], t[used], 1)
    residual = excess(np.array([intercept_]), np.array([slope_]))[0, used]
    return _Fit(scale, chosen, float(intercept_), float(slope_), float(np.sqrt(np.mean(residual ** 2))))


_SCALES = (Scale("linear"), Scale("log"), *(Scale("symlog", *parameters) for parameters in LIBROSA_SYMLOGS))


def _best_fit(positions: np.ndarray, values: np.ndarray, rounding: np.ndarray, owners: np.ndarray,
              tolerance: float) -> _Fit | None:
    """Linear unless another scale puts more labels on its line (or the same labels clearly closer:
    log before symlog, which match above the symlog's threshold). Labels
    are taken as exact first (SoX's, matplotlib's ticks are round numbers); only when that leaves
    a fifth of them off the line are they allowed their printed rounding (ffmpeg's are not)."""
    for slack in (np.zeros_like(rounding), rounding):
        fits = [f for f in (_fit(positions, values, slack, owners, s, tolerance) for s in _SCALES) if f is not None]
        if fits and max(len(f.chosen) for f in fits) >= 0.8 * len(set(owners.tolist())):
            break
    if not fits:
        return None
    most = max(len(f.chosen) for f in fits)
    fits = [f for f in fits if len(f.chosen) == most]
    closest = min(f.residual_px for f in fits)
    return next(f for f in fits if f.residual_px <= closest + 0.5)  # the simplest that fits as well


def _increasing_way(strip: _Strip) -> float:
    """+1 when values should grow with the pixel coordinate (time, a horizontal bar), -1 when they
    should grow upwards (frequency, a vertical bar): every program examined draws them so."""
    return 1.0 if strip.along == "x" else -1.0


def _axis_reading(strip: _Strip, text: _StripText, title: str) -> tuple[AxisReading | None, list[str]]:
    """The scale one strip's labels give; `title`: the text beside every strip of this quantity
    (SoX writes "Frequency (kHz)" on the left only, its labels on both sides)."""
    where = f"{strip.quantity} ({strip.side})"
    owners = np.array([c.owner for c in text.candidates])
    if len(set(owners.tolist())) < 2:
        return None, [f"{where}: {len(set(owners.tolist()))} number(s) read, 2 needed"]
    notes = []
    written = {c.unit for c in text.candidates if c.unit}
    titled = _unit_from_title(strip.quantity, title)
    factor = titled[1] if titled else 1.0
    full_scale = "dbfs" in written or (titled is not None and titled[0] == "dBFS")
    unit = "dBFS" if strip.quantity == "level" and full_scale else _BASE_UNIT[strip.quantity]
    found_unit = titled is not None or bool(written)
    if not found_unit:
        notes.append(f"{where}: no unit seen; {unit} assumed")
    labels = [Label(c.label.text, c.label.value * (1.0 if c.unit else factor), c.label.box, c.label.confidence)
              for c in text.candidates]
    axis = 0 if strip.along == "x" else 1
    positions = np.array([(lab.box[axis] + lab.box[axis + 2]) / 2 for lab in labels])
    values = np.array([lab.value for lab in labels])
    rounding = np.array([c.rounding * (1.0 if c.unit else factor) for c in text.candidates])
    tolerance = 2.0
    fit = _best_fit(positions, values, rounding, owners, tolerance)
    if fit is None:
        return None, notes + [f"{where}: no two labels agree on a scale"]
    used = tuple(sorted((labels[i] for i in fit.chosen.values()), key=lambda lab: lab.box[axis]))
    missed = sorted(set(owners.tolist()) - set(fit.chosen))
    outliers = tuple(next(lab for lab, o in zip(labels, owners) if o == owner) for owner in missed)
    agreement = 1.0 if len(used) >= 3 else 0.7
    # Two labels fix a line; each further label on it within the tolerance is an independent check
    # that misreads could hardly pass all together: the doubt Tesseract's own confidence leaves
    # shrinks with them (SoX's tiny font reads at ~0.5 per label, yet 16 labels lie within 0.3 px).
    mean_ocr = float(np.mean([lab.confidence for lab in used]))
    ocr = mean_ocr + (1.0 - mean_ocr) * (1.0 - 2.0 / len(used))
    closeness = 1.0 / (1.0 + max(0.0, fit.residual_px - 1.0))
    share = 0.5 + 0.5 * len(used) / (len(used) + len(outliers))
    confidence = ocr * agreement * closeness * share * (1.0 if found_unit else 0.8)
    if len(used) == 2:
        notes.append(f"{where}: only two labels; the scale is assumed linear between them")
    if outliers:
        notes.append(f"{where}: {len(outliers)} of {len(used) + len(outliers)} labels off the fitted scale, "
                     f"not used ({', '.join(repr(lab.text) for lab in outliers[:4])})")
    if np.sign(fit.slope) != _increasing_way(strip):
        confidence *= 0.5
        notes.append(f"{where}: values run the unusual way (signs or digits misread?)")
    reading = AxisReading(strip.quantity, unit, strip.side, fit.scale.kind, used, float(confidence),
                          fit.intercept, fit.slope, fit.scale, outliers, fit.residual_px, title,
                          (float(strip.ends[0]), float(strip.ends[1])))
    return reading, notes


def read_axes(pixels: np.ndarray, plot_box: Box, bar_box: Box | None = None,
              bar_orientation: str | None = None) -> AxesReading:
    """Time, frequency and level scales read from the tick labels around a plot (pixels: H × W × bands
    in [0, 1]; boxes: left, top, right, bottom, right/bottom exclusive, as crop.PlotArea). Each axis is
    read on every side that can carry it and the most confident side kept. Never raises on a
    picture: an axis that cannot be read is None with a note. Three Tesseract runs per picture
    (one per rendering, all strips on one sheet): 0.6-2 s."""
    engine = ocr_engine()
    if engine is None:
        return AxesReading(None, None, None, None, ("tesseract is not installed: no axis labels were read",))
    blanks = [plot_box] + ([bar_box] if bar_box is not None else [])
    strips = _strips(pixels.shape, plot_box, bar_box, bar_orientation)
    found: list[list[_Group]] = []
    pieces: list[_Piece] = []
    for strip in strips:
        contrast = _contrast(pixels, strip.region, blanks)
        groups, text_height = _groups(_without_furniture(contrast > INK, strip.near), strip.along == "x")
        groups = _fewer_labels(groups, strip, text_height)
        x0, y0 = strip.region[:2]
        groups = [_Group((g.box[0] + x0, g.box[1] + y0, g.box[2] + x0, g.box[3] + y0), g.rotated) for g in groups]
        found.append(groups)
        pieces += [_piece(contrast, (x0, y0), g, text_height) for g in groups]
    try:
        readings = _readings(pieces)
    except (OSError, subprocess.SubprocessError) as failure:
        return AxesReading(engine, None, None, None, (f"Tesseract failed ({type(failure).__name__}): "
                                                      "no axis labels were read",))
    texts, start = [], 0
    for strip, groups in zip(strips, found):
        texts.append(_strip_text(strip, groups, readings[start:start + len(groups)]))
        start += len(groups)
    titles = {q: " ".join(t.title for s, t in zip(strips, texts) if s.quantity == q and t.title)
              for q in ("time", "frequency", "level")}
    best: dict[str, tuple[AxisReading, list[str]]] = {}
    failures: dict[str, list[str]] = {}
    for strip, text in zip(strips, texts):
        reading, notes = (_axis_reading(strip, text, titles[strip.quantity]) if text.candidates
                          else (None, text.notes))
        if reading is None:
            failures.setdefault(strip.quantity, []).extend(notes)
        elif strip.quantity not in best or reading.confidence > best[strip.quantity][0].confidence:
            best[strip.quantity] = (reading, notes)
    notes: list[str] = []
    for quantity in ("time", "frequency", "level"):
        if quantity in best:
            reading, own = best[quantity]
            notes += own
            if reading.confidence < SURE:
                notes.append(f"{quantity}: confidence {reading.confidence:.2f} is below {SURE}: do not rely on it")
        elif quantity != "level" or bar_box is not None:
            notes.append(f"{quantity}: not read ({'; '.join(failures.get(quantity, [])) or 'no margin to read'})")
    return AxesReading(engine, *(best[q][0] if q in best else None for q in ("time", "frequency", "level")),
                       tuple(notes))

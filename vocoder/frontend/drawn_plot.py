"""A picture that is a drawn plot (a screenshot or export of an audio tool):
its parts found, its axes read, and the reading turned into ordinary options.

`--figure auto` (the default) looks for an axes frame, tick labels and a
colour bar (:mod:`plot_layout`); when the picture is a plot, the plot area is
cut out, colours are read through the bar, and the numbers on the axes and
the bar are read by OCR (:mod:`tick_labels`). Every value taken from the
picture is a *claim*: recorded with how it was found and how sure the reading
was, shown on stderr, and overridden by its option. A value that could not be
read is said so in a warning naming the option; nothing is guessed silently.
`--figure plain` reads the raw pixels, with a warning when they look like a plot.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vocoder.errors import VocoderError
from vocoder.frontend.picture import Picture
from vocoder.frontend.picture_options import PictureOptions

FIGURE_MODES = ("auto", "plot", "plain")
# Sample rates a frequency axis's top may ask for (the lowest whose Nyquist covers it is taken).
STANDARD_RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000, 192000)
# A frequency axis read this little above a standard rate's Nyquist frequency is that rate's
# (OCR fits land within a fraction of a percent of the top edge: SoX's 0..11 kHz reads 11034 Hz).
NYQUIST_TOLERANCE = 0.01
# A time axis read as starting this close to 0 starts at 0 (labels fitted and extrapolated to the
# plot's edge land a few milliseconds off; matplotlib's specgram starts at its first frame's centre):
# 20 ms, or 1 % of the span when that is more.
START_TOLERANCE_S = 0.02
START_TOLERANCE_SHARE = 0.01


@dataclass
class DrawnPlotReading:
    """What was read from a drawn plot: the options to decode it with, and the record of how."""

    options: PictureOptions
    claims: list[dict[str, Any]] = field(default_factory=list)  # one per value taken from the picture
    warnings: list[str] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)
    axes: dict[str, Any] | None = None
    sample_rate: int | None = None  # the lowest standard rate the frequency axis needs, when read

    def step(self) -> dict[str, Any]:
        """The provenance step of the picture chain."""
        return {"step": "read_drawn_plot", "layout": self.layout, "axes": self.axes, "claims": self.claims,
                "note": "values read from the picture's own axes and colour bar: claims, each overridable "
                        "by its option"}


def _claim(name: str, value: Any, how: str, confidence: float | None, option: str) -> dict[str, Any]:
    return {"value_of": name, "value": value, "how": how,
            "confidence": None if confidence is None else round(float(confidence), 3), "option": option}


def plain_warning(picture: Picture, path: str, options: PictureOptions) -> str | None:
    """The warning for a plot read as raw pixels (``--figure plain`` or an unsure layout), or None."""
    if options.crop is not None or options.colorbar is not None:
        return None
    from vocoder.frontend.plot_layout import find_layout

    layout = find_layout(picture)
    if not layout.is_plot:
        return None
    return (f"{path} looks like a drawn plot ({'; '.join(layout.evidence)}) but was read as raw pixels: the "
            "axes, labels and colour bar become sound; read it with --figure plot, or --crop auto "
            "--colorbar auto and the axes' values (--duration, --freq-range, --db-range)")


def read_drawn_plot(picture: Picture, options: PictureOptions, given: list[str], mode: str,
                    path: str) -> DrawnPlotReading | None:
    """The plot's reading under ``mode`` (auto/plot), or None when the picture is read as is.

    ``given``: the picture flags the user set; their values are never replaced by a reading.
    """
    if mode not in FIGURE_MODES:
        raise VocoderError(f"--figure must be one of {', '.join(FIGURE_MODES)} (got {mode!r})")
    if mode == "plain":
        return None
    from vocoder.frontend.plot_layout import find_layout

    layout = find_layout(picture)
    if mode == "auto" and not layout.is_plot:
        return None
    if not layout.plot.sure and "--crop" not in given:
        raise VocoderError(f"cannot find the plot area of {path} (confidence {layout.plot.confidence:.2f}): "
                           "give it with --crop LEFT,TOP,RIGHT,BOTTOM (pixels), or read the raw pixels with "
                           "--figure plain")
    reading = DrawnPlotReading(options=options, layout=layout.summary())
    changes: dict[str, Any] = {}
    plot_box = options.crop if isinstance(options.crop, tuple) else layout.plot.box
    if "--crop" not in given:
        changes["crop"] = tuple(int(v) for v in layout.plot.box)
        reading.claims.append(_claim("plot area", list(changes["crop"]), layout.plot.method,
                                     layout.plot.confidence, "--crop L,T,R,B"))
    bar = _colour_bar(picture, options, given, layout, changes, reading)
    _read_axes(picture, options, given, plot_box, bar, changes, reading)
    if bar is None and "--dark-is-loud" not in given and _paper_style(picture, plot_box):
        changes["dark_is_loud"] = True
        reading.claims.append(_claim("polarity", "dark is loud", "no colour bar, and most of the plot is light "
                                     "(silence drawn as paper, as phonetics programs do)", None,
                                     "--dark-is-loud (give --figure plain to read brightness as drawn)"))
    reading.options = dataclasses.replace(options, **changes)
    try:
        reading.options.validate()
    except VocoderError as exc:  # a value read from the picture, not typed: say so
        read = ", ".join(f"{claim['value_of']} {claim['value']}" for claim in reading.claims)
        raise VocoderError(f"the values read from {path} ({read}) cannot be used: {exc}; give them with their "
                           "options, or read the raw pixels with --figure plain") from None
    return reading


def _colour_bar(picture: Picture, options: PictureOptions, given: list[str], layout, changes: dict,
                reading: DrawnPlotReading):
    """The colour bar (:class:`plot_layout.ColourBar`): the user's box, the one found, or None."""
    from vocoder.frontend.plot_layout import bar_from_box

    if isinstance(options.colorbar, tuple):
        return bar_from_box(picture, options.colorbar)
    bar = layout.bar
    if bar is None:
        if options.colorbar == "auto":
            raise VocoderError("--colorbar auto found no colour bar beside the plot: give its box with --colorbar "
                               "L,T,R,B, or leave the option out to read brightness")
        if options.colormap is None and _colourful(picture, layout.plot.box):
            reading.warnings.append("no colour bar found: colours are read as brightness; give --colorbar "
                                    "L,T,R,B or --colormap NAME if the plot is colour-mapped")
        if "--db-range" not in given:
            reading.warnings.append(f"no colour bar: the picture does not say its dB range; read over "
                                    f"{options.db_min:g}..{options.db_max:g} dB (give --db-range MIN MAX; Praat "
                                    "paints 70 dB with +6 dB/octave: --db-range -70 0 --pre-emphasis 6)")
        return None
    if options.colormap is None:  # a named map decodes the colours; the bar still gives the dB labels
        changes["colorbar"] = tuple(int(v) for v in bar.box)
        reading.claims.append(_claim("colour bar", list(changes["colorbar"]), bar.method, bar.confidence,
                                     "--colorbar L,T,R,B"))
    # The chain reads values between the box's ends (bar_from_box): the dB labels are read there too.
    return bar_from_box(picture, bar.box)


def _read_axes(picture: Picture, options: PictureOptions, given: list[str], plot_box, bar,
               changes: dict, reading: DrawnPlotReading) -> None:
    """Time, frequency and dB from the tick labels, where the user gave none of them."""
    wanted = {"time": not ({"--duration", "--time-range"} & set(given)),
              "frequency": "--freq-range" not in given and "--row-scale" not in given,
              "level": "--db-range" not in given and bar is not None}
    if not any(wanted.values()):
        return
    from vocoder.frontend.tick_labels import read_axes

    # Coordinates are pixel edges (column i spans [i, i + 1)), as tick_labels and the bar's extent use.
    axes = read_axes(picture.pixels, tuple(plot_box), None if bar is None else bar.box,
                     None if bar is None else bar.orientation)
    reading.axes = axes.summary()
    left, top, right, bottom = plot_box
    if axes.engine is None:
        reading.warnings.append("the numbers on the axes were not read: no OCR engine (install tesseract-ocr); "
                                "give --duration, --freq-range and --db-range as the axes say")
        return
    if wanted["time"]:
        _time(axes.time, left, right, changes, reading)
    if wanted["frequency"]:
        _frequency(axes.frequency, bottom, top, changes, reading)
    if wanted["level"]:  # the decoded values run between the bar's extent's ends
        _level(axes.level, bar.extent[0], bar.extent[1], changes, reading)


def _unsure(axis, what: str, option: str, reading: DrawnPlotReading) -> bool:
    from vocoder.frontend.tick_labels import SURE  # here: OCR's module loads scipy, only for a plot

    if axis is None:
        reading.warnings.append(f"the {what} axis's numbers were not found; give {option}")
        return True
    if axis.confidence < SURE:
        values = ", ".join(label.text for label in axis.labels) or "nothing legible"
        reading.warnings.append(f"the {what} axis was read unsurely (confidence {axis.confidence:.2f}: {values}); "
                                f"not used: give {option}")
        return True
    return False


def _how(axis) -> str:
    texts = ", ".join(f"{label.text!s}" for label in axis.labels)
    return f"OCR of the {axis.side} tick labels ({texts}; {axis.scale} {axis.unit} scale)"


def _time(axis, left_edge: float, right_edge: float, changes: dict, reading: DrawnPlotReading) -> None:
    if _unsure(axis, "time", "--duration SECONDS", reading):
        return
    start, end = axis.value_at(left_edge), axis.value_at(right_edge)
    tolerance = max(START_TOLERANCE_S, START_TOLERANCE_SHARE * abs(end))
    if not (np.isfinite(start) and np.isfinite(end) and end > start >= -tolerance):
        reading.warnings.append(f"the time axis reads {start:g} .. {end:g} s, not a span of a recording; "
                                "give --duration")
        return
    if start <= tolerance:
        changes["duration"] = round(end, 4)
        reading.claims.append(_claim("duration (s)", changes["duration"], _how(axis), axis.confidence,
                                     "--duration S"))
    else:
        changes["time_range"] = (round(start, 4), round(end, 4))
        reading.claims.append(_claim("time range (s)", list(changes["time_range"]), _how(axis), axis.confidence,
                                     "--time-range START END"))


def _frequency(axis, bottom_edge: float, top_edge: float, changes: dict, reading: DrawnPlotReading) -> None:
    if _unsure(axis, "frequency", "--freq-range LOW HIGH", reading):
        return
    low, high = axis.value_at(bottom_edge), axis.value_at(top_edge)
    if axis.scale in ("linear", "symlog") and -0.01 * high < low < 0:
        low = 0.0
    if not (np.isfinite(low) and np.isfinite(high) and high > low >= 0):
        reading.warnings.append(f"the frequency axis reads {low:g} .. {high:g} Hz; give --freq-range")
        return
    rate = next((r for r in STANDARD_RATES if r / 2 >= high * (1 - NYQUIST_TOLERANCE)), None)
    if rate is None:
        reading.warnings.append(f"the frequency axis reads up to {high:g} Hz, above any sample rate vocoder "
                                f"takes ({STANDARD_RATES[-1]} Hz); not used: give --freq-range LOW HIGH")
        return
    if high > rate / 2:
        reading.warnings.append(f"the frequency axis reads up to {high:g} Hz, {high - rate / 2:.3g} Hz above "
                                f"{rate} Hz's Nyquist frequency: taken as {rate / 2:g} Hz (give --freq-range "
                                "to say otherwise)")
        high = rate / 2
    reading.sample_rate = rate
    changes["freq_range"] = (round(low, 2), round(high, 2))
    changes["freq_scale"] = axis.scale
    option = "--freq-range LOW HIGH" + ("" if axis.scale == "linear" else f" --freq-scale {axis.scale}")
    if axis.scale == "symlog":
        shape = axis.scale_parameters
        changes["symlog"] = (shape.base, shape.linthresh, shape.linscale)
        option += " --symlog BASE LINTHRESH LINSCALE"
    reading.claims.append(_claim("frequency range (Hz)", list(changes["freq_range"]), _how(axis),
                                 axis.confidence, option))


def _level(axis, low_end: float, high_end: float, changes: dict, reading: DrawnPlotReading) -> None:
    if _unsure(axis, "colour bar's", "--db-range MIN MAX", reading):
        return
    low, high = axis.value_at(low_end), axis.value_at(high_end)
    if not (np.isfinite(low) and np.isfinite(high) and high > low):
        reading.warnings.append(f"the colour bar reads {low:g} .. {high:g} dB from its low to its high end; "
                                "give --db-range MIN MAX")
        return
    changes["db_min"], changes["db_max"] = round(low, 2), round(high, 2)
    reading.claims.append(_claim("dB range of the colour bar", [changes["db_min"], changes["db_max"]], _how(axis),
                                 axis.confidence, "--db-range MIN MAX"))
    if axis.unit == "dBFS":
        # Not applied: programs define 0 dBFS differently (SoX's full-scale sine matches vocoder's within
        # 0.5 dB; FFmpeg 5.1 draws a full-scale sine about 52 dB below its 0 dBFS, measured), so the
        # output stays normalised unless the user says the labels' level is to be kept.
        reading.claims.append(_claim("dB reference", "the bar says dBFS (not applied: the output is normalised)",
                                     f"the bar's unit {axis.title!r}", axis.confidence,
                                     "--db-reference full-scale keeps the level the labels state"))


def _plot_pixels(picture: Picture, box) -> np.ndarray:
    left, top, right, bottom = (int(v) for v in box)
    return picture.pixels[top:bottom, left:right, :3]


def _colourful(picture: Picture, box) -> bool:
    """More than 1 % of the plot's pixels visibly coloured (not grey)."""
    if not picture.bands.startswith("RGB"):
        return False
    plot = _plot_pixels(picture, box)
    return bool(((plot.max(axis=-1) - plot.min(axis=-1)) > 0.05).mean() > 0.01)


def _paper_style(picture: Picture, box) -> bool:
    """Most of the plot near white: silence drawn as paper (Praat, phonetics programs, print)."""
    return bool((_plot_pixels(picture, box).min(axis=-1) > 0.9).mean() > 0.3)


def claim_text(claim: dict[str, Any], after_name: str = " ") -> str:
    """A claim as `invert` and `info` show it: what, its value, how it was read, how sure, its option."""
    value = claim["value"]
    values = value if isinstance(value, list) else [value]
    shown = " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
    sure = "" if claim["confidence"] is None else f", confidence {claim['confidence']:.2f}"
    return f"{claim['value_of']}{after_name}{shown} ({claim['how']}{sure}; override: {claim['option']})"

"""Spectrogram pictures drawn by the programs examiners use, each with that
program's default look, and the truth each program used (`Drawn`).

Shared by tests/test_screenshot_programs.py and experiments/screenshots/run.py:
a test that reads a screenshot compares what it read with `Drawn`, and the
experiment scores readings against what the picture could hold.

Every drawer takes a WAV and a PNG path and raises `ProgramMissing` when its
program is not installed (tests turn that into a skip, or a failure under
CI=true: see `skip_or_fail`). Conventions are cited from each program's
source or documentation beside the code that relies on them.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

Box = tuple[int, int, int, int]  # LEFT, TOP, RIGHT, BOTTOM pixels from the top left; right/bottom exclusive


class ProgramMissing(RuntimeError):
    """The program that draws this picture is not installed."""


@dataclass(frozen=True)
class Drawn:
    """What a program drew and the truth it used.

    Ranges are what the axes show: time at the plot's left and right edges,
    frequency at its bottom and top edges (see `notes` where a program puts
    its first and last bin's centre on the edge instead), the colour scale's
    bottom and top in dB.
    """

    program: str  # a key of DRAWERS
    version: str  # the program's own version line
    png: Path
    sample_rate: int  # of the audio the program analysed
    time_range: tuple[float, float]  # seconds
    freq_range: tuple[float, float]  # Hz
    freq_scale: str  # "linear", "log" or "mel" (librosa draws the last two on a symlog axis)
    db_range: tuple[float, float]  # (bottom, top) of the colour scale
    db_reference: str  # what 0 dB is: "full scale", "peak" (the picture's loudest cell), or a stated unit
    dark_is_loud: bool
    pre_emphasis_db_per_octave: float
    window: str
    n_fft: int
    hop: float  # samples between columns of the analysis (may be fractional when a program stretches time)
    plot_box: Box
    plot_box_source: str  # "program" (reported or computed from its source) or "measured ..."
    colorbar_box: Box | None  # the colour bar's painted gradient, None when the picture has none
    colorbar_source: str
    colormap: str  # the colour map's name, or "grey"
    palette: bool = False  # an indexed-colour PNG (SoX)
    notes: tuple[str, ...] = field(default=())


# -- helpers -------------------------------------------------------------------


def _require(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise ProgramMissing(f"{program} is not installed (scripts/ensure-system-tools.sh installs it)")
    return path


def _run(command: list[str], **kwargs) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return result.stdout + result.stderr


def _first_line(command: list[str]) -> str:
    return _run(command).strip().splitlines()[0].strip()


def _wav_info(wav: Path) -> tuple[int, int]:
    import soundfile

    info = soundfile.info(str(wav))
    return int(info.samplerate), int(info.frames)


def _pixels(png: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(png) as image:
        return np.asarray(image.convert("RGB")).astype(np.int16)


def _bounding_box(mask: np.ndarray) -> Box:
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        raise RuntimeError("the marker colour is nowhere in the picture")
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


def _red(pixels: np.ndarray) -> np.ndarray:
    return (pixels[..., 0] > 200) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)


def cut_clip(source: Path, out: Path, seconds: float, start: float = 0.0) -> Path:
    """The first ``seconds`` of a recording (any format soundfile reads) as a
    16-bit mono WAV at its own rate: every program here reads that."""
    import soundfile

    samples, rate = soundfile.read(str(source), dtype="float64", always_2d=True)
    first = int(round(start * rate))
    piece = samples[first:first + int(round(seconds * rate))].mean(axis=1)
    soundfile.write(str(out), piece, rate, subtype="PCM_16")
    return out


# -- SoX -------------------------------------------------------------------------

# SoX 14.4.2 src/spectrogram.c lays the picture out with fixed margins (pixels):
# `below 48`, `left 58`, `between 37`, `spectrum_width 14`, `right 35`, and 30
# rows above the plot when there is no title. The plot holds one row per DFT bin
# (DC at the bottom row, Nyquist at the top) and one column per analysis block;
# the colour bar is `min(400, rows)` rows tall, centred on the plot, drawn in the
# 14 columns left of the right margin.
_SOX_LEFT, _SOX_BELOW, _SOX_ABOVE, _SOX_BETWEEN, _SOX_BAR, _SOX_RIGHT = 58, 48, 30, 37, 14, 35


def _sox_hop(rate: int, samples: int, x_size: int, dft_size: int) -> int:
    """Samples per column as SoX 14.4.2 start() derives them: x_size columns over
    the whole input give the pixels per second; the Hann window's sum (its
    effective length) is the largest step, made to divide rate / (pixels per second)."""
    window_sum = sum(0.5 - 0.5 * math.cos(2 * math.pi * i / (dft_size - 1)) for i in range(dft_size))
    step = int(window_sum + 0.5)
    pixels_per_sec = x_size / (samples / rate)
    block_steps = int(rate / pixels_per_sec)
    step = int(block_steps / math.ceil(block_steps / step) + 0.5)
    block_steps = int(math.floor(block_steps / step + 0.5))
    return step * block_steps


def sox(wav: Path, png: Path, size: tuple[int, int] | None = None) -> Drawn:
    """`sox in.wav -n spectrogram -o out.png`: SoX's defaults (SoX 14.4.2 spectrogram.c:
    800 columns over the whole input, 550 rows in all (-Y) → a 1024-point DFT, Hann
    window, -z 120 dB below -Z 0 dBFS, its own palette of 251 levels; an indexed PNG).

    ``size``: (x, Y) passed as -x and -Y, for smaller test pictures.
    """
    program = _require("sox")
    rate, samples = _wav_info(wav)
    command = [program, str(wav), "-n", "spectrogram", "-o", str(png)]
    if size is not None:
        command += ["-x", str(size[0]), "-Y", str(size[1])]
    _run(command)
    height, width = _pixels(png).shape[:2]
    columns = width - _SOX_LEFT - _SOX_BETWEEN - _SOX_BAR - _SOX_RIGHT
    rows = height - _SOX_BELOW - _SOX_ABOVE
    dft_size = 2 * (rows - 1)
    hop = _sox_hop(rate, samples, 800 if size is None else size[0], dft_size)
    bar_rows = min(400, rows)
    bar_base = _SOX_BELOW + (rows - bar_rows) // 2  # from the bottom, as spectrogram.c counts
    return Drawn(
        program="sox", version=_first_line([program, "--version"]).split(":", 1)[-1].strip(), png=png,
        sample_rate=rate, time_range=(0.0, columns * hop / rate), freq_range=(0.0, rate / 2),
        freq_scale="linear", db_range=(-120.0, 0.0), db_reference="full scale", dark_is_loud=False,
        pre_emphasis_db_per_octave=0.0, window="hann", n_fft=dft_size, hop=float(hop),
        plot_box=(_SOX_LEFT, _SOX_ABOVE, _SOX_LEFT + columns, _SOX_ABOVE + rows),
        plot_box_source="program (SoX 14.4.2 spectrogram.c margins)",
        colorbar_box=(width - _SOX_RIGHT - _SOX_BAR, height - bar_base - bar_rows, width - _SOX_RIGHT,
                      height - bar_base),
        colorbar_source="program (SoX 14.4.2 spectrogram.c: min(400, rows) rows, 14 columns)",
        colormap="sox", palette=True,
        notes=("frequency: the bottom row's centre is DC and the top row's centre is Nyquist (one row per bin)",
               "time: columns * hop / rate, the X axis SoX labels"),
    )


# -- FFmpeg ----------------------------------------------------------------------


def ffmpeg(wav: Path, png: Path, size: tuple[int, int] | None = None) -> Drawn:
    """`ffmpeg -i in.wav -lavfi showspectrumpic out.png`: its defaults (ffmpeg -h
    filter=showspectrumpic: s 4096x2048, mode combined, color intensity, scale log,
    fscale lin, win_func hann, drange 120 dBFS, limit 0, legend on).

    ``size``: the `s=WxH` of the plot, e.g. (1024, 512).
    """
    program = _require("ffmpeg")
    rate, samples = _wav_info(wav)
    width, height = size or (4096, 2048)
    lavfi = "showspectrumpic" + (f"=s={width}x{height}" if size else "")
    _run([program, "-v", "error", "-y", "-i", str(wav), "-lavfi", lavfi, str(png)])
    # libavfilter/avf_showspectrum.c config_output: with the legend the plot starts at
    # start_x = (log10(sample_rate) + 1) * 25 and start_y = 64, and the FFT is 2 × the
    # plot's height for the vertical orientation.
    start_x, start_y = int((math.log10(rate) + 1) * 25), 64
    return Drawn(
        program="ffmpeg" if size is None else f"ffmpeg-{width}x{height}", version=_first_line([program, "-version"]).split(" Copyright")[0], png=png,
        sample_rate=rate,
        time_range=(0.0, samples / rate), freq_range=(0.0, rate / 2), freq_scale="linear",
        db_range=(-120.0, 0.0), db_reference="full scale", dark_is_loud=False, pre_emphasis_db_per_octave=0.0,
        window="hann", n_fft=2 * height, hop=samples / width,
        plot_box=(start_x, start_y, start_x + width, start_y + height),
        plot_box_source="program (libavfilter/avf_showspectrum.c legend offsets)",
        # The legend's gradient: 10 columns starting 20 to the right of the plot, as tall as
        # the plot (measured once on the 4096x2048 and 1024x512 pictures of ffmpeg 5.1).
        colorbar_box=(start_x + width + 20, start_y, start_x + width + 30, start_y + height),
        colorbar_source="measured once (ffmpeg 5.1): plot right + 20 .. + 30, plot rows",
        colormap="ffmpeg-intensity",
        notes=("the whole input is stretched over the plot's width",),
    )


# -- matplotlib and librosa --------------------------------------------------------


def _figure_boxes(fig, ax, colorbar_ax) -> tuple[Box, Box]:
    """Axes boxes in pixels from the top (matplotlib's origin is the bottom left)."""
    fig.canvas.draw()
    height = fig.get_size_inches()[1] * fig.dpi

    def box(axes) -> Box:
        extent = axes.get_window_extent()
        return (round(extent.x0), round(height - extent.y1), round(extent.x1), round(height - extent.y0))

    return box(ax), box(colorbar_ax)


def matplotlib_specgram(wav: Path, png: Path, size: tuple[float, float] | None = None, dpi: int = 100) -> Drawn:
    """`plt.specgram(x, Fs=sr)` + `plt.colorbar(label=...)`, axes labelled.

    matplotlib's defaults (Axes.specgram): NFFT 256, noverlap 128, Hann window,
    mode psd, scale dB (10·log10 of the one-sided PSD, so dB re 1/Hz of a signal in
    [-1, 1]), colour limits the data's min and max, viridis; the image's extent is
    the first bin's centre to the last's in frequency and ±half a hop round the
    frame centres in time. ``size``: figure inches (default matplotlib's 6.4 × 4.8).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import soundfile

    x, rate = soundfile.read(str(wav), dtype="float64")
    fig = plt.figure(figsize=size, dpi=dpi)
    _, _, _, image = plt.specgram(x, Fs=rate)
    plt.xlabel("Time (s)")
    plt.ylabel("Frequency (Hz)")
    colorbar = plt.colorbar(image, label="Intensity (dB)")
    plot_box, bar_box = _figure_boxes(fig, image.axes, colorbar.ax)
    fig.savefig(png)
    left, right = image.axes.get_xlim()
    bottom, top = image.axes.get_ylim()
    low, high = image.get_clim()
    plt.close(fig)
    return Drawn(
        program="matplotlib-specgram", version=f"matplotlib {matplotlib.__version__}", png=png, sample_rate=rate,
        time_range=(float(left), float(right)), freq_range=(float(bottom), float(top)), freq_scale="linear",
        db_range=(float(low), float(high)), db_reference="10·log10 PSD (1/Hz)", dark_is_loud=False,
        pre_emphasis_db_per_octave=0.0, window="hann", n_fft=256, hop=128.0, plot_box=plot_box,
        plot_box_source="program (Axes.get_window_extent)", colorbar_box=bar_box,
        colorbar_source="program (the colour bar's Axes.get_window_extent)", colormap="viridis",
        notes=("frequency: the first and last bins' centres are the plot's bottom and top edges",),
    )


def librosa_specshow(wav: Path, png: Path, y_axis: str = "linear", size: tuple[float, float] | None = None,
                     dpi: int = 100) -> Drawn:
    """librosa's documentation example (librosa.display.specshow):

        y, sr = librosa.load(path)                       # resampled to 22050 Hz
        S_db = librosa.amplitude_to_db(np.abs(librosa.stft(y)), ref=np.max)
        img = librosa.display.specshow(S_db, x_axis="time", y_axis=..., ax=ax)
        fig.colorbar(img, ax=ax, format="%+2.0f dB")

    and for y_axis="mel" the power mel spectrogram in dB (`power_to_db(...,
    ref=np.max)`). Defaults: n_fft 2048, hop 512, Hann; amplitude_to_db's
    top_db 80 → colour scale -80..0 dB re the peak; colour map magma (librosa.display.cmap
    for data that is never positive).
    """
    import librosa
    import librosa.display
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if y_axis not in ("linear", "log", "mel"):
        raise ValueError(f"y_axis must be linear, log or mel (got {y_axis!r})")
    y, rate = librosa.load(str(wav))
    if y_axis == "mel":
        db = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=rate), ref=np.max)
    else:
        db = librosa.amplitude_to_db(np.abs(librosa.stft(y)), ref=np.max)
    fig, ax = plt.subplots(figsize=size, dpi=dpi)
    image = librosa.display.specshow(db, x_axis="time", y_axis=y_axis, sr=rate, ax=ax)
    ax.set(title=f"{'Mel' if y_axis == 'mel' else y_axis.capitalize() + '-frequency'} power spectrogram")
    colorbar = fig.colorbar(image, ax=ax, format="%+2.0f dB")
    plot_box, bar_box = _figure_boxes(fig, ax, colorbar.ax)
    fig.savefig(png)
    left, right = ax.get_xlim()
    bottom, top = ax.get_ylim()
    low, high = image.get_clim()
    plt.close(fig)
    return Drawn(
        program=f"librosa-specshow-{y_axis}", version=f"librosa {librosa.__version__}", png=png, sample_rate=rate,
        time_range=(float(left), float(right)), freq_range=(float(max(bottom, 0.0)), float(top)),
        freq_scale=y_axis, db_range=(float(low), float(high)), db_reference="peak", dark_is_loud=False,
        pre_emphasis_db_per_octave=0.0, window="hann", n_fft=2048, hop=512.0, plot_box=plot_box,
        plot_box_source="program (Axes.get_window_extent)", colorbar_box=bar_box,
        colorbar_source="program (the colour bar's Axes.get_window_extent)", colormap="magma",
        notes=(() if y_axis == "linear" else
               (f"the {y_axis} axis is matplotlib's symlog (librosa.display: linthresh 1000 Hz"
                f"{', base 2' if y_axis == 'mel' else ''}); 128 mel bands (librosa.feature.melspectrogram)"
                if y_axis == "mel" else "the log axis is matplotlib's symlog (librosa.display)",)),
    )


# -- Octave ----------------------------------------------------------------------

_OCTAVE_SCRIPT = """\
pkg load signal
graphics_toolkit("gnuplot");
[x, fs] = audioread("{wav}");
for marker = [false, true]
  f = figure("visible", "off");
  specgram(x, 256, fs);
  bar = colorbar();
  img = findobj(gca(), "type", "image");
  limits = get(gca(), "clim");
  if marker
    set(img, "cdata", limits(2) * ones(size(get(img, "cdata"))));
    colormap([1 0 0; 1 0 0]);
    print(f, "{marker}", "-dpng");
  else
    print(f, "{png}", "-dpng");
    xs = get(img, "xdata"); ys = get(img, "ydata"); n = size(get(img, "cdata"));
    printf("truth %.10g %.10g %.10g %.10g %.10g %.10g %d %d %d\\n", xs(1), xs(end), ys(1), ys(end), ...
           limits(1), limits(2), n(1), n(2), fs);
  endif
  close(f);
endfor
"""


def _octave_fonts(folder: Path) -> dict[str, str]:
    """Debian's octave 7 looks for GNU FreeFont at a path fixed when it was built
    (--with-system-freefont=/usr/share/fonts/opentype/freefont) and cannot draw any
    axes without it ("ft_text_renderer: invalid bounding box"); where fonts-freefont-otf
    is absent, OCTAVE_FONTS_DIR points at DejaVu Sans under FreeFont's names."""
    if Path("/usr/share/fonts/opentype/freefont/FreeSans.otf").exists():
        return {}
    sans = _run(["fc-match", "-f", "%{file}", "sans"]).strip() if shutil.which("fc-match") else ""
    if not sans:
        raise ProgramMissing("octave cannot draw text: install fonts-freefont-otf")
    fonts = folder / "fonts"
    fonts.mkdir(exist_ok=True)
    for style in ("", "Bold", "Oblique", "BoldOblique"):
        link = fonts / f"FreeSans{style}.otf"
        if not link.exists():
            link.symlink_to(sans)
    return {"OCTAVE_FONTS_DIR": str(fonts)}


def octave_specgram(wav: Path, png: Path) -> Drawn:
    """Octave's signal package `specgram(x, 256, fs)` + `colorbar`, printed headless
    with the gnuplot toolkit (the one a machine without a display has).

    signal 1.4.3 specgram.m: n 256 (its default), Hann window, overlap n/2, and with no
    output it draws `imagesc(t, f, 20*log10(abs(S)))` of the raw FFT (no scaling: a
    full-scale sine reads 20·log10(sum(window)/2) ≈ 36 dB), colour limits the data's
    min and max, Octave's default map viridis. `t` is each frame's first sample
    (1-based) / fs. gnuplot decides the layout, so the plot and bar boxes are measured
    on a second print with the image and bar painted pure red.
    """
    program = _require("octave")
    _require("gnuplot")  # its graphics toolkit here (Debian's gnuplot-nox)
    _require("gs")  # its print() goes through Ghostscript
    rate, _ = _wav_info(wav)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        marker = folder / "marker.png"
        script = folder / "draw.m"
        script.write_text(_OCTAVE_SCRIPT.format(wav=wav, png=png, marker=marker))
        env = {**os.environ, **_octave_fonts(folder)}
        output = _run([program, "--no-gui", "--no-window-system", "--quiet", "--no-init-file", str(script)],
                      env=env)
        if "pkg: package signal" in output or "there is no package" in output:
            raise ProgramMissing("octave's signal package is not installed (octave-signal)")
        truth = next((line.split()[1:] for line in output.splitlines() if line.startswith("truth ")), None)
        if truth is None:
            raise RuntimeError(f"octave drew nothing: {output.strip()[-2000:]}")
        red = _red(_pixels(marker))
    t0, t1, f0, f1, low, high = (float(v) for v in truth[:6])
    rows, columns = int(truth[6]), int(truth[7])
    dt, df = (t1 - t0) / max(columns - 1, 1), (f1 - f0) / max(rows - 1, 1)
    # The plot is the leftmost red region; the colour bar the red columns right of it.
    columns_red = red.any(axis=0)
    runs = np.flatnonzero(np.diff(np.concatenate([[0], columns_red.astype(np.int8), [0]])))
    plot_cols, bar_cols = (runs[0], runs[1]), (runs[2], runs[3])
    plot_box = _bounding_box(red[:, plot_cols[0]:plot_cols[1]])
    plot_box = (plot_box[0] + int(plot_cols[0]), plot_box[1], plot_box[2] + int(plot_cols[0]), plot_box[3])
    bar_box = _bounding_box(red[:, bar_cols[0]:bar_cols[1]])
    bar_box = (bar_box[0] + int(bar_cols[0]), bar_box[1], bar_box[2] + int(bar_cols[0]), bar_box[3])
    version = _first_line([program, "--version"])
    return Drawn(
        program="octave-specgram", version=f"{version}, signal 1.4.3 specgram.m, gnuplot toolkit", png=png,
        sample_rate=rate, time_range=(t0 - dt / 2, t1 + dt / 2), freq_range=(f0 - df / 2, f1 + df / 2),
        freq_scale="linear", db_range=(low, high), db_reference="20·log10 |FFT| (unscaled)", dark_is_loud=False,
        pre_emphasis_db_per_octave=0.0, window="hann", n_fft=256, hop=128.0, plot_box=plot_box,
        plot_box_source="measured (a second print with the image painted red)", colorbar_box=bar_box,
        colorbar_source="measured (a second print with the colour bar painted red)", colormap="viridis",
        notes=("imagesc puts cell centres on t and f: the ranges are their outer edges",
               "the time axis counts from each frame's first sample (1-based / fs), not its centre",
               "the frequency axis stops one bin below Nyquist (specgram keeps n/2 bins)"),
    )


# -- Praat -----------------------------------------------------------------------

# fon/praat_Sound.cpp "Sound: To Spectrogram..." defaults: window 0.005 s, maximum
# frequency 5000 Hz, time step 0.002 s, frequency step 20 Hz, Gaussian window;
# fon/praat_uvafon_init.cpp "Spectrogram: Paint..." defaults: all time and
# frequency, maximum 100 dB/Hz, autoscaling on, dynamic range 50 dB, pre-emphasis
# 6 dB/octave, dynamic compression 0, garnish on. (The Sound editor's spectrogram
# view shows 70 dB; Paint's own default is 50.) Praat scripts must name every
# argument, so these are the forms' defaults written out.
_PRAAT_SCRIPT = """\
form Draw
  sentence infile
  sentence outfile
  sentence markerfile
endform
sound = Read from file: infile$
To Spectrogram: 0.005, 5000, 0.002, 20, "Gaussian"
Erase all
Paint: 0, 0, 0, 0, 100, "yes", 50, 6, 0, "yes"
Save as 300-dpi PNG file: outfile$
selectObject: sound
duration = Get total duration
Paint rectangle: "Red", 0, duration, 0, 5000
Save as 300-dpi PNG file: markerfile$
"""


def praat(wav: Path, png: Path) -> Drawn:
    """Praat's To Spectrogram and Paint with their defaults, saved at 300 dpi.

    Spectrogram.cpp Spectrogram_paintInside: dB/Hz + pre-emphasis (0 dB at 1000 Hz),
    autoscaled maximum = the picture's loudest (pre-emphasised) cell, grey from
    maximum − dynamic range (white) to maximum (black): dark is loud. The plot box is
    measured by painting the same world window red on a second picture.
    """
    program = _require("praat")
    rate, samples = _wav_info(wav)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        script, marker = folder / "draw.praat", folder / "marker.png"
        script.write_text(_PRAAT_SCRIPT)
        _run([program, "--run", str(script), str(wav), str(png), str(marker)])
        plot_box = _bounding_box(_red(_pixels(marker)))
    return Drawn(
        program="praat", version=_first_line([program, "--version"]), png=png, sample_rate=rate,
        time_range=(0.0, samples / rate), freq_range=(0.0, 5000.0), freq_scale="linear",
        db_range=(-50.0, 0.0), db_reference="peak", dark_is_loud=True, pre_emphasis_db_per_octave=6.0,
        window="gaussian", n_fft=int(round(2 * 0.005 * rate)), hop=0.002 * rate, plot_box=plot_box,
        plot_box_source="measured (the plot's world window painted red on a second picture)",
        colorbar_box=None, colorbar_source="Praat's Paint draws no colour bar", colormap="grey",
        notes=("a Gaussian window of physical length 2 × 0.005 s (Praat's 'window length' is its effective length)",
               "dB/Hz re 2e-5 Pa, made relative by autoscaling: the scale is re the picture's loudest cell",
               "pre-emphasis +6 dB/octave, 0 dB at 1000 Hz"),
    )


DRAWERS = {
    "sox": sox,
    "ffmpeg": ffmpeg,
    "ffmpeg-1024x512": lambda wav, png: ffmpeg(wav, png, (1024, 512)),
    "matplotlib-specgram": matplotlib_specgram,
    "librosa-specshow-linear": lambda wav, png: librosa_specshow(wav, png, "linear"),
    "librosa-specshow-log": lambda wav, png: librosa_specshow(wav, png, "log"),
    "librosa-specshow-mel": lambda wav, png: librosa_specshow(wav, png, "mel"),
    "octave-specgram": octave_specgram,
    "praat": praat,
}


def skip_or_fail(missing: ProgramMissing) -> None:
    """A test without the program skips, except under CI=true, where `make test`
    installed it and its absence is a failure."""
    import pytest

    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing} (CI=true: the program must be installed)")
    pytest.skip(str(missing))

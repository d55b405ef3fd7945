"""Reading a figure's axes and colour bar from its tick labels (issue #18): figures drawn here with
known axes, the reading within 1 % of each axis span at the plot's edges and the bar's ends."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import in_ci
from vocoder.frontend import tick_labels
from vocoder.frontend.picture import read_picture
from vocoder.frontend.tick_labels import SURE, ocr_engine, read_axes


def _need(program: str) -> None:
    if shutil.which(program) is None:
        reason = f"{program} is not installed"
        if in_ci():
            pytest.fail(f"{reason}; CI must provide it (make test installs it)", pytrace=False)
        pytest.skip(reason)


def _draw(path: Path, *, extent, ylabel: str, yscale: str | None = None, ticks=None, labels=None,
          colorbar: str | None = "%+2.0f dB", orientation: str = "vertical", blur: float = 0.0):
    """A spectrogram-like figure: the plot's box and the colour bar's box (pixels) and the picture."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    figure, axes = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    t0, t1, f0, f1 = extent
    image = axes.pcolormesh(np.linspace(t0, t1, 41), np.linspace(f0, f1, 31), rng.uniform(-80, 0, (30, 40)),
                            vmin=-80, vmax=0, cmap="magma")
    axes.set_xlim(t0, t1)
    axes.set_ylim(f0, f1)
    if yscale:
        axes.set_yscale(yscale)
    if ticks is not None:
        axes.set_yticks(ticks, labels)
    axes.set_xlabel("Time (s)")
    axes.set_ylabel(ylabel)
    bar = figure.colorbar(image, ax=axes, format=colorbar, orientation=orientation) if colorbar else None
    figure.savefig(path)
    height = figure.canvas.get_width_height()[1]

    def box(extent_):
        return (round(extent_.x0), round(height - extent_.y1), round(extent_.x1), round(height - extent_.y0))

    boxes = box(axes.get_window_extent()), (box(bar.ax.get_window_extent()) if bar else None)
    plt.close(figure)
    pixels = read_picture(path).pixels
    if blur:
        from scipy import ndimage

        pixels = ndimage.gaussian_filter(pixels, sigma=(blur, blur, 0))
    return pixels, boxes


def _bar_right_of(pixels, plot):
    """The colour bar of a SoX or ffmpeg picture: the only long coloured band of columns right of
    the plot (found here so that these tests do not depend on plot_layout)."""
    coloured = pixels[:, plot[2] + 12:, :3].max(axis=2) > 0.02
    cols = np.flatnonzero(coloured.mean(axis=0) > 0.4) + plot[2] + 12
    cols = cols[cols - cols[0] < 30]  # the band, not what lies right of it
    rows = np.flatnonzero(pixels[:, cols[len(cols) // 2], :3].max(axis=1) > 0.02)
    rows = rows[: np.argmax(np.r_[np.diff(rows), 2] > 1) + 1]  # its first run (text lies below it)
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _close(axis, pixel_ends, truth, log: bool = False) -> None:
    """The reading at both ends within 1 % of the span (of its logarithm on a log axis)."""
    read = [axis.value_at(p) for p in pixel_ends]
    if log:
        read, truth = np.log10(read), np.log10(truth)
    span = abs(truth[1] - truth[0])
    assert np.allclose(read, truth, atol=0.01 * span), (axis.quantity, read, truth, axis.summary())
    assert axis.confidence >= SURE, axis.summary()


def test_linear_hz_axis_time_and_db_bar(tmp_path):
    _need("tesseract")
    pixels, (plot, bar) = _draw(tmp_path / "f.png", extent=(0.0, 2.5, 0.0, 8000.0), ylabel="Frequency (Hz)")
    reading = read_axes(pixels, plot, bar, "vertical")
    assert reading.engine and reading.engine.startswith("tesseract")
    _close(reading.time, (plot[0], plot[2]), (0.0, 2.5))
    _close(reading.frequency, (plot[3], plot[1]), (0.0, 8000.0))
    _close(reading.level, (bar[3], bar[1]), (-80.0, 0.0))
    assert (reading.time.unit, reading.frequency.unit, reading.level.unit) == ("s", "Hz", "dB")
    assert reading.time.side == "bottom" and reading.frequency.side == "left" and reading.frequency.scale == "linear"


def test_khz_axis_is_converted(tmp_path):
    _need("tesseract")
    pixels, (plot, bar) = _draw(tmp_path / "f.png", extent=(0.0, 1.2, 0.0, 11.025), ylabel="Frequency (kHz)",
                                colorbar=None)
    reading = read_axes(pixels, plot)
    assert reading.frequency.unit == "Hz" and "khz" in reading.frequency.title.lower(), reading.frequency.summary()
    _close(reading.frequency, (plot[3], plot[1]), (0.0, 11025.0))
    assert reading.level is None


def test_log_axis_is_recognised(tmp_path):
    _need("tesseract")
    ticks = [100, 1000, 10000]
    pixels, (plot, bar) = _draw(tmp_path / "f.png", extent=(0.0, 3.0, 50.0, 11025.0), ylabel="Hz", yscale="log",
                                ticks=ticks, labels=[str(t) for t in ticks], colorbar=None)
    reading = read_axes(pixels, plot)
    assert reading.frequency.scale == "log", reading.frequency.summary()
    _close(reading.frequency, (plot[3], plot[1]), (50.0, 11025.0), log=True)


def test_unreadable_labels_give_a_note_not_a_number(tmp_path):
    _need("tesseract")
    pixels, (plot, bar) = _draw(tmp_path / "f.png", extent=(0.0, 2.5, 0.0, 8000.0), ylabel="Frequency (Hz)",
                                blur=3.0)
    reading = read_axes(pixels, plot, bar, "vertical")
    for name in ("time", "frequency", "level"):
        axis = getattr(reading, name)
        assert axis is None or axis.confidence < SURE, axis.summary()
        assert any(note.startswith(name) for note in reading.notes), reading.notes


def test_no_labels_at_all(tmp_path):
    _need("tesseract")
    pixels = np.zeros((200, 300, 3))
    pixels[20:180, 30:280] = np.random.default_rng(1).uniform(size=(160, 250, 1))
    reading = read_axes(pixels, (30, 20, 280, 180))
    assert reading.time is None and reading.frequency is None
    assert any(note.startswith("time: not read") for note in reading.notes)


def test_without_tesseract_nothing_is_read_and_nothing_raised(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert ocr_engine() is None
    reading = read_axes(np.ones((100, 100, 3)), (10, 10, 90, 90))
    assert reading.engine is None and reading.time is None and reading.frequency is None
    assert reading.notes and "tesseract" in reading.notes[0]
    assert reading.summary()["engine"] is None


def test_sox_picture_dc_khz_and_dbfs(tmp_path):
    _need("tesseract")
    _need("sox")
    clip, picture = tmp_path / "a.wav", tmp_path / "s.png"
    subprocess.run(["sox", "-n", "-r", "16000", "-b", "16", str(clip), "synth", "2.0", "sine", "300-6000"],
                   check=True)
    subprocess.run(["sox", str(clip), "-n", "spectrogram", "-x", "400", "-y", "257", "-o", str(picture)], check=True)
    pixels = read_picture(picture).pixels
    # SoX draws a grey (127) frame around the plot; its bar is the only long coloured column band
    # right of the plot (found here so that this test does not depend on plot_layout).
    frame = np.all(np.abs(pixels[..., :3] - 127 / 255) < 1e-3, axis=2)
    rows, cols = np.flatnonzero(frame.mean(axis=1) > 0.3), np.flatnonzero(frame.mean(axis=0) > 0.3)
    plot = (int(cols[0]) + 1, int(rows[0]) + 1, int(cols[-1]), int(rows[-1]))
    bar = _bar_right_of(pixels, plot)
    reading = read_axes(pixels, plot, bar, "vertical")
    assert reading.frequency.unit == "Hz" and "khz" in reading.frequency.title.lower(), reading.frequency.summary()
    assert any(label.text.upper() == "DC" for label in reading.frequency.labels) or reading.frequency.value_at(plot[3]) < 100
    bin_half = 8000 / 256 / 2  # SoX draws each bin as a row centred on its frequency
    _close(reading.frequency, (plot[3], plot[1]), (-bin_half, 8000 + bin_half))
    _close(reading.time, (plot[0], plot[2]), (0.0, 2.0))
    assert reading.level.unit == "dBFS"
    _close(reading.level, (bar[3], bar[1]), (-120.0, 0.0))


def test_ffmpeg_picture(tmp_path):
    _need("tesseract")
    _need("ffmpeg")
    picture = tmp_path / "f.png"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=16000:duration=2",
                    "-lavfi", "showspectrumpic=s=640x256", "-y", str(picture)], check=True)
    pixels = read_picture(picture).pixels
    grey = pixels[..., :3].mean(axis=2)
    rows, cols = np.flatnonzero((grey > 0.7).mean(axis=1) > 0.5), np.flatnonzero((grey > 0.7).mean(axis=0) > 0.5)
    plot = (int(cols[0]) + 1, int(rows[0]) + 1, int(cols[1]), int(rows[-1]))
    # ffmpeg draws its bar as tall as the plot; its quiet end is black, so only its columns are found
    bar = (_bar_right_of(pixels, plot)[0], plot[1], _bar_right_of(pixels, plot)[2], plot[3])
    reading = read_axes(pixels, plot, bar, "vertical")
    _close(reading.frequency, (plot[3], plot[1]), (0.0, 8000.0))
    _close(reading.level, (bar[3], bar[1]), (-120.0, 0.0))
    # ffmpeg's 8-pixel font dots its zeros: its time labels ("0.75s") are often misread, and then
    # the reading must say so rather than give a sure wrong number.
    time = reading.time
    if time is not None and time.confidence >= SURE:
        _close(time, (plot[0], plot[2]), (0.0, 2.0))
    else:
        assert any(note.startswith("time") for note in reading.notes), reading.notes


def test_summary_says_how_each_value_was_found(tmp_path):
    _need("tesseract")
    pixels, (plot, bar) = _draw(tmp_path / "f.png", extent=(0.0, 2.5, 0.0, 8000.0), ylabel="Frequency (Hz)")
    summary = read_axes(pixels, plot, bar, "vertical").summary()
    assert summary["frequency"]["labels"] and summary["frequency"]["method"]
    assert len(summary["time"]["at_ends"]) == 2 and summary["level"]["unit"] == "dB"
    assert tick_labels._parse("DC")[0] == 0.0 and tick_labels._parse("2k")[0] == 2000.0
    assert tick_labels._parse("\u22125 dB")[0] == -5.0 and tick_labels._parse("0:01.5")[0] == 1.5

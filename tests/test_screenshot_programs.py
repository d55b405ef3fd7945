"""The drawers of tests/screenshot_programs.py: each program draws a picture, and
the truth recorded beside it (plot box, colour bar, ranges) is where the
pixels say it is, so tests of screenshot reading can trust it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import screenshot_programs as programs
from conftest import SAMPLES


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """1.5 s of the bundled speech clip: short, so each program draws in about a second."""
    return programs.cut_clip(SAMPLES / "LJ001-0006.wav", tmp_path_factory.mktemp("clip") / "clip.wav", 1.5)


def _draw(drawer, *args, **kwargs) -> programs.Drawn:
    try:
        return drawer(*args, **kwargs)
    except programs.ProgramMissing as missing:
        programs.skip_or_fail(missing)
        raise


def _rgb(png: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(png) as image:
        return np.asarray(image.convert("RGB")).astype(np.int16)


def _rows_and_columns_of(mask: np.ndarray, fraction: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of which at least ``fraction`` is in ``mask`` along its longest line."""
    return (np.flatnonzero(mask.mean(axis=1) >= fraction), np.flatnonzero(mask.mean(axis=0) >= fraction))


def test_matplotlib_plot_box_is_the_axes_frame(clip, tmp_path):
    drawn = _draw(programs.matplotlib_specgram, clip, tmp_path / "mpl.png", size=(4, 3))
    pixels = _rgb(drawn.png)
    assert pixels.shape[:2] == (300, 400)
    left, top, right, bottom = drawn.plot_box
    # The spines are black lines one pixel outside or on the box's edges: scan for them.
    dark = pixels.max(axis=2) < 60
    rows, columns = _rows_and_columns_of(dark[:, left + 5:right - 5]), _rows_and_columns_of(dark[top + 5:bottom - 5])
    spine_rows = [r for r in rows[0] if abs(r - top) <= 1 or abs(r - (bottom - 1)) <= 1]
    spine_columns = [c for c in columns[1] if abs(c - left) <= 1 or abs(c - (right - 1)) <= 1]
    assert len({r < (top + bottom) / 2 for r in spine_rows}) == 2, (drawn.plot_box, rows[0])
    assert len({c < (left + right) / 2 for c in spine_columns}) == 2, (drawn.plot_box, columns[1])
    assert drawn.freq_range == (0.0, drawn.sample_rate / 2) and drawn.db_range[0] < drawn.db_range[1]
    # Inside the colour bar every row is one colour, and the bar runs from dark (bottom) to light (top).
    bar_left, bar_top, bar_right, bar_bottom = drawn.colorbar_box
    bar = pixels[bar_top + 2:bar_bottom - 2, bar_left + 2:bar_right - 2]
    assert np.abs(bar - bar[:, :1]).max() <= 2
    assert bar[0].sum() > bar[-1].sum() + 300


@pytest.mark.parametrize("y_axis", ["linear", "mel"])
def test_librosa_specshow_records_its_documented_defaults(clip, tmp_path, y_axis):
    drawn = _draw(programs.librosa_specshow, clip, tmp_path / "librosa.png", y_axis, size=(4, 3))
    assert drawn.db_range == (-80.0, 0.0) and drawn.db_reference == "peak"  # amplitude_to_db(top_db=80, ref=max)
    assert drawn.sample_rate == 22050 and drawn.freq_scale == y_axis and drawn.colormap == "magma"
    assert drawn.time_range[1] == pytest.approx(1.5, abs=0.05)
    left, top, right, bottom = drawn.plot_box
    plot = _rgb(drawn.png)[top + 2:bottom - 2, left + 2:right - 2]
    assert (np.abs(plot - 255).max(axis=2) > 30).mean() > 0.95  # the plot is painted, not the white figure


def test_sox_layout_is_its_sources(clip, tmp_path):
    drawn = _draw(programs.sox, clip, tmp_path / "sox.png", size=(300, 200))
    from PIL import Image

    with Image.open(drawn.png) as image:
        assert image.mode == "P" and drawn.palette  # an indexed picture: the levels are palette indices
    pixels = _rgb(drawn.png)
    left, top, right, bottom = drawn.plot_box
    # spectrogram.c: -Y 200 leaves y = 198, so the DFT is the first power of 2 above it: 256 → 129 rows.
    assert right - left == 300 and bottom - top == 129 and drawn.n_fft == 256
    grid = (pixels == 127).all(axis=2)  # SoX draws the axis lines in its Grid colour, grey 127
    assert grid[top - 1, left:right].all() and grid[bottom, left:right].all()
    assert grid[top:bottom, left - 1].mean() > 0.9 and grid[top:bottom, right].mean() > 0.9
    bar_left, bar_top, bar_right, bar_bottom = drawn.colorbar_box
    bar = pixels[bar_top:bar_bottom, bar_left:bar_right]
    assert (bar == bar[:, :1]).all() and len(np.unique(bar[:, 0], axis=0)) > 100  # a gradient, rows one colour
    # Just outside the bar is background (black).
    assert (pixels[bar_top:bar_bottom, bar_left - 1] == 0).all() and (pixels[bar_top:bar_bottom, bar_right] == 0).all()
    assert drawn.time_range[1] == pytest.approx(1.5, abs=0.02)  # SoX drops less than a column


def test_ffmpeg_layout_is_its_sources(clip, tmp_path):
    drawn = _draw(programs.ffmpeg, clip, tmp_path / "ffmpeg.png", size=(512, 256))
    pixels = _rgb(drawn.png)
    left, top, right, bottom = drawn.plot_box
    assert pixels.shape[:2] == (256 + 2 * 64, 512 + 2 * left)
    frame = pixels.max(axis=2) > 150  # the legend's frame: light lines one pixel outside the plot
    assert frame[top - 1, left:right].mean() > 0.9 and frame[top:bottom, left - 1].mean() > 0.9
    bar_left, bar_top, bar_right, bar_bottom = drawn.colorbar_box
    bar = pixels[bar_top:bar_bottom, bar_left:bar_right]
    assert (np.abs(bar - bar[:, :1]) <= 2).all() and len(np.unique(bar[:, 0], axis=0)) > 100
    assert not pixels[bar_top + 5:bar_bottom - 5, bar_left - 1].any()  # black beside the bar
    assert drawn.n_fft == 512


def test_praat_paints_grey_dark_loud_inside_its_box(clip, tmp_path):
    drawn = _draw(programs.praat, clip, tmp_path / "praat.png")
    pixels = _rgb(drawn.png)
    left, top, right, bottom = drawn.plot_box
    assert drawn.dark_is_loud and drawn.colorbar_box is None and drawn.db_range == (-50.0, 0.0)
    assert (pixels[..., 0] == pixels[..., 2]).all()  # grey
    inside, outside = pixels[top:bottom, left:right, 0], pixels[:, :max(left - 60, 1), 0]
    assert inside.min() < 40 and (outside == 255).mean() > 0.9  # loud cells are black; the margin is white
    # The inner box Praat's garnish draws is a black line just outside the painted area.
    assert (pixels[top - 1, left:right, 0] < 128).mean() > 0.9 and (pixels[top:bottom, left - 1, 0] < 128).mean() > 0.9


def test_octave_specgram_is_measured_from_a_marker_print(clip, tmp_path):
    drawn = _draw(programs.octave_specgram, clip, tmp_path / "octave.png")
    pixels = _rgb(drawn.png)
    left, top, right, bottom = drawn.plot_box
    plot = pixels[top + 1:bottom - 1, left + 1:right - 1]
    assert (np.abs(plot - 255).max(axis=2) > 30).mean() > 0.95  # the image fills the box
    assert (np.abs(pixels[top:bottom, left - 8] - 255).max(axis=1) <= 30).mean() > 0.8  # white margin left of it
    bar_left, bar_top, bar_right, bar_bottom = drawn.colorbar_box
    assert bar_left > right and bar_bottom - bar_top > 0.8 * (bottom - top)
    assert drawn.db_range[0] < drawn.db_range[1] and drawn.n_fft == 256


def test_a_missing_program_skips_here_and_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no program on it
    with pytest.raises(programs.ProgramMissing, match="sox is not installed"):
        programs.sox(tmp_path / "in.wav", tmp_path / "out.png")
    missing = programs.ProgramMissing("sox is not installed")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        programs.skip_or_fail(missing)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="sox is not installed"):
        programs.skip_or_fail(missing)

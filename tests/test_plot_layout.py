"""The parts of a drawn plot, found on pictures drawn at test time by the programs examiners meet."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402

from vocoder.frontend import colormap  # noqa: E402
from vocoder.frontend.picture import read_picture  # noqa: E402
from vocoder.frontend.plot_layout import MASK_DELTA_E, decode_through_bar, find_layout  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


def _need(program: str) -> None:
    if shutil.which(program) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{program} is not installed (make test installs it)")
        pytest.skip(f"{program} is not installed")


def _write_clip(path, x, sr):
    import soundfile as sf

    sf.write(path, x, sr)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    rng = np.random.default_rng(0)
    sr = 16000
    t = np.arange(int(1.5 * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * (300 + 800 * t) * t) * (t % 0.5 < 0.3) + 0.01 * rng.normal(size=t.size)
    return _write_clip(tmp_path_factory.mktemp("clip") / "clip.wav", x, sr), x, sr


def _inside(fig, ax) -> tuple[float, float, float, float]:
    """An axes' box inside its spines, in picture pixels: matplotlib's extent is the spines' centre
    line, and the plot (or a colour bar's field) starts one pixel further in."""
    fig.canvas.draw()
    extent = ax.get_window_extent()
    height = fig.get_size_inches()[1] * fig.dpi
    return extent.x0 + 1, height - extent.y1 + 1, extent.x1, height - extent.y0


def _close(found, true, pixels=1.0):
    return all(abs(f - t) <= pixels + 1e-6 for f, t in zip(found, true))


def _matplotlib(kind, clip, tmp_path):
    _, x, sr = clip
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    if kind == "specgram":
        image = ax.specgram(x, NFFT=512, Fs=sr, noverlap=384)[3]
        bar = fig.colorbar(image, ax=ax, label="dB")
    elif kind == "imshow":
        image = ax.imshow(np.random.default_rng(1).random((40, 120)), aspect="auto", origin="lower")
        bar = fig.colorbar(image, ax=ax, orientation="horizontal")
    else:
        import librosa
        import librosa.display

        db = librosa.amplitude_to_db(np.abs(librosa.stft(x, n_fft=512)), ref=np.max)
        image = librosa.display.specshow(db, sr=sr, x_axis="time", y_axis="linear", ax=ax)
        bar = fig.colorbar(image, ax=ax, format="%+2.0f dB")
    ax.set_title(kind)
    path = tmp_path / f"{kind}.png"
    fig.savefig(path)
    true_plot, true_bar = _inside(fig, ax), _inside(fig, bar.ax)
    plt.close(fig)
    return path, true_plot, true_bar


@pytest.mark.parametrize("kind", ["specgram", "imshow", "specshow"])
def test_matplotlib_plot_and_colour_bar_within_a_pixel(kind, clip, tmp_path):
    path, true_plot, true_bar = _matplotlib(kind, clip, tmp_path)
    layout = find_layout(read_picture(path))
    assert _close(layout.plot.box, true_plot), (layout.plot.box, true_plot)
    assert layout.is_plot and layout.bar is not None
    bar = layout.bar
    assert _close(bar.box, true_bar), (bar.box, true_bar)
    assert bar.orientation == ("horizontal" if kind == "imshow" else "vertical")
    # matplotlib draws the field from vmin to vmax inside the bar's outline: the ends are its edges,
    # so the end pixels stand half a pixel inside them.
    left, top, right, bottom = bar.box
    assert bar.extent == ((left, right) if kind == "imshow" else (bottom, top))
    length = len(bar.positions)
    assert bar.positions[0] == pytest.approx(0.5 / length) and bar.positions[-1] == pytest.approx(1 - 0.5 / length)
    assert layout.boxes() == {"plot": layout.plot.box, "colour bar": bar.box}
    assert layout.summary()["colour_bar"]["box"] == list(bar.box)


def _known_figure(path, cmap, orientation, overlay):
    """imshow of known values in [0, 1] (vmin 0, vmax 1) with a colour bar; the overlay adds white
    gridlines and red text over the plot. Returns the values and the axes' extent."""
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    y, x = np.mgrid[0:300, 0:360]
    values = np.clip(0.5 + 0.5 * np.sin(2 * np.pi * x / 150) * np.cos(2 * np.pi * y / 110), 0, 1)
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    fig.colorbar(image, ax=ax, orientation=orientation)
    if overlay:
        ax.grid(True, color="white", linewidth=1.5)
        ax.text(90, 150, "cursor 1.23 s", color="red", fontsize=14)
    fig.savefig(path)
    fig.canvas.draw()
    extent = ax.get_window_extent()
    height = fig.get_size_inches()[1] * fig.dpi
    plt.close(fig)
    return values, (extent.x0, height - extent.y1, extent.x1, height - extent.y0)


def _truth(values, extent, box):
    """The known value under each pixel centre of ``box`` (nearest-neighbour drawing)."""
    left, top, right, bottom = box
    x0, y0, x1, y1 = extent
    rows = np.floor((np.arange(top, bottom) + 0.5 - y0) / (y1 - y0) * values.shape[0]).astype(int)
    cols = np.floor((np.arange(left, right) + 0.5 - x0) / (x1 - x0) * values.shape[1]).astype(int)
    return values[np.clip(rows, 0, values.shape[0] - 1)][:, np.clip(cols, 0, values.shape[1] - 1)]


@pytest.mark.parametrize("cmap,orientation", [("viridis", "vertical"), ("gray", "vertical"), ("magma", "horizontal")])
def test_known_values_read_back_through_the_found_bar(cmap, orientation, tmp_path):
    values, extent = _known_figure(tmp_path / "known.png", cmap, orientation, overlay=False)
    picture = read_picture(tmp_path / "known.png")
    layout = find_layout(picture)
    decoded = decode_through_bar(picture, layout.plot.box, layout.bar)
    error = np.abs(decoded.values - _truth(values, extent, layout.plot.box))[2:-2, 2:-2]
    # 256 map levels (±1/512) and the bar's 1-2 pixels per level: measured 0.002-0.004.
    assert error.mean() < 0.006, error.mean()
    assert decoded.masked_count == 0 and not decoded.exact


def test_text_and_gridlines_are_masked_and_filled(tmp_path):
    values, extent = _known_figure(tmp_path / "clean.png", "viridis", "vertical", overlay=False)
    _known_figure(tmp_path / "overlay.png", "viridis", "vertical", overlay=True)
    clean, picture = read_picture(tmp_path / "clean.png"), read_picture(tmp_path / "overlay.png")
    layout = find_layout(picture)
    left, top, right, bottom = box = layout.plot.box
    decoded = decode_through_bar(picture, box, layout.bar)
    truth = _truth(values, extent, box)
    # The overlay: pixels the gridlines and text moved by more than the masking threshold.
    moved = np.linalg.norm(colormap.srgb_to_lab(picture.pixels[top:bottom, left:right, :3])
                           - colormap.srgb_to_lab(clean.pixels[top:bottom, left:right, :3]), axis=2)
    overlay = moved > MASK_DELTA_E
    assert 0.03 < overlay.mean() < 0.2
    assert decoded.masked[overlay].mean() > 0.95  # the overlay is masked ...
    assert decoded.masked[~overlay].mean() < 0.002  # ... and little else
    assert decoded.masked_fraction == pytest.approx(overlay.mean(), rel=0.1)
    # Filled from the neighbours: close to the truth, where reading the colours is far off.
    unmasked = colormap.decode(picture.pixels[top:bottom, left:right, :3], "bar", layout.bar.colours).values
    filled_error = np.abs(decoded.values - truth)[overlay].mean()
    assert filled_error < 0.02 and filled_error < np.abs(unmasked - truth)[overlay].mean() / 5
    assert np.abs(decoded.values - truth).mean() < 0.006
    assert decoded.summary()["masked_pixels"] == decoded.masked_count


def _sox(wav, path):
    _need("sox")
    subprocess.run(["sox", str(wav), "-n", "spectrogram", "-o", str(path)], check=True)
    return read_picture(path)


def test_sox_plot_bar_and_exact_palette_levels(clip, tmp_path):
    picture = _sox(clip[0], tmp_path / "sox.png")
    layout = find_layout(picture)
    # SoX 14.4.2 spectrogram.c: plot at x = 58 (left margin), 800 × 513 for this clip, frame outside;
    # its bar is 14 columns ending 35 from the right edge, min(400, rows) rows centred on the plot.
    assert _close(layout.plot.box, (58, 30, 858, 543)), layout.plot.box
    bar = layout.bar
    assert layout.is_plot and bar is not None and bar.index_positions is not None
    assert bar.box == (944 - 35 - 14, 87, 944 - 35, 487), bar.box
    assert bar.extent == (486.5, 87.5) and bar.positions[0] == 0 and bar.positions[-1] == 1
    decoded = decode_through_bar(picture, layout.plot.box, bar)
    left, top, right, bottom = layout.plot.box
    table = bar.index_positions[picture.palette_indices[top:bottom, left:right]]
    on_bar = np.isfinite(table)
    assert on_bar.mean() > 0.5
    assert np.array_equal(decoded.values[on_bar], table[on_bar])


def test_sox_silence_below_the_bar_reads_zero_and_other_indices_are_masked(tmp_path):
    sr = 16000
    t = np.arange(sr) / sr
    x = 0.3 * np.sin(2 * np.pi * (300 + 800 * t) * t)
    x[4000:10000] = 0.0  # digital silence: below any dB range, SoX's palette entry 4
    picture = _sox(_write_clip(tmp_path / "silence.wav", x, sr), tmp_path / "silence.png")
    layout = find_layout(picture)
    box = left, top, right, bottom = layout.plot.box
    indices = picture.palette_indices[top:bottom, left:right]
    below = ~np.isfinite(layout.bar.index_positions[indices])
    assert below.mean() > 0.2 and (indices[below] == 4).all()
    decoded = decode_through_bar(picture, box, layout.bar)
    assert decoded.exact and decoded.masked_count == 0 and decoded.below_range == below.sum()
    assert (decoded.values[below] == 0).all()
    assert np.array_equal(decoded.values[~below], layout.bar.index_positions[indices[~below]])

    # Text (palette entry 1, white) and a grid line (entry 3) drawn into the plot: masked, filled.
    with Image.open(tmp_path / "silence.png") as image:
        palette, drawn = image.getpalette(), np.array(image)
    drawn[top + 100:top + 110, left + 600:left + 700] = 1
    drawn[top + 300, left:right] = 3
    marked = Image.fromarray(drawn, mode="P")
    marked.putpalette(palette)
    marked.save(tmp_path / "marked.png")
    marked_picture = read_picture(tmp_path / "marked.png")
    marked_decoded = decode_through_bar(marked_picture, box, find_layout(marked_picture).bar)
    overlay = np.zeros(indices.shape, dtype=bool)
    overlay[100:110, 600:700] = overlay[300] = True
    assert np.array_equal(marked_decoded.masked, overlay) and not marked_decoded.exact
    assert np.array_equal(marked_decoded.values[~overlay], decoded.values[~overlay])
    assert np.abs(marked_decoded.values[overlay] - decoded.values[overlay]).mean() < 0.05


@pytest.mark.parametrize("size", ["1024x512", None])
def test_ffmpeg_plot_and_whole_bar(size, clip, tmp_path):
    _need("ffmpeg")
    path = tmp_path / "ffmpeg.png"
    spectrum = "showspectrumpic" + (f"=s={size}" if size else "")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(clip[0]), "-lavfi", spectrum, str(path)], check=True)
    picture = read_picture(path)
    layout = find_layout(picture)
    # avf_showspectrum.c (ffmpeg 5.1): legend margins start_x = (log10(rate) + 1) * 25, start_y = 64; the
    # bar is 10 columns from start_x + w + 20, on the plot's rows (default size 4096 × 2048).
    width, height = (int(v) for v in (size or "4096x2048").split("x"))
    start_x = int((math.log10(clip[2]) + 1) * 25)
    assert _close(layout.plot.box, (start_x, 64, start_x + width, 64 + height)), layout.plot.box
    assert layout.is_plot and layout.bar is not None and layout.bar.orientation == "vertical"
    assert layout.bar.box == (start_x + width + 20, 64, start_x + width + 30, 64 + height), layout.bar.box
    assert layout.bar.extent == (64 + height - 0.5, 64.5)
    decoded = decode_through_bar(picture, layout.plot.box, layout.bar)
    assert decoded.masked_count == 0 and decoded.mean_delta_e < 1.0


def test_praat_grey_paint_plot_area(clip, tmp_path):
    _need("praat")
    script = tmp_path / "paint.praat"
    script.write_text('form x\n  sentence infile\n  sentence outfile\nendform\nRead from file: infile$\n'
                      'To Spectrogram: 0.005, 5000, 0.002, 20, "Gaussian"\nErase all\n'
                      'Select outer viewport: 0, 6, 0, 4\nPaint: 0, 0, 0, 0, 100, "yes", 50, 6, 0, "yes"\n'
                      'Save as 300-dpi PNG file: outfile$\n')
    path = tmp_path / "praat.png"
    subprocess.run(["praat", "--run", str(script), str(clip[0]), str(path)], check=True)
    layout = find_layout(read_picture(path))
    # Measured once by eye on this script's 1800 × 1200 picture: the frame's inner edge.
    assert _close(layout.plot.box, (176, 118, 1624, 1082)), layout.plot.box
    assert layout.is_plot and layout.bar is None


def test_edge_to_edge_spectrograms_are_not_plots(tmp_path):
    values = np.random.default_rng(2).random((128, 300))
    plt.imsave(tmp_path / "imsave.png", values, cmap="magma")
    plt.imsave(tmp_path / "grey.png", values, cmap="gray")
    ours = sorted(FIXTURES.glob("*/*.png"))
    assert ours  # our own PNGs and Riffusion's
    for path in [tmp_path / "imsave.png", tmp_path / "grey.png", *ours]:
        layout = find_layout(read_picture(path))
        assert not layout.is_plot and layout.bar is None, (path, layout.evidence)

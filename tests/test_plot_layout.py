"""The parts of a drawn plot, found on pictures drawn at test time by the programs examiners meet."""

from __future__ import annotations

import os
import shutil
import subprocess

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from vocoder.frontend.picture import read_picture  # noqa: E402
from vocoder.frontend.plot_layout import decode_through_bar, find_layout  # noqa: E402


def _need(program: str) -> None:
    if shutil.which(program) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{program} is not installed (make test installs it)")
        pytest.skip(f"{program} is not installed")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    import soundfile as sf

    rng = np.random.default_rng(0)
    sr = 16000
    t = np.arange(int(1.5 * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * (300 + 800 * t) * t) * (t % 0.5 < 0.3) + 0.01 * rng.normal(size=t.size)
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    sf.write(path, x, sr)
    return path, x, sr


def _inside(fig, ax) -> tuple[float, float, float, float]:
    fig.canvas.draw()
    extent = ax.get_window_extent()
    height = fig.get_size_inches()[1] * fig.dpi
    return extent.x0, height - extent.y1, extent.x1, height - extent.y0


def _close(found, true, pixels=1.0):
    return all(abs(f - t) <= pixels + 1e-6 for f, t in zip(found, true))


def _matplotlib(kind, clip, tmp_path):
    _, x, sr = clip
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    if kind == "specgram":
        image = ax.specgram(x, NFFT=512, Fs=sr, noverlap=384)[3]
        fig.colorbar(image, ax=ax, label="dB")
    elif kind == "imshow":
        image = ax.imshow(np.random.default_rng(1).random((40, 120)), aspect="auto", origin="lower")
        fig.colorbar(image, ax=ax, orientation="horizontal")
    else:
        import librosa
        import librosa.display

        db = librosa.amplitude_to_db(np.abs(librosa.stft(x, n_fft=512)), ref=np.max)
        image = librosa.display.specshow(db, sr=sr, x_axis="time", y_axis="linear", ax=ax)
        fig.colorbar(image, ax=ax, format="%+2.0f dB")
    ax.set_title(kind)
    path = tmp_path / f"{kind}.png"
    fig.savefig(path)
    # Matplotlib's extent is the spines' centre line; the plot inside starts one pixel further in.
    true = _inside(fig, ax)
    plt.close(fig)
    return path, (true[0] + 1, true[1] + 1, true[2], true[3])


@pytest.mark.parametrize("kind", ["specgram", "imshow", "specshow"])
def test_matplotlib_plot_area_within_a_pixel(kind, clip, tmp_path):
    path, true = _matplotlib(kind, clip, tmp_path)
    layout = find_layout(read_picture(path))
    assert _close(layout.plot.box, true), (layout.plot.box, true)
    assert layout.is_plot and layout.bar is not None


def test_sox_plot_area_and_exact_palette_levels(clip, tmp_path):
    _need("sox")
    path = tmp_path / "sox.png"
    subprocess.run(["sox", str(clip[0]), "-n", "spectrogram", "-o", str(path)], check=True)
    picture = read_picture(path)
    layout = find_layout(picture)
    # SoX 14.4.2 spectrogram.c: plot at x = 58 (left margin), 800 × 513 for this clip, frame outside.
    assert _close(layout.plot.box, (58, 30, 858, 543)), layout.plot.box
    assert layout.is_plot and layout.bar is not None and layout.bar.index_positions is not None
    decoded = decode_through_bar(picture, layout.plot.box, layout.bar)
    left, top, right, bottom = layout.plot.box
    table = layout.bar.index_positions[picture.palette_indices[top:bottom, left:right]]
    on_bar = np.isfinite(table)
    assert on_bar.mean() > 0.5
    assert np.array_equal(decoded.values[on_bar], table[on_bar])


def test_ffmpeg_plot_area(clip, tmp_path):
    _need("ffmpeg")
    path = tmp_path / "ffmpeg.png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(clip[0]), "-lavfi", "showspectrumpic=s=1024x512",
                    str(path)], check=True)
    layout = find_layout(read_picture(path))
    # avf_showspectrum.c: legend margins start_x = (log10(16000) + 1) * 25 = 130, start_y = 64.
    assert _close(layout.plot.box, (130, 64, 1154, 576)), layout.plot.box
    assert layout.is_plot and layout.bar is not None and layout.bar.orientation == "vertical"


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
    for path in (tmp_path / "imsave.png", tmp_path / "grey.png"):
        assert not find_layout(read_picture(path)).is_plot, path

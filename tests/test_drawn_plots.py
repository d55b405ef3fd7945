"""Screenshots of audio tools read with no options: the plot area, the colour
bar and the axes' numbers are found, each value is a claim on stderr and in the
record, an option overrides it, and nothing is guessed silently.

Pictures are drawn at test time by the programs (tests/screenshot_programs.py);
a missing program skips, except under CI=true, where `make test` installed it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

import screenshot_programs as programs
from conftest import SAMPLES, run_cli


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return programs.cut_clip(SAMPLES / "LJ001-0006.wav", tmp_path_factory.mktemp("clip") / "clip.wav", 2.0)


def _draw(name: str, clip: Path, folder: Path) -> programs.Drawn:
    try:
        return programs.DRAWERS[name](clip, folder / f"{name}.png")
    except programs.ProgramMissing as missing:
        programs.skip_or_fail(missing)
        raise


@pytest.fixture(scope="module")
def drawn(clip, tmp_path_factory):
    folder = tmp_path_factory.mktemp("drawn")
    made: dict[str, programs.Drawn] = {}

    def draw(name: str) -> programs.Drawn:
        if name not in made:
            made[name] = _draw(name, clip, folder)
        return made[name]
    return draw


def _invert(picture: Path, out: Path, *options: str):
    result = run_cli("invert", picture, "-o", out, "--iters", "4", *options)
    record = json.loads(Path(f"{out}.json").read_text()) if result.code == 0 else None
    return result, record


def _claims(record: dict) -> dict[str, dict]:
    return {claim["value_of"]: claim for claim in record.get("read_from_picture") or []}


def _step(record: dict, name: str) -> dict:
    return next(step for step in record["steps"] if step.get("step") == name)


def _close(found, truth, span: float, share: float = 0.01) -> bool:
    return all(abs(a - b) <= share * span for a, b in zip(np.atleast_1d(found), np.atleast_1d(truth)))


def test_a_sox_screenshot_needs_no_options(drawn, tmp_path):
    sox = drawn("sox")
    result, record = _invert(sox.png, tmp_path / "sox.wav")
    assert result.code == 0, result.err
    claims = _claims(record)
    assert claims["plot area"]["value"] == list(sox.plot_box)
    assert _close(claims["colour bar"]["value"], sox.colorbar_box, 400, 0.01)
    duration = sox.time_range[1] - sox.time_range[0]
    assert _close(claims["duration (s)"]["value"], duration, duration)
    assert _close(claims["frequency range (Hz)"]["value"], sox.freq_range, sox.freq_range[1])
    assert _close(claims["dB range of the colour bar"]["value"], sox.db_range, 120)
    assert claims["dB reference"]["value"].startswith("the bar says dBFS")
    assert record["picture_options"]["db_reference"] == "peak"
    # SoX's palette indices are its levels: read by table lookup, exactly.
    assert _step(record, "decode_colour_bar")["exact"] is True
    assert soundfile.info(tmp_path / "sox.wav").duration == pytest.approx(duration, rel=0.01)
    # Every value read is on stderr, with how it was read and the option that overrides it.
    for claim in claims.values():
        assert f"read from the picture: {claim['value_of']}" in result.err
        assert claim["option"] in result.err


def test_a_matplotlib_figure_with_a_colour_bar_needs_no_options(drawn, tmp_path):
    figure = drawn("matplotlib-specgram")
    result, record = _invert(figure.png, tmp_path / "mpl.wav")
    assert result.code == 0, result.err
    claims = _claims(record)
    assert _close(claims["plot area"]["value"], figure.plot_box, 300, 0.005)
    assert _close(claims["colour bar"]["value"], figure.colorbar_box, 300, 0.005)
    duration = figure.time_range[1] - figure.time_range[0]
    assert _close(claims["duration (s)"]["value"], duration, duration)
    assert _close(claims["frequency range (Hz)"]["value"], figure.freq_range, figure.freq_range[1])
    decoded = _step(record, "decode_colour_bar")
    assert decoded["mean_delta_e"] < 2 and decoded["masked_fraction"] < 0.01


def test_a_phonetics_picture_is_dark_is_loud_and_says_what_it_cannot_read(drawn, tmp_path):
    praat = drawn("praat")
    result, record = _invert(praat.png, tmp_path / "praat.wav")
    assert result.code == 0, result.err
    claims = _claims(record)
    assert claims["polarity"]["value"] == "dark is loud"
    assert _close(claims["frequency range (Hz)"]["value"], praat.freq_range, praat.freq_range[1])
    # A grey picture has no colour bar: its dB range is not in it, and the warning names the option.
    assert "the picture does not say its dB range" in result.err and "--db-range" in result.err
    # Given, an option wins over the reading and is not claimed.
    result, record = _invert(praat.png, tmp_path / "given.wav", "--db-range", "-70", "0", "--pre-emphasis", "6",
                             "--duration", "1.9")
    assert result.code == 0, result.err
    assert "duration (s)" not in _claims(record) and record["picture_options"]["duration"] == 1.9
    assert (record["picture_options"]["db_min"], record["picture_options"]["pre_emphasis"]) == (-70, 6)
    assert "dB range" not in result.err


def test_a_plot_read_as_raw_pixels_is_warned_about(drawn, tmp_path):
    sox = drawn("sox")
    result, record = _invert(sox.png, tmp_path / "raw.wav", "--figure", "plain")
    assert result.code == 0, result.err
    assert "looks like a drawn plot" in result.err and "--figure plot" in result.err
    assert "read_from_picture" not in record
    assert any("looks like a drawn plot" in warning for warning in record["warnings"])


def test_a_picture_that_is_no_plot_is_read_as_before(tmp_path):
    result, record = _invert(SAMPLES / "text.png", tmp_path / "text.wav")
    assert result.code == 0, result.err
    assert "read_from_picture" not in record and "drawn plot" not in result.err
    # Insisting on a plot: what cannot be read is said, option by option, not guessed.
    result, record = _invert(SAMPLES / "text.png", tmp_path / "insisted.wav", "--figure", "plot")
    assert result.code == 0, result.err
    assert "time axis's numbers were not found; give --duration" in result.err
    assert record["picture_options"]["duration"] is None
    # A picture with nothing drawn in it has no plot area to find: one line, nothing written.
    from PIL import Image

    Image.new("L", (200, 120), 128).save(tmp_path / "flat.png")
    result = run_cli("invert", tmp_path / "flat.png", "-o", tmp_path / "flat.wav", "--figure", "plot")
    assert result.code == 2 and result.err.count("\n") == 1, result.err
    assert "cannot find the plot area" in result.err and "--crop" in result.err
    assert not (tmp_path / "flat.wav").exists()


def test_without_ocr_the_numbers_are_asked_for(drawn, tmp_path, monkeypatch):
    sox = drawn("sox")
    bare = tmp_path / "bin"  # a PATH without tesseract
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))
    result = run_cli("invert", sox.png, "-o", tmp_path / "no-ocr.wav", "--iters", "1")
    assert result.code == 0, result.err
    assert "no OCR engine" in result.err and "--duration" in result.err
    record = json.loads((tmp_path / "no-ocr.wav.json").read_text())
    assert set(_claims(record)) == {"plot area", "colour bar"}
    assert record["picture_options"]["duration"] is None


def test_info_shows_and_draws_what_was_found(drawn, tmp_path):
    sox = drawn("sox")
    result = run_cli("info", sox.png, "--preview", tmp_path / "found.png")
    assert "a drawn plot" in result.out and "colour bar:" in result.out and "duration (s):" in result.out
    assert (tmp_path / "found.png").stat().st_size > 0
    again = run_cli("info", sox.png, "--preview", tmp_path / "found.png")
    assert again.code == 2 and "--force" in again.err
    plain = run_cli("info", SAMPLES / "text.png", "--preview", tmp_path / "nothing.png")
    assert plain.code == 2 and "not one" in plain.err and not (tmp_path / "nothing.png").exists()


def test_an_ffmpeg_picture_is_read_through_its_bar(drawn, tmp_path):
    ffmpeg = drawn("ffmpeg-1024x512")
    result, record = _invert(ffmpeg.png, tmp_path / "ff.wav")
    assert result.code == 0, result.err
    claims = _claims(record)
    assert _close(claims["plot area"]["value"], ffmpeg.plot_box, 1024, 0.002)
    assert _close(claims["frequency range (Hz)"]["value"], ffmpeg.freq_range, ffmpeg.freq_range[1])
    assert _close(claims["dB range of the colour bar"]["value"], ffmpeg.db_range, 120)


def test_colorbar_auto_reads_through_the_bar_it_finds(drawn, tmp_path):
    figure = drawn("matplotlib-specgram")
    result, record = _invert(figure.png, tmp_path / "bar.wav", "--figure", "plain", "--crop", "auto",
                             "--colorbar", "auto", "--duration", "2")
    assert result.code == 0, result.err
    decoded = _step(record, "decode_colour_bar")
    assert _close(decoded["bar"]["box"], figure.colorbar_box, 300, 0.005)
    assert decoded["mean_delta_e"] < 2
    # On a picture with no bar, auto says so in one line and writes nothing.
    praat = drawn("praat")
    result = run_cli("invert", praat.png, "-o", tmp_path / "none.wav", "--figure", "plain", "--colorbar", "auto")
    assert result.code == 2 and "found no colour bar" in result.err and result.err.count("\n") == 1, result.err
    assert not (tmp_path / "none.wav").exists()


def test_a_librosa_mel_axis_is_read_as_its_symlog(drawn, tmp_path):
    figure = drawn("librosa-specshow-mel")
    result, record = _invert(figure.png, tmp_path / "mel.wav")
    assert result.code == 0, result.err
    options = record["picture_options"]
    assert options["freq_scale"] == "symlog" and options["symlog"] == pytest.approx([2.0, 1000.0, 1.0], rel=0.05)
    assert _close(options["freq_range"], (0.0, figure.freq_range[1]), figure.freq_range[1], 0.02)
    assert _close((options["db_min"], options["db_max"]), figure.db_range, 80)


def test_an_octave_figure_needs_no_options(drawn, tmp_path):
    octave = drawn("octave-specgram")
    result, record = _invert(octave.png, tmp_path / "octave.wav")
    assert result.code == 0, result.err
    claims = _claims(record)
    span = octave.db_range[1] - octave.db_range[0]
    assert _close(claims["plot area"]["value"], octave.plot_box, 500, 0.004)
    assert _close(claims["dB range of the colour bar"]["value"], octave.db_range, span, 0.02)
    duration = octave.time_range[1] - octave.time_range[0]
    read = claims.get("duration (s)", {}).get("value") or claims["time range (s)"]["value"][1]
    assert _close(read, octave.time_range[1], duration, 0.02)


def test_values_read_that_cannot_be_used_are_one_line_naming_the_reading(drawn, tmp_path, monkeypatch):
    from vocoder.frontend import tick_labels

    class Axis:  # a time axis read as a week long
        confidence, labels, side, scale, unit = 0.99, (), "bottom", "linear", "s"

        def value_at(self, pixel):
            return (pixel - 58.0) * 1000.0  # 0 at the plot's left edge

    class Axes:
        engine, time, frequency, level, notes = "tesseract (stand-in)", Axis(), None, None, ()

        def summary(self):
            return {"engine": self.engine}

    monkeypatch.setattr(tick_labels, "read_axes", lambda *args: Axes())
    sox = drawn("sox")
    result = run_cli("invert", sox.png, "-o", tmp_path / "week.wav")
    assert result.code == 2 and result.err.count("\n") == 1, result.err
    assert "the values read from" in result.err and "duration (s)" in result.err and "--figure plain" in result.err
    assert not (tmp_path / "week.wav").exists()

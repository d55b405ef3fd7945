"""Numbers are values in every spelling float() takes, negative ones
included; options that contradict each other are refused in one line."""

from __future__ import annotations

import pytest

from conftest import run_cli
from vocoder.cli import build_parser
from vocoder.errors import VocoderError
from vocoder.frontend.picture_options import PictureOptions


@pytest.mark.parametrize("low, expected", [("-1e2", -100.0), ("-1E2", -100.0), ("-1.5e+1", -15.0), ("-.5e2", -50.0),
                                           ("-80", -80.0), ("-80.", -80.0), ("-2.5E-0", -2.5), ("-0", 0.0)])
def test_negative_numbers_in_scientific_notation_are_values(low, expected):
    args = build_parser("invert").parse_args(["invert", "x.png", "-o", "y.wav", "--db-range", low, "-1e-3"])
    assert args.db_range == [expected, -0.001]


@pytest.mark.parametrize("command, flag, value", [
    ("invert", "--freq-range", "-1e1"), ("invert", "--blur", "-1e0"), ("invert", "--duration", "-2.5E1"),
    ("encode", "--dynamic-range", "-1e2"), ("pattern", "--duration", "-1e-1"),
])
def test_every_numeric_option_takes_a_negative_number_as_its_value(command, flag, value):
    """The value reaches our own check (a one-line refusal about the number), not argparse's 'expected one argument'."""
    positional = {"invert": ["x.png"], "encode": ["x.wav"], "pattern": ["chirp"]}[command]
    argv = [command, *positional, "-o", "out", flag, value] + (["0"] if flag == "--freq-range" else [])
    parsed = build_parser(command).parse_args(argv)
    assert getattr(parsed, flag[2:].replace("-", "_")) in (float(value), [float(value), 0.0])


def test_a_word_that_looks_like_an_option_is_still_an_option_error():
    result = run_cli("invert", "x.png", "-o", "y.wav", "--db-range", "-x", "0")
    assert result.code == 2 and "expected 2 arguments" in result.err


def test_db_range_in_scientific_notation_runs_end_to_end(tmp_path):
    from PIL import Image
    import numpy as np

    Image.fromarray((np.arange(40 * 60).reshape(40, 60) % 255 + 1).astype(np.uint8)).save(tmp_path / "p.png")
    result = run_cli("invert", tmp_path / "p.png", "-o", tmp_path / "o.wav", "--iters", "1", "--db-range", "-1e2", "0")
    assert result.code == 0, result


@pytest.mark.parametrize("options", [
    ["--channel", "r", "--channels", "g"], ["--channel", "grey", "--channels", "g,b"],
    ["--channel", "stereo", "--channels", "r"], ["--db-range", "-60", "0", "--mapping", "power", "--power", "0.25"],
    ["--channels", "g", "--colormap", "viridis"], ["--row-scale", "librosa", "--freq-range", "0", "8000"],
    ["--mapping", "db", "--power", "0.5"],
])
def test_options_that_contradict_each_other_are_refused_in_one_line(tmp_path, options):
    result = run_cli("invert", tmp_path / "p.png", "-o", tmp_path / "o.wav", *options)
    assert result.code == 2, result
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert list(tmp_path.iterdir()) == []


def test_picture_options_refuse_planes_with_another_channel_from_a_notebook_too():
    with pytest.raises(VocoderError, match="contradict"):
        PictureOptions(channel="r", planes=("g",)).validate()
    PictureOptions(planes=("g", "b")).validate()  # the default channel is no contradiction

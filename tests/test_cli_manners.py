"""What a new user meets first: `info`, `backends`, `fit --help`, running
from another folder, and default outputs that git ignores."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess

import pytest

from conftest import PROJECT, SAMPLES, run_cli

SPEECH = SAMPLES / "LJ001-0006.wav"


def test_info_is_a_short_summary_of_spec_mapping_size_and_claims(encoded):
    result = run_cli("info", encoded)
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert 10 <= len(lines) <= 20, result.out
    assert lines[0] == f"{encoded}: spectrogram image written by vocoder (format vocoder.spectrogram v1)"
    text = result.out
    assert "22050 Hz, n_fft 1024, hop 256" in text and "mel, 80 bands" in text and "0 Hz to 8000 Hz" in text
    assert "from -100.0 to 0.0 dB" in text and "pixel 0 = silence" in text
    width = json.loads(run_cli("info", "--json", encoded).out)["spec"]  # the full record is still there
    assert width["axis"]["n_mels"] == 80
    claims = lines.index("claimed by the file (written by whoever made it; checked only as listed under "
                         "'verified here'):")
    verified = next(i for i, line in enumerate(lines) if line.startswith("verified here: sha256 of this file "))
    assert claims < verified  # claims first, then what this run checked
    claimed = lines[claims + 1:verified]
    assert claimed[0].startswith("  spec: 22050 Hz") and "  length: 125341 samples = 5.68 s" in claimed
    assert any(line.startswith("  made from 'LJ001-0006.wav'") for line in claimed)
    checks = lines[verified + 1:-2]
    assert checks and all(c.startswith("  agrees: ") for c in checks), checks
    assert lines[-2].startswith("this environment: lock linux-x86_64-cp311.txt sha256 ")  # which software runs here
    assert lines[-1] == f"the full record: vocoder info --json {encoded}"


def test_info_says_when_the_pixels_contradict_a_claim(encoded, tmp_path):
    import numpy as np

    from vocoder.frontend.picture import METADATA_KEY, encode_png, read_picture
    from vocoder.frontend.png_stream import iter_rows

    picture = read_picture(encoded)
    pixels = np.stack(list(iter_rows(str(encoded))))[..., 0]
    pixels = np.minimum(pixels, 1000)  # the peak no longer reaches full scale
    edited = tmp_path / "edited.png"
    edited.write_bytes(encode_png(pixels.astype(np.uint16), {METADATA_KEY: json.dumps(picture.metadata)}))
    result = run_cli("info", edited)
    assert result.code == 0, result
    assert "  CONTRADICTED: the brightest pixel (the peak is 0 dB): claimed 65535, measured 1000" in result.out


def test_info_prints_a_files_text_without_control_characters(encoded, tmp_path):
    import numpy as np

    from vocoder.frontend.picture import METADATA_KEY, encode_png, read_picture
    from vocoder.frontend.png_stream import iter_rows

    picture = read_picture(encoded)
    meta = picture.metadata
    meta["layout"]["colour"] = "grey\x1b[2J\nforged line"
    meta["provenance"][0]["step"] = "read_audio\r\nverified here: everything"
    hostile = tmp_path / "hostile.png"
    hostile.write_bytes(encode_png(np.stack(list(iter_rows(str(encoded))))[..., 0],
                                   {METADATA_KEY: json.dumps(meta)}))
    result = run_cli("info", hostile)
    assert result.code == 0, result
    assert "\x1b" not in result.out and "\r" not in result.out
    assert not any(line.startswith(("forged", "verified here: everything")) for line in result.out.splitlines())
    assert "grey?[2J?forged line" in result.out


def test_info_refuses_a_decode_over_the_memory_cap_in_one_line(encoded):
    result = run_cli("info", encoded, "--max-memory", "1M")
    assert result.code == 2 and result.out == "" and len(result.err.splitlines()) == 1, result
    assert "info needs about" in result.err and "decoding the picture" in result.err


def test_info_on_audio_gives_duration_and_channels():
    result = run_cli("info", SPEECH)
    assert result.code == 0, result
    assert result.out.splitlines()[0] == f"{SPEECH}: audio, 1 channel, 22050 Hz, 125341 samples = 5.68 s"
    record = json.loads(run_cli("info", "--json", SPEECH).out)
    assert (record["channels"], record["samples"], record["sample_rate"]) == (1, 125341, 22050)


def test_info_on_a_plain_picture_gives_its_size_and_exit_1():
    result = run_cli("info", SAMPLES / "text.png")
    assert result.code == 1
    assert "448×172 pixels" in result.out and "no embedded vocoder metadata" in result.err


def test_backends_show_every_option_with_its_default_and_mark_learned_ones():
    from vocoder.inversion.registry import BACKENDS, backend_class

    result = run_cli("backends")
    assert result.code == 0, result
    rows = json.loads(run_cli("backends", "--json").out)
    assert [r["name"] for r in rows] == list(BACKENDS)
    for row in rows:
        cls = backend_class(row["name"])
        fields = {f.name: f.default for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")}
        assert {o["name"]: o["default"] for o in row["options"]} == fields
        header = next(line for line in result.out.splitlines() if line.startswith(f"{row['name']} "))
        assert header.endswith("[learned]") == (row["name"] in ("hifigan", "learned"))
    learned = next(r for r in rows if r["name"] == "learned")
    assert learned["learned"] and not rows[0]["learned"]
    fgla = result.out.split("\nfgla ", 1)[1]
    assert "momentum     float" in fgla and "default 0.99" in fgla


def test_fit_help_is_short_and_the_full_help_is_one_flag_away():
    short = run_cli("fit", "--help")
    assert short.code == 0 and len(short.out.splitlines()) < 30, short
    for option in ("--config", "--data.data_dir", "--data.batch_size", "--trainer.max_steps", "--run",
                   "--model.init_generator", "--trainer.accelerator", "--trainer.devices", "--ckpt_path",
                   "--print_config", "--help-all"):
        assert option in short.out, option
    full = run_cli("fit", "--help-all")
    assert full.code == 0 and len(full.out.splitlines()) > 500
    assert "--model.lr_decay_every" in full.out


def test_readme_commands_work_from_another_folder(tmp_path, monkeypatch):
    """The quick start and a bench, run from a folder outside the project."""
    before = sorted(os.listdir(SAMPLES))
    monkeypatch.chdir(tmp_path)
    commands = [
        ["encode", SPEECH, "-o", "speech.png", "--preset", "hifigan", "--preview"],
        ["info", "speech.png"],
        ["invert", "speech.png", "-o", "speech_fgla.wav", "--iters", "4"],
        ["invert", SAMPLES / "text.png", "-o", "photo.wav", "--preset", "linear", "--duration", "2",
         "--channel", "grey", "--db-range", "-80", "0", "--blur", "1.0", "--preview", "--iters", "4"],
        ["backends"],
        ["bench", SPEECH, "--backends", "fgla:iters=4", "--metrics", "sc_db,snr_db"],
    ]
    for command in commands:
        result = run_cli(*command)
        assert result.code == 0, (command, result)
    assert "it/s" not in result.err and "bench: " not in result.err  # stderr is no terminal here: no bar
    for name in ("speech.png", "speech.png.preview.png", "speech_fgla.wav", "speech_fgla.wav.json", "photo.wav",
                 "photo.wav.json", "photo.wav.preview.png", "bench-out/results.csv", "bench-out/report.html"):
        assert (tmp_path / name).is_file(), name
    assert sorted(os.listdir(SAMPLES)) == before


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_default_output_folders_are_ignored_by_git():
    if subprocess.run(["git", "rev-parse"], cwd=PROJECT, capture_output=True).returncode != 0:
        pytest.skip("the project is not a git checkout here")
    defaults = ["bench-out/", "demo-out/", "runs/", "logs/", "wandb/", "lightning_logs/"]
    result = subprocess.run(["git", "check-ignore", "--no-index", *[d + "x" for d in defaults]], cwd=PROJECT,
                            capture_output=True, text=True)
    assert result.stdout.split() == [d + "x" for d in defaults], result


def test_progress_bars_stay_quiet_off_a_terminal_unless_asked(tmp_path):
    """stderr is not a terminal under pytest: no bar by default, the bar with --progress."""
    shown = run_cli("bench", SPEECH, "--backends", "fgla:iters=2", "--metrics", "sc_db", "--out", tmp_path / "b",
                    "--progress")  # without it: test_readme_commands_work_from_another_folder
    assert shown.code == 0 and "bench: 100%" in shown.err, shown
    config = run_cli("fit", "--print_config")
    assert "enable_progress_bar: false" in config.out
    asked = run_cli("fit", "--print_config", "--trainer.enable_progress_bar", "true")
    assert "enable_progress_bar: true" in asked.out

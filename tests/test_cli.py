"""The `vocoder` command as users call it: happy paths, records, bad input."""

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from conftest import SAMPLES, run_cli, write_wav
from vocoder.provenance.hashing import sha256_file

SPEECH = SAMPLES / "LJ001-0006.wav"


def test_backends_lists_both_griffin_lims():
    result = run_cli("backends")
    assert result.code == 0
    names = [line.split()[0] for line in result.out.splitlines()]
    assert {"griffinlim", "fgla"} <= set(names)


def test_info_prints_the_spec_that_was_written(encoded):
    result = run_cli("info", "--json", encoded)
    assert result.code == 0, result
    metadata = json.loads(result.out)
    from vocoder.spec import PRESETS

    assert metadata["spec"] == PRESETS["hifigan"].to_dict()
    assert metadata["mapping"]["bits"] == 16
    assert metadata["source"]["sha256"] == sha256_file(SPEECH)


def test_info_says_when_there_is_no_metadata():
    result = run_cli("info", "--json", SAMPLES / "text.png")
    assert result.code == 1
    assert "no embedded vocoder metadata" in result.err and result.out == ""


def test_invert_needs_no_options_and_writes_a_full_record(encoded, tmp_path):
    out = tmp_path / "speech.wav"
    result = run_cli("invert", encoded, "-o", out, "--iters", "20", "--preview", "--timings")
    assert result.code == 0, result
    record = json.loads((tmp_path / "speech.wav.json").read_text())
    assert record["input"]["sha256"] == sha256_file(encoded)
    assert record["output"]["sha256"] == sha256_file(out)
    assert record["spec"]["axis"]["n_mels"] == 80
    assert record["backend"] == {
        "name": "fgla", "parameters": {"iters": 20, "momentum": 0.99, "init": "random", "seed": 0},
        "input_spec": record["backend"]["input_spec"]}
    assert record["backend"]["input_spec"]["axis"] == {"kind": "linear"}
    assert record["seed"] == 0
    assert record["environment"]["packages"]["torch"].startswith("2.11")
    assert record["wall_seconds"]["inversion"] > 0
    fidelity = record["fidelity_vs_input"]
    assert fidelity["domain"] == "mel" and fidelity["consistency_db"] < -10
    assert fidelity["out_of_band_db"] < -20  # nothing invented above the mel's 8 kHz
    # The image's own history is its claim; this run's steps start at decoding it.
    assert [s["step"] for s in record["claimed"]["metadata"]["provenance"]] == ["read_audio", "stft"]
    assert [s["step"] for s in record["steps"]] == ["decode_image", "mel_to_linear"]
    assert record["claim_mismatches"] == [] and all(c["agrees"] for c in record["verified"]["claim_checks"])
    assert record["verified"]["sha256"] == {"input": sha256_file(encoded), "output": sha256_file(out)}
    info = sf.info(out)
    assert info.samplerate == 22050 and info.frames == sf.info(SPEECH).frames
    with Image.open(tmp_path / "speech.wav.preview.png") as preview:
        assert preview.size[0] > 500


def test_same_input_and_seed_give_byte_identical_wav(encoded, tmp_path):
    for name in ("a.wav", "b.wav"):
        assert run_cli("invert", encoded, "-o", tmp_path / name, "--iters", "10", "--seed", "5").code == 0
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


def test_stereo_audio_round_trips_through_an_rgb_png(tmp_path):
    t = np.arange(22050) / 22050
    stereo = np.stack([0.4 * np.sin(2 * np.pi * 500 * t), 0.4 * np.sin(2 * np.pi * 1500 * t)], axis=1)
    wav = write_wav(tmp_path / "stereo.wav", stereo)
    assert run_cli("encode", wav, "-o", tmp_path / "stereo.png").code == 0
    with Image.open(tmp_path / "stereo.png") as im:
        assert im.mode == "RGB"
    assert run_cli("invert", tmp_path / "stereo.png", "-o", tmp_path / "back.wav", "--iters", "30").code == 0
    back, rate = sf.read(tmp_path / "back.wav")
    assert back.shape == (22050, 2)
    peaks = np.abs(np.fft.rfft(back, axis=0)).argmax(axis=0)  # 1 Hz per bin for 1 s
    assert abs(peaks[0] - 500) < 5 and abs(peaks[1] - 1500) < 5


# -- synthetic pictures: does the picture mean what it shows? -------------------

HZ_PER_BIN = 22050 / 1024


def _dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(spectrum.argmax() * rate / len(samples))


@pytest.mark.parametrize("row", [100, 300, 480])
def test_horizontal_line_becomes_a_tone_at_that_rows_frequency(tmp_path, row):
    picture = np.zeros((513, 120), np.uint8)
    picture[row, :] = 255
    Image.fromarray(picture).save(tmp_path / "line.png")
    assert run_cli("invert", tmp_path / "line.png", "-o", tmp_path / "tone.wav", "--iters", "30").code == 0
    samples, rate = sf.read(tmp_path / "tone.wav")
    expected_hz = (512 - row) * HZ_PER_BIN  # top row is Nyquist, bottom row is 0 Hz
    assert abs(_dominant_hz(samples, rate) - expected_hz) <= HZ_PER_BIN


@pytest.mark.parametrize("column", [30, 75])
def test_vertical_line_becomes_a_click_at_that_columns_time(tmp_path, column):
    picture = np.zeros((513, 120), np.uint8)
    picture[:, column] = 255
    Image.fromarray(picture).save(tmp_path / "line.png")
    assert run_cli("invert", tmp_path / "line.png", "-o", tmp_path / "click.wav", "--iters", "30").code == 0
    samples, rate = sf.read(tmp_path / "click.wav")
    expected = column * 256  # frame centres at k * hop (linear preset, centred frames)
    assert abs(int(np.abs(samples).argmax()) - expected) <= 256
    # and essentially all the energy sits within one frame of it
    energy = samples**2
    assert energy[max(0, expected - 1024): expected + 1024].sum() > 0.99 * energy.sum()


def test_black_picture_gives_silence_not_nan(tmp_path):
    Image.new("L", (64, 64), 0).save(tmp_path / "black.png")
    assert run_cli("invert", tmp_path / "black.png", "-o", tmp_path / "black.wav", "--iters", "5").code == 0
    samples, _ = sf.read(tmp_path / "black.wav")
    assert np.isfinite(samples).all() and np.abs(samples).max() == 0


def test_plain_picture_options_are_recorded(tmp_path):
    out = tmp_path / "text.wav"
    result = run_cli("invert", SAMPLES / "text.png", "-o", out, "--iters", "5", "--preset", "hifigan",
                     "--duration", "2.5", "--blur", "1.0", "--db-range", "-60", "0")
    assert result.code == 0, result
    record = json.loads(Path(str(out) + ".json").read_text())
    given = {"channel": "grey", "duration": 2.5, "flip": True, "blur_sigma": 1.0, "db_min": -60.0, "db_max": 0.0}
    assert {k: record["picture_options"][k] for k in given} == given
    # Every other step of the chain is recorded too, at its default.
    assert record["picture_options"]["colormap"] is None and record["picture_options"]["mapping"] == "db"
    assert record["picture_options"]["crop"] is None and record["picture_options"]["dark_is_loud"] is False
    assert record["spec"]["axis"]["n_mels"] == 80
    assert sf.info(out).frames == round(2.5 * 22050)
    assert record["output"]["level"]["rule"].startswith("picture has no absolute level")


# -- bad input: one line on stderr, exit 2, nothing left behind --------------------


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def _assert_clean_failure(result, folder: Path, message: str, before: set[str]):
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("vocoder: error:") and message in lines[0], lines[0]
    assert "Traceback" not in result.err
    assert {p.name for p in folder.iterdir()} == before, "an output or temporary file was left behind"


@pytest.mark.parametrize("name, content, message", [
    ("truncated.png", None, "truncated"),
    ("notes.png", b"this is not a picture at all\n", "not an image"),
    ("empty.png", b"", "empty"),
    ("zero.png", _png_header_only(0, 10), "zero size"),
    ("bomb.png", _png_header_only(40000, 40000), "decompression bomb"),
], ids=["truncated", "not-an-image", "empty-file", "zero-size", "bomb"])
def test_bad_images_are_refused(tmp_path, encoded, name, content, message):
    path = tmp_path / name
    path.write_bytes(encoded.read_bytes()[: encoded.stat().st_size // 2] if content is None else content)
    before = {p.name for p in tmp_path.iterdir()}
    result = run_cli("invert", path, "-o", tmp_path / "out.wav")
    _assert_clean_failure(result, tmp_path, message, before)


@pytest.mark.parametrize("samples, subtype, message", [
    (np.zeros((0, 1)), "PCM_16", "no samples"),
    (np.zeros((22050, 1)), "PCM_16", "silent"),
    (np.array([[0.1], [np.nan]] * 1000), "FLOAT", "NaN"),
    (np.full((100, 1), 0.1), "PCM_16", "too short"),
])
def test_bad_audio_is_refused(tmp_path, samples, subtype, message):
    wav = write_wav(tmp_path / "bad.wav", samples, subtype=subtype)
    before = {p.name for p in tmp_path.iterdir()}
    result = run_cli("encode", wav, "-o", tmp_path / "out.png", "--preview")
    _assert_clean_failure(result, tmp_path, message, before)


def test_non_audio_file_is_refused(tmp_path):
    (tmp_path / "fake.wav").write_text("RIFF? no.")
    before = {p.name for p in tmp_path.iterdir()}
    _assert_clean_failure(run_cli("encode", tmp_path / "fake.wav", "-o", tmp_path / "o.png"), tmp_path,
                          "cannot read audio", before)


@pytest.mark.parametrize("args, message", [
    (["--backend", "wavenet"], "unknown backend"),
    (["--preset", "hifi"], "unknown preset"),
    (["--backend", "griffinlim", "--momentum", "0.5"], "does not take --momentum"),
    (["--duration", "0"], "--duration"),
    (["--db-range", "0", "-10"], "--db-range"),
])
def test_bad_options_are_refused(tmp_path, args, message):
    Image.new("L", (16, 16), 128).save(tmp_path / "p.png")
    before = {p.name for p in tmp_path.iterdir()}
    result = run_cli("invert", tmp_path / "p.png", "-o", tmp_path / "out.wav", *args)
    _assert_clean_failure(result, tmp_path, message, before)


def test_unknown_preset_on_encode(tmp_path):
    before = {p.name for p in tmp_path.iterdir()}
    _assert_clean_failure(run_cli("encode", SPEECH, "-o", tmp_path / "o.png", "--preset", "nope"), tmp_path,
                          "unknown preset", before)


def test_options_that_contradict_embedded_metadata_are_refused(tmp_path, encoded):
    before = {p.name for p in tmp_path.iterdir()}
    result = run_cli("invert", encoded, "-o", tmp_path / "out.wav", "--preset", "linear")
    _assert_clean_failure(result, tmp_path, "carries its own spec", before)


@pytest.mark.parametrize("target, message", [
    ("missing-folder/out.wav", "does not exist"),
    ("", "is a folder"),
])
def test_unwritable_output_is_refused_before_any_work(tmp_path, encoded, target, message):
    before = {p.name for p in tmp_path.iterdir()}
    result = run_cli("invert", encoded, "-o", tmp_path / target if target else tmp_path)
    _assert_clean_failure(result, tmp_path, message, before)


def test_failed_run_keeps_an_existing_output(tmp_path):
    out = tmp_path / "keep.wav"
    out.write_bytes(b"precious")
    (tmp_path / "bad.png").write_bytes(b"garbage")
    result = run_cli("invert", tmp_path / "bad.png", "-o", out)
    assert result.code == 2
    assert out.read_bytes() == b"precious"


def test_usage_errors_are_one_line_with_status_2():
    result = run_cli("invert")
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and "required" in result.err


def test_installed_console_script_reports_errors_without_traceback(tmp_path):
    script = Path(sys.executable).with_name("vocoder")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "vocoder"]
    done = subprocess.run(command + ["invert", str(tmp_path / "none.png"), "-o", str(tmp_path / "o.wav")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == f"vocoder: error: image file not found: {tmp_path / 'none.png'}"

"""The records every command writes: one version for all, and a rerun on the
same input writes the same bytes (wall-clock time only when asked)."""

from __future__ import annotations

import json
import time

import numpy as np
import soundfile as sf
from PIL import Image

from conftest import SAMPLES, run_cli
from vocoder.provenance.record import RECORD_VERSION


def _picture(path):
    pixels = (np.random.default_rng(0).random((12, 20)) * 255).astype(np.uint8)
    Image.fromarray(pixels, "L").save(path)
    return path


def _record(path) -> dict:
    return json.loads((path.parent / (path.name + ".json")).read_text())


def test_sonify_twice_writes_the_same_audio_and_the_same_record(tmp_path):
    picture = _picture(tmp_path / "in.png")
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    assert run_cli("sonify", picture, "-o", first, "--sr", "16000").code == 0
    time.sleep(1.1)  # libsndfile stamps a float WAV's PEAK chunk with the time, in whole seconds
    assert run_cli("sonify", picture, "-o", second, "--sr", "16000").code == 0
    assert first.read_bytes() == second.read_bytes()
    a, b = _record(first), _record(second)
    assert a["output"].pop("path") == str(first) and b["output"].pop("path") == str(second)
    assert a == b
    # Wall-clock seconds are recorded when asked, as invert's are.
    assert run_cli("sonify", picture, "-o", tmp_path / "t.wav", "--timings").code == 0
    assert _record(tmp_path / "t.wav")["wall_seconds"]["total"] >= 0


def test_every_command_records_the_current_version(tmp_path):
    speech, rate = sf.read(SAMPLES / "LJ001-0006.wav")
    sf.write(tmp_path / "clip.wav", speech[: rate // 2], rate)
    picture = _picture(tmp_path / "in.png")
    commands = {
        "pattern": (["pattern", "text", "-o", tmp_path / "p.png", "--duration", "0.5"], tmp_path / "p.png"),
        "sonify": (["sonify", picture, "-o", tmp_path / "s.wav"], tmp_path / "s.wav"),
        "desonify": (["desonify", tmp_path / "s.wav", "-o", tmp_path / "d.png"], tmp_path / "d.png"),
        "encode": (["encode", tmp_path / "clip.wav", "-o", tmp_path / "e.png"], None),
        "invert": (["invert", tmp_path / "e.png", "-o", tmp_path / "i.wav", "--iters", "2"], tmp_path / "i.wav"),
        "invert block-wise": (["invert", tmp_path / "e.png", "-o", tmp_path / "b.wav", "--iters", "2",
                               "--block-seconds", "0.5"], tmp_path / "b.wav"),
        "bench": (["bench", tmp_path / "clip.wav", "--out", tmp_path / "bench", "--backends", "fgla:iters=2",
                   "--metrics", "sc_db"], None),
    }
    records = {}
    for name, (argv, output) in commands.items():
        result = run_cli(*argv)
        assert result.code == 0, (name, result)
        if output is not None:
            records[name] = _record(output)
    for path in (tmp_path / "bench" / "audio").glob("*.json"):
        records[f"bench {path.name}"] = json.loads(path.read_text())
    assert len(records) == 6  # five commands, one bench output
    assert {name: r["vocoder_record"] for name, r in records.items()} == dict.fromkeys(records, RECORD_VERSION)


def test_encode_embeds_the_record_version_in_the_png(tmp_path):
    from vocoder.frontend.picture import read_metadata

    speech, rate = sf.read(SAMPLES / "LJ001-0006.wav")
    sf.write(tmp_path / "clip.wav", speech[: rate // 2], rate)
    for name, extra in (("whole.png", []), ("blocks.png", ["--block-seconds", "0.2"])):
        assert run_cli("encode", tmp_path / "clip.wav", "-o", tmp_path / name, *extra).code == 0
        assert read_metadata(str(tmp_path / name))["vocoder_record"] == RECORD_VERSION


def test_wall_seconds_only_with_timings(tmp_path):
    speech, rate = sf.read(SAMPLES / "LJ001-0006.wav")
    sf.write(tmp_path / "clip.wav", speech[rate: rate + rate // 2], rate)
    assert run_cli("encode", tmp_path / "clip.wav", "-o", tmp_path / "e.png").code == 0
    picture = _picture(tmp_path / "in.png")
    jobs = {
        "invert": ["invert", tmp_path / "e.png", "--iters", "2"],
        "invert block-wise": ["invert", tmp_path / "e.png", "--iters", "2", "--block-seconds", "0.2"],
        "sonify": ["sonify", picture],
    }
    for name, argv in jobs.items():
        for timings in (False, True):
            output = tmp_path / f"{name.replace(' ', '-')}-{timings}.wav"
            assert run_cli(*argv, "-o", output, *(["--timings"] if timings else [])).code == 0, name
            assert ("wall_seconds" in _record(output)) == timings, (name, timings)
    for timings in (False, True):
        out = tmp_path / f"bench-{timings}"
        assert run_cli("bench", tmp_path / "clip.wav", "--out", out, "--backends", "fgla:iters=2", "--metrics",
                       "sc_db", *(["--timings"] if timings else [])).code == 0
        (record,) = [json.loads(p.read_text()) for p in (out / "audio").glob("*.json")]
        assert ("wall_seconds" in record) == timings


def test_an_exported_model_file_carries_the_record_version_and_its_source(tmp_path):
    from pathlib import Path

    from vocoder.models.store import read_model_file
    from vocoder.provenance.hashing import sha256_file

    tiny = Path(__file__).resolve().parent.parent / "checkpoints" / "hifigan_tiny" / "hifigan_tiny-100batches.safetensors"
    out = tmp_path / "m.safetensors"
    assert run_cli("export", tiny, "-o", out, "--name", "renamed").code == 0
    meta, _ = read_model_file(str(out))
    assert meta["vocoder_record"] == RECORD_VERSION
    assert meta["name"] == "renamed"
    assert meta["source"] == {"kind": "model file", "file": tiny.name, "sha256": sha256_file(tiny)}
    # exported again: one version key, the new source
    again = tmp_path / "n.safetensors"
    assert run_cli("export", out, "-o", again).code == 0
    meta2, _ = read_model_file(str(again))
    assert meta2["vocoder_record"] == RECORD_VERSION and meta2["source"]["sha256"] == sha256_file(out)
    assert meta2["name"] == "renamed"

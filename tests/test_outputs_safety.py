"""Nothing is overwritten or lost; provenance keeps claims apart from facts;
reruns are byte-identical; every way a run can end badly is one line.

Each refusal case asserts: exit status 2, exactly one line on stderr and no
traceback, and no file in the folder changed, created or removed (contents,
size and modification time, hidden temporaries included).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from conftest import PROJECT, SAMPLES, run_cli, write_wav
from vocoder.provenance.hashing import sha256_file

SPEECH = SAMPLES / "LJ001-0006.wav"
TINY = PROJECT / "checkpoints" / "hifigan_tiny" / "hifigan_tiny-100batches.safetensors"
VOCODER = str(Path(sys.executable).parent / "vocoder")


# -- helpers --------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry below ``folder`` (hidden ones too) with what could change."""
    state = {}
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file" if path.is_file() else "other"
        digest = sha256_file(path) if kind == "file" else os.readlink(path) if kind == "link" else None
        state[str(path.relative_to(folder))] = (kind, st.st_size if kind == "file" else None, st.st_mtime_ns
                                                if kind == "file" else None, digest)
    return state


def assert_one_line(code: int, err: str, message: str) -> None:
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vocoder: error:"), lines[0]
    assert message in lines[0], lines[0]
    assert "Traceback" not in err


def vocoder(*args, cwd: Path | None = None, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    """The installed `vocoder` command in a fresh process (bytes allowed in args)."""
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run([VOCODER, *[a if isinstance(a, bytes) else str(a) for a in args]], cwd=cwd,
                          timeout=timeout, **kwargs)


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> Path:
    """speech.wav (a copy of the bundled clip) and its 16-bit hifigan PNG."""
    folder = tmp_path_factory.mktemp("encoded")
    shutil.copy(SPEECH, folder / "speech.wav")
    result = run_cli("encode", folder / "speech.wav", "-o", folder / "speech.png", "--preset", "hifigan")
    assert result.code == 0, result
    return folder / "speech.png"


@pytest.fixture
def work(tmp_path: Path, encoded: Path) -> Path:
    """A folder holding speech.png, speech.wav, a short clip and the tiny model."""
    shutil.copy(encoded, tmp_path / "speech.png")
    shutil.copy(encoded.parent / "speech.wav", tmp_path / "speech.wav")
    t = np.arange(22050) / 22050
    write_wav(tmp_path / "clip.wav", (0.3 * np.sin(2 * np.pi * (200 + 100 * t) * t))[:, None])
    shutil.copy(TINY, tmp_path / "tiny.safetensors")
    return tmp_path


# -- the README quick start, twice -------------------------------------------------


def test_quick_start_twice_keeps_the_recording_and_refuses_without_force(tmp_path):
    shutil.copy(SPEECH, tmp_path / "speech.wav")
    original = sha256_file(tmp_path / "speech.wav")
    quick_start = [["encode", "speech.wav", "-o", "speech.png", "--preset", "hifigan", "--preview"],
                   ["invert", "speech.png", "-o", "speech_fgla.wav"]]
    assert all(vocoder(*command, cwd=tmp_path).returncode == 0 for command in quick_start)
    first = snapshot(tmp_path)
    for command, existing in zip(quick_start, ("speech.png", "speech_fgla.wav")):
        again = vocoder(*command, cwd=tmp_path)
        assert_one_line(again.returncode, again.stderr.decode(), f"{existing} already exists; add --force")
    assert snapshot(tmp_path) == first and sha256_file(tmp_path / "speech.wav") == original


def test_inverting_back_onto_the_recording_is_refused_even_with_force(tmp_path):
    """The issue's case: encode speech.wav -o speech.png, invert speech.png -o speech.wav."""
    shutil.copy(SPEECH, tmp_path / "speech.wav")
    assert vocoder("encode", "speech.wav", "-o", "speech.png", cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path)
    plain = vocoder("invert", "speech.png", "-o", "speech.wav", cwd=tmp_path)
    assert_one_line(plain.returncode, plain.stderr.decode(), "is the recording speech.png was made from")
    forced = vocoder("invert", "speech.png", "-o", "speech.wav", "--force", cwd=tmp_path)
    assert_one_line(forced.returncode, forced.stderr.decode(), "is the recording speech.png was made from")
    assert snapshot(tmp_path) == before


# -- refusals: a table of named cases --------------------------------------------------


def _fifo(work: Path) -> str:
    os.mkfifo(work / "pipe.wav")
    return "pipe.wav"


def _pickled_checkpoint(work: Path) -> str:
    import argparse

    torch.save({"vocoder": {"model": "hifigan"}, "state_dict": {}, "hyper": argparse.Namespace(x=1)},
               work / "pickled.ckpt")
    return "pickled.ckpt"


def _foreign_checkpoint(work: Path) -> str:
    torch.save({"generator": {"conv_pre.weight": torch.zeros(2, 2)}}, work / "foreign.ckpt")
    return "foreign.ckpt"


def _misfit_checkpoint(work: Path) -> str:
    torch.save({"vocoder": {"model": "hifigan"}, "state_dict": {"generator.conv_pre.weight": torch.zeros(3, 3)},
                "optimizer_states": [], "loops": {}}, work / "misfit.ckpt")
    return "misfit.ckpt"


def _weights_only_checkpoint(work: Path) -> str:
    torch.save({"vocoder": {"model": "hifigan"}, "state_dict": {}}, work / "weights.ckpt")
    return "weights.ckpt"


def _training_config(work: Path) -> str:
    folder = work / "clips"
    folder.mkdir()
    t = np.arange(int(0.4 * 22050)) / 22050
    for i in range(4):
        sf.write(folder / f"c{i}.wav", (0.5 * np.sin(2 * np.pi * (150 + 40 * i + 200 * t) * t)).astype(np.float32),
                 22050)
    config = {
        "seed_everything": 7,
        "trainer": {"accelerator": "cpu", "devices": 1, "logger": False, "enable_progress_bar": False,
                    "enable_model_summary": False, "num_sanity_val_steps": 0, "check_val_every_n_epoch": None,
                    "default_root_dir": str(work), "max_steps": 2, "val_check_interval": 2,
                    "limit_val_batches": 1},
        "model": {
            "generator": {"class_path": "vocoder.models.HiFiGANGenerator",
                          "init_args": {"upsample_rates": [8, 8, 4], "upsample_kernel_sizes": [16, 16, 8],
                                        "upsample_initial_channel": 16, "resblock": "2",
                                        "resblock_kernel_sizes": [3], "resblock_dilation_sizes": [[1, 2]]}},
            "mpd": {"class_path": "vocoder.models.MultiPeriodDiscriminator",
                    "init_args": {"periods": [2, 3], "channels": [4, 4, 8, 8, 8]}},
            "msd": {"class_path": "vocoder.models.MultiScaleDiscriminator",
                    "init_args": {"scales": 2, "channels": [4, 4, 8, 8, 8, 8, 8]}},
            "log_audio": 0},
        "data": {"data_dir": str(folder), "segment": 1024, "batch_size": 2, "val_count": 1,
                 "val_max_seconds": 0.2},
    }
    (work / "train.yaml").write_text(yaml.safe_dump(config))
    return "train.yaml"


def _existing_run(work: Path) -> None:
    _training_config(work)
    (work / "runs" / "r").mkdir(parents=True)
    (work / "runs" / "r" / "notes.txt").write_text("an earlier run")


def _resume_inside(work: Path) -> None:
    _training_config(work)
    (work / "runs" / "r").mkdir(parents=True)
    torch.save({"vocoder": {"model": "hifigan"}, "state_dict": {}, "optimizer_states": [], "loops": {}},
               work / "runs" / "r" / "last.ckpt")


def _folder_with(work: Path, *names: str) -> None:
    (work / "out").mkdir()
    for name in names:
        shutil.copy(work / "clip.wav", work / "out" / name)


FIT = ("fit", "--config", "train.yaml", "--run", "r", "--checkpoint_root", "runs")

# (id, setup(work) -> None, command, message). Paths are relative to the work folder.
CASES = [
    # No command replaces an existing file or fills an existing folder without --force.
    ("encode-existing-png", lambda w: (w / "s.png").write_bytes(b"old"),
     ["encode", "clip.wav", "-o", "s.png"], "s.png already exists; add --force"),
    ("encode-existing-preview", lambda w: (w / "s.png.preview.png").write_bytes(b"old"),
     ["encode", "clip.wav", "-o", "s.png", "--preview"], "s.png.preview.png already exists; add --force"),
    ("invert-existing-audio", lambda w: (w / "o.wav").write_bytes(b"old"),
     ["invert", "speech.png", "-o", "o.wav"], "o.wav already exists; add --force"),
    ("invert-existing-record", lambda w: (w / "o.wav.json").write_text("{}"),
     ["invert", "speech.png", "-o", "o.wav"], "o.wav.json already exists; add --force"),
    ("invert-existing-preview", lambda w: (w / "o.wav.preview.png").write_bytes(b"old"),
     ["invert", "speech.png", "-o", "o.wav", "--preview"], "o.wav.preview.png already exists; add --force"),
    ("bench-non-empty-out", lambda w: _folder_with(w, "old.wav"),
     ["bench", "clip.wav", "--out", "out"], "out is not empty; add --force"),
    ("export-existing", lambda w: (w / "m.safetensors").write_bytes(b"old"),
     ["export", "tiny.safetensors", "-o", "m.safetensors"], "m.safetensors already exists; add --force"),
    ("fit-run-folder-in-use", _existing_run, [*FIT], "already holds files from an earlier run; add --force"),
    # An output is never an input, --force or not: same path, link, hard link, spelling.
    ("invert-onto-input", lambda w: shutil.copy(w / "speech.png", w / "pic.wav"),
     ["invert", "pic.wav", "-o", "pic.wav", "--force"], "is the input pic.wav (the same file)"),
    ("invert-onto-symlinked-input", lambda w: (shutil.copy(w / "speech.png", w / "pic.wav"),
                                                os.symlink("pic.wav", w / "link.wav")),
     ["invert", "pic.wav", "-o", "link.wav", "--force"], "is the input pic.wav"),
    ("invert-onto-hard-linked-input", lambda w: (shutil.copy(w / "speech.png", w / "pic.wav"),
                                                  os.link(w / "pic.wav", w / "hard.wav")),
     ["invert", "pic.wav", "-o", "hard.wav", "--force"], "is the input pic.wav"),
    ("invert-onto-input-spelled-otherwise", lambda w: (shutil.copy(w / "speech.png", w / "pic.wav"),
                                                        (w / "sub").mkdir()),
     ["invert", "pic.wav", "-o", "sub/../pic.wav", "--force"], "is the input pic.wav"),
    ("invert-record-onto-input", lambda w: shutil.copy(w / "speech.png", w / "o.wav.json"),
     ["invert", "o.wav.json", "-o", "o.wav", "--force"], "is the input o.wav.json"),
    ("invert-preview-onto-input", lambda w: shutil.copy(w / "speech.png", w / "o.wav.preview.png"),
     ["invert", "o.wav.preview.png", "-o", "o.wav", "--preview", "--force"], "is the input o.wav.preview.png"),
    ("invert-onto-the-source-recording", None,
     ["invert", "speech.png", "-o", "speech.wav", "--force"], "is the recording speech.png was made from"),
    ("encode-onto-input", lambda w: shutil.copy(w / "clip.wav", w / "clip.png"),
     ["encode", "clip.png", "-o", "clip.png", "--force"], "is the input clip.png"),
    ("export-onto-input", None,
     ["export", "tiny.safetensors", "-o", "tiny.safetensors", "--force"], "is the input tiny.safetensors"),
    ("bench-out-holds-a-clip", lambda w: _folder_with(w, "a.wav"),
     ["bench", "out/a.wav", "--out", "out", "--force"], "holds the input out/a.wav"),
    ("bench-out-is-the-input-folder", lambda w: _folder_with(w, "a.wav"),
     ["bench", "out", "--out", "out", "--force"], "is the input out"),
    ("fit-resume-inside-its-run-folder", _resume_inside, [*FIT, "--ckpt_path", "runs/r/last.ckpt", "--force"],
     "resuming there would replace the checkpoint it starts from"),
    # Regular files only.
    ("invert-to-a-fifo", _fifo, ["invert", "speech.png", "-o", "pipe.wav", "--force"], "not a regular file"),
    ("invert-to-a-device", None, ["invert", "speech.png", "-o", "/dev/null", "--force"], "not a regular file"),
    ("invert-to-a-folder", lambda w: (w / "d.wav").mkdir(), ["invert", "speech.png", "-o", "d.wav", "--force"],
     "is a folder"),
    ("bench-out-is-a-file", None, ["bench", "clip.wav", "--out", "speech.wav", "--force"], "is not a folder"),
    # The format follows the extension, or is refused.
    ("invert-mp3", None, ["invert", "speech.png", "-o", "o.mp3"], "vocoder writes .wav, .flac, .ogg"),
    ("invert-no-extension", None, ["invert", "speech.png", "-o", "o"], "got no extension"),
    ("encode-jpeg", None, ["encode", "clip.wav", "-o", "s.jpg"], "give the output a .png name"),
    ("export-not-safetensors", None, ["export", "tiny.safetensors", "-o", "m.pt"], "must be a .safetensors"),
    # Missing, pickled and foreign checkpoints, for every training command.
    ("fit-missing-checkpoint", _training_config, [*FIT, "--ckpt_path", "nope.ckpt"], "checkpoint not found"),
    ("fit-pickled-checkpoint", lambda w: (_training_config(w), _pickled_checkpoint(w)),
     [*FIT, "--ckpt_path", "pickled.ckpt"], "holds pickled Python objects"),
    ("fit-foreign-checkpoint", lambda w: (_training_config(w), _foreign_checkpoint(w)),
     [*FIT, "--ckpt_path", "foreign.ckpt"], "not a vocoder training checkpoint"),
    ("fit-text-as-checkpoint", lambda w: (_training_config(w), (w / "notes.ckpt").write_text("hello")),
     [*FIT, "--ckpt_path", "notes.ckpt"], "not a PyTorch checkpoint"),
    ("fit-an-export-as-checkpoint", _training_config, [*FIT, "--ckpt_path", "tiny.safetensors"],
     "not a PyTorch checkpoint"),
    ("fit-weights-only-checkpoint", lambda w: (_training_config(w), _weights_only_checkpoint(w)),
     [*FIT, "--ckpt_path", "weights.ckpt"], "holds weights only"),
    ("fit-lightning-shorthand", _training_config, [*FIT, "--ckpt_path", "last"], "Lightning shorthand"),
    ("validate-missing-checkpoint", _training_config,
     ["validate", "--config", "train.yaml", "--ckpt_path", "gone.ckpt"], "checkpoint not found"),
    ("validate-pickled-checkpoint", lambda w: (_training_config(w), _pickled_checkpoint(w)),
     ["validate", "--config", "train.yaml", "--ckpt_path", "pickled.ckpt"], "holds pickled Python objects"),
    ("validate-checkpoint-of-another-model", lambda w: (_training_config(w), _misfit_checkpoint(w)),
     ["validate", "--config", "train.yaml", "--ckpt_path", "misfit.ckpt"], "does not fit the configured model"),
    ("test-foreign-checkpoint", lambda w: (_training_config(w), _foreign_checkpoint(w)),
     ["test", "--config", "train.yaml", "--ckpt_path", "foreign.ckpt"], "not a vocoder training checkpoint"),
    ("test-pickled-checkpoint", lambda w: (_training_config(w), _pickled_checkpoint(w)),
     ["test", "--config", "train.yaml", "--ckpt_path", "pickled.ckpt"], "holds pickled Python objects"),
]


@pytest.mark.parametrize("setup, command, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refusals_are_one_line_and_change_nothing(work, monkeypatch, setup, command, message):
    if setup is not None:
        setup(work)
    monkeypatch.chdir(work)
    before = snapshot(work)
    result = run_cli(*command)
    if command[0] in ("fit", "validate", "test"):
        # Lightning may have printed its banners before the refusal: ours is the last line, and alone.
        lines = result.err.strip().splitlines()
        assert result.code == 2 and lines and message in lines[-1], result
        assert sum(line.startswith("vocoder: error:") for line in lines) == 1 and "Traceback" not in result.err
    else:
        assert_one_line(result.code, result.err, message)
    assert snapshot(work) == before


# -- --force replaces, and only what it says -------------------------------------------


def test_force_replaces_an_output_and_the_record_says_the_format(work, monkeypatch):
    monkeypatch.chdir(work)
    for name, description in (("o.wav", "WAV, 16-bit PCM"), ("o.flac", "FLAC"), ("o.ogg", "Ogg Vorbis")):
        (work / name).write_bytes(b"old")
        result = run_cli("invert", "speech.png", "-o", name, "--iters", "4", "--force")
        assert result.code == 0, result
        info = sf.info(work / name)  # a real file of that format, not a WAV behind another name
        assert info.format == {"o.wav": "WAV", "o.flac": "FLAC", "o.ogg": "OGG"}[name]
        record = json.loads((work / f"{name}.json").read_text())
        assert record["output"]["format"].startswith(description)
        assert record["output"]["sha256"] == sha256_file(work / name)
    assert not [p for p in work.iterdir() if ".part" in p.name]


def test_bench_force_replaces_the_folder_contents(work, monkeypatch):
    monkeypatch.chdir(work)
    _folder_with(work, "stale.wav")
    result = run_cli("bench", "clip.wav", "--out", "out", "--force", "--backends", "fgla", "--iters", "2",
                     "--metrics", "sc_db", "--report-audio", "none")
    assert result.code == 0, result
    assert not (work / "out" / "stale.wav").exists() and (work / "out" / "results.csv").exists()
    assert not [p for p in work.iterdir() if p.name.startswith(".out.")]


# -- byte-identical reruns --------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_invert_rerun_writes_the_same_bytes(work, monkeypatch):
    monkeypatch.chdir(work)
    outputs = {}
    for run in (1, 2):  # first in a fresh process, then again in this one
        for name in ("o.wav", "o.flac", "o.ogg"):
            args = ("invert", "speech.png", "-o", name, "--iters", "8", "--seed", "3", "--preview", "--force")
            if run == 1:
                result = vocoder(*args, cwd=work)
                assert result.returncode == 0, result.stderr
            else:
                assert run_cli(*args).code == 0
        outputs[run] = {k: v for k, v in _files(work).items() if k.startswith("o.")}
    assert len(outputs[1]) == 9  # 3 formats × (audio, record, preview)
    assert outputs[1] == outputs[2]


def test_bench_rerun_writes_the_same_bytes(work, monkeypatch):
    monkeypatch.chdir(work)
    command = ["bench", "clip.wav", "--out", "out", "--force", "--backends", "fgla,pghi", "--iters", "4"]
    assert run_cli(*command).code == 0
    first = _files(work / "out")
    assert run_cli(*command).code == 0
    assert first.keys() == _files(work / "out").keys() and len(first) > 10
    changed = [name for name, data in _files(work / "out").items() if first[name] != data]
    assert changed == []


# -- provenance: claims apart from facts -------------------------------------------------


def _reencode(source: Path, target: Path, edit_pixels=None, edit_metadata=None) -> None:
    """Rewrite a vocoder PNG with edited pixels and/or metadata (what a forger could do)."""
    from vocoder.frontend.picture import METADATA_KEY, encode_png, read_picture
    from vocoder.frontend.png_stream import iter_rows

    picture = read_picture(source)
    pixels = np.stack(list(iter_rows(str(source))))[..., 0].astype(np.uint16)
    meta = dict(picture.metadata)
    if edit_pixels:
        edit_pixels(pixels)
    if edit_metadata:
        edit_metadata(meta)
    target.write_bytes(encode_png(pixels, {METADATA_KEY: json.dumps(meta)}))


def test_an_honest_image_has_its_claims_recorded_and_confirmed(work):
    result = run_cli("invert", work / "speech.png", "-o", work / "o.wav", "--iters", "2")
    assert result.code == 0 and "warning" not in result.err, result
    record = json.loads((work / "o.wav.json").read_text())
    claimed = record["claimed"]["metadata"]
    assert claimed["source"]["sha256"] == sha256_file(work / "speech.wav")  # a claim, kept verbatim
    assert record["verified"]["sha256"]["input"] == sha256_file(work / "speech.png")  # a fact, computed here
    assert {c["claim"] for c in record["verified"]["claim_checks"]} >= {
        "n_samples (as frames, the image width)", "fraction_below_range (the share of zero pixels)",
        "the brightest pixel (the peak is 0 dB)", "source.sha256"}
    assert all(c["agrees"] for c in record["verified"]["claim_checks"]) and record["claim_mismatches"] == []


@pytest.mark.parametrize("edit_pixels, edit_metadata, claim", [
    (lambda px: px.__setitem__((slice(30, 40), slice(100, 110)), 0), None, "fraction_below_range"),
    (lambda px: np.minimum(px, 60000, out=px), None, "the brightest pixel"),
    (None, lambda m: m.__setitem__("n_samples", m["n_samples"] * 3), "n_samples"),
    (None, lambda m: m["source"].__setitem__("sha256", "0" * 64), "source.sha256"),
], ids=["painted-over", "dimmed", "forged-length", "forged-source-hash"])
def test_a_claim_the_file_contradicts_is_reported(work, edit_pixels, edit_metadata, claim):
    _reencode(work / "speech.png", work / "forged.png", edit_pixels, edit_metadata)
    result = run_cli("invert", work / "forged.png", "-o", work / "o.wav", "--iters", "2")
    assert result.code == 0, result
    warnings = [line for line in result.err.splitlines() if line.startswith("vocoder: warning:")]
    assert warnings and all("forged.png" in w for w in warnings), result.err
    assert any(f"claims {claim}" in w for w in warnings), result.err
    record = json.loads((work / "o.wav.json").read_text())
    assert [f"vocoder: warning: {m}" for m in record["claim_mismatches"]] == warnings
    assert any(c["claim"].startswith(claim) and not c["agrees"] for c in record["verified"]["claim_checks"])
    if claim == "n_samples":  # the length comes from the pixels, not from the forged claim
        assert record["output"]["samples"] < 2 * sf.info(work / "speech.wav").frames


# -- disk full, closed pipes, names that are not UTF-8 -------------------------------------


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize("command", [
    ["invert", "speech.png", "-o", "o.wav", "--iters", "2", "--preview"],
    ["encode", "speech.wav", "-o", "s.png", "--preview"],
    ["bench", "clip.wav", "--out", "out", "--backends", "fgla", "--iters", "2", "--metrics", "sc_db"],
    ["export", "tiny.safetensors", "-o", "e.safetensors"],
], ids=["invert", "encode", "bench", "export"])
def test_a_write_that_fails_for_lack_of_space_is_one_line_and_leaves_nothing(work, command):
    before = snapshot(work)
    result = vocoder(*command, cwd=work, preexec_fn=_limit_file_size(20_000))
    assert_one_line(result.returncode, result.stderr.decode(), "cannot write")
    assert snapshot(work) == before


def test_a_checkpoint_that_cannot_be_written_stops_training_in_one_line(work):
    _training_config(work)
    result = vocoder(*FIT, cwd=work, preexec_fn=_limit_file_size(20_000))
    err = result.stderr.decode()
    assert result.returncode == 2 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("vocoder: error: cannot write"), err
    run = work / "runs" / "r"
    assert not list(run.glob("*.ckpt")) and not list(run.glob(".*"))  # no partial checkpoint, no temporary


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1) to mount a small tmpfs")
def test_a_full_disk_is_one_line_and_leaves_nothing(work):
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("user namespaces are not available here")
    disk = work / "disk"
    disk.mkdir()
    script = (f'mount -t tmpfs -o size=96k tmpfs "{disk}" && cd "{disk}" && cp ../speech.png . && '
              f'"{VOCODER}" invert speech.png -o o.wav --iters 2 --preview; echo "rc=$?"; ls -A')
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=600)
    assert result.stdout.split() == ["rc=2", "speech.png"], result
    assert_one_line(2, result.stderr, "No space left on device")


def test_output_to_a_closed_pipe_is_one_line(work):
    for command in (["info", "speech.png"], ["backends"]):
        read_end, write_end = os.pipe()
        os.close(read_end)  # nobody will read: every write fails with EPIPE
        try:
            result = vocoder(*command, cwd=work, stdout=write_end, stderr=subprocess.PIPE)
        finally:
            os.close(write_end)
        assert_one_line(result.returncode, result.stderr.decode(), "standard output was closed")


def test_piping_into_head_ends_cleanly(work):
    result = subprocess.run(f'"{VOCODER}" info speech.png | head -1; exit "${{PIPESTATUS[0]}}"', shell=True,
                            executable="/bin/bash", cwd=work, capture_output=True, text=True, timeout=600)
    assert result.stdout.startswith("speech.png: spectrogram image written by vocoder")
    assert result.returncode in (0, 2) and "Traceback" not in result.stderr  # 0 if it finished before head left
    assert len(result.stderr.strip().splitlines()) == (result.returncode == 2)


def test_file_names_that_are_not_utf8_work_end_to_end(work):
    folder = os.fsencode(work)
    os.rename(work / "clip.wav", os.path.join(folder, b"voice\xff.wav"))
    assert vocoder("encode", b"voice\xff.wav", "-o", b"spec\xfe.png", "--preview", cwd=work).returncode == 0
    result = vocoder("invert", b"spec\xfe.png", "-o", b"back\xfd.flac", "--iters", "2", cwd=work)
    assert result.returncode == 0, result.stderr
    assert b"back" in result.stdout
    with open(os.path.join(folder, b"back\xfd.flac.json"), encoding="utf-8") as fh:  # valid UTF-8 JSON
        record = json.load(fh)
    assert record["input"]["path"].endswith("spec\ufffd.png")  # shown, not lost: U+FFFD for the bad byte
    missing = vocoder("invert", b"gone\xff.png", "-o", b"x.wav", cwd=work)
    assert_one_line(missing.returncode, missing.stderr.decode("utf-8"), "image file not found: gone\ufffd.png")


# -- SIGINT and SIGTERM at any point ---------------------------------------------------------


def _wait_for(predicate, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the command never got there"
        time.sleep(0.05)


def _stopped(process: subprocess.Popen, signum: int) -> str:
    process.send_signal(signum)
    _, err = process.communicate(timeout=300)
    return err.decode()


def _holds_temporaries(process: subprocess.Popen, folder: Path) -> bool:
    """Whether the command holds a temporary in ``folder`` open: a nameless one
    (O_TMPFILE, shown as deleted) or a named ``.part`` file."""
    links = []
    for fd in Path(f"/proc/{process.pid}/fd").glob("*"):
        try:
            links.append(os.readlink(fd))
        except OSError:
            continue
    return any(link.startswith(f"{folder}/") and (link.endswith("(deleted)") or ".part" in link) for link in links)


def _start(work: Path, *args) -> subprocess.Popen:
    return subprocess.Popen([VOCODER, *map(str, args)], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_inversion_leaves_nothing(work, signum):
    before = snapshot(work)
    process = _start(work, "invert", "speech.png", "-o", "o.wav", "--iters", "100000", "--preview")
    _wait_for(lambda: _holds_temporaries(process, work), process)  # temporaries reserved: working
    time.sleep(1.0)
    err = _stopped(process, signum)
    assert process.returncode == 2
    assert err.strip().splitlines() == [f"vocoder: stopped by {signal.Signals(signum).name} before finishing; "
                                        "unfinished outputs were removed"]
    assert snapshot(work) == before


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_bench_pitch_tracking_leaves_nothing(work, signum, shared_data):
    clip = shared_data / "audio" / "ljspeech" / "LJ001-0008.wav"
    before = snapshot(work)
    process = _start(work, "bench", clip, "--out", "out", "--backends", "fgla", "--iters", "2")
    # The encoded PNG is written just before the reference's pitch is tracked.
    _wait_for(lambda: any(work.glob(".out.partial-*/images/*.png")), process)
    time.sleep(0.3)
    err = _stopped(process, signum)
    assert process.returncode == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(f"vocoder: stopped by {signal.Signals(signum).name}")
    assert snapshot(work) == before


@pytest.mark.parametrize("delay", [1.0, 3.0, 6.0])
def test_sigint_at_any_moment_of_a_short_command(work, delay):
    before = snapshot(work)
    process = _start(work, "encode", "speech.wav", "-o", "s.png", "--preview")
    time.sleep(delay)
    err = _stopped(process, signal.SIGINT)
    if process.returncode == 0:  # it finished first: then its outputs are whole
        assert (work / "s.png").exists() and (work / "s.png.preview.png").exists()
        return
    assert process.returncode == 2, err
    assert err.strip().splitlines() == ["vocoder: stopped by SIGINT before finishing; unfinished outputs were removed"]
    assert snapshot(work) == before


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_training_keeps_complete_checkpoints_only(work, signum):
    _training_config(work)
    process = _start(work, *FIT, "--trainer.max_steps", "100000")
    run = work / "runs" / "r"
    _wait_for(lambda: (run / "last.ckpt").exists(), process, timeout=600)
    time.sleep(0.5)
    err = _stopped(process, signum)
    assert process.returncode == 2, err
    assert err.strip().splitlines()[-1].startswith(f"vocoder: stopped by {signal.Signals(signum).name}")
    assert "Traceback" not in err
    leftovers = [p.name for p in run.iterdir() if p.name.startswith(".") or ".part" in p.name]
    assert leftovers == []
    checkpoint = torch.load(run / "last.ckpt", weights_only=True)  # complete and loadable
    assert checkpoint["vocoder"]["trained_batches"] >= 2

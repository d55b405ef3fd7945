"""Every mistake a user can make, and every file an attacker can craft, is
one line on stderr and exit status 2: no traceback, no "internal error", no
library banner, no file created or changed, and memory under the cap.

Each named case runs `vocoder` in a child process with an address-space
limit (tests/limited.py), so a case that regresses into allocating
gigabytes fails the test instead of the machine.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import hostile as h
from conftest import SAMPLES
from limited import GiB, run_cases

# The cap every case runs under, and the address space a child may add to
# what it inherits. Importing torch and vocoder leaves a process at ~3.2 GiB
# of address space; a normal encode or invert then adds 110-450 MiB
# (measured with tests/limited.py: VmPeak - VmSize). The allowance is the
# 2 GiB cap plus 1 GiB for address space reserved but never touched.
CAP = "2G"
CAP_BYTES = 2 * GiB
ADDRESS_SPACE = 3 * GiB


@dataclass
class Case:
    id: str
    kind: str
    argv: list[str]
    expect: str  # a fragment of the one line
    files: dict[str, bytes] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    cap: str | None = CAP


def _tiny_picture() -> bytes:
    return h.picture(40, 30)


def _cases() -> list[Case]:
    cases: list[Case] = []
    enc = h.encoded_png()
    good_wav = h.wav()

    def image(id_, data, expect, *extra, name="x.png"):
        cases.append(Case(id_, "image file", ["invert", name, "-o", "out.wav", *extra], expect, {name: data}))

    image("empty", b"", "empty (0 bytes)")
    image("truncated-png", enc[: len(enc) // 2], "truncated")
    image("random-bytes", np.random.default_rng(1).bytes(4000), "not an image vocoder can read")
    image("wav-named-png", good_wav, "its content is a WAV audio file")
    image("flac-named-png", h.wav(fmt="FLAC"), "its content is a FLAC audio file")
    image("zip-named-png", h.zip_bytes({"a": b"b"}), "its content is a zip archive")
    image("zero-width", h.png(0, 10), "zero size")
    image("bomb-header", h.png(40000, 40000, idat=zlib_small()), "decompression bomb")
    image("too-wide", h.png(2_000_000, 2, idat=zlib_small()), "per side")
    image("one-pixel", h.picture(1, 1), "too small to be a spectrogram")
    image("one-row", h.picture(300, 1), "too small to be a spectrogram")
    image("three-columns", h.picture(3, 100), "too small to be a spectrogram")
    image("gif-needs-frame", h.picture(32, 32, "P", "GIF", frames=3), "name the one to use with --frame", name="x.gif")
    image("tiff-needs-frame", h.picture(32, 32, "L", "TIFF", frames=3), "--frame N (0..2)", name="x.tif")
    image("apng-needs-frame", h.picture(32, 32, "L", "PNG", frames=2), "holds 2 frames")
    image("frame-out-of-range", h.picture(32, 32, "P", "GIF", frames=3), "--frame 7 is out of range", "--frame", "7",
          name="x.gif")
    image("idat-bomb-16bit", h.png(64, 64, 16, idat=zlib_bomb(16 * 2**20)), "decompression bomb")
    image("idat-bomb-16bit-rgb", h.png(32, 32, 16, 2, idat=zlib_bomb(16 * 2**20)), "decompression bomb")
    image("truncated-jpeg", h.picture(64, 64, "RGB", "JPEG")[:300], "truncated")
    image("bad-crc", corrupt_crc(h.picture(64, 64)), "cannot")
    image("bmp-bomb-header", bmp_header(60000, 60000), "decompression bomb", name="x.bmp")
    image("gif-bomb-header", gif_header(65535, 65535), "decompression bomb", name="x.gif")
    image("png-is-a-folder", b"", "is a folder, not a file", name="folder")
    image("name-not-utf8", np.random.default_rng(4).bytes(100), "not an image", name="bad-\udcff-name.png")
    image("16bit-garbage-data", h.png(8, 8, 16, 0, idat=b"garbage"), "cannot decode")

    def audio(id_, data, expect, *extra, name="x.wav"):
        cases.append(Case(id_, "audio file", ["encode", name, "-o", "out.png", *extra], expect, {name: data}))

    audio("empty", b"", "empty (0 bytes)")
    audio("name-not-utf8", b"", "empty (0 bytes)", name="bad-\udcfe.wav")
    audio("random-bytes", np.random.default_rng(2).bytes(5000), "cannot read audio")
    audio("png-named-wav", h.picture(16, 16), "its content is a PNG image")
    audio("zip-named-wav", h.zip_bytes({"a": b"b"}), "its content is a zip archive")
    audio("truncated-header", good_wav[:30], "cannot read audio")
    audio("no-samples", h.wav(samples=np.zeros((0, 1))), "holds no samples")
    audio("silent", h.wav(samples=np.zeros((22050, 1))), "silent")
    audio("nan-samples", h.wav(samples=np.array([[0.1], [np.nan]] * 2000), subtype="FLOAT"), "NaN")
    audio("too-short", h.wav(samples=np.full((100, 1), 0.1)), "too short")
    audio("too-many-channels", h.wav(samples=np.full((2000, 65), 0.1)), "channels")
    audio("mono-sample-rate-1", h.wav(samples=np.full((4000, 1), 0.1), rate=1), "needs about")  # 1 Hz → 22 050 Hz
    audio("coprime-rate-resampler", h.wav(seconds=0.2, rate=22051), "needs about")
    audio("flac-named-wav-ok-but-silent", h.wav(samples=np.zeros((5000, 1)), fmt="FLAC"), "silent")
    audio("three-channels-to-png", h.wav(channels=3), "mono or stereo")

    def meta(id_, data, expect):
        cases.append(Case(id_, "embedded metadata", ["invert", "x.png", "-o", "out.wav", "--iters", "1"], expect,
                          {"x.png": data}))

    meta("not-json", h.encoded_png(raw_text="{not json"), "not valid JSON")
    meta("json-array", h.encoded_png(raw_text="[1, 2]"), "not a JSON object")
    meta("json-nan", h.encoded_png(raw_text='{"format": NaN}'), "not valid JSON")
    meta("deeply-nested", h.encoded_png(raw_text='{"a": ' + h.nested(100_000) + "}"), "deeper than")
    meta("moderately-nested", h.encoded_png(raw_text='{"a": ' + h.nested(200) + "}"), "deeper than")
    meta("huge-json", h.encoded_png(raw_text='{"a": "' + "x" * 2_000_000 + '"}'), "over the limit")
    meta("wrong-format", h.encoded_png(h.with_field("format", "other")), "is not a vocoder.spectrogram record")
    meta("wrong-version", h.encoded_png(h.with_field("version", 99)), "version 99 is not supported")
    meta("spec-null", h.encoded_png(h.with_field("spec", None)), "must be a JSON object")
    meta("spec-string-rate", h.encoded_png(h.with_field("spec.sample_rate", "22050")), "sample_rate must be a whole")
    meta("spec-float-fft", h.encoded_png(h.with_field("spec.n_fft", 1e30)), "n_fft must be a whole number")
    meta("spec-huge-fft", h.encoded_png(h.with_field("spec.n_fft", 2**40)), "n_fft must be in")
    meta("spec-negative-rate", h.encoded_png(h.with_field("spec.sample_rate", -22050)), "sample_rate must be in")
    meta("spec-huge-rate", h.encoded_png(h.with_field("spec.sample_rate", 10**12)), "sample_rate must be in")
    meta("spec-zero-hop", h.encoded_png(h.with_field("spec.hop_length", 0)), "hop_length must be in")
    meta("spec-bool-hop", h.encoded_png(h.with_field("spec.hop_length", True)), "hop_length must be a whole")
    meta("spec-list-fmax", h.encoded_png(h.with_field("spec.axis.fmax", [1, 2])), "fmax must be a number")
    meta("spec-huge-mels", h.encoded_png(h.with_field("spec.axis.n_mels", 10**9)), "n_mels")
    meta("spec-unknown-field", h.encoded_png(h.with_field("spec.evil", 1)), "unknown spectrogram spec field")
    meta("spec-bad-window", h.encoded_png(h.with_field("spec.window", "x" * 10_000)), "window must be one of")
    meta("mapping-missing", h.encoded_png(h.with_field("mapping", {})), "incomplete")
    meta("mapping-32-bits", h.encoded_png(h.with_field("mapping.bits", 32)), "8 or 16 bits")
    meta("mapping-huge-db", h.encoded_png(h.with_field("mapping.db_min", -1e308)), "db_min")
    meta("mapping-string-db", h.encoded_png(h.with_field("mapping.db_max", "0")), "db_max must be a finite")
    meta("mapping-zero-reference", h.encoded_png(h.with_field("mapping.reference", 0)), "reference amplitude")
    meta("mapping-huge-reference", h.encoded_png(h.with_field("mapping.reference", 1e300)), "reference amplitude")
    meta("layout-list", h.encoded_png(h.with_field("layout", [1])), "channels must be")
    meta("three-channels", h.encoded_png(h.with_field("layout.channels", ["a", "b", "c"])), "channels must be")
    meta("n-samples-huge", h.encoded_png(h.with_field("n_samples", 10**15)), "n_samples")
    meta("n-samples-negative", h.encoded_png(h.with_field("n_samples", -5)), "n_samples")
    meta("n-samples-string", h.encoded_png(h.with_field("n_samples", "11025")), "n_samples")
    meta("provenance-string", h.encoded_png(h.with_field("provenance", "trust me")), "provenance must be a list")
    meta("spec-disagrees-with-height", h.encoded_png(h.with_field("spec.axis.n_mels", 100)), "pixels tall")

    def option(id_, argv, expect, files=None):
        cases.append(Case(id_, "option", argv, expect, files or {"p.png": _tiny_picture(), "a.wav": good_wav}))

    inv = ["invert", "p.png", "-o", "out.wav"]
    option("duration-huge", inv + ["--duration", "1e300"], "--duration must be")
    option("duration-nan", inv + ["--duration", "nan"], "--duration must be a finite number")
    option("duration-negative", inv + ["--duration=-3"], "--duration must be a positive")
    option("duration-too-short", inv + ["--duration", "0.001"], "shorter than one STFT frame")
    option("blur-huge", inv + ["--blur", "1e9"], "--blur must be in")
    option("blur-nan", inv + ["--blur", "nan"], "--blur must be a finite number")
    option("blur-negative", inv + ["--blur=-1"], "--blur must be in")
    option("db-range-inverted", inv + ["--db-range", "0", "-10"], "--db-range needs")
    option("db-range-huge", inv + ["--db-range", "-1e9", "0"], "--db-range")
    option("db-range-inf", inv + ["--db-range", "-inf", "0"], "--db-range")
    option("iters-huge", inv + ["--iters", "1" + "0" * 20], "--iters must be a whole number in")
    option("iters-float", inv + ["--iters", "1.5"], "--iters must be a whole number")
    option("seed-negative", inv + ["--seed=-1"], "--seed must be in 0..")
    option("seed-huge", inv + ["--seed", str(2**80)], "--seed must be in 0..")
    option("momentum-nan", inv + ["--momentum", "nan"], "--momentum must be a finite number")
    option("momentum-huge", inv + ["--momentum", "5"], "--momentum must be in [0, 2)")
    option("tol-inf", inv + ["--backend", "pghi", "--tol", "inf"], "--tol must be a finite number")
    option("tol-zero", inv + ["--backend", "pghi", "--tol", "0"], "--tol must be")
    option("frame-negative", inv + ["--frame=-1"], "expected a number >= 0")
    option("max-pixels-word", inv + ["--max-pixels", "lots"], "expected a whole number")
    option("max-memory-word", inv + ["--max-memory", "lots"], "a memory size looks like")
    option("max-memory-zero", inv + ["--max-memory", "0"], "below 1 MiB")
    option("env-max-memory-word", inv, "VOCODER_MAX_MEMORY: a memory size", )
    cases[-1].env, cases[-1].cap = {"VOCODER_MAX_MEMORY": "plenty"}, None
    enc_cmd = ["encode", "a.wav", "-o", "out.png"]
    option("dynamic-range-huge", enc_cmd + ["--dynamic-range", "1e308"], "--dynamic-range must be in")
    option("dynamic-range-nan", enc_cmd + ["--dynamic-range", "nan"], "--dynamic-range must be in")
    option("dynamic-range-negative", enc_cmd + ["--dynamic-range=-5"], "--dynamic-range must be in")
    option("bits-12", enc_cmd + ["--bits", "12"], "invalid choice")
    option("unknown-preset", enc_cmd + ["--preset", "nope"], "unknown preset")

    def bench(id_, backends, expect):
        cases.append(Case(id_, "bench option", ["bench", "a.wav", "--backends", backends, "--out", "b",
                                                "--metrics", "sc_db"], expect, {"a.wav": good_wav}))

    bench("seed-word", "pghi:seed=abc", "--seed must be a whole number (got 'abc')")
    bench("seed-negative", "pghi:seed=-5", "--seed must be in 0..")
    bench("seed-huge", f"fgla:seed={2**70}", "--seed must be in 0..")
    bench("seed-float", "fgla:seed=1.5", "--seed must be a whole number")
    bench("iters-negative", "fgla:iters=-1", "--iters must be a whole number in")
    bench("iters-huge", "fgla:iters=1e99", "--iters must be a whole number")
    bench("momentum-nan", "fgla:momentum=nan", "--momentum must be a finite number")
    bench("momentum-word", "fgla:momentum=abc", "--momentum must be a finite number")
    bench("momentum-inf", "fgla:momentum=inf", "--momentum must be a finite number")
    bench("init-word", "griffinlim:init=sideways", "--init must be one of")
    bench("unknown-key", "fgla:speed=9", "does not take --speed")
    bench("no-equals", "fgla:iters", "is not KEY=VALUE")
    bench("tol-above-one", "pghi:tol=2", "--tol must be")
    bench("unknown-backend", "wavenet", "unknown backend")

    def model(id_, data, expect, name="m.safetensors"):
        cases.append(Case(id_, "checkpoint", ["invert", "p.png", "-o", "out.wav", "--backend", "hifigan",
                                              "--checkpoint", name], expect, {"p.png": _tiny_picture(), name: data}))

    model("random-safetensors", np.random.default_rng(3).bytes(3000), "cannot read")
    model("empty-safetensors", b"", "cannot read")
    model("huge-header-length", (2**60).to_bytes(8, "little") + b"{}", "cannot read")
    model("no-metadata", h.safetensors_model(no_metadata=True), "has no 'vocoder' metadata")
    model("metadata-not-json", h.safetensors_model(raw_meta="{oops"), "not valid JSON")
    model("metadata-nested", h.safetensors_model(raw_meta=h.nested(50_000)), "deeper than")
    model("metadata-array", h.safetensors_model(raw_meta="[]"), "not a JSON object")
    model("wrong-model", h.safetensors_model({"model": "wavenet"}), "holds a 'wavenet' model")
    model("spec-bad", h.safetensors_model({"model": "hifigan", "spec": {"sample_rate": -1}}), "spectrogram spec")
    base_meta = {"format": 1, "model": "hifigan", "spec": __import__("vocoder.spec", fromlist=["x"]).get_preset(
        "hifigan").to_dict()}
    for id_, change, expect in [
        ("width-absurd", {"upsample_initial_channel": 10**9}, "upsample_initial_channel must be a whole number in"),
        ("width-nan", {"upsample_initial_channel": "NaN"}, "upsample_initial_channel must be a whole number"),
        ("width-float", {"upsample_initial_channel": 16.5}, "upsample_initial_channel must be a whole number"),
        ("rates-huge-list", {"upsample_rates": [2] * 1000}, "upsample_rates must be a list"),
        ("rate-zero", {"upsample_rates": [0, 8, 4]}, "upsample_rates must be a whole number"),
        ("kernel-negative", {"resblock_kernel_sizes": [-3]}, "resblock_kernel_sizes"),
        ("resblock-3", {"resblock": "3"}, "resblock must be"),
        ("hop-mismatch", {"upsample_rates": [8, 8, 2], "upsample_kernel_sizes": [16, 16, 4]}, "does not fit its spec"),
        ("bands-mismatch", {"in_channels": 100}, "does not fit its spec"),
        ("unknown-key", {"evil": 1}, "unknown"),
        ("width-fits-limits-not-memory", {"upsample_initial_channel": 8192, "resblock_kernel_sizes": [63, 63, 63],
                                          "resblock_dilation_sizes": [[1, 2, 3]] * 3}, "needs about"),
    ]:
        model(f"generator-{id_}", h.safetensors_model({**base_meta, "generator": h.generator_config(**change)}),
              expect)
    ckpt = "m.ckpt"
    model("ckpt-empty", b"", "is not a PyTorch checkpoint", name=ckpt)
    model("ckpt-png", h.picture(8, 8), "is not a PyTorch checkpoint", name=ckpt)
    model("ckpt-zip-random", h.zip_bytes({"archive/data.pkl": b"\x80\x02garbage"}), "cannot read checkpoint", name=ckpt)
    model("ckpt-zip-compressed", h.zip_bytes({"archive/data.pkl": b"\0" * 10000}, zipfile.ZIP_DEFLATED),
          "compressed entries", name=ckpt)
    model("missing-checkpoint", b"", "checkpoint not found", name="elsewhere/none.ckpt")

    def memory(id_, argv, expect, files, cap=CAP, env=None):
        cases.append(Case(id_, "memory cap", argv, expect, files, env or {}, cap))

    speech = (SAMPLES / "LJ001-0006.wav").read_bytes()
    memory("invert-under-tiny-cap", ["invert", "p.png", "-o", "out.wav"], "over the limit of 400 MiB (--max-memory)",
           {"p.png": _tiny_picture()}, cap="400M")
    memory("env-cap", ["invert", "p.png", "-o", "out.wav"], "(VOCODER_MAX_MEMORY)",
           {"p.png": _tiny_picture()}, cap=None, env={"VOCODER_MAX_MEMORY": "450M"})
    memory("duration-five-hours", ["invert", "p.png", "-o", "out.wav", "--duration", "18000"], "needs about",
           {"p.png": _tiny_picture()})
    memory("duration-hours-mel", ["invert", "p.png", "-o", "out.wav", "--duration", "7200", "--preset", "hifigan"],
           "largest step", {"p.png": _tiny_picture()})
    memory("wide-picture-pghi", ["invert", "w.png", "-o", "out.wav", "--backend", "pghi"], "needs about",
           {"w.png": h.png(150_000, 600, idat=zlib_rows(150_000, 600))})
    memory("encode-under-tiny-cap", ["encode", "a.wav", "-o", "out.png"], "over the limit", {"a.wav": speech},
           cap="400M")
    memory("bench-coprime-rate", ["bench", "a.wav", "--out", "b", "--backends", "fgla"], "needs about",
           {"a.wav": h.wav(seconds=0.3, rate=22051)})
    memory("bench-under-tiny-cap", ["bench", "a.wav", "--out", "b", "--backends", "fgla"], "over the limit",
           {"a.wav": speech}, cap="450M")
    return cases


def zlib_small() -> bytes:
    return zlib.compress(b"\0" * 100)


def zlib_bomb(size: int) -> bytes:
    """Deflate of ``size`` zero bytes: ~1000:1."""
    inflater = zlib.compressobj(9)
    block = b"\0" * 2**20
    return b"".join(inflater.compress(block) for _ in range(size // len(block))) + inflater.flush()


def zlib_rows(width: int, height: int) -> bytes:
    """Valid 8-bit grey rows (filter 0, mid-grey), compressed."""
    inflater = zlib.compressobj(9)
    row = b"\0" + b"\x80" * width
    return b"".join(inflater.compress(row) for _ in range(height)) + inflater.flush()


def corrupt_crc(data: bytes) -> bytes:
    i = data.index(b"IDAT") + 8
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]


def bmp_header(width: int, height: int) -> bytes:
    info = (40).to_bytes(4, "little") + width.to_bytes(4, "little") + height.to_bytes(4, "little") + \
        (1).to_bytes(2, "little") + (24).to_bytes(2, "little") + bytes(24)
    return b"BM" + (54 + 100).to_bytes(4, "little") + bytes(4) + (54).to_bytes(4, "little") + info + bytes(100)


def gif_header(width: int, height: int) -> bytes:
    return b"GIF89a" + width.to_bytes(2, "little") + height.to_bytes(2, "little") + b"\x00\x00\x00" + \
        b"\x2c" + bytes(4) + width.to_bytes(2, "little") + height.to_bytes(2, "little") + b"\x00\x02\x02\x4c\x01\x00;"


CASES = _cases()


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, tuple[dict, dict, dict, Path]]:
    root = tmp_path_factory.mktemp("hostile")
    jobs, folders = [], []
    for case in CASES:
        folder = root / f"{case.kind.replace(' ', '-')}--{case.id}"
        folder.mkdir()
        for name, data in case.files.items():
            if name == "folder":
                (folder / name).mkdir()
                continue
            if "/" in name:  # a path that does not exist stays absent
                continue
            (folder / name).write_bytes(data)
        argv = list(case.argv) + (["--max-memory", case.cap] if case.cap else [])
        env = {"VOCODER_MAX_MEMORY": "", **case.env}
        jobs.append({"argv": argv, "cwd": str(folder), "address_space": ADDRESS_SPACE, "env": env})
        folders.append((folder, _snapshot(folder)))
    results = run_cases(jobs, timeout=1500)
    return {case.id + "@" + case.kind: (result, before, _snapshot(folder), folder)
            for case, result, (folder, before) in zip(CASES, results, folders)}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.kind}: {c.id}" for c in CASES])
def test_hostile_input_is_one_line_exit_2_nothing_written_memory_bounded(case, outcomes):
    result, before, after, folder = outcomes[case.id + "@" + case.kind]
    lines = result["stderr"].strip().splitlines()
    assert result["code"] == 2, result
    assert len(lines) == 1, result["stderr"]
    line = lines[0]
    assert line.startswith("vocoder"), line
    assert "Traceback" not in result["stderr"] and "internal error" not in line, line
    assert case.expect.lower() in line.lower(), line
    assert after == before, f"files changed or created in {folder}: {sorted(set(after) ^ set(before))}"
    assert result["peak_rss"] < CAP_BYTES, f"peak resident memory {result['peak_rss'] / 2**20:.0f} MiB"


def test_case_counts_cover_every_kind():
    kinds = {c.kind for c in CASES}
    assert kinds == {"image file", "audio file", "embedded metadata", "option", "bench option", "checkpoint",
                     "memory cap"}
    assert len({(c.kind, c.id) for c in CASES}) == len(CASES)

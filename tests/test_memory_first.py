"""Memory is decided from headers and options before anything is decoded,
read, loaded or built, by every command.

Each command in ``vocoder.cli.COMMANDS`` gets inputs that are small files
(kilobytes) declaring huge contents: a picture whose header says 8000×8000,
audio whose header says 67 million samples, a checkpoint whose archive
declares 4 GiB, a generator config of gigabytes of weights, a pattern of ten
minutes at a fine hop. Under ``--max-memory 1G`` each must be refused in one
line naming the estimate, with exit status 2, while its process grew by no
more than a few tens of MiB: a command that decoded, read or built first
would grow by gigabytes (and hit the address-space limit of tests/limited.py).
"""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest

import hostile as h
from limited import GiB, MiB, run_cases
from vocoder.cli import COMMANDS

CAP = "1G"
# What a refused command may add to its resident memory: Python objects, a
# header, a few lazily imported modules; decoding any of these inputs would
# take gigabytes.
GROWTH = 64 * MiB
ADDRESS_SPACE = 3 * GiB

# Commands that read no input, so there is nothing to estimate from.
NO_INPUT = {
    "backends": "lists the registered backends and their options",
    "models": "lists the architectures and the named pretrained models (a cached model is not loaded)",
}


def long_flac(frames: int, rate: int = 22050) -> bytes:
    """A 4096-sample FLAC whose STREAMINFO declares ``frames`` samples (36-bit field)."""
    data = bytearray(h.wav(samples=np.full((4096, 1), 0.1), rate=rate, fmt="FLAC"))
    field = 4 + 4 + 10  # "fLaC", the block header, block and frame sizes; then rate(20) channels(3) bits(5) total(36)
    bits = int.from_bytes(data[field:field + 8], "big")
    data[field:field + 8] = ((bits & ~((1 << 36) - 1)) | frames).to_bytes(8, "big")
    return bytes(data)


def zip_declaring(size: int) -> bytes:
    """A stored zip whose central directory declares its one entry ``size`` bytes long."""
    raw = h.zip_bytes({"archive/data.pkl": b"\x80\x02}q\x00."})
    entry = raw.rindex(b"PK\x01\x02")
    return raw[:entry + 24] + struct.pack("<I", size) + raw[entry + 28:]


def zero_rows(width: int, height: int, bit_depth: int = 8, planes: int = 1) -> bytes:
    deflate = zlib.compressobj(6)
    row = b"\0" + bytes(width * planes * bit_depth // 8)
    return b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()


def hifigan_config(**changes) -> bytes:
    config = {"resblock": "1", "upsample_rates": [8, 8, 2, 2], "upsample_kernel_sizes": [16, 16, 4, 4],
              "upsample_initial_channel": 512, "resblock_kernel_sizes": [3, 7, 11],
              "resblock_dilation_sizes": [[1, 3, 5]] * 3, "num_mels": 80, "n_fft": 1024, "hop_size": 256,
              "win_size": 1024, "sampling_rate": 22050, "fmin": 0, "fmax": 8000}
    config.update(changes)
    return json.dumps(config).encode()


def _files() -> dict[str, bytes]:
    return {
        "big.png": h.png(8000, 8000, idat=zero_rows(8000, 8000)),
        "big16.png": h.png(6000, 6000, 16, idat=zero_rows(6000, 6000, 16)),
        "rgb.png": h.png(4000, 4000, 8, 2, idat=zero_rows(4000, 4000, 8, 3)),
        "long.flac": long_flac(2**26),
        "long44k.flac": long_flac(2**26, rate=44100),
        "square.flac": long_flac(2**24),
        "huge.ckpt": zip_declaring(2**32 - 1),
        "g_00000000": bytes(100),
        "config.json": hifigan_config(upsample_initial_channel=4096),
        "deep.json": hifigan_config(upsample_initial_channel=2048, resblock_kernel_sizes=[63, 63, 63],
                                    resblock_dilation_sizes=[[1, 2, 3, 4, 5, 6]] * 3),
    }


# command → [(case id, argv after the command)]: every command with an input has cases.
CASES: dict[str, list[tuple[str, list[str]]]] = {
    "invert": [("8000x8000-png", ["big.png", "-o", "o.wav"]),
               ("6000x6000-16-bit-png", ["big16.png", "-o", "o.wav"]),
               ("4000x4000-rgb-png", ["rgb.png", "-o", "o.wav", "--channel", "stereo"])],
    "info": [("8000x8000-png", ["big.png"]), ("6000x6000-16-bit-png", ["big16.png"])],
    "sonify": [("8000x8000-png", ["big.png", "-o", "o.wav"]), ("4000x4000-rgb-png", ["rgb.png", "-o", "o.wav"])],
    "desonify": [("2^26-samples", ["long.flac", "-o", "o.png"]),
                 ("2^24-samples-sized", ["square.flac", "-o", "o.png", "--size", "4000x4000"])],
    # Plain encode of a long file goes block-wise (bounded by design); --preview and a
    # resampling rate cannot, so the whole-file estimate decides.
    "encode": [("2^26-samples-preview", ["long.flac", "-o", "o.png", "--preview"]),
               ("2^26-samples-resampled", ["long44k.flac", "-o", "o.png"])],
    "bench": [("2^26-samples", ["long.flac", "--out", "b", "--backends", "fgla"])],
    "export": [("zip-declaring-4GiB", ["huge.ckpt", "-o", "o.safetensors"])],
    "import": [("4096-channels", ["g_00000000", "-o", "o.safetensors"]),
               ("long-kernels", ["g_00000000", "--config", "deep.json", "-o", "o.safetensors"])],
    "pattern": [("600-s-chirp", ["chirp", "-o", "o.png", "--duration", "600"]),
                ("60-s-text-hop-8", ["text", "-o", "o.png", "--duration", "60", "--hop", "8"])],
}
FLAT = [(command, id_, argv) for command, cases in CASES.items() for id_, argv in cases]


def test_every_command_is_covered_or_named_as_reading_nothing():
    assert set(CASES) | set(NO_INPUT) == set(COMMANDS), set(COMMANDS) ^ (set(CASES) | set(NO_INPUT))
    assert not set(CASES) & set(NO_INPUT)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    root = tmp_path_factory.mktemp("memory-first")
    files = _files()
    jobs = []
    for command, id_, argv in FLAT:
        folder = root / f"{command}--{id_}"
        folder.mkdir()
        for name in set(argv) & set(files):
            (folder / name).write_bytes(files[name])
        if command == "import":
            (folder / "config.json").write_bytes(files["config.json"])
        jobs.append({"argv": [command, *argv, "--max-memory", CAP], "cwd": str(folder),
                     "address_space": ADDRESS_SPACE, "env": {"VOCODER_MAX_MEMORY": ""}})
    results = run_cases(jobs, timeout=900)
    return {(command, id_): result for (command, id_, _), result in zip(FLAT, results)}


@pytest.mark.parametrize("command,id_", [(c, i) for c, i, _ in FLAT], ids=[f"{c}: {i}" for c, i, _ in FLAT])
def test_huge_declared_input_is_refused_from_its_header(command, id_, outcomes):
    result = outcomes[(command, id_)]
    lines = result["stderr"].strip().splitlines()
    assert result["code"] == 2, result
    assert len(lines) == 1, result["stderr"]
    assert "needs about" in lines[0] and "over the limit of 1024 MiB (--max-memory)" in lines[0], lines[0]
    grown = result["peak_rss"] - result["base_rss"]
    assert grown < GROWTH, f"{command} grew by {grown / MiB:.0f} MiB before refusing: {lines[0]}"

"""Files anyone can write are never trusted: a generator's config.json, the
sonify record beside an audio file, the dB mapping embedded in a PNG. Every
wrong type, NaN or Infinity, out-of-range size or mapping whose magnitudes
float32 cannot hold is refused in one line with exit status 2 (never a
traceback, never "a bug, please report it"), and nothing is written.

Run in child processes under an address-space limit (tests/limited.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pytest

import hostile as h
from limited import GiB, run_cases

ADDRESS_SPACE = 3 * GiB


@dataclass
class Case:
    id: str
    argv: list[str]
    expect: str | None  # a fragment of the one line; None: the command succeeds
    files: dict[str, bytes] = field(default_factory=dict)


# -- import: the original HiFi-GAN config.json --------------------------------------------

def config_text(**changes) -> str:
    config = {"resblock": "2", "upsample_rates": [8, 8, 4], "upsample_kernel_sizes": [16, 16, 8],
              "upsample_initial_channel": 16, "resblock_kernel_sizes": [3], "resblock_dilation_sizes": [[1, 3]],
              "num_mels": 80, "n_fft": 1024, "hop_size": 256, "win_size": 1024, "sampling_rate": 22050,
              "fmin": 0, "fmax": 8000}
    config.update(changes)
    return json.dumps(config)


def _import_cases() -> list[Case]:
    cases = []

    def config(id_, text, expect):
        data = text.encode("utf-8") if isinstance(text, str) else text
        cases.append(Case(f"import config: {id_}", ["import", "g_00000000", "-o", "m.safetensors"], expect,
                          {"g_00000000": bytes(64), "config.json": data}))

    config("width-NaN", config_text(upsample_initial_channel=0).replace('"upsample_initial_channel": 0',
                                                                        '"upsample_initial_channel": NaN'),
           "not valid JSON")
    config("fmax-Infinity", config_text().replace('"fmax": 8000', '"fmax": Infinity'), "not valid JSON")
    config("n_fft-overflows", config_text().replace('"n_fft": 1024', '"n_fft": 1e999'), "n_fft must be a finite")
    config("fmin-1e999", config_text().replace('"fmin": 0', '"fmin": -1e999'), "fmin must be a finite")
    config("rate-string", config_text(sampling_rate="22050"), "sampling_rate must be a finite whole")
    config("hop-float", config_text(hop_size=256.5), "hop_size must be a finite whole")
    config("mels-bool", config_text(num_mels=True), "num_mels must be a finite whole")
    config("mels-huge", config_text(num_mels=10**9), "n_mels")
    config("rate-negative", config_text(sampling_rate=-22050), "sample_rate must be in")
    config("width-huge", config_text(upsample_initial_channel=10**9), "upsample_initial_channel must be a whole")
    config("width-float", config_text(upsample_initial_channel=16.5), "upsample_initial_channel must be a whole")
    config("width-string", config_text(upsample_initial_channel="16"), "upsample_initial_channel must be a whole")
    config("width-odd", config_text(upsample_initial_channel=20), "must halve cleanly")
    config("kernel-negative", config_text(resblock_kernel_sizes=[-3]), "resblock_kernel_sizes")
    config("kernel-huge", config_text(resblock_kernel_sizes=[10**6]), "resblock_kernel_sizes")
    config("upsample-kernel-below-rate", config_text(upsample_kernel_sizes=[4, 16, 8]), "each kernel >= its rate")
    config("depth-too-deep", config_text(upsample_rates=[2] * 20, upsample_kernel_sizes=[4] * 20),
           "upsample_rates must be a list of 1..")
    config("rate-zero", config_text(upsample_rates=[0, 8, 4]), "upsample_rates must be a whole number")
    config("rates-not-a-list", config_text(upsample_rates=256), "upsample_rates must be a list")
    config("dilation-zero", config_text(resblock_dilation_sizes=[[0, 3]]), "resblock_dilation_sizes")
    config("dilations-unpaired", config_text(resblock_dilation_sizes=[[1], [3]]), "one list per resblock kernel")
    config("resblock-3", config_text(resblock="3"), "resblock must be")
    config("hop-mismatch", config_text(upsample_rates=[8, 8, 2], upsample_kernel_sizes=[16, 16, 4]),
           "does not fit its spec")
    config("array", "[1, 2]", "expected a JSON object")
    config("nested", '{"a": ' + h.nested(10_000) + "}", "deeper than")
    config("not-utf8", b'{"resblock": "\xff"}', "not valid JSON")
    config("missing-keys", '{"resblock": "1"}', "it lacks")
    return cases


# -- desonify: the sonify record beside the audio ---------------------------------------

def _curve_wav(side: int = 64, subtype: str = "FLOAT") -> bytes:
    rng = np.random.default_rng(side)
    return h.wav(samples=(rng.random((side * side, 1)) * 2 - 1).astype(np.float32), rate=44100, subtype=subtype)


def record_text(**sonification) -> str:
    base = {"curve": "hilbert", "side": 64, "original_size": [48, 64], "value_map": "bipolar", "bit_depth": 8}
    return json.dumps({"vocoder_record": 1, "sonification": {**base, **sonification}})


def _desonify_cases() -> list[Case]:
    cases = []
    audio = _curve_wav()

    def record(id_, text, expect, *extra):
        cases.append(Case(f"sonify record: {id_}", ["desonify", "a.wav", "-o", "p.png", *extra], expect,
                          {"a.wav": audio, "a.wav.json": text.encode("utf-8")}))

    record("valid", record_text(), None)
    record("size-string", record_text(original_size="abc"), "original_size must be [height, width]")
    record("size-NaN", record_text(original_size=[0, 1]).replace("[0, 1]", "[NaN, 1]"), "not valid JSON")
    record("size-1e999", record_text(original_size=[0, 1]).replace("[0, 1]", "[1e999, 1]"), "original_size must be")
    record("size-negative", record_text(original_size=[-5, 10]), "original_size must be")
    record("size-zero", record_text(original_size=[0, 4]), "original_size must be")
    record("size-huge", record_text(original_size=[10**9, 2]), "original_size must be")
    record("size-float", record_text(original_size=[1.5, 2]), "original_size must be")
    record("size-bool", record_text(original_size=[True, 2]), "original_size must be")
    record("size-one-number", record_text(original_size=[64]), "original_size must be")
    record("size-beyond-the-curve", record_text(original_size=[65, 64]), "does not fit the 64×64 curve")
    record("value-map-number", record_text(value_map=5), "value_map must be bipolar or unipolar")
    record("value-map-word", record_text(value_map="loud"), "value_map must be bipolar or unipolar")
    record("bit-depth-12", record_text(bit_depth=12), "bit_depth must be 8 or 16")
    record("bit-depth-float", record_text(bit_depth=8.0), "bit_depth must be 8 or 16")
    record("section-a-list", json.dumps({"sonification": [1, 2]}), "'sonification' must be a JSON object")
    record("not-json", "{oops", "not valid JSON")
    record("nested", '{"sonification": ' + h.nested(10_000) + "}", "deeper than")
    record("over-a-megabyte", json.dumps({"sonification": {}, "pad": "x" * 1_100_000}), "over the limit")
    record("options-do-not-excuse-a-bad-record", record_text(value_map=[1]), "value_map must be", "--size", "4x4")

    def sound(id_, data, expect, *extra):
        cases.append(Case(f"sonify audio: {id_}", ["desonify", "a.wav", "-o", "p.png", *extra], expect,
                          {"a.wav": data}))

    sound("zero-samples", h.wav(samples=np.zeros((0, 1))), "0 samples are not a power-of-two square")
    sound("nan-samples", h.wav(samples=np.full((4096, 1), np.nan), subtype="FLOAT"), "NaN or infinite samples")
    sound("inf-samples", h.wav(samples=np.full((4096, 1), np.inf), subtype="FLOAT"), "NaN or infinite samples")
    sound("not-a-square", h.wav(samples=np.full((100, 1), 0.1)), "not a power-of-two square")
    sound("square-not-power-of-two", h.wav(samples=np.full((36, 1), 0.1)), "not a power-of-two square")
    sound("size-beyond-the-curve", audio, "does not fit the 64×64 curve", "--size", "100x10")
    return cases


# -- the dB mapping of an encoded PNG -------------------------------------------------------

def _mapping_png(**mapping) -> bytes:
    meta = h.metadata()
    meta["mapping"].update(mapping)
    return h.encoded_png(meta)


def _mapping_cases() -> list[Case]:
    cases = []

    def mapping(id_, expect, **fields):
        cases.append(Case(f"dB mapping: {id_}", ["invert", "x.png", "-o", "out.wav", "--iters", "2"], expect,
                          {"x.png": _mapping_png(**fields)}))

    out_of_range = "not a spectrogram vocoder can invert"
    mapping("plus-minus-200-at-1e29", out_of_range, db_min=-200.0, db_max=200.0, reference=1e29)
    mapping("loudest-1e13", out_of_range, db_min=-100.0, db_max=20.0, reference=1e12)
    mapping("loudest-1e20", out_of_range, db_min=-100.0, db_max=200.0, reference=1e10)
    mapping("quietest-underflows", out_of_range, db_min=-200.0, db_max=-199.0, reference=1e-30)
    mapping("tiny-span-underflows", out_of_range, db_min=-200.0, db_max=-199.99999999, reference=1e-29)
    mapping("tiny-span-overflows", out_of_range, db_min=199.99999999, db_max=200.0, reference=1e25)
    mapping("plus-minus-200-at-1", None, db_min=-200.0, db_max=200.0, reference=1.0)
    mapping("tiny-span-at-1", None, db_min=-1e-9, db_max=0.0, reference=1.0)
    return cases


CASES = _import_cases() + _desonify_cases() + _mapping_cases()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    root = tmp_path_factory.mktemp("trusted")
    jobs, folders = [], []
    for i, case in enumerate(CASES):
        folder = root / str(i)
        folder.mkdir()
        for name, data in case.files.items():
            (folder / name).write_bytes(data)
        folders.append(folder)
        jobs.append({"argv": case.argv, "cwd": str(folder), "address_space": ADDRESS_SPACE,
                     "env": {"VOCODER_MAX_MEMORY": ""}})
    results = run_cases(jobs, timeout=900)
    return {case.id: (result, folder) for case, result, folder in zip(CASES, results, folders)}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_file_from_anyone_is_checked_before_use(case, outcomes):
    result, folder = outcomes[case.id]
    written = sorted(p.name for p in folder.iterdir() if p.name not in case.files)
    if case.expect is None:
        assert result["code"] == 0, result
        return
    lines = result["stderr"].strip().splitlines()
    assert result["code"] == 2, result
    assert len(lines) == 1 and lines[0].startswith("vocoder"), result["stderr"]
    assert "bug" not in lines[0] and "internal error" not in lines[0], lines[0]
    assert case.expect.lower() in lines[0].lower(), lines[0]
    assert written == [], f"{case.id} wrote {written}"


def test_a_valid_record_gives_the_size_it_claims(outcomes):
    result, folder = outcomes["sonify record: valid"]
    record = json.loads((folder / "p.png.json").read_text())
    assert (record["output"]["width"], record["output"]["height"]) == (64, 48)
    assert record["output"]["format"] == "PNG, 8-bit"

"""The memory budget: the cap, the one-line refusal, and the estimates
calibrated against measured peaks.

Calibration runs each job twice in a child process (tests/limited.py): once
for real, measuring its peak resident memory (ru_maxrss) above what the
process held when it started, and once with ``--max-memory 1M`` so that it
refuses and prints its own estimate. The estimate must cover the measured
peak and stay within a small factor of it: conservative, but not so loose
that ordinary jobs are refused on ordinary machines.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf

import hostile as h
from conftest import SAMPLES, run_cli
from limited import GiB, MiB, run_cases
from vocoder import costs
from vocoder.errors import VocoderError
from vocoder.safety import budget


@pytest.mark.parametrize("text, expected", [
    ("8G", 8 * GiB), ("512M", 512 * MiB), ("1.5GiB", int(1.5 * GiB)), ("2048", None), ("64 mb", 64 * MiB),
    (str(3 * GiB), 3 * GiB), ("1t", 2**40),
])
def test_sizes_parse_in_binary_units(text, expected):
    if expected is None:
        with pytest.raises(VocoderError, match="below 1 MiB"):
            budget.parse_size(text)
    else:
        assert budget.parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "-1G", "nanG", "1e9", "8 gigabytes", "0", "2E"])
def test_nonsense_sizes_are_refused(text):
    with pytest.raises(VocoderError):
        budget.parse_size(text)


def test_the_cap_comes_from_the_option_then_the_environment_then_the_machine(monkeypatch):
    monkeypatch.delenv(budget.ENV, raising=False)
    budget.set_limit(None)
    default, source = budget.limit()
    assert source == "half of this machine's memory"
    assert default == int(budget.machine_memory() * budget.DEFAULT_FRACTION)
    monkeypatch.setenv(budget.ENV, "3G")
    assert budget.limit() == (3 * GiB, budget.ENV)
    budget.set_limit(5 * GiB)
    try:
        assert budget.limit() == (5 * GiB, "--max-memory")
    finally:
        budget.set_limit(None)


def test_a_refusal_is_one_line_naming_the_estimate_and_the_limit(monkeypatch):
    monkeypatch.setenv(budget.ENV, "1G")
    estimate = budget.Estimate("inverting x.png", {"phase retrieval": 40 * GiB, "decoding": GiB})
    with pytest.raises(VocoderError) as caught:
        estimate.check()
    message = str(caught.value)
    assert "\n" not in message
    assert re.search(r"needs about 5\d\.\d GiB of memory \(largest step: phase retrieval", message), message
    assert "over the limit of 1024 MiB (VOCODER_MAX_MEMORY)" in message and "--max-memory" in message


def test_the_cli_refuses_before_writing_anything(tmp_path):
    pic = tmp_path / "p.png"
    pic.write_bytes(h.picture(64, 40))
    result = run_cli("invert", pic, "-o", tmp_path / "o.wav", "--duration", "30000", "--max-memory", "4G")
    assert result.code == 2 and result.err.count("\n") == 1, result
    assert "needs about" in result.err and "over the limit of 4096 MiB (--max-memory)" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png"]


def test_a_model_too_wide_for_the_cap_is_refused_before_it_is_built():
    config = h.generator_config(upsample_initial_channel=4096, resblock_kernel_sizes=[31, 31],
                                resblock_dilation_sizes=[[1, 2], [1, 2]])
    from vocoder.models import registry
    from vocoder.models.hifigan import HiFiGANGenerator

    hifigan = registry.get("hifigan")
    params = hifigan.parameters(config)
    assert params > 500_000_000  # two gigabytes of float32 weights before anything runs
    small = h.generator_config()
    assert hifigan.parameters(small) == sum(
        p.numel() for p in HiFiGANGenerator.from_config(small).remove_weight_norm().parameters())


def test_a_log_axis_inverse_is_counted_as_a_mel_one_is(tmp_path):
    from vocoder.frontend.picture import probe
    from vocoder.inversion import create
    from vocoder.pipeline import InvertRequest, plan_budget
    from vocoder.spec_overrides import SpecOverrides, effective_spec

    speech, rate = sf.read(SAMPLES / "LJ001-0006.wav")
    sf.write(tmp_path / "clip.wav", speech[:rate], rate)
    # 12 bands per octave from 50 Hz to 8 kHz: 88 rows, beside the hifigan mel's 80.
    log_options = ["--scale", "log", "--bands-per-octave", "12", "--fmin", "50", "--fmax", "8000"]
    for name, extra in (("mel", []), ("log", log_options)):
        assert run_cli("encode", tmp_path / "clip.wav", "-o", tmp_path / f"{name}.png", "--preset", "hifigan",
                       *extra).code == 0

    def inverse_steps(name):
        png = str(tmp_path / f"{name}.png")
        estimate = plan_budget(InvertRequest(image=png, output=str(tmp_path / "o.wav")), probe(png), None,
                               create("fgla"), uses_metadata=True)
        return {step: nbytes for step, nbytes in estimate.steps.items() if step.endswith("→ linear")}

    mel, log = inverse_steps("mel"), inverse_steps("log")
    assert list(mel) == ["mel → linear"] and list(log) == ["log → linear"]
    assert 0.8 < log["log → linear"] / mel["mel → linear"] < 1.3
    # bench counts it too, for every backend that takes linear bins
    spec = effective_spec("hifigan", SpecOverrides(scale="log", axis={"bands_per_octave": 12, "fmin": 50.0,
                                                                           "fmax": 8000.0}))
    bench = costs.bench_clip(1, rate, rate, spec, [("fgla", 0.0, True)], pitch=False)
    assert bench.steps["fgla: log → linear"] >= spec.axis.inverse_cost(spec, 1, 80) > 0


# -- calibration against measured peaks ------------------------------------------

# Measured peaks must not exceed the estimate; the estimate may exceed the
# peak by this factor (plus the fixed allowance for lazy imports).
LOOSENESS = 3.0


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("calibration")
    speech, rate = sf.read(SAMPLES / "LJ001-0006.wav")
    long = np.tile(speech, 4)[: 20 * rate]
    sf.write(folder / "speech20.wav", long, rate)
    sf.write(folder / "stereo10.wav", np.stack([long[: 10 * rate], long[: 10 * rate][::-1]], 1), rate)
    sf.write(folder / "odd4001.wav", np.random.default_rng(0).standard_normal(4001 * 3) * 0.1, 4001)
    sf.write(folder / "speech4.wav", long[: 4 * rate], rate)
    (folder / "grey.png").write_bytes(h.picture(3000, 300))
    (folder / "rgb.png").write_bytes(h.picture(1500, 513, "RGB"))
    assert run_cli("encode", folder / "speech20.wav", "-o", folder / "enc.png").code == 0
    assert run_cli("encode", folder / "stereo10.wav", "-o", folder / "enc_mel.png", "--preset", "hifigan").code == 0
    assert run_cli("sonify", folder / "rgb.png", "-o", folder / "son.wav").code == 0
    return folder, {
        "encode 20 s": ["encode", "speech20.wav", "-o", "o.png"],
        "encode stereo, preview": ["encode", "stereo10.wav", "-o", "o.png", "--preview"],
        "encode resampled 4001 Hz": ["encode", "odd4001.wav", "-o", "o.png"],
        "invert picture fgla": ["invert", "grey.png", "-o", "o.wav", "--iters", "2"],
        "invert picture pghi": ["invert", "grey.png", "-o", "o.wav", "--backend", "pghi"],
        "invert picture as mel": ["invert", "grey.png", "-o", "o.wav", "--preset", "hifigan", "--iters", "2"],
        "invert picture blur + preview": ["invert", "grey.png", "-o", "o.wav", "--blur", "20", "--preview",
                                          "--iters", "2"],
        "invert stereo picture": ["invert", "rgb.png", "-o", "o.wav", "--channel", "stereo", "--backend",
                                  "pghi+fgla", "--iters", "2"],
        "invert encoded PNG": ["invert", "enc.png", "-o", "o.wav", "--iters", "2"],
        "invert encoded stereo mel": ["invert", "enc_mel.png", "-o", "o.wav", "--iters", "2"],
        "invert encoded PNG agla pghi": ["invert", "enc.png", "-o", "o.wav", "--backend", "agla", "--init", "pghi",
                                         "--iters", "2"],
        "invert encoded stereo mel admm": ["invert", "enc_mel.png", "-o", "o.wav", "--backend", "admm",
                                           "--iters", "2"],
        "invert encoded stereo mel mel-gd": ["invert", "enc_mel.png", "-o", "o.wav", "--backend", "mel-gd",
                                             "--iters", "2"],
        "bench": ["bench", "speech4.wav", "--out", "b", "--backends", "fgla:iters=2,pghi"],
        "sonify": ["sonify", "rgb.png", "-o", "o.wav"],
        "desonify": ["desonify", "son.wav", "-o", "o.png"],
        "pattern": ["pattern", "chirp", "-o", "o.png", "--duration", "20"],
    }


@pytest.fixture(scope="module")
def measured(jobs):
    folder, commands = jobs
    cases = []
    for argv in commands.values():
        argv = argv + ["--force"]  # the jobs share output names (o.png, o.wav, b/)
        cases.append({"argv": argv, "cwd": str(folder), "address_space": 8 * GiB, "env": {"VOCODER_MAX_MEMORY": ""}})
        cases.append({"argv": argv + ["--max-memory", "1M"], "cwd": str(folder), "address_space": 8 * GiB,
                      "env": {}})
    results = run_cases(cases, timeout=1500)
    out = {}
    for i, name in enumerate(commands):
        run, refused = results[2 * i], results[2 * i + 1]
        assert run["code"] == 0, (name, run)
        match = re.search(r"needs about (\d+) MiB .*; (\d+) MiB already held", refused["stderr"])
        assert refused["code"] == 2 and match, (name, refused["stderr"])
        estimate = (int(match.group(1)) - int(match.group(2))) * MiB
        out[name] = (run["peak_rss"] - run["base_rss"], estimate)
    return out


@pytest.mark.parametrize("name", ["encode 20 s", "encode stereo, preview", "encode resampled 4001 Hz",
                                  "invert picture fgla", "invert picture pghi", "invert picture as mel",
                                  "invert picture blur + preview", "invert stereo picture", "invert encoded PNG",
                                  "invert encoded stereo mel", "invert encoded PNG agla pghi",
                                  "invert encoded stereo mel admm", "invert encoded stereo mel mel-gd", "bench",
                                  "sonify", "desonify", "pattern"])
def test_estimate_covers_the_measured_peak_and_is_not_far_above_it(measured, name):
    peak, estimate = measured[name]
    print(f"{name}: measured {peak / MiB:.0f} MiB, estimated {estimate / MiB:.0f} MiB ({estimate / peak:.2f}x)")
    assert peak <= estimate, f"{name}: measured {peak / MiB:.0f} MiB above the estimate {estimate / MiB:.0f} MiB"
    assert estimate <= LOOSENESS * peak + budget.LAZY_IMPORTS, \
        f"{name}: estimate {estimate / MiB:.0f} MiB is more than {LOOSENESS}x the measured {peak / MiB:.0f} MiB"

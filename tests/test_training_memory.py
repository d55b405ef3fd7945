"""`fit`, `validate` and `test` estimate their memory before any model is built.

The networks are sized on the meta device and one batch's autograd graph is
counted there (vocoder/training/memory.py); these tests check that count
against real tensors, the refusal's manners, and the estimate against the
peak a real training run reaches (measured in a child process, as
tests/test_budget.py does for the other commands).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from conftest import PROJECT, run_cli
from limited import GiB, MiB, run_cases
from vocoder.safety import budget
from vocoder.training import memory

TINY = yaml.safe_load((PROJECT / "configs" / "hifigan_tiny.yaml").read_text())


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Eight one-second clips (tones + noise) at 22.05 kHz."""
    folder = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(1)
    t = np.arange(22050) / 22050
    for i in range(8):
        wave = 0.4 * np.sin(2 * np.pi * (120 + 30 * i) * t) + 0.05 * rng.standard_normal(t.size)
        sf.write(folder / f"c{i}.wav", wave.astype(np.float32), 22050)
    return folder


def config(tmp_path, clips, **data):
    cfg = {**TINY, "trainer": {**TINY["trainer"], "logger": False, "enable_progress_bar": False,
                               "enable_model_summary": False, "accelerator": "cpu", "devices": 1},
           "data": {**TINY["data"], "data_dir": str(clips), **data}}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_the_meta_count_equals_the_graph_real_tensors_keep():
    """What the meta build counts is what autograd keeps on real tensors."""
    model = {"generator": TINY["model"]["generator"], "mpd": TINY["model"]["mpd"], "msd": TINY["model"]["msd"]}
    meta = memory.build_on_meta(model, 80)
    real = memory.Networks(*_real_networks(model))
    assert meta.parameter_bytes() == real.parameter_bytes() > 0
    for m, r, shape in ((meta.generator, real.generator, (2, 80, 16)),
                        (meta.discriminators[0], real.discriminators[0], (2, 1, 4096)),
                        (meta.discriminators[1], real.discriminators[1], (2, 1, 4096))):
        counted, _ = memory.graph_bytes(m, torch.empty(shape, device="meta"))
        kept, _ = memory.graph_bytes(r, torch.randn(shape))
        assert counted == kept > 0


def _real_networks(model):
    builders = [memory._component(model[k], None) for k in ("generator", "mpd", "msd")]
    return builders[0](80), [builders[1](), builders[2]()]


@pytest.mark.parametrize("command", ["fit", "validate", "test"])
def test_a_run_over_the_cap_is_refused_in_one_line_before_anything_is_written(tmp_path, clips, command):
    path = config(tmp_path, clips)
    result = run_cli(command, "--config", path, "--checkpoint_root", tmp_path / "runs", "--max-memory", "1M")
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert re.fullmatch(rf"vocoder: error: `vocoder {command}` needs about \d+ MiB of memory .* over the limit of "
                        r"1 MiB \(--max-memory\); raise it with --max-memory SIZE or VOCODER_MAX_MEMORY=SIZE .*",
                        lines[-1]), result.err
    assert "Traceback" not in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.yaml"]


def test_a_model_far_too_wide_is_refused_without_being_built(tmp_path, clips):
    """4096 channels at every level: about 5 G parameters, 80 GB with the optimiser state."""
    path = config(tmp_path, clips)
    cfg = yaml.safe_load(path.read_text())
    cfg["model"]["generator"]["init_args"]["upsample_initial_channel"] = 32768
    path.write_text(yaml.safe_dump(cfg))
    result = run_cli("fit", "--config", path, "--checkpoint_root", tmp_path / "runs", "--max-memory", "16G")
    assert result.code == 2 and re.search(r"needs about [\d.]+ GiB of memory", result.err), result
    assert not (tmp_path / "runs").exists()


def test_the_environment_sets_the_cap_and_a_bad_size_is_one_line(tmp_path, clips, monkeypatch):
    path = config(tmp_path, clips)
    monkeypatch.setenv(budget.ENV, "2M")
    result = run_cli("validate", "--config", path)
    assert result.code == 2 and f"({budget.ENV})" in result.err, result
    result = run_cli("fit", "--config", path, "--max-memory", "lots")
    assert result.code == 2 and result.err.strip().splitlines()[-1].startswith(
        "vocoder: error: a memory size looks like"), result


def test_a_longer_batch_costs_more(tmp_path, clips):
    small = memory.estimate("fit", yaml.safe_load(config(tmp_path, clips, batch_size=2).read_text()))[0]
    large = memory.estimate("fit", yaml.safe_load(config(tmp_path, clips, batch_size=8).read_text()))[0]
    assert large.largest[1] > 2 * small.largest[1] - small.largest[1] / 2 > 0


def test_estimate_covers_a_real_training_peak_and_is_not_far_above_it(tmp_path, clips):
    """Four batches of 8 × 8192 samples through the tiny recipe (a training
    graph of a few hundred MB), run for real and refused at 1M for its estimate."""
    path = config(tmp_path, clips, batch_size=8, segment=8192, repeats=8, val_max_seconds=1.0)
    argv = ["fit", "--config", str(path), "--trainer.max_steps", "4", "--trainer.val_check_interval", "4",
            "--force"]
    cases = [{"argv": argv + ["--checkpoint_root", str(tmp_path / "a")], "cwd": str(tmp_path),
              "address_space": 8 * GiB, "env": {budget.ENV: ""}},
             {"argv": argv + ["--checkpoint_root", str(tmp_path / "b"), "--max-memory", "1M"], "cwd": str(tmp_path),
              "address_space": 8 * GiB, "env": {}}]
    run, refused = run_cases(cases, timeout=600)
    assert run["code"] == 0, run["stderr"][-2000:]
    match = re.search(r"needs about (\d+) MiB .*; (\d+) MiB already held", refused["stderr"])
    assert refused["code"] == 2 and match, refused["stderr"]
    estimate = (int(match.group(1)) - int(match.group(2))) * MiB
    peak = run["peak_rss"] - run["base_rss"]
    print(f"fit: measured {peak / MiB:.0f} MiB, estimated {estimate / MiB:.0f} MiB ({estimate / peak:.2f}x)")
    assert peak <= estimate
    assert estimate <= 3.0 * peak + budget.LAZY_IMPORTS


@pytest.mark.parametrize("option, message", [
    (["--data.batch_size", "-3"], "--data.batch_size must be a whole number of at least 1; got -3"),
    (["--data.segment", "1000"], "--data.segment must be a positive multiple of the hop (256); got 1000"),
    (["--data.num_workers", "-1"], "--data.num_workers must be a whole number of at least 0"),
    (["--model.mpd.init_args.periods", "[0]"], "the model in this config cannot train on a batch of 4 × 4096"),
    (["--model.generator.init_args.upsample_initial_channel", "-64"], "the model in this config cannot be built"),
])
def test_training_options_outside_sense_are_one_line(tmp_path, clips, option, message):
    path = config(tmp_path, clips)
    result = run_cli("fit", "--config", path, "--checkpoint_root", tmp_path / "runs", *option)
    assert result.code == 2 and result.err.startswith(f"vocoder: error: {message}"), result
    assert len(result.err.strip().splitlines()) == 1 and not (tmp_path / "runs").exists()

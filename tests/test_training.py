"""Training: one step learns, the CLI runs, resume is exact, NaN stops cleanly, DDP on 2 CPUs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from conftest import PROJECT, run_cli

TINY_MODEL = {
    "generator": {"class_path": "vocoder.models.HiFiGANGenerator",
                  "init_args": {"upsample_rates": [8, 8, 4], "upsample_kernel_sizes": [16, 16, 8],
                                "upsample_initial_channel": 16, "resblock": "2", "resblock_kernel_sizes": [3],
                                "resblock_dilation_sizes": [[1, 2]]}},
    "mpd": {"class_path": "vocoder.models.MultiPeriodDiscriminator",
            "init_args": {"periods": [2, 3], "channels": [4, 4, 8, 8, 8]}},
    "msd": {"class_path": "vocoder.models.MultiScaleDiscriminator",
            "init_args": {"scales": 2, "channels": [4, 4, 8, 8, 8, 8, 8]}},
    "log_audio": 1,
}


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """Six short synthetic clips (chirps + noise) at 22.05 kHz."""
    folder = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(0)
    t = np.arange(int(0.4 * 22050)) / 22050
    for i in range(6):
        f0 = 150 + 40 * i
        wave = 0.5 * np.sin(2 * np.pi * (f0 + 200 * t) * t) + 0.02 * rng.standard_normal(t.size)
        sf.write(folder / f"clip{i}.wav", wave.astype(np.float32), 22050)
    return folder


def write_config(path: Path, clips: Path, **trainer) -> Path:
    config = {
        "seed_everything": 7,
        "trainer": {"default_root_dir": str(path.parent),"accelerator": "cpu", "devices": 1, "logger": False, "enable_progress_bar": False,
                    "enable_model_summary": False, "num_sanity_val_steps": 0,
                    "check_val_every_n_epoch": None, **trainer},
        "model": TINY_MODEL,
        "data": {"data_dir": str(clips), "segment": 1024, "batch_size": 2, "val_count": 2,
                 "val_max_seconds": 0.2},
    }
    path.write_text(yaml.safe_dump(config))
    return path


def fit(tmp: Path, clips: Path, run: str, *extra: str, **trainer):
    config = write_config(tmp / f"{run}.yaml", clips, **trainer)
    return run_cli("fit", "--config", config, "--run", run, "--checkpoint_root", tmp / "ckpt", *extra)


def generator_weights(ckpt: Path) -> dict[str, torch.Tensor]:
    state = torch.load(ckpt, weights_only=True, map_location="cpu")["state_dict"]
    return {k: v for k, v in state.items() if k.startswith("generator.")}


def test_one_training_step_changes_generator_and_discriminators(clips):
    import lightning as L

    from vocoder.training import AudioDataModule, HiFiGANModule
    from vocoder.models import HiFiGANGenerator, MultiPeriodDiscriminator, MultiScaleDiscriminator

    L.seed_everything(0)
    g = TINY_MODEL["generator"]["init_args"]
    module = HiFiGANModule(generator=lambda n: HiFiGANGenerator(n, **g),
                           mpd=MultiPeriodDiscriminator(**TINY_MODEL["mpd"]["init_args"]),
                           msd=MultiScaleDiscriminator(**TINY_MODEL["msd"]["init_args"]))
    before = {k: v.clone() for k, v in module.state_dict().items()}
    data = AudioDataModule(data_dir=str(clips), segment=1024, batch_size=2)
    trainer = L.Trainer(accelerator="cpu", max_steps=2, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0)
    trainer.fit(module, data)
    after = module.state_dict()
    for prefix in ("generator.", "mpd.", "msd."):
        changed = [k for k in before if k.startswith(prefix) and not torch.equal(before[k], after[k])]
        assert changed, f"no {prefix} weight changed"
    assert trainer.global_step == 2 and module.batches == 1  # one D and one G update


def test_fast_dev_run_through_the_cli(tmp_path, clips):
    result = fit(tmp_path, clips, "dev", "--trainer.fast_dev_run", "true")
    assert result.code == 0, result


def test_resume_gives_the_same_generator_as_a_straight_run(tmp_path, clips):
    # 4 training clips / batch 2 = 2 batches (4 optimiser steps) per epoch;
    # validation and checkpoints every 2 batches. max_steps counts batches.
    common = dict(val_check_interval=2, limit_val_batches=1)
    assert fit(tmp_path, clips, "straight", max_steps=4, **common).code == 0
    assert fit(tmp_path, clips, "half", max_steps=2, **common).code == 0
    first_half = generator_weights(tmp_path / "ckpt" / "half" / "last.ckpt")
    # A resumed run writes into a new run folder: the checkpoint it starts from stays as it is.
    result = fit(tmp_path, clips, "resumed", "--ckpt_path", tmp_path / "ckpt" / "half" / "last.ckpt",
                 max_steps=4, **common)
    assert result.code == 0, result
    assert generator_weights(tmp_path / "ckpt" / "half" / "last.ckpt").keys() == first_half.keys()
    assert all(torch.equal(first_half[k], v)
               for k, v in generator_weights(tmp_path / "ckpt" / "half" / "last.ckpt").items())
    straight = torch.load(tmp_path / "ckpt" / "straight" / "last.ckpt", weights_only=True)
    resumed = torch.load(tmp_path / "ckpt" / "resumed" / "last.ckpt", weights_only=True)
    assert straight["global_step"] == resumed["global_step"] == 8  # Lightning's own: two per batch
    assert straight["vocoder"]["trained_batches"] == resumed["vocoder"]["trained_batches"] == 4
    a, b = generator_weights(tmp_path / "ckpt" / "straight" / "last.ckpt"), resumed["state_dict"]
    assert any(not torch.equal(first_half[k], b[k]) for k in first_half)  # it did train on
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)
    for sa, sb in zip(straight["optimizer_states"], resumed["optimizer_states"]):
        for (ka, va), (kb, vb) in zip(sorted(sa["state"].items()), sorted(sb["state"].items())):
            torch.testing.assert_close(va["exp_avg"], vb["exp_avg"], rtol=1e-5, atol=1e-7)


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(tmp_path, clips, monkeypatch):
    from vocoder.training.module import HiFiGANModule

    real_step = HiFiGANModule.training_step

    def poisoned(self, batch, batch_idx):
        if self.batches >= 3:  # after the checkpoint at batch 2
            self.hparams.mel_weight = float("nan")
        return real_step(self, batch, batch_idx)

    monkeypatch.setattr(HiFiGANModule, "training_step", poisoned)
    result = fit(tmp_path, clips, "nan", max_steps=10, val_check_interval=2, limit_val_batches=1)
    assert result.code == 2, result
    assert "non-finite loss at batch 3" in result.err and "last saved checkpoint" in result.err
    assert "Traceback" not in result.err
    last = torch.load(tmp_path / "ckpt" / "nan" / "last.ckpt", weights_only=True)
    assert last["vocoder"]["trained_batches"] == 2
    assert all(torch.isfinite(v).all() for v in last["state_dict"].values() if v.is_floating_point())


def test_ddp_with_two_cpu_processes(tmp_path, clips):
    config = write_config(tmp_path / "ddp.yaml", clips, max_steps=2, val_check_interval=1, limit_val_batches=2)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(PROJECT / "tests")}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "vocoder"), "fit", "--config", str(config), "--run", "ddp",
         "--checkpoint_root", str(tmp_path / "ckpt"), "--trainer.strategy", "ddp", "--trainer.devices", "2",
         "--data.batch_size", "1", "--trainer.callbacks+=ddp_probe.GeneratorChecksum",
         "--trainer.callbacks.folder", str(tmp_path)],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "distributed_backend=gloo" in proc.stderr + proc.stdout
    assert "All distributed processes registered" in proc.stderr + proc.stdout
    ckpt = torch.load(tmp_path / "ckpt" / "ddp" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 4 and ckpt["vocoder"]["trained_batches"] == 2
    # Gradients were averaged: both ranks hold the same generator after training
    # on different data.
    sums = [(tmp_path / f"rank{r}.txt").read_text() for r in (0, 1)]
    assert sums[0] == sums[1]


def test_print_config_resolves_components_and_links_the_spec(capsys):
    from vocoder.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["fit", "--config", str(PROJECT / "configs" / "hifigan_v3.yaml"),
              "--config", str(PROJECT / "configs" / "logger" / "wandb.yaml"),
              "--data.preset", "bigvgan-24k", "--model.lr", "1e-4", "--print_config"])
    assert exit_.value.code == 0
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["model"]["generator"]["class_path"] == "vocoder.models.HiFiGANGenerator"
    assert config["model"]["generator"]["init_args"]["resblock"] == "2"
    assert config["data"]["preset"] == "bigvgan-24k" and config["model"]["lr"] == 1e-4
    assert config["trainer"]["logger"]["class_path"].endswith("WandbLogger")
    assert config["trainer"]["logger"]["init_args"]["offline"] is True
    assert config["run"] == "hifigan_v3" and config["checkpoint"]["monitor"] == "val_mel_l1"


def test_the_model_takes_its_bands_from_the_data_preset(tmp_path, clips):
    result = fit(tmp_path, clips, "b100", "--data.preset", "bigvgan-24k", max_steps=1, val_check_interval=1,
                 limit_val_batches=1)
    assert result.code == 0, result
    ckpt = torch.load(tmp_path / "ckpt" / "b100" / "last.ckpt", weights_only=True)
    assert ckpt["vocoder"]["spec"]["axis"]["n_mels"] == 100 and ckpt["vocoder"]["spec"]["sample_rate"] == 24000
    assert ckpt["vocoder"]["config"]["in_channels"] == 100 and ckpt["vocoder"]["format"] == 2


@pytest.mark.parametrize("override,message", [
    (("--data.data_dir", "/nonexistent/audio"), "audio folder not found"),
    (("--data.batch_size", "64"), "cannot fill one batch of 64"),
])
def test_data_problems_are_one_line_errors(tmp_path, clips, override, message):
    result = fit(tmp_path, clips, "bad", *override, max_steps=1)
    assert result.code == 2, result
    # (In-process runs can leave Lightning's log handlers on an earlier test's
    # closed stream, so look at our own last line rather than all of stderr.)
    last = result.err.strip().splitlines()[-1]
    assert last.startswith("vocoder: error:") and message in last, result


@pytest.mark.parametrize("args, message", [
    (["--model.nonsense", "3"], "unrecognized arguments: --model.nonsense"),
    (["--trainer.max_steps", "many"], "max_steps"),
])
def test_bad_training_options_are_one_line_errors(args, message):
    result = run_cli("fit", "--config", str(PROJECT / "configs" / "hifigan_tiny.yaml"), *args)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vocoder: error:") and message in lines[0], result.err

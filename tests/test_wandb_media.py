"""Weights & Biases (offline, no network): validation audio and spectrograms
reach the run folder, and each run keeps its own config.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from test_training import clips, write_config  # noqa: F401  (clips is a fixture)

pytest.importorskip("wandb", reason="wandb is not installed")


def wandb_fit(tmp: Path, clips: Path, run: str) -> Path:
    config = write_config(tmp / f"{run}.yaml", clips, max_steps=1, val_check_interval=1, limit_val_batches=1)
    logger = tmp / "wandb_logger.yaml"
    logger.write_text(yaml.safe_dump({"trainer": {"logger": {
        "class_path": "lightning.pytorch.loggers.WandbLogger",
        "init_args": {"project": "vocoder-test", "save_dir": str(tmp / "logs"), "offline": True,
                      "log_model": False}}}}))
    result = run_cli("fit", "--config", config, "--config", logger, "--run", run, "--checkpoint_root", tmp / "ckpt")
    assert result.code == 0, result
    import wandb

    wandb.finish()  # as the end of a `vocoder fit` process does; in one test process the next run would reuse it
    return tmp / "logs" / "wandb"


def test_wandb_offline_run_gets_clips_media_and_its_own_config(tmp_path, clips, monkeypatch):  # noqa: F811
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.chdir(tmp_path)
    root = wandb_fit(tmp_path, clips, "first")
    wandb_fit(tmp_path, clips, "second")  # same save_dir: must neither be refused nor replace the first's config

    runs = sorted(root.glob("offline-run-*"))
    assert len(runs) == 2, list(root.iterdir())
    for run in runs:
        assert sorted(p.name for p in run.glob("samples/step*/*.wav")), run  # our files, beside W&B's
        assert sorted(p.name for p in run.glob("samples/step*/*.png")), run
        media = run / "files" / "media"
        assert list(media.glob("audio/**/*.wav")) and list(media.glob("images/**/*.png")), sorted(media.rglob("*"))
        assert (run / "config.yaml").is_file()
    configs = [yaml.safe_load((run / "config.yaml").read_text()) for run in runs]
    assert sorted(c["run"] for c in configs) == ["first", "second"]
    assert not (tmp_path / "logs" / "config.yaml").exists()  # the shared save_dir holds no run's config


def test_csv_checkpoint_names_and_clip_folders_count_the_same_steps(tmp_path, clips):  # noqa: F811
    """The loggers' step (batches from 0) everywhere a user reads or sets one
    (max_steps 2 = two batches); Lightning's global_step (two optimiser steps
    per batch) stays inside the checkpoint."""
    import csv

    import torch

    config = write_config(tmp_path / "csv.yaml", clips, max_steps=2, val_check_interval=2, limit_val_batches=1,
                          log_every_n_steps=1)
    logger = tmp_path / "csv_logger.yaml"
    logger.write_text(yaml.safe_dump({"trainer": {"logger": {
        "class_path": "lightning.pytorch.loggers.CSVLogger",
        "init_args": {"save_dir": str(tmp_path / "logs"), "name": "csv"}}}}))
    result = run_cli("fit", "--config", config, "--config", logger, "--run", "steps", "--checkpoint_root",
                     tmp_path / "ckpt", "--trainer.enable_progress_bar", "true")
    assert result.code == 0, result
    bar = result.out + result.err  # Lightning draws its bar on stdout
    assert "step=1" in bar and "step=2" not in bar  # the bar shows the same step
    best = sorted(p.name for p in (tmp_path / "ckpt" / "steps").glob("best-*.ckpt"))
    assert [name.split("-")[1] for name in best] == ["1"], best  # validated after batch 2 (step 1, from 0)
    ckpt = torch.load(tmp_path / "ckpt" / "steps" / best[0], weights_only=True, map_location="cpu")
    assert ckpt["vocoder"]["trained_batches"] == 2 and ckpt["global_step"] == 4
    version = tmp_path / "logs" / "csv" / "version_0"
    with open(version / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    validated = [int(r["step"]) for r in rows if r.get("val_mel_l1")]
    assert validated == [1], rows
    assert max(int(r["step"]) for r in rows) == 1  # batches 1..2 are steps 0..1
    assert sorted(p.name for p in (version / "samples").iterdir()) == ["step0000001"]

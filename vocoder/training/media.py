"""Validation audio and spectrograms: files for any logger, media for W&B."""

from __future__ import annotations

import os

import lightning as L
import torch

from vocoder.frontend.audio import Audio, audio_to_spectrogram
from vocoder.frontend.audiofile import encode_audio, output_format
from vocoder.safety.outputs import AtomicOutputs
from vocoder.training.steps import logging_step


def log_clip(module: L.LightningModule, tag: str, fake: torch.Tensor, real: torch.Tensor) -> None:
    """Write generated audio + a spectrogram comparison under the run's log dir,
    and hand them to Weights & Biases when that is the logger."""
    trainer = module.trainer
    spec = module.spec
    # log_folder, not trainer.log_dir: the latter is a DDP collective and
    # only rank 0 gets here. Without a logger there is nowhere to put clips.
    root = log_folder(trainer.loggers[0]) if trainer.loggers else None
    if not root:
        return
    step = logging_step(trainer)  # as metrics.csv and W&B: batches, not two optimiser steps per batch
    folder = os.path.join(root, "samples", f"step{step:07d}")
    os.makedirs(folder, exist_ok=True)
    name = tag.replace("/", "_")
    wav = os.path.join(folder, f"{name}.wav")
    png = os.path.join(folder, f"{name}.png")
    with AtomicOutputs() as outputs:  # whole files or none, even if training is stopped here
        samples = fake.detach().float().cpu().clamp(-1, 1).unsqueeze(0)
        outputs.write_bytes(wav, encode_audio(samples, spec.sample_rate, output_format(wav)))
        _plot_pair(fake, real, spec, outputs.reserve(png), f"{tag} at step {step}")
    for logger in trainer.loggers:
        if type(logger).__name__ == "WandbLogger":
            import wandb

            # Keyed by trainer/global_step, as WandbLogger logs metrics (not wandb's own step counter).
            logger.experiment.log({f"{tag}/audio": wandb.Audio(wav, sample_rate=spec.sample_rate),
                                   f"{tag}/spectrogram": wandb.Image(png), "trainer/global_step": step})


def log_folder(logger) -> str | None:
    """This run's own folder under ``logger`` (call on rank 0): CSV's and
    TensorBoard's version_N, W&B's run folder (wandb/offline-run-…/, whose
    files/ W&B syncs); None for a logger that keeps nothing on disk."""
    folder = getattr(logger, "log_dir", None)
    if folder:
        return folder
    if type(logger).__name__ == "WandbLogger":
        files = getattr(logger.experiment, "dir", None)  # …/offline-run-…/files
        return os.path.dirname(os.path.normpath(files)) if files else None
    return None


def run_log_folder(trainer) -> str | None:
    """:func:`log_folder` of the first logger, the same on every rank (a collective)."""
    folder = log_folder(trainer.loggers[0]) if trainer.loggers and trainer.is_global_zero else None
    return trainer.strategy.broadcast(folder)


def _plot_pair(fake: torch.Tensor, real: torch.Tensor, spec, path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for ax, wave, label in ((axes[0], real, "reference"), (axes[1], fake, "generated")):
        s = audio_to_spectrogram(Audio(wave.detach().float().cpu().unsqueeze(0), spec.sample_rate), spec)
        seconds = s.frames * spec.hop_length / spec.sample_rate
        ax.imshow(s.log_features()[0].numpy(), origin="lower", aspect="auto", extent=(0, seconds, 0, spec.n_bins))
        ax.set_ylabel(f"{label}\nmel band")
    axes[1].set_xlabel("time (s)")
    fig.suptitle(title)
    fig.savefig(path, format="png", dpi=80)
    plt.close(fig)

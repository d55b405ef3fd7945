"""One step count in training: batches (generator updates).

Manual optimisation with two optimisers makes Lightning's ``global_step``
count two optimiser steps per batch (discriminator, generator); it stays
inside the checkpoint, where Lightning needs it. Everything a user sets or
reads counts batches instead: ``--trainer.max_steps``/``min_steps`` (scaled
here, once, on the trainer Lightning builds), and the step Lightning's
loggers use, which counts batches from 0: the ``step`` column of metrics.csv and W&B's ``trainer/global_step``,
checkpoint file names (``best-{step}-…``) and validation clip folders
(``samples/stepNNNNNNN``), and ``step=`` on the progress bar (whose own
count is batches within the epoch, from 1). A validation after the 3rd batch is step 2 in all
of them; ``HiFiGANModule.batches`` (3 there, saved in every checkpoint as
``trained_batches``) counts batches finished.
"""

from __future__ import annotations

import torch
from lightning.pytorch.callbacks import ModelCheckpoint, TQDMProgressBar


def logging_step(trainer) -> int:
    """The index, from 0, of the last batch trained: the step Lightning's
    loggers give that batch's metrics and the validation after it."""
    batches = getattr(trainer.lightning_module, "batches", None)  # HiFiGANModule: batches finished
    if batches is None:
        return int(trainer.fit_loop.epoch_loop._batches_that_stepped)
    return max(int(batches) - 1, 0)


class BatchCheckpoint(ModelCheckpoint):
    """ModelCheckpoint whose ``{step}`` in file names is the loggers' step (batches)."""

    def _monitor_candidates(self, trainer) -> dict[str, torch.Tensor]:
        candidates = super()._monitor_candidates(trainer)
        candidates["step"] = torch.tensor(logging_step(trainer))
        return candidates


class StepProgressBar(TQDMProgressBar):
    """Lightning's bar (batches within the epoch) with ``step=`` the loggers' step."""

    def get_metrics(self, trainer, pl_module):
        items = super().get_metrics(trainer, pl_module)
        items["step"] = logging_step(trainer)
        return items


def show_logging_step(trainer) -> None:
    """Swap Lightning's default progress bar for :class:`StepProgressBar` (same settings)."""
    for i, callback in enumerate(trainer.callbacks):
        if type(callback) is TQDMProgressBar:
            trainer.callbacks[i] = StepProgressBar(callback.refresh_rate, callback.process_position,
                                                   callback._leave)


# HiFiGANModule steps the discriminators' optimiser, then the generator's, once per batch.
OPTIMISER_STEPS_PER_BATCH = 2


def count_batches(trainer) -> None:
    """Make ``max_steps``/``min_steps`` (given in batches) mean batches to a
    loop that counts optimiser steps; -1/None (no limit) stay as they are."""
    loop = trainer.fit_loop.epoch_loop
    if loop.max_steps is not None and loop.max_steps > 0:
        loop.max_steps = OPTIMISER_STEPS_PER_BATCH * loop.max_steps
    if loop.min_steps:
        loop.min_steps = OPTIMISER_STEPS_PER_BATCH * loop.min_steps

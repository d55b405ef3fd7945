"""One step count in training: Lightning's logging step, which counts batches.

Manual optimisation with two optimisers makes Lightning's ``global_step``
count two optimiser steps per batch (discriminator, generator), and
``trainer.max_steps`` counts those. Everything a user reads instead uses the
step Lightning's loggers use, which counts batches (generator updates) from
0: the ``step`` column of metrics.csv and W&B's ``trainer/global_step``,
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

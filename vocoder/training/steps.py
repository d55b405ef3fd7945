"""One step count in training: Lightning's logging step, which counts batches.

Manual optimisation with two optimisers makes Lightning's ``global_step``
count two optimiser steps per batch (discriminator, generator), and
``trainer.max_steps`` counts those. Everything a user reads instead uses the
step Lightning's loggers use, which counts batches (generator updates) from
0: the ``step`` column of metrics.csv and W&B's ``trainer/global_step``,
checkpoint file names (``best-{step}-…``) and validation clip folders
(``samples/stepNNNNNNN``). A validation after the 3rd batch is step 2 in all
of them; ``HiFiGANModule.batches`` (3 there, saved in every checkpoint as
``trained_batches``) counts batches finished.
"""

from __future__ import annotations

import torch
from lightning.pytorch.callbacks import ModelCheckpoint


def logging_step(trainer) -> int:
    """The step Lightning's loggers are writing now (batches, from 0)."""
    return int(trainer.fit_loop.epoch_loop._batches_that_stepped)


class BatchCheckpoint(ModelCheckpoint):
    """ModelCheckpoint whose ``{step}`` in file names is the loggers' step (batches)."""

    def _monitor_candidates(self, trainer) -> dict[str, torch.Tensor]:
        candidates = super()._monitor_candidates(trainer)
        candidates["step"] = torch.tensor(logging_step(trainer))
        return candidates

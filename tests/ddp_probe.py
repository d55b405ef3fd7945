"""A callback the DDP test loads by class_path: each rank writes a checksum of its generator."""

import os

import lightning as L
import torch


class GeneratorChecksum(L.Callback):
    def __init__(self, folder: str):
        self.folder = folder

    def on_train_end(self, trainer, pl_module):
        total = sum(float(p.detach().double().sum()) for p in pl_module.generator.parameters())
        with open(os.path.join(self.folder, f"rank{trainer.global_rank}.txt"), "w") as fh:
            fh.write(repr(total))

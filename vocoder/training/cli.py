"""`vocoder fit|validate|test`: LightningCLI over HiFiGANModule + AudioDataModule.

Every option is a command-line override (``--model.lr 1e-4``,
``--data.data_dir DIR``, ``--trainer.devices 2``); ``--print_config`` shows
the merged result. ``--run NAME`` names the checkpoint folder
``checkpoints/NAME`` (``--checkpoint_root`` moves ``checkpoints``).
"""

from __future__ import annotations

import os
import sys
from argparse import ArgumentError
from typing import Sequence

from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from vocoder.errors import VocoderError
from vocoder.training.data import AudioDataModule
from vocoder.training.module import HiFiGANModule

SUBCOMMANDS = ("fit", "validate", "test")


class VocoderCLI(LightningCLI):
    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_argument("--run", default="hifigan", help="run name: checkpoints go to CHECKPOINT_ROOT/RUN/")
        parser.add_argument("--checkpoint_root", default="checkpoints", help="folder holding one folder per run")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({
            "checkpoint.monitor": "val_mel_l1", "checkpoint.mode": "min", "checkpoint.save_last": True,
            "checkpoint.save_top_k": 1, "checkpoint.filename": "best-{step}-{val_mel_l1:.4f}",
            "checkpoint.auto_insert_metric_name": False,
        })
        parser.link_arguments(("checkpoint_root", "run"), "checkpoint.dirpath", compute_fn=os.path.join)
        # One spec for data and model: the model's preset follows the data's.
        parser.link_arguments("data.preset", "model.preset")


    def before_instantiate_classes(self) -> None:
        # Each GAN update leaves the other network's parameters without
        # gradients, which plain DDP rejects; the same DDP with unused-parameter
        # detection is what a GAN needs, so "ddp" means that here.
        trainer = self.config[self.subcommand].trainer if self.subcommand else self.config.trainer
        if trainer.strategy == "ddp":
            trainer.strategy = "ddp_find_unused_parameters_true"
            print("vocoder: strategy ddp → ddp_find_unused_parameters_true (D and G updates each leave the "
                  "other network unused)", file=sys.stderr)


def run(argv: Sequence[str]) -> int:
    """Entry point used by ``vocoder.cli`` for fit/validate/test."""
    saved = sys.argv
    # LightningCLI reads sys.argv (and warns when given both it and args).
    sys.argv = [saved[0] if saved else "vocoder", *argv]
    # Parse errors raise instead of printing the whole usage: one line, exit 2.
    no_exit = {"exit_on_error": False}
    try:
        VocoderCLI(HiFiGANModule, AudioDataModule, seed_everything_default=1234,
                   save_config_kwargs={"overwrite": True}, auto_configure_optimizers=False,
                   parser_kwargs={**no_exit, **{name: no_exit for name in SUBCOMMANDS}})
    except VocoderError as exc:
        print(f"vocoder: error: {exc}", file=sys.stderr)
        return 2
    except ArgumentError as exc:
        message = " ".join(str(exc).split())  # jsonargparse messages can span lines
        print(f"vocoder: error: {message} (see vocoder {argv[0] if argv else 'fit'} --help)", file=sys.stderr)
        return 2
    finally:
        sys.argv = saved
    return 0

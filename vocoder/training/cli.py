"""`vocoder fit|validate|test`: LightningCLI over HiFiGANModule + AudioDataModule.

Every option is a command-line override (``--model.lr 1e-4``,
``--data.data_dir DIR``, ``--trainer.devices 2``); ``--print_config`` shows
the merged result. ``--run NAME`` names the checkpoint folder ``runs/NAME``
(``--checkpoint_root`` moves ``runs``; the committed ``checkpoints/`` holds
published models and is never written by default).

What training writes follows ``vocoder.safety.outputs``: a run folder that already
holds files, or a config.yaml that exists, is refused unless ``--force``; a
resumed run never writes into the folder of the checkpoint it starts from;
every checkpoint is written to a temporary and renamed when complete, so a
stopped run leaves its last complete checkpoint and no partial file.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings
import zipfile
from argparse import ArgumentError
from typing import Any, Optional, Sequence

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback

from vocoder.errors import VocoderError
from vocoder.models import registry
from vocoder.safety import budget
from vocoder.safety.outputs import FORCE_FLAG, AtomicOutputs, existing_input, inside
from vocoder.safety.text import shown, terminal_line
from vocoder.training import memory
from vocoder.training.data import AudioDataModule
from vocoder.training.media import run_log_folder
from vocoder.training.module import HiFiGANModule
from vocoder.training.paths import resolve_data_paths
from vocoder.training.steps import BatchCheckpoint, count_batches, show_logging_step

SUBCOMMANDS = ("fit", "validate", "test")
DEFAULT_CHECKPOINT_ROOT = "runs"  # gitignored; checkpoints/ holds the published, committed models
from vocoder.models.store import META_KEY, torch_load_weights  # where a vocoder checkpoint keeps its spec and architecture
# Lightning's ckpt_path shorthands, which name no file.
_SHORTHANDS = ("last", "best", "hpc", "registry")


def check_checkpoint(path: str, resume: bool) -> dict[str, tuple[int, ...]]:
    """Refuse a missing, pickled or foreign checkpoint in one line; return the
    shape of every weight it holds (to compare with the configured model).

    Read with ``torch.load(weights_only=True)``: a pickled object is refused,
    never executed. ``resume`` (fit) also needs the optimiser and loop state.
    """
    if path in _SHORTHANDS and not os.path.exists(path):
        raise VocoderError(f"--ckpt_path {path!r} is a Lightning shorthand vocoder does not use; give the "
                           "checkpoint file's path")
    existing_input(path, "checkpoint")
    if not zipfile.is_zipfile(path):
        raise VocoderError(f"{path} is not a PyTorch checkpoint (expected a .ckpt written by `vocoder fit`)")
    checkpoint = torch_load_weights(path, "a training checkpoint")  # budget-checked, pickles refused
    meta = checkpoint.get(META_KEY) if isinstance(checkpoint, dict) else None
    if not isinstance(meta, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise VocoderError(f"{path} is not a vocoder training checkpoint (no '{META_KEY}' metadata or weights); "
                           "it may be from another project, or an export (.safetensors is for `invert`)")
    architecture = meta.get("architecture", meta.get("model"))  # format 2, or the first format's key
    if architecture not in registry.names():
        raise VocoderError(f"{path} holds a {shown(architecture)} model; vocoder trains "
                           f"{', '.join(registry.names())}")
    if resume and not all(k in checkpoint for k in ("optimizer_states", "loops")):
        raise VocoderError(f"{path} holds weights only (no optimiser or loop state); `fit --ckpt_path` resumes "
                           "from a full training checkpoint such as last.ckpt")
    return {k: tuple(v.shape) for k, v in checkpoint["state_dict"].items() if isinstance(v, torch.Tensor)}


def _fit_mismatch(path: str, saved: dict[str, tuple[int, ...]], model: torch.nn.Module) -> str | None:
    """Why the checkpoint's weights do not fit the configured model, or None."""
    wanted = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = sorted(set(wanted) - set(saved))
    extra = sorted(set(saved) - set(wanted))
    shapes = sorted(k for k in set(wanted) & set(saved) if wanted[k] != saved[k])
    if not (missing or extra or shapes):
        return None
    parts = []
    if shapes:
        k = shapes[0]
        parts.append(f"{len(shapes)} weights differ in shape (e.g. {k}: {list(saved[k])} in the checkpoint, "
                     f"{list(wanted[k])} in the model)")
    if missing:
        parts.append(f"{len(missing)} weights are missing (e.g. {missing[0]})")
    if extra:
        parts.append(f"{len(extra)} are not in the model (e.g. {extra[0]})")
    return (f"checkpoint {path} does not fit the configured model: {'; '.join(parts)}; use the config it was "
            "trained with")


def check_run_folder(folder: str, force: bool, ckpt_path: str | None) -> None:
    """The checkpoint folder fit writes into: never the resumed checkpoint's
    folder; an existing one with files only with --force."""
    if ckpt_path and os.path.lexists(folder) and inside(ckpt_path, folder):
        raise VocoderError(f"--ckpt_path {ckpt_path} is in {folder}, the folder this run writes its checkpoints "
                           "to: resuming there would replace the checkpoint it starts from; give the resumed run "
                           "a new --run NAME (the old run stays as it is)")
    if not os.path.lexists(folder):
        return
    if not os.path.isdir(folder):
        raise VocoderError(f"the run folder {folder} exists and is not a folder")
    with os.scandir(folder) as entries:
        if any(True for _ in entries) and not force:
            raise VocoderError(f"the run folder {folder} already holds files from an earlier run; add {FORCE_FLAG} "
                               "to write into it, or choose another --run NAME")


class AtomicCheckpointIO(TorchCheckpointIO):
    """Each checkpoint goes to a temporary beside it and is renamed when
    complete: a run stopped mid-save keeps its previous checkpoint intact."""

    def __init__(self, inputs: Sequence[str] = ()) -> None:
        self.inputs = [p for p in inputs if p]

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        created = not os.path.isdir(folder)
        os.makedirs(folder, exist_ok=True)
        try:
            # The run folder was checked at the start; within a run, last.ckpt is re-saved on purpose.
            buffer = io.BytesIO()  # serialised first, so a full disk is an OSError we can name
            torch.save(checkpoint, buffer)
            with AtomicOutputs(inputs=self.inputs, force=True) as outputs:
                outputs.write_bytes(path, buffer.getbuffer())
        except BaseException:
            if created:
                with contextlib.suppress(OSError):
                    os.rmdir(folder)  # only if nothing else went there
            raise


class SaveConfig(SaveConfigCallback):
    """The merged config.yaml, written whole or not at all: for fit into the
    run folder beside its checkpoints (new, or --force, checked at the start),
    and into the logger's folder when there is a logger. An existing file is
    replaced only with --force: one line, not Lightning's traceback."""

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self.already_saved:
            return
        force = bool(self.config.get("force"))
        targets = []
        run_folder = (self.config.get("checkpoint") or {}).get("dirpath") if stage == "fit" else None
        if run_folder:
            targets.append(os.path.join(run_folder, self.config_filename))
        log_folder = run_log_folder(trainer) if trainer.loggers else None  # collective: every rank
        if log_folder:  # this run's own folder (W&B: its run folder, not the shared save_dir)
            targets.append(os.path.join(log_folder, self.config_filename))
        targets = list(dict.fromkeys(targets))
        clash = next((t for t in targets if os.path.lexists(t)), None) if trainer.is_global_zero else None
        clash = trainer.strategy.broadcast(clash)
        if clash and not force:
            raise VocoderError(f"{clash} already exists (an earlier run's config); add {FORCE_FLAG} to replace "
                               "it, or choose another --run NAME or log folder")
        if trainer.is_global_zero and targets:
            text = self.parser.dump(self.config, skip_none=False)
            inputs = [os.fspath(c) for c in (self.config.get("config") or [])]
            for target in targets:
                os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
            with AtomicOutputs(inputs=inputs, force=force) as outputs:
                for target in targets:
                    outputs.write_text(target, text)
        self.already_saved = trainer.strategy.broadcast(True)


class VocoderCLI(LightningCLI):
    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_argument("--run", default="hifigan", help="run name: checkpoints go to CHECKPOINT_ROOT/RUN/")
        parser.add_argument("--checkpoint_root", default=DEFAULT_CHECKPOINT_ROOT,
                            help="folder holding one folder per run (default: runs)")
        parser.add_argument("--force", action="store_true",
                            help="write into a run folder that holds files, replace an existing config.yaml")
        parser.add_argument("--max-memory", type=Optional[str], default=None,
                            help=f"refuse runs estimated to need more memory, e.g. 8G (default: ${budget.ENV}, "
                                 "else half of this machine's memory)")
        parser.add_lightning_class_args(BatchCheckpoint, "checkpoint")  # {step} = batches, as the logs
        parser.set_defaults({
            "checkpoint.monitor": "val_mel_l1", "checkpoint.mode": "min", "checkpoint.save_last": True,
            "checkpoint.save_top_k": 1, "checkpoint.filename": "best-{step}-{val_mel_l1:.4f}",
            "checkpoint.auto_insert_metric_name": False,
        })
        parser.link_arguments(("checkpoint_root", "run"), "checkpoint.dirpath", compute_fn=os.path.join)
        # One spec for data and model: the model's preset follows the data's.
        parser.link_arguments("data.preset", "model.preset")


    def parse_arguments(self, parser: LightningArgumentParser, args) -> None:
        super().parse_arguments(parser, args)
        # Before LightningCLI itself opens --ckpt_path (to read its hyper-parameters).
        subcommand = self.config.get("subcommand")
        config = self.config[subcommand] if subcommand else self.config
        ckpt_path = config.get("ckpt_path")
        budget.set_limit(budget.parse_size(config.max_memory) if config.get("max_memory") else None)
        resolve_data_paths(config.data, sys.argv[1:] if args is None else args)  # relative to their config file
        self._saved_shapes = check_checkpoint(ckpt_path, resume=subcommand == "fit") if ckpt_path else None
        if subcommand == "fit":
            check_run_folder(config.checkpoint.dirpath, bool(config.get("force")), ckpt_path)
        self._protected = [ckpt_path, *(os.fspath(c) for c in (config.get("config") or []))]

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        # Each GAN update leaves the other network's parameters without
        # gradients, which plain DDP rejects; the same DDP with unused-parameter
        # detection is what a GAN needs, so "ddp" means that here.
        # Memory is bounded before work starts: the networks are sized on the meta device.
        memory.check(self.subcommand, config)
        trainer = config.trainer
        if trainer.strategy == "ddp":
            trainer.strategy = "ddp_find_unused_parameters_true"
            print("vocoder: strategy ddp → ddp_find_unused_parameters_true (D and G updates each leave the "
                  "other network unused)", file=sys.stderr)

    def instantiate_trainer(self, **kwargs: Any):
        trainer = super().instantiate_trainer(**kwargs)
        if type(trainer.strategy.checkpoint_io) is TorchCheckpointIO:
            trainer.strategy.checkpoint_io = AtomicCheckpointIO(getattr(self, "_protected", ()))
        show_logging_step(trainer)  # step= on the bar, as in metrics.csv and checkpoint names
        count_batches(trainer)  # --trainer.max_steps/min_steps in batches, as every step a user reads
        return trainer

    def _check_checkpoint_fits(self) -> None:
        if getattr(self, "_saved_shapes", None) is not None:
            ckpt_path = self.config[self.subcommand].get("ckpt_path")
            problem = _fit_mismatch(ckpt_path, self._saved_shapes, self.model)
            if problem:
                raise VocoderError(problem)

    before_fit = before_validate = before_test = _check_checkpoint_fits


def run(argv: Sequence[str]) -> int:
    """Entry point used by ``vocoder.cli`` for fit/validate/test."""
    saved = sys.argv
    # LightningCLI reads sys.argv (and warns when given both it and args).
    sys.argv = [saved[0] if saved else "vocoder", *argv]
    # Parse errors raise instead of printing the whole usage: one line, exit 2.
    no_exit = {"exit_on_error": False}
    # We check the run folder ourselves (refused unless --force) and put config.yaml in it first.
    warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
    # "Seed set to N" would precede every one-line error; the seed is in the run's config.yaml.
    logging.getLogger("lightning.fabric.utilities.seed").setLevel(logging.WARNING)
    try:
        VocoderCLI(HiFiGANModule, AudioDataModule, seed_everything_default=1234,
                   trainer_defaults={"enable_progress_bar": sys.stderr.isatty()},  # quiet in logs unless asked
                   save_config_callback=SaveConfig, auto_configure_optimizers=False,
                   parser_kwargs={**no_exit, **{name: no_exit for name in SUBCOMMANDS}})
    except VocoderError as exc:
        print(terminal_line(f"vocoder: error: {' '.join(str(exc).split())}"), file=sys.stderr)
        return 2
    except ArgumentError as exc:
        message = " ".join(str(exc).split())  # jsonargparse messages can span lines
        print(terminal_line(f"vocoder: error: {message} (see vocoder {argv[0] if argv else 'fit'} --help)"),
              file=sys.stderr)
        return 2
    finally:
        sys.argv = saved
    return 0

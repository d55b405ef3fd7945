"""HiFi-GAN training as a LightningModule with manual optimisation.

Step order per batch follows HiFi-GAN's train.py: discriminators first on
(real, detached fake), then the generator on mel L1 + feature matching +
adversarial loss.

Counting: Lightning's ``trainer.global_step`` counts optimiser steps, and
every batch makes two (discriminator, generator); ``vocoder fit`` scales
``max_steps`` so that users set and read batches (vocoder/training/steps.py).
The learning-rate decay below counts batches too.
"""

from __future__ import annotations

from typing import Any, Callable

import lightning as L
import torch
from torch import nn

from vocoder.errors import VocoderError
from vocoder.models import (
    LogMel, MultiPeriodDiscriminator, MultiScaleDiscriminator,
    discriminator_loss, feature_matching_loss, generator_adversarial_loss, registry,
)
from vocoder.models.loading import load_into_training_generator
from vocoder.models.store import FORMAT, META_KEY  # checkpoint metadata (plain JSON types)
from vocoder.spec import get_preset

# Builds a generator of a registered architecture from the number of input bands.
GeneratorFactory = Callable[[int], nn.Module]


class NonFiniteLossError(VocoderError):
    """A loss became NaN/inf: training stops before the weights are touched."""


class HiFiGANModule(L.LightningModule):
    """Generator + MPD + MSD, trained as in HiFi-GAN (Kong et al. 2020).

    The generator may be of any registered architecture
    (:mod:`vocoder.models.registry`): its declaration says what it consumes,
    how it is checked against the spec and what the checkpoints record.

    Args:
        generator: builds the generator from the number of input bands (a
            ``class_path`` in YAML; ``init_args`` omit the bands, which come
            from ``preset``). None: the default architecture's default layout
            (HiFi-GAN V1).
        mpd, msd: the discriminators (``class_path`` components).
        preset: the spectrogram spec the model consumes (linked to the data's).
        lr: AdamW learning rate, both networks (HiFi-GAN: 2e-4).
        betas: AdamW betas (HiFi-GAN: 0.8, 0.99).
        weight_decay: AdamW weight decay (HiFi-GAN uses torch's default 0.01).
        lr_decay: ExponentialLR gamma (HiFi-GAN: 0.999).
        lr_decay_every: batches between decay steps. HiFi-GAN decays once per
            epoch; on LJ Speech (12,950 training clips, batch 16, drop_last)
            that is 809 batches, the default here, so the schedule no longer
            depends on the dataset's size.
        grad_clip: max gradient norm for both networks; None: no clipping.
        mel_weight, feature_weight, adversarial_weight: HiFi-GAN's 45 / 2 / 1.
        loss_fmax: top of the loss mel; None: Nyquist (HiFi-GAN "fmax_for_loss": null).
        log_audio: validation clips saved/logged as audio + spectrogram.
        init_generator: start the generator from published or exported
            weights (a name from `vocoder models`, a .safetensors or a .ckpt)
            instead of random ones: fine-tuning. The discriminators start fresh.
            The architecture must match; the checkpoints record the origin.
    """

    def __init__(self, generator: GeneratorFactory | None = None, mpd: nn.Module | None = None,
                 msd: nn.Module | None = None, preset: str = "hifigan", lr: float = 2e-4,
                 betas: tuple[float, float] = (0.8, 0.99), weight_decay: float = 0.01, lr_decay: float = 0.999,
                 lr_decay_every: int = 809, grad_clip: float | None = None, mel_weight: float = 45.0,
                 feature_weight: float = 2.0, adversarial_weight: float = 1.0, loss_fmax: float | None = None,
                 log_audio: int = 2, init_generator: str | None = None):
        super().__init__()
        self.save_hyperparameters(ignore=["generator", "mpd", "msd"])
        self.automatic_optimization = False
        self.spec = get_preset(preset)
        self.generator = (generator or registry.default_generator)(self.spec.n_bins)
        self.architecture = registry.of(self.generator)
        if self.spec.axis.kind != self.architecture.scale:
            raise VocoderError(f"{self.architecture.name} consumes {self.architecture.scale} spectrograms; preset "
                               f"{preset!r} is {self.spec.axis.kind}")
        hop = self.architecture.hop_length(self.architecture.config_of(self.generator))
        if hop != self.spec.hop_length:
            raise VocoderError(f"the generator upsamples by {hop} but preset {preset!r} has hop "
                               f"{self.spec.hop_length}")
        self.init_from: dict[str, Any] | None = None
        if init_generator:
            self.init_from = self._load_initial_generator(init_generator)
        self.mpd = mpd if mpd is not None else MultiPeriodDiscriminator()
        self.msd = msd if msd is not None else MultiScaleDiscriminator()
        self.loss_mel = LogMel(self.spec, fmax=loss_fmax)
        self.batches = 0  # generator updates so far (restored on resume)

    def _load_initial_generator(self, reference: str) -> dict[str, Any]:
        import sys

        loaded = load_into_training_generator(self.generator, reference)
        if loaded.spec != self.spec:
            raise VocoderError(f"--model.init_generator {reference} was trained on another spec than preset "
                               f"{self.hparams.preset!r}: " + "; ".join(loaded.spec.differences(self.spec)))
        print(f"vocoder: generator starts from {loaded.name} (weights sha256 {loaded.sha256[:16]}…, trained on "
              f"{loaded.meta.get('training_data') or 'unrecorded data'})", file=sys.stderr)
        return {"name": loaded.name, "weights_sha256": loaded.sha256,
                "training_data": loaded.meta.get("training_data"), "licence": loaded.meta.get("licence")}

    # -- optimisation -------------------------------------------------------

    def configure_optimizers(self):
        h = self.hparams
        opt_g = torch.optim.AdamW(self.generator.parameters(), h.lr, betas=tuple(h.betas), weight_decay=h.weight_decay)
        opt_d = torch.optim.AdamW(list(self.mpd.parameters()) + list(self.msd.parameters()), h.lr,
                                  betas=tuple(h.betas), weight_decay=h.weight_decay)
        sched_g = torch.optim.lr_scheduler.ExponentialLR(opt_g, gamma=h.lr_decay)
        sched_d = torch.optim.lr_scheduler.ExponentialLR(opt_d, gamma=h.lr_decay)
        # "interval: step" with manual optimisation: we step them ourselves.
        return [opt_g, opt_d], [{"scheduler": sched_g, "interval": "step"},
                                {"scheduler": sched_d, "interval": "step"}]

    def _check_finite(self, losses: dict[str, torch.Tensor]) -> None:
        finite = all(bool(torch.isfinite(v)) for v in losses.values())
        # Every DDP rank must agree, or the healthy ones would wait forever.
        if self.trainer.strategy.reduce_boolean_decision(finite, all=True):
            return
        values = ", ".join(f"{k}={float(v.detach()):.4g}" for k, v in losses.items())
        raise NonFiniteLossError(
            f"non-finite loss at batch {self.batches} (global step {self.global_step}): {values}; training "
            "stopped before this update, so the last saved checkpoint is still good (lower the learning rate "
            "or set --model.grad_clip, then resume with --ckpt_path .../last.ckpt)"
        )

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        h = self.hparams
        mel, audio = batch
        opt_g, opt_d = self.optimizers()
        fake = self.generator(mel)

        # Discriminators on real vs detached fake.
        r_p, _, f_p, _ = (*self.mpd(audio), *self.mpd(fake.detach()))
        r_s, _, f_s, _ = (*self.msd(audio), *self.msd(fake.detach()))
        loss_d = discriminator_loss(r_p, f_p) + discriminator_loss(r_s, f_s)
        self._check_finite({"loss_d": loss_d})
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss_d)
        if h.grad_clip:
            self.clip_gradients(opt_d, gradient_clip_val=h.grad_clip, gradient_clip_algorithm="norm")
        opt_d.step()

        # Generator: mel L1 + feature matching + LSGAN.
        mel_l1 = torch.nn.functional.l1_loss(self.loss_mel(fake), self.loss_mel(audio))
        r_p, fm_rp, f_p, fm_fp = (*self.mpd(audio), *self.mpd(fake))
        r_s, fm_rs, f_s, fm_fs = (*self.msd(audio), *self.msd(fake))
        loss_fm = feature_matching_loss(fm_rp, fm_fp) + feature_matching_loss(fm_rs, fm_fs)
        loss_adv = generator_adversarial_loss(f_p) + generator_adversarial_loss(f_s)
        loss_g = h.mel_weight * mel_l1 + h.feature_weight * loss_fm + h.adversarial_weight * loss_adv
        self._check_finite({"loss_g": loss_g, "mel_l1": mel_l1, "feature": loss_fm, "adversarial": loss_adv})
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss_g)
        if h.grad_clip:
            self.clip_gradients(opt_g, gradient_clip_val=h.grad_clip, gradient_clip_algorithm="norm")
        opt_g.step()

        self.batches += 1
        if self.batches % h.lr_decay_every == 0:
            for scheduler in self.lr_schedulers():
                scheduler.step()
        self.log_dict({"train/loss_d": loss_d, "train/loss_g": loss_g, "train/mel_l1": mel_l1,
                       "train/feature": loss_fm, "train/adversarial": loss_adv,
                       "train/lr": opt_g.param_groups[0]["lr"]}, prog_bar=False, on_step=True, batch_size=len(mel))
        self.log("mel_l1", mel_l1, prog_bar=True, logger=False, batch_size=len(mel))

    # -- evaluation ---------------------------------------------------------

    def _evaluate(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int, stage: str) -> torch.Tensor:
        mel, audio = batch
        fake = self.generator(mel)[..., : audio.shape[-1]]
        mel_l1 = torch.nn.functional.l1_loss(self.loss_mel(fake), self.loss_mel(audio))
        self.log(f"{stage}_mel_l1", mel_l1, prog_bar=True, sync_dist=True, batch_size=len(mel))
        if batch_idx < self.hparams.log_audio and self.trainer.is_global_zero and not self.trainer.sanity_checking:
            from vocoder.training.media import log_clip

            log_clip(self, f"{stage}/clip{batch_idx}", fake[0, 0], audio[0, 0])
        return mel_l1

    def validation_step(self, batch, batch_idx):
        return self._evaluate(batch, batch_idx, "val")

    def test_step(self, batch, batch_idx):
        return self._evaluate(batch, batch_idx, "test")

    # -- checkpoints --------------------------------------------------------

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Plain JSON types only, so `torch.load(weights_only=True)` can read it
        # and the inference backend needs no training code.
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        describe = getattr(datamodule, "describe", None)
        checkpoint[META_KEY] = {"format": FORMAT, "architecture": self.architecture.name,
                                "spec": self.spec.to_dict(), "config": self.architecture.config_of(self.generator),
                                "trained_batches": self.batches,
                                "training_data": describe() if describe else None, "init_from": self.init_from}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        meta = checkpoint.get(META_KEY, {})
        self.batches = int(meta.get("trained_batches", meta.get("batches", 0)) or 0)

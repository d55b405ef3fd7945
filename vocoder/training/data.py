"""Audio folders or file lists → (log-mel, waveform) batches for vocoder training.

Training items are random segments (8192 samples by default, HiFi-GAN's
``segment_size``) whose position is a function of (seed, epoch, index) only,
so a run resumed from an end-of-epoch checkpoint sees the same data as an
uninterrupted one (mid-epoch, Lightning restarts the epoch's iterator). Validation items are a fixed
set of whole clips (optionally capped in length). Mels come from the
project's front end under the spec, exactly as inference will compute them.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Iterator

import lightning as L
import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from vocoder.errors import VocoderError
from vocoder.frontend.audio import Audio, audio_to_spectrogram, read_audio, resample
from vocoder.frontend.audiofile import AUDIO_SUFFIXES
from vocoder.safety.outputs import existing_input, reading
from vocoder.spec import SpectrogramSpec, get_preset

# HiFi-GAN meldataset.py scales every clip to a peak of 0.95 before cutting.
PEAK = 0.95


def list_audio(data_dir: str | None, file_list: str | None) -> list[str]:
    """Sorted audio files under ``data_dir``, or the paths in ``file_list``
    (one per line, relative to the list's folder; '#' starts a comment)."""
    if file_list:
        existing_input(file_list, "file list")
        base = Path(file_list).parent
        lines = [ln.split("#", 1)[0].strip() for ln in Path(reading(file_list)).read_text().splitlines()]
        return [str(base / ln) if not os.path.isabs(ln) else ln for ln in lines if ln]
    if not data_dir:
        raise VocoderError("no training audio given: set --data.data_dir DIR or --data.file_list FILE")
    if not os.path.isdir(data_dir):
        raise VocoderError(f"audio folder not found: {data_dir} (set --data.data_dir or --data.file_list; a "
                           "relative path in a config file is relative to that file's folder)")
    files = sorted(str(p) for p in Path(data_dir).rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise VocoderError(f"no .wav/.flac/.ogg files under {data_dir}")
    return files


def check_options(segment: int, batch_size: int, repeats: int, num_workers: int, val_count: int,
                  val_max_seconds: float | None, hop_length: int) -> None:
    """Data options outside sense are one line each, before anything is read or built."""
    if not (isinstance(segment, int) and segment > 0 and segment % hop_length == 0):
        raise VocoderError(f"--data.segment must be a positive multiple of the hop ({hop_length}); got {segment}")
    for name, value, low in (("batch_size", batch_size, 1), ("repeats", repeats, 1),
                             ("num_workers", num_workers, 0), ("val_count", val_count, 0)):
        if not (isinstance(value, int) and value >= low):
            raise VocoderError(f"--data.{name} must be a whole number of at least {low}; got {value}")
    if val_max_seconds is not None and not (math.isfinite(val_max_seconds) and val_max_seconds > 0):
        raise VocoderError(f"--data.val_max_seconds must be a positive number of seconds; got {val_max_seconds}")


def split_files(data_dir: str | None, file_list: str | None, val_files: list[str] | None,
                val_count: int) -> tuple[list[str], list[str]]:
    """(training files, validation files): the explicit ``val_files``, else the
    last ``val_count`` sorted files, so the split never changes between runs."""
    files = list_audio(data_dir, file_list)
    if val_files:
        val = list(val_files)
        return [f for f in files if f not in set(val)], val
    if len(files) <= val_count:
        raise VocoderError(f"{len(files)} audio files cannot spare {val_count} for validation")
    return files[: len(files) - val_count], files[len(files) - val_count:]


def load_mono(path: str, spec: SpectrogramSpec, normalize: bool) -> torch.Tensor:
    """First channel at the spec's rate, optionally peak-normalised (1-D float32)."""
    audio = resample(read_audio(path), spec.sample_rate)
    wave = audio.samples[0]
    if normalize:
        wave = wave * (PEAK / wave.abs().max().clamp_min(1e-9))
    return wave


def log_mel(wave: torch.Tensor, spec: SpectrogramSpec) -> torch.Tensor:
    """(samples,) → (n_mels, samples // hop) through the front end."""
    return audio_to_spectrogram(Audio(wave.unsqueeze(0), spec.sample_rate), spec).log_features()[0]


class SegmentDataset(Dataset):
    """Index k = epoch · len + i → a random segment of file i % n_files.

    :class:`EpochSampler` yields such indices; the segment offset is drawn
    from an RNG seeded by (seed, k), never from global state.
    """

    def __init__(self, files: list[str], spec: SpectrogramSpec, segment: int, repeats: int = 1,
                 seed: int = 0, normalize: bool = True):
        if segment % spec.hop_length:
            raise VocoderError(f"segment ({segment}) must be a multiple of the hop ({spec.hop_length})")
        self.files, self.spec, self.segment = files, spec, segment
        self.repeats, self.seed, self.normalize = repeats, seed, normalize

    def __len__(self) -> int:
        return len(self.files) * self.repeats

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        wave = load_mono(self.files[(k % len(self)) % len(self.files)], self.spec, self.normalize)
        rng = np.random.default_rng([self.seed, int(k)])
        if wave.numel() >= self.segment:
            start = int(rng.integers(0, wave.numel() - self.segment + 1))
            wave = wave[start:start + self.segment]
        else:  # HiFi-GAN pads short clips with zeros
            wave = torch.nn.functional.pad(wave, (0, self.segment - wave.numel()))
        return log_mel(wave, self.spec), wave.unsqueeze(0)


class EpochSampler(DistributedSampler):
    """Shuffled order from (seed, epoch), split across DDP ranks, yielding
    epoch-tagged indices so segments differ per epoch yet replay exactly.

    Being a DistributedSampler, Lightning calls its ``set_epoch`` and does not
    wrap it again under DDP.
    """

    def __init__(self, dataset: SegmentDataset, seed: int):
        ddp = dist.is_available() and dist.is_initialized()
        super().__init__(dataset, num_replicas=dist.get_world_size() if ddp else 1,
                         rank=dist.get_rank() if ddp else 0, shuffle=True, seed=seed)

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)  # type: ignore[arg-type]
        return (self.epoch * n + i for i in super().__iter__())


class ClipDataset(Dataset):
    """Whole validation clips (first ``max_samples``), trimmed to whole frames."""

    def __init__(self, files: list[str], spec: SpectrogramSpec, max_samples: int | None, normalize: bool = True):
        self.files, self.spec, self.max_samples, self.normalize = files, spec, max_samples, normalize

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        wave = load_mono(self.files[i], self.spec, self.normalize)
        if self.max_samples:
            wave = wave[: self.max_samples]
        wave = wave[: wave.numel() // self.spec.hop_length * self.spec.hop_length]
        return log_mel(wave, self.spec), wave.unsqueeze(0)


class AudioDataModule(L.LightningDataModule):
    """Training and validation data for a vocoder.

    Args:
        data_dir: folder searched recursively for .wav/.flac/.ogg.
        file_list: text file of audio paths instead of a folder.
            Through `vocoder fit`, relative data paths in a config file are
            relative to that file's folder (``vocoder.training.paths``).
        val_files: explicit validation clips; otherwise the last ``val_count``
            files (sorted) are held out, so the split never changes between runs.
        preset: the SpectrogramSpec preset the mels are computed with.
        segment: training segment in samples (HiFi-GAN: 8192).
        batch_size: items per batch *per device*; under DDP the global batch is
            batch_size × devices × num_nodes (HiFi-GAN V1: 16 global).
        repeats: passes over each file per epoch (small sets make tiny epochs).
        val_max_seconds: cap on each validation clip's length.
    """

    def __init__(self, data_dir: str | None = None, file_list: str | None = None,
                 val_files: list[str] | None = None, val_count: int = 2, preset: str = "hifigan",
                 segment: int = 8192, batch_size: int = 16, repeats: int = 1, num_workers: int = 0,
                 val_max_seconds: float | None = None, normalize: bool = True, seed: int = 1234):
        super().__init__()
        self.save_hyperparameters()
        self.spec = get_preset(preset)
        check_options(segment, batch_size, repeats, num_workers, val_count, val_max_seconds, self.spec.hop_length)
        self.train_set: SegmentDataset | None = None
        self.val_set: ClipDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        h = self.hparams
        train, val = split_files(h.data_dir, h.file_list, h.val_files, h.val_count)
        max_samples = int(h.val_max_seconds * self.spec.sample_rate) if h.val_max_seconds else None
        self.train_set = SegmentDataset(train, self.spec, h.segment, h.repeats, h.seed, h.normalize)
        self.val_set = ClipDataset(val, self.spec, max_samples, h.normalize)

    def describe(self) -> str:
        """What the model learns from, for checkpoint metadata and model cards."""
        h = self.hparams
        where = f"folder {os.path.abspath(h.data_dir)}" if h.data_dir else f"file list {os.path.abspath(h.file_list)}"
        n = len(self.train_set.files) if self.train_set is not None else "?"
        return f"{n} audio files from {where} ({h.segment}-sample segments at {self.spec.sample_rate} Hz)"

    def train_dataloader(self) -> DataLoader:
        assert self.train_set is not None
        sampler = EpochSampler(self.train_set, self.hparams.seed)
        if sampler.num_samples < self.hparams.batch_size:
            raise VocoderError(
                f"{len(self.train_set)} training segments per epoch ({sampler.num_replicas} process(es)) cannot fill "
                f"one batch of {self.hparams.batch_size}; lower --data.batch_size or raise --data.repeats")
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size,
                          sampler=sampler,
                          num_workers=self.hparams.num_workers, drop_last=True,
                          persistent_workers=self.hparams.num_workers > 0)

    def val_dataloader(self) -> DataLoader:
        assert self.val_set is not None
        return DataLoader(self.val_set, batch_size=1, num_workers=self.hparams.num_workers)

    def test_dataloader(self) -> DataLoader:
        return self.val_dataloader()

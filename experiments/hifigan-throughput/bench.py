"""Training steps/s and inference real-time factor of the HiFi-GAN configs on this machine.

    .venv/bin/python experiments/hifigan-throughput/bench.py [--train-steps 3] [--batch-size 1]

A training step is one batch: a discriminator and a generator update, as
`vocoder fit` runs it (HiFiGANModule under a Lightning Trainer, CPU). The
models are built from the configs in configs/ (V1-V3 with HiFi-GAN's full
discriminators). Inference: generator with weight norm removed, on the log-mel
of one LJ Speech clip, best of 3; RTF = seconds of compute per second of audio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import lightning as L
import torch
import yaml
from jsonargparse import ArgumentParser

from vocoder.frontend.audio import audio_to_spectrogram, read_audio
from vocoder.models.hifigan import HiFiGANGenerator
from vocoder.spec import get_preset
from vocoder.training import AudioDataModule, HiFiGANModule

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = {"v1": "hifigan_v1.yaml", "v2": "hifigan_v2.yaml", "v3": "hifigan_v3.yaml", "tiny": "hifigan_tiny.yaml"}


def build_module(config_path: Path) -> HiFiGANModule:
    """Instantiate the model section of a config the way LightningCLI does."""
    model = yaml.safe_load(config_path.read_text())["model"]
    parser = ArgumentParser()
    parser.add_class_arguments(HiFiGANModule, "model")
    cfg = parser.parse_object({"model": model})
    return parser.instantiate_classes(cfg).model


class StepTimer(L.Callback):
    def __init__(self, warmup: int):
        self.warmup, self.times = warmup, []

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        if batch_idx >= self.warmup:
            self.times.append(time.perf_counter() - self.start)


def train_rate(module: HiFiGANModule, data_dir: str, steps: int, batch_size: int, segment: int) -> float:
    timer = StepTimer(warmup=1)
    data = AudioDataModule(data_dir=data_dir, batch_size=batch_size, segment=segment, repeats=8)
    trainer = L.Trainer(accelerator="cpu", max_steps=2 * (steps + 1), logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                        callbacks=[timer])
    trainer.fit(module, data)
    return len(timer.times) / sum(timer.times)


def inference_rtf(generator: HiFiGANGenerator, mel: torch.Tensor, seconds: float) -> float:
    generator = generator.eval().remove_weight_norm()
    best = float("inf")
    with torch.inference_mode():
        generator(mel[..., :20])  # warm-up
        for _ in range(3):
            start = time.perf_counter()
            generator(mel)
            best = min(best, time.perf_counter() - start)
    return best / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "audio" / "ljspeech"))
    parser.add_argument("--train-steps", type=int, default=3, help="timed batches after one warm-up batch")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--segment", type=int, default=8192)
    parser.add_argument("--clip", default="LJ001-0001.wav")
    parser.add_argument("--models", nargs="+", default=list(CONFIGS))
    parser.add_argument("--out", default=str(Path(__file__).parent / "results.json"))
    args = parser.parse_args()

    L.seed_everything(0, verbose=False)
    spec = get_preset("hifigan")
    audio = read_audio(os.path.join(args.data_dir, args.clip))
    mel = audio_to_spectrogram(audio, spec).log_features()  # (1, 80, frames)
    seconds = mel.shape[-1] * spec.hop_length / spec.sample_rate
    print(f"load average at start: {os.getloadavg()}", flush=True)
    rows = []
    for name in args.models:
        module = build_module(ROOT / "configs" / CONFIGS[name])
        params = sum(p.numel() for p in HiFiGANGenerator.from_config(module.generator.config())
                     .remove_weight_norm().parameters())
        rtf = inference_rtf(HiFiGANGenerator.from_config(module.generator.config()), mel, seconds)
        steps = train_rate(module, args.data_dir, args.train_steps, args.batch_size, args.segment)
        rows.append({"model": name, "generator_params": params, "train_batches_per_s": steps,
                     "inference_rtf": rtf})
        print(f"{name:5s} G {params / 1e6:6.2f}M  train {steps:7.3f} batches/s  inference RTF {rtf:.3f}", flush=True)
    result = {"command": "python experiments/hifigan-throughput/bench.py " + " ".join(
                  f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k in ("train_steps", "batch_size", "segment")),
              "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                          "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
                          "load_average_1_5_15_min_at_end": os.getloadavg()},
              "clip": args.clip, "clip_seconds": seconds, "batch_size": args.batch_size, "segment": args.segment,
              "rows": rows}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

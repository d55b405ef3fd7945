"""Plot validation and training mel L1 from a CSVLogger metrics.csv.

    .venv/bin/python experiments/hifigan-tiny-smoke/plot.py metrics.csv -o mel_l1.png
"""

from __future__ import annotations

import argparse
import csv

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("metrics")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    rows = list(csv.DictReader(open(args.metrics)))
    # The CSV "step" column is Lightning's count of batches so far, minus one
    # (unlike trainer.global_step, which counts two optimiser steps per batch).
    train = [(int(r["step"]) + 1, float(r["train/mel_l1"])) for r in rows if r.get("train/mel_l1")]
    val = [(int(r["step"]) + 1, float(r["val_mel_l1"])) for r in rows if r.get("val_mel_l1")]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(*zip(*train), lw=1, alpha=0.6, label="train mel L1 (one batch)")
    ax.plot(*zip(*val), "o-", lw=2, label="validation mel L1 (2 held-out clips)")
    ax.set_xlabel("batches (generator updates)")
    ax.set_ylabel("L1 of log-mel (full band)")
    ax.set_title("hifigan_tiny on 22 LJ Speech clips, CPU")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)


if __name__ == "__main__":
    main()

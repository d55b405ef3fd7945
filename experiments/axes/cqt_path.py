"""Is a constant-Q path better for the log axis? Measure it.

The log axis in vocoder is a triangular filterbank on the STFT (see
vocoder/frontend/filterbank.py), inverted by NNLS back to STFT bins and then
by an STFT phase retrieval. The alternative: make the log-frequency picture
with a real constant-Q transform (librosa.cqt: 36 bins per octave from 50 Hz,
hop 256) and invert its magnitude with Griffin-Lim in the CQT domain
(librosa.griffinlim_cqt, which alternates icqt and cqt; 100 iterations,
momentum 0.99, random initial phase seeded as ours). Both are measured against
the original audio with the same spectral convergence (our STFT at the hifigan
preset's framing) and mel L1 as vocoder bench uses.

The CQT magnitude is used in float64, not through a 16-bit PNG: that can only
favour the CQT path (the PNG's quantisation is ~0.0015 dB).

Run from the project root:  .venv/bin/python experiments/axes/cqt_path.py [CLIP ...]
(default: LJ001-0025, trumpet, brahms). Writes experiments/axes/cqt_path.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import librosa
import numpy as np
import torch

from vocoder.evaluation import metrics as m
from vocoder.evaluation.fidelity import mel_spec_for
from vocoder.frontend.audio import read_audio, resample
from vocoder.spec import PRESETS

HERE = Path(__file__).resolve().parent
EVAL = HERE.parents[1].parent / "shared" / "data" / "audio" / "eval"
DEFAULT_CLIPS = ["LJ001-0025.wav", "trumpet.ogg", "brahms_hungarian_dance_5.ogg"]
SPEC = PRESETS["hifigan"]  # rate and framing for the measurement
BINS_PER_OCTAVE, FMIN, HOP, ITERS = 36, 50.0, 256, 100


def n_bins(sr: int) -> int:
    """As many 36-per-octave bins from 50 Hz as librosa allows below Nyquist
    (its highest filter's band must end below Nyquist)."""
    n = int(np.floor(BINS_PER_OCTAVE * np.log2(sr / 2 / FMIN))) + 1
    while True:
        top = FMIN * 2 ** ((n - 1) / BINS_PER_OCTAVE)
        bandwidth = top * (2 ** (1 / BINS_PER_OCTAVE) - 1)  # librosa's default filter_scale 1, no gamma
        if top + bandwidth / 2 < sr / 2:
            return n
        n -= 1


def measure(path: Path) -> dict:
    audio = resample(read_audio(path), SPEC.sample_rate)
    y = audio.samples[0].numpy().astype(np.float64)
    sr = SPEC.sample_rate
    bins = n_bins(sr)
    started = time.perf_counter()
    C = np.abs(librosa.cqt(y, sr=sr, hop_length=HOP, fmin=FMIN, n_bins=bins, bins_per_octave=BINS_PER_OCTAVE))
    encode_s = time.perf_counter() - started
    started = time.perf_counter()
    estimate = librosa.griffinlim_cqt(C, sr=sr, n_iter=ITERS, hop_length=HOP, fmin=FMIN,
                                      bins_per_octave=BINS_PER_OCTAVE, momentum=0.99, init="random",
                                      random_state=0, length=len(y))
    invert_s = time.perf_counter() - started
    reference = torch.from_numpy(y).unsqueeze(0)
    output = torch.from_numpy(estimate.astype(np.float64)).unsqueeze(0)
    return {
        "clip": path.stem, "cqt_bins": bins, "frames": int(C.shape[-1]),
        "sc_db": m.spectral_convergence_db(_linear(reference), _linear(output)),
        "mel_l1": m.mel_l1(reference, output, mel_spec_for(SPEC.as_linear())),
        "encode_seconds": encode_s, "invert_seconds": invert_s,
    }


def _linear(x: torch.Tensor) -> torch.Tensor:
    from vocoder.frontend.stft import magnitude

    return magnitude(x.double(), SPEC.as_linear())


def main() -> None:
    clips = sys.argv[1:] or DEFAULT_CLIPS
    load = os.getloadavg()
    rows = []
    for name in clips:
        row = measure(EVAL / name)
        print(json.dumps(row), flush=True)
        rows.append(row)
    out = {"method": f"librosa {librosa.__version__} cqt ({BINS_PER_OCTAVE}/octave from {FMIN:g} Hz, hop {HOP}) "
                     f"→ griffinlim_cqt ({ITERS} iterations, momentum 0.99, random init, seed 0)",
           "load_average_before": load, "load_average_after": os.getloadavg(), "rows": rows}
    (HERE / "cqt_path.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

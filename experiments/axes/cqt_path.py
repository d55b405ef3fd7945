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

librosa 0.11's icqt does not invert its cqt once the top octave is partial
and close to Nyquist: at 22050 Hz from 50 Hz, 270 or 280 bins (up to
10.9 kHz) give an icqt of the exact complex CQT that is uncorrelated with the
input (27× its norm; `to_nyquist_check` below), while 252 bins (7 whole
octaves, up to 6.3 kHz) work. The CQT path is therefore measured with 252
bins, and its ceiling with the true phase (`oracle_*`: icqt of the complex
CQT) is reported beside the Griffin-Lim result.

Run from the project root:  .venv/bin/python experiments/axes/cqt_path.py [CLIP ...]
(default: every clip of ../shared/data/audio/eval). Writes experiments/axes/cqt_path.json.
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
DEFAULT_CLIPS = sorted(p.name for p in EVAL.iterdir()) if EVAL.is_dir() else []
SPEC = PRESETS["hifigan"]  # rate and framing for the measurement
BINS_PER_OCTAVE, FMIN, HOP, ITERS = 36, 50.0, 256, 100


OCTAVES = 7  # whole octaves from 50 Hz that librosa's icqt inverts at 22050 Hz (see above)
KW = dict(hop_length=HOP, fmin=FMIN, bins_per_octave=BINS_PER_OCTAVE)


def to_nyquist_check(y: np.ndarray, sr: int) -> dict:
    """icqt(cqt(y)) with the exact phase, 7 octaves vs up to Nyquist."""
    out = {}
    for bins in (OCTAVES * BINS_PER_OCTAVE, 280):
        C = librosa.cqt(y, sr=sr, n_bins=bins, **KW)
        y2 = librosa.icqt(C, sr=sr, length=len(y), **KW)
        gain = float(y2 @ y / (y2 @ y2))
        out[str(bins)] = {"norm_ratio": float(np.linalg.norm(y2) / np.linalg.norm(y)),
                          "relative_error_after_best_gain": float(np.linalg.norm(gain * y2 - y) / np.linalg.norm(y))}
    return out


def measure(path: Path) -> dict:
    audio = resample(read_audio(path), SPEC.sample_rate)
    y = audio.samples[0].numpy().astype(np.float64)
    sr = SPEC.sample_rate
    bins = OCTAVES * BINS_PER_OCTAVE
    started = time.perf_counter()
    complex_cqt = librosa.cqt(y, sr=sr, n_bins=bins, **KW)
    encode_s = time.perf_counter() - started
    started = time.perf_counter()
    estimate = librosa.griffinlim_cqt(np.abs(complex_cqt), sr=sr, n_iter=ITERS, momentum=0.99, init="random",
                                      random_state=0, length=len(y), **KW)
    invert_s = time.perf_counter() - started
    oracle = librosa.icqt(complex_cqt, sr=sr, length=len(y), **KW)
    reference = torch.from_numpy(y).unsqueeze(0)
    row = {"clip": path.stem, "cqt_bins": bins, "top_centre_hz": FMIN * 2 ** ((bins - 1) / BINS_PER_OCTAVE),
           "frames": int(complex_cqt.shape[-1])}
    for name, signal in (("", estimate), ("oracle_", oracle)):
        output = torch.from_numpy(signal.astype(np.float64)).unsqueeze(0)
        row[name + "sc_db"] = m.spectral_convergence_db(_linear(reference), _linear(output))
        row[name + "mel_l1"] = m.mel_l1(reference, output, mel_spec_for(SPEC.as_linear()))
    row.update(encode_seconds=encode_s, invert_seconds=invert_s)
    return row


def _linear(x: torch.Tensor) -> torch.Tensor:
    from vocoder.frontend.stft import magnitude

    return magnitude(x.double(), SPEC.as_linear())


def main() -> None:
    clips = sys.argv[1:] or DEFAULT_CLIPS
    load = os.getloadavg()
    y = resample(read_audio(EVAL / clips[0]), SPEC.sample_rate).samples[0].numpy().astype(np.float64)
    check = to_nyquist_check(y[: 2 * SPEC.sample_rate], SPEC.sample_rate)
    print(json.dumps({"to_nyquist_check": check}), flush=True)
    rows = []
    for name in clips:
        row = measure(EVAL / name)
        print(json.dumps(row), flush=True)
        rows.append(row)
    out = {"method": f"librosa {librosa.__version__} cqt ({BINS_PER_OCTAVE}/octave from {FMIN:g} Hz, hop {HOP}) "
                     f"→ griffinlim_cqt ({ITERS} iterations, momentum 0.99, random init, seed 0)",
           "to_nyquist_check": {"clip": clips[0] + " (first 2 s)", "bins": check},
           "load_average_before": load, "load_average_after": os.getloadavg(), "rows": rows}
    (HERE / "cqt_path.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

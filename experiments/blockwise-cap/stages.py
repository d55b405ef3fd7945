"""Where a block's work goes, per frame, against the block's length: the
filterbank inverse (NNLS), PGHI's start phase and FGLA's iterations, timed
in-process (CPU seconds, torch on one thread so that thread-pool waits under
load do not enter) on blocks of the first minute of run.py's recording.

    PYTHONPATH=. .venv/bin/python experiments/blockwise-cap/stages.py

Each length runs on consecutive blocks (core + 16 context frames each side)
until about 4000 frames are done; a warm-up block first (numba's compilation).
Writes stages.json beside this file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "experiments", "one-hour"))

from run import synthesise  # noqa: E402  (experiments/one-hour/run.py)
from vocoder.frontend.audio import audio_to_spectrogram, read_audio  # noqa: E402
from vocoder.inversion import create  # noqa: E402
from vocoder.inversion.blockwise import default_context  # noqa: E402
from vocoder.spec import get_preset  # noqa: E402
from vocoder.spectrogram import Spectrogram  # noqa: E402


def main() -> None:
    torch.set_num_threads(1)
    spec = get_preset("hifigan")
    with tempfile.TemporaryDirectory() as work:
        wav = os.path.join(work, "minute.wav")
        synthesise(wav, 1.0)
        mel = audio_to_spectrogram(read_audio(wav), spec)
    inverter = create("pghi+fgla", iters=8)
    context = default_context(spec)

    def block(a: int, n: int) -> Spectrogram:
        return Spectrogram(mel.magnitude[..., a:a + n], spec, n_samples=spec.n_samples(n))

    inverter.start_phase(inverter.prepare(block(0, 300)))  # warm-up
    rows = []
    for seconds in (1.25, 2.5, 5, 10, 20, 40):
        n = round(seconds * spec.sample_rate / spec.hop_length) + 2 * context
        cpu = {"nnls": 0.0, "pghi": 0.0, "fgla": 0.0}
        frames, iterations = 0, []
        for a in range(0, mel.frames - n + 1, n):
            t0 = time.process_time()
            linear = inverter.prepare(block(a, n))
            t1 = time.process_time()
            phase = inverter.start_phase(linear)
            t2 = time.process_time()
            inverter.invert_from(linear, phase, None)
            t3 = time.process_time()
            cpu["nnls"] += t1 - t0
            cpu["pghi"] += t2 - t1
            cpu["fgla"] += t3 - t2
            frames += n
            iterations.append(next(s for s in linear.provenance if s["step"] == "mel_to_linear")["iterations"])
            if frames > 4000:
                break
        per_frame = {k: round(1e6 * v / frames, 1) for k, v in cpu.items()}
        total = sum(cpu.values())
        rows.append({"block_seconds": seconds, "extended_frames": n, "frames_timed": frames,
                     "us_per_extended_frame": {**per_frame, "total": round(1e6 * total / frames, 1)},
                     "us_per_core_frame": round(1e6 * total / frames * n / (n - 2 * context), 1),
                     "nnls_iterations": iterations})
        print(json.dumps(rows[-1]), flush=True)
    with open(os.path.join(HERE, "stages.json"), "w") as fh:
        json.dump({"spec": "hifigan", "backend": "pghi+fgla, 8 iterations", "torch_threads": 1,
                   "context_frames": context, "loadavg_after": os.getloadavg(), "rows": rows}, fh, indent=2)


if __name__ == "__main__":
    main()

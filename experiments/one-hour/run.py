"""One hour of audio through `vocoder encode` and `vocoder invert` block-wise,
with the peak memory of each command measured (the kernel's maximum resident
set size of the child process, via wait4) and the throughput in × real time.

The input is synthesised so that the run needs nothing outside the project:
the bundled public-domain speech clip (samples/LJ001-0006.wav) repeated with
a slowly varying gain, under a 50 Hz mains hum with its harmonics and a
chirp every minute, so that each block has speech, a steady low tone and a
sweep. It is written a block at a time.

    PYTHONPATH=. .venv/bin/python experiments/one-hour/run.py [--minutes 60] [--backend pghi+fgla]

Writes results.json and results.md beside this file; the audio and PNG go to
a temporary folder (--keep to keep them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time

import numpy as np
import soundfile as sf

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RATE = 22050


def synthesise(path: str, minutes: float) -> float:
    speech, rate = sf.read(os.path.join(ROOT, "samples", "LJ001-0006.wav"), dtype="float32")
    assert rate == RATE, rate
    total = int(minutes * 60 * RATE)
    rng = np.random.default_rng(0)
    block = 60 * RATE
    with sf.SoundFile(path, "w", samplerate=RATE, channels=1, subtype="PCM_16") as out:
        for start in range(0, total, block):
            n = min(block, total - start)
            t = (start + np.arange(n)) / RATE
            reps = int(np.ceil(n / speech.size)) + 1
            tiled = np.tile(speech, reps)[: n]
            gain = 0.5 + 0.3 * np.sin(2 * np.pi * t / 300.0)
            hum = sum(0.01 / k * np.sin(2 * np.pi * 50 * k * t) for k in (1, 2, 3))
            local = t - t[0]
            chirp = 0.05 * np.sin(2 * np.pi * (200 * local + 0.5 * 3000 * local ** 2)) * (local < 2.0)
            noise = 0.002 * rng.standard_normal(n)
            out.write((gain * tiled + hum + chirp + noise).astype(np.float32))
    return total / RATE


def run_measured(command: list[str]) -> dict:
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)  # progress bars
        os.execvp(command[0], command)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    return {"command": " ".join(command), "exit": os.waitstatus_to_exitcode(status), "wall_seconds": round(wall, 1),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--backend", default="pghi+fgla")
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--max-memory", default="1G")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    vocoder = shutil.which("vocoder") or os.path.join(os.path.dirname(sys.executable), "vocoder")
    work = tempfile.mkdtemp(prefix="vocoder-one-hour-")
    try:
        wav = os.path.join(work, "long.wav")
        seconds = synthesise(wav, args.minutes)
        png, out = os.path.join(work, "long.png"), os.path.join(work, "long-inverted.wav")
        # What the process holds before any work: Python, torch, numba and vocoder's imports.
        floor = run_measured([vocoder, "backends"])
        encode = run_measured([vocoder, "encode", wav, "-o", png, "--max-memory", args.max_memory])
        pixels = 513 * (int(seconds * RATE) // 256 + 1)
        invert = run_measured([vocoder, "invert", png, "-o", out, "--backend", args.backend, "--iters",
                               str(args.iters), "--max-memory", args.max_memory, "--max-pixels",
                               str(2 * pixels), "--timings"])
        record = json.load(open(out + ".json")) if invert["exit"] == 0 else {}
        for step in (encode, invert):  # the hour over the command's wall time
            step["x_real_time"] = round(seconds / step["wall_seconds"], 2)
        results = {
            "input": {"seconds": seconds, "sample_rate": RATE, "what": "samples/LJ001-0006.wav tiled, varying gain, "
                      "50 Hz hum + 2 harmonics, a 2 s chirp each minute, white noise at -54 dBFS"},
            "png_bytes": os.path.getsize(png) if os.path.exists(png) else None,
            "floor": floor, "encode": encode, "invert": invert,
            "blockwise": record.get("blockwise"), "consistency_db": record.get("fidelity_vs_input", {}).get(
                "consistency_db"),
            "block_plan": next((s for s in record.get("steps", []) if s.get("step") == "blockwise"), None),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "loadavg_after": os.getloadavg()},
        }
        with open(os.path.join(HERE, "results.json"), "w") as fh:
            json.dump(results, fh, indent=2)
        print(json.dumps(results, indent=2))
    finally:
        if args.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Phase retrieval beyond FGLA (issue 11, partial run): spectral convergence
against wall time for fgla, pghi+fgla, agla (random and PGHI start) and admm (ρ 0 and 0.1).

For each preset (linear, hifigan) and each clip, the clip is turned into the
preset's spectrogram, the backend's own `prepare` gives the linear magnitude
it inverts (for hifigan: the mel bands' NNLS inverse, the same for every
backend and not timed), and each backend runs at every iteration count in
ITERS. SC = 20·log10(‖|STFT(x̂)| − S‖_F / ‖S‖_F) against that linear
magnitude S, i.e. how consistent the result is with what the algorithm was
asked to match. Wall time is the median of --repeats runs of `invert` alone
(PGHI included where it is the start); SC is from the first run (every
backend is seeded, so runs agree).

    PYTHONPATH=. .venv/bin/python experiments/phase-retrieval/run.py

Writes results.json and results.md beside this file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from vocoder.evaluation.metrics import spectral_convergence_db
from vocoder.frontend.audio import audio_to_spectrogram, read_audio
from vocoder.frontend.stft import magnitude
from vocoder.inversion import create

HERE = Path(__file__).resolve().parent
EVAL = HERE.parents[2] / "shared" / "data" / "audio" / "eval"
CLIPS = ("LJ001-0028.wav", "cmu_arctic_us_aew_a0001.wav", "trumpet.ogg")
PRESETS = ("linear", "hifigan")
ITERS = (10, 25, 50, 100, 200)
THRESHOLDS = (-25.0, -30.0)
# (label, backend, options): each backend at its defaults but for the start.
METHODS = (
    ("fgla", "fgla", {}),
    ("pghi+fgla", "pghi+fgla", {}),
    ("agla", "agla", {}),
    ("agla init=pghi", "agla", {"init": "pghi"}),
    ("admm", "admm", {}),
    ("admm rho=0.1", "admm", {"rho": 0.1}),
)


def measure(spectrogram, name: str, options: dict, iters: int, repeats: int) -> tuple[float, float]:
    inverter = create(name, iters=iters, **options)
    target = inverter.prepare(spectrogram)
    times, waveform = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = inverter.invert(target)
        times.append(time.perf_counter() - start)
        waveform = out if waveform is None else waveform
    sc = spectral_convergence_db(target.magnitude, magnitude(waveform, target.spec))
    return sc, statistics.median(times)


def first_reaching(points: list[dict], threshold: float) -> dict | None:
    """The first measured iteration count whose SC is at or below threshold."""
    for p in sorted(points, key=lambda p: p["iters"]):
        if p["sc_db"] <= threshold:
            return p
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--eval", default=str(EVAL))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    create("agla", iters=1).invert(audio_to_spectrogram(read_audio(Path(args.eval) / CLIPS[0]),
                                                        _preset("linear")))  # compile numba kernels first
    results = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "threads": args.threads,
                           "load_before": os.getloadavg()},
               "repeats": args.repeats, "iters": ITERS, "runs": []}
    for preset in PRESETS:
        for clip in CLIPS:
            spectrogram = audio_to_spectrogram(read_audio(Path(args.eval) / clip), _preset(preset))
            for label, name, options in METHODS:
                for iters in ITERS:
                    sc, seconds = measure(spectrogram, name, options, iters, args.repeats)
                    results["runs"].append({"preset": preset, "clip": clip, "method": label, "iters": iters,
                                            "sc_db": round(sc, 2), "seconds": round(seconds, 4)})
                    print(f"{preset:8s} {clip:30s} {label:15s} {iters:4d} it  {sc:7.2f} dB  {seconds:6.3f} s",
                          flush=True)
    results["machine"]["load_after"] = os.getloadavg()
    (HERE / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (HERE / "results.md").write_text(report(results))


def _preset(name: str):
    from vocoder.spec import PRESETS as ALL

    return ALL[name]


def report(results: dict) -> str:
    runs = results["runs"]
    lines = ["# Phase retrieval: SC vs wall time (partial run of issue 11's experiment)", "",
             f"Machine: {results['machine']['platform']}, {results['machine']['cpus']} CPUs, "
             f"{results['machine']['threads']} torch thread(s); load average before "
             f"{tuple(round(v, 2) for v in results['machine']['load_before'])}, after "
             f"{tuple(round(v, 2) for v in results['machine']['load_after'])} (shared machine: times are noisy). "
             f"Times are medians of {results['repeats']} runs.", ""]
    for preset in PRESETS:
        lines += [f"## {preset}", "", "SC (dB) / seconds at each iteration count:", ""]
        lines += ["| clip | method | " + " | ".join(f"{n} it" for n in results["iters"]) + " |",
                  "|---|---|" + "---|" * len(results["iters"])]
        for clip in CLIPS:
            for label, _, _ in METHODS:
                cells = []
                for n in results["iters"]:
                    p = next(r for r in runs if (r["preset"], r["clip"], r["method"], r["iters"]) ==
                             (preset, clip, label, n))
                    cells.append(f"{p['sc_db']:.1f} / {p['seconds']:.2f}")
                lines.append(f"| {clip} | {label} | " + " | ".join(cells) + " |")
        lines += ["", "First measured iteration count reaching −25 / −30 dB (its median time); "
                      "— where no count reached it:", "",
                  "| clip | method | −25 dB | −30 dB |", "|---|---|---|---|"]
        for clip in CLIPS:
            for label, _, _ in METHODS:
                points = [r for r in runs if (r["preset"], r["clip"], r["method"]) == (preset, clip, label)]
                cells = []
                for threshold in THRESHOLDS:
                    hit = first_reaching(points, threshold)
                    cells.append("—" if hit is None else f"{hit['iters']} it, {hit['seconds']:.2f} s")
                lines.append(f"| {clip} | {label} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

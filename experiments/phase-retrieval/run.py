"""Phase retrieval, time to quality (issue 11): in-band SC and mel L1 of every
classical backend against wall time, on the shared eval clips, for the
`linear` preset at redundancy 4 (hop 256) and 8 (hop 128, a spec override)
and the `hifigan` mel preset (redundancy 4).

How a curve is made, per (config, clip, method):

* **Quality against iterations** comes from ONE traced run: the backend's own
  loop (``fast_griffin_lim``, ``accelerated_griffin_lim``,
  ``admm_phase_retrieval``, with the backend instance's parameters and start
  phase) is run to ``--max-iters`` with a ``callback(n, X)``; at each count n
  of a grid the estimate's waveform (iSTFT of X, exactly what ``invert`` at
  ``iters=n`` returns) is scored with the project's metrics
  (``vocoder.evaluation.fidelity.against_reference``: ``sc_db`` = in-band
  SC against the reference recording's |STFT| under the spec's framing, bins
  within the spec's fmin..fmax; ``mel_l1`` = HiFi-GAN's log-mel L1 within
  the same band). At the last count the traced score is checked against a
  real ``invert(iters=max)`` run (recorded as ``trace_check_db``).
  ``pghi`` has no iterations (one point); ``mel-gd`` has no callback, so each
  of its counts is a real ``invert`` run.
* **Wall time** is not taken from the traced run (the callback costs time).
  It is measured on real ``invert`` runs, median of ``--repeats``, at
  ``iters=0`` (the start cost: random or PGHI phase, buffers, final iSTFT)
  and at ``iters=--time-iters``; time(n) = t0 + n·(t_K − t0)/K, i.e. a
  measured start cost plus a measured per-iteration cost, linear in n.

Also: a small α/β/γ sweep of agla (random start, linear preset, 3 clips,
traced SC only: the cost per iteration does not depend on them), and a
mel-gd option sweep (lr × iters) on the speech clips of the hifigan preset.

Clips are mixed to mono and resampled to the preset's rate; the orchestral
clip is cut to its first --max-seconds (default 10 s) to keep the run within
its budget. One torch thread by default (--threads).

    PYTHONPATH=. python experiments/phase-retrieval/run.py            # full run
    PYTHONPATH=. python experiments/phase-retrieval/run.py --quick    # smoke test

Writes results.json, results.md and fig_*.png beside this file (--out).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from vocoder.evaluation.fidelity import against_reference
from vocoder.frontend.audio import Audio, audio_to_spectrogram, read_audio, resample
from vocoder.frontend.filterbank import MelAxis
from vocoder.frontend.stft import istft
from vocoder.inversion import create
from vocoder.inversion.admm import admm_phase_retrieval
from vocoder.inversion.agla import accelerated_griffin_lim
from vocoder.inversion.griffinlim import fast_griffin_lim, initial_phase
from vocoder.inversion.mel_gd import DEFAULT_LR
from vocoder.inversion.pghi import pghi_phase
from vocoder.spec_overrides import SpecOverrides, effective_spec

HERE = Path(__file__).resolve().parent
EVAL = HERE.parents[2] / "shared" / "data" / "audio" / "eval"
KIND = {"trumpet.ogg": "monophonic", "brahms_hungarian_dance_5.ogg": "polyphonic"}  # the rest: speech
# (name, preset, hop override or None): redundancy = win_length / hop.
CONFIGS = (("linear r4", "linear", None), ("linear r8", "linear", 128), ("hifigan r4", "hifigan", None))
THRESHOLDS = (-25.0, -30.0, -35.0)
# (label, backend, options, which configs): each backend at its defaults but for the start.
METHODS = (
    ("griffinlim", "griffinlim", {}, "all"),
    ("fgla", "fgla", {}, "all"),
    ("pghi", "pghi", {}, "all"),
    ("pghi+fgla", "pghi+fgla", {}, "all"),
    ("agla", "agla", {}, "all"),
    ("agla init=pghi", "agla", {"init": "pghi"}, "all"),
    ("admm", "admm", {}, "all"),
    ("mel-gd", "mel-gd", {}, "mel"),
)
MELGD_COUNTS = (0, 25, 50, 100, 200)
# agla sweep, one parameter at a time around the defaults (α 0.99, β 1.1, γ 1.2).
AGLA_SWEEP = ((0.99, 1.1, 1.2), (0.9, 1.1, 1.2), (0.95, 1.1, 1.2), (0.999, 1.1, 1.2),
              (0.99, 1.0, 1.2), (0.99, 1.25, 1.2), (0.99, 1.5, 1.2),
              (0.99, 1.1, 1.0), (0.99, 1.1, 1.1), (0.99, 1.1, 1.3), (0.99, 1.1, 1.5))
AGLA_SWEEP_CLIPS = ("LJ001-0028.wav", "cmu_arctic_us_aew_a0001.wav", "trumpet.ogg")
AGLA_SWEEP_AT = (25, 50, 100, 200)
MELGD_SWEEP = ((1e-5, 100), (1e-3, 100), (1e-4, 400), (3e-4, 400))  # the default is 1e-4, 100


def grid(max_iters: int) -> list[int]:
    base = [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400,
            500, 600, 800, 1000]
    return [n for n in base if n < max_iters] + [max_iters]


def load(path: Path, rate: int, max_seconds: float) -> Audio:
    audio = read_audio(path)
    audio = resample(Audio(audio.samples.mean(0, keepdim=True), audio.sample_rate, audio.provenance), rate)
    return Audio(audio.samples[..., : int(max_seconds * rate)].contiguous(), rate, audio.provenance)


def scores(reference, waveform, spectrogram, kind) -> dict:
    values = against_reference(reference, waveform, spectrogram, kind, selected=("sc_db", "mel_l1"))
    return {"sc_db": round(values["sc_db"].value, 3), "mel_l1": round(values["mel_l1"].value, 4)}


def loop_of(inverter, target, max_iters: int, callback):
    """Run the backend's own loop with its own start and parameters, traced."""
    name = inverter.name
    if name in ("griffinlim", "fgla"):
        momentum = 0.0 if name == "griffinlim" else inverter.momentum
        phase = initial_phase(target.magnitude.shape, inverter.init, inverter.seed)
        return fast_griffin_lim(target, max_iters, momentum, phase=phase, callback=callback, progress=False)
    if name == "pghi+fgla":
        phase = pghi_phase(target, inverter.tol, inverter.seed)
        return fast_griffin_lim(target, max_iters, inverter.momentum, phase=phase, callback=callback, progress=False)
    if name == "agla":
        return accelerated_griffin_lim(target, max_iters, inverter.alpha, inverter.beta, inverter.gamma,
                                       inverter.start_phase(target), progress=False, callback=callback)
    if name == "admm":
        return admm_phase_retrieval(target, max_iters, inverter.rho, inverter.start_phase(target), progress=False,
                                    callback=callback)
    raise ValueError(name)


def trace(name, options, spectrogram, reference, kind, counts) -> tuple[dict[int, dict], float]:
    """Scores at each count from one traced run; and the real invert's SC at the last count minus the traced one."""
    inverter = create(name, iters=counts[-1], **options)
    target = inverter.prepare(spectrogram)
    wanted, out = set(counts), {}

    def callback(n, X):
        if n in wanted:
            waveform = istft(X.contiguous(), target.spec, target.n_samples)
            out[n] = scores(reference, waveform, spectrogram, kind)

    loop_of(inverter, target, counts[-1], callback)
    real = scores(reference, inverter.invert(target), spectrogram, kind)
    return out, real["sc_db"] - out[counts[-1]]["sc_db"]


def timed(name, options, spectrogram, iters, repeats) -> tuple[float, torch.Tensor]:
    inverter = create(name, iters=iters, **options) if name != "pghi" else create(name, **options)
    target = inverter.prepare(spectrogram)  # not timed (for a mel: the NNLS magnitude, the same for all)
    times, first = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = inverter.invert(target)
        times.append(time.perf_counter() - start)
        first = out if first is None else first
    return statistics.median(times), first


def time_to(points: list[dict], threshold: float) -> float:
    """Predicted seconds at the first traced count whose SC is at or below threshold (inf: never)."""
    for p in points:
        if p["sc_db"] <= threshold:
            return p["seconds"]
    return math.inf


def run_config(label, preset, hop, clips, args, log) -> list[dict]:
    spec = effective_spec(preset, SpecOverrides(hop_length=hop))
    rows = []
    for clip in clips:
        audio = load(Path(args.eval) / clip, spec.sample_rate, args.max_seconds)
        spectrogram = audio_to_spectrogram(audio, spec)
        kind = KIND.get(clip, "speech")
        for method, name, options, where in METHODS:
            if where == "mel" and not isinstance(spec.axis, MelAxis):
                continue
            if name == "pghi":
                t, wave = timed(name, options, spectrogram, 0, args.repeats)
                points = [{"iters": 0, "seconds": round(t, 4), **scores(audio.samples, wave, spectrogram, kind)}]
                check, t0, per_it = 0.0, t, 0.0
            else:
                t0, wave0 = timed(name, options, spectrogram, 0, args.repeats)
                tk, wavek = timed(name, options, spectrogram, args.time_iters, args.repeats)
                per_it = (tk - t0) / args.time_iters
                if name == "mel-gd":
                    traced = {0: scores(audio.samples, wave0, spectrogram, kind),
                              args.time_iters: scores(audio.samples, wavek, spectrogram, kind)}
                    for n in args.melgd_counts:
                        if n not in traced:
                            traced[n] = scores(audio.samples, timed(name, options, spectrogram, n, 1)[1],
                                               spectrogram, kind)
                    check = 0.0
                else:
                    traced, check = trace(name, options, spectrogram, audio.samples, kind, grid(args.max_iters))
                points = [{"iters": n, "seconds": round(t0 + n * per_it, 4), **traced[n]} for n in sorted(traced)]
            rows.append({"config": label, "clip": clip, "kind": kind, "method": method, "t0": round(t0, 4),
                         "per_iter": round(per_it, 6), "trace_check_db": round(check, 3), "points": points,
                         "load": os.getloadavg()})
            last = points[-1]
            log(f"{label:10s} {clip:32s} {method:15s} start {t0:6.3f} s  {1e3 * per_it:6.2f} ms/it  "
                f"{last['iters']:4d} it: {last['sc_db']:7.2f} dB  mel {last['mel_l1']:.3f}  check {check:+.3f}")
    return rows


def spectrograms(preset: str, clips, args):
    """(clip, audio, its spectrogram under ``preset``) for each clip."""
    spec = effective_spec(preset)
    for clip in clips:
        audio = load(Path(args.eval) / clip, spec.sample_rate, args.max_seconds)
        yield clip, audio, audio_to_spectrogram(audio, spec)


def agla_sweep(clips, args, log) -> list[dict]:
    out = []
    for clip, audio, spectrogram in spectrograms("linear", clips, args):
        for alpha, beta, gamma in AGLA_SWEEP:
            traced, _ = trace("agla", {"alpha": alpha, "beta": beta, "gamma": gamma}, spectrogram, audio.samples,
                              KIND.get(clip, "speech"), [n for n in AGLA_SWEEP_AT if n <= args.max_iters])
            out.append({"clip": clip, "alpha": alpha, "beta": beta, "gamma": gamma,
                        "sc_db": {n: v["sc_db"] for n, v in traced.items()}})
            log(f"agla sweep {clip:32s} α {alpha} β {beta} γ {gamma}: "
                + ", ".join(f"{n} it {v['sc_db']:.2f}" for n, v in traced.items()))
    return out


def melgd_sweep(clips, args, log) -> list[dict]:
    out = []
    for clip, audio, spectrogram in spectrograms("hifigan", clips, args):
        for lr, iters in args.melgd_sweep:
            t, wave = timed("mel-gd", {"lr": lr}, spectrogram, iters, 1)
            out.append({"clip": clip, "lr": lr, "iters": iters, "seconds": round(t, 3),
                        **scores(audio.samples, wave, spectrogram, "speech")})
            log(f"mel-gd sweep {clip:32s} lr {lr:g} {iters} it: {out[-1]['sc_db']:.2f} dB "
                f"mel {out[-1]['mel_l1']:.3f} ({t:.1f} s)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="*", default=None, help="file names in --eval (default: all)")
    parser.add_argument("--configs", nargs="*", default=[c[0] for c in CONFIGS])
    parser.add_argument("--repeats", type=int, default=3, help="timed invert runs per point (median)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-iters", type=int, default=300, help="last traced iteration count")
    parser.add_argument("--time-iters", type=int, default=50, help="K: the timed count besides 0")
    parser.add_argument("--max-seconds", type=float, default=10.0, help="clips are cut to this length")
    parser.add_argument("--no-sweeps", action="store_true")
    parser.add_argument("--quick", action="store_true", help="2 clips, 1 repeat, 30 iterations, small sweeps")
    parser.add_argument("--eval", default=str(EVAL))
    parser.add_argument("--out", default=str(HERE))
    parser.add_argument("--report-only", action="store_true", help="rewrite results.md and figures from results.json")
    args = parser.parse_args()
    if args.report_only:
        write_report(json.loads((Path(args.out) / "results.json").read_text()), Path(args.out))
        return
    torch.set_num_threads(args.threads)
    clips = args.clips or sorted(p.name for p in Path(args.eval).iterdir() if p.suffix in (".wav", ".ogg"))
    args.melgd_counts, args.melgd_sweep = MELGD_COUNTS, MELGD_SWEEP
    sweep_clips = AGLA_SWEEP_CLIPS
    if args.quick:
        clips = args.clips or ["LJ001-0028.wav", "trumpet.ogg"]
        args.repeats, args.max_iters, args.time_iters, args.max_seconds = 1, 30, 10, 3.0
        args.melgd_counts, args.melgd_sweep, sweep_clips = (0, 10, 20), ((1e-4, 20),), AGLA_SWEEP_CLIPS[:1]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()

    def log(line: str) -> None:
        print(f"[{time.time() - started:6.0f} s] {line}", flush=True)

    # Compile the numba kernels before anything is timed.
    warm = audio_to_spectrogram(load(Path(args.eval) / clips[0], 22050, 1.0), effective_spec("linear"))
    for name in ("fgla", "agla", "admm", "pghi+fgla"):
        create(name, iters=2).invert(warm)
    warm_mel = audio_to_spectrogram(load(Path(args.eval) / clips[0], 22050, 1.0), effective_spec("hifigan"))
    create("mel-gd", iters=2).invert(warm_mel)
    results = {"command": "run.py " + " ".join(os.sys.argv[1:]),
               "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "threads": args.threads,
                           "torch": torch.__version__, "load_before": os.getloadavg()},
               "settings": {k: v for k, v in vars(args).items() if k not in ("eval", "out")},
               "clips": clips, "thresholds": THRESHOLDS, "runs": []}
    for label, preset, hop in CONFIGS:
        if label in args.configs:
            results["runs"] += run_config(label, preset, hop, clips, args, log)
    if not args.no_sweeps:
        results["agla_sweep"] = agla_sweep([c for c in sweep_clips if c in clips or not args.clips], args, log)
        speech = [c for c in clips if KIND.get(c, "speech") == "speech"]
        results["melgd_sweep"] = melgd_sweep(speech, args, log)
    results["machine"]["load_after"] = os.getloadavg()
    results["wall_seconds"] = round(time.time() - started, 1)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    write_report(results, out)
    log(f"done in {results['wall_seconds']:.0f} s")


# ---------------------------------------------------------------- report


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def _fmt_t(t: float) -> str:
    return "not reached" if math.isinf(t) else f"{t:.2f} s"


def _rows(results, config, method=None):
    return [r for r in results["runs"] if r["config"] == config and (method is None or r["method"] == method)]


def _methods(results, config):
    seen = []
    for r in _rows(results, config):
        if r["method"] not in seen:
            seen.append(r["method"])
    return seen


def _at(row, iters):
    return next((p for p in row["points"] if p["iters"] == iters), None)


def threshold_table(results, config) -> list[str]:
    n_clips = len({r["clip"] for r in _rows(results, config)})
    lines = [f"| method | start (s) | ms / it | " + " | ".join(f"time to {t:g} dB" for t in THRESHOLDS)
             + f" | SC at last count | mel L1 at last count |", "|---|---|---|" + "---|" * (len(THRESHOLDS) + 2)]
    for method in _methods(results, config):
        rows = _rows(results, config, method)
        cells = []
        for thr in THRESHOLDS:
            times = [time_to(r["points"], thr) for r in rows]
            reached = [t for t in times if not math.isinf(t)]
            med = statistics.median(times)  # not reached counts as infinitely slow
            cells.append(f"{_fmt_t(med)} ({len(reached)}/{len(times)})"
                         + (f"; reached: {_median(reached):.2f} s" if reached and len(reached) < len(times) else ""))
        last = [r["points"][-1] for r in rows]
        lines.append(f"| {method} | {_median([r['t0'] for r in rows]):.3f} | "
                     f"{1e3 * _median([r['per_iter'] for r in rows]):.2f} | " + " | ".join(cells)
                     + f" | {_median([p['sc_db'] for p in last]):.1f} dB ({last[0]['iters']} it) | "
                       f"{_median([p['mel_l1'] for p in last]):.3f} |")
    lines += ["", f"Median over {n_clips} clips of the predicted wall time (start + iterations × per-iteration "
                  "time) at the first traced iteration count reaching the SC; a clip that never reaches it counts "
                  "as infinitely slow, so the median is 'not reached' when fewer than half reach it; (k/n): "
                  "clips that reached it; 'reached:' the median over those clips only. Start and ms/it: medians "
                  "over clips."]
    return lines


def goal_a(results) -> list[str]:
    config = "linear r4"
    if not _rows(results, config, "pghi+fgla"):
        return ["(linear r4 not run)"]
    ref = {r["clip"]: time_to(r["points"], -30.0) for r in _rows(results, config, "pghi+fgla")}
    ref_med = statistics.median(ref.values())
    lines = [f"pghi+fgla (defaults: momentum 0.99, tol 1e-3) reaches −30 dB in a median {_fmt_t(ref_med)} "
             f"(per clip: " + ", ".join(f"{c.split('.')[0]} {_fmt_t(t)}" for c, t in ref.items()) + ").", "",
             "| method | median time to −35 dB | clips where it beats pghi+fgla's −30 dB time |", "|---|---|---|"]
    best = None
    for method in _methods(results, config):
        t35 = {r["clip"]: time_to(r["points"], -35.0) for r in _rows(results, config, method)}
        med = statistics.median(t35.values())
        wins = sum(t35[c] < ref[c] for c in ref)
        lines.append(f"| {method} | {_fmt_t(med)} | {wins}/{len(ref)} |")
        if best is None or med < best[1]:
            best = (method, med, wins)
    verdict = ("**achieved**" if best[1] < ref_med else "**not achieved**")
    lines += ["", f"Verdict (a): {verdict}. Fastest to −35 dB: {best[0]}, median {_fmt_t(best[1])}, against "
                  f"pghi+fgla's {_fmt_t(ref_med)} to −30 dB (it is faster on {best[2]}/{len(ref)} clips)."]
    return lines


def goal_b(results) -> list[str]:
    config = "hifigan r4"
    rows = [r for r in _rows(results, config) if r["kind"] == "speech"]
    if not rows:
        return ["(hifigan r4 not run)"]
    clips = sorted({r["clip"] for r in rows})

    def at(method, iters):
        pts = [_at(r, iters) for r in rows if r["method"] == method]
        pts = [p for p in pts if p is not None]
        return _median([p["sc_db"] for p in pts]), _median([p["mel_l1"] for p in pts]), len(pts)

    ref_sc, ref_mel, n = at("pghi+fgla", 100)
    lines = [f"Speech clips ({len(clips)}): {', '.join(c.split('.')[0] for c in clips)}. Medians over clips; "
             "in-band SC and mel L1 (fidelity.against_reference: sc_db, mel_l1) against the reference recording.", "",
             "| method | iterations | SC (dB) | mel L1 | SC gain vs pghi+fgla | mel L1 change |", "|---|---|---|---|---|---|",
             f"| pghi+fgla (reference, defaults) | 100 | {ref_sc:.2f} | {ref_mel:.3f} | — | — |"]
    candidates = []
    for method in _methods(results, config):
        for p in sorted({p["iters"] for r in rows if r["method"] == method for p in r["points"]}):
            if method == "pghi+fgla" and p == 100:
                continue
            if method != "mel-gd" and p not in (100, rows[0]["points"][-1]["iters"]):
                continue
            sc, mel, k = at(method, p)
            if k == len(clips):
                candidates.append((f"{method}", p, sc, mel))
    sweep = {}
    for s in results.get("melgd_sweep", []):
        sweep.setdefault((s["lr"], s["iters"]), []).append(s)
    for (lr, iters), ss in sorted(sweep.items()):
        if len(ss) == len(clips):
            candidates.append((f"mel-gd lr={lr:g}", iters, _median([s["sc_db"] for s in ss]),
                               _median([s["mel_l1"] for s in ss])))
    for label, iters, sc, mel in candidates:
        lines.append(f"| {label} | {iters} | {sc:.2f} | {mel:.3f} | {ref_sc - sc:+.2f} dB | {mel - ref_mel:+.3f} |")
    ok = [c for c in candidates if ref_sc - c[2] >= 3.0 and c[3] <= ref_mel]
    best = min(candidates, key=lambda c: c[2])
    default = next((c for c in candidates if c[0] == "mel-gd" and c[1] == 100), None)
    lines.append("")
    if default:
        lines.append(f"mel-gd at its defaults (lr {DEFAULT_LR:g}, 100 steps): SC {default[2]:.2f} dB "
                     f"({ref_sc - default[2]:+.2f} dB vs pghi+fgla), mel L1 {default[3]:.3f} "
                     f"({default[3] - ref_mel:+.3f}).")
    if ok:
        first = min(ok, key=lambda c: (c[1], c[2]))
        lines.append(f"Verdict (b): **achieved** by {len(ok)} setting(s); the best SC is {best[0]} at {best[1]} it "
                     f"({best[2]:.2f} dB, {ref_sc - best[2]:+.2f} dB); the cheapest that achieves it: {first[0]} at "
                     f"{first[1]} it ({first[2]:.2f} dB, mel L1 {first[3]:.3f}).")
    else:
        lines.append(f"Verdict (b): **not achieved** by any measured setting; the best SC is {best[0]} at {best[1]} it "
                     f"({best[2]:.2f} dB, {ref_sc - best[2]:+.2f} dB vs pghi+fgla, mel L1 {best[3]:.3f}).")
    return lines


def agla_table(results) -> list[str]:
    sweep = results.get("agla_sweep", [])
    if not sweep:
        return []
    counts = sorted({int(n) for s in sweep for n in s["sc_db"]})
    clips = sorted({s["clip"] for s in sweep})
    lines = ["| α | β | γ | " + " | ".join(f"{n} it" for n in counts) + " |", "|---|---|---|" + "---|" * len(counts)]
    for alpha, beta, gamma in AGLA_SWEEP:
        ss = [s for s in sweep if (s["alpha"], s["beta"], s["gamma"]) == (alpha, beta, gamma)]
        if not ss:
            continue
        cells = [f"{statistics.mean(s['sc_db'][n] for s in ss):.2f}" for n in
                 (str(c) if str(c) in ss[0]["sc_db"] else c for c in counts)]
        mark = " (default)" if (alpha, beta, gamma) == AGLA_SWEEP[0] else ""
        lines.append(f"| {alpha}{mark} | {beta} | {gamma} | " + " | ".join(cells) + " |")
    lines += ["", f"Mean in-band SC (dB) over {len(clips)} clips ({', '.join(c.split('.')[0] for c in clips)}), "
                  "linear preset, random start, seed 0; one parameter changed at a time."]
    return lines


def plot(results, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    for label, _, _ in CONFIGS:
        methods = _methods(results, label)
        if not methods:
            continue
        fig, axes = plt.subplots(1, 2, figsize=(13, 5))
        for i, method in enumerate(methods):
            color = f"C{i}"
            rows = _rows(results, label, method)
            for r in rows:  # per-clip thin lines
                xs = [max(p["seconds"], 1e-3) for p in r["points"]]
                axes[0].plot(xs, [p["sc_db"] for p in r["points"]], color=color, lw=0.5, alpha=0.35)
                axes[1].plot(xs, [p["mel_l1"] for p in r["points"]], color=color, lw=0.5, alpha=0.35)
            counts = sorted(set.intersection(*[{p["iters"] for p in r["points"]} for r in rows]))
            med = [(_median([_at(r, n)["seconds"] for r in rows]), _median([_at(r, n)["sc_db"] for r in rows]),
                    _median([_at(r, n)["mel_l1"] for r in rows])) for n in counts]
            style = dict(color=color, lw=2, marker="o" if len(med) == 1 else None, label=method)
            axes[0].plot([max(m[0], 1e-3) for m in med], [m[1] for m in med], **style)
            axes[1].plot([max(m[0], 1e-3) for m in med], [m[2] for m in med], **style)
        for thr in THRESHOLDS:
            axes[0].axhline(thr, color="grey", lw=0.6, ls=":")
        for ax, ylabel in zip(axes, ("in-band SC (dB)", "in-band mel L1 (ln)")):
            ax.set_xscale("log")
            ax.set_xlabel("wall time (s), predicted: start + iterations × per-iteration time, 1 thread")
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=8)
        fig.suptitle(f"{label}: median over clips (bold), per clip (thin)")
        fig.tight_layout()
        name = f"fig_{label.replace(' ', '_')}.png"
        fig.savefig(out / name, dpi=90)
        plt.close(fig)
        names.append(name)
    return names


def write_report(results: dict, out: Path) -> None:
    figures = plot(results, out)
    m = results["machine"]
    loads = [r["load"][0] for r in results["runs"]]
    lines = ["# Phase retrieval: time to quality (issue 11)", "",
             f"Made by `{results['command']}` in {results['wall_seconds'] / 60:.1f} min on "
             f"{m['platform']}, {m['cpus']} CPUs (shared), torch {m['torch']}, {m['threads']} thread(s). "
             f"1-minute load average: {m['load_before'][0]:.2f} before, {m['load_after'][0]:.2f} after, "
             + (f"{min(loads):.2f}–{max(loads):.2f} during (sampled after each clip × method)." if loads else ""),
             f"Clips: {len(results['clips'])} ({', '.join(results['clips'])}), mono, resampled to the preset's rate, "
             f"cut to {results['settings']['max_seconds']:g} s. Metrics: the project's in-band `sc_db` and `mel_l1` "
             "(vocoder.evaluation.fidelity.against_reference) against the reference recording. Times: start cost "
             f"(invert at 0 iterations) and per-iteration cost (invert at {results['settings']['time_iters']} "
             f"iterations), each a median of {results['settings']['repeats']} runs; quality from one traced run "
             "(see README).", ""]
    for label, _, _ in CONFIGS:
        if _rows(results, label):
            lines += [f"## {label}", ""] + threshold_table(results, label) + [""]
            checks = [abs(r["trace_check_db"]) for r in _rows(results, label)]
            lines += [f"Traced vs real `invert` SC at the last count: max |difference| {max(checks):.3f} dB.", ""]
            if f"fig_{label.replace(' ', '_')}.png" in figures:
                lines += [f"![{label}](fig_{label.replace(' ', '_')}.png)", ""]
    lines += ["## Goal (a): linear preset, −35 dB sooner than pghi+fgla reaches −30 dB", ""] + goal_a(results) + [""]
    lines += ["## Goal (b): hifigan preset, unseen speech: +3 dB SC over pghi+fgla without worse mel L1", ""]
    lines += goal_b(results) + [""]
    if results.get("agla_sweep"):
        lines += ["## AGLA α, β, γ sweep (linear r4)", ""] + agla_table(results) + [""]
    (out / "results.md").write_text("\n".join(lines))

if __name__ == "__main__":
    main()

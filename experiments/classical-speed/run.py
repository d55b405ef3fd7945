"""Classical inversion: speed per iteration and convergence.

In one run, on one clip:
  1. seconds per Griffin-Lim iteration for ours, torchaudio's and librosa's
     (momentum 0.99, equal iterations), against the STFT+iSTFT floor, at the
     `linear` and `hifigan` presets' framing;
  2. spectral convergence after 10/32/100/200 iterations and time to reach
     −25/−30 dB for GL, FGLA, PGHI alone and PGHI+FGLA at redundancy 4 and 8;
  3. PGHI alone on every eval clip, at tolerances 1e-5, 1e-4, 1e-3;
  4. PGHI's time and SC per tolerance, and FGLA's iterations to −30 dB after it;
  5. a plot of SC against wall time.

    .venv/bin/python experiments/classical-speed/run.py

Writes results.md, results.json and convergence.png beside this file.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

PROJECT = Path(__file__).resolve().parents[2]
EVAL = PROJECT.parent / "shared" / "data" / "audio" / "eval"
HERE = Path(__file__).resolve().parent
CHECKPOINTS = (10, 32, 100, 200)
THRESHOLDS = (-25.0, -30.0)


def spectral_convergence_db(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    """20·log10(‖|S| − |Ŝ|‖_F / ‖S‖_F) on linear magnitudes."""
    estimate, reference = estimate.double(), reference.double()
    return float(20 * torch.log10(torch.linalg.vector_norm(estimate - reference)
                                  / torch.linalg.vector_norm(reference)))


def load() -> tuple[float, float, float]:
    return tuple(round(v, 2) for v in os.getloadavg())  # type: ignore[return-value]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# -- 1. speed -----------------------------------------------------------------


def speed(audio, preset: str, repeats: int, n1: int, n2: int) -> dict:
    """Seconds per iteration by the slope between n1 and n2 iterations (setup
    cancels), medians over ``repeats`` rounds in which every implementation
    runs once, so a burst of load from elsewhere hits all of them alike."""
    import librosa
    import torchaudio

    from vocoder.frontend.audio import audio_to_spectrogram
    from vocoder.frontend.stft import ConsistencyProjection, istft, magnitude, stft
    from vocoder.inversion.griffinlim import fast_griffin_lim
    from vocoder.spec import PRESETS

    ours_spec = PRESETS[preset].as_linear()
    # torchaudio and librosa only frame with center=True: they get the same
    # clip's magnitude under that framing (same n_fft, hop; ±1 frame).
    centre_spec = dataclasses.replace(ours_spec, padding="center", magnitude_eps=0.0)
    ours_s = audio_to_spectrogram(audio, ours_spec)
    centre_s = audio_to_spectrogram(audio, centre_spec)
    n_fft, hop, length = ours_spec.n_fft, ours_spec.hop_length, centre_s.length
    window = torch.hann_window(n_fft)
    centre_mag = centre_s.magnitude
    centre_np = centre_mag[0].numpy()

    def ours(n):
        return fast_griffin_lim(ours_s, n, 0.99, seed=0, progress=False)

    def ta(n):
        gl = torchaudio.transforms.GriffinLim(n_fft=n_fft, n_iter=n, hop_length=hop, power=1.0, momentum=0.99,
                                              length=length)
        torch.manual_seed(0)
        return gl(centre_mag)

    def lr(n):
        return torch.from_numpy(librosa.griffinlim(centre_np, n_iter=n, hop_length=hop, n_fft=n_fft, momentum=0.99,
                                                   length=length, random_state=0))[None]

    # Floors: one STFT + one inverse STFT of the same size, nothing else.
    X_centre = torch.stft(audio.samples, n_fft, hop, window=window, return_complex=True)
    X_ours = stft(audio.samples, ours_spec)
    project = ConsistencyProjection(ours_spec, 1, X_ours.shape[-1], ours_s.length)
    X_tf, out = X_ours.transpose(1, 2).contiguous(), project.new_spectrum()
    calls = 20
    floors = {
        "torch.stft + torch.istft": lambda: [torch.stft(torch.istft(X_centre, n_fft, hop, window=window, length=length),
                                                        n_fft, hop, window=window, return_complex=True)
                                             for _ in range(calls)],
        "our stft() + istft() one-off calls (envelope rebuilt each call)": lambda: [stft(istft(X_ours, ours_spec, ours_s.length), ours_spec)
                                                  for _ in range(calls)],
        "our in-place iSTFT→STFT (ConsistencyProjection)": lambda: [project(X_tf, out) for _ in range(calls)],
    }
    impls = {"ours (vocoder fgla)": ours, "torchaudio.transforms.GriffinLim": ta, "librosa.griffinlim": lr}
    for fn in impls.values():  # warm-up: numba, MKL plans, librosa caches
        fn(2)
    for fn in floors.values():
        fn()
    t1 = {k: [] for k in impls}
    t2 = {k: [] for k in impls}
    tf = {k: [] for k in floors}
    for _ in range(repeats):
        for k, fn in impls.items():
            t1[k].append(timed(lambda: fn(n1)))
            t2[k].append(timed(lambda: fn(n2)))
        for k, fn in floors.items():
            tf[k].append(timed(fn) / calls)
    per_it = {k: (statistics.median(t2[k]) - statistics.median(t1[k])) / (n2 - n1) for k in impls}
    floor = {k: statistics.median(v) for k, v in tf.items()}
    # Equal quality: SC after n2 iterations, each measured under the framing it was given.
    quality = {
        "ours (vocoder fgla)": spectral_convergence_db(magnitude(ours(n2), ours_spec), ours_s.magnitude),
        "torchaudio.transforms.GriffinLim": spectral_convergence_db(magnitude(ta(n2), centre_spec), centre_mag),
        "librosa.griffinlim": spectral_convergence_db(magnitude(lr(n2).float(), centre_spec), centre_mag),
    }
    return {"preset": preset, "framing": ours_spec.padding, "frames": ours_s.frames, "bins": ours_spec.n_stft_bins,
            "n1": n1, "n2": n2, "repeats": repeats, "seconds_per_iteration": per_it, "floor_seconds": floor,
            "sc_after_n2_db": quality}


# -- 2. convergence -------------------------------------------------------------


def trace(spectrogram, method: str, iters: int, with_sc: bool) -> dict:
    """(iteration, wall seconds, SC) for one method; the SC evaluation is
    excluded from the wall time."""
    from vocoder.frontend.stft import istft, magnitude
    from vocoder.inversion.griffinlim import fast_griffin_lim
    from vocoder.inversion.pghi import PGHI, pghi_phase
    from vocoder.inversion.pghi_fgla import PGHIFastGriffinLim

    spec, reference = spectrogram.spec, spectrogram.magnitude
    points: list[tuple[int, float, float | None]] = []
    paused = 0.0
    start = time.perf_counter()

    def callback(n, X):
        nonlocal paused
        now = time.perf_counter()
        sc = None
        if with_sc:
            sc = spectral_convergence_db(magnitude(istft(X, spec, spectrogram.length), spec), reference)
        points.append((n, now - start - paused, sc))
        paused += time.perf_counter() - now

    if method == "GL":
        fast_griffin_lim(spectrogram, iters, 0.0, seed=0, progress=False, callback=callback)
    elif method == "FGLA":
        fast_griffin_lim(spectrogram, iters, 0.99, seed=0, progress=False, callback=callback)
    elif method == "PGHI+FGLA":
        phase = pghi_phase(spectrogram, PGHIFastGriffinLim().tol, seed=0)
        fast_griffin_lim(spectrogram, iters, 0.99, progress=False, phase=phase, callback=callback)
    elif method == "PGHI":
        phase = pghi_phase(spectrogram, PGHI().tol, seed=0)
        waveform = istft(spectrogram.magnitude * phase, spec, spectrogram.length)
        elapsed = time.perf_counter() - start
        sc = spectral_convergence_db(magnitude(waveform, spec), reference) if with_sc else None
        points.append((0, elapsed, sc))
    return {"points": points}


def convergence(audio, label: str, spec, iters: int, repeats: int) -> dict:
    from vocoder.frontend.audio import audio_to_spectrogram

    spectrogram = audio_to_spectrogram(audio, spec)
    result = {"label": label, "redundancy": spec.redundancy, "framing": spec.padding, "methods": {}}
    for method in ("GL", "FGLA", "PGHI", "PGHI+FGLA"):
        runs = [trace(spectrogram, method, iters, with_sc=(r == 0)) for r in range(repeats)]
        sc = [p[2] for p in runs[0]["points"]]
        seconds = [statistics.median(run["points"][i][1] for run in runs) for i in range(len(sc))]
        m = {"sc_db": sc, "seconds": seconds}
        if method == "PGHI":
            m["final_db"] = sc[0]
        else:
            m["at"] = {n: sc[n] for n in CHECKPOINTS if n < len(sc)}
        m["reach"] = {}
        for threshold in THRESHOLDS:
            hit = next((i for i, v in enumerate(sc) if v <= threshold), None)
            m["reach"][threshold] = None if hit is None else {"iteration": hit, "seconds": seconds[hit]}
        result["methods"][method] = m
    return result


# -- 3. PGHI on every eval clip ---------------------------------------------------


EVAL_TOLS = (1e-5, 1e-4, 1e-3)


def pghi_everywhere() -> list[dict]:
    """PGHI alone on every eval clip, at the tolerances the defaults were chosen from."""
    from vocoder.frontend.audio import audio_to_spectrogram, read_audio, resample
    from vocoder.frontend.stft import magnitude
    from vocoder.inversion import create
    from vocoder.spec import PRESETS

    rows = []
    for path in sorted(EVAL.iterdir()):
        audio = resample(read_audio(path), 22050)
        row = {"clip": path.name, "seconds": round(audio.samples.shape[-1] / 22050, 2)}
        for hop in (256, 128):
            spec = dataclasses.replace(PRESETS["linear"], hop_length=hop)
            s = audio_to_spectrogram(audio, spec)
            for tol in EVAL_TOLS:
                waveform = create("pghi", tol=tol).invert(s)
                row[f"R{1024 // hop} tol {tol:g}"] = spectral_convergence_db(magnitude(waveform, spec), s.magnitude)
        rows.append(row)
    return rows


def tol_sweep(audio, repeats: int) -> list[dict]:
    """PGHI's time and SC, and the FGLA iterations to −30 dB after it, per tolerance."""
    from vocoder.frontend.audio import audio_to_spectrogram
    from vocoder.frontend.stft import istft, magnitude
    from vocoder.inversion.griffinlim import fast_griffin_lim
    from vocoder.inversion.pghi import pghi_phase
    from vocoder.spec import PRESETS

    rows = []
    for hop in (256, 128):
        spec = dataclasses.replace(PRESETS["linear"], hop_length=hop)
        s = audio_to_spectrogram(audio, spec)
        for tol in (1e-5, 1e-4, 1e-3, 1e-2, 1e-1):
            seconds = statistics.median(timed(lambda: pghi_phase(s, tol)) for _ in range(repeats))
            sc = []
            fast_griffin_lim(s, 40, 0.99, phase=pghi_phase(s, tol), progress=False,
                             callback=lambda n, X: sc.append(spectral_convergence_db(
                                 magnitude(istft(X, spec, s.length), spec), s.magnitude)))
            hit = next((i for i, v in enumerate(sc) if v <= -30.0), None)
            above = float((s.magnitude > tol * s.magnitude.amax()).double().mean())
            rows.append({"redundancy": 1024 // hop, "tol": tol, "fraction_above": above, "pghi_seconds": seconds,
                         "pghi_sc_db": sc[0], "fgla_iterations_to_-30": hit})
    return rows


# -- output ---------------------------------------------------------------------------


def fmt_reach(r) -> str:
    return "not reached" if r is None else f"{r['seconds']:.3f} s (it {r['iteration']})"


def markdown(results: dict) -> str:
    lines = [f"# classical-speed results", "",
             f"clip `{results['clip']}` ({results['clip_seconds']:.2f} s), torch threads "
             f"{results['torch_threads']}, load average before {results['load_before']} / after "
             f"{results['load_after']} on {results['cpus']} CPUs; {results['machine']}", ""]
    lines += ["## Seconds per iteration (FGLA, momentum 0.99; slope between "
              f"{results['speed'][0]['n1']} and {results['speed'][0]['n2']} iterations, median of "
              f"{results['speed'][0]['repeats']} rounds)", ""]
    for sp in results["speed"]:
        lines += [f"### preset `{sp['preset']}` (ours framed `{sp['framing']}`, {sp['bins']} bins × {sp['frames']} frames)",
                  "", "| implementation | ms / iteration | × ours | SC after "
                  f"{sp['n2']} it (dB) |", "|---|---:|---:|---:|"]
        ours = sp["seconds_per_iteration"]["ours (vocoder fgla)"]
        for k, v in sp["seconds_per_iteration"].items():
            lines.append(f"| {k} | {v * 1e3:.2f} | {v / ours:.2f} | {sp['sc_after_n2_db'][k]:.1f} |")
        lines += ["", "| floor: one STFT + one iSTFT | ms | ours / floor |", "|---|---:|---:|"]
        for k, v in sp["floor_seconds"].items():
            lines.append(f"| {k} | {v * 1e3:.2f} | {ours / v:.2f} |")
        lines.append("")
    lines += ["## Convergence (spectral convergence in dB; time includes setup and, for PGHI+FGLA, PGHI; "
              f"median of {results['trace_repeats']} timed runs)", ""]
    for cv in results["convergence"]:
        lines += [f"### {cv['label']} (redundancy {cv['redundancy']:g}, framing `{cv['framing']}`)", "",
                  "| method | " + " | ".join(f"{n} it" for n in CHECKPOINTS) + " | time to −25 dB | time to −30 dB |",
                  "|---|" + "---:|" * (len(CHECKPOINTS) + 2)]
        for name, m in cv["methods"].items():
            if name == "PGHI":
                cells = [f"{m['final_db']:.1f} (no iterations)"] + [""] * (len(CHECKPOINTS) - 1)
            else:
                cells = [f"{m['at'][n]:.1f}" if n in m["at"] else "" for n in CHECKPOINTS]
            lines.append(f"| {name} | " + " | ".join(cells) + " | "
                         + " | ".join(fmt_reach(m["reach"][t]) for t in THRESHOLDS) + " |")
        fg, pf = cv["methods"]["FGLA"]["reach"][-30.0], cv["methods"]["PGHI+FGLA"]["reach"][-30.0]
        if fg and pf:
            lines += ["", f"PGHI+FGLA needs {pf['seconds'] / fg['seconds']:.2f}× the wall time of FGLA from random "
                          "phase to reach −30 dB."]
        lines.append("")
    lines += ["## PGHI alone on every eval clip (linear preset framing, n_fft 1024, Hann; SC in dB by tol)", "",
              "| clip | seconds | " + " | ".join(f"R{r} tol {t:g}" for r in (4, 8) for t in EVAL_TOLS) + " |",
              "|---|---:|" + "---:|" * (2 * len(EVAL_TOLS))]
    for row in results["pghi_eval"]:
        lines.append(f"| {row['clip']} | {row['seconds']} | "
                     + " | ".join(f"{row[f'R{r} tol {t:g}']:.2f}" for r in (4, 8) for t in EVAL_TOLS) + " |")
    lines += ["", f"## Tolerance: PGHI time and SC, FGLA iterations to −30 dB after it ({results['clip']})", "",
              "| redundancy | tol | above tol | PGHI ms | PGHI SC dB | FGLA iterations to −30 dB |",
              "|---:|---:|---:|---:|---:|---:|"]
    for row in results["tol_sweep"]:
        hit = row["fgla_iterations_to_-30"]
        lines.append(f"| {row['redundancy']} | {row['tol']:g} | {row['fraction_above']:.1%} | "
                     f"{row['pghi_seconds'] * 1e3:.1f} | {row['pghi_sc_db']:.2f} | {'> 40' if hit is None else hit} |")
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = results["convergence"]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), sharey=True)
    for ax, cv in zip(np.atleast_1d(axes), panels):
        for name, m in cv["methods"].items():
            if name == "PGHI":
                ax.plot(m["seconds"], m["sc_db"], "o", label=name, ms=7)
            else:
                ax.plot(m["seconds"], m["sc_db"], label=name)
        for t in THRESHOLDS:
            ax.axhline(t, color="grey", lw=0.6, ls=":")
        ax.set_title(f"{cv['label']}")
        ax.set_xlabel("wall time (s)")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("spectral convergence (dB)")
    np.atleast_1d(axes)[0].legend()
    fig.suptitle(f"{results['clip']}: SC vs wall time (torch threads {results['torch_threads']})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", default=str(EVAL / "LJ001-0027.wav"))
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: on a shared 2-core machine OpenMP threads that spin-wait "
                             "for a descheduled partner make multi-threaded timings meaningless)")
    parser.add_argument("--repeats", type=int, default=7, help="rounds for the per-iteration medians")
    parser.add_argument("--trace-repeats", type=int, default=3, help="timed runs per convergence curve (median)")
    parser.add_argument("--iters", type=int, default=200)
    parser.add_argument("--out", default=str(HERE))
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(PROJECT))
    from vocoder.frontend.audio import read_audio, resample
    from vocoder.spec import PRESETS

    audio = resample(read_audio(args.clip), 22050)
    results = {"clip": Path(args.clip).name, "clip_seconds": audio.samples.shape[-1] / 22050,
               "torch_threads": torch.get_num_threads(), "trace_repeats": args.trace_repeats, "cpus": os.cpu_count(), "load_before": load(),
               "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}"}
    results["speed"] = [speed(audio, preset, args.repeats, 10, 40) for preset in ("linear", "hifigan")]
    print(f"speed done, load {load()}", flush=True)
    configs = [("linear, hop 256", PRESETS["linear"]),
               ("linear, hop 128", dataclasses.replace(PRESETS["linear"], hop_length=128)),
               ("hifigan framing, hop 256", PRESETS["hifigan"].as_linear())]
    results["convergence"] = [convergence(audio, label, spec, args.iters, args.trace_repeats)
                              for label, spec in configs]
    print(f"convergence done, load {load()}", flush=True)
    results["pghi_eval"] = pghi_everywhere()
    results["tol_sweep"] = tol_sweep(audio, args.repeats)
    results["load_after"] = load()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    text = markdown(results)
    (out / "results.md").write_text(text)
    plot(results, out / "convergence.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Our PGHI against pghipy 0.1.1 (and tifresi 0.1.4 where it installs) on the
same magnitudes: spectral convergence and wall time per clip.

Run by run.sh (which builds the peers' venv). For each clip and each setting
(Hann at hop 256 and 128, Gaussian at hop 256 and 128; n_fft = win_length =
1024, centre padding, the clip's own sample rate) the linear magnitude |S| is
computed once with our STFT; each method turns it into complex coefficients
(timed: best of --repeats, single thread, compile excluded); our iSTFT makes
the waveform; SC = 20·log10(‖|S| − |STFT(y)|‖ / ‖S‖). Both PGHIs run at the
same tolerance (--tol, 1e-4: our default).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from vocoder.frontend.audio import Audio, audio_to_spectrogram, read_audio
from vocoder.frontend.stft import istft, magnitude
from vocoder.inversion.pghi import gamma, pghi_phase
from vocoder.spec import PRESETS

from peers import best_time  # this folder's timing helper (numpy only), shared with the peers' side

HERE = Path(__file__).resolve().parent
EVAL = Path(os.environ.get("VOCODER_EVAL", HERE.parents[1].parent / "shared" / "data" / "audio" / "eval"))
SETTINGS = [("hann", 256), ("hann", 128), ("gauss", 256), ("gauss", 128)]


def synthetic(sr: int = 22050) -> dict[str, Audio]:
    """The two clips of issue 11: speech with a DC offset, and a low tone."""
    speech = read_audio(EVAL / "LJ001-0026.wav")
    t = np.arange(3 * sr) / sr
    fade = int(0.2 * sr)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
    tone = 0.5 * np.sin(2 * np.pi * 80.3 * t + 0.3)
    tone[:fade] *= ramp
    tone[-fade:] *= ramp[::-1]
    return {
        "LJ001-0026 + 0.05 DC offset": Audio(speech.samples + 0.05, speech.sample_rate),
        "80.3 Hz tone, 3 s": Audio(torch.tensor(tone[None], dtype=torch.float32), sr),
    }


def sc_db(y: torch.Tensor, target: torch.Tensor, spec) -> float:
    est = magnitude(y, spec)
    return float(20 * torch.log10(torch.linalg.vector_norm(est - target) / torch.linalg.vector_norm(target)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-python", required=True, help="python of the venv with pghipy")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--clips", type=int, default=None, help="only the first N eval clips (a subset)")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    torch.set_num_threads(1)

    names = sorted(p.name for p in EVAL.iterdir() if p.suffix in (".wav", ".ogg"))[: args.clips]
    clips = {name: read_audio(EVAL / name) for name in names}
    clips.update(synthetic())

    cases, jobs = [], {}
    for name, audio in clips.items():
        for window, hop in SETTINGS:
            spec = dataclasses.replace(PRESETS["linear"], sample_rate=audio.sample_rate, hop_length=hop,
                                       window=window)
            s = audio_to_spectrogram(audio, spec)
            i = len(cases)
            cases.append({"clip": name, "window": window, "hop": hop, "gamma": gamma(spec),
                          "seconds": audio.samples.shape[-1] / audio.sample_rate, "spec": spec, "s": s})
            jobs[f"mag_{i}"] = s.magnitude[0].double().numpy().T.copy()  # frames × bins
    meta = [{"n_fft": c["spec"].n_fft, "hop": c["hop"], "gamma": c["gamma"], "tol": args.tol} for c in cases]

    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "jobs.npz", meta=json.dumps(meta), **jobs)
        env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
        subprocess.run([args.peer_python, str(HERE / "peers.py"), str(Path(tmp) / "jobs.npz"),
                        str(Path(tmp) / "peers.npz"), str(args.repeats)], check=True, env=env)
        peers = dict(np.load(Path(tmp) / "peers.npz"))

    pghi_phase(cases[0]["s"], args.tol)  # numba compile, not timed
    rows = []
    for i, c in enumerate(cases):
        s, spec = c["s"], c["spec"]
        seconds, phase = best_time(lambda: pghi_phase(s, args.tol), args.repeats)
        ours = istft(s.magnitude * phase, spec, s.length)
        theirs = torch.from_numpy(peers[f"pghipy_{i}"].T[None].astype(np.complex64))
        theirs = istft(theirs, spec, s.length)
        rows.append({"clip": c["clip"], "window": c["window"], "hop": c["hop"], "gamma": c["gamma"],
                     "audio_s": round(c["seconds"], 2),
                     "ours_sc_db": round(sc_db(ours, s.magnitude, spec), 2),
                     "pghipy_sc_db": round(sc_db(theirs, s.magnitude, spec), 2),
                     "ours_s": round(seconds, 4), "pghipy_s": round(float(peers[f"pghipy_time_{i}"]), 4)})
        print(rows[-1], flush=True)

    load = os.getloadavg()
    record = {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "tol": args.tol,
              "repeats": args.repeats, "machine": f"{platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} cores, load {load[0]:.1f} at the end", "torch_threads": 1,
              "peers": {"pghipy": "0.1.1", "tifresi": "0.1.4 not run: it needs ltfatpy, which does not "
                        "build here (no FFTW library)"}, "rows": rows}
    (args.out / "results.json").write_text(json.dumps(record, indent=1) + "\n")
    lines = ["# Our PGHI vs pghipy 0.1.1 on the same magnitudes", "",
             f"n_fft = win_length = 1024, centre padding, tol {args.tol} for both, best of {args.repeats}, "
             f"one thread; {record['machine']}. SC in dB (lower is better); Δ = ours − pghipy; "
             "time = magnitude → complex coefficients.", "",
             "| clip | window | hop | ours SC | pghipy SC | Δ dB | ours ms | pghipy ms | speed-up |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['clip']} | {r['window']} | {r['hop']} | {r['ours_sc_db']:.2f} | {r['pghipy_sc_db']:.2f} "
                     f"| {r['ours_sc_db'] - r['pghipy_sc_db']:+.2f} | {1000 * r['ours_s']:.0f} "
                     f"| {1000 * r['pghipy_s']:.0f} | {r['pghipy_s'] / r['ours_s']:.1f}× |")
    lines += ["", "Means per setting:", "", "| window | hop | ours SC | pghipy SC | worst Δ | ours s | pghipy s |",
              "|---|---|---|---|---|---|---|"]
    for window, hop in SETTINGS:
        sel = [r for r in rows if r["window"] == window and r["hop"] == hop]
        lines.append(f"| {window} | {hop} | {np.mean([r['ours_sc_db'] for r in sel]):.2f} "
                     f"| {np.mean([r['pghipy_sc_db'] for r in sel]):.2f} "
                     f"| {max(r['ours_sc_db'] - r['pghipy_sc_db'] for r in sel):+.2f} "
                     f"| {sum(r['ours_s'] for r in sel):.2f} | {sum(r['pghipy_s'] for r in sel):.2f} |")
    (args.out / "results.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

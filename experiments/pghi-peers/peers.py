"""Runs in the experiment's own venv (run.sh): the peers' PGHI on magnitudes
written by run.py, timed; phases and times go back in an .npz.

Reads ``jobs.npz`` (mag_<i>: frames × bins float64; meta: JSON list of
{"n_fft", "hop", "gamma", "tol"}) and writes ``peers.npz``.
"""

import json
import sys
import time

import numpy as np


def best_time(fn, repeats):
    """Best of ``repeats`` wall times (s) and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(jobs_path, out_path, repeats):
    import pghipy

    jobs = np.load(jobs_path)
    meta = json.loads(str(jobs["meta"]))
    results = {}
    warm = np.abs(np.random.default_rng(0).standard_normal((40, 513))) + 1e-3
    pghipy.pghi(warm, 1024, 256, gamma=0.25645 * 1024 ** 2, tol=1e-4)  # numba compile, not timed
    for i, job in enumerate(meta):
        mag = np.ascontiguousarray(jobs[f"mag_{i}"])

        def run():
            # pghipy.pghi: frames × bins, phase in the frame-start convention
            # of a window centred at n_fft/2 (ours for win_length = n_fft).
            phase = pghipy.pghi(mag, job["n_fft"], job["hop"], gamma=job["gamma"], tol=job["tol"])
            return mag * np.exp(1j * phase)

        seconds, coefficients = best_time(run, repeats)
        results[f"pghipy_{i}"] = coefficients
        results[f"pghipy_time_{i}"] = np.array(seconds)
    np.savez(out_path, **results)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))

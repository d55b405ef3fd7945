"""Block length against time and peak memory for a block-wise `vocoder invert`
of a mel (`hifigan` preset) PNG with pghi+fgla, and what the block planner
picks under a 1 GB cap and under the default one.

Each inversion is its own process (`python -m vocoder invert ...`), measured
from outside: wall time, CPU time (user + system, children included) and the
kernel's maximum resident set size (`wait4`'s ru_maxrss), plus what the
record says (blocks, context, NNLS iterations, self-check consistency, and
for the planner's runs its choice). The explicit block lengths run under
the default cap (a 40 s block does not fit 1 GB); the whole-signal run is
measured beside them.

    PYTHONPATH=. .venv/bin/python experiments/blockwise-cap/run.py [--minutes 3] [--blocks 2.5,5,10,20,40]

The input is experiments/one-hour's synthetic recording (the bundled
public-domain clip tiled, hum, chirps, noise), encoded with `--preset hifigan
--max-memory 1G`. Writes results.json beside this file.
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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "experiments", "one-hour"))

from run import synthesise  # noqa: E402  (experiments/one-hour/run.py)


def measured(argv: list[str]) -> dict:
    """Run ``python -m vocoder ARGV`` as a child; its wall and CPU seconds and peak RSS."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)  # progress bars
        os.execv(sys.executable, [sys.executable, "-m", "vocoder", *argv])
    _, status, usage = os.wait4(pid, 0)
    return {"exit": os.waitstatus_to_exitcode(status), "wall_s": round(time.perf_counter() - started, 2),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "system_s": round(usage.ru_stime, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--blocks", default="2.5,5,10,20,40", help="block lengths in seconds")
    parser.add_argument("--iters", type=int, default=8)
    parser.add_argument("--max-memory", default="1G", help="the tight cap the planner is run under")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="vocoder-blockwise-cap-")
    try:
        wav, png = os.path.join(work, "long.wav"), os.path.join(work, "long.png")
        seconds = synthesise(wav, args.minutes)
        encode = measured(["encode", wav, "-o", png, "--preset", "hifigan", "--max-memory", args.max_memory])
        base = ["invert", png, "--backend", "pghi+fgla", "--iters", str(args.iters), "--timings"]
        runs = []
        plans = ([("whole", [])] + [(f"{b} s", ["--block-seconds", b]) for b in args.blocks.split(",")]
                 + [(f"planner, {args.max_memory} cap", ["--max-memory", args.max_memory]),
                    ("planner, default cap", [])])
        for label, extra in plans:
            out = os.path.join(work, f"out-{len(runs)}.wav")
            load_before = os.getloadavg()[0]
            result = {"plan": label, **measured([*base, "-o", out, *extra]),
                      "load_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
            record = json.load(open(out + ".json")) if result["exit"] == 0 else {}
            block = next((s for s in record.get("steps", []) if s.get("step") == "blockwise"), {})
            nnls = next((s for s in record.get("steps", []) if s.get("step") == "mel_to_linear"), {})
            result.update(blocks=block.get("blocks"), block_frames=block.get("block_frames"),
                          context_frames=block.get("context_frames"),
                          nnls_iterations=nnls.get("iterations"),
                          inversion_s=round(record.get("wall_seconds", {}).get("inversion", float("nan")), 2),
                          consistency_db=record.get("fidelity_vs_input", {}).get("consistency_db"),
                          chosen=record.get("blockwise") if label.startswith("planner") else None,
                          x_real_time=round(seconds / result["wall_s"], 1))
            runs.append(result)
            print(json.dumps(result), flush=True)
        results = {"input": {"seconds": seconds, "preset": "hifigan", "backend": f"pghi+fgla, {args.iters} iterations"},
                   "encode": encode, "runs": runs,
                   "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                               "loadavg_after": os.getloadavg()}}
        with open(os.path.join(HERE, "results.json"), "w") as fh:
            json.dump(results, fh, indent=2)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Start-up time of the commands that should answer at once (issue #23):
`vocoder --version`, `--help`, `backends` and `info FILE` (on a PNG written
by `vocoder encode`, on a plain picture and on an audio file), against
`python -c "import torch"` on the same machine, whose quarter is the target.

Each command is its own process (`python -m vocoder ...`, which runs the
console script's `vocoder.entry:main`), timed from outside by wall clock:
one warm-up run, then the median of --runs runs. Several checkouts can be
timed in one go, interleaved run by run, so they meet the same load:

    PYTHONPATH=. .venv/bin/python experiments/startup/run.py \
        [--checkout before=/work/main] [--checkout after=.] [--runs 7]

The machine is shared, so the load average (`os.getloadavg`) before and
after is written with the results. Writes results.md beside this file
(pass --out to write elsewhere).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAMPLES = os.path.join(ROOT, "samples")
AUDIO = os.path.join(SAMPLES, "LJ001-0006.wav")
PICTURE = os.path.join(SAMPLES, "text.png")


def commands(encoded_png: str) -> list[tuple[str, list[str]]]:
    """(label, argv after `python`) of every timed command; the first four are the issue's."""
    return [
        ("vocoder --version", ["-m", "vocoder", "--version"]),
        ("vocoder --help", ["-m", "vocoder", "--help"]),
        ("vocoder backends", ["-m", "vocoder", "backends"]),
        ("vocoder info ENCODED.png", ["-m", "vocoder", "info", encoded_png]),
        ("vocoder info samples/text.png", ["-m", "vocoder", "info", PICTURE]),
        ("vocoder info samples/LJ001-0006.wav", ["-m", "vocoder", "info", AUDIO]),
        ('python -c "import torch"', ["-c", "import torch"]),
    ]


def wall_seconds(argv: list[str], checkout: str) -> float:
    """Wall time of one child ``python ARGV`` run in CHECKOUT with its code on the path
    (exit 1 is `info`'s answer for a picture without our metadata)."""
    env = dict(os.environ, PYTHONPATH=checkout)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], cwd=checkout, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{shlex.join(argv)} in {checkout} failed with exit status {done.returncode}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", action="append", metavar="NAME=PATH",
                        help="a checkout to time (repeatable); default: this one, as 'this'")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command, after one warm-up")
    parser.add_argument("--out", default=os.path.join(HERE, "results.md"))
    args = parser.parse_args()
    checkouts = [c.split("=", 1) for c in (args.checkout or [f"this={ROOT}"])]
    checkouts = [(name, os.path.abspath(path)) for name, path in checkouts]

    work = tempfile.mkdtemp(prefix="vocoder-startup-")
    encoded = os.path.join(work, "encoded.png")
    subprocess.run([sys.executable, "-m", "vocoder", "encode", AUDIO, "-o", encoded],
                   cwd=checkouts[0][1], env=dict(os.environ, PYTHONPATH=checkouts[0][1]), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    table = commands(encoded)
    load_before = os.getloadavg()
    times: dict[tuple[str, str], list[float]] = {}
    for label, argv in table:
        for name, path in checkouts:
            wall_seconds(argv, path)  # warm-up: page cache, .pyc files
        for _ in range(args.runs):
            for name, path in checkouts:
                times.setdefault((name, label), []).append(wall_seconds(argv, path))
    load_after = os.getloadavg()

    medians = {key: statistics.median(values) for key, values in times.items()}
    torch_label = table[-1][0]
    lines = [
        "# Start-up time (issue #23)",
        "",
        "Produced by:",
        "",
        "    " + shlex.join(["PYTHONPATH=.", os.path.relpath(sys.executable, ROOT)
                             if sys.executable.startswith(ROOT) else sys.executable,
                             "experiments/startup/run.py", *sys.argv[1:]]),
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average (1, 5, 15 min) {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} "
        f"before, {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} after; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        f"Wall seconds, median of {args.runs} runs after one warm-up; each checkout's "
        f'`import torch` is the same library, timed beside it. Target: under 1 s and under a quarter of `import torch`.',
        "",
        "| command | " + " | ".join(f"{name} (s)" for name, _ in checkouts) + " |",
        "|---|" + "---:|" * len(checkouts),
    ]
    for label, _ in table:
        lines.append(f"| `{label}` | " + " | ".join(f"{medians[(name, label)]:.2f}" for name, _ in checkouts) + " |")
    lines.append("| a quarter of `import torch` | "
                 + " | ".join(f"{medians[(name, torch_label)] / 4:.2f}" for name, _ in checkouts) + " |")
    lines.append("")
    with open(args.out, "w") as handle:
        handle.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

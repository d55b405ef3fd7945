"""Screenshots of audio tools → `vocoder invert` → score against the recording.

Programs × clips → pictures (pictures/), each read by `vocoder invert` in the
ways READINGS names, scored by score.py against the clip, beside what the
picture holds (holds.py). Writes results.json and results.md here.

    PYTHONPATH=$PWD python experiments/screenshots/run.py [--readings none,axes] [--programs ...] [--clips ...]

README.md explains the columns.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import soundfile
from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(HERE)]

from holds import colour_steps, drawn_range_db, holding_picture  # noqa: E402
from score import score  # noqa: E402
from screenshot_programs import DRAWERS, Drawn, ProgramMissing, cut_clip  # noqa: E402

from vocoder.errors import VocoderError  # noqa: E402

EVAL = Path("/work/shared/data/audio/eval")
# name → (recording, seconds from its start; None: all of it)
CLIPS = {
    "LJ001-0025": (EVAL / "LJ001-0025.wav", None),
    "arctic_aew_a0001": (EVAL / "cmu_arctic_us_aew_a0001.wav", None),
    "trumpet": (EVAL / "trumpet.ogg", 8.0),
    "brahms": (EVAL / "brahms_hungarian_dance_5.ogg", 8.0),
}
PROGRAMS = ["sox", "ffmpeg", "ffmpeg-1024x512", "matplotlib-specgram", "librosa-specshow-linear",
            "librosa-specshow-mel", "octave-specgram", "praat"]


def _box(box) -> str:
    return ",".join(str(v) for v in box)


def what_the_axes_say(drawn: Drawn) -> list[str]:
    """The options a user types after reading `vocoder invert --help` and the picture:
    the plot's box, the colour bar's box, the time axis's span, the frequency axis's
    ends (or, for librosa's mel and log axes, that axis and its row scale), the colour
    bar's end labels, and the polarity where the picture is grey with dark loud."""
    options = ["--crop", _box(drawn.plot_box), "--duration", f"{drawn.time_range[1] - drawn.time_range[0]:.3f}"]
    if drawn.colorbar_box is not None:
        options += ["--colorbar", _box(drawn.colorbar_box)]
    if drawn.freq_scale == "mel":
        options += ["--scale", "mel", "--n-mels", "128", "--fmax", f"{drawn.sample_rate / 2:g}",
                    "--row-scale", "librosa"]
    elif drawn.freq_scale == "log":
        options += ["--row-scale", "librosa-log"]
    else:  # librosa's axis ends half a bin past Nyquist: the ticks say Nyquist
        options += ["--freq-range", f"{max(drawn.freq_range[0], 0.0):.0f}",
                    f"{min(drawn.freq_range[1], drawn.sample_rate / 2):.0f}"]
    options += ["--db-range", f"{drawn.db_range[0]:.0f}", f"{drawn.db_range[1]:.0f}"]
    if drawn.dark_is_loud:
        options.append("--dark-is-loud")
    return options


# How each picture is read: a fixed list of options, or a function of the truth the
# program drew (what its axes say). Edit here; `--readings` picks among them.
READINGS = {
    "none": [],  # --figure auto: the plot, its bar and its axes found and read (OCR)
    "plain": ["--figure", "plain"],  # the raw pixels, as vocoder read every picture before issue #18
    "axes": what_the_axes_say,
}
# Options of a reading that find and decode the picture; the rest (spec, range, time)
# also read the picture of what it holds.
FINDING = {"--crop": 1, "--colorbar": 1, "--colormap": 1, "--dark-is-loud": 0, "--row-scale": 1}


def invert(picture: Path, out: Path, options: list[str]) -> dict:
    """`vocoder invert PICTURE -o OUT options` in a child; its score inputs and wall time."""
    command = [sys.executable, "-m", "vocoder", "invert", str(picture), "-o", str(out), "--force", *options]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - start
    entry = {"options": options, "seconds": round(seconds, 2)}
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        entry["failed"] = lines[-1] if lines else f"exit {result.returncode}"
    warnings = [line.split("warning: ", 1)[1] for line in result.stderr.splitlines() if "warning: " in line]
    if warnings:
        entry["warnings"] = warnings
    return entry


def holding_options(options: list[str], depth: float) -> list[str]:
    """The reading's options without those that find and decode the picture, and
    the holding picture's own dB range (its 8 bits span ``depth`` below its peak)."""
    kept, skip = [], 0
    for option in options:
        if skip:
            skip -= 1
        elif option in FINDING:
            skip = FINDING[option]
        elif option == "--db-range":
            kept += ["--db-range", f"{-depth:.3f}", "0"]
            skip = 2
        else:
            kept.append(option)
    return kept


def scored(entry: dict, clip: Path, out: Path, band: tuple[float, float]) -> dict:
    """The entry with its score, or the reason there is none (a silent output is a failure)."""
    if "failed" in entry:
        return entry
    record = json.loads(Path(f"{out}.json").read_text())
    time_range = (record.get("picture_options") or {}).get("time_range")
    if record.get("read_from_picture"):
        entry = {**entry, "read": {claim["value_of"]: claim["value"] for claim in record["read_from_picture"]}}
    try:
        result = score(clip, out, band, start=time_range[0] if time_range else 0.0)
    except VocoderError as error:
        return {**entry, "failed": str(error).replace(str(out), "OUT")}
    return {**entry, **{k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(result).items()}}


def run_picture(clip: Path, drawn: Drawn, readings: list[str], work: Path) -> dict:
    band = (max(drawn.freq_range[0], 0.0), min(drawn.freq_range[1], drawn.sample_rate / 2))
    row: dict = {"picture": str(drawn.png.relative_to(HERE)), "truth": {
        k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(drawn).items() if k != "png"}}
    for name in readings:
        options = READINGS[name] if isinstance(READINGS[name], list) else READINGS[name](drawn)
        out = work / f"{drawn.png.stem}.{name}.wav"
        row[name] = scored(invert(drawn.png, out, list(options)), clip, out, band)
    axes = what_the_axes_say(drawn)
    left, top, right, bottom = drawn.plot_box
    depth = drawn_range_db(drawn.png, drawn.plot_box, drawn.colorbar_box, drawn.db_range)
    if depth < 1.0:
        row["holds"] = {"db_below_loudest": round(depth, 1), "seconds": 0.0,
                        "failed": "the picture shows nothing: its loudest cell is at the bottom of its colour scale"}
        return row
    # The levels the picture can draw within that depth: its bar's distinct colours over its span.
    span = drawn.db_range[1] - drawn.db_range[0]
    steps = max(1, min(255, round(colour_steps(drawn.png, drawn.colorbar_box) * depth / span)))
    holding = holding_picture(clip, work / f"{drawn.png.stem}.holds.png", right - left, bottom - top,
                              drawn.time_range, band, depth, mel_bands=128 if drawn.freq_scale == "mel" else None,
                              pre_emphasis=drawn.pre_emphasis_db_per_octave, steps=steps)
    out = work / f"{drawn.png.stem}.holds.wav"
    row["holds"] = {"db_below_loudest": round(depth, 1), "levels": steps + 1,
                    **scored(invert(holding, out, holding_options(axes, depth)), clip, out, band)}
    if drawn.n_fft != 1024 and drawn.freq_scale != "mel":  # the same, analysed with the program's window
        holding = holding_picture(clip, work / f"{drawn.png.stem}.holds-window.png", right - left, bottom - top,
                                  drawn.time_range, band, depth, pre_emphasis=drawn.pre_emphasis_db_per_octave,
                                  steps=steps, n_fft=drawn.n_fft)
        out = work / f"{drawn.png.stem}.holds-window.wav"
        row["holds_window"] = {"n_fft": drawn.n_fft,
                               **scored(invert(holding, out, holding_options(axes, depth)), clip, out, band)}
    return row


def _l1(entry: dict | None) -> float | None:
    return entry.get("l1") if entry else None


def _ratio(reading: float | None, holds: float | None) -> str:
    return f"{reading / holds:.2f}" if reading is not None and holds else "–"


def table(rows: list[dict], readings: list[str]) -> str:
    """One line per picture: each reading's score, what the picture holds (at 1024 points, and with
    the program's own analysis window where it differs), and the ratios."""
    head = (["clip", "program", "plot px of picture", "band Hz", "dB shown"] + [f"{r} L1" for r in readings]
            + ["holds L1", "holds L1, program's window"] + [f"{r}/holds" for r in readings]
            + [f"{r}/holds (program's window)" for r in readings if r != "plain"] + [f"{readings[0]} s"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        truth = row["truth"]
        left, top, right, bottom = truth["plot_box"]

        def cell(entry: dict | None) -> str:
            if entry is None:
                return "(same)"
            return f"failed: {entry['failed']}" if "failed" in entry else f"{entry['l1']:.3f}"

        holds, window = _l1(row["holds"]), _l1(row.get("holds_window")) or _l1(row["holds"])
        lines.append("| " + " | ".join(
            [row["clip"], row["program"], f"{right - left}×{bottom - top} of {row['size']}",
             f"{max(truth['freq_range'][0], 0):.0f}–{min(truth['freq_range'][1], truth['sample_rate'] / 2):.0f}",
             f"{row['holds']['db_below_loudest']:.0f}"]
            + [cell(row[r]) for r in readings] + [cell(row["holds"]), cell(row.get("holds_window"))]
            + [_ratio(_l1(row[r]), holds) for r in readings]
            + [_ratio(_l1(row[r]), window) for r in readings if r != "plain"]
            + [f"{row[readings[0]]['seconds']:.1f}"]) + " |")
    return "\n".join(lines)


def summary(rows: list[dict], readings: list[str]) -> str:
    """Per program: the worst (largest) ratio over the clips, each reading against each baseline."""
    programs = list(dict.fromkeys(row["program"] for row in rows))
    kept = [r for r in readings if r != "plain"]
    head = ["program"] + [f"worst {r}/holds" for r in kept] + [f"worst {r}/holds (program's window)" for r in kept]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for program in programs:
        mine = [row for row in rows if row["program"] == program]

        def worst(reading: str, window: bool) -> str:
            ratios = []
            for row in mine:
                base = _l1(row.get("holds_window")) if window and row.get("holds_window") else _l1(row["holds"])
                score = _l1(row[reading])
                if base and score is not None:
                    ratios.append(score / base)
                elif "failed" in row[reading] or not base:
                    return "– (a cell failed or holds nothing)"
            return f"{max(ratios):.2f}" if ratios else "–"
        lines.append("| " + " | ".join([program] + [worst(r, False) for r in kept] + [worst(r, True) for r in kept])
                     + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", default="none,plain,axes", help=f"comma-separated, of {', '.join(READINGS)}")
    parser.add_argument("--programs", default=",".join(PROGRAMS))
    parser.add_argument("--clips", default=",".join(CLIPS))
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for clips and outputs (default: a temporary one)")
    args = parser.parse_args()
    readings = args.readings.split(",")
    work = args.work or Path(tempfile.mkdtemp(prefix="screenshots-"))
    work.mkdir(parents=True, exist_ok=True)
    pictures = HERE / "pictures"
    pictures.mkdir(exist_ok=True)
    rows, skipped = [], []
    for clip_name in args.clips.split(","):
        source, seconds = CLIPS[clip_name]
        clip = cut_clip(source, work / f"{clip_name}.wav", seconds or soundfile.info(str(source)).duration)
        for program in args.programs.split(","):
            try:
                drawn = DRAWERS[program](clip, pictures / f"{clip_name}__{program}.png")
            except ProgramMissing as missing:
                skipped.append(f"{clip_name} × {program}: {missing}")
                continue
            with Image.open(drawn.png) as image:
                size = f"{image.width}×{image.height}"
            row = {"clip": clip_name, "program": program, "size": size,
                   **run_picture(clip, drawn, readings, work)}
            rows.append(row)
            print(clip_name, program, {r: row[r].get("l1", row[r].get("failed")) for r in readings + ["holds"]},
                  flush=True)
    (HERE / "results.json").write_text(json.dumps({"readings": {r: (v if isinstance(v, list) else v.__name__)
                                                                for r, v in READINGS.items() if r in readings},
                                                   "rows": rows, "skipped": skipped}, indent=1) + "\n")
    write_table(rows, readings, skipped)


def write_table(rows: list[dict], readings: list[str], skipped: list[str]) -> None:
    (HERE / "results.md").write_text("# Screenshot readings: results\n\n(written by run.py; README.md explains "
                                     "the columns)\n\n## Per program: the worst clip\n\n" + summary(rows, readings)
                                     + "\n\n## Every picture\n\n" + table(rows, readings) + "\n"
                                     + "".join(f"\nskipped: {s}\n" for s in skipped))


if __name__ == "__main__":
    main()

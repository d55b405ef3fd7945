"""Merge the three benches of run.sh into one table: SC and mel L1 per clip and axis.

Run from the project root after run.sh:  .venv/bin/python experiments/axes/tabulate.py
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
AXES = {"linear": "linear (513 bins)", "mel80": "mel, 80 bands 0–8 kHz",
        "log36": "log, 36/octave 50 Hz–Nyquist (281 bands)"}


def _rows(name: str) -> dict[str, dict[str, str]]:
    with open(HERE / name / "results.csv") as fh:
        return {row["clip"]: row for row in csv.DictReader(fh)}


def _cqt_table() -> list[str]:
    """The constant-Q path (cqt_path.py) beside the log axis over the same 7 octaves."""
    cqt_file, ours_dir = HERE / "cqt_path.json", HERE / "log36_7oct"
    if not (cqt_file.exists() and (ours_dir / "results.csv").exists()):
        return []
    cqt = {row["clip"]: row for row in json.loads(cqt_file.read_text())["rows"]}
    ours = _rows("log36_7oct")
    out = ["", "Constant-Q path vs the log axis over the same 7 octaves (50–6278 Hz, 252 bands):", "",
           "| clip | SC log axis, pghi+fgla (dB) | SC cqt + griffinlim_cqt (dB) | SC cqt, true phase (dB) "
           "| mel L1 log axis | mel L1 cqt + griffinlim_cqt | mel L1 cqt, true phase |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for clip in ours:
        if clip in cqt:
            c, o = cqt[clip], ours[clip]
            out.append(f"| {clip} | {float(o['sc_db']):.2f} | {c['sc_db']:.2f} | {c['oracle_sc_db']:.2f} | "
                       f"{float(o['mel_l1']):.3f} | {c['mel_l1']:.3f} | {c['oracle_mel_l1']:.3f} |")
    return out


def main() -> None:
    results = {name: _rows(name) for name in AXES}
    clips = list(results["linear"])
    lines = ["| clip | kind | " + " | ".join(f"SC {n} (dB)" for n in AXES) + " | "
             + " | ".join(f"mel L1 {n}" for n in AXES) + " | " + " | ".join(f"s {n}" for n in AXES) + " |",
             "|---|---|" + "---:|" * (3 * len(AXES))]
    means = {n: {"sc_db": [], "mel_l1": [], "seconds": []} for n in AXES}
    for clip in clips:
        cells = []
        for metric in ("sc_db", "mel_l1", "seconds"):
            for n in AXES:
                value = float(results[n][clip][metric])
                means[n][metric].append(value)
                cells.append(f"{value:.2f}" if metric != "mel_l1" else f"{value:.3f}")
        lines.append(f"| {clip} | {results['linear'][clip]['kind']} | " + " | ".join(cells) + " |")
    mean_cells = []
    for metric in ("sc_db", "mel_l1", "seconds"):
        for n in AXES:
            v = sum(means[n][metric]) / len(means[n][metric])
            mean_cells.append(f"**{v:.2f}**" if metric != "mel_l1" else f"**{v:.3f}**")
    lines.append("| **mean** | | " + " | ".join(mean_cells) + " |")
    log_vs_mel = [l - m for l, m in zip(means["log36"]["sc_db"], means["mel80"]["sc_db"])]
    summary = {
        "axes": AXES,
        "mean": {n: {k: sum(v) / len(v) for k, v in means[n].items()} for n in AXES},
        "log36_minus_mel80_sc_db": dict(zip(clips, log_vs_mel)),
        "log36_no_worse_than_mel80_on": sum(d <= 0 for d in log_vs_mel),
        "clips": len(clips),
    }
    lines += _cqt_table()
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    (HERE / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("\n".join(lines))
    print(f"log36 SC no worse than mel80 on {summary['log36_no_worse_than_mel80_on']}/{len(clips)} clips")


if __name__ == "__main__":
    main()

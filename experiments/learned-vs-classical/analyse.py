"""Group the study's bench results by content kind and draw its figures.

    .venv/bin/python experiments/learned-vs-classical/analyse.py RUNS_DIR

RUNS_DIR holds, per input condition (clean, png8-blur0.7; run.sh makes them),
one `vocoder bench` folder or a folder of parts (CONDITION/*/results.csv, read
as one condition). Writes RUNS_DIR/analysis/:
  by_kind.csv     kind × backend × condition: clip count and mean of every metric
  tables.md       the goal of issue #20 per kind (composed backends against the
                  classical ones); per kind: the clean numbers with bootstrap
                  intervals and how they move under degradation (on the same
                  clips); per clip for the held-out LJ clip
  figures/        heatmaps (kind × backend), energy bar charts, degradation deltas,
                  and one side-by-side spectrogram figure per representative clip

Content kinds come from clips.csv (the real clips) and the synthetic clips'
manifest.csv. Means are over clips; a value below FLOOR_DB (−100 dB), −∞
included (no such energy at all), is counted as FLOOR_DB so that means stay
finite and a few near-silent clips do not dominate them (by_kind.csv counts
the −∞ ones).
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from vocoder.evaluation import hallucination as hal
from vocoder.evaluation import stats
from vocoder.evaluation.bench import BackendChoice
from vocoder.frontend.stft import magnitude
from vocoder.plots import plt
from vocoder.spec import get_preset

HERE = Path(__file__).resolve().parent
# Conditions run on every clip; SUBSET_CONDITIONS ran on a subset and are compared
# with the clean run clip by clip (paired), never as kind means.
CONDITIONS = ["clean", "png8-blur0.7"]
SUBSET_CONDITIONS = ["png8"]
CONDITION_LABELS = {"clean": "16-bit PNG", "png8": "8-bit PNG", "png8-blur0.7": "8-bit PNG + blur 0.7 px"}
KIND_ORDER = [
    "LJ read speech (in LJ model's training list)",
    "LJ read speech (held out: LJ model's validation list)",
    "other speakers (male)",
    "music (no singing in the data)",
    "animals (SYNTHETIC stand-ins)",
    "noise (synthetic)",
    "tones (synthetic)",
]
SYNTHETIC_KINDS = {"animals": KIND_ORDER[4], "noise": KIND_ORDER[5], "tones": KIND_ORDER[6]}
DEVIATION = ["deviation_added_beyond_6_db", "deviation_added_beyond_20_db", "deviation_lost_beyond_6_db",
             "deviation_lost_beyond_20_db"]
METRICS = ["sc_db", "sc_fullband_db", "mel_l1", "mel_l1_fullband", "pesq", "stoi", "consistency_db",
           "hallucinated_db", "missing_db", "out_of_band_db", "out_of_band_beyond_lobe_db", "out_of_band_interior_db",
           *DEVIATION]
ENERGY = ("hallucinated_db", "missing_db", "out_of_band_db")
FLOOR_DB = -100.0
SHOWN = {"sc_db": "SC dB", "mel_l1": "mel L1", "pesq": "PESQ", "stoi": "STOI", "hallucinated_db": "added dB",
         "missing_db": "missing dB", "out_of_band_db": "out-of-band dB",
         "out_of_band_beyond_lobe_db": "out-of-band > 8.04 kHz dB",
         "out_of_band_interior_db": "out-of-band > 8.04 kHz, interior dB",
         "deviation_added_beyond_6_db": "dev. added >6 dB %", "deviation_added_beyond_20_db": "dev. added >20 dB %",
         "deviation_lost_beyond_6_db": "dev. lost >6 dB %", "deviation_lost_beyond_20_db": "dev. lost >20 dB %"}
PERCENT = set(DEVIATION)  # shares, shown as % of the output's (added) or the input's (lost) energy
SPEECH_KINDS = KIND_ORDER[:3]
CLASSICAL = ("fgla", "pghi+fgla")
PESQ_BASELINE = "pghi+fgla"
WITHIN_DB = 3.0  # the goal's margin (issue #20): a composition's energy ≤ the classical one + 3 dB
AUDIBLE_FLOOR_DB = -60.0  # the second verdict's floor: the added measure's own threshold (60 dB below the peak)
LOBE = "out_of_band_beyond_lobe_db"  # out-of-band energy above fmax + the Hann window's main lobe (2 bins)
EDGE = "out_of_band_interior_db"  # the same without the first and last EDGE_FRAMES frames
EDGE_FRAMES = 3
GOAL_ENERGY = ("hallucinated_db", "out_of_band_db", EDGE)
REPRESENTATIVE = ["LJ001-0025", "LJ001-0028", "cmu_arctic_us_aew_a0001", "librispeech_5703-47212-0000", "trumpet",
                  "brahms_hungarian_dance_5", "synth_birdlike_chirps", "synth_whalelike_moan",
                  "synth_noise_band_1k_3k", "synth_noise_white", "synth_harmonic_220", "synth_sweep_50_7500",
                  "synth_dc_low_tone"]


def short_backend(label: str) -> str:
    """A column name for a backend: its label ("hifigan-v1-lj", "hifigan-v1-universal > band"), with a
    checkpoint file's path shortened to 'tiny-100batches' or its stem, in every stage of a composition."""
    stages = []
    for stage in label.split(" > "):
        checkpoint = stage.partition("checkpoint=")[2]
        if checkpoint.endswith(".safetensors") or checkpoint.endswith(".ckpt"):
            stage = "tiny-100batches" if "tiny" in Path(checkpoint).name else Path(checkpoint).stem
        elif checkpoint:
            stage = checkpoint
        stages.append(stage)
    return " > ".join(stages)


def is_composition(backend: str) -> bool:
    return " > " in backend


def condition_parts(runs: Path, condition: str) -> list[Path]:
    """The bench folders of a condition: RUNS/CONDITION itself, or its parts RUNS/CONDITION/*/."""
    if (runs / condition / "results.csv").exists():
        return [runs / condition]
    return sorted(p.parent for p in (runs / condition).glob("*/results.csv"))


def content_kinds() -> dict[str, str]:
    kinds = {}
    with open(HERE / "clips.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            kinds[row["clip"]] = row["kind"]
    with open(HERE / "synthetic" / "manifest.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            kinds[row["clip"]] = SYNTHETIC_KINDS[row["kind"]]
    return kinds


def load(runs: Path) -> tuple[list[dict], list[str], list[str]]:
    """Every row of every condition, with 'condition', 'folder', 'short' and 'content' added."""
    kinds = content_kinds()
    rows, backends = [], []
    conditions = [c for c in CONDITIONS if condition_parts(runs, c)]
    if "clean" not in conditions:
        sys.exit(f"no clean/results.csv under {runs}: the clean run is what every change is measured from")
    folders = [(c, f) for c in conditions + [c for c in SUBSET_CONDITIONS if condition_parts(runs, c)]
               for f in condition_parts(runs, c)]
    for condition, folder in folders:
        with open(folder / "results.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                row["condition"] = condition
                row["folder"] = folder
                row["short"] = short_backend(row["backend"])
                if row["clip"] not in kinds:
                    sys.exit(f"clip {row['clip']} has no content kind in clips.csv or the synthetic manifest")
                row["content"] = kinds[row["clip"]]
                for name in METRICS:
                    text = row.get(name, "")
                    row[name] = None if text in ("", None) else float(text)
                if row["short"] not in backends:
                    backends.append(row["short"])
                rows.append(row)
    return rows, backends, conditions


def _values(rows: list[dict], metric: str) -> list[float]:
    """The finite-or-−∞ values of a metric, values below FLOOR_DB counted as FLOOR_DB."""
    return [max(r[metric], FLOOR_DB) for r in rows if r[metric] is not None and not math.isnan(r[metric])]


def mean_of(rows: list[dict], metric: str) -> tuple[float | None, int, int]:
    """(mean, clips with a value, clips at −∞), values below FLOOR_DB counted as FLOOR_DB."""
    values = _values(rows, metric)
    if not values:
        return None, 0, 0
    minus_inf = sum(1 for r in rows if r[metric] == -math.inf)
    return float(np.mean(values)), len(values), minus_inf


def paired_md(rows, backends) -> str:
    """Each subset condition against clean and against the blurred run, on the same clips."""
    out = []
    by_key = {(r["clip"], r["short"], r["condition"]): r for r in rows}
    for condition in SUBSET_CONDITIONS:
        clips = sorted({r["clip"] for r in rows if r["condition"] == condition})
        if not clips:
            continue
        out += [f"## {CONDITION_LABELS[condition]} alone, on {len(clips)} clips ({', '.join(clips)})", "",
                "Mean over these clips of (condition − clean), same clip and backend; the blurred 8-bit run on the "
                "same clips for comparison.", "",
                "| backend | Δ SC dB, 8-bit | Δ SC dB, 8-bit + blur | Δ mel L1, 8-bit | Δ mel L1, 8-bit + blur | "
                "Δ added dB, 8-bit | Δ added dB, 8-bit + blur | Δ missing dB, 8-bit | Δ missing dB, 8-bit + blur |",
                "|---|" + "---:|" * 8]
        for backend in backends:
            cells = []
            for metric in ("sc_db", "mel_l1", "hallucinated_db", "missing_db"):
                for other in (condition, "png8-blur0.7"):
                    deltas = []
                    for clip in clips:
                        a, b = by_key.get((clip, backend, "clean")), by_key.get((clip, backend, other))
                        if a and b and a[metric] is not None and b[metric] is not None:
                            deltas.append(max(b[metric], FLOOR_DB) - max(a[metric], FLOOR_DB))
                    cells.append(f"{np.mean(deltas):+.3f}" if deltas else "–")
            out.append(f"| {backend} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def aggregate(rows, backends, conditions) -> dict[tuple[str, str, str], dict]:
    table = {}
    kinds = [k for k in KIND_ORDER if any(r["content"] == k for r in rows)]
    for kind in kinds:
        for backend in backends:
            for condition in conditions:
                group = [r for r in rows if r["content"] == kind and r["short"] == backend
                         and r["condition"] == condition]
                if not group:
                    continue
                cell = {"n": len(group), "learned": group[0]["learned"] == "True",
                        "learned_model": group[0]["learned_model"]}
                for metric in METRICS:
                    cell[metric], cell[f"{metric}_n"], cell[f"{metric}_minus_inf"] = mean_of(group, metric)
                    interval = stats.bootstrap_mean(_values(group, metric))
                    cell[f"{metric}_low"] = interval.low if interval else None
                    cell[f"{metric}_high"] = interval.high if interval else None
                table[(kind, backend, condition)] = cell
    return table


def beyond_lobe(rows: list[dict]) -> None:
    """Out-of-band energy past the analysis window's main lobe, and the same without the clip's first and
    last EDGE_FRAMES frames, for every row with its audio. The bench's out_of_band_db counts every STFT
    bin above 8 kHz in every frame: a Hann window (the preset's, 1024 points) spreads a component at
    7.99 kHz over ±2 bins (±43 Hz), so an output with full energy up to a sharp 8 kHz edge (a learned
    model's, cut by `band`) shows 'out-of-band' energy it does not have; and the frames at the clip's ends,
    where the STFT pads the signal, see a broadband step wherever the output does not start and end quietly.
    Both columns are diagnostics of the measure, not part of the goal's verdict."""
    mel = get_preset("hifigan")
    spec = mel.as_linear()
    edge = mel.axis.band(mel)[1] + 2 * spec.sample_rate / spec.n_fft
    freqs = torch.fft.rfftfreq(spec.n_fft, 1.0 / spec.sample_rate)
    for row in rows:
        row[LOBE] = row[EDGE] = None
        wav = row["folder"] / "audio" / f"{row['clip']}__{BackendChoice(row['backend'], '', {}).slug}.wav"
        if wav.exists():
            estimate = torch.from_numpy(sf.read(wav, dtype="float64", always_2d=True)[0].T.copy())
            power = magnitude(estimate, spec) ** 2
            row[LOBE] = hal.out_of_band_db(power, freqs, edge)
            if power.shape[-1] > 2 * EDGE_FRAMES:
                row[EDGE] = hal.out_of_band_db(power[..., EDGE_FRAMES:-EDGE_FRAMES], freqs, edge)


def write_by_kind(table, path: Path) -> None:
    fields = ["kind", "backend", "condition", "n", "learned", "learned_model"] + [
        f"{m}{suffix}" for m in METRICS for suffix in ("", "_low", "_high", "_n", "_minus_inf")]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for (kind, backend, condition), cell in table.items():
            writer.writerow({"kind": kind, "backend": backend, "condition": condition,
                             **{k: ("" if v is None else (f"{v:.6g}" if isinstance(v, float) else v))
                                for k, v in cell.items()}})


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _delta(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None else f"{b - a:+.2f}"


def _digits(metric: str) -> int:
    return 3 if metric in ("mel_l1", "mel_l1_fullband", "stoi") else 2


def _show(cell: dict, metric: str, interval: bool = True) -> str:
    """A kind mean, with its 95% bootstrap interval over clips when there are two or more."""
    scale = 100.0 if metric in PERCENT else 1.0
    value = cell.get(metric)
    if value is None:
        return "–"
    number = (lambda v: f"{v * scale:.3g}") if metric in PERCENT else (lambda v: _fmt(v, _digits(metric)))  # noqa: E731
    text = number(value)
    if interval and cell.get(f"{metric}_low") is not None:
        text += f" [{number(cell[f'{metric}_low'])}, {number(cell[f'{metric}_high'])}]"
    return text


def tables_md(table, rows, backends, conditions) -> str:
    kinds = [k for k in KIND_ORDER if any(key[0] == k for key in table)]
    learned = {b for (_, b, _), cell in table.items() if cell["learned"]}
    mark = lambda b: f"{b} †" if b in learned else b  # noqa: E731
    out = ["# Learned vs classical, by content kind", "",
           "Means over the clips of each kind, with the 95% percentile-bootstrap interval over clips in brackets "
           "(vocoder.evaluation.stats, 10 000 resamples; none for a kind with one clip; with 2–5 clips the "
           "interval is only a rough guide). SC: spectral convergence of the linear STFT magnitude within the "
           "mel's band, 0–8 kHz (dB, lower is better). mel L1: HiFi-GAN's mel distance, 0–8 kHz (lower is "
           "better). PESQ: wideband, STOI: speech only. "
           f"added / missing: energy the output has where the truth is > 60 dB below its peak / the truth has where "
           f"the output is, re. the truth's energy (dB; values below {FLOOR_DB:g}, −∞ included, counted as {FLOOR_DB:g}). "
           "out-of-band: output energy above the mel's 8 kHz, re. the output's energy. dev. added / lost: the "
           "deviation map's shares, against the input picture (no reference): % of the output's energy in cells "
           "more than 6 / 20 dB louder than the input, % of the input's energy in cells the output made more than "
           "6 / 20 dB quieter. Definitions: docs/metrics.md.", "",
           "† learned backend (a composition with a learned stage included): its output is generated by a trained "
           "model and may contain content absent from the input (model identity in every output's record and in "
           "each bench's summary.md).", ""]
    clean = conditions[0]
    for kind in kinds:
        n = next(cell["n"] for (k, _, c), cell in table.items() if k == kind and c == clean)
        shown = [m for m in SHOWN if any((table.get((kind, b, clean)) or {}).get(m) is not None for b in backends)]
        out += [f"## {kind} ({n} clip{'s' if n != 1 else ''})", "",
                "| backend | " + " | ".join(SHOWN[m] for m in shown) + " |", "|---|" + "---:|" * len(shown)]
        for backend in backends:
            cell = table.get((kind, backend, clean))
            if cell:
                out.append(f"| {mark(backend)} | " + " | ".join(_show(cell, m) for m in shown) + " |")
        full = [(b, table.get((kind, b, clean))) for b in backends]
        out += ["", "Full-band twins (0–11 025 Hz, as the earlier run's SC and the HiFi-GAN authors' mel L1): "
                + "; ".join(f"{b} SC {_fmt(c['sc_fullband_db'])} dB, mel L1 {_fmt(c['mel_l1_fullband'], 3)}"
                            for b, c in full if c) + ".", ""]
        out += degradation_md(rows, kind, backends, conditions, mark)
    held_out = [r for r in rows if r["clip"] == "LJ001-0028"]
    if held_out:
        out += ["## LJ001-0028, per condition (the one LJ clip the LJ model never trained on)", "",
                "| backend | condition | SC dB | mel L1 | PESQ | STOI | added dB | missing dB | out-of-band dB |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in held_out:
            out.append(f"| {mark(r['short'])} | {CONDITION_LABELS[r['condition']]} | {_fmt(r['sc_db'])} | "
                       f"{_fmt(r['mel_l1'], 3)} | {_fmt(r['pesq'])} | {_fmt(r['stoi'], 3)} | "
                       f"{_fmt(r['hallucinated_db'])} | {_fmt(r['missing_db'])} | {_fmt(r['out_of_band_db'])} |")
        out.append("")
    return "\n".join(out)


def compact_md(table, rows, backends, conditions) -> str:
    """The README's tables: kind × backend means (no intervals: tables.md has them), clean input, and
    clean → degraded on the clips both runs have."""
    learned = {b for (_, b, _), cell in table.items() if cell["learned"]}
    names = [(b.replace("hifigan-v1-", "") + (" †" if b in learned else "")) for b in backends]
    kinds = [k for k in KIND_ORDER if any(key[0] == k for key in table)]
    head = ["| content kind (clips) | " + " | ".join(names) + " |", "|---|" + "---:|" * len(backends)]
    out = []

    def block(title, metrics, digits, kinds_=kinds, scale=1.0):
        lines = [f"**{title}**", "", *head]
        for kind in kinds_:
            cells = []
            for b in backends:
                cell = table.get((kind, b, conditions[0]))
                values = [None if not cell or cell[m] is None else cell[m] * scale for m in metrics]
                cells.append(" / ".join(_fmt(v, d) for v, d in zip(values, digits)))
            n = table.get((kind, backends[0], conditions[0]), {}).get("n", "?")
            lines.append(f"| {kind} ({n}) | " + " | ".join(cells) + " |")
        return lines + [""]

    out += block("SC dB (in-band, 0–8 kHz) / mel L1 (0–8 kHz), clean input", ("sc_db", "mel_l1"), (1, 2))
    out += block("PESQ / STOI, speech kinds, clean input", ("pesq", "stoi"), (2, 3), [k for k in kinds if k in SPEECH_KINDS])
    out += block("added / missing / out-of-band energy, dB, clean input", ENERGY, (0, 0, 0))
    out += block("deviation map, % of energy: added > 6 dB / lost > 6 dB (against the input picture), clean input",
                 ("deviation_added_beyond_6_db", "deviation_lost_beyond_6_db"), (2, 1), scale=100.0)
    for condition in conditions[1:]:
        lines = [f"**{CONDITION_LABELS[condition]}: SC dB clean → degraded / PESQ clean → degraded (speech) or "
                 "Δ missing dB (others), same clips**", "", *head]
        for kind in kinds:
            clips = sorted({r["clip"] for r in rows if r["content"] == kind and r["condition"] == condition})
            if not clips:
                continue
            cells = []
            for b in backends:
                pair = [[r for r in rows if r["short"] == b and r["condition"] == c and r["clip"] in clips]
                        for c in ("clean", condition)]
                sc = [mean_of(g, "sc_db")[0] for g in pair]
                second = "pesq" if kind in SPEECH_KINDS else "missing_db"
                other = [mean_of(g, second)[0] for g in pair]
                text = "–" if None in sc else f"{sc[0]:.1f} → {sc[1]:.1f}"
                if None not in other:
                    text += f" / {other[0]:.2f} → {other[1]:.2f}" if second == "pesq" else \
                        f" / {other[1] - other[0]:+.1f}"
                cells.append(text)
            lines.append(f"| {kind} ({len(clips)}) | " + " | ".join(cells) + " |")
        out += lines + [""]
    return "\n".join(out)


def degradation_md(rows, kind, backends, conditions, mark) -> list[str]:
    """Clean → degraded on the clips of this kind that the degraded run has (same clips, same backend)."""
    out = []
    for condition in conditions[1:]:
        clips = sorted({r["clip"] for r in rows if r["content"] == kind and r["condition"] == condition})
        if not clips:
            continue
        metrics = ("sc_db", "mel_l1", "pesq", "hallucinated_db", "missing_db", "out_of_band_db")
        out += [f"Clean → {CONDITION_LABELS[condition]}, on {len(clips)} clip{'s' if len(clips) != 1 else ''} "
                f"({', '.join(clips)}): clean → degraded means", "",
                "| backend | " + " | ".join(SHOWN[m] for m in metrics) + " |", "|---|" + "---:|" * len(metrics)]
        for backend in backends:
            pair = [[r for r in rows if r["short"] == backend and r["condition"] == c and r["clip"] in clips]
                    for c in ("clean", condition)]
            if not all(pair):
                continue
            cells = []
            for metric in metrics:
                a, b = (mean_of(group, metric)[0] for group in pair)
                cells.append("–" if a is None or b is None else
                             f"{_fmt(a, _digits(metric))} → {_fmt(b, _digits(metric))}")
            out.append(f"| {mark(backend)} | " + " | ".join(cells) + " |")
        out.append("")
    return out


def goal(rows, backends, condition: str = "clean") -> list[dict]:
    """Issue #20's goal per composition and content kind, clean input: PESQ at least pghi+fgla's on each
    speech kind (mean over its clips; paired bootstrap of the per-clip difference where ≥ 2 clips), and
    added and out-of-band energy each within WITHIN_DB of the classical methods' on every kind: the
    composition's kind mean ≤ the larger of fgla's and pghi+fgla's kind means + WITHIN_DB (energies are
    10·log10 ratios, so this is a ratio of at most 2 to the classical one; values below FLOOR_DB count as
    FLOOR_DB)."""
    clean = [r for r in rows if r["condition"] == condition]
    kinds = [k for k in KIND_ORDER if any(r["content"] == k for r in clean)]
    out = []
    for backend in (b for b in backends if is_composition(b)):
        for kind in kinds:
            group = lambda name: [r for r in clean if r["short"] == name and r["content"] == kind]  # noqa: E731
            mine = group(backend)
            if not mine:
                continue
            entry = {"backend": backend, "kind": kind, "n": len(mine)}
            if kind in SPEECH_KINDS:
                base = group(PESQ_BASELINE)
                entry["pesq"], entry["pesq_base"] = mean_of(mine, "pesq")[0], mean_of(base, "pesq")[0]
                entry["pesq_diff"] = stats.paired_difference({r["clip"]: r["pesq"] for r in mine},
                                                             {r["clip"]: r["pesq"] for r in base})
                entry["pesq_ok"] = entry["pesq"] is not None and entry["pesq"] >= entry["pesq_base"]
            for metric in GOAL_ENERGY:
                classical = [mean_of(group(c), metric)[0] for c in CLASSICAL]
                ref = max((v for v in classical if v is not None), default=None)
                value = entry[metric] = mean_of(mine, metric)[0]
                entry[f"{metric}_ref"] = ref
                entry[f"{metric}_ok"] = None not in (ref, value) and value <= ref + WITHIN_DB
                entry[f"{metric}_ok_audible"] = None not in (ref, value) and \
                    max(value, AUDIBLE_FLOOR_DB) <= max(ref, AUDIBLE_FLOOR_DB) + WITHIN_DB
            entry["ok"] = entry.get("pesq_ok", True) and entry["hallucinated_db_ok"] and entry["out_of_band_db_ok"]
            entry["ok_audible"] = entry.get("pesq_ok", True) and all(
                entry[f"{m}_ok_audible"] for m in ("hallucinated_db", "out_of_band_db"))
            out.append(entry)
    return out


def goal_md(entries: list[dict], condition: str = "clean") -> str:
    yes = lambda ok: "**yes**" if ok else "no"  # noqa: E731
    if condition != "clean":
        return "\n".join([f"## The same check from the degraded picture ({CONDITION_LABELS[condition]}; the goal "
                          "itself is on clean input)", "",
                          *goal_md(entries).splitlines()[4:], ""])
    lines = ["## The goal of issue #20, per content kind (clean input)", "",
             f"A composition meets it on a kind when its mean PESQ ≥ {PESQ_BASELINE}'s (speech kinds; music and "
             f"synthetic kinds: n/a) and its mean added and out-of-band energies are each ≤ the larger of "
             f"{' and '.join(CLASSICAL)}'s means + {WITHIN_DB:g} dB (dB of energy ratios; values below "
             f"{FLOOR_DB:g} dB counted as {FLOOR_DB:g}): **goal met**. *audible*: the same with every energy below "
             f"{AUDIBLE_FLOOR_DB:g} dB counted as {AUDIBLE_FLOOR_DB:g} (two energies that far down are both "
             "inaudible, and a difference between them is not an invention). Values: composition (classical "
             "reference). out-of-band > 8.04 kHz, interior: the same energy past the Hann window's main lobe above "
             f"8 kHz (2 bins) and without the first and last {EDGE_FRAMES} frames (analyse.py's beyond_lobe), "
             "shown to tell the measure's leakage at the band edge and at the clip's ends from content above "
             "8 kHz; not part of the verdict. ΔPESQ: mean of the per-clip differences (composition − pghi+fgla), with "
             "its 95% paired-bootstrap interval where the kind has ≥ 2 clips (2–5 clips: a rough guide only). "
             "n: clips.", "",
             "| composition † | content kind | n | PESQ (pghi+fgla) | ΔPESQ [95%] | PESQ ≥? | added dB | ≤ +3 dB? "
             "| out-of-band dB | ≤ +3 dB? | out-of-band > 8.04 kHz, interior dB | goal met | audible |",
             "|---|---|---:|---:|---:|---|---:|---|---:|---|---:|---|---|"]
    for e in entries:
        if "pesq" in e:
            diff = e["pesq_diff"]
            delta = (f"{diff.estimate:+.2f} [{diff.low:+.2f}, {diff.high:+.2f}]" if diff else
                     "–" if e["pesq"] is None else f"{e['pesq'] - e['pesq_base']:+.2f}")
            pesq = [f"{_fmt(e['pesq'])} ({_fmt(e['pesq_base'])})", delta, yes(e["pesq_ok"])]
        else:
            pesq = ["n/a"] * 3
        energy = lambda m: f"{_fmt(e[m], 1)} ({_fmt(e[f'{m}_ref'], 1)})"  # noqa: E731
        lines.append(f"| {e['backend']} | {e['kind']} | {e['n']} | " + " | ".join(pesq) + " | "
                     f"{energy('hallucinated_db')} | {yes(e['hallucinated_db_ok'])} | {energy('out_of_band_db')} | "
                     f"{yes(e['out_of_band_db_ok'])} | {energy(EDGE)} | {yes(e['ok'])} | {yes(e['ok_audible'])} |")
    return "\n".join(lines + [""])


def _heatmap(ax, matrix, kinds, backends, title, cmap, fmt="{:.2f}", center=None):
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    finite = data[np.isfinite(data)]
    if center is not None and finite.size:
        span = max(abs(finite.min() - center), abs(finite.max() - center), 1e-9)
        vmin, vmax = center - span, center + span
    else:
        vmin, vmax = (finite.min(), finite.max()) if finite.size else (0, 1)
    im = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            if np.isfinite(data[i, j]):
                dark = (data[i, j] - vmin) / max(vmax - vmin, 1e-12) < 0.35 if center is None else False
                ax.text(j, i, fmt.format(data[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
    ax.set_xticks(range(len(backends)), backends, rotation=25, ha="right", fontsize=8)
    ax.set_yticks(range(len(kinds)), [k.replace(" (", "\n(") for k in kinds], fontsize=7)
    ax.set_title(title, fontsize=10)
    plt.colorbar(im, ax=ax, fraction=0.04)


def figures(table, backends, conditions, folder: Path, learned: set[str]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    kinds = [k for k in KIND_ORDER if any(key[0] == k for key in table)]
    names = [f"{b} †" if b in learned else b for b in backends]
    clean = conditions[0]
    written = []

    def grid(metric, condition):
        return [[(table.get((k, b, condition)) or {}).get(metric) for b in backends] for k in kinds]

    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), constrained_layout=True)
    _heatmap(axes[0], grid("sc_db", clean), kinds, names, "spectral convergence, dB (lower is better)", "viridis")
    _heatmap(axes[1], grid("mel_l1", clean), kinds, names, "mel L1 (lower is better)", "viridis", "{:.3f}")
    fig.suptitle(f"Clean input ({CONDITION_LABELS[clean]}); † = learned (may contain content absent from the input)",
                 fontsize=10)
    fig.savefig(folder / "heatmap_clean.png", dpi=80)
    plt.close(fig)
    written.append("heatmap_clean.png")

    if len(conditions) > 1:
        fig, axes = plt.subplots(len(conditions) - 1, 2, figsize=(13, 5.2 * (len(conditions) - 1)),
                                 constrained_layout=True, squeeze=False)
        for row, condition in enumerate(conditions[1:]):
            for col, (metric, label, fmt) in enumerate((("sc_db", "Δ SC, dB", "{:+.1f}"),
                                                        ("mel_l1", "Δ mel L1", "{:+.3f}"))):
                delta = [[None if a is None or b is None else b - a for a, b in zip(ra, rb)]
                         for ra, rb in zip(grid(metric, clean), grid(metric, condition))]
                _heatmap(axes[row][col], delta, kinds, names,
                         f"{label}: {CONDITION_LABELS[condition]} − clean (+ = worse)", "RdBu_r", fmt, center=0.0)
        fig.savefig(folder / "heatmap_degradation.png", dpi=80)
        plt.close(fig)
        written.append("heatmap_degradation.png")

    fig, axes = plt.subplots(3, 1, figsize=(13, 11), constrained_layout=True)
    width = 0.8 / len(backends)
    for ax, metric, title in zip(axes, ENERGY, (
            "added: output energy where the truth is > 60 dB below its peak, re. truth energy (dB)",
            "missing: truth energy where the output is > 60 dB below the truth's peak, re. truth energy (dB)",
            "out-of-band: output energy above the mel's 8 kHz, re. output energy (dB)")):
        for j, (backend, name) in enumerate(zip(backends, names)):
            values = [(table.get((k, backend, clean)) or {}).get(metric) for k in kinds]
            heights = [FLOOR_DB if v is None else v for v in values]
            ax.bar(np.arange(len(kinds)) + (j - (len(backends) - 1) / 2) * width, np.array(heights) - FLOOR_DB,
                   width, bottom=FLOOR_DB, label=name, hatch="//" if backend in learned else None,
                   edgecolor="black", linewidth=0.4)
        ax.set_xticks(range(len(kinds)), [k.replace(" (", "\n(") for k in kinds], fontsize=8)
        ax.set_ylabel("dB")
        ax.set_ylim(FLOOR_DB, 0)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8, ncol=len(backends), title="hatched † = learned: may contain content absent from the input",
                   title_fontsize=8)
    fig.suptitle(f"Energy a backend added, lost, or put outside the input's band; clean input, mean over clips "
                 f"(−∞ drawn at {FLOOR_DB:g})", fontsize=10)
    fig.savefig(folder / "energy_bars.png", dpi=80)
    plt.close(fig)
    written.append("energy_bars.png")
    return written


def spectrogram_figure(condition: str, clip: str, rows: list[dict], learned: dict[str, str], path: Path) -> bool:
    """Truth and every backend's output (dB re. the truth's peak), each beside its difference map."""
    audio = rows[0]["folder"] / "audio"
    reference_path = audio / f"{clip}__reference.wav"
    if not reference_path.exists():
        return False
    spec = get_preset("hifigan").as_linear()
    reference = torch.from_numpy(sf.read(reference_path, dtype="float64", always_2d=True)[0].T.copy())
    R = magnitude(reference, spec) ** 2
    peak = float(R.max())
    outputs = []
    for row in rows:
        slug = BackendChoice(row["backend"], row["backend_name"], {}).slug
        wav = audio / f"{clip}__{slug}.wav"
        estimate = torch.from_numpy(sf.read(wav, dtype="float64", always_2d=True)[0].T.copy())
        outputs.append((row, magnitude(estimate, spec) ** 2))
    seconds = reference.shape[-1] / spec.sample_rate
    extent = (0, seconds, 0, spec.sample_rate / 2)
    fig, axes = plt.subplots(len(outputs) + 1, 2, figsize=(14, 2.1 * (len(outputs) + 1)), constrained_layout=True,
                             sharex=True, sharey=True)

    def db(power):
        return np.maximum(10 * np.log10(np.maximum(power[0].numpy(), 1e-30) / peak), -100)

    axes[0][0].imshow(db(R), origin="lower", aspect="auto", extent=extent, cmap="magma", vmin=-100, vmax=0)
    axes[0][0].set_title(f"truth: {clip}", fontsize=9)
    axes[0][1].axis("off")
    axes[0][1].text(0.02, 0.5, "right column: 10·log10(output / truth), ±30 dB\nred = added, blue = lost\n"
                    "dashed line: the mel's 8 kHz top (nothing above it was in the input)",
                    transform=axes[0][1].transAxes, fontsize=9, va="center")
    for i, (row, E) in enumerate(outputs, start=1):
        name = row["short"]
        label = f"{name}  [LEARNED {learned[name]}: may contain content absent from the input]" \
            if name in learned else f"{name}  [classical]"
        axes[i][0].imshow(db(E), origin="lower", aspect="auto", extent=extent, cmap="magma", vmin=-100, vmax=0)
        axes[i][0].set_title(f"{label}   SC {row['sc_db']:.1f} dB, mel L1 {row['mel_l1']:.3f}", fontsize=8)
        diff = hal.difference_map_db(R, E)[0].numpy()
        axes[i][1].imshow(diff, origin="lower", aspect="auto", extent=extent, cmap="RdBu_r",
                          vmin=-hal.DIFFERENCE_CLIP_DB, vmax=hal.DIFFERENCE_CLIP_DB)
        added = row["hallucinated_db"]
        missing = row["missing_db"]
        axes[i][1].set_title(f"{name}: added {_fmt(added)} dB, missing {_fmt(missing)} dB", fontsize=8)
        for ax in axes[i]:
            ax.axhline(8000, color="white" if ax is axes[i][0] else "black", linestyle="--", linewidth=0.6)
    for ax in axes[:, 0]:
        ax.set_ylabel("Hz")
    axes[-1][0].set_xlabel("time (s)")
    axes[-1][1].set_xlabel("time (s)")
    fig.suptitle(f"{clip}, input {CONDITION_LABELS[condition]}: power in dB re. the truth's peak", fontsize=10)
    fig.savefig(path, dpi=65, pil_kwargs={"quality": 80})  # JPEG: a tenth of the PNG's size
    plt.close(fig)
    return True


def fullband_mel_l1(rows: list[dict]) -> list[dict]:
    """mel L1 as the HiFi-GAN authors' validation computes it (config_v1.json: fmax_for_loss null, so the
    loss mel spans 0–11025 Hz, not the input mel's 0–8000 Hz: the bench's mel_l1_fullband), for every LJ clip
    in the clean run: the number their README's validation curve reports for V1 on the LJ validation list."""
    return [{"clip": r["clip"], "backend": r["short"], "kind": r["content"], "mel_l1_8k": r["mel_l1"],
             "mel_l1_fullband": r["mel_l1_fullband"], "pesq": r["pesq"]}
            for r in rows if r["condition"] == "clean" and r["clip"].startswith("LJ") and r["mel_l1_fullband"] is not None]


def fullband_md(values: list[dict]) -> str:
    if not values:
        return ""
    backends = list(dict.fromkeys(v["backend"] for v in values))
    lines = ["## LJ clips: mel L1 as HiFi-GAN's validation computes it (80 bands, 0–11025 Hz)", "",
             "The LJ model's authors publish this number for V1 on their validation list (README figure "
             "validation_loss.png of github.com/jik876/hifi-gan: about 0.215 after 2.5 M steps).", "",
             "| backend | LJ001-0028 (held out) | LJ clips in the LJ model's training list (mean) |", "|---|---:|---:|"]
    for backend in backends:
        held = [v["mel_l1_fullband"] for v in values if v["backend"] == backend and v["clip"] == "LJ001-0028"]
        seen = [v["mel_l1_fullband"] for v in values if v["backend"] == backend and v["clip"] != "LJ001-0028"]
        lines.append(f"| {backend} | {_fmt(held[0] if held else None, 3)} | "
                     f"{_fmt(float(np.mean(seen)) if seen else None, 3)} (n={len(seen)}) |")
    return "\n".join(lines + [""])


def main(runs: Path) -> None:
    rows, backends, conditions = load(runs)
    beyond_lobe(rows)
    out = runs / "analysis"
    out.mkdir(exist_ok=True)
    table = aggregate(rows, backends, conditions)
    write_by_kind(table, out / "by_kind.csv")
    learned = {r["short"]: r["learned_model"] for r in rows if r["learned"] == "True"}
    (out / "tables.md").write_text(goal_md(goal(rows, backends)) + "\n"
                                   + "".join(goal_md(goal(rows, backends, c), c) + "\n" for c in conditions[1:])
                                   + tables_md(table, rows, backends, conditions) + "\n" + paired_md(rows, backends)
                                   + "\n" + fullband_md(fullband_mel_l1(rows)))
    (out / "summary.md").write_text("# Learned vs classical: means per content kind (README tables)\n\n"
                                    "† learned (may contain content absent from the input). Intervals, the goal "
                                    "and the definitions: tables.md.\n\n" + compact_md(table, rows, backends, conditions))
    written = figures(table, backends, conditions, out / "figures", set(learned))
    clips = {r["clip"] for r in rows}
    for clip in (c for c in REPRESENTATIVE if c in clips):
        clip_rows = [r for r in rows if r["clip"] == clip and r["condition"] == conditions[0]]
        if spectrogram_figure(conditions[0], clip, clip_rows, learned, out / "figures" / f"spectrograms_{clip}.jpg"):
            written.append(f"spectrograms_{clip}.jpg")
    blurred = conditions[-1]
    if blurred != conditions[0]:
        for clip in ("LJ001-0028", "synth_birdlike_chirps"):
            clip_rows = [r for r in rows if r["clip"] == clip and r["condition"] == blurred]
            if clip_rows and spectrogram_figure(blurred, clip, clip_rows, learned,
                                                out / "figures" / f"spectrograms_{clip}_{blurred}.jpg"):
                written.append(f"spectrograms_{clip}_{blurred}.jpg")
    print(f"{len(rows)} rows, {len(backends)} backends, conditions {', '.join(conditions)}")
    print(f"wrote {out}/by_kind.csv, {out}/tables.md and figures/: {', '.join(written)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))

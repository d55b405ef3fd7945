"""Group the study's bench results by content kind and draw its figures.

    .venv/bin/python experiments/learned-vs-classical/analyse.py RUNS_DIR

RUNS_DIR holds one `vocoder bench` folder per input condition (clean, png8,
png8-blur0.7; run.sh makes them). Writes RUNS_DIR/analysis/:
  by_kind.csv     kind × backend × condition: clip count and mean of every metric
  tables.md       per kind: the clean numbers and how they move under degradation;
                  per clip for the held-out LJ clip
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
import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from vocoder.evaluation import hallucination as hal
from vocoder.evaluation.bench import BackendChoice
from vocoder.evaluation.metrics import mel_l1
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
METRICS = ["sc_db", "mel_l1", "pesq", "stoi", "consistency_db", "lsd_db", "f0_rmse_cents",
           "hallucinated_db", "missing_db", "out_of_band_db"]
ENERGY = ("hallucinated_db", "missing_db", "out_of_band_db")
FLOOR_DB = -100.0
SHOWN = {"sc_db": "SC dB", "mel_l1": "mel L1", "pesq": "PESQ", "hallucinated_db": "added dB",
         "missing_db": "missing dB", "out_of_band_db": "out-of-band dB"}
REPRESENTATIVE = ["LJ001-0025", "LJ001-0028", "cmu_arctic_us_aew_a0001", "librispeech_5703-47212-0000", "trumpet",
                  "brahms_hungarian_dance_5", "synth_birdlike_chirps", "synth_whalelike_moan",
                  "synth_noise_band_1k_3k", "synth_noise_white", "synth_harmonic_220", "synth_sweep_50_7500",
                  "synth_dc_low_tone"]


def short_backend(row: dict) -> str:
    """A column name for a backend: the pretrained model's name, 'tiny', or the label."""
    if row["backend_name"] != "hifigan":
        return row["backend"]
    checkpoint = row["backend"].partition("checkpoint=")[2]
    if checkpoint.endswith(".safetensors") or checkpoint.endswith(".ckpt"):
        return "tiny-100batches" if "tiny" in Path(checkpoint).name else Path(checkpoint).stem
    return checkpoint or row["backend"]


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
    """Every row of every condition, with 'condition', 'short' and 'content' added."""
    kinds = content_kinds()
    rows, backends = [], []
    conditions = [c for c in CONDITIONS if (runs / c / "results.csv").exists()]
    if "clean" not in conditions:
        sys.exit(f"no clean/results.csv under {runs}: the clean run is what every change is measured from")
    for condition in conditions + [c for c in SUBSET_CONDITIONS if (runs / c / "results.csv").exists()]:
        with open(runs / condition / "results.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                row["condition"] = condition
                row["short"] = short_backend(row)
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


def mean_of(rows: list[dict], metric: str) -> tuple[float | None, int, int]:
    """(mean, clips with a value, clips at −∞), values below FLOOR_DB counted as FLOOR_DB."""
    values = [r[metric] for r in rows if r[metric] is not None and not math.isnan(r[metric])]
    if not values:
        return None, 0, 0
    minus_inf = sum(1 for v in values if v == -math.inf)
    return float(np.mean([max(v, FLOOR_DB) for v in values])), len(values), minus_inf


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
                table[(kind, backend, condition)] = cell
    return table


def write_by_kind(table, path: Path) -> None:
    fields = ["kind", "backend", "condition", "n", "learned", "learned_model"] + [
        f"{m}{suffix}" for m in METRICS for suffix in ("", "_n", "_minus_inf")]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for (kind, backend, condition), cell in table.items():
            writer.writerow({"kind": kind, "backend": backend, "condition": condition,
                             **{k: ("" if v is None else (f"{v:.4f}" if isinstance(v, float) else v))
                                for k, v in cell.items()}})


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _delta(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None else f"{b - a:+.2f}"


def tables_md(table, rows, backends, conditions) -> str:
    kinds = [k for k in KIND_ORDER if any(key[0] == k for key in table)]
    learned = {b for (_, b, _), cell in table.items() if cell["learned"]}
    mark = lambda b: f"{b} †" if b in learned else b  # noqa: E731
    out = ["# Learned vs classical, by content kind", "",
           "Means over the clips of each kind. SC: spectral convergence of the linear STFT magnitude (dB, lower "
           "is better). mel L1: HiFi-GAN's mel distance (lower is better). PESQ: wideband, speech only. "
           f"added / missing: energy the output has where the truth is > 60 dB below its peak / the truth has where "
           f"the output is, re. the truth's energy (dB; values below {FLOOR_DB:g}, −∞ included, counted as {FLOOR_DB:g}). "
           "out-of-band: output energy "
           "above the mel's 8 kHz, re. the output's energy. Definitions: docs/metrics.md.", "",
           "† learned backend: its output is generated by a trained model and may contain content absent from "
           "the input (model identity in every output's record and in each bench's summary.md).", ""]
    clean = conditions[0]
    for kind in kinds:
        n = next(cell["n"] for (k, _, c), cell in table.items() if k == kind and c == clean)
        out += [f"## {kind} ({n} clip{'s' if n != 1 else ''})", "",
                "| backend | " + " | ".join(SHOWN.values()) + " |", "|---|" + "---:|" * len(SHOWN)]
        for backend in backends:
            cell = table.get((kind, backend, clean))
            if cell:
                out.append(f"| {mark(backend)} | " + " | ".join(
                    _fmt(cell[m], 3 if m == "mel_l1" else 2) for m in SHOWN) + " |")
        if len(conditions) > 1:
            heads = [f"{SHOWN[m]} {CONDITION_LABELS[c]}" for m in ("sc_db", "mel_l1") for c in conditions]
            heads += [f"Δ {SHOWN[m]} ({CONDITION_LABELS[conditions[-1]]})" for m in ("pesq",) + ENERGY]
            out += ["", "Under degradation (Δ = degraded − clean):", "",
                    "| backend | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(heads)]
            for backend in backends:
                cells = [table.get((kind, backend, c)) for c in conditions]
                if not all(cells):
                    continue
                values = [_fmt(cell[m], 3 if m == "mel_l1" else 2) for m in ("sc_db", "mel_l1") for cell in cells]
                values += [_delta(cells[0][m], cells[-1][m]) for m in ("pesq",) + ENERGY]
                out.append(f"| {mark(backend)} | " + " | ".join(values) + " |")
        out.append("")
    held_out = [r for r in rows if r["clip"] == "LJ001-0028"]
    if held_out:
        out += ["## LJ001-0028, per condition (the one LJ clip the LJ model never trained on)", "",
                "| backend | condition | SC dB | mel L1 | PESQ | STOI | added dB | missing dB |",
                "|---|---|---:|---:|---:|---:|---:|---:|"]
        for r in held_out:
            out.append(f"| {mark(r['short'])} | {CONDITION_LABELS[r['condition']]} | {_fmt(r['sc_db'])} | "
                       f"{_fmt(r['mel_l1'], 3)} | {_fmt(r['pesq'])} | {_fmt(r['stoi'], 3)} | "
                       f"{_fmt(r['hallucinated_db'])} | {_fmt(r['missing_db'])} |")
        out.append("")
    return "\n".join(out)


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


def spectrogram_figure(runs: Path, condition: str, clip: str, rows: list[dict], learned: dict[str, str],
                       path: Path) -> bool:
    """Truth and every backend's output (dB re. the truth's peak), each beside its difference map."""
    audio = runs / condition / "audio"
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


def fullband_mel_l1(runs: Path, rows: list[dict]) -> list[dict]:
    """mel L1 as the HiFi-GAN authors' validation computes it (config_v1.json: fmax_for_loss null, so the
    loss mel spans 0–11025 Hz, not the input mel's 0–8000 Hz), for every LJ clip in the clean run: the
    number their README's validation curve reports for V1 on the LJ validation list."""
    hifigan = get_preset("hifigan")
    spec = dataclasses.replace(hifigan, axis=dataclasses.replace(hifigan.axis, fmax=None))
    out = []
    for row in rows:
        if row["condition"] != "clean" or not row["clip"].startswith("LJ"):
            continue
        audio = runs / "clean" / "audio"
        slug = BackendChoice(row["backend"], row["backend_name"], {}).slug
        read = lambda path: torch.from_numpy(sf.read(path, dtype="float64", always_2d=True)[0].T.copy())  # noqa: E731
        reference, estimate = read(audio / f"{row['clip']}__reference.wav"), read(audio / f"{row['clip']}__{slug}.wav")
        n = min(reference.shape[-1], estimate.shape[-1])
        out.append({"clip": row["clip"], "backend": row["short"], "kind": row["content"],
                    "mel_l1_8k": row["mel_l1"], "mel_l1_fullband": mel_l1(reference[..., :n], estimate[..., :n], spec),
                    "pesq": row["pesq"]})
    return out


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
    out = runs / "analysis"
    out.mkdir(exist_ok=True)
    table = aggregate(rows, backends, conditions)
    write_by_kind(table, out / "by_kind.csv")
    fullband = fullband_mel_l1(runs, rows)
    (out / "tables.md").write_text(tables_md(table, rows, backends, conditions) + "\n" + paired_md(rows, backends)
                                   + "\n" + fullband_md(fullband))
    learned = {r["short"]: r["learned_model"] for r in rows if r["learned"] == "True"}
    written = figures(table, backends, conditions, out / "figures", set(learned))
    clips = {r["clip"] for r in rows}
    for clip in (c for c in REPRESENTATIVE if c in clips):
        clip_rows = [r for r in rows if r["clip"] == clip and r["condition"] == conditions[0]]
        if spectrogram_figure(runs, conditions[0], clip, clip_rows, learned,
                              out / "figures" / f"spectrograms_{clip}.jpg"):
            written.append(f"spectrograms_{clip}.jpg")
    blurred = conditions[-1]
    if blurred != conditions[0]:
        for clip in ("LJ001-0028", "synth_birdlike_chirps"):
            clip_rows = [r for r in rows if r["clip"] == clip and r["condition"] == blurred]
            if clip_rows and spectrogram_figure(runs, blurred, clip, clip_rows, learned,
                                                out / "figures" / f"spectrograms_{clip}_{blurred}.jpg"):
                written.append(f"spectrograms_{clip}_{blurred}.jpg")
    print(f"{len(rows)} rows, {len(backends)} backends, conditions {', '.join(conditions)}")
    print(f"wrote {out}/by_kind.csv, {out}/tables.md and figures/: {', '.join(written)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))

"""Benchmark outputs: results.csv, summary.{md,json}, metric plots, report.html.

No time of day and, unless the bench measured them (``--timings``), no
wall-clock seconds: the files depend on the inputs, options and seed only.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import statistics
from pathlib import Path
from typing import Any

import soundfile as sf
from PIL import Image

from vocoder.evaluation import stats
from vocoder.evaluation.fidelity import CATALOGUE, FULL_BAND_TWINS
from vocoder.evaluation.metrics import full_band_dominated
from vocoder.evaluation.plots import plot_metric_boxes
from vocoder.provenance import environment, json_safe, printable

TIMING = {"seconds": ("s", "lower"), "rtf": ("× real time", "lower")}


def _stats(values: list[float]) -> dict[str, Any]:
    finite = [v for v in values if math.isfinite(v)]
    interval = stats.bootstrap_mean(finite)
    return {
        "n": len(values),
        "mean": statistics.fmean(finite) if finite else (values[0] if values else None),
        "std": statistics.pstdev(finite) if len(finite) > 1 else 0.0,
        "ci95": [interval.low, interval.high] if interval else None,
        "non_finite": len(values) - len(finite),
    }


CONFIDENCE = {"interval": f"percentile bootstrap of the mean over clips, {stats.RESAMPLES} resamples, "
                          f"seed {stats.SEED}, {stats.LEVEL:.0%}",
              "comparison": "paired bootstrap of per-clip differences (best mean vs each other backend); "
                            "'clear' when the 95% interval of the mean difference excludes 0"}


def comparisons(rows: list[dict], summary, backends) -> dict[str, list[dict]]:
    """{metric: [best vs each other backend: mean difference, 95% interval, n, clear]}."""
    found: dict[str, list[dict]] = {}
    for name, cells in summary.items():
        best = _best(cells, _direction(name))
        if best is None:
            continue
        per_clip = {c.label: {r["clip"]: r[name] for r in rows if r["backend"] == c.label and r.get(name) is not None}
                    for c in backends}
        found[name] = []
        for other in (c.label for c in backends if c.label != best):
            interval = stats.paired_difference(per_clip[best], per_clip[other])
            if interval is not None:
                found[name].append({"best": best, "other": other, "difference": interval.estimate,
                                    "ci95": [interval.low, interval.high], "n": interval.n,
                                    "clear": interval.excludes(0.0)})
    return {k: v for k, v in found.items() if v}


def band_warnings(summary, backends) -> list[str]:
    """One line per backend and metric whose full-band mean is dominated by
    the band the spec does not cover (metrics.full_band_dominated)."""
    lines = []
    for in_band, full in FULL_BAND_TWINS.items():
        if in_band not in summary or full not in summary:
            continue
        for c in backends:
            a, b = summary[in_band][c.label]["mean"], summary[full][c.label]["mean"]
            if a is not None and b is not None and full_band_dominated(a, b, _unit(in_band)):
                lines.append(f"`{c.label}`: `{full}` {b:.3g} vs in-band `{in_band}` {a:.3g} {_unit(in_band)}: "
                             "the full-band value is dominated by frequencies the spectrogram does not describe")
    return lines


def summarise(rows: list[dict], backends, metrics) -> dict[str, dict[str, dict]]:
    """{metric: {backend label: {n, mean, std, non_finite}}} over clips."""
    summary: dict[str, dict[str, dict]] = {}
    timed = [name for name in TIMING if any(name in r for r in rows)]
    for name in list(metrics) + timed:
        summary[name] = {}
        for choice in backends:
            values = [r[name] for r in rows if r["backend"] == choice.label and r.get(name) is not None]
            summary[name][choice.label] = _stats(values)
    return summary


def _direction(name: str) -> str:
    return TIMING[name][1] if name in TIMING else CATALOGUE[name].better


def _unit(name: str) -> str:
    return TIMING[name][0] if name in TIMING else CATALOGUE[name].unit


def _best(cells: dict[str, dict], direction: str) -> str | None:
    means = {label: c["mean"] for label, c in cells.items() if c["mean"] is not None and c["n"]}
    if len(means) < 2:
        return None
    pick = min if direction == "lower" else max
    return pick(means, key=means.get)


def _fmt(cell: dict) -> str:
    if not cell["n"] or cell["mean"] is None:
        return ""
    mean = cell["mean"]
    if not math.isfinite(mean):
        text = "−∞" if mean < 0 else "∞"
    elif cell.get("ci95"):
        low, high = cell["ci95"]
        text = f"{mean:.3g} [{low:.3g}, {high:.3g}] n={cell['n'] - cell['non_finite']}"
    else:
        text = f"{mean:.3g} (n={cell['n'] - cell['non_finite']})"
    if cell["non_finite"] and math.isfinite(mean):
        text += f" (+{cell['non_finite']} ±∞)"
    return text


def _table_rows(summary, backends):
    """(metric, unit, direction, [(text, is_best)] per backend)."""
    for name, cells in summary.items():
        best = _best(cells, _direction(name))
        yield name, _unit(name), _direction(name), [(_fmt(cells[c.label]), c.label == best) for c in backends]


def _skip_reasons(skipped: list[dict]) -> list[tuple[str, str, int]]:
    counts: dict[tuple[str, str], int] = {}
    for s in skipped:
        counts[(s["metric"], s["reason"])] = counts.get((s["metric"], s["reason"]), 0) + 1
    return [(metric, reason, n) for (metric, reason), n in sorted(counts.items())]


def write_csv(rows: list[dict], path: Path) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else printable(v) if isinstance(v, str) else v)
                             for k, v in row.items()})


def write_report(result, clips, backends, preset: str, metrics, folder: Path, report_audio: str,
                 command: str) -> None:
    rows = result.rows
    summary = summarise(rows, backends, metrics)
    write_csv(rows, folder / "results.csv")
    meta = {"command": command, "preset": preset,
            "input_picture": result.degradation.to_dict(),
            "clips": [{"name": c.name, "path": str(c.path), "kind": c.kind} for c in clips],
            "backends": [{"label": b.label, "name": b.name, "options": b.options,
                          "learned_model": result.learned.get(b.label)} for b in backends],
            "metrics": {n: {"unit": CATALOGUE[n].unit, "better": CATALOGUE[n].better,
                            "description": CATALOGUE[n].description} for n in metrics},
            "environment": environment()}
    compared = comparisons(rows, summary, backends)
    warnings = band_warnings(summary, backends)
    _write(folder / "summary.json", json.dumps(json_safe(
        {**meta, "summary": summary, "confidence": CONFIDENCE, "comparisons": compared,
         "band_warnings": warnings, "skipped": _skip_reasons(result.skipped)}), indent=2) + "\n")
    values = {n: {b.label: [r[n] for r in rows if r["backend"] == b.label and r.get(n) is not None
                            and math.isfinite(r[n])] for b in backends} for n in metrics}
    plot_metric_boxes(values, {n: CATALOGUE[n].unit for n in metrics}, {n: CATALOGUE[n].better for n in metrics},
                      folder / "plots" / "metrics.png")
    _write(folder / "summary.md", _markdown(summary, backends, meta, result.skipped, result.learned)
           + _confidence_markdown(compared, warnings))
    _write(folder / "report.html", _html(summary, rows, clips, backends, meta, result.skipped, folder,
                                         report_audio, result.learned))


def _write(path: Path, text: str) -> None:
    path.write_text(printable(text), encoding="utf-8")


def _input_line(meta) -> str:
    picture = meta["input_picture"]
    text = f"Input to every backend: the clip's spectrogram as a {picture['label']}"
    if picture["png_bits"] == 16 and not picture["blur_sigma_pixels"]:
        return text + " (clean: decodes exactly up to 16-bit quantisation)."
    return text + " (degraded on purpose: what happens to a picture someone sent)."


def _learned_marks(backends, learned) -> dict[str, str]:
    """Backend label → footnote mark ('L1', 'L2', …) for learned backends."""
    return {b.label: f"L{i}" for i, b in enumerate((b for b in backends if b.label in learned), start=1)}


def _learned_text(identity: dict) -> str:
    return (f"learned model **{identity.get('name')}** ({identity.get('architecture')}), trained on "
            f"{identity.get('training_data')}, licence {identity.get('licence')}, weights sha256 "
            f"`{str(identity.get('weights_sha256'))[:16]}…`. Statement: {identity.get('statement')}.")


def _markdown(summary, backends, meta, skipped, learned) -> str:
    lines = [f"# Benchmark: preset `{meta['preset']}`, {len(meta['clips'])} clips × {len(backends)} backends", ""]
    if meta["command"]:
        lines += ["```", meta["command"], "```", ""]
    marks = _learned_marks(backends, learned)
    heads = [b.label + (f" [{marks[b.label]}]" if b.label in marks else "") for b in backends]
    lines += [_input_line(meta), ""]
    if marks:
        lines += ["**Learned backends** (marked [L…]): their output is generated by a trained model and "
                  "may contain content absent from the input.", ""]
        lines += [f"- [{marks[label]}] `{label}`: {_learned_text(learned[label])}" for label in marks]
        lines += [""]
    lines += ["Mean over clips [95% bootstrap interval] n=clips; best mean in **bold**.", "",
              "| metric | unit | better | " + " | ".join(heads) + " |",
              "|---|---|---|" + "---|" * len(backends)]
    for name, unit, direction, cells in _table_rows(summary, backends):
        shown = [f"**{t}**" if best and t else t for t, best in cells]
        lines.append(f"| {name} | {unit} | {direction} | " + " | ".join(shown) + " |")
    reasons = _skip_reasons(skipped)
    if reasons:
        lines += ["", "## Skipped (empty cells)", ""]
        lines += [f"- `{metric}` for {n} run(s): {reason}" for metric, reason, n in reasons]
    lines += ["", "Definitions: docs/metrics.md. Per-run values: results.csv. Environment: summary.json.", ""]
    return "\n".join(lines)


def _confidence_markdown(compared, warnings) -> str:
    """The band warnings and paired comparisons, appended to summary.md."""
    lines = [""] if warnings or compared else []
    if warnings:
        lines += ["## Band warnings", "", "Full-band value > 20% (and, in dB, > 1 dB) away from the in-band one "
                  "(docs/metrics.md, Bands):", ""] + [f"- {w}" for w in warnings] + [""]
    if compared:
        lines += ["## Paired comparisons", "", CONFIDENCE["comparison"] + f" ({CONFIDENCE['interval']}).", "",
                  "| metric | best | vs | mean difference [95%] | n | clear? |", "|---|---|---|---|---|---|"]
        for name, entries in compared.items():
            for e in entries:
                lines.append(f"| {name} | {e['best']} | {e['other']} | {e['difference']:.3g} "
                             f"[{e['ci95'][0]:.3g}, {e['ci95'][1]:.3g}] | {e['n']} | "
                             + ("yes" if e["clear"] else "no: within the clips' spread") + " |")
        lines.append("")
    return "\n".join(lines)


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _jpeg_uri(path: Path) -> str:
    """A JPEG rendering of a (large, noisy) PNG figure for the page; the exact
    PNG stays in plots/. Keeps a report of dozens of runs to a few MB."""
    buffer = io.BytesIO()
    with Image.open(path) as im:
        im.convert("RGB").save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _audio_tag(wav: Path, folder: Path, mode: str) -> str:
    if mode == "none":
        return ""
    if mode == "link":
        return f'<audio controls preload="none" src="{html.escape(str(wav.relative_to(folder)))}"></audio>'
    with open(wav, "rb") as fh:  # a file object: soundfile cannot open a name that is not UTF-8
        data, rate = sf.read(fh, dtype="float32")
    peak = float(abs(data).max()) if data.size else 0.0
    if peak > 1.0:
        data = data / peak
    buffer = io.BytesIO()
    sf.write(buffer, data, rate, format="FLAC", subtype="PCM_16")  # lossless at 16 bits, ~half a WAV's size
    uri = "data:audio/flac;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<audio controls preload="none" src="{uri}"></audio>'


_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}b{color:#0a5}img{max-width:100%}section{margin:2em 0}
code,pre{background:#f4f4f4;padding:2px 4px}.run{border-top:1px solid #ddd;padding-top:1em}
.learned{background:#fde8c8;color:#7a3e00;border:1px solid #e0a050;border-radius:3px;padding:1px 5px;font-size:12px;font-weight:600}
.learned-note{background:#fff6e8;border-left:4px solid #e0a050;padding:.5em 1em}"""


def _badge(label: str, learned, marks) -> str:
    """A visible 'learned' badge for a learned backend's column or run; '' for a classical one."""
    if label not in learned:
        return ""
    identity = learned[label]
    title = html.escape(f"{identity.get('name')}, trained on {identity.get('training_data')}: "
                        f"{identity.get('statement')}", quote=True)
    return (f" <span class='learned' title='{title}'>learned [{marks[label]}]: "
            f"{html.escape(str(identity.get('name')))}</span>")


def _learned_html(backends, learned, marks) -> str:
    esc = html.escape
    items = []
    for label in marks:
        identity = {k: esc(str(v)) for k, v in learned[label].items()}
        items.append(f"<li><span class='learned'>[{marks[label]}]</span> <code>{esc(label)}</code>: learned model "
                     f"<b>{identity.get('name')}</b> ({identity.get('architecture')}), trained on "
                     f"{identity.get('training_data')}, licence {identity.get('licence')}, weights sha256 "
                     f"<code>{identity.get('weights_sha256')}</code>. Statement: {identity.get('statement')}.</li>")
    return ("<div class='learned-note'><p><b>Learned backends.</b> Their output is generated by a trained model "
            f"and may contain content absent from the input.</p><ul>{''.join(items)}</ul></div>")


def _html(summary, rows, clips, backends, meta, skipped, folder: Path, report_audio: str, learned) -> str:
    esc = html.escape
    marks = _learned_marks(backends, learned)
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>vocoder bench: {esc(meta['preset'])}</title>"
           f"<style>{_STYLE}</style></head><body>",
           f"<h1>Benchmark: preset <code>{esc(meta['preset'])}</code></h1>",
           f"<p>{len(clips)} clips × {len(backends)} backends, vocoder "
           f"{esc(str(meta['environment']['packages'].get('vocoder')))}, torch "
           f"{esc(str(meta['environment']['packages'].get('torch')))}.</p>"]
    if meta["command"]:
        out.append(f"<pre>{esc(meta['command'])}</pre>")
    out.append(f"<p>{esc(_input_line(meta))}</p>")
    if marks:
        out.append(_learned_html(backends, learned, marks))
    out.append("<h2>Summary</h2><p>Mean over clips [95% bootstrap interval] n=clips; best mean in <b>bold</b>. "
               "Definitions: docs/metrics.md; paired comparisons: summary.md.</p>")
    out.append("<table><tr><th>metric</th><th>unit</th><th>better</th>"
               + "".join(f"<th>{esc(b.label)}{_badge(b.label, learned, marks)}</th>" for b in backends) + "</tr>")
    for name, unit, direction, cells in _table_rows(summary, backends):
        shown = "".join(f"<td>{'<b>' + esc(t) + '</b>' if best and t else esc(t)}</td>" for t, best in cells)
        out.append(f"<tr><td>{esc(name)}</td><td>{esc(unit)}</td><td>{direction}</td>{shown}</tr>")
    out.append("</table>")
    reasons = _skip_reasons(skipped)
    if reasons:
        out.append("<h3>Skipped (empty cells)</h3><ul>" + "".join(
            f"<li><code>{esc(m)}</code> for {n} run(s): {esc(r)}</li>" for m, r, n in reasons) + "</ul>")
    boxes = folder / "plots" / "metrics.png"
    if boxes.exists():
        out.append(f"<h2>Metrics per backend</h2><img alt='metric box plots' src='{_data_uri(boxes, 'image/png')}'>")
    out.append("<h2>Runs</h2>")
    shown_metrics = [n for n in CATALOGUE if any(r.get(n) is not None for r in rows)]
    for clip in clips:
        out.append(f"<section><h3>{esc(clip.name)} <small>({esc(clip.kind)})</small></h3>"
                   f"<p>reference: {_audio_tag(folder / 'audio' / f'{clip.name}__reference.wav', folder, report_audio)}</p>")
        for row in (r for r in rows if r["clip"] == clip.name):
            choice = next(b for b in backends if b.label == row["backend"])
            stem = f"{clip.name}__{choice.slug}"
            cells = "".join(f"<tr><td>{esc(n)}</td><td>{'' if row.get(n) is None else f'{row[n]:.4g}'}</td></tr>"
                            for n in shown_metrics)
            out.append(f"<div class='run'><h4>{esc(row['backend'])}{_badge(row['backend'], learned, marks)}</h4>"
                       f"{_audio_tag(folder / 'audio' / f'{stem}.wav', folder, report_audio)}"
                       + (f"<p>{row['seconds']:.2f} s, real-time factor {row['rtf']:.3f}</p>" if "seconds" in row else "")
                       + 
                       f"<table>{cells}</table>"
                       f"<img alt='reference, output, difference' src='{_jpeg_uri(folder / 'plots' / f'{stem}.png')}'>"
                       "</div>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)

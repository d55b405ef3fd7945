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
from urllib.parse import quote

import soundfile as sf
from PIL import Image

from vocoder.evaluation import stats
from vocoder.evaluation.fidelity import CATALOGUE, FULL_BAND_TWINS
from vocoder.evaluation.metrics import full_band_dominated
from vocoder.evaluation.plots import plot_metric_boxes
from vocoder.frontend.audiofile import FORMATS, encode_audio
from vocoder.provenance.environment import environment
from vocoder.provenance.format import json_safe
from vocoder.safety.outputs import open_input, reading
from vocoder.safety.text import printable

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
    return f"data:{mime};base64," + base64.b64encode(Path(reading(path)).read_bytes()).decode("ascii")


THUMBNAIL_WIDTH = 320  # pixels: a per-run figure in a table cell, linked to its exact PNG


def _jpeg_uri(path: Path, width: int | None = None) -> str:
    """A JPEG rendering of a (large, noisy) PNG figure for the page, scaled down
    to ``width`` pixels when given (a thumbnail); the exact PNG stays in plots/.
    Keeps a report of dozens of runs to a few MB."""
    buffer = io.BytesIO()
    with Image.open(reading(path)) as im:
        im = im.convert("RGB")
        if width is not None and im.width > width:
            im = im.resize((width, max(1, round(im.height * width / im.width))), Image.Resampling.LANCZOS)
        im.save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _audio_tag(wav: Path, folder: Path, mode: str) -> str:
    if mode == "none":
        return ""
    if mode == "link":
        return f'<audio controls preload="none" src="{html.escape(str(wav.relative_to(folder)))}"></audio>'
    with open_input(wav) as fh:  # a file object: soundfile cannot open a name that is not UTF-8
        data, rate = sf.read(fh, dtype="float32")
    peak = float(abs(data).max()) if data.size else 0.0
    if peak > 1.0:
        data = data / peak
    flac = encode_audio(data.T, rate, FORMATS[".flac"])  # lossless at 16 bits, ~half a WAV's size
    uri = "data:audio/flac;base64," + base64.b64encode(flac).decode("ascii")
    return f'<audio controls preload="none" src="{uri}"></audio>'


HEADLINE = ("sc_db", "mel_l1")  # the clip × backend matrices; the summary shows every metric

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;padding:0 1em;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#f0f0f0}th:first-child,td:first-child{text-align:left}img{max-width:100%}section{margin:2.2em 0}
.scroll{overflow-x:auto}code{background:#f4f4f4;padding:1px 3px}
pre{background:#f4f4f4;padding:6px 8px;white-space:pre-wrap;overflow-wrap:anywhere}
td.best{background:#e3f5e9;font-weight:600}td.best::after{content:" ★";color:#0a5}
.ci{color:#555;font-size:11px;display:block;white-space:nowrap}.n{color:#777;font-size:11px}
table.sortable th{cursor:pointer}table.sortable th::after{content:" ⇅";color:#999;font-size:11px}
table.sortable th[aria-sort=ascending]::after{content:" ▲"}table.sortable th[aria-sort=descending]::after{content:" ▼"}
nav.toc{background:#fafafa;border:1px solid #ddd;padding:.4em 1.2em;display:inline-block}nav.toc ol{margin:.3em 0;padding-left:1.4em}
.players td,.deviation td{text-align:center}audio{width:220px;max-width:100%}
.learned{background:#fde8c8;color:#7a3e00;border:1px solid #e0a050;border-radius:3px;padding:1px 5px;font-size:12px;font-weight:600}
.learned-note{background:#fff6e8;border-left:4px solid #e0a050;padding:.5em 1em}
.warn{background:#fff3f3;border-left:4px solid #c44;padding:.4em 1em}"""

# Records errors before anything else runs, so #selftest can report them.
_ERRORS_JS = ("window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message))});"
              "(function(c){console.error=function(){window.__errors.push([].join.call(arguments,' '));"
              "c.apply(console,arguments)}})(console.error);")

# Click a header to sort by it (numbers by data-v, empty cells last); '#selftest' in the URL
# sorts the summary by its first metric both ways and writes what it saw into <pre id=selftest-result>.
_SCRIPT = """function sortBy(th){var t=th.closest('table'),i=Array.prototype.indexOf.call(th.parentNode.children,th),
b=t.tBodies[0],asc=th.getAttribute('aria-sort')!=='ascending';
t.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort')});
th.setAttribute('aria-sort',asc?'ascending':'descending');
var rows=Array.prototype.slice.call(b.rows);rows.sort(function(x,y){var a=x.cells[i].dataset.v,c=y.cells[i].dataset.v;
var ea=a===undefined||a==='',ec=c===undefined||c==='';if(ea||ec)return ea-ec;
var d=(isNaN(+a)||isNaN(+c))?a.localeCompare(c):(+a)-(+c);return asc?d:-d});
rows.forEach(function(r){b.appendChild(r)})}
document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){sortBy(th)})});
if(location.hash==='#selftest'){window.addEventListener('load',function(){
var t=document.getElementById('summary-table'),th=t.tHead.rows[0].cells[1];
function col(){return Array.prototype.map.call(t.tBodies[0].rows,function(r){return r.cells[1].dataset.v||''})}
var r={column:th.dataset.metric,before:col()};th.click();r.ascending=col();th.click();r.descending=col();
r.links=Array.prototype.map.call(document.querySelectorAll('nav.toc a'),function(a){return a.getAttribute('href')});
r.missing=r.links.filter(function(h){return !document.getElementById(h.slice(1))});r.errors=window.__errors;
var p=document.createElement('pre');p.id='selftest-result';p.textContent=JSON.stringify(r);document.body.appendChild(p)})}"""


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


def _sort_value(value) -> str:
    """A cell's data-v: the exact number for sorting ('' when empty)."""
    if value is None:
        return ""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return repr(float(value))


def _metric_head(name: str, tag: str = "th") -> str:
    """A column header naming the metric, its unit and which way is better."""
    unit, direction = _unit(name), _direction(name)
    arrow = "↓" if direction == "lower" else "↑"
    return (f"<{tag} data-metric='{html.escape(name)}' title='{html.escape(name)}: {html.escape(unit or 'no unit')}, "
            f"{direction} is better'>{html.escape(name)}<br><small>{html.escape(unit or 'no unit')} {arrow}</small>"
            f"</{tag}>")


def _summary_cell(cell: dict, best: bool) -> str:
    if not cell["n"] or cell["mean"] is None:
        return "<td data-v=''></td>"
    mean, n = cell["mean"], cell["n"] - cell["non_finite"]
    text = ("−∞" if mean < 0 else "∞") if not math.isfinite(mean) else f"{mean:.3g}"
    extra = f"[{cell['ci95'][0]:.3g}, {cell['ci95'][1]:.3g}]" if cell.get("ci95") else ""
    extra += f" <span class='n'>n={n}" + (f" (+{cell['non_finite']} ±∞)" if cell["non_finite"] else "") + "</span>"
    return (f"<td data-v='{_sort_value(mean)}'{' class=best' if best else ''}>{text}"
            f"<span class='ci'>{extra}</span></td>")


def _best_of(values: dict[str, float | None], direction: str) -> str | None:
    """The backend with the best finite value, or None when fewer than two have one."""
    finite = {k: v for k, v in values.items() if v is not None and math.isfinite(v)}
    if len(finite) < 2:
        return None
    return (min if direction == "lower" else max)(finite, key=finite.get)


def _summary_table(table_id: str, names, summary, backends, shown: dict[str, str]) -> str:
    """Backend × metric table of means with intervals and n, best per column starred,
    sortable; ``shown``: each backend's label as HTML (with its learned mark)."""
    esc = html.escape
    best = {n: _best(summary[n], _direction(n)) for n in names}
    body = "".join(f"<tr><td data-v='{esc(b.label)}'>{shown[b.label]}</td>"
                   + "".join(_summary_cell(summary[n][b.label], best[n] == b.label) for n in names) + "</tr>"
                   for b in backends)
    return (f"<div class='scroll'><table id='{table_id}' class='sortable'><thead><tr><th>backend</th>"
            + "".join(_metric_head(n) for n in names) + f"</tr></thead><tbody>{body}</tbody></table></div>")


DEVIATION_NOTE = ("Deviation maps: each output's spectrogram against the input as decoded, cell by cell on the "
                  "input's own axis; red where the output added energy, blue where it lost some (±6 and ±20 dB "
                  "marked on the bar). They need no reference recording: an examiner can draw the same from the "
                  "picture and the audio alone (vocoder invert --deviation-map). Their shares of energy added "
                  "and lost are in each output's record (deviation_vs_input) and the deviation_* metrics.")


def _deviation_row(folder: Path, clip: str, backends) -> str:
    """The per-clip table's row of deviation-map thumbnails, each linked to its exact PNG."""
    cells = []
    for b in backends:
        path = folder / "plots" / f"{clip}__{b.slug}.deviation.png"
        cells.append("<td></td>" if not path.exists() else
                     f"<td><a href='{html.escape(quote(path.relative_to(folder).as_posix()), quote=True)}'>"
                     f"<img class='thumb' alt='deviation from the input: {html.escape(b.label, quote=True)}' "
                     f"src='{_jpeg_uri(path, THUMBNAIL_WIDTH)}'></a></td>")
    return ("<tr class='deviation'><td>deviation from the input<br><small>no reference; red added, blue lost"
            f"</small></td><td>—</td>{''.join(cells)}</tr>")


def _html(summary, rows, clips, backends, meta, skipped, folder: Path, report_audio: str, learned) -> str:
    """The one-file report: contents, summary, matrices, comparisons, one row per clip, provenance."""
    esc = html.escape
    marks = _learned_marks(backends, learned)
    compared = comparisons(rows, summary, backends)
    warnings = band_warnings(summary, backends)
    reasons = _skip_reasons(skipped)
    metric_names = list(summary)
    headline = [n for n in HEADLINE if n in summary] or metric_names[:2]
    anchors = {clip.name: f"clip-{i}" for i, clip in enumerate(clips, start=1)}
    boxes = folder / "plots" / "metrics.png"
    mark = {b.label: (f" <sup>[{marks[b.label]}]</sup>" if b.label in marks else "") for b in backends}

    toc = [("summary", "Summary"), ("matrix", "Clip × backend")]
    toc += [("comparisons", "Paired comparisons")] if compared else []
    toc += [("band-warnings", "Band warnings")] if warnings else []
    toc += [("skipped", "Skipped (empty cells)")] if reasons else []
    toc += [("boxes", "Metrics per backend (plot)")] if boxes.exists() else []
    toc += [("clips", "Clips"), ("provenance", "Provenance")]

    out = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
           f"<title>vocoder bench: {esc(meta['preset'])}</title><style>{_STYLE}</style>"
           f"<script>{_ERRORS_JS}</script></head><body>",
           f"<h1>Benchmark: preset <code>{esc(meta['preset'])}</code></h1>",
           f"<p>{len(clips)} clips × {len(backends)} backends, vocoder "
           f"{esc(str(meta['environment']['packages'].get('vocoder')))}, torch "
           f"{esc(str(meta['environment']['packages'].get('torch')))}.</p>"]
    if meta["command"]:
        out.append(f"<pre>{esc(meta['command'])}</pre>")
    out.append(f"<p>{esc(_input_line(meta))}</p>")
    if marks:
        out.append(_learned_html(backends, learned, marks))
    clip_items = "".join(f"<li><a href='#{anchors[c.name]}'>{esc(c.name)}</a></li>" for c in clips)
    items = "".join(f"<li><a href='#{a}'>{esc(t)}</a>" + (f"<ol>{clip_items}</ol>" if a == "clips" else "") + "</li>"
                    for a, t in toc)
    out.append(f"<nav class='toc'><b>Contents</b><ol>{items}</ol></nav>")

    full_band = [n for n in metric_names if n in FULL_BAND_TWINS.values()]
    in_band = [n for n in metric_names if n not in full_band]
    out.append("<section id='summary'><h2>Summary</h2><p>Mean over clips, its 95% bootstrap interval "
               f"({esc(CONFIDENCE['interval'])}) and n = clips with a finite value. Each header gives the unit "
               "and the better direction (↓ lower, ↑ higher); ★ marks the best mean per column in that "
               "direction. Click a header to sort. Definitions: docs/metrics.md.</p>")
    out.append(_summary_table("summary-table", in_band, summary, backends,
                              {b.label: esc(b.label) + _badge(b.label, learned, marks) for b in backends}))
    if full_band:
        out.append("<details><summary>Full-band twins (measured over 0..Nyquist, including what the "
                   "spectrogram does not describe; see the band warnings)</summary>"
                   + _summary_table("summary-fullband", full_band, summary, backends,
                                  {b.label: esc(b.label) + mark[b.label] for b in backends}) + "</details>")
    out.append("</section>")

    out.append("<section id='matrix'><h2>Clip × backend</h2><p>Per-clip values of the headline metrics; "
               "★ marks the best backend on each clip.</p>")
    for name in headline:
        out.append(f"<h3>{esc(name)} ({esc(_unit(name) or 'no unit')}, {_direction(name)} is better)</h3>"
                   "<div class='scroll'><table class='sortable'><thead><tr><th>clip</th>"
                   + "".join(f"<th>{esc(b.label)}{mark[b.label]}</th>" for b in backends) + "</tr></thead><tbody>")
        for clip in clips:
            values = {r["backend"]: r.get(name) for r in rows if r["clip"] == clip.name}
            winner = _best_of(values, _direction(name))
            cells = "".join(f"<td data-v='{_sort_value(values.get(b.label))}'{' class=best' if winner == b.label else ''}>"
                            + ("" if values.get(b.label) is None else f"{values[b.label]:.4g}") + "</td>"
                            for b in backends)
            out.append(f"<tr><td data-v='{esc(clip.name)}'><a href='#{anchors[clip.name]}'>{esc(clip.name)}</a></td>"
                       f"{cells}</tr>")
        out.append("</tbody></table></div>")
    out.append("</section>")

    if compared:
        out.append(f"<section id='comparisons'><h2>Paired comparisons</h2><p>{esc(CONFIDENCE['comparison'])}.</p>"
                   "<div class='scroll'><table><thead><tr><th>metric</th><th>unit</th><th>best</th><th>vs</th>"
                   "<th>mean difference (best − other)</th><th>95% interval</th><th>n</th><th>clear?</th></tr></thead><tbody>")
        for name, entries in compared.items():
            for e in entries:
                out.append(f"<tr><td>{esc(name)}</td><td>{esc(_unit(name))}</td><td>{esc(e['best'])}</td>"
                           f"<td>{esc(e['other'])}</td><td>{e['difference']:.3g}</td>"
                           f"<td>[{e['ci95'][0]:.3g}, {e['ci95'][1]:.3g}]</td><td>{e['n']}</td><td>"
                           + ("yes" if e["clear"] else "no: within the clips' spread") + "</td></tr>")
        out.append("</tbody></table></div></section>")
    if warnings:
        out.append("<section id='band-warnings'><h2>Band warnings</h2><div class='warn'><p>Full-band value more "
                   "than 20% (and, in dB, 1 dB) away from the in-band one: quote the in-band value "
                   "(docs/metrics.md, Bands).</p><ul>"
                   + "".join(f"<li>{esc(w).replace('`', '')}</li>" for w in warnings) + "</ul></div></section>")
    if reasons:
        out.append("<section id='skipped'><h2>Skipped (empty cells)</h2><ul>" + "".join(
            f"<li><code>{esc(m)}</code> for {n} run(s): {esc(r)}</li>" for m, r, n in reasons) + "</ul></section>")
    if boxes.exists():
        out.append("<section id='boxes'><h2>Metrics per backend</h2><p>One box per backend over clips "
                   f"(triangle: mean).</p><img alt='metric box plots' src='{_data_uri(boxes, 'image/png')}'></section>")

    out.append("<section id='clips'><h2>Clips</h2><p>Per clip: truth and every backend side by side "
               "(spectrograms in dB re. the truth's maximum; difference maps on one colour scale shared by the "
               "clip's backends), the audio, each output's deviation map, and every metric with its unit. Exact "
               "per-run figures: plots/ (a thumbnail opens its own); values: results.csv.</p>"
               f"<p>{esc(DEVIATION_NOTE)}</p>")
    shown_metrics = [n for n in CATALOGUE if any(r.get(n) is not None for r in rows)]
    shown_metrics += [n for n in TIMING if any(n in r for r in rows)]
    for clip in clips:
        runs = {r["backend"]: r for r in rows if r["clip"] == clip.name}
        out.append(f"<section id='{anchors[clip.name]}'><h3>{esc(clip.name)} <small>({esc(clip.kind)})</small></h3>")
        figure = folder / "plots" / f"{clip.name}__row.png"
        if figure.exists():
            out.append(f"<img alt='truth and every backend: spectrograms and difference maps' "
                       f"src='{_jpeg_uri(figure)}'>")
        heads = "<th>truth</th>" + "".join(f"<th>{esc(b.label)}{_badge(b.label, learned, marks)}</th>"
                                           for b in backends if b.label in runs)
        out.append(f"<div class='scroll'><table class='runs'><thead><tr><th></th>{heads}</tr></thead><tbody>")
        if report_audio != "none":
            players = _audio_tag(folder / "audio" / f"{clip.name}__reference.wav", folder, report_audio)
            players = f"<td>{players}</td>" + "".join(
                f"<td>{_audio_tag(folder / 'audio' / f'{clip.name}__{b.slug}.wav', folder, report_audio)}</td>"
                for b in backends if b.label in runs)
            out.append(f"<tr class='players'><td>audio</td>{players}</tr>")
        out.append(_deviation_row(folder, clip.name, [b for b in backends if b.label in runs]))
        for name in shown_metrics:
            values = {b.label: runs[b.label].get(name) for b in backends if b.label in runs}
            winner = _best_of(values, _direction(name))
            cells = "".join(f"<td{' class=best' if winner == label else ''}>"
                            + ("" if v is None else f"{v:.4g}") + "</td>" for label, v in values.items())
            out.append(f"<tr><td>{esc(name)} <small>({esc(_unit(name) or 'no unit')}, "
                       f"{_direction(name)} better)</small></td><td>—</td>{cells}</tr>")
        out.append("</tbody></table></div></section>")
    out.append("</section>")

    out.append("<section id='provenance'><h2>Provenance</h2><p>The environment that produced these numbers "
               "(summary.json holds the same, with every per-backend option).</p><pre>"
               + esc(json.dumps(json_safe({"backends": meta["backends"], "clips": meta["clips"],
                                           "environment": meta["environment"]}), indent=1, sort_keys=True))
               + "</pre></section>")
    out.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(out)

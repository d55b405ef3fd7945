"""Short human summaries for `vocoder info` and `vocoder backends`.

`info --json` prints the full record (:func:`info`); these functions say
the same in a dozen lines, keeping what the file *claims* apart from what
this run *verified* (hashes computed here, checks against the pixels). Both
commands answer at once: nothing here imports torch (tests/test_startup.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from typing import Any

from vocoder.errors import VocoderError
from vocoder.frontend.audiofile import AUDIO_SUFFIXES
from vocoder.frontend.drawn_plot import claim_text, read_drawn_plot
from vocoder.frontend.image import picture_producer
from vocoder.frontend.picture import DEFAULT_MAX_PIXELS, METADATA_KEY, probe, read_metadata, read_picture
from vocoder.frontend.png_chunks import other_text_keywords
from vocoder.inversion.base import LEARNED_OUTPUT_STATEMENT, Inverter
from vocoder.inversion.compose import SYNTAX
from vocoder.inversion.registry import BACKENDS, backend_class
from vocoder.provenance.claims import check_image_claims
from vocoder.provenance.hashing import sha256_file
from vocoder.safety import budget
from vocoder.safety.outputs import open_input
from vocoder.safety.text import shown, terminal_text as _t
from vocoder.safety.untrusted import load_json, sniff
from vocoder.spec import SpectrogramSpec


def info(image: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> dict[str, Any] | None:
    """The embedded metadata of an image (ours, or a known producer's reading
    of its tags: spec, decoding options and the raw claims), or None."""
    metadata = read_metadata(image, max_pixels)
    if metadata is not None:
        return metadata
    reading = picture_producer(read_picture(image, max_pixels), ignore_metadata=False)
    if reading is None:
        return None
    return {"format": f"{reading.producer} spectrogram image", "claims_from_file": reading.claims,
            "spec": reading.spec.to_dict(), "picture_options": asdict(reading.options),
            "n_samples": reading.n_samples,
            "note": "read from the file's own tags: a claim by whoever made it, not verified"}


def dumps(data: Any) -> str:
    """JSON as `info --json` and `backends --json` print it."""
    return json.dumps(data, indent=2)


def is_audio(path: str) -> bool:
    """An audio file by its content, or by its extension when the content says nothing."""
    kind = sniff(path)
    if kind is not None:
        return "audio" in kind
    return os.path.splitext(path)[1].lower() in AUDIO_SUFFIXES


def audio_record(path: str) -> dict[str, Any]:
    """What `info --json` prints for an audio file: its header and hash, the
    environment its record (OUT.wav.json beside it) says made it, and this one's."""
    from vocoder.frontend.audio import audio_info  # soundfile: `backends` never needs it
    from vocoder.provenance.lock import lock_status

    header = audio_info(path)
    return {"format": "audio", "path": path, "sample_rate": header.sample_rate, "channels": header.channels,
            "samples": header.frames, "seconds": header.frames / header.sample_rate, "sha256": sha256_file(path),
            "record_environment": record_environment(path), "this_environment": {"lock": lock_status()}}


def record_environment(path: str) -> dict[str, Any] | None:
    """The ``environment`` of the vocoder record beside ``path`` (a claim of
    that file, not verified), or None when there is none or it is not ours."""
    beside = path + ".json"
    try:
        with open_input(beside) as fh:
            data = load_json(fh.read(), beside)
    except (OSError, VocoderError):
        return None
    env = data.get("environment") if isinstance(data, dict) and "vocoder_record" in data else None
    return env if isinstance(env, dict) else None


def environment_lines(made_by: dict[str, Any] | None) -> list[str]:
    """Which software made a file (from its record, when there is one) and
    which runs here: the lock's sha256 and whether each environment matched it."""
    lines = []
    if made_by is not None:
        packages = made_by.get("packages") if isinstance(made_by.get("packages"), dict) else {}
        lock = made_by.get("lock")
        if isinstance(lock, dict):
            said = ("matched it" if lock.get("matches") is True else
                    f"did NOT match it ({_t(lock.get('why') or _lock_differences(lock), 120)})")
            lock_text = f"lock sha256 {_t(lock.get('sha256'), 17)}, its environment {said}"
        else:
            lock_text = "no lock named (a record from before locks were recorded)"
        lines.append(f"made by (its record says): vocoder {_t(packages.get('vocoder'))}, torch "
                     f"{_t(packages.get('torch'))}, Python {_t(made_by.get('python'))}; {lock_text}")
    from vocoder.provenance.lock import lock_status, summary_line  # importlib.metadata: `backends` never asks

    lines.append("this environment: " + summary_line(lock_status()))
    return lines


def _lock_differences(lock: dict[str, Any]) -> str:
    try:
        from vocoder.provenance.lock import differences_line

        return differences_line({"differs": dict(lock.get("differs") or {}), "missing": list(lock.get("missing") or []),
                                  "platform": lock.get("platform")})
    except (TypeError, KeyError, AttributeError):
        return "differences not readable"


def audio_summary(record: dict[str, Any]) -> list[str]:
    ch = record["channels"]
    return [f"{record['path']}: audio, {ch} channel{'s' if ch != 1 else ''}, {record['sample_rate']} Hz, "
            f"{record['samples']} samples = {record['seconds']:.2f} s",
            f"sha256 {record['sha256']} (computed here)",
            *environment_lines(record.get("record_environment")),
            "not a spectrogram: `vocoder encode` makes one of it, `vocoder bench` uses it as a reference"]


def _hz(value: Any) -> str:
    return f"{value:g} Hz" if isinstance(value, (int, float)) and not isinstance(value, bool) else "?"


def spec_line(spec: dict[str, Any]) -> str:
    """One line: rate, framing and the frequency axis of a spec dict (of any
    version; the axis describes itself, or why the spec cannot be read)."""
    sr = spec.get("sample_rate")
    hop = spec.get("hop_length")
    ms = f" ({1000 * hop / sr:.1f} ms)" if isinstance(hop, int) and isinstance(sr, (int, float)) and sr else ""
    window = spec.get("window")
    if window == "kaiser" and spec.get("kaiser_beta") is not None:
        window = f"kaiser beta {spec['kaiser_beta']:g}"
    try:
        parsed = SpectrogramSpec.from_dict(spec)
        axis = parsed.axis.describe(parsed)
    except VocoderError as exc:
        axis = f"frequency axis not readable: {exc}"
    return _t(f"spec: {_hz(sr)}, n_fft {_t(spec.get('n_fft'))}, hop {_t(hop)}{ms}, window {_t(window)} "
              f"{_t(spec.get('win_length'))}, padding {_t(spec.get('padding'))}; {_t(axis, 160)}", 300)


def _mapping_line(meta: dict[str, Any]) -> str:
    mapping = meta.get("mapping") or {}
    layout = meta.get("layout") or {}
    line = (f"mapping: {_t(mapping.get('bits'))}-bit brightness linear in dB from {_t(mapping.get('db_min'))} to "
            f"{_t(mapping.get('db_max'))} dB (dynamic range {_range(mapping)} dB)")
    if layout.get("pixel_zero"):
        line += f"; pixel 0 = {_t(layout['pixel_zero'])}"
    below = meta.get("fraction_below_range")
    if isinstance(below, (int, float)):
        line += f"; {100 * below:.1f}% of bins below the range"
    return line


def _range(mapping: dict[str, Any]) -> str:
    lo, hi = mapping.get("db_min"), mapping.get("db_max")
    return f"{hi - lo:g}" if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) else "?"


def picture_record(path: str, max_pixels: int) -> tuple[dict[str, Any] | None, Any]:
    """(the embedded record or None, the picture's header) for `info`."""
    header = probe(path, max_pixels, frame=0)
    return info(path, max_pixels), header


def picture_summary(path: str, meta: dict[str, Any] | None, header, max_pixels: int, found=None) -> list[str]:
    """What a picture is, its spec and mapping, its claims, and what was verified here
    (``found``: :func:`drawn_plot_reading`'s answer for a picture without metadata)."""
    frames = f", frame 1 of {header.n_frames}" if header.n_frames > 1 else ""
    size = (f"{header.width}×{header.height} pixels (columns = frames, rows = bands), {header.bands} "
            f"{header.bit_depth or 'float'}-bit {header.format}{frames}")
    if meta is None:
        return [f"{path}: a picture with no embedded vocoder metadata, {size}",
                *drawn_plot_lines(found if found is not None else drawn_plot_reading(path, max_pixels)),
                *_unused_text_line(path, header)]
    fmt = meta.get("format")
    ours = fmt == "vocoder.spectrogram"
    what = f"spectrogram image written by vocoder (format {fmt} v{_t(meta.get('version'))})" if ours else _t(fmt, 60)
    if not ours:
        what += ", read from the file's own tags"
    lines = [f"{path}: {what}", f"size: {size}",
             "claimed by the file (written by whoever made it; checked only as listed under 'verified here'):"]
    spec = meta.get("spec") if isinstance(meta.get("spec"), dict) else {}
    lines.append("  " + spec_line(spec))
    if ours:
        lines.append("  " + _mapping_line(meta))
        layout = meta.get("layout") or {}
        channels = layout.get("channels") if isinstance(layout.get("channels"), list) else ["?"]
        lines.append(f"  channels: {_t('+'.join(map(str, channels)))}, {_t(layout.get('colour'))}")
    else:
        options = meta.get("picture_options") or {}
        lines.append("  decoding: " + ", ".join(f"{k} {shown(v, 30)}" for k, v in options.items()
                                                 if v not in (None, False)))
    n = meta.get("n_samples")
    sr = spec.get("sample_rate")
    if isinstance(n, int) and isinstance(sr, (int, float)) and sr:
        lines.append(f"  length: {n} samples = {n / sr:.2f} s")
    source = meta.get("source")
    if isinstance(source, dict):
        lines.append(f"  made from {shown(source.get('path'), 50)}, sha256 {_t(source.get('sha256'), 17)}, "
                     f"{_t(source.get('sample_rate'))} Hz, {_t(source.get('channels'))} ch, "
                     f"{_t(source.get('samples'))} samples")
    steps = [s.get("step") for s in meta.get("provenance") or [] if isinstance(s, dict)]
    if steps:
        lines.append(f"  steps: {_t(' → '.join(map(str, steps[:12])), 120)}")
    if isinstance(meta.get("claims_from_file"), dict):
        lines.append("  tags: " + ", ".join(f"{k}={shown(v, 20)}" for k, v in meta["claims_from_file"].items()))
    lines.extend(_unused_text_line(path, header))
    lines.append(f"verified here: sha256 of this file {sha256_file(path)}")
    if ours:
        lines.extend(_pixel_checks(path, max_pixels))
    lines.extend(environment_lines(None))
    lines.append(f"the full record: vocoder info --json {path}")
    return lines


def drawn_plot_reading(path: str, max_pixels: int):
    """How `invert` would read this picture's plot (its parts and axes), or None when it is no plot."""
    from vocoder.frontend.picture_options import PictureOptions

    from vocoder import costs

    job = budget.Estimate(f"finding the parts of {os.path.basename(path)} as a drawn plot")
    job.add("finding a drawn plot's parts, reading its axes", costs.drawn_plot(probe(path, max_pixels, frame=0)))
    picture = read_picture(path, max_pixels, frame=0, estimate=job)
    return picture, read_drawn_plot(picture, PictureOptions(), [], "auto", path)


def drawn_plot_lines(found) -> list[str]:
    """What was found in a drawn plot and read from its axes, one line each."""
    _, reading = found
    if reading is None:
        return ["not a drawn plot (no axes frame with labels or colour bar found): `vocoder invert` reads its "
                "pixels as they are (see --preset, --duration, --colormap)"]
    lines = ["a drawn plot: " + _t("; ".join(reading.layout.get("evidence", [])), 400),
             "read from the picture (each a claim; its option overrides it):"]
    lines.extend(f"  {_t(claim_text(claim, ': '), 600)}" for claim in reading.claims)
    lines.extend(f"  warning: {_t(w, 200)}" for w in reading.warnings)
    lines.append("`vocoder invert` reads it with these values (--figure plain: the raw pixels); "
                 "`vocoder info --preview OUT.png` draws what was found")
    return lines


def write_found_parts(found, output: str, source: str) -> None:
    """The picture with what was found drawn on it, written as ``output`` (a PNG, never over an input)."""
    from vocoder.frontend.picture import check_picture_output
    from vocoder.plots import plot_found_parts
    from vocoder.safety.outputs import AtomicOutputs

    check_picture_output(output, "info --preview")
    picture, reading = found
    with AtomicOutputs(inputs=[source]) as outputs:
        plot_found_parts(picture.pixels, reading.claims, reading.axes, outputs.reserve(output))


def _pixel_checks(path: str, max_pixels: int) -> list[str]:
    """Each claim the pixels can confirm or refute, one line each (the
    decode is refused first when it would exceed the memory cap)."""
    report = check_image_claims(read_picture(path, max_pixels, frame=0, estimate=budget.Estimate("info")), path)
    return [f"  {'agrees' if c['agrees'] else 'CONTRADICTED'}: {c['claim']}: claimed {_t(_value(c['claimed']))}, "
            f"measured {_t(_value(c['measured']))}" for c in report.checks]


def _unused_text_line(path: str, header) -> list[str]:
    """A PNG's text chunks that vocoder did not use (their text unread), named
    so a reader knows the file says more than vocoder took from it."""
    if header.format != "PNG":
        return []
    names, further = other_text_keywords(path, METADATA_KEY)
    if not names:
        return []
    more = f" and {further} more text chunks" if further else ""
    return [f"text chunks not used by vocoder (not read): {_t(', '.join(names), 400)}{more}"]


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str) and len(value) > 20:
        return value[:16] + "…"
    return shown(value, 40)


def backend_rows() -> list[dict[str, Any]]:
    """Every registered backend: name, summary, learned or not, block-wise or
    not, and its option table (name, type, default, choices, help)."""
    rows = []
    for name in BACKENDS:
        cls = backend_class(name)
        # Learned means a trained model stands behind it (learned_model overridden); a mel input alone
        # does not (mel-gd is classical).
        learned = cls.learned_model is not Inverter.learned_model
        rows.append({"name": name, "summary": cls.summary, "learned": learned, "blockwise": cls.runs_blockwise(),
                     "starts": cls.starts, "refines": cls.refines(),
                     "options": [option.as_dict() for option in cls.option_table()]})
    return rows


def backends_summary(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for row in rows:
        mark = "  [learned]" if row["learned"] else ""
        lines.append(f"{row['name']:12s} {row['summary']}{mark}")
        for o in row["options"]:
            default = "none" if o["default"] is None else shown(o["default"], 40)
            lines.append(f"    {o['name']:<12s} {o['type']:<24s} default {default:<10s} {o['help']}")
    lines.append("set options with `invert --NAME VALUE` or `bench --backends BACKEND:NAME=VALUE` (_ or - alike)")
    refinements = [r["name"] for r in rows if r["refines"]]
    lines.append(f"compose with {SYNTAX}: the first stage inverts, each later one refines the waveform before it "
                 f"(refinements: {', '.join(refinements)}); a published model's name (`vocoder models`) is a "
                 "backend on its own; a composition with a learned stage is learned")
    if any(r["learned"] for r in rows):
        lines.append(f"[learned] {LEARNED_OUTPUT_STATEMENT}")
    return lines

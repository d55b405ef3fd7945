"""`vocoder bench`: encode → invert → measure, for every clip × backend.

Everything is written into a staging folder beside ``--out`` and renamed into
place only when the whole run succeeded (``AtomicOutputs.reserve_folder``), so
a failed or interrupted run leaves nothing half-written. Every file depends
only on the inputs, options and seed (timings only with ``timings=True``), so
a rerun writes the same bytes.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from tqdm.auto import tqdm

from vocoder import costs
from vocoder.errors import VocoderError
from vocoder.evaluation import fidelity, hallucination as hal, perceptual
from vocoder.evaluation.degrade import Degradation, write_input_picture
from vocoder.evaluation.plots import plot_clip_row, plot_difference_map, plot_triptych
from vocoder.evaluation.report import write_report
from vocoder.frontend import model_features
from vocoder.frontend.audio import audio_info, audio_to_spectrogram, check_length, read_audio, resample
from vocoder.frontend.audiofile import AUDIO_SUFFIXES, FLOAT_WAV, encode_audio
from vocoder.frontend.image import image_to_spectrogram
from vocoder.frontend.picture import read_picture
from vocoder.frontend.picture_options import PictureOptions
from vocoder.frontend.stft import magnitude
from vocoder.inversion import Inverter
from vocoder.inversion.compose import (THEN, Composed, build_stages, label as label_of, model_files,
                                       parse as parse_stages, stage_options)
from vocoder.inverting import run as run_inversion
from vocoder.plots import plot_deviation_map
from vocoder.provenance.format import to_json
from vocoder.provenance.hashing import sha256_file
from vocoder.provenance.record import audio_output, inversion_record
from vocoder.safety import budget
from vocoder.safety.outputs import AtomicOutputs
from vocoder.safety.text import printable, terminal_line
from vocoder.spec import SpectrogramSpec, get_preset


@dataclass(frozen=True)
class BackendChoice:
    """One column of the benchmark: a backend (or a composition) with its options."""

    label: str  # shown in tables, e.g. "fgla iters=32", "hifigan-v1-lj > band"
    name: str  # the backend's name; for a composition, the stages' names joined by ">"
    options: dict[str, Any]  # checked options; for a composition, {"stages": [each stage's]}
    inverter: Inverter | None = field(default=None, compare=False, repr=False)  # built by parse_backends

    @property
    def slug(self) -> str:
        """File-name-safe label: fgla-iters32, hifigan-v1-lj-then-band."""
        return re.sub(r"[^A-Za-z0-9+]+", "-", self.label.replace(" > ", " then ").replace("=", "")).strip("-")


@dataclass(frozen=True)
class Clip:
    path: Path
    name: str
    kind: str


def parse_backends(text: str, iters: int | None = None, seed: int = 0) -> list[BackendChoice]:
    """'fgla,griffinlim:iters=32,hifigan-v1-lj>band' → choices.

    Each entry is a backend or a composition (``A>B:key=value``,
    inversion/compose.py). ``iters`` and ``seed`` apply to every stage that
    takes them unless it sets its own. Each choice is built once here, so an
    unknown backend or option fails before any work.
    """
    choices = []
    defaults = tuple((k, v) for k, v in (("iters", iters), ("seed", seed)) if v is not None)
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        stages = parse_stages(entry)
        inverter = build_stages(stages, entry, dict(defaults), strict=False)  # the backends' own checks, now
        if isinstance(inverter, Composed):
            name = THEN.join(stage.name for stage in stages)
            options: dict[str, Any] = {"stages": [stage_options(s, dict(defaults)) for s in stages]}
        else:
            name, options = stages[0].name, stage_options(stages[0], dict(defaults))
        choices.append(BackendChoice(label_of(stages), name, options, inverter))
    if not choices:
        raise VocoderError("--backends names no backend")
    labels = [c.label for c in choices]
    if len(set(labels)) != len(labels):
        raise VocoderError(f"--backends lists the same configuration twice: {', '.join(labels)}")
    return choices


def parse_kind_rules(rules: list[str] | None) -> list[tuple[str, str]]:
    """['brahms*=polyphonic', …] → [(glob, kind), …]."""
    parsed = []
    for rule in rules or []:
        pattern, eq, kind = rule.partition("=")
        if not eq or kind not in fidelity.KINDS:
            raise VocoderError(f"--kind takes GLOB=KIND with KIND one of {', '.join(fidelity.KINDS)} (got {rule!r})")
        parsed.append((pattern, kind))
    return parsed


def find_clips(inputs: list[str], kind_rules: list[tuple[str, str]] = ()) -> list[Clip]:
    """Audio files named directly or found (not recursively) in folders."""
    paths: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
            if not found:
                raise VocoderError(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) in {path}")
            paths.extend(found)
        elif path.is_file():
            paths.append(path)
        else:
            raise VocoderError(f"no such audio file or folder: {path}")
    names = [p.stem for p in paths]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise VocoderError(f"two clips share the name {duplicates[0]!r}; outputs are named by clip")
    clips = []
    for p in paths:
        kind = next((k for pattern, k in kind_rules if fnmatch.fnmatch(p.name, pattern)), "speech")
        clips.append(Clip(p, p.stem, kind))
    return clips


@dataclass
class BenchResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # clip, backend, metric, reason
    degradation: Degradation = field(default_factory=Degradation)
    learned: dict[str, dict[str, Any]] = field(default_factory=dict)  # backend label → learned_model()


def _check_budget(clips: list[Clip], backends: list[BackendChoice], inverters: dict, spec: SpectrogramSpec,
                  metrics: tuple[str, ...]) -> None:
    """Refuse the run, from the clips' headers alone, if its largest clip would not fit the memory cap."""
    worst: budget.Estimate | None = None
    for clip in clips:
        header = audio_info(clip.path)
        samples = -(-header.frames * spec.sample_rate // header.sample_rate)
        frames = max(1, spec.n_frames(max(samples, spec.min_samples())))
        pitch = bool({"f0_rmse_cents", "vuv_f1"} & set(metrics)) and clip.kind in ("speech", "monophonic")
        working = [(c.label, inverters[c.label].working_set(header.channels, spec, frames, samples),
                    inverters[c.label].fixed_spec() is None) for c in backends]
        est = costs.bench_clip(header.channels, header.frames, header.sample_rate, spec, working, pitch)
        if worst is None or est.largest[1] > worst.largest[1]:
            worst, est.job = est, f"bench on clip {clip.path.name}"
    if worst is not None:
        worst.check()


def _load_references(clips: list[Clip], spec: SpectrogramSpec):
    """Read and resample every clip first, so a bad one fails before any work."""
    loaded = []
    for clip in clips:
        audio = resample(read_audio(clip.path), spec.sample_rate)
        check_length(audio.samples.shape[-1], spec, f"clip {clip.path}")
        loaded.append(audio)
    return loaded


def learned_notice(label: str, identity: dict[str, Any]) -> str:
    """The one line said (on stderr, in reports) about a learned backend's output."""
    return (f"bench backend {label!r} is the learned model {identity.get('name')} "
            f"({identity.get('architecture')}, trained on {identity.get('training_data')}, licence "
            f"{identity.get('licence')}); {identity.get('statement')}")


def run_bench(clips: list[Clip], backends: list[BackendChoice], preset: str, out_dir: str | os.PathLike,
              metrics: tuple[str, ...] = fidelity.DEFAULT_METRICS, report_audio: str = "embed",
              progress: bool | None = None, command: str = "", spec: SpectrogramSpec | None = None,
              degradation: Degradation = Degradation(), notify: Callable[[str], None] | None = None,
              timings: bool = False, inputs: list[str] = ()) -> BenchResult:
    """Run the benchmark and write every artefact into ``out_dir``.

    ``spec``, when given, is the effective spec (``preset`` then only labels
    the run). ``degradation`` says what picture every backend gets (a clean
    16-bit PNG by default). ``notify`` receives one line per learned backend,
    before any work, naming its model and saying its output may contain
    invented content. ``inputs`` (files or folders named on the command
    line), the clips and any checkpoint are protected: ``out_dir`` may not be
    or hold any of them.
    """
    degradation.validate()
    spec = spec if spec is not None else get_preset(preset)
    inverters = {choice.label: choice.inverter for choice in backends}  # each built once, by parse_backends
    for choice in backends:
        fixed = inverters[choice.label].fixed_spec()
        if fixed is not None and model_features.obstacles(spec, fixed):  # same framing: its features are made
            raise VocoderError(f"backend {choice.label!r} was trained on another spec than preset {preset!r}: "
                               + "; ".join(fixed.differences(spec)) + " (model vs preset)")
        inverters[choice.label].check_spec(spec)  # e.g. pghi and a kaiser window: refuse before any work
    _check_budget(clips, backends, inverters, spec, metrics)
    learned = {label: inverter.learned_model() for label, inverter in inverters.items()}
    learned = {label: identity for label, identity in learned.items() if identity is not None}
    if notify is not None:
        for label, identity in learned.items():
            notify(learned_notice(label, identity))
    protected = [*inputs, *(c.path for c in clips), *(path for i in inverters.values() for path in model_files(i))]
    with AtomicOutputs(inputs=protected) as outputs:
        staging = outputs.reserve_folder(out_dir)
        references = _load_references(clips, spec)
        for sub in ("audio", "images", "plots"):
            (staging / sub).mkdir()
        result = BenchResult(degradation=degradation, learned=learned)
        bar = tqdm(total=len(clips) * len(backends), desc="bench", unit="run",
                   disable=None if progress is None else not progress)
        for clip, audio in zip(clips, references):
            _bench_clip(clip, audio, spec, backends, inverters, metrics, staging, result, bar, timings)
        bar.close()
        write_report(result, clips, backends, preset, metrics, staging, report_audio, command)
    return result


def _bench_clip(clip: Clip, audio, spec: SpectrogramSpec, backends: list[BackendChoice], inverters: dict,
                metrics: tuple[str, ...], staging: Path, result: BenchResult, bar, timings: bool) -> None:
    reference = audio.samples
    spectrogram = audio_to_spectrogram(audio, spec)
    png_path = staging / "images" / f"{clip.name}.png"
    degradation = result.degradation
    write_input_picture(spectrogram, degradation, png_path, source={"path": printable(str(clip.path))})
    png_sha256 = sha256_file(png_path)
    clip_sha256 = sha256_file(clip.path)
    decoded = image_to_spectrogram(read_picture(png_path), None, PictureOptions())
    wants_pitch = {"f0_rmse_cents", "vuv_f1"} & set(metrics) and clip.kind in ("speech", "monophonic")
    reference_pitch = perceptual.pitch_track(reference, spec.sample_rate, clip.kind, spec.hop_length) \
        if wants_pitch else None
    linear = spec.as_linear()
    reference_power = magnitude(reference.double(), linear) ** 2
    # The reference at the preset's rate: what every metric compared against.
    (staging / "audio" / f"{clip.name}__reference.wav").write_bytes(encode_audio(reference, spec.sample_rate,
                                                                                  FLOAT_WAV))
    row_panels = []  # (label, output power, difference) for the clip's side-by-side figure
    for choice in backends:
        bar.set_postfix_str(terminal_line(f"{clip.name} · {choice.label}"))
        inverter = inverters[choice.label]
        inverted = run_inversion(inverter, decoded)
        waveform, seconds = inverted.waveform.to(torch.float32), inverted.seconds
        stem = f"{clip.name}__{choice.slug}"
        wav_path = staging / "audio" / f"{stem}.wav"
        wav_bytes = encode_audio(waveform, spec.sample_rate, FLOAT_WAV)
        wav_path.write_bytes(wav_bytes)
        # One comparison per output: its STFTs are computed once for the metrics, the plots and the
        # deviation map against the input as decoded (the output is unscaled: at the input's level).
        comparison = fidelity.Comparison(reference, waveform, decoded, clip.kind, reference_pitch, reference_power)
        estimate_power = comparison.linear_power(fidelity.ESTIMATE)
        values = {name: comparison.value(name) for name in metrics}
        departure = comparison.deviation()
        difference = hal.difference_map_db(reference_power, estimate_power)
        seconds_audio = reference.shape[-1] / spec.sample_rate
        title = f"{printable(clip.name)} · {choice.label}"
        plot_triptych(reference_power, estimate_power, difference, seconds_audio, spec.sample_rate / 2,
                      staging / "plots" / f"{stem}.png", title)
        plot_difference_map(difference, seconds_audio, spec.sample_rate / 2,
                            staging / "plots" / f"{stem}.diff.png", f"difference map: {title}")
        plot_deviation_map(departure.difference_db, decoded, staging / "plots" / f"{stem}.deviation.png",
                           f"deviation from the input (no reference): {title}")
        row_panels.append((choice.label, estimate_power, difference))
        identity = result.learned.get(choice.label)
        row = {
            "clip": clip.name, "kind": clip.kind, "backend": choice.label, "backend_name": choice.name,
            "backend_options": json.dumps(choice.options, sort_keys=True),
            "learned": identity is not None, "learned_model": identity["name"] if identity else "",
            "png_bits": degradation.png_bits, "blur_sigma": degradation.blur_sigma, "audio_seconds": seconds_audio,
        }
        if timings:
            row.update(seconds=seconds, rtf=seconds / seconds_audio)
        for name, value in values.items():
            row[name] = value.value
            if value.skipped:
                result.skipped.append({"clip": clip.name, "backend": choice.label, "metric": name,
                                       "reason": value.skipped})
        aligned = values.get("snr_aligned_db")
        if aligned is not None and aligned.details:
            row["snr_aligned_lag"] = aligned.details["lag_samples"]
            row["snr_aligned_sign"] = aligned.details["sign"]
        hallucinated = values.get("hallucinated_db")
        if hallucinated is not None and hallucinated.details:
            row["hallucinated_floor_db"] = hallucinated.details["floor_db"]
        enf = next((values[n] for n in fidelity.ENF_METRICS if n in values and values[n].details), None)
        if enf is not None:  # which hum line was tracked, and how far above its surroundings
            row.update({f"enf_{k}": v for k, v in enf.details.items()})
        row["skipped"] = "; ".join(f"{n}: {v.skipped}" for n, v in values.items() if v.skipped)
        result.rows.append(row)
        wav_sha256 = hashlib.sha256(wav_bytes).hexdigest()
        record = inversion_record(
            input={"clip": printable(str(clip.path)), "sha256": clip_sha256, "kind": clip.kind,
                   "encoded_png": f"images/{png_path.name}", "encoded_png_sha256": png_sha256,
                   "degradation": degradation.to_dict()},
            output=audio_output(f"audio/{wav_path.name}", wav_sha256, FLOAT_WAV.description, spec.sample_rate,
                                int(waveform.shape[0]), int(waveform.shape[1])),
            sha256={"input": clip_sha256, "encoded_png": png_sha256, "output": wav_sha256},
            spec=spec, prepared=inverted.prepared, inverter=inverter, backend=choice.name,
            extra={"metrics": {k: v for k, v in row.items() if k in fidelity.CATALOGUE},
                   "deviation_vs_input": {**departure.shares, "map": f"plots/{stem}.deviation.png"}},
            timings={"inversion": seconds} if timings else None,
        )
        (staging / "audio" / f"{stem}.wav.json").write_text(to_json(record))
        bar.update(1)
    plot_clip_row(reference_power, row_panels, reference.shape[-1] / spec.sample_rate, spec.sample_rate / 2,
                  staging / "plots" / f"{clip.name}__row.png", f"{printable(clip.name)}: truth and every backend")

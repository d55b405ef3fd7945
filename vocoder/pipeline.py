"""The jobs behind the CLI: encode audio to a PNG, invert a picture to audio.

Each job writes its outputs all-or-nothing (``vocoder.safety.outputs``: never over
an input, never over an existing file unless the CLI's --force set the
policy) and returns the provenance record it wrote, so a notebook gets the
same traceability as the command line.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch

from vocoder import costs
from vocoder.errors import VocoderError
from vocoder.frontend import model_features
from vocoder.frontend.audio import Audio, audio_info, audio_to_spectrogram, read_audio, read_samples
from vocoder.frontend.audiofile import SONIFY_FORMATS, decode_audio, encode_audio, lost_signal, output_format
from vocoder.frontend.drawn_plot import DrawnPlotReading, plain_warning, read_drawn_plot
from vocoder.frontend.image import image_to_spectrogram, picture_producer
from vocoder.frontend.picture_chain import plain_geometry, warnings_of
from vocoder.frontend.spectrogram_png import embedded, metadata_decode_step, spectrogram_to_png
from vocoder.provenance.claims import CLAIMED_BY, LENGTH_CLAIM, ClaimReport, check_image_claims, pixels_summary
from vocoder.safety import budget
from vocoder.frontend.picture import (DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, PictureHeader, check_picture_output,
                                     encode_png, probe, read_metadata, read_picture)
from vocoder.frontend.picture_options import PictureOptions
from vocoder.inversion.compose import build as build_backend, model_files
from vocoder.inversion.base import Inverter
from vocoder.inverting import Inverted, blockwise_fidelity, invert_whole, level_rule
from vocoder.plots import plot_deviation_map, plot_spectrogram
from vocoder.provenance.format import to_json
from vocoder.provenance.hashing import sha256_file
from vocoder.provenance.record import audio_output, audio_source, inversion_record, job_record, picture_input
from vocoder.safety.outputs import AtomicOutputs, existing_input, open_input
from vocoder.safety.text import printable, shown
from vocoder.safety.untrusted import MAX_JSON_BYTES, is_whole, load_json
from vocoder.spec import SpectrogramSpec, get_preset
from vocoder.spec_overrides import SpecOverrides, effective_spec, spec_choice
from vocoder.spectrogram import Spectrogram


def preview_path(output: str | os.PathLike) -> str:
    """Where --preview writes: OUT.wav → OUT.wav.preview.png (never another output's)."""
    return os.fspath(output) + ".preview.png"


def deviation_path(output: str | os.PathLike) -> str:
    """Where --deviation-map writes: OUT.wav → OUT.wav.deviation.png."""
    return os.fspath(output) + ".deviation.png"


def record_path(output: str | os.PathLike) -> str:
    """The provenance record beside an output: OUT.wav → OUT.wav.json."""
    return os.fspath(output) + ".json"


def blockwise_reason(estimate: budget.Estimate, block_seconds: float | None) -> str | None:
    """Why a job runs block-wise (--block-seconds, or a whole-signal estimate
    over the memory cap), or None to run it whole."""
    if block_seconds is not None:
        return "--block-seconds was given"
    cap, source = budget.limit()
    need = estimate.peak()
    if need > cap:
        return (f"the whole-signal estimate ({budget.format_size(need)}) is over the memory limit "
                f"({budget.format_size(cap)}, {source})")
    return None


def refuse_both(whole: budget.Estimate, obstacle: str) -> VocoderError:
    """The whole-signal refusal (figures and cap), plus why working in blocks
    instead is not possible: for a job over the cap that did not ask for blocks."""
    try:
        whole.check()
    except VocoderError as exc:
        return VocoderError(f"{exc}; working in blocks instead is not possible: {obstacle}")
    return VocoderError(obstacle)


def encode(audio_path: str, output: str, preset: str = "linear", bits: int = 16,
           dynamic_range_db: float = 100.0, preview: bool = False,
           overrides: SpecOverrides | None = None, block_seconds: float | None = None) -> dict[str, Any]:
    """Audio file → spectrogram PNG with the spec (preset + overrides) and mapping embedded.

    Long recordings (or any, with ``block_seconds``) are encoded a block of
    frames at a time (vocoder.streaming), to the same pixels."""
    spec = effective_spec(preset, overrides)
    check_picture_output(output, "encode")
    with AtomicOutputs(inputs=[audio_path]) as outputs:
        target = outputs.reserve(output)
        preview_tmp = outputs.reserve(preview_path(output)) if preview else None
        header = audio_info(audio_path)
        whole = costs.encode(header.channels, header.frames, header.sample_rate, spec, preview)
        why = blockwise_reason(whole, block_seconds)
        if why is not None:
            from vocoder.inversion.blockwise import DEFAULT_BLOCK_SECONDS, block_frames
            from vocoder.streaming import encode_blockwise, encoding_obstacle

            obstacle = encoding_obstacle(header, spec, preview)
            if obstacle:
                raise refuse_both(whole, obstacle) if block_seconds is None else VocoderError(f"{why}; {obstacle}")

            seconds = DEFAULT_BLOCK_SECONDS if block_seconds is None else block_seconds
            frames = block_frames(spec, seconds)
            block = costs.encode(header.channels, min(header.frames, frames * spec.hop_length + spec.n_fft),
                                  spec.sample_rate, spec, False)
            if block_seconds is None and block.peak() > budget.limit()[0]:
                raise refuse_both(whole, f"one block of {seconds:g} s is over the limit too")
            block.check()
            steps: list[dict[str, Any]] = [{
                "step": "read_audio", "path": audio_path, "sha256": sha256_file(audio_path),
                "sample_rate": header.sample_rate, "channels": header.channels, "samples": header.frames,
                "read_in_blocks": {"why": why}}]
            if overrides:
                steps.append({"step": "spec_overrides", **spec_choice(preset, overrides)})
            return encode_blockwise(audio_path, target, header, spec, bits, dynamic_range_db, steps,
                                    steps[0]["sha256"], seconds)
        audio = read_audio(audio_path, whole)
        if overrides:
            audio.provenance.append({"step": "spec_overrides", **spec_choice(preset, overrides)})
        spectrogram = audio_to_spectrogram(audio, spec)
        source = audio_source(audio_path, audio.provenance[0]["sha256"], audio.sample_rate,
                              int(audio.samples.shape[0]), int(audio.samples.shape[1]))
        data, metadata = spectrogram_to_png(spectrogram, bits=bits, dynamic_range_db=dynamic_range_db,
                                            source=source)
        outputs.write_bytes(output, data)
        if preview_tmp:
            plot_spectrogram(spectrogram, preview_tmp, f"{printable(os.path.basename(audio_path))} ({preset}"
                             + (f" with {overrides.describe()})" if overrides else ")"),
                             floor_db=-float(dynamic_range_db))  # the range the PNG maps
    return metadata


@dataclass
class InvertRequest:
    """Everything `vocoder invert` was asked, so the record can say it back."""

    image: str
    output: str
    backend: str = "fgla"
    backend_options: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None  # for pictures without metadata; default "linear"
    spec_overrides: SpecOverrides = field(default_factory=SpecOverrides)  # on top of the preset
    picture: PictureOptions = field(default_factory=PictureOptions)
    picture_options_given: list[str] = field(default_factory=list)  # CLI flags the user set
    ignore_metadata: bool = False
    preview: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    timings: bool = False  # wall-clock seconds in the record (then reruns differ in those bytes)
    max_side: int = DEFAULT_MAX_SIDE
    frame: int | None = None  # which frame of a multi-frame picture
    block_seconds: float | None = None  # invert block-wise with blocks this long (None: only when over the cap)
    figure: str = "auto"  # a drawn plot's parts and axes: found and read (auto/plot) or not (plain)
    deviation_map: bool = False  # write OUT.deviation.png and the shares of energy added and lost


def _refuse_contradictions(request: InvertRequest, whose: str) -> None:
    """A picture that carries its own spec (``whose``) takes no options that would contradict it."""
    conflicting = (request.picture_options_given + (["--preset"] if request.preset else [])
                   + list(request.spec_overrides.given()))
    if conflicting:
        raise VocoderError(f"{printable(request.image)} carries {whose}; {', '.join(conflicting)} would contradict "
                           "it (add --ignore-metadata to read it as a plain picture)")


def _protect_claimed_source(outputs: AtomicOutputs, image: str, max_pixels: int) -> None:
    """The recording a vocoder PNG says it was made from is never an output
    (`invert speech.png -o speech.wav --force` after `encode speech.wav`).
    Read from the header only; a file that cannot be read fails later, fully."""
    try:
        source = (read_metadata(image, max_pixels) or {}).get("source")
    except VocoderError:
        return
    if isinstance(source, dict):
        outputs.protect_source(source.get("sha256"), f"the recording {printable(image)} was made from")


def plan_budget(request: InvertRequest, header: PictureHeader, spec: SpectrogramSpec | None, inverter: Inverter,
                uses_metadata: bool, options: PictureOptions | None = None) -> budget.Estimate:
    """What inverting this picture will cost, from its header and the options."""
    if uses_metadata:
        found = embedded(header.metadata or {}, request.image, header.width, header.height, header.bands,
                         header.bit_depth)
        spec, channels, frames = found.spec, found.channels, header.width
        samples = found.n_samples if found.n_samples is not None else spec.n_samples(frames)
        blur = 0.0
    else:
        spec = spec or get_preset("linear")
        options = options or request.picture
        options.validate()
        frames, n = plain_geometry(header.width, header.height, spec, options, request.image)
        samples = n if n is not None else spec.n_samples(frames)
        stereo = options.channel == "stereo" or (options.planes is not None and len(options.planes) == 2)
        channels, blur = (2 if stereo else 1), options.blur_sigma
    return costs.invert(header, spec, channels, frames, samples, request.backend,
                         inverter.working_set(channels, spec, frames, samples),
                         converts_axis=inverter.fixed_spec() is None,
                         embedded=uses_metadata, blur_sigma=blur, preview=request.preview,
                         deviation=request.deviation_map)


def invert(request: InvertRequest) -> dict[str, Any]:
    """Picture (ours or any) → audio file + JSON record (+ preview PNG)."""
    started = time.perf_counter()
    inverter = build_backend(request.backend, request.backend_options)
    with AtomicOutputs(inputs=[request.image, *model_files(inverter)]) as outputs:
        _protect_claimed_source(outputs, request.image, request.max_pixels)
        outputs.reserve(request.output)
        audio_format = output_format(request.output)
        json_target = record_path(request.output)
        outputs.reserve(json_target)  # fail now, not after the work, if unwritable
        preview_tmp = outputs.reserve(preview_path(request.output)) if request.preview else None
        deviation_tmp = outputs.reserve(deviation_path(request.output)) if request.deviation_map else None

        header = probe(request.image, request.max_pixels, request.frame, request.max_side)
        uses_metadata = header.metadata is not None and not request.ignore_metadata
        whole = None  # a vocoder PNG's estimate needs only its header: made once, here
        if uses_metadata or request.block_seconds is not None:
            whole = plan_budget(request, header, None, inverter, uses_metadata)
            why = blockwise_reason(whole, request.block_seconds)
            if why is not None and request.deviation_map:
                raise VocoderError(f"--deviation-map compares the whole output with the whole input; this picture "
                                   f"would be inverted block-wise ({why}): leave --block-seconds out, or raise "
                                   "--max-memory")
            if why is not None:
                return _invert_blockwise(request, outputs, header, inverter, uses_metadata, why, whole, started)
        asked = request.preset or request.spec_overrides
        spec = effective_spec(request.preset, request.spec_overrides) if asked else None
        choice: Any = spec_choice(request.preset, request.spec_overrides)
        fixed = inverter.fixed_spec()
        # The whole job's estimate is checked by the reader before it decodes: a vocoder PNG's from
        # its header, a plain picture's under the spec it will be read with (a producer's tags,
        # known only after the decode, get their own estimate below).
        # A learned backend reads a plain picture under its own spec, unless one with its framing is asked
        # (e.g. --preset linear: the model's features are then made from it).
        plain_spec = fixed if fixed is not None and not uses_metadata and spec is None else spec
        estimate = whole if whole is not None else plan_budget(request, header, plain_spec, inverter, uses_metadata)
        picture = read_picture(request.image, request.max_pixels, request.frame, request.max_side, estimate)
        claims = check_image_claims(picture, printable(request.image))
        producer = picture_producer(picture, request.ignore_metadata)
        if uses_metadata or producer is not None:
            _refuse_contradictions(request, "its own spec" if uses_metadata else f"{producer.producer}'s parameters")
        if fixed is not None and not uses_metadata and producer is None:
            if spec is not None and model_features.obstacles(spec, fixed):
                given = " ".join(filter(None, [f"--preset {request.preset}" if request.preset else "",
                                               request.spec_overrides.describe()]))
                raise VocoderError(f"backend {request.backend!r} needs its own spec or one with its framing; {given} "
                                   "differs from it in " + "; ".join(fixed.differences(spec))
                                   + " (model vs asked; leave them out)")
            if spec is None:
                spec = fixed  # a plain picture is mapped onto the model's bins
                choice = f"the spec backend {request.backend!r} was trained on"
        if producer is not None:
            plan_budget(request, header, producer.spec, inverter, False, producer.options).check()
        options, figure, figure_warnings = request.picture, None, []
        if not uses_metadata and producer is None:
            figure, figure_warnings = _read_figure(request, picture)
            if figure is not None:
                options = figure.options
                if spec is None and fixed is None and figure.sample_rate is not None and \
                        figure.sample_rate > effective_spec(None).sample_rate:
                    spec = effective_spec(None, SpecOverrides(sample_rate=figure.sample_rate))
                    choice = {**choice, "sample_rate": f"{figure.sample_rate} Hz: the lowest standard rate whose "
                                                       "Nyquist frequency covers the picture's frequency axis"}
                plan_budget(request, header, spec, inverter, False, options).check()
        spectrogram = image_to_spectrogram(picture, spec, options, request.ignore_metadata, request.image,
                                           found=figure.step() if figure is not None else None)
        if uses_metadata and not claims.agrees(LENGTH_CLAIM):
            spectrogram = replace(spectrogram, n_samples=None)  # the pixels decide the length, not the claim
        if preview_tmp:
            plot_spectrogram(spectrogram, preview_tmp, f"{printable(os.path.basename(request.image))} as decoded")
        # Our PNGs and producers that record their peak (Riffusion) have an absolute level.
        has_level = (uses_metadata or (producer is not None and producer.options.level_reference is not None)
                     or (producer is None and options.db_reference == "full-scale"))
        audio, inverted = invert_whole(inverter, spectrogram, has_level, audio_format, printable(request.output),
                                       deviation_map=request.deviation_map)
        outputs.write_bytes(request.output, audio)
        deviation_record = None
        if deviation_tmp and inverted.deviation is not None:
            plot_deviation_map(inverted.deviation.difference_db, spectrogram, deviation_tmp,
                               f"{printable(os.path.basename(request.output))} against "
                               f"{printable(os.path.basename(request.image))} as decoded")
            deviation_record = {**inverted.deviation.shares, "map": os.path.abspath(deviation_path(request.output))}
        kind = ("vocoder spectrogram PNG (embedded metadata)" if uses_metadata else
                f"{producer.producer} spectrogram image (its own tags)" if producer is not None else
                "picture without metadata")
        frame = ({"index": picture.frame, "of": picture.n_frames, "chosen_by": "--frame"}
                 if request.frame is not None else None)
        record = _invert_record(
            request, outputs, inverter, inverted, hashlib.sha256(audio).hexdigest(), spectrogram.spec,
            picture_input(request.image, sha256_file(request.image), kind,
                          picture.metadata is not None and request.ignore_metadata, frame),
            claims, pixels_summary(picture), started,
            picture_options=None if uses_metadata else asdict(producer.options if producer else options),
            warnings=figure_warnings + warnings_of(spectrogram) + inverted.warnings,
            read_from_picture=figure.claims if figure is not None else None, deviation=deviation_record,
            spec_choice="embedded in the input" if uses_metadata else
            f"{producer.producer}'s tags in the input" if producer else choice,
            preview=os.path.abspath(preview_path(request.output)) if preview_tmp else None)
    return record


def _read_figure(request: InvertRequest, picture) -> tuple[DrawnPlotReading | None, list[str]]:
    """A drawn plot's reading (None when read as raw pixels), and its warnings (a plot read raw gets one)."""
    name = printable(request.image)
    figure = read_drawn_plot(picture, request.picture, request.picture_options_given, request.figure, name)
    if figure is not None:
        return figure, list(figure.warnings)
    if request.figure == "plain":
        warning = plain_warning(picture, name, request.picture)
        return None, [warning] if warning else []
    return None, []


def _invert_blockwise(request: InvertRequest, outputs: AtomicOutputs, header: PictureHeader, inverter: Inverter,
                      uses_metadata: bool, why: str, whole: budget.Estimate, started: float) -> dict[str, Any]:
    """`invert` of a vocoder PNG a block at a time (vocoder.streaming)."""
    from vocoder.inversion.blockwise import BlockPlan, cheapest_fitting
    from vocoder.streaming import blockwise_obstacle, invert_blockwise

    audio_format = output_format(request.output)
    asked = request.block_seconds is not None
    obstacle = blockwise_obstacle(inverter, request.backend, audio_format, request.preview, uses_metadata)
    if obstacle:
        raise VocoderError(f"{why}; {obstacle}") if asked else refuse_both(whole, obstacle)
    _refuse_contradictions(request, "its own spec")
    found = embedded(header.metadata or {}, request.image, header.width, header.height, header.bands,
                     header.bit_depth)
    inverter.check_spec(found.spec)  # before any work, as prepare() would
    length = found.n_samples if found.n_samples is not None else found.spec.n_samples(header.width)
    linear = found.spec.as_linear()

    def block_estimate(plan: BlockPlan) -> budget.Estimate:
        frames = plan.largest_block_frames
        block = budget.Estimate("block-wise inversion")
        block.add("one block's phase retrieval", inverter.working_set(found.channels, plan.spec, frames,
                                                                       plan.spec.n_samples(frames)))
        if not found.spec.axis.is_identity:
            block.add("one block's filterbank inverse", costs.axis_inverse(found.channels, found.spec, frames))
        return block

    chosen: dict[str, Any] = {}  # how the planner chose the block, for the record (not when it was given)
    if asked:
        seconds = request.block_seconds
        plan = BlockPlan.for_seconds(linear, header.width, length, seconds)
        block_estimate(plan).check()
    else:
        cap, source = budget.limit()
        base = budget.resident()
        choice, weighed = cheapest_fitting(linear, header.width, length,
                                           lambda plan: block_estimate(plan).peak(base), cap)
        if choice is None:
            shortest = weighed[0]
            raise refuse_both(whole, f"even the shortest block, {shortest.seconds:g} s, needs about "
                                     f"{budget.format_size(shortest.peak)}")
        seconds, plan = choice.seconds, choice.plan
        chosen["block_choice"] = {
            "rule": "of the candidate lengths, the least estimated work (frames with context, plus a fixed cost "
                    "per block) whose estimated peak fits the memory limit (vocoder/inversion/blockwise.py)",
            "limit_mib": round(cap / 2**20), "limit_from": source,
            "candidates": [c.to_dict(cap) for c in weighed]}
    target = outputs.reserve(request.output)
    inversion_started = time.perf_counter()
    result = invert_blockwise(request.image, found, inverter, target, audio_format, plan,
                              lambda peak: level_rule(peak, absolute=True), request.output)
    steps = found.provenance + (
        metadata_decode_step(found.mapping, ", read a row at a time"),
        {"step": "blockwise", "why": why, "block_frames": plan.block, "context_frames": plan.context,
         "blocks": len(plan.cores()), "crossfade_samples": plan.spec.n_fft,
         "method": "each block extended by the context on both sides and inverted alone, started from the phase "
                   "of the block before on the frames they share; cores cross-faded at frame centres "
                   "(vocoder/inversion/blockwise.py)"},
    )
    inverted = Inverted(Spectrogram(torch.zeros(found.channels, plan.spec.n_bins, 0), plan.spec, steps),
                        found.channels, plan.length, result.level,
                        blockwise_fidelity(found.spec.axis.kind, result.consistency_db, audio_format),
                        time.perf_counter() - inversion_started, result.warnings)
    input_sha256 = sha256_file(request.image)
    record = _invert_record(
        request, outputs, inverter, inverted, sha256_file(target), found.spec,
        picture_input(request.image, input_sha256, "vocoder spectrogram PNG (embedded metadata)", False, None),
        ClaimReport({"by": CLAIMED_BY, "metadata": header.metadata}), pixels_summary(header), started,
        picture_options=None, warnings=inverted.warnings, spec_choice="embedded in the input",
        blockwise={"why": why, "block_seconds": seconds, **chosen}, preview=None)
    return record


def _invert_record(request: InvertRequest, outputs: AtomicOutputs, inverter: Inverter, inverted: Inverted,
                   output_sha256: str, spec: SpectrogramSpec,
                   input: dict[str, Any], claims: ClaimReport, pixels: dict[str, Any], started: float,
                   picture_options: dict[str, Any] | None, warnings: list[str], spec_choice: Any,
                   preview: str | None, blockwise: dict[str, Any] | None = None,
                   read_from_picture: list[dict[str, Any]] | None = None,
                   deviation: dict[str, Any] | None = None) -> dict[str, Any]:
    """`invert`'s record, whole or block-wise, written beside the output."""
    output = audio_output(os.path.abspath(request.output), output_sha256, output_format(request.output).description,
                          inverted.prepared.spec.sample_rate, inverted.channels, inverted.samples,
                          level=inverted.level, preview=preview)
    extra = {"picture_options": picture_options, "warnings": warnings, "spec_choice": spec_choice,
             **({"read_from_picture": read_from_picture} if read_from_picture is not None else {}),
             **({"deviation_vs_input": deviation} if deviation is not None else {}),
             **({"blockwise": blockwise} if blockwise is not None else {}), "fidelity_vs_input": inverted.fidelity}
    record = inversion_record(
        input=input, output=output, sha256={"input": input["sha256"], "output": output_sha256}, spec=spec,
        prepared=inverted.prepared, inverter=inverter, backend=request.backend, claims=claims,
        pixels=pixels, extra=extra,
        timings={"inversion": inverted.seconds, "total": time.perf_counter() - started} if request.timings else None)
    outputs.write_text(record_path(request.output), to_json(record))
    return record


def sonify_picture(image: str, output: str, curve: str = "hilbert", sample_rate: int = 44100,
                   value_map: str = "bipolar", max_pixels: int = DEFAULT_MAX_PIXELS,
                   timings: bool = False) -> dict[str, Any]:
    """Picture → audio along a space-filling curve (exactly invertible), with a
    record; a rerun writes the same bytes (wall-clock seconds only with ``timings``)."""
    from vocoder.frontend.sonify import padded_side, sonify

    if curve != "hilbert":
        raise VocoderError(f"--curve must be hilbert (got {curve!r})")
    if value_map not in ("bipolar", "unipolar"):
        raise VocoderError(f"--value-map must be bipolar or unipolar (got {value_map!r})")
    if not 1000 <= sample_rate <= 384000:
        raise VocoderError(f"--sr {sample_rate} is not a plausible audio sample rate (1000..384000)")
    audio_format = output_format(output, SONIFY_FORMATS, "sonify")
    started = time.perf_counter()
    with AtomicOutputs() as outputs:
        outputs.reserve(output)
        json_target = record_path(output)
        outputs.reserve(json_target)
        header = probe(image, max_pixels)
        plan = costs.sonify(header, 3 if header.bands.startswith("RGB") else 1,
                            padded_side(header.height, header.width))
        picture = read_picture(image, max_pixels, estimate=plan)
        colour = picture.bands.startswith("RGB")
        planes = np.moveaxis(picture.pixels[..., :3] if colour else picture.pixels[..., :1], 2, 0)
        result = sonify(planes, value_map)  # type: ignore[arg-type]
        audio = encode_audio(result.samples, sample_rate, audio_format)
        outputs.write_bytes(output, audio)
        lost = lost_signal(printable(output), float(np.abs(decode_audio(audio)).max(initial=0.0)),
                           float(np.abs(result.samples).max(initial=0.0)), audio_format)
        record = job_record("sonify", {
            "input": {"path": os.path.abspath(image), "sha256": sha256_file(image), "format": picture.format,
                      "mode": picture.source_mode, "width": picture.width, "height": picture.height,
                      "bit_depth": picture.bit_depth,
                      "notes": picture.notes + (["alpha channel dropped"] if picture.bands.endswith("A") else [])},
            "output": {"path": os.path.abspath(output), "sha256": hashlib.sha256(audio).hexdigest(),
                       "format": "WAV, 32-bit float", "sample_rate": sample_rate,
                       "channels": int(result.samples.shape[0]), "samples": int(result.samples.shape[1])},
            "sonification": {"curve": "hilbert", "side": result.side, "padded": [result.side, result.side] !=
                             [picture.height, picture.width], "original_size": [picture.height, picture.width],
                             "value_map": value_map, "planes": ["R", "G", "B"] if colour else ["grey"],
                             "bit_depth": picture.bit_depth,
                             "rule": "sample = 2·brightness − 1" if value_map == "bipolar" else "sample = brightness",
                             "padding": "zeros (black) to the next power-of-two square"},
            "warnings": [lost] if lost else [],
        }, timings={"total": time.perf_counter() - started} if timings else None)
        outputs.write_text(json_target, to_json(record))
    return record


def sonify_claims(sidecar: str) -> dict[str, Any]:
    """The ``sonification`` section of the sonify record beside the audio, or
    {} when there is none: a file anyone can write, so read as untrusted JSON
    and every field desonify uses checked (``original_size``, ``value_map``,
    ``bit_depth``; each refused in one line when wrong, never guessed around)."""
    from vocoder.frontend.sonify import MAX_SIDE

    if not os.path.lexists(sidecar):
        return {}
    where = f"the sonify record {printable(sidecar)}"
    # Unreadable, a folder or a FIFO: refused in the one line each read failure gets, never taken as absent.
    with open_input(existing_input(sidecar, "the sonify record")) as fh:
        text = fh.read(MAX_JSON_BYTES + 1)
    data = load_json(text, where)
    claimed = data.get("sonification") if isinstance(data, dict) else None
    if claimed is None:
        return {}
    if not isinstance(claimed, dict):
        raise VocoderError(f"{where}: 'sonification' must be a JSON object (got {shown(claimed)})")
    size = claimed.get("original_size")
    if size is not None and not (isinstance(size, list) and len(size) == 2
                                 and all(is_whole(v) and 1 <= v <= MAX_SIDE for v in size)):
        raise VocoderError(f"{where}: original_size must be [height, width], whole numbers in 1..{MAX_SIDE} "
                           f"(got {shown(size)}); give the size with --size WxH")
    if claimed.get("value_map") not in (None, "bipolar", "unipolar"):
        raise VocoderError(f"{where}: value_map must be bipolar or unipolar (got {shown(claimed['value_map'])}); "
                           "give it with --value-map")
    if claimed.get("bit_depth") is not None and not (is_whole(claimed["bit_depth"]) and claimed["bit_depth"] in (8, 16)):
        raise VocoderError(f"{where}: bit_depth must be 8 or 16 (got {shown(claimed['bit_depth'])}); give it with "
                           "--bits")
    return claimed


def desonify_audio(audio_path: str, output: str, size: tuple[int, int] | None = None, value_map: str | None = None,
                   bits: int | None = None) -> dict[str, Any]:
    """Audio from `sonify` → the picture, sample by sample back along the curve.

    The original size, value map and bit depth come from the options, else
    from the sonify record beside the audio (a claim, checked and recorded as
    such), else the whole square, bipolar, 16-bit. Sizes are checked against
    the audio's header and the memory estimate before a sample is read.
    """
    from vocoder.frontend.sonify import curve_side, desonify

    check_picture_output(output, "desonify")
    sidecar = record_path(audio_path)
    claimed = sonify_claims(sidecar)
    header = audio_info(audio_path)
    if size is not None:
        width, height = size
        size_from = "--size"
    elif claimed.get("original_size") is not None:
        height, width = claimed["original_size"]
        size_from = f"the sonify record {os.path.basename(sidecar)} (a claim)"
    else:
        height = width = curve_side(header.frames)
        size_from = "the whole square"
    curve_side(header.frames, height, width)
    value_map = value_map or claimed.get("value_map") or "bipolar"
    bits = bits or claimed.get("bit_depth") or 16
    with AtomicOutputs() as outputs:
        png_tmp = outputs.reserve(output)
        json_target = record_path(output)
        outputs.reserve(json_target)
        samples, _ = read_samples(audio_path, "float64", costs.desonify(header.channels, header.frames, height, width))
        values = desonify(samples.T, height, width, value_map)  # type: ignore[arg-type]
        top = 2**bits - 1
        ints = np.rint(values * top).astype(np.uint16 if bits == 16 else np.uint8)
        array = ints[0] if ints.shape[0] == 1 else np.moveaxis(ints[:3], 0, 2)
        if array.ndim == 3 and array.shape[2] != 3:
            raise VocoderError(f"{audio_path} has {ints.shape[0]} channels; a picture takes 1 (grey) or 3 (RGB)")
        with open(png_tmp, "wb") as fh:
            fh.write(encode_png(array))
        record = job_record("desonify", {
            "input": {"path": os.path.abspath(audio_path), "sha256": sha256_file(audio_path),
                      "sample_rate": header.sample_rate, "channels": int(samples.shape[1]),
                      "samples": int(samples.shape[0]), "claimed": claimed or None},
            "output": {"path": os.path.abspath(output), "sha256": sha256_file(png_tmp), "format": f"PNG, {bits}-bit",
                       "width": width, "height": height},
            "desonification": {"curve": "hilbert", "size_from": size_from, "value_map": value_map},
        })
        outputs.write_text(json_target, to_json(record))
    return record


def make_pattern(kind: str, output: str, preset: str = "linear", overrides: SpecOverrides | None = None,
                 seconds: float = 5.0, text: str = "vocoder", bits: int = 16) -> dict[str, Any]:
    """A test-pattern spectrogram PNG (spec embedded) and, for audio patterns,
    its truth WAV beside it (OUT.png.truth.wav), with a record."""
    from vocoder.frontend import patterns

    if kind not in patterns.KINDS:
        raise VocoderError(f"unknown pattern {kind!r}; choose one of {', '.join(patterns.KINDS)}")
    if not (0.1 <= seconds <= 600):
        raise VocoderError(f"--duration {seconds:g} s: patterns are 0.1 to 600 s long")
    check_picture_output(output, "pattern")
    spec = effective_spec(preset, overrides)
    costs.pattern(spec, int(round(seconds * spec.sample_rate))).check()
    truth_path = output + ".truth.wav"
    with AtomicOutputs() as outputs:
        png_tmp = outputs.reserve(output)
        truth_tmp = outputs.reserve(truth_path) if kind != "text" else None
        json_target = record_path(output)
        outputs.reserve(json_target)
        if kind == "text":
            n_samples = int(round(seconds * spec.sample_rate))
            magnitude = patterns.draw_text(text, spec, spec.n_frames(n_samples))
            spectrogram = Spectrogram(magnitude=magnitude, spec=spec, n_samples=n_samples,
                                      provenance=({"step": "pattern", "kind": "text", "text": text,
                                                   "truth": "the drawn magnitude itself (no waveform)"},))
            source = {"pattern": "text", "text": text}
        else:
            wave = torch.from_numpy(patterns.synthesise(kind, spec, seconds)).float()
            outputs.write_bytes(truth_path, encode_audio(wave, spec.sample_rate, output_format(truth_path)))
            wave = read_audio(truth_tmp).samples  # the picture is the spectrogram of exactly what the WAV holds
            spectrogram = audio_to_spectrogram(Audio(wave, spec.sample_rate, [{"step": "pattern", "kind": kind}]),
                                               spec)
            source = {"pattern": kind, "truth_wav": os.path.basename(truth_path), "sha256": sha256_file(truth_tmp)}
        data, metadata = spectrogram_to_png(spectrogram, bits=bits, source=source)
        with open(png_tmp, "wb") as fh:
            fh.write(data)
        record = job_record("pattern", {
            "pattern": kind, "output": {"path": os.path.abspath(output), "sha256": sha256_file(png_tmp)},
            "truth": None if truth_tmp is None else {"path": os.path.abspath(truth_path),
                                                      "sha256": sha256_file(truth_tmp)},
            "spec": spec.to_dict(), "seconds": seconds})
        outputs.write_text(json_target, to_json(record))
    return record

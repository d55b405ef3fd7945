"""The jobs behind the CLI: encode audio to a PNG, invert a picture to audio.

Each job writes its outputs all-or-nothing and returns the provenance record
it wrote, so a notebook gets the same traceability as the command line.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import torch

from vocoder.errors import VocoderError
from vocoder.evaluation.fidelity import against_input
from vocoder import budget
from vocoder.frontend.audio import audio_info, audio_to_spectrogram, read_audio, write_audio
from vocoder.frontend.image import (PictureOptions, embedded, image_to_spectrogram, plain_geometry,
                                    spectrogram_to_png)
from vocoder.frontend.picture import (DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, PictureHeader, probe, read_metadata,
                                     read_picture)
from vocoder.inversion import create
from vocoder.inversion.base import Inverter
from vocoder.plots import plot_spectrogram
from vocoder.provenance import AtomicOutputs, environment, sha256_file, to_json
from vocoder.spec import SpectrogramSpec, get_preset

# Peak level for audio from a picture with no absolute level (-1 dBFS).
PICTURE_PEAK = 10 ** (-1 / 20)
# Largest peak written unscaled to 16-bit PCM; louder output is scaled down.
CLIP_PEAK = 0.999


def preview_path(output: str | os.PathLike) -> str:
    """Where --preview writes: OUT.wav → OUT.wav.preview.png (never another output's)."""
    return os.fspath(output) + ".preview.png"


def record_path(output: str | os.PathLike) -> str:
    """The provenance record beside an output: OUT.wav → OUT.wav.json."""
    return os.fspath(output) + ".json"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def encode(audio_path: str, output: str, preset: str = "linear", bits: int = 16,
           dynamic_range_db: float = 100.0, preview: bool = False) -> dict[str, Any]:
    """Audio file → spectrogram PNG with the spec and mapping embedded."""
    spec = get_preset(preset)
    with AtomicOutputs() as outputs:
        png_tmp = outputs.reserve(output)
        preview_tmp = outputs.reserve(preview_path(output)) if preview else None
        header = audio_info(audio_path)
        budget.encode(header.channels, header.frames, header.sample_rate, spec, preview).check()
        audio = read_audio(audio_path)
        spectrogram = audio_to_spectrogram(audio, spec)
        source = {"path": os.path.basename(audio_path), "sha256": audio.provenance[0]["sha256"],
                  "sample_rate": audio.sample_rate, "channels": int(audio.samples.shape[0]),
                  "samples": int(audio.samples.shape[1])}
        data, metadata = spectrogram_to_png(spectrogram, bits=bits, dynamic_range_db=dynamic_range_db,
                                            source=source)
        with open(png_tmp, "wb") as fh:
            fh.write(data)
        if preview_tmp:
            plot_spectrogram(spectrogram, preview_tmp, f"{os.path.basename(audio_path)} ({preset})")
    return metadata


@dataclass
class InvertRequest:
    """Everything `vocoder invert` was asked, so the record can say it back."""

    image: str
    output: str
    backend: str = "fgla"
    backend_options: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None  # for pictures without metadata; default "linear"
    picture: PictureOptions = field(default_factory=PictureOptions)
    picture_options_given: list[str] = field(default_factory=list)  # CLI flags the user set
    ignore_metadata: bool = False
    preview: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_side: int = DEFAULT_MAX_SIDE
    frame: int | None = None  # which frame of a multi-frame picture


def _level(waveform: torch.Tensor, absolute: bool) -> tuple[torch.Tensor, dict[str, Any]]:
    """Set the output level, and say what was done.

    With an absolute level (our own PNGs) only clipping is prevented; a
    picture has no level, so it is peak-normalised to -1 dBFS.
    """
    if not torch.isfinite(waveform).all():
        raise VocoderError("the inversion produced non-finite samples; this is a bug, please report it")
    peak = float(waveform.abs().max()) if waveform.numel() else 0.0
    if peak == 0.0:
        return waveform, {"rule": "silent output left as is", "gain_db": 0.0, "peak_before": 0.0}
    if absolute:
        target = min(peak, CLIP_PEAK)
        rule = "absolute level kept; scaled down only if it would clip 16-bit PCM"
    else:
        target = PICTURE_PEAK
        rule = "picture has no absolute level: peak-normalised to -1 dBFS"
    gain = target / peak
    return waveform * gain, {"rule": rule, "gain_db": float(20 * np.log10(gain)), "peak_before": peak}


def plan_budget(request: InvertRequest, header: PictureHeader, spec: SpectrogramSpec | None, inverter: Inverter,
                uses_metadata: bool) -> budget.Estimate:
    """What inverting this picture will cost, from its header and the options."""
    if uses_metadata:
        found = embedded(header.metadata or {}, request.image, header.width, header.height, header.bands,
                         header.bit_depth)
        spec, channels, frames = found.spec, found.channels, header.width
        samples = found.n_samples if found.n_samples is not None else spec.n_samples(frames)
        blur = 0.0
    else:
        spec = spec or get_preset("linear")
        request.picture.validate()
        frames, n = plain_geometry(header.width, header.height, spec, request.picture, request.image)
        samples = n if n is not None else spec.n_samples(frames)
        channels, blur = (2 if request.picture.channel == "stereo" else 1), request.picture.blur_sigma
    return budget.invert(header, spec, channels, frames, samples, request.backend,
                         inverter.working_set(channels, spec, frames, samples),
                         converts_mel=inverter.fixed_spec() is None and spec.scale == "mel",
                         embedded=uses_metadata, blur_sigma=blur, preview=request.preview)


def invert(request: InvertRequest) -> dict[str, Any]:
    """Picture (ours or any) → waveform file + JSON record (+ preview PNG)."""
    started = time.perf_counter()
    inverter = create(request.backend, **request.backend_options)
    with AtomicOutputs() as outputs:
        wav_tmp = outputs.reserve(request.output)
        json_target = record_path(request.output)
        outputs.reserve(json_target)  # fail now, not after the work, if unwritable
        preview_tmp = outputs.reserve(preview_path(request.output)) if request.preview else None

        header = probe(request.image, request.max_pixels, request.frame, request.max_side)
        uses_metadata = header.metadata is not None and not request.ignore_metadata
        if uses_metadata:
            conflicting = request.picture_options_given + (["--preset"] if request.preset else [])
            if conflicting:
                raise VocoderError(
                    f"{request.image} carries its own spec; {', '.join(conflicting)} would contradict it "
                    "(add --ignore-metadata to read it as a plain picture)"
                )
        spec = get_preset(request.preset) if request.preset else None
        fixed = inverter.fixed_spec()
        if fixed is not None and not uses_metadata:
            if spec is not None and spec != fixed:
                raise VocoderError(f"backend {request.backend!r} needs its own spec; --preset {request.preset} "
                                   "differs from it (leave --preset out)")
            spec = fixed  # a plain picture is mapped onto the model's bins
        plan_budget(request, header, spec, inverter, uses_metadata).check()
        picture = read_picture(request.image, request.max_pixels, request.frame, request.max_side)
        spectrogram = image_to_spectrogram(picture, spec, request.picture, request.ignore_metadata, request.image)
        if preview_tmp:
            plot_spectrogram(spectrogram, preview_tmp, f"{os.path.basename(request.image)} as decoded")
        prepared = inverter.prepare(spectrogram)
        inversion_started = time.perf_counter()
        waveform = inverter.invert(prepared)
        inversion_seconds = time.perf_counter() - inversion_started
        # Measured before any gain: the energies are relative to the input's level.
        fidelity = against_input(spectrogram, waveform)
        waveform, level = _level(waveform, absolute=uses_metadata)
        sample_rate = prepared.spec.sample_rate
        write_audio(wav_tmp, waveform, sample_rate)

        record = {
            "vocoder_record": 1,
            "created": _now(),
            "input": {
                "path": os.path.abspath(request.image),
                "sha256": sha256_file(request.image),
                "kind": "vocoder spectrogram PNG (embedded metadata)" if uses_metadata else "picture without metadata",
                "embedded_metadata_ignored": picture.metadata is not None and request.ignore_metadata,
                "frame": {"index": picture.frame, "of": picture.n_frames, "chosen_by": "--frame"}
                if request.frame is not None else None,
            },
            "output": {
                "path": os.path.abspath(request.output),
                "sha256": sha256_file(wav_tmp),
                "format": "WAV, 16-bit PCM",
                "sample_rate": sample_rate,
                "channels": int(waveform.shape[0]),
                "samples": int(waveform.shape[1]),
                "level": level,
                "preview": os.path.abspath(preview_path(request.output)) if preview_tmp else None,
            },
            "spec": spectrogram.spec.to_dict(),
            "picture_options": None if uses_metadata else asdict(request.picture),
            "steps": list(prepared.provenance),
            "backend": {"name": request.backend, "parameters": inverter.parameters(),
                        "input_spec": prepared.spec.to_dict()},
            "seed": inverter.parameters().get("seed"),
            "fidelity_vs_input": fidelity,
            "environment": environment(),
            "wall_seconds": {"inversion": inversion_seconds, "total": time.perf_counter() - started},
        }
        outputs.write_text(json_target, to_json(record))
    return record


def info(image: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> dict[str, Any] | None:
    """The embedded metadata of an image, or None when it has none."""
    return read_metadata(image, max_pixels)


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2)

"""The jobs behind the CLI: encode audio to a PNG, invert a picture to audio.

Each job writes its outputs all-or-nothing (``vocoder.outputs``: never over
an input, never over an existing file unless the CLI's --force set the
policy) and returns the provenance record it wrote, so a notebook gets the
same traceability as the command line.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch

from vocoder.claims import LENGTH_CLAIM, check_image_claims, pixels_summary
from vocoder.errors import VocoderError
from vocoder.evaluation.fidelity import against_input
from vocoder.frontend.audio import audio_to_spectrogram, read_audio
from vocoder.frontend.audiofile import encode_audio, output_format
from vocoder.frontend.image import PictureOptions, image_to_spectrogram, picture_uses_metadata, spectrogram_to_png
from vocoder.frontend.picture import DEFAULT_MAX_PIXELS, read_metadata, read_picture
from vocoder.inversion import create
from vocoder.plots import plot_spectrogram
from vocoder.provenance import AtomicOutputs, printable, sha256_file, to_json
from vocoder.record import inversion_record
from vocoder.spec import get_preset

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


def encode(audio_path: str, output: str, preset: str = "linear", bits: int = 16,
           dynamic_range_db: float = 100.0, preview: bool = False) -> dict[str, Any]:
    """Audio file → spectrogram PNG with the spec and mapping embedded."""
    spec = get_preset(preset)
    if not os.fspath(output).lower().endswith(".png"):
        raise VocoderError(f"encode writes a PNG: give the output a .png name (got {printable(os.fspath(output))})")
    with AtomicOutputs(inputs=[audio_path]) as outputs:
        outputs.reserve(output)
        preview_tmp = outputs.reserve(preview_path(output)) if preview else None
        audio = read_audio(audio_path)
        spectrogram = audio_to_spectrogram(audio, spec)
        source = {"path": printable(os.path.basename(audio_path)), "sha256": audio.provenance[0]["sha256"],
                  "sample_rate": audio.sample_rate, "channels": int(audio.samples.shape[0]),
                  "samples": int(audio.samples.shape[1])}
        data, metadata = spectrogram_to_png(spectrogram, bits=bits, dynamic_range_db=dynamic_range_db,
                                            source=source)
        outputs.write_bytes(output, data)
        if preview_tmp:
            plot_spectrogram(spectrogram, preview_tmp, f"{printable(os.path.basename(audio_path))} ({preset})")
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
    timings: bool = False  # wall-clock seconds in the record (then reruns differ in those bytes)


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


def invert(request: InvertRequest) -> dict[str, Any]:
    """Picture (ours or any) → audio file + JSON record (+ preview PNG)."""
    started = time.perf_counter()
    inverter = create(request.backend, **request.backend_options)
    with AtomicOutputs(inputs=[request.image, request.backend_options.get("checkpoint")]) as outputs:
        _protect_claimed_source(outputs, request.image, request.max_pixels)
        outputs.reserve(request.output)
        audio_format = output_format(request.output)
        json_target = record_path(request.output)
        outputs.reserve(json_target)  # fail now, not after the work, if unwritable
        preview_tmp = outputs.reserve(preview_path(request.output)) if request.preview else None

        picture = read_picture(request.image, request.max_pixels)
        claims = check_image_claims(picture, printable(request.image))
        uses_metadata = picture_uses_metadata(picture, request.ignore_metadata)
        if uses_metadata:
            conflicting = request.picture_options_given + (["--preset"] if request.preset else [])
            if conflicting:
                raise VocoderError(
                    f"{printable(request.image)} carries its own spec; {', '.join(conflicting)} would contradict "
                    "it (add --ignore-metadata to read it as a plain picture)"
                )
        spec = get_preset(request.preset) if request.preset else None
        fixed = inverter.fixed_spec()
        if fixed is not None and not uses_metadata:
            if spec is not None and spec != fixed:
                raise VocoderError(f"backend {request.backend!r} needs its own spec; --preset {request.preset} "
                                   "differs from it (leave --preset out)")
            spec = fixed  # a plain picture is mapped onto the model's bins
        spectrogram = image_to_spectrogram(picture, spec, request.picture, request.ignore_metadata, request.image)
        if uses_metadata and not claims.agrees(LENGTH_CLAIM):
            spectrogram = replace(spectrogram, n_samples=None)  # the pixels decide the length, not the claim
        if preview_tmp:
            plot_spectrogram(spectrogram, preview_tmp, f"{printable(os.path.basename(request.image))} as decoded")
        prepared = inverter.prepare(spectrogram)
        inversion_started = time.perf_counter()
        waveform = inverter.invert(prepared)
        inversion_seconds = time.perf_counter() - inversion_started
        # Measured before any gain: the energies are relative to the input's level.
        fidelity = against_input(spectrogram, waveform)
        waveform, level = _level(waveform, absolute=uses_metadata)
        sample_rate = prepared.spec.sample_rate
        audio = encode_audio(waveform, sample_rate, audio_format)
        outputs.write_bytes(request.output, audio)

        input_sha256, output_sha256 = sha256_file(request.image), hashlib.sha256(audio).hexdigest()
        record = inversion_record(
            input={"path": os.path.abspath(request.image), "sha256": input_sha256,
                   "kind": "vocoder spectrogram PNG (embedded metadata)" if uses_metadata
                   else "picture without metadata",
                   "embedded_metadata_ignored": picture.metadata is not None and request.ignore_metadata},
            output={"path": os.path.abspath(request.output), "sha256": output_sha256,
                    "format": audio_format.description, "sample_rate": sample_rate,
                    "channels": int(waveform.shape[0]), "samples": int(waveform.shape[1]), "level": level,
                    "preview": os.path.abspath(preview_path(request.output)) if preview_tmp else None},
            sha256={"input": input_sha256, "output": output_sha256},
            spec=spectrogram.spec, prepared=prepared, inverter=inverter, backend=request.backend,
            claims=claims, pixels=pixels_summary(picture),
            extra={"picture_options": None if uses_metadata else asdict(request.picture),
                   "fidelity_vs_input": fidelity},
            timings={"inversion": inversion_seconds, "total": time.perf_counter() - started}
            if request.timings else None,
        )
        outputs.write_text(json_target, to_json(record))
    return record


def info(image: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> dict[str, Any] | None:
    """The embedded metadata of an image, or None when it has none."""
    return read_metadata(image, max_pixels)


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2)

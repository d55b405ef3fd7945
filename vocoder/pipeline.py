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
from vocoder.frontend.audio import audio_to_spectrogram, read_audio, write_audio
from vocoder.frontend.image import PictureOptions, image_to_spectrogram, picture_uses_metadata, spectrogram_to_png
from vocoder.frontend.picture import DEFAULT_MAX_PIXELS, read_metadata, read_picture
from vocoder.inversion import create
from vocoder.plots import plot_spectrogram
from vocoder.provenance import AtomicOutputs, environment, sha256_file, to_json
from vocoder.spec_overrides import SpecOverrides, effective_spec, spec_choice

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
           dynamic_range_db: float = 100.0, preview: bool = False,
           overrides: SpecOverrides | None = None) -> dict[str, Any]:
    """Audio file → spectrogram PNG with the spec (preset + overrides) and mapping embedded."""
    spec = effective_spec(preset, overrides)
    with AtomicOutputs() as outputs:
        png_tmp = outputs.reserve(output)
        preview_tmp = outputs.reserve(preview_path(output)) if preview else None
        audio = read_audio(audio_path)
        if overrides:
            audio.provenance.append({"step": "spec_overrides", **spec_choice(preset, overrides)})
        spectrogram = audio_to_spectrogram(audio, spec)
        source = {"path": os.path.basename(audio_path), "sha256": audio.provenance[0]["sha256"],
                  "sample_rate": audio.sample_rate, "channels": int(audio.samples.shape[0]),
                  "samples": int(audio.samples.shape[1])}
        data, metadata = spectrogram_to_png(spectrogram, bits=bits, dynamic_range_db=dynamic_range_db,
                                            source=source)
        with open(png_tmp, "wb") as fh:
            fh.write(data)
        if preview_tmp:
            plot_spectrogram(spectrogram, preview_tmp, f"{os.path.basename(audio_path)} ({preset}"
                             + (f" with {overrides.describe()})" if overrides else ")"))
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


def invert(request: InvertRequest) -> dict[str, Any]:
    """Picture (ours or any) → waveform file + JSON record (+ preview PNG)."""
    started = time.perf_counter()
    inverter = create(request.backend, **request.backend_options)
    with AtomicOutputs() as outputs:
        wav_tmp = outputs.reserve(request.output)
        json_target = record_path(request.output)
        outputs.reserve(json_target)  # fail now, not after the work, if unwritable
        preview_tmp = outputs.reserve(preview_path(request.output)) if request.preview else None

        picture = read_picture(request.image, request.max_pixels)
        uses_metadata = picture_uses_metadata(picture, request.ignore_metadata)
        if uses_metadata:
            conflicting = (request.picture_options_given + (["--preset"] if request.preset else [])
                           + list(request.spec_overrides.given()))
            if conflicting:
                raise VocoderError(
                    f"{request.image} carries its own spec; {', '.join(conflicting)} would contradict it "
                    "(add --ignore-metadata to read it as a plain picture)"
                )
        asked = request.preset or request.spec_overrides
        spec = effective_spec(request.preset, request.spec_overrides) if asked else None
        choice: Any = spec_choice(request.preset, request.spec_overrides)
        fixed = inverter.fixed_spec()
        if fixed is not None and not uses_metadata:
            if spec is not None and spec != fixed:
                given = " ".join(filter(None, [f"--preset {request.preset}" if request.preset else "",
                                               request.spec_overrides.describe()]))
                raise VocoderError(f"backend {request.backend!r} needs its own spec; {given} differs from it in "
                                   + "; ".join(fixed.differences(spec)) + " (model vs asked; leave them out)")
            spec = fixed  # a plain picture is mapped onto the model's bins
            choice = f"the spec backend {request.backend!r} was trained on"
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
            "spec_choice": "embedded in the input" if uses_metadata else choice,
            "steps": list(prepared.provenance),
            "backend": {"name": request.backend, "parameters": inverter.parameters(),
                        "input_spec": prepared.spec.to_dict()},
            # None for classical backends; for a learned one: which model, from what data, and the warning.
            "learned_model": inverter.learned_model(),
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

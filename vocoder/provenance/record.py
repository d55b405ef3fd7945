"""The provenance record beside (or inside) every file vocoder writes, built
in one place: :func:`inversion_record` for `invert` and `bench` (with the
sections :func:`picture_input` and :func:`audio_output`), :func:`job_record`
for `sonify`, `desonify` and `pattern`, :func:`audio_source` for the
recording an encoded PNG names (the rest of a PNG's metadata is its format,
``frontend.image.png_metadata``, below this module), :func:`model_record`
for the provenance `export` and `import` write into a model file. Each
carries ``vocoder_record``: RECORD_VERSION (``vocoder.provenance.format``).

Everything in a record was computed by this run, except ``claimed``: what
the input said about itself (a spectrogram PNG's embedded metadata), kept
verbatim and apart, with the checks this run could make of it under
``verified.claim_checks`` and every contradiction in ``claim_mismatches``.

The record depends only on the inputs, the options and the environment: no
time of day, and wall-clock seconds only when asked (``timings``), so a
rerun writes the same bytes.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from vocoder.provenance.claims import ClaimReport
from vocoder.provenance.environment import environment
from vocoder.provenance.format import RECORD_VERSION, VERSION_KEY
from vocoder.safety.text import printable
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram



def picture_input(path: str, sha256: str, kind: str, metadata_ignored: bool,
                  frame: dict[str, Any] | None) -> dict[str, Any]:
    """The ``input`` section of an inverted picture."""
    return {"path": os.path.abspath(path), "sha256": sha256, "kind": kind, "embedded_metadata_ignored": metadata_ignored,
            "frame": frame}


def audio_output(path: str, sha256: str, format: str, sample_rate: int, channels: int, samples: int,
                 **more: Any) -> dict[str, Any]:
    """The ``output`` section of a written waveform (``more``: the command's own fields, e.g. level, preview)."""
    return {"path": path, "sha256": sha256, "format": format, "sample_rate": sample_rate, "channels": channels,
            "samples": samples, **more}


def audio_source(path: str, sha256: str, sample_rate: int, channels: int, samples: int) -> dict[str, Any]:
    """The recording an encoded PNG was made from (its ``source``), whole or block-wise encoding alike."""
    return {"path": printable(os.path.basename(path)), "sha256": sha256, "sample_rate": sample_rate,
            "channels": channels, "samples": samples}


class Inversion(Protocol):
    """What a record asks of the backend that made its output (an ``Inverter``:
    named here by what it must answer, so that provenance sits below inversion)."""

    def parameters(self) -> dict[str, Any]: ...

    def learned_model(self) -> dict[str, Any] | None: ...


def this_run_steps(prepared: Spectrogram, claims: ClaimReport | None) -> list[dict]:
    """The spectrogram's provenance without the steps the input claims were
    made before it (its embedded ``provenance``, kept under ``claimed``)."""
    steps = list(prepared.provenance)
    embedded = (claims.claimed or {}).get("metadata", {}).get("provenance") if claims else None
    n = len(embedded) if isinstance(embedded, list) else 0
    if n and steps[:n] == list(embedded):
        return steps[n:]
    return steps


def inversion_record(*, input: dict[str, Any], output: dict[str, Any], sha256: dict[str, str],
                     spec: SpectrogramSpec, prepared: Spectrogram, inverter: Inversion, backend: str,
                     claims: ClaimReport | None = None, pixels: dict[str, Any] | None = None,
                     extra: dict[str, Any] | None = None, timings: dict[str, float] | None = None) -> dict[str, Any]:
    """The record for one inverted waveform.

    ``sha256`` holds the hashes this run computed (``input``, ``output`` and
    any other file it read or wrote); ``extra`` adds command-specific
    sections (picture options, fidelity, metrics).
    """
    verified: dict[str, Any] = {"sha256": sha256}
    if pixels is not None:
        verified["pixels"] = pixels
    verified["claim_checks"] = claims.checks if claims else []
    parameters = inverter.parameters()
    record: dict[str, Any] = {
        VERSION_KEY: RECORD_VERSION,
        "input": input,
        "output": output,
        "claimed": claims.claimed if claims else None,
        "verified": verified,
        "claim_mismatches": claims.mismatches if claims else [],
        "spec": spec.to_dict(),
        "steps": this_run_steps(prepared, claims),
        "backend": {"name": backend, "parameters": parameters, "input_spec": prepared.spec.to_dict()},
        "learned_model": inverter.learned_model(),
        "seed": parameters.get("seed"),
        **(extra or {}),
        "environment": environment(),
    }
    if timings is not None:
        record["wall_seconds"] = timings
    return record


def job_record(job: str, sections: dict[str, Any], timings: dict[str, float] | None = None) -> dict[str, Any]:
    """The record of a job that inverts nothing: its ``sections`` (input,
    output, the job's own parameters) between the version and the environment."""
    record: dict[str, Any] = {VERSION_KEY: RECORD_VERSION, "job": job, **sections, "environment": environment()}
    if timings is not None:
        record["wall_seconds"] = timings
    return record


def model_record(fields: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """The provenance `export` and `import` write into a model file's metadata
    (``models.store.save`` adds architecture, config and spec): ``fields``
    (name, training data, licence, trained_batches, init_from: what the caller
    knows), the ``source`` file it came from, and the record version."""
    return {**fields, "source": source, VERSION_KEY: RECORD_VERSION}

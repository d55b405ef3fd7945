"""The provenance record beside every file vocoder writes, built in one
place: :func:`inversion_record` for `invert` and `bench`, :func:`job_record`
for the other jobs (`sonify`, `desonify`, `pattern`).

Everything in a record was computed by this run, except ``claimed``: what
the input said about itself (a spectrogram PNG's embedded metadata), kept
verbatim and apart, with the checks this run could make of it under
``verified.claim_checks`` and every contradiction in ``claim_mismatches``.

The record depends only on the inputs, the options and the environment: no
time of day, and wall-clock seconds only when asked (``timings``), so a
rerun writes the same bytes.
"""

from __future__ import annotations

from typing import Any

from vocoder.claims import ClaimReport
from vocoder.inversion.base import Inverter
from vocoder.provenance import environment
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

RECORD_VERSION = 2


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
                     spec: SpectrogramSpec, prepared: Spectrogram, inverter: Inverter, backend: str,
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
        "vocoder_record": RECORD_VERSION,
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
    record: dict[str, Any] = {"vocoder_record": RECORD_VERSION, "job": job, **sections,
                              "environment": environment()}
    if timings is not None:
        record["wall_seconds"] = timings
    return record

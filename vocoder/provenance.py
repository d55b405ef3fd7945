"""Hashes and environment facts for provenance records, and JSON that always loads."""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import sys
from importlib import metadata
from typing import Any

from vocoder.lock import lock_status

# The version of every record vocoder writes (``vocoder.record``, and the
# metadata ``frontend.image.png_metadata`` embeds in a PNG), under VERSION_KEY.
# Defined here, below the front end, so the PNG's metadata carries the same number.
RECORD_VERSION = 2
VERSION_KEY = "vocoder_record"


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def environment() -> dict[str, Any]:
    """Versions that can change a result: Python, vocoder and its numeric stack,
    and the hashed lock with whether this environment is exactly it."""
    versions = {}
    for pkg in ("vocoder", "torch", "torchaudio", "numpy", "librosa", "soundfile", "pillow", "pypng"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    import torch

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
        "torch_threads": torch.get_num_threads(),
        "lock": lock_status(),
    }


def printable(text: str) -> str:
    """``text`` as valid UTF-8: a file name that is not (Python keeps its bad
    bytes as lone surrogates) shows them as U+FFFD instead of failing."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def json_safe(value: Any) -> Any:
    """Replace non-finite floats by the strings "inf", "-inf", "nan": strict
    JSON has no such numbers, and a record must load anywhere. Strings become
    valid UTF-8 (see ``printable``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(k) if isinstance(k, str) else k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def to_json(record: dict[str, Any]) -> str:
    return json.dumps(json_safe(record), indent=2, sort_keys=False, default=str, allow_nan=False) + "\n"

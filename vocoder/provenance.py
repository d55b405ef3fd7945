"""Hashes, environment facts and all-or-nothing output files."""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from vocoder.errors import VocoderError


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def environment() -> dict[str, Any]:
    """Versions that can change a result: Python, vocoder and its numeric stack."""
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
    }


def json_safe(value: Any) -> Any:
    """Replace non-finite floats by the strings "inf", "-inf", "nan": strict
    JSON has no such numbers, and a record must load anywhere."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def to_json(record: dict[str, Any]) -> str:
    return json.dumps(json_safe(record), indent=2, sort_keys=False, default=str, allow_nan=False) + "\n"


def umask() -> int:
    """The process's current umask (read without changing it for long)."""
    current = os.umask(0)
    os.umask(current)
    return current


class AtomicOutputs:
    """Collect output files in temporaries beside their targets; publish all
    of them with ``os.replace`` only when the whole job succeeded.

    Used as a context manager: on any exception every temporary is removed and
    no target is touched, so a failed run never leaves a half-written file.
    """

    def __init__(self) -> None:
        self._pending: dict[str, str] = {}  # target → temporary

    def reserve(self, target: str | os.PathLike) -> str:
        """Create (and return the path of) a temporary beside ``target``;
        reserving the same target again returns the same temporary."""
        target = os.fspath(target)
        if target in self._pending:
            return self._pending[target]
        folder = os.path.dirname(os.path.abspath(target))
        if os.path.isdir(target):
            raise VocoderError(f"output path {target} is a directory")
        if not os.path.isdir(folder):
            raise VocoderError(f"output folder {folder} does not exist")
        suffix = "".join(Path(target).suffixes[-1:])
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{Path(target).name}.", suffix=f".part{suffix}", dir=folder)
        except OSError as exc:
            raise VocoderError(f"cannot write to {folder}: {exc.strerror or exc}") from None
        os.close(fd)
        self._pending[target] = tmp
        return tmp

    def write_text(self, target: str | os.PathLike, text: str) -> None:
        with open(self.reserve(target), "w", encoding="utf-8") as fh:
            fh.write(text)

    def write_with(self, target: str | os.PathLike, writer: Callable[[str], None]) -> None:
        writer(self.reserve(target))

    def commit(self) -> None:
        mode = 0o666 & ~umask()  # mkstemp makes 0600; outputs get the usual mode
        for target, tmp in self._pending.items():
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        self._pending.clear()

    def discard(self) -> None:
        for tmp in self._pending.values():
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        self._pending.clear()

    def __enter__(self) -> "AtomicOutputs":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()

"""The facts about this environment that can change a result, for every record."""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from typing import Any

from vocoder.provenance.lock import lock_status


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

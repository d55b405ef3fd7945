"""The hashed lock the project is installed from, and whether the running
environment is that lock.

An examiner must be able to say which software made an output and run the
same again later. ``vocoder/locks/linux-x86_64-cp311.txt`` pins every package
(with its sha256) for the one supported platform; it ships inside the
package, so a record can name it whichever way vocoder was installed. Every
record carries ``lock_status()``: the lock's sha256 and whether the installed
distributions are exactly the locked versions, with the differences by name.
"""

from __future__ import annotations

import functools
import hashlib
import platform
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

LOCK_FILE = Path(__file__).resolve().parent.parent / "locks" / "linux-x86_64-cp311.txt"
# What the lock was resolved for (scripts/lock.sh: --python-version 3.11,
# --python-platform x86_64-manylinux_2_28).
LOCK_PLATFORM = {"system": "Linux", "machine": "x86_64", "python": "3.11"}
# Installed but never locked: the installer itself and this project.
NOT_LOCKED = frozenset({"pip", "vocoder"})

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    """A distribution name as the packaging standards compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(text: str) -> dict[str, str]:
    """``name==version`` pins of a pip requirements lock (hash lines skipped)."""
    pins = {}
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def installed_versions() -> dict[str, str]:
    """Every distribution Python can import here, by canonical name."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        # Parsed once: each read of dist.metadata (dist.version too) parses the
        # whole METADATA file again, which made `vocoder info` slow.
        fields = dist.metadata
        name = fields["Name"] if fields else None
        if name:
            found.setdefault(canonical(name), fields["Version"])
    return found


def compare(locked: dict[str, str], installed: dict[str, str]) -> dict[str, Any]:
    """What differs between a lock and an environment: locked packages at
    another version, locked packages missing, and packages the lock does not
    name (listed, but they do not make a mismatch: the lock's own are all
    that it promises)."""
    differs = {name: {"locked": version, "installed": installed[name]}
               for name, version in sorted(locked.items())
               if name in installed and installed[name] != version}
    missing = sorted(name for name in locked if name not in installed)
    extra = sorted(name for name in installed if name not in locked and name not in NOT_LOCKED)
    return {"differs": differs, "missing": missing, "not_in_lock": extra}


def platform_mismatch() -> str | None:
    """Why this interpreter is not the one the lock was made for, or None."""
    here = {"system": platform.system(), "machine": platform.machine(),
            "python": "%d.%d" % sys.version_info[:2]}
    wrong = [f"{key} {here[key]} (locked for {value})" for key, value in LOCK_PLATFORM.items()
             if here[key] != value]
    return ", ".join(wrong) or None


def differences_line(status: dict[str, Any], limit: int = 6) -> str:
    """The differences of a ``lock_status`` in one line, names first."""
    parts = [f"{name} {d['installed']} (locked {d['locked']})" for name, d in status["differs"].items()]
    parts += [f"{name} missing" for name in status["missing"]]
    if status.get("platform"):
        parts.insert(0, status["platform"])
    shown = parts[:limit]
    if len(parts) > limit:
        shown.append(f"and {len(parts) - limit} more")
    return "; ".join(shown)


@functools.lru_cache(maxsize=1)
def lock_status() -> dict[str, Any]:
    """The record's ``environment.lock``: the lock file's sha256, whether the
    running environment is exactly that lock, and if not, why."""
    try:
        data = LOCK_FILE.read_bytes()
    except OSError:
        return {"file": LOCK_FILE.name, "sha256": None, "matches": False,
                "why": "the lock file is not installed with this copy of vocoder"}
    status: dict[str, Any] = compare(read_lock(data.decode("utf-8", "replace")), installed_versions())
    status["platform"] = platform_mismatch()
    status["matches"] = not (status["differs"] or status["missing"] or status["platform"])
    return {"file": LOCK_FILE.name, "sha256": hashlib.sha256(data).hexdigest(), **status}


def summary_line(status: dict[str, Any]) -> str:
    """One line for `vocoder info`: which lock, and whether it holds here."""
    digest = status.get("sha256") or "?"
    head = f"lock {status.get('file')} sha256 {str(digest)[:16]}…"
    if status.get("matches"):
        return f"{head}: the environment matches it exactly"
    why = status.get("why") or differences_line(status)
    return f"{head}: the environment does NOT match it ({why})"

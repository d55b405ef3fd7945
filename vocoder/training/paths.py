"""Where a relative data path in `vocoder fit|validate|test` points.

The rule: a relative ``data.data_dir``, ``data.file_list`` or
``data.val_files`` entry written in a config file is relative to that config
file's folder; one given on the command line is relative to the current
folder. So ``vocoder fit --config /abs/configs/hifigan_tiny.yaml`` reads the
same audio from any folder. Resolved paths are absolute, so the run's saved
config.yaml says exactly which files were used.

Precedence follows the command line's order, as jsonargparse applies it: a
later ``--config`` or ``--data.X`` replaces an earlier one.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import yaml

from vocoder.safety.outputs import open_input

DATA_PATH_KEYS = ("data_dir", "file_list", "val_files")


def _option(token: str, following: str | None) -> tuple[str, str | None, int] | None:
    """(name, value, tokens used) for ``--name value`` or ``--name=value``."""
    if token == "-c":  # LightningCLI's short --config
        return "config", following, 2
    if not token.startswith("--"):
        return None
    if "=" in token:
        name, value = token[2:].split("=", 1)
        return name, value, 1
    return token[2:], following, 2


def _data_section(path: str) -> dict[str, Any]:
    """The ``data`` mapping of a YAML config (empty when it has none or cannot be read)."""
    try:
        with open_input(path, "r", encoding="utf-8") as fh:
            loaded = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}  # jsonargparse has already reported a config it could not read
    data = loaded.get("data") if isinstance(loaded, dict) else None
    return data if isinstance(data, dict) else {}


def data_path_bases(argv: Sequence[str]) -> dict[str, str]:
    """For each data path key, the folder its value is relative to: the
    folder of the config file that set it last, or the current folder."""
    cwd = os.getcwd()
    bases: dict[str, str] = {}
    i = 0
    while i < len(argv):
        parsed = _option(argv[i], argv[i + 1] if i + 1 < len(argv) else None)
        if parsed is None:
            i += 1
            continue
        name, value, used = parsed
        i += used
        if value is None:
            continue
        if name in ("config", "data"):  # --config FILE, or --data FILE holding the data section itself
            if not os.path.isfile(value):
                continue
            section = _data_section(value) if name == "config" else _whole(value)
            for key in DATA_PATH_KEYS:
                if key in section:
                    bases[key] = os.path.dirname(os.path.abspath(value))
        elif name.startswith("data.") and name[5:] in DATA_PATH_KEYS:
            bases[name[5:]] = cwd
    return bases


def _whole(path: str) -> dict[str, Any]:
    try:
        with open_input(path, "r", encoding="utf-8") as fh:
            loaded = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _absolute(value: Any, base: str) -> Any:
    if isinstance(value, str) and value:
        return os.path.normpath(os.path.join(base, os.path.expanduser(value)))
    return value


def resolve_data_paths(data: Any, argv: Sequence[str]) -> None:
    """Make ``data``'s relative paths absolute in place (a jsonargparse
    Namespace or a dict), by the rule in this module's docstring."""
    bases = data_path_bases(argv)
    cwd = os.getcwd()
    get = data.get if hasattr(data, "get") else (lambda k, d=None: getattr(data, k, d))
    for key in DATA_PATH_KEYS:
        value = get(key, None)
        if value is None:
            continue
        base = bases.get(key, cwd)
        resolved = [_absolute(v, base) for v in value] if isinstance(value, (list, tuple)) else _absolute(value, base)
        data[key] = resolved

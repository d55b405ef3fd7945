"""How a record is written: its version number, and JSON that always loads.

Below the front end (which embeds a record in every PNG it writes), so every
record vocoder writes carries the same version.
"""

from __future__ import annotations

import json
import math
from typing import Any

from vocoder.safety.text import printable

# The version of every record vocoder writes (``vocoder.provenance.record``, and the
# metadata ``frontend.image.png_metadata`` embeds in a PNG), under VERSION_KEY.
# Defined here, below the front end, so the PNG's metadata carries the same number.
RECORD_VERSION = 2
VERSION_KEY = "vocoder_record"


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

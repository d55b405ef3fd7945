"""Helpers for data from files anyone can write (PNG metadata, checkpoint
metadata, file headers): JSON with a size and depth cap, values shortened
for one-line messages, and what a file really is, for a useful refusal."""

from __future__ import annotations

import json
import math
import os
from typing import Any

from vocoder.errors import VocoderError
from vocoder.safety.outputs import open_input
from vocoder.safety.text import brief

# Our own PNG metadata is a few kilobytes (a spec, a mapping, a few steps);
# a checkpoint's metadata less. A megabyte leaves room for long provenance.
MAX_JSON_BYTES = 1_000_000
# Our records nest 4-5 levels; 64 is generous and far from Python's recursion limit.
MAX_JSON_DEPTH = 64

# Leading bytes of formats a user may hand us by mistake (or under a wrong name).
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a BMP image"),
    (b"fLaC", "a FLAC audio file"),
    (b"OggS", "an Ogg audio file"),
    (b"ID3", "an MP3 audio file"),
    (b"PK\x03\x04", "a zip archive (a PyTorch checkpoint?)"),
    (b"%PDF", "a PDF document"),
)


def is_whole(value: Any) -> bool:
    """An int, not a bool (JSON's true would otherwise pass as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool, not NaN or infinite)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def sniff(path: str | os.PathLike) -> str | None:
    """What the file's first bytes say it is ('a WAV audio file', …), or None
    (also for a FIFO or device, which is not opened: a read could block for ever)."""
    try:
        with open_input(path) as fh:  # refuses a FIFO or device unopened
            head = fh.read(16)
    except (OSError, VocoderError):
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "a WAV audio file"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[4:8] == b"ftyp":
        return "an MP4/M4A file"
    for magic, name in _SIGNATURES:
        if head.startswith(magic):
            return name
    if head[:1] in (b"{", b"["):
        return "a JSON text"
    return None


def depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def load_json(text: str | bytes, what: str, max_bytes: int = MAX_JSON_BYTES,
              max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON from an untrusted source, refusing huge, deep or invalid text."""
    if not isinstance(text, (str, bytes)):
        raise VocoderError(f"{what} is not text")
    if len(text) > max_bytes:
        raise VocoderError(f"{what} is {len(text):,} bytes of JSON, over the limit of {max_bytes:,}")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise VocoderError(f"{what} nests JSON deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise VocoderError(f"{what} is not valid JSON ({brief(exc, 80)})") from None
    if depth(data) > max_depth:
        raise VocoderError(f"{what} nests JSON deeper than {max_depth} levels")
    return data


def _no_constant(name: str) -> float:
    # json accepts NaN and Infinity by default; no field of ours may hold them.
    raise ValueError(f"{name} is not a JSON number")

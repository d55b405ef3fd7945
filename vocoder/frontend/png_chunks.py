"""A PNG's text chunks, every one of them, read by walking the file's chunks
ourselves.

An image library's header pass shows only the text before the image data
and drops what it cannot decode without a word; a spectrogram's metadata
decides how every pixel is read, so a `vocoder` chunk anywhere in the file
(tEXt, zTXt or iTXt, before or after IDAT) counts, one that cannot be
decoded is refused, and two that differ are refused rather than one chosen.
Sizes are bounded: image data is skipped, not read, and compressed text is
inflated no further than the longest metadata we accept.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO, Iterator

from vocoder.errors import VocoderError
from vocoder.safety.text import shown
from vocoder.safety.untrusted import MAX_JSON_BYTES

SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_KINDS = (b"tEXt", b"zTXt", b"iTXt")
MAX_KEYWORD = 79  # PNG spec §11.3.4.2: keywords are 1-79 Latin-1 bytes
# A metadata value longer than load_json accepts is refused there anyway; reading or
# inflating more than this (plus the chunk's own header) is never needed.
MAX_TEXT_BYTES = MAX_JSON_BYTES
_HEAD = MAX_KEYWORD + 1


def png_text(path: str, keyword: str) -> str | None:
    """The value of the text chunks named ``keyword`` in a PNG, or None.

    Identical repeats are one value; differing ones, an undecodable one
    (bad UTF-8, a broken zlib stream, a failed checksum) or one over the
    size limit are refused in one line naming the file.
    """
    values = []
    with open(path, "rb") as fh:
        if fh.read(8) != SIGNATURE:
            raise VocoderError(f"{path} is not a PNG")
        for kind, payload in _text_chunks(fh, path, keyword.encode("latin-1")):
            values.append(_decode(kind, payload, path, keyword))
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        raise VocoderError(f"{path} holds {len(values)} '{keyword}' text chunks that differ: refusing to choose "
                           "one (the file was edited or forged; re-encode it)")
    return distinct[0] if distinct else None


# `info` names at most this many other text chunks; a file with more says how many.
MAX_NAMED = 16


def other_text_keywords(path: str, keyword: str) -> tuple[list[str], int]:
    """The keywords of a PNG's text chunks not named ``keyword``, as
    ``KEYWORD (tEXt)``, in file order, each once (at most MAX_NAMED), and how
    many further chunks there are past those: what vocoder saw and did not use.
    Their text is not read; a damaged chunk here is skipped, since nothing
    depends on it."""
    named: dict[str, None] = {}
    further = 0
    with open(path, "rb") as fh:
        if fh.read(8) != SIGNATURE:
            return [], 0
        for kind, _, start in _text_chunk_starts(fh):
            name = start.split(b"\0", 1)[0]
            label = f"{name.decode('latin-1')} ({kind.decode()})"
            if name != keyword.encode("latin-1") and label not in named:
                if len(named) < MAX_NAMED:
                    named[label] = None
                else:
                    further += 1
    return list(named), further


def chunk_heads(fh: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """(type, length) of every chunk of a PNG open just after its signature,
    up to IEND or the end of the file, the file standing at the chunk's data;
    a chunk the caller leaves unread (the position unchanged) is skipped with
    its CRC, so no chunk is read that nobody asked for."""
    while True:
        head = fh.read(8)
        if len(head) < 8:
            return
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IEND":
            return
        at = fh.tell()
        yield kind, length
        if fh.tell() == at:
            fh.seek(length + 4, 1)


def _text_chunk_starts(fh: BinaryIO) -> Iterator[tuple[bytes, int, bytes]]:
    """(kind, length, the first bytes) of every text chunk, the file standing
    just after those bytes; one the caller reads no further is skipped."""
    for kind, length in chunk_heads(fh):
        if kind not in TEXT_KINDS:
            continue
        start = fh.read(min(length, _HEAD))
        after = fh.tell()
        yield kind, length, start
        if fh.tell() == after:
            fh.seek(length - len(start) + 4, 1)


def _text_chunks(fh: BinaryIO, path: str, keyword: bytes):
    """(kind, payload) of every text chunk named ``keyword``, CRC checked,
    up to IEND or the end of the file."""
    for kind, length, start in _text_chunk_starts(fh):
        if start.split(b"\0", 1)[0] != keyword or b"\0" not in start:
            continue
        if length > MAX_TEXT_BYTES + 2 * _HEAD:
            raise VocoderError(f"{path}'s '{keyword.decode('latin-1')}' {kind.decode()} chunk is {length:,} bytes, "
                               f"over the limit of {MAX_TEXT_BYTES:,}")
        payload = start + fh.read(length - len(start))
        crc = fh.read(4)
        if len(payload) < length or len(crc) < 4:
            raise VocoderError(f"{path}'s '{keyword.decode('latin-1')}' {kind.decode()} chunk is cut short "
                               "(truncated file)")
        if struct.unpack(">I", crc)[0] != zlib.crc32(kind + payload):
            raise VocoderError(f"{path}'s '{keyword.decode('latin-1')}' {kind.decode()} chunk fails its checksum "
                               "(corrupt)")
        yield kind, payload


def _decode(kind: bytes, payload: bytes, path: str, keyword: str) -> str:
    """A text chunk's value (PNG spec §11.3.4): tEXt and zTXt are Latin-1,
    iTXt UTF-8; zTXt and a flagged iTXt are deflated."""
    what = f"{path}'s '{keyword}' {kind.decode()} chunk"
    body = payload.split(b"\0", 1)[1]
    if kind == b"tEXt":
        return body.decode("latin-1")
    if kind == b"zTXt":
        if body[:1] != b"\0":
            raise VocoderError(f"{what} names compression method {shown(body[:1].hex() or 'none')}, not 0 (deflate)")
        return _inflate(body[1:], what).decode("latin-1")
    if len(body) < 2:
        raise VocoderError(f"{what} is cut short")
    compressed, method = body[0], body[1]
    fields = body[2:].split(b"\0", 2)  # language tag, translated keyword, text
    if len(fields) != 3 or compressed not in (0, 1) or (compressed and method != 0):
        raise VocoderError(f"{what} is malformed (PNG spec §11.3.4.5)")
    text = _inflate(fields[2], what) if compressed else fields[2]
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VocoderError(f"{what} is not valid UTF-8 (byte {exc.start}): corrupt or forged") from None


def _inflate(data: bytes, what: str) -> bytes:
    """Deflated text, inflated no further than MAX_TEXT_BYTES (a zlib bomb stops there)."""
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, MAX_TEXT_BYTES + 1)
    except zlib.error as exc:
        raise VocoderError(f"{what} cannot be inflated ({exc}): corrupt") from None
    if len(text) > MAX_TEXT_BYTES or inflater.unconsumed_tail:
        raise VocoderError(f"{what} inflates to more than {MAX_TEXT_BYTES:,} bytes: refused (a decompression bomb?)")
    if not inflater.eof:
        raise VocoderError(f"{what}'s compressed text is cut short: corrupt")
    return text

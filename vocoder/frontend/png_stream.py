"""PNG rows in and out one at a time, so a picture of an hour-long recording
(hundreds of thousands of columns) never has to be in memory whole.

A PNG stores its rows top to bottom in one zlib stream split over IDAT
chunks; each row is a filter byte plus the row's bytes, unfiltered against
the row above. The reader inflates the stream in bounded pieces and undoes
the five filters itself; the writer deflates rows as they come and cuts the
stream into IDAT chunks of a fixed size, so a picture written row by row is
byte-identical to one written whole (``picture.encode_png`` uses it too).

8- and 16-bit grey, grey+alpha, RGB and RGBA, not interlaced: what
spectrogram pictures use (and every PNG vocoder writes). Palettes, bit
depths below 8 and Adam7 interlacing are refused by name.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO, Iterator

import numpy as np

from vocoder import lazy_jit
from vocoder.errors import VocoderError
from vocoder.frontend.png_chunks import chunk_heads
from vocoder.safety.outputs import open_input

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# IDAT payload size: any size is valid PNG; fixed so output does not depend
# on how the rows arrived.
IDAT_SIZE = 1 << 20
ZLIB_LEVEL = 6
PLANES = {0: 1, 2: 3, 4: 2, 6: 4}  # colour type → samples per pixel
_READ = 1 << 20


def chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


class PngRowWriter:
    """Write a PNG to ``sink`` a row at a time (filter type 0)."""

    def __init__(self, sink: BinaryIO, width: int, height: int, bits: int, planes: int,
                 text: dict[str, str] | None = None):
        colour = {1: 0, 3: 2}.get(planes)
        if colour is None or bits not in (8, 16):
            raise ValueError(f"PngRowWriter writes 8/16-bit grey or RGB, not {bits} bits × {planes} planes")
        self.sink, self.width, self.height, self.bits, self.planes = sink, width, height, bits, planes
        self.dtype = np.dtype(">u2") if bits == 16 else np.dtype(np.uint8)
        self.rows = 0
        self._deflate = zlib.compressobj(ZLIB_LEVEL)
        self._pending = bytearray()
        sink.write(SIGNATURE)
        sink.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bits, colour, 0, 0, 0)))
        for key, value in (text or {}).items():
            sink.write(chunk(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8")))

    def _emit(self, data: bytes, final: bool = False) -> None:
        self._pending += data
        while len(self._pending) >= IDAT_SIZE or (final and self._pending):
            piece = bytes(self._pending[:IDAT_SIZE])
            del self._pending[:IDAT_SIZE]
            self.sink.write(chunk(b"IDAT", piece))

    def write_rows(self, rows: np.ndarray) -> None:
        """(n × width) or (n × width × planes) unsigned integers, top row first."""
        rows = np.asarray(rows)
        n = rows.shape[0]
        if self.rows + n > self.height:
            raise ValueError(f"{self.rows + n} rows written to a PNG {self.height} rows high")
        data = np.ascontiguousarray(rows.astype(self.dtype, copy=False)).view(np.uint8).reshape(n, -1)
        if data.shape[1] != self.width * self.planes * self.bits // 8:
            raise ValueError(f"rows of {data.shape[1]} bytes for a PNG {self.width} pixels wide")
        raw = np.empty((n, data.shape[1] + 1), np.uint8)
        raw[:, 0] = 0
        raw[:, 1:] = data
        self._emit(self._deflate.compress(raw.tobytes()))
        self.rows += n

    def close(self) -> None:
        if self.rows != self.height:
            raise ValueError(f"{self.rows} rows written to a PNG {self.height} rows high")
        self._emit(self._deflate.flush(), final=True)
        self.sink.write(chunk(b"IEND", b""))


@lazy_jit.njit(cache=True, nogil=True)
def _unfilter(kind, row, above, bpp):
    """Undo one row's filter in place (PNG spec §9.2); ``above`` is the
    previous row, already unfiltered (zeros for the first)."""
    n = row.size
    if kind == 1:  # Sub
        for i in range(bpp, n):
            row[i] = (row[i] + row[i - bpp]) & 0xFF
    elif kind == 2:  # Up
        for i in range(n):
            row[i] = (row[i] + above[i]) & 0xFF
    elif kind == 3:  # Average
        for i in range(n):
            left = np.int32(row[i - bpp]) if i >= bpp else np.int32(0)
            row[i] = (row[i] + ((left + np.int32(above[i])) >> 1)) & 0xFF
    elif kind == 4:  # Paeth
        for i in range(n):
            a = np.int32(row[i - bpp]) if i >= bpp else np.int32(0)
            b = np.int32(above[i])
            c = np.int32(above[i - bpp]) if i >= bpp else np.int32(0)
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            if pa <= pb and pa <= pc:
                pred = a
            elif pb <= pc:
                pred = b
            else:
                pred = c
            row[i] = (row[i] + pred) & 0xFF


def idat_pieces(fh: BinaryIO) -> Iterator[bytes]:
    """The compressed image data of a PNG open just after its signature, in
    pieces of at most a megabyte, up to IEND or the end of the file."""
    for kind, length in chunk_heads(fh):
        if kind != b"IDAT":
            continue
        remaining = length
        while remaining:
            data = fh.read(min(remaining, _READ))
            if not data:
                return
            remaining -= len(data)
            yield data
        fh.seek(4, 1)  # CRC


def iter_rows(path: str) -> Iterator[np.ndarray]:
    """The rows of a PNG, top first, each (width × planes) uint8 or uint16.

    Memory: two rows and a megabyte of compressed data, whatever the size.
    A stream that inflates beyond its header, ends early or fails its
    checksum is refused in one line.
    """
    with open_input(path) as fh:
        if fh.read(8) != SIGNATURE:
            raise VocoderError(f"{path} is not a PNG")
        length, kind = struct.unpack(">I4s", fh.read(8))
        if kind != b"IHDR" or length != 13:
            raise VocoderError(f"{path} is not a valid PNG (no IHDR first)")
        width, height, bits, colour, _, _, interlace = struct.unpack(">IIBBBBB", fh.read(13))
        fh.read(4)
        if colour not in PLANES or bits not in (8, 16):
            raise VocoderError(f"{path} is a {bits}-bit PNG of colour type {colour}: rows are read one at a time "
                               "only from 8- or 16-bit grey, grey+alpha, RGB or RGBA pictures")
        if interlace:
            raise VocoderError(f"{path} is an interlaced PNG: its rows cannot be read one at a time")
        planes = PLANES[colour]
        bpp = planes * bits // 8
        stride = width * bpp
        above = np.zeros(stride, np.uint8)
        buffer = bytearray()
        inflater = zlib.decompressobj()
        produced = 0

        def rows_from_buffer():
            nonlocal above, produced
            while len(buffer) >= stride + 1 and produced < height:
                kind_byte = buffer[0]
                if kind_byte > 4:
                    raise VocoderError(f"{path} row {produced} has an unknown filter type {kind_byte} (corrupt)")
                row = np.frombuffer(bytes(buffer[1:stride + 1]), np.uint8).copy()
                del buffer[:stride + 1]
                if kind_byte:
                    _unfilter(kind_byte, row, above, bpp)
                above = row
                produced += 1
                values = row.view(">u2").astype(np.uint16) if bits == 16 else row
                yield values.reshape(width, planes)

        try:
            for data in idat_pieces(fh):
                while data:
                    buffer += inflater.decompress(data, 4 * stride + 4)
                    data = inflater.unconsumed_tail
                    yield from rows_from_buffer()
                    if produced >= height and (buffer or data):
                        raise VocoderError(f"{path}'s pixel data is longer than its {width}×{height} header "
                                           "declares: corrupt, or a decompression bomb")
        except zlib.error as exc:
            raise VocoderError(f"cannot decode image {path}: {exc} (truncated or corrupt?)") from None
        if produced != height:
            raise VocoderError(f"image {path} holds {produced} rows, its header declares {height} (truncated?)")

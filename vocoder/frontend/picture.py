"""Reading any picture into exact pixel values, and writing 8/16-bit PNGs
with an embedded text chunk.

Pillow decodes every format and mode we meet, except 16-bit colour PNGs,
which it silently truncates to 8 bits; those (and every 16-bit PNG, for one
exact path) are decoded with pypng. PNGs are written by our own small encoder
so the metadata chunk sits before the image data, where every reader finds it
without decoding the pixels.
"""

from __future__ import annotations

import json
import os
import struct
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
import png  # pypng
from PIL import Image, UnidentifiedImageError

from vocoder.errors import VocoderError

METADATA_KEY = "vocoder"
# 100 megapixels: above a one-hour linear spectrogram at hop 256 (~160 M is
# not), well above any photo; Pillow's own bomb limit is 89 M (warning).
DEFAULT_MAX_PIXELS = 100_000_000
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class Picture:
    """Decoded pixels as floats in [0, 1], height × width × bands."""

    pixels: np.ndarray
    bands: str  # "L", "LA", "RGB" or "RGBA"
    bit_depth: int
    source_mode: str
    format: str
    metadata: dict | None = None
    notes: list[str] = field(default_factory=list)
    exif: dict[int, int | float | str] = field(default_factory=dict)  # numeric/short tags only (claims)

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    @property
    def height(self) -> int:
        return self.pixels.shape[0]

    def integer_pixels(self) -> np.ndarray:
        """The stored integers (exact: pixels were made as int / (2^bits - 1))."""
        return np.rint(self.pixels * (2**self.bit_depth - 1)).astype(np.int64)


@dataclass(frozen=True)
class _PngHeader:
    width: int
    height: int
    bit_depth: int
    colour_type: int


def _png_header(path: str) -> _PngHeader | None:
    """A PNG's IHDR fields, or None if the file is not a PNG."""
    with open(path, "rb") as fh:
        head = fh.read(33)
    if len(head) < 33 or not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    return _PngHeader(*struct.unpack(">IIBB", head[16:26]))


def open_picture_header(path: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open lazily (header only) and refuse empty, unreadable or oversized images."""
    if not os.path.isfile(path):
        raise VocoderError(f"image file not found: {path}")
    if os.path.getsize(path) == 0:
        raise VocoderError(f"image file {path} is empty (0 bytes)")
    header = _png_header(path)  # Pillow refuses a 0-pixel PNG as "not an image"
    if header is not None and (header.width == 0 or header.height == 0):
        raise VocoderError(f"image {path} has zero size ({header.width}×{header.height})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # Pillow raises past twice this; we refuse past once, below.
            Image.MAX_IMAGE_PIXELS = max_pixels
            im = Image.open(path)
    except Image.DecompressionBombError:
        raise VocoderError(
            f"image {path} declares more pixels than vocoder will decode (limit {max_pixels:,}); "
            "it may be a decompression bomb"
        ) from None
    except UnidentifiedImageError:
        raise VocoderError(f"{path} is not an image vocoder can read (unknown or corrupt format)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise VocoderError(f"cannot read image {path}: {exc}") from None
    width, height = im.size
    if width == 0 or height == 0:
        raise VocoderError(f"image {path} has zero size ({width}×{height})")
    if width * height > max_pixels:
        raise VocoderError(
            f"image {path} is {width}×{height} = {width * height:,} pixels, over the limit of "
            f"{max_pixels:,} (a decompression bomb?); raise --max-pixels if you trust the file"
        )
    return im


def _metadata(im: Image.Image, path: str) -> dict | None:
    raw = im.info.get(METADATA_KEY)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        raise VocoderError(f"image {path} has a '{METADATA_KEY}' text chunk that is not valid JSON") from None
    if not isinstance(data, dict):
        raise VocoderError(f"image {path} has a '{METADATA_KEY}' text chunk that is not a JSON object")
    return data


def read_metadata(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> dict | None:
    """The embedded vocoder metadata, read from the header without decoding pixels."""
    path = os.fspath(path)
    with open_picture_header(path, max_pixels) as im:
        return _metadata(im, path)


def _decode_with_pypng(path: str) -> tuple[np.ndarray, str, int]:
    reader = png.Reader(filename=path)
    width, height, rows, info = reader.asDirect()
    planes = info["planes"]
    array = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows]).reshape(height, width, planes)
    bands = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[planes]
    return array, bands, info["bitdepth"]


def _decode_with_pillow(im: Image.Image, notes: list[str]) -> tuple[np.ndarray, str, int]:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(im, dtype=np.uint16)[..., None], "L", 16
    if mode == "I":
        arr = np.asarray(im, dtype=np.int64)
        if arr.min() >= 0 and arr.max() <= 65535:
            return arr.astype(np.uint16)[..., None], "L", 16
        notes.append("32-bit integer image rescaled from its own min..max to 0..1")
        return _rescale(arr), "L", 0
    if mode == "F":
        notes.append("floating-point image rescaled from its own min..max to 0..1")
        return _rescale(np.asarray(im, dtype=np.float64)), "L", 0
    if mode == "1":
        im = im.convert("L")
    elif mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode in ("PA", "RGBa", "La"):
        im = im.convert("RGBA" if mode != "La" else "LA")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        notes.append(f"{mode} image converted to RGB by Pillow")
        im = im.convert("RGB")
    if im.mode not in ("L", "LA", "RGB", "RGBA"):
        raise VocoderError(f"image mode {mode} is not supported")
    return np.asarray(im, dtype=np.uint8).reshape(im.height, im.width, -1), im.mode, 8


def _rescale(arr: np.ndarray) -> np.ndarray:
    lo, hi = float(arr.min()), float(arr.max())
    scaled = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr, dtype=np.float64)
    return scaled[..., None]


def read_picture(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> Picture:
    """Decode any picture exactly, refusing unreadable input with one clear message."""
    path = os.fspath(path)
    im = open_picture_header(path, max_pixels)
    notes: list[str] = []
    source_mode, fmt = im.mode, im.format or "unknown"
    try:
        metadata = _metadata(im, path)
        exif = _exif(im)
        header = _png_header(path)
        if header is not None and header.bit_depth == 16:
            array, bands, bits = _decode_with_pypng(path)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                im.load()
            array, bands, bits = _decode_with_pillow(im, notes)
    except VocoderError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, png.Error, struct.error, zlib.error) as exc:
        raise VocoderError(f"cannot decode image {path}: {exc} (truncated or corrupt?)") from None
    finally:
        im.close()
    pixels = array.astype(np.float64) if bits == 0 else array.astype(np.float64) / (2**bits - 1)
    return Picture(pixels, bands, bits or 16, source_mode, fmt, metadata, notes, exif)


def _exif(im: Image.Image) -> dict[int, int | float | str]:
    """EXIF tags with plain values (what producers such as Riffusion store); the rest is dropped."""
    try:
        tags = im.getexif()
    except Exception:  # a malformed EXIF block is not worth refusing the picture for
        return {}
    kept: dict[int, int | float | str] = {}
    for key, value in list(tags.items())[:256]:
        if isinstance(value, bool):
            value = int(value)
        if hasattr(value, "numerator") and hasattr(value, "denominator") and not isinstance(value, int):
            value = float(value)  # IFDRational
        if isinstance(value, (int, float)) or (isinstance(value, str) and len(value) <= 256):
            kept[int(key)] = value
    return kept


# -- writing ------------------------------------------------------------------


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def encode_png(array: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    """PNG bytes of a uint8/uint16 array (H×W grey or H×W×3 RGB), with
    uncompressed iTXt chunks placed before the image data."""
    if array.dtype == np.uint8:
        bits = 8
    elif array.dtype == np.uint16:
        bits = 16
    else:
        raise TypeError(f"encode_png takes uint8 or uint16, not {array.dtype}")
    if array.ndim == 2:
        colour_type, planes = 0, 1
    elif array.ndim == 3 and array.shape[2] == 3:
        colour_type, planes = 2, 3
    else:
        raise ValueError(f"encode_png takes H×W or H×W×3 arrays, not {array.shape}")
    height, width = array.shape[:2]
    rows = np.ascontiguousarray(array.astype(">u2" if bits == 16 else np.uint8)).view(np.uint8)
    rows = rows.reshape(height, width * planes * bits // 8)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1)  # filter type 0
    parts = [_PNG_SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bits, colour_type, 0, 0, 0))]
    for key, value in (text or {}).items():
        parts.append(_chunk(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8")))
    parts += [_chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)), _chunk(b"IEND", b"")]
    return b"".join(parts)

"""Reading any picture into exact pixel values, and writing 8/16-bit PNGs
with an embedded text chunk.

Pillow decodes every format and mode we meet, except 16-bit colour PNGs,
which it silently truncates to 8 bits; those (and every 16-bit PNG, for one
exact path) are decoded with pypng. PNGs are written by our own small encoder
so the metadata chunk sits before the image data, where every reader finds it
without decoding the pixels.
"""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
import png  # pypng
from PIL import Image, UnidentifiedImageError

from vocoder import costs
from vocoder.errors import VocoderError
from vocoder.frontend.png_chunks import png_text
from vocoder.frontend.png_stream import PngRowWriter, idat_pieces
from vocoder.safety.budget import Estimate
from vocoder.safety.outputs import existing_input, open_input, reading
from vocoder.safety.text import brief, printable, shown
from vocoder.safety.untrusted import load_json, sniff

METADATA_KEY = "vocoder"
# 100 megapixels: above a one-hour linear spectrogram at hop 256 (~160 M is
# not), well above any photo; Pillow's own bomb limit is 89 M (warning).
DEFAULT_MAX_PIXELS = 100_000_000
# 2^20 pixels per side: a 3-hour spectrogram at hop 256 / 22.05 kHz is 930k
# columns; no real spectrogram is taller than n_fft/2 + 1 rows (2^17 + 1 at
# the largest n_fft a spec allows). Longer sides are bombs or typos.
DEFAULT_MAX_SIDE = 2**20
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
    frame: int = 0  # which frame of a multi-frame file (GIF, APNG, TIFF)
    n_frames: int = 1
    exif: dict[int, int | float | str] = field(default_factory=dict)  # numeric/short tags only (claims)
    # A palette-indexed picture (PNG/GIF mode P): each pixel's index (H × W uint8) and the palette's
    # colours (N × 3 in [0, 1]). The indices can be the levels themselves (SoX draws that way).
    palette_indices: np.ndarray | None = None
    palette: np.ndarray | None = None

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    @property
    def height(self) -> int:
        return self.pixels.shape[0]


@dataclass(frozen=True)
class PictureHeader:
    """What a picture will decode to, read from its header without decoding pixels."""

    path: str
    width: int
    height: int
    bands: str  # the bands read_picture will return
    bit_depth: int  # 8 or 16 (0: float/32-bit image rescaled to its own range)
    source_mode: str
    format: str
    n_frames: int
    frame: int
    metadata: dict | None

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def stored_bytes(self) -> int:
        """Bytes the decoder holds for the raw frame (before our float copy)."""
        per_sample = {"I": 4, "F": 4}.get(self.source_mode, 2 if self.bit_depth == 16 else 1)
        return self.pixels * max(len(self.bands), len(self.source_mode.split(";")[0])) * per_sample


@dataclass(frozen=True)
class _PngHeader:
    width: int
    height: int
    bit_depth: int
    colour_type: int
    interlace: int


_PNG_PLANES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _png_header(path: str) -> _PngHeader | None:
    """A PNG's IHDR fields, or None if the file is not a PNG."""
    with open_input(path) as fh:
        head = fh.read(33)
    if len(head) < 33 or not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", head[16:29])
    return _PngHeader(width, height, depth, colour, interlace)


def _check_size(path: str, width: int, height: int, max_pixels: int, max_side: int) -> None:
    if width == 0 or height == 0:
        raise VocoderError(f"image {path} has zero size ({width}×{height})")
    if width > max_side or height > max_side:
        raise VocoderError(
            f"image {path} is {width}×{height} pixels, over the limit of {max_side:,} per side "
            "(a decompression bomb?); raise --max-side if you trust the file"
        )
    if width * height > max_pixels:
        raise VocoderError(
            f"image {path} is {width}×{height} = {width * height:,} pixels, over the limit of "
            f"{max_pixels:,} (a decompression bomb?); raise --max-pixels if you trust the file"
        )


def _not_an_image(path: str) -> VocoderError:
    kind = sniff(path)
    if kind and "image" not in kind:
        return VocoderError(f"{path} is not an image: its content is {kind}")
    return VocoderError(f"{path} is not an image vocoder can read (unknown or corrupt format)")


def open_picture_header(path: str, max_pixels: int = DEFAULT_MAX_PIXELS,
                        max_side: int = DEFAULT_MAX_SIDE) -> Image.Image:
    """Open lazily (header only) and refuse empty, unreadable or oversized images."""
    existing_input(path, "image file")
    if os.path.getsize(path) == 0:
        raise VocoderError(f"image file {path} is empty (0 bytes)")
    header = _png_header(path)  # Pillow refuses a 0-pixel PNG as "not an image"
    if header is not None:
        _check_size(path, header.width, header.height, max_pixels, max_side)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # Pillow raises past twice this; we refuse past once, below.
            Image.MAX_IMAGE_PIXELS = max_pixels
            im = Image.open(reading(path))
    except Image.DecompressionBombError:
        raise VocoderError(
            f"image {path} declares more pixels than vocoder will decode (limit {max_pixels:,}); "
            "it may be a decompression bomb"
        ) from None
    except UnidentifiedImageError:
        raise _not_an_image(path) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error) as exc:
        raise VocoderError(f"cannot read image {path}: {brief(exc, 120)}") from None
    _check_size(path, *im.size, max_pixels, max_side)
    return im


def _metadata(im: Image.Image, path: str) -> dict | None:
    """The embedded vocoder metadata: of a PNG, from every text chunk in the
    file (png_chunks); of another format, from what Pillow's header shows."""
    raw = png_text(path, METADATA_KEY) if im.format == "PNG" else im.info.get(METADATA_KEY)
    if raw is None:
        return None
    data = load_json(raw, f"image {path}'s '{METADATA_KEY}' text chunk")
    if not isinstance(data, dict):
        raise VocoderError(f"image {path} has a '{METADATA_KEY}' text chunk that is not a JSON object")
    return data


def read_metadata(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS,
                  max_side: int = DEFAULT_MAX_SIDE) -> dict | None:
    """The embedded vocoder metadata, read from the header without decoding pixels."""
    path = os.fspath(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_picture_header(path, max_pixels, max_side) as im:
            return _metadata(im, path)


_MODE_BANDS = {"1": "L", "L": "L", "I": "L", "F": "L", "LA": "LA", "La": "LA", "PA": "RGBA", "RGBA": "RGBA",
               "RGBa": "RGBA", "RGB": "RGB", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB",
               "RGBX": "RGB"}


def _frames(im: Image.Image) -> int:
    try:
        return max(1, int(getattr(im, "n_frames", 1)))
    except (OSError, ValueError, EOFError, struct.error, zlib.error) as exc:
        raise VocoderError(f"cannot read the frames of image {im.filename}: {brief(exc, 120)}") from None


def _select_frame(im: Image.Image, path: str, frame: int | None, max_pixels: int, max_side: int) -> tuple[int, int]:
    """Seek to the frame the user named; refuse a multi-frame file without one."""
    n_frames = _frames(im)
    if frame is None:
        if n_frames > 1:
            raise VocoderError(f"{path} holds {n_frames} frames (an animation or a multi-page file); "
                               f"name the one to use with --frame N (0..{n_frames - 1})")
        return 0, 1
    if not 0 <= frame < n_frames:
        raise VocoderError(f"--frame {frame} is out of range: {path} holds {n_frames} frame(s) (0..{n_frames - 1})")
    if frame:
        try:
            im.seek(frame)
        except (OSError, ValueError, EOFError, struct.error, zlib.error) as exc:
            raise VocoderError(f"cannot read frame {frame} of {path}: {brief(exc, 120)}") from None
        _check_size(path, *im.size, max_pixels, max_side)  # TIFF pages have their own size
    return frame, n_frames


def _header_of(im: Image.Image, path: str, frame: int, n_frames: int) -> PictureHeader:
    png = _png_header(path)
    if png is not None and png.bit_depth == 16:
        if n_frames > 1:
            raise VocoderError(f"{path} is a 16-bit animated PNG; vocoder reads 16-bit PNGs with one frame only")
        bands = {0: "L", 2: "RGB", 4: "LA", 6: "RGBA"}.get(png.colour_type)
        if bands is None:
            raise VocoderError(f"{path}: 16-bit PNG with colour type {png.colour_type} is not valid")
        return PictureHeader(path, png.width, png.height, bands, 16, im.mode, "PNG", 1, 0, _metadata(im, path))
    mode = im.mode
    if mode.startswith("I;16"):
        bands, bits = "L", 16
    elif mode == "P":
        bands, bits = ("RGBA" if "transparency" in im.info else "RGB"), 8
    elif mode in _MODE_BANDS:
        bands, bits = _MODE_BANDS[mode], (0 if mode in ("I", "F") else 8)
    else:
        raise VocoderError(f"image mode {mode} is not supported")
    width, height = im.size
    return PictureHeader(path, width, height, bands, bits, mode, im.format or "unknown", n_frames, frame,
                         _metadata(im, path))


def probe(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS, frame: int | None = None,
          max_side: int = DEFAULT_MAX_SIDE) -> PictureHeader:
    """Size, bands, frames and metadata of a picture, from its header: what
    the memory budget is computed from before anything is decoded."""
    path = os.fspath(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # read_picture records them
        with open_picture_header(path, max_pixels, max_side) as im:
            frame, n_frames = _select_frame(im, path, frame, max_pixels, max_side)
            return _header_of(im, path, frame, n_frames)


# Adam7's seven passes (PNG spec §8.2): first row, first column, row step, column step.
_ADAM7 = ((0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1))


def _png_data_bytes(header: _PngHeader) -> int:
    """Bytes a PNG's image data inflates to: each row's filter byte and pixels,
    over the seven reduced images when interlaced (empty passes hold nothing)."""
    planes = _PNG_PLANES.get(header.colour_type, 4)

    def rows(width: int, height: int) -> int:
        return height * (1 + (width * planes * header.bit_depth + 7) // 8) if width and height else 0

    if not header.interlace:
        return rows(header.width, header.height)
    return sum(rows(-(-(header.width - x0) // dx), -(-(header.height - y0) // dy)) for y0, x0, dy, dx in _ADAM7)


def _check_png_stream(path: str, header: _PngHeader) -> None:
    """Refuse a PNG whose image data inflates to more or less than its IHDR
    declares, whatever decodes it.

    pypng inflates each IDAT chunk whole: a small chunk of a few megabytes can
    expand a thousandfold. And a short stream is not an error to every decoder
    (an 8-bit picture's missing rows would silently become black). Inflating
    here in bounded pieces, counting, costs one pass and no memory.
    """
    expected = _png_data_bytes(header)
    inflater, total = zlib.decompressobj(), 0
    try:
        with open_input(path) as fh:
            fh.seek(8)
            for data in idat_pieces(fh):
                while data:
                    out = inflater.decompress(data, 1 << 20)
                    total += len(out)
                    if total > expected:
                        raise VocoderError(f"image {path}'s pixel data inflates to more than its "
                                           f"{header.width}×{header.height} header declares: corrupt, or a "
                                           "decompression bomb")
                    data = inflater.unconsumed_tail
    except zlib.error as exc:
        raise VocoderError(f"cannot decode image {path}: {exc} (truncated or corrupt?)") from None
    if total < expected:
        raise VocoderError(f"image {path}'s pixel data holds {total:,} of the {expected:,} bytes its "
                           f"{header.width}×{header.height} header declares (truncated?)")


def _decode_with_pypng(path: str, header: _PngHeader) -> tuple[np.ndarray, str, int]:
    _check_png_stream(path, header)
    reader = png.Reader(filename=reading(path))
    width, height, rows, info = reader.asDirect()
    planes = info["planes"]
    array = np.empty((height, width * planes), dtype=np.uint16)
    count = 0
    for i, row in enumerate(rows):
        if i >= height:
            raise VocoderError(f"image {path} holds more rows than its header declares")
        array[i] = row
        count += 1
    if count != height:
        raise VocoderError(f"image {path} holds {count} rows, its header declares {height} (truncated?)")
    bands = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[planes]
    return array.reshape(height, width, planes), bands, info["bitdepth"]


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
        arr = np.asarray(im, dtype=np.float64)
        if not np.isfinite(arr).all():
            raise VocoderError("the floating-point image holds NaN or infinite pixels")
        notes.append("floating-point image rescaled from its own min..max to 0..1")
        return _rescale(arr), "L", 0
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


def _palette_of(im: Image.Image) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(indices H × W, colours N × 3 in [0, 1]) of a loaded palette picture, else (None, None)."""
    if im.mode != "P":
        return None, None
    indices = np.asarray(im, dtype=np.uint8)
    colours = np.asarray(im.getpalette("RGB") or [], dtype=np.float64).reshape(-1, 3) / 255.0
    if not len(colours) or int(indices.max(initial=0)) >= len(colours):
        return None, None
    return indices, colours


def _rescale(arr: np.ndarray) -> np.ndarray:
    lo, hi = float(arr.min()), float(arr.max())
    scaled = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr, dtype=np.float64)
    return scaled[..., None]


def read_picture(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS, frame: int | None = None,
                 max_side: int = DEFAULT_MAX_SIDE, estimate: Estimate | None = None) -> Picture:
    """Decode any picture exactly, refusing unreadable input with one clear message.

    A multi-frame file (GIF, APNG, TIFF) needs ``frame``; sizes are checked
    from the header (of that frame) before anything is decoded, and so is
    memory: the decode's cost, counted from the header and added to
    ``estimate`` (what the caller's job holds besides), must pass the cap
    first, so no caller can decode before its estimate.
    """
    path = os.fspath(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        picture = _read_picture(path, max_pixels, frame, max_side, estimate)
    # Pillow warns about damaged metadata (EXIF, TIFF tags) it skipped: the
    # analyst finds that in the record, not as stray lines on stderr.
    picture.notes.extend(f"decoder warning: {shown(str(w.message), 160)}" for w in caught
                         if not issubclass(w.category, Image.DecompressionBombWarning))
    return picture


def _read_picture(path: str, max_pixels: int, frame: int | None, max_side: int,
                  estimate: Estimate | None) -> Picture:
    im = open_picture_header(path, max_pixels, max_side)
    notes: list[str] = []
    try:
        frame, n_frames = _select_frame(im, path, frame, max_pixels, max_side)
        head = _header_of(im, path, frame, n_frames)
        job = estimate or Estimate(f"decoding {os.path.basename(path)} ({head.width}×{head.height})")
        job.add("decoding the picture", costs.picture_decode(head))
        job.check()
        png_header = _png_header(path)
        palette_indices = palette = None
        if png_header is not None and png_header.bit_depth == 16:
            array, bands, bits = _decode_with_pypng(path, png_header)
        else:
            if png_header is not None:
                _check_png_stream(path, png_header)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                im.load()
            palette_indices, palette = _palette_of(im)
            array, bands, bits = _decode_with_pillow(im, notes)
        # After the decode: Pillow's getexif() loads a PNG itself, and _exif forgives errors, which
        # would hide a corrupt file (a bad CRC) from the decode above.
        exif = _exif(im)
    except VocoderError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, png.Error, struct.error, zlib.error) as exc:
        raise VocoderError(f"cannot decode image {path}: {brief(exc, 120)} (truncated or corrupt?)") from None
    finally:
        im.close()
    if array.shape[:2] != (head.height, head.width):
        raise VocoderError(f"image {path} decoded to {array.shape[1]}×{array.shape[0]} pixels, its header "
                           f"says {head.width}×{head.height}")
    if n_frames > 1:
        notes.append(f"frame {frame} of {n_frames} (--frame {frame})")
    pixels = array.astype(np.float64) if bits == 0 else array.astype(np.float64) / (2**bits - 1)
    return Picture(pixels, bands, bits or 16, head.source_mode, head.format, head.metadata, notes, frame, n_frames,
                   exif, palette_indices, palette)


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

# Every picture vocoder writes is a PNG (our encoder, below).
PICTURE_SUFFIXES = (".png",)


def check_picture_output(path: str | os.PathLike, writer: str) -> None:
    """Refuse a picture name whose extension promises another format than the PNG ``writer`` writes."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in PICTURE_SUFFIXES:
        raise VocoderError(f"{writer} writes a PNG: give the output a {', '.join(PICTURE_SUFFIXES)} name (got "
                           f"{printable(os.fspath(path))})")


def encode_png(array: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    """PNG bytes of a uint8/uint16 array (H×W grey or H×W×3 RGB), with
    uncompressed iTXt chunks placed before the image data (the same bytes as
    the row-by-row writer of ``png_stream`` gives)."""
    import io

    if array.dtype == np.uint8:
        bits = 8
    elif array.dtype == np.uint16:
        bits = 16
    else:
        raise TypeError(f"encode_png takes uint8 or uint16, not {array.dtype}")
    if array.ndim == 2:
        planes = 1
    elif array.ndim == 3 and array.shape[2] == 3:
        planes = 3
    else:
        raise ValueError(f"encode_png takes H×W or H×W×3 arrays, not {array.shape}")
    sink = io.BytesIO()
    writer = PngRowWriter(sink, array.shape[1], array.shape[0], bits, planes, text)
    writer.write_rows(array)
    writer.close()
    return sink.getvalue()

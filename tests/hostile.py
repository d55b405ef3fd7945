"""Hostile and careless inputs, made in code: broken images, mislabelled
files, forged metadata, checkpoints with absurd configurations.

Shared by tests/test_hostile_inputs.py (named cases, run in child processes
under an address-space limit) and tests/test_fuzz.py (hypothesis, in process).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from functools import lru_cache
from typing import Any

import numpy as np
import soundfile as sf
from PIL import Image


def chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png(width: int, height: int, bit_depth: int = 8, colour: int = 0, idat: bytes | None = None,
        text: dict[str, str] | None = None, interlace: int = 0) -> bytes:
    """A PNG with exactly the header and data given (valid CRCs, any claims)."""
    planes = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    if idat is None:
        row = b"\0" + bytes((width * planes * bit_depth + 7) // 8)
        idat = zlib.compress(row * height)
    parts = [b"\x89PNG\r\n\x1a\n",
             chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, interlace))]
    for key, value in (text or {}).items():
        parts.append(chunk(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8")))
    parts += [chunk(b"IDAT", idat), chunk(b"IEND", b"")]
    return b"".join(parts)


def picture(width: int = 64, height: int = 48, mode: str = "L", fmt: str = "PNG", frames: int = 1) -> bytes:
    rng = np.random.default_rng(width * height)
    shape = (height, width) if mode in ("L", "P") else (height, width, len(mode))
    images = [Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).convert(mode) for _ in range(frames)]
    buf = io.BytesIO()
    extra = {"save_all": True, "append_images": images[1:]} if frames > 1 else {}
    images[0].save(buf, format=fmt, **extra)
    return buf.getvalue()


def wav(seconds: float = 0.5, rate: int = 22050, channels: int = 1, subtype: str = "PCM_16",
        fmt: str = "WAV", samples: np.ndarray | None = None) -> bytes:
    if samples is None:
        t = np.arange(int(seconds * rate)) / rate
        mono = 0.3 * np.sin(2 * np.pi * 440 * t)
        samples = np.stack([mono] * channels, axis=1)
    buf = io.BytesIO()
    sf.write(buf, samples, rate, subtype=subtype, format=fmt)
    return buf.getvalue()


@lru_cache(maxsize=1)
def _encoded() -> tuple[np.ndarray, dict[str, Any]]:
    """Pixels and metadata of a real `vocoder encode` output (0.5 s, hifigan preset: 80 rows)."""
    import torch

    from vocoder.frontend.audio import Audio, audio_to_spectrogram
    from vocoder.frontend.spectrogram_png import spectrogram_to_png
    from vocoder.spec import get_preset

    t = torch.arange(11025) / 22050
    audio = Audio((0.3 * torch.sin(2 * torch.pi * 440 * t)).unsqueeze(0).float(), 22050)
    data, metadata = spectrogram_to_png(audio_to_spectrogram(audio, get_preset("hifigan")), bits=16)
    with Image.open(io.BytesIO(data)) as im:
        pixels = np.asarray(im, dtype=np.uint16)
    return pixels, json.loads(json.dumps(metadata))


def metadata() -> dict[str, Any]:
    """A fresh copy of a valid embedded-metadata record."""
    return json.loads(json.dumps(_encoded()[1]))


def encoded_png(meta: Any = None, raw_text: str | None = None) -> bytes:
    """A real encoded PNG whose metadata chunk is ``meta`` (or the raw text given)."""
    from vocoder.frontend.picture import encode_png

    pixels = _encoded()[0]
    text = raw_text if raw_text is not None else json.dumps(metadata() if meta is None else meta)
    return encode_png(pixels, {"vocoder": text})


def with_field(path: str, value: Any) -> dict[str, Any]:
    """Valid metadata with one field (dotted path) replaced."""
    meta = metadata()
    *parents, last = path.split(".")
    node = meta
    for key in parents:
        node = node[key]
    node[last] = value
    return meta


def generator_config(**changes: Any) -> dict[str, Any]:
    """A tiny HiFi-GAN configuration for the hifigan preset (hop 256 = 8·8·4)."""
    config = {"in_channels": 80, "upsample_rates": [8, 8, 4], "upsample_kernel_sizes": [16, 16, 8],
              "upsample_initial_channel": 16, "resblock": "2", "resblock_kernel_sizes": [3],
              "resblock_dilation_sizes": [[1, 3]]}
    config.update(changes)
    return config


def safetensors_model(meta: Any = None, raw_meta: str | None = None, config: dict | None = None,
                      no_metadata: bool = False) -> bytes:
    """An export as `vocoder export` writes it, with the metadata given."""
    import tempfile

    from safetensors.torch import save_file

    from vocoder.models.hifigan import HiFiGANGenerator
    from vocoder.spec import get_preset

    config = config or generator_config()
    if meta is None:
        meta = {"format": 1, "model": "hifigan", "spec": get_preset("hifigan").to_dict(), "generator": config,
                "source_sha256": "0" * 64, "batches": 0}
    try:
        generator = HiFiGANGenerator.from_config(generator_config()).remove_weight_norm()
        state = {k: v.detach().contiguous() for k, v in generator.state_dict().items()}
    except Exception:  # noqa: BLE001 - a config under test may not build
        state = {}
    text = raw_meta if raw_meta is not None else json.dumps(meta)
    with tempfile.NamedTemporaryFile(suffix=".safetensors") as fh:
        save_file(state or {"x": __import__("torch").zeros(1)}, fh.name,
                  metadata=None if no_metadata else {"vocoder": text})
        return open(fh.name, "rb").read()


def zip_bytes(entries: dict[str, bytes], compress: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compress) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buf.getvalue()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth

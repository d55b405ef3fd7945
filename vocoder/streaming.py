"""Block-wise `encode` and `invert`: recordings of any length in bounded memory.

Memory holds one block; what must outlive a block goes to an unnamed
scratch file beside the output (deleted when closed, or by the kernel if the
process dies): the magnitudes of an encoding until the PNG's rows can be
written (a PNG stores rows of frequency, the audio arrives in time), the
pixels of a picture being inverted (a PNG arrives in rows of frequency, the
inversion walks in time), and the unscaled output until its peak is known.

- Encoding is exact: every frame is computed from the same samples as a
  whole-file encoding, so the pixels are identical (tested); the record
  says the frames were computed in blocks.
- Inversion runs :mod:`vocoder.inversion.blockwise` (any phase-retrieval
  backend with a start phase), within 0.5 dB spectral convergence of a
  whole-signal run (tested).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import soundfile as sf
import torch
from tqdm.auto import tqdm

from vocoder.errors import VocoderError
from vocoder.frontend.audio import AudioHeader, check_length
from vocoder.frontend.audiofile import AudioFormat, as_written, lost_signal, open_stream
from vocoder.frontend.picture import METADATA_KEY
from vocoder.frontend.png_stream import PngRowWriter, iter_rows
from vocoder.frontend.spectrogram_png import DbMapping, Embedded, check_png_options, png_metadata
from vocoder.frontend.stft import magnitude_of, stft_padded
from vocoder.inversion.base import Inverter
from vocoder.inversion.blockwise import BlockPlan, block_frames, invert_blocks
from vocoder.inversion.registry import blockwise_backends
from vocoder.inverting import check_finite
from vocoder.provenance.record import audio_source
from vocoder.safety import budget
from vocoder.safety.outputs import folder_of, open_input
from vocoder.safety.text import brief, printable
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

# Block-wise output is written sample by sample; Ogg Vorbis would need its
# stream serial fixed afterwards over the whole file (audiofile.py).
STREAMED_FORMATS = ("WAV", "FLAC")
# Free space kept on the scratch disk beyond what the job writes.
DISK_MARGIN = 256 * 2**20


class Scratch:
    """planes × rows × columns values in an unnamed temporary file, written
    and read a row or a range of columns at a time."""

    def __init__(self, shape: tuple[int, int, int], dtype: np.dtype, folder: str, what: str):
        self.shape, self.dtype = shape, np.dtype(dtype)
        self.nbytes = int(np.prod(shape)) * self.dtype.itemsize
        check_disk(folder, self.nbytes, what)
        try:
            self.file = tempfile.TemporaryFile(dir=folder, prefix=".vocoder-scratch-")
        except OSError as exc:
            raise VocoderError(f"cannot write scratch data to {folder}: {exc.strerror or exc}") from None
        self.fd = self.file.fileno()

    def _offset(self, plane: int, row: int, column: int) -> int:
        _, rows, columns = self.shape
        return ((plane * rows + row) * columns + column) * self.dtype.itemsize

    def write_row(self, plane: int, row: int, values: np.ndarray) -> None:
        _write(self.fd, np.ascontiguousarray(values, self.dtype).tobytes(), self._offset(plane, row, 0))

    def write_columns(self, start: int, values: np.ndarray) -> None:
        """values: planes × rows × n, for columns [start, start + n)."""
        for plane in range(values.shape[0]):
            for row in range(values.shape[1]):
                _write(self.fd, np.ascontiguousarray(values[plane, row], self.dtype).tobytes(),
                       self._offset(plane, row, start))

    def read_row(self, plane: int, row: int) -> np.ndarray:
        return self._read(self._offset(plane, row, 0), self.shape[2])

    def read_columns(self, start: int, stop: int) -> np.ndarray:
        planes, rows, _ = self.shape
        out = np.empty((planes, rows, stop - start), self.dtype)
        for plane in range(planes):
            for row in range(rows):
                out[plane, row] = self._read(self._offset(plane, row, start), stop - start)
        return out

    def _read(self, offset: int, count: int) -> np.ndarray:
        data = os.pread(self.fd, count * self.dtype.itemsize, offset)
        return np.frombuffer(data, self.dtype, count)

    def close(self) -> None:
        self.file.close()


def _write(fd: int, data: bytes, offset: int) -> None:
    try:
        view = memoryview(data)
        while view:
            written = os.pwrite(fd, view, offset)
            view, offset = view[written:], offset + written
    except OSError as exc:
        raise VocoderError(f"cannot write scratch data: {exc.strerror or exc}") from None


def check_disk(folder: str, nbytes: int, what: str) -> None:
    """Refuse, in one line, a job whose scratch data would not fit on the disk."""
    free = shutil.disk_usage(folder).free
    if nbytes + DISK_MARGIN > free:
        raise VocoderError(f"{what} needs {budget.format_size(nbytes)} of scratch space in {folder}, which has "
                           f"{budget.format_size(free)} free")


def padded_stretch(read, length: int, spec: SpectrogramSpec, first: int, stop: int) -> torch.Tensor:
    """The padded signal that frames [first, stop) see (channels × samples,
    float32), from ``read(a, b)`` → samples [a, b) of a ``length``-sample
    recording (channels × n): the spec's padding made exactly as ``stft``
    makes it for the whole recording."""
    side = spec.side_padding
    original = np.arange(first * spec.hop_length, (stop - 1) * spec.hop_length + spec.n_fft) - side
    inside = (original >= 0) & (original < length)
    if spec.pad_mode == "reflect":
        original = np.where(original < 0, -original, original)
        original = np.where(original >= length, 2 * (length - 1) - original, original)
        inside[:] = True
    low, high = int(original[inside].min()), int(original[inside].max()) + 1
    samples = read(low, high)
    out = np.zeros((samples.shape[0], original.size), np.float32)
    out[:, inside] = samples[:, original[inside] - low]
    return torch.from_numpy(out)


def frames_of(stretch: torch.Tensor, spec: SpectrogramSpec) -> torch.Tensor:
    """Rows (the spec's axis) of a padded stretch's frames, computed as
    ``audio_to_spectrogram`` computes them: float64 |STFT| cast to float32,
    then the filterbank."""
    mag = magnitude_of(stft_padded(stretch.to(torch.float64), spec), spec).to(torch.float32)
    return spec.axis.forward(spec, mag)


# -- encode ---------------------------------------------------------------------------


def encoding_obstacle(header: AudioHeader, spec: SpectrogramSpec, preview: bool) -> str | None:
    """Why this encoding cannot run block-wise, or None."""
    if preview:
        return "--preview draws the whole spectrogram at once: leave it out"
    if header.sample_rate != spec.sample_rate:
        return (f"block-wise encoding does not resample ({header.sample_rate} Hz to {spec.sample_rate}): give --sr "
                f"{header.sample_rate}, or resample the file first")
    return None


def encode_blockwise(audio_path: str, target: str, header: AudioHeader, spec: SpectrogramSpec, bits: int,
                     dynamic_range_db: float, steps: list[dict[str, Any]], sha256: str,
                     block_seconds: float) -> dict[str, Any]:
    """Audio file → vocoder PNG at ``target`` (a temporary the caller renames),
    one block of frames at a time; returns the embedded metadata."""
    obstacle = encoding_obstacle(header, spec, preview=False)
    if obstacle:
        raise VocoderError(obstacle)
    check_png_options(bits, dynamic_range_db, header.channels)
    length, channels = header.frames, header.channels
    check_length(length, spec)
    n_frames, rows = spec.n_frames(length), spec.n_bins
    block = block_frames(spec, block_seconds)
    folder = folder_of(target)
    check_disk(folder, rows * n_frames * 2 * max(channels, 3) // 2, "the PNG")
    scratch = Scratch((channels, rows, n_frames), np.float32, folder, "block-wise encoding")
    try:
        peak, audible = 0.0, False
        with open_input(audio_path) as fh, sf.SoundFile(fh) as sound:
            def read(a: int, b: int) -> np.ndarray:
                try:
                    sound.seek(a)
                    data = sound.read(b - a, dtype="float32", always_2d=True)
                except (sf.LibsndfileError, RuntimeError) as exc:  # a seek past what the file holds
                    raise VocoderError(f"cannot read audio file {printable(audio_path)} from sample {a} on, which "
                                       f"its header declares ({brief(str(exc), 80)}; truncated?)") from None
                if data.shape[0] != b - a:
                    raise VocoderError(f"audio file {printable(audio_path)} ends at sample {a + data.shape[0]}, "
                                       f"its header declares {length} (truncated?)")
                if not np.isfinite(data).all():
                    raise VocoderError(f"audio file {printable(audio_path)} holds NaN or infinite samples")
                return np.ascontiguousarray(data.T)

            for first in tqdm(range(0, n_frames, block), desc="encode", unit="block", leave=False, disable=None):
                stop = min(n_frames, first + block)
                stretch = padded_stretch(read, length, spec, first, stop)
                audible = audible or bool(stretch.any())
                values = frames_of(stretch, spec)
                peak = max(peak, float(values.max()))
                scratch.write_columns(first, values.numpy())
        if not audible:
            raise VocoderError(f"audio file {printable(audio_path)} is silent (every sample is zero): there is "
                               "nothing to analyse")
        if not peak > 0:
            raise VocoderError("the spectrogram is silent: nothing to encode")
        mapping = DbMapping(bits=bits, db_min=-float(dynamic_range_db), db_max=0.0, reference=peak)
        zeros = 0
        for plane in range(channels):
            for row in range(rows):
                zeros += int((mapping.to_pixels(torch.from_numpy(scratch.read_row(plane, row))) == 0).sum())
        below = zeros / (channels * rows * n_frames)
        source = audio_source(audio_path, sha256, header.sample_rate, channels, length)
        steps = steps + [{"step": "stft", "spec": spec.to_dict(),
                          "computed_in_blocks": {"frames": block, "note": "each frame from the same samples as "
                                                 "a whole-file STFT: the values are the same"}}]
        metadata = png_metadata(spec, mapping, channels, length, below, source, steps)
        with open(target, "wb") as out:
            writer = PngRowWriter(out, n_frames, rows, bits, 1 if channels == 1 else 3,
                                  {METADATA_KEY: json.dumps(metadata)})
            for row in reversed(range(rows)):  # highest frequency at the top
                planes = [mapping.to_pixels(torch.from_numpy(scratch.read_row(c, row))) for c in range(channels)]
                if channels == 2:
                    planes.append(np.zeros_like(planes[0]))
                writer.write_rows(np.stack(planes, axis=-1)[None] if channels == 2 else planes[0][None])
            writer.close()
    except OSError as exc:
        raise VocoderError(f"cannot write {printable(target)}: {exc.strerror or exc}") from None
    finally:
        scratch.close()
    return metadata


# -- invert ---------------------------------------------------------------------------


@dataclass
class BlockwiseResult:
    """What a block-wise inversion did, for the record."""

    level: dict[str, Any]  # the level rule's record: rule, gain_db, peak_before
    consistency_db: float | None
    warnings: list[str]  # digital silence in the file written


def blockwise_obstacle(inverter: Inverter, backend: str, audio_format: AudioFormat, preview: bool,
                       uses_metadata: bool) -> str | None:
    """Why this inversion cannot run block-wise, or None."""
    if not uses_metadata:
        return ("block-wise inversion reads vocoder PNGs (with embedded metadata) only: a plain picture's "
                "decoding (crop, colours, resizing) needs all of it at once")
    if not inverter.runs_blockwise():
        return (f"backend {backend!r} cannot run block-wise (the iterative phase-retrieval backends without extra "
                f"state can: {', '.join(blockwise_backends())})")
    if audio_format.container not in STREAMED_FORMATS:
        return f"block-wise output is written as .wav or .flac, not {audio_format.description}"
    if preview:
        return "--preview draws the whole spectrogram at once: leave it out"
    return None


def invert_blockwise(image: str, found: Embedded, inverter: Inverter, target: str, audio_format: AudioFormat,
                     plan: BlockPlan, level: Callable[[float], tuple[float, dict[str, Any]]],
                     target_name: str) -> BlockwiseResult:
    """A vocoder PNG → audio at ``target`` (a temporary the caller renames to ``target_name``),
    a block at a time under ``plan`` (on the input's linear spec). ``level``
    maps the output's peak to (gain, its record); the gain is applied in a
    second pass, once the peak is known."""
    spec, mapping, channels = found.spec, found.mapping, found.channels
    n_frames, length = plan.n_frames, plan.length
    folder = folder_of(target)
    pixels: Scratch | None = None
    output: Scratch | None = None
    try:
        # 1. The picture's rows (frequency) into scratch, bin 0 first.
        rows = spec.n_bins
        pixels = Scratch((channels, rows, n_frames), np.uint16, folder, "block-wise inversion")
        for index, row in enumerate(tqdm(iter_rows(image), total=rows, desc="read", unit="row", disable=None,
                                         leave=False)):
            for c in range(channels):
                pixels.write_row(c, rows - 1 - index, row[:, c])

        def input_frames(a: int, b: int) -> torch.Tensor:
            values = torch.from_numpy(pixels.read_columns(a, b).astype(np.float64)) / mapping.max_value
            return mapping.to_magnitude(values)

        def backend_frames(a: int, b: int) -> torch.Tensor:
            return inverter.prepare(Spectrogram(input_frames(a, b), spec)).magnitude

        # 2. Block-wise inversion into scratch, unscaled.
        output = Scratch((1, 1, length * channels), np.float32, folder, "block-wise inversion's output")
        written, peak = 0, 0.0
        for piece in invert_blocks(plan, backend_frames, inverter.start_phase, inverter.invert_from,
                                   label=f"{inverter.name} blocks"):
            check_finite(piece)
            peak = max(peak, float(np.abs(piece).max(initial=0.0)))
            output.write_columns(written * channels, np.ascontiguousarray(piece.T).reshape(1, 1, -1))
            written += piece.shape[1]

        def read_output(a: int, b: int) -> np.ndarray:
            return output.read_columns(a * channels, b * channels)[0, 0].reshape(b - a, channels).T

        gain, level_record = level(peak)

        def written_output(a: int, b: int) -> np.ndarray:
            """The samples the file will hold (16-bit), at the input's level."""
            return (as_written(read_output(a, b) * np.float32(gain), spec.sample_rate, audio_format)
                    / gain).astype(np.float32)

        # 3. Self-check: the file's samples' spectrogram against the input, in the input's domain.
        error = total = 0.0
        step = plan.block
        for a in range(0, n_frames, step):
            b = min(n_frames, a + step)
            target_values = input_frames(a, b).double()
            own = frames_of(padded_stretch(written_output, length, spec, a, b), spec).double()
            error += float((target_values - own).square().sum())
            total += float(target_values.square().sum())
        consistency = 10 * math.log10(error / total) if total > 0 and error > 0 else None

        # 4. The output file, at the level rule's gain.
        written_peak = 0.0
        with open_stream(target, spec.sample_rate, channels, audio_format) as sound:
            chunk = plan.block * spec.hop_length
            for a in range(0, length, chunk):
                b = min(length, a + chunk)
                sound.write(np.ascontiguousarray(read_output(a, b).T * np.float32(gain)))
                written_peak = max(written_peak, float(np.abs(written_output(a, b)).max(initial=0.0)) * gain)
        lost = lost_signal(printable(target_name), written_peak, peak * gain, audio_format)
        return BlockwiseResult(level_record, consistency, [lost] if lost else [])
    except OSError as exc:
        raise VocoderError(f"cannot write {printable(target)}: {exc.strerror or exc}") from None
    finally:
        for scratch in (pixels, output):
            if scratch is not None:
                scratch.close()


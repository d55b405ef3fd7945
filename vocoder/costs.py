"""What each job holds at its peak, counted from the code: element size ×
count for the arrays each step holds, plus what the process already holds
(a factor, ``budget.SLACK``, covers allocator slack and temporaries too small
to list). Checked against measured peaks (ru_maxrss) in tests/test_budget.py:
an estimate must never be below the measurement, nor far above it.

Backends, architectures and frequency axes state their own figures (their
``working_set``, ``activations``, ``inverse_cost``); the pieces they share
are here.
"""

from __future__ import annotations

import math
import os
from typing import Iterable

from vocoder.errors import VocoderError
from vocoder.safety.budget import Estimate

# -- the figures -----------------------------------------------------------------
# C channels, F rows (the axis's bands or STFT bins), B linear STFT bins (n_fft/2+1),
# T frames, N n_fft, L samples, P padded samples (L + 2 × side padding).

F32, F64, C64, C128 = 4, 8, 8, 16


def _frames(samples: int, spec) -> int:
    return max(1, spec.n_frames(max(samples, spec.min_samples())))


def stft_magnitude(channels: int, samples: int, spec) -> float:
    """frontend.stft.magnitude: float64 padded copy, complex128 STFT, |X|
    (and its float64 windowed frames inside torch.stft)."""
    T, B, N = _frames(samples, spec), spec.n_stft_bins, spec.n_fft
    P = samples + 2 * spec.side_padding
    return channels * (2 * F64 * P + F64 * T * N + C128 * B * T + 2 * F64 * B * T)


def resample(channels: int, samples: int, from_rate: int, to_rate: int) -> float:
    """torchaudio's sinc resampler: a (to/g) × (from/g + 2 width) kernel, g = gcd."""
    if from_rate == to_rate:
        return 0.0
    g = math.gcd(from_rate, to_rate)
    up, down = to_rate // g, from_rate // g
    width = math.ceil(6 * down / min(up, down) / 0.99)  # lowpass_filter_width 6, rolloff 0.99
    kernel = F64 * up * (down + 2 * width)  # built in float64, then cast
    out = math.ceil(samples * to_rate / from_rate)
    return 2 * kernel + channels * (F32 * (samples + 2 * width + down) + 2 * F32 * out)


def audio_read(channels: int, samples: int, itemsize: int = F32) -> float:
    """frontend.audio.read_samples: soundfile's buffer, our copy and its transpose."""
    return 3 * itemsize * channels * samples


def encode(channels: int, samples: int, rate: int, spec, preview: bool) -> Estimate:
    """`vocoder encode`: read, resample, STFT (+ mel), map to pixels, write a PNG."""
    est = Estimate("encoding")
    read = F32 * channels * samples
    est.add("reading the audio", audio_read(channels, samples))
    out = math.ceil(samples * spec.sample_rate / rate)
    est.add("resampling", read + resample(channels, samples, rate, spec.sample_rate))
    wave = read + F32 * channels * out
    T, F = _frames(out, spec), spec.n_bins
    est.add("STFT", wave + stft_magnitude(channels, out, spec) + F32 * channels * (spec.n_stft_bins + F) * T)
    mag = F32 * channels * F * T
    # to_pixels: float64 dB, scaled, rounded, clamped; the PNG rows and zlib's copy.
    est.add("mapping to pixels", wave + mag + 4 * F64 * channels * F * T + 3 * 2 * max(channels, 3) * F * T)
    if preview:
        est.add("preview", wave + mag + preview_cost(channels, F, T))
    return est


def pattern(spec, samples: int) -> Estimate:
    """`vocoder pattern`: the signal synthesised in float64 (or the text drawn
    on the spec's grid), its truth WAV read back, then encoded as `encode` does."""
    est = Estimate(f"drawing a {samples / spec.sample_rate:g} s pattern")
    est.merge(encode(1, samples, spec.sample_rate, spec, preview=False))
    est.add("synthesis", 4 * F64 * samples)
    return est


def preview_cost(channels: int, rows: int, frames: int) -> float:
    """plots.plot_spectrogram: float64 copies in dB, matplotlib's resampled
    image and its RGBA buffer (the figure itself is ~1000×(320C+60) pixels)."""
    return 4 * F64 * channels * rows * frames + 60 * 2**20 * channels


def picture_decode(header) -> float:
    """read_picture: the decoder's frame, our integer copy and float64 pixels (with a temporary);
    a palette picture also keeps its indices (one byte a pixel)."""
    pixels = header.pixels * len(header.bands)
    indices = header.pixels if header.source_mode == "P" else 0
    return 3 * header.stored_bytes + 2 * F64 * pixels + 2 * 2 * pixels + indices


def drawn_plot(header) -> float:
    """drawn_plot.read_drawn_plot on a picture without metadata, besides its float pixels: the
    layout's 16-bit planes and masks (measured 20–33 bytes a pixel), decoding through a colour bar
    (up to 104 bytes a plot pixel; above 2^20 pixels a 2^24-entry table of colour counts,
    ~200 MB), or the OCR's strips (3–14 bytes a pixel). Measured with tracemalloc on SoX, FFmpeg,
    Praat and Octave pictures (issue #18)."""
    pixels = header.pixels
    table = 2**24 * 12 if pixels > 2**20 else 0
    return max(40 * pixels, 120 * pixels + table, 16 * pixels)


def picture_chain(header, channels: int, rows: int, frames: int, blur_sigma: float, embedded: bool) -> float:
    """image.picture_to_spectrogram / _metadata_spectrogram: float64 planes,
    flip, resize with its black mask, blur, brightness → magnitude."""
    C, H, W = channels, header.height, header.width
    held = F64 * header.pixels * len(header.bands)
    if embedded:
        return held + held + F64 * C * H * W + 5 * F64 * C * H * W
    chain = 2 * F64 * C * H * W + F64 * C * H * W  # channel plane, flip, mask
    grid = F64 * C * rows * frames
    steps = 5 * grid  # resized, mask resized, black, where, magnitude temporaries
    if blur_sigma > 0:  # scipy filters a float64 copy in place, one line buffer at a time
        steps = max(steps, 4 * grid)
    return held + chain + steps


def hilbert_order(side: int) -> float:
    """frontend.sonify.hilbert_order: int64 d, x, y, t, the quadrant bits and
    np.where's copies over side² pixels (measured 68 bytes per pixel)."""
    return 80 * side * side


def sonify(header, planes: int, side: int) -> Estimate:
    """`vocoder sonify`: decode, pad to the side² square (float64), read it along
    the curve (float64 values and samples, float32 copy), write a float WAV."""
    est = Estimate(f"sonifying {os.path.basename(header.path)} ({header.width}×{header.height})")
    est.add("decoding the picture", picture_decode(header))
    held = F64 * header.pixels * len(header.bands)
    n = side * side
    square = F64 * planes * n
    est.add("the curve", held + square + max(hilbert_order(side), 16 * n + (2 * F64 + F32) * planes * n))
    est.add("writing", held + 3 * F32 * planes * n)
    return est


def desonify(channels: int, samples: int, height: int, width: int) -> Estimate:
    """`vocoder desonify`: float64 samples, values and the square, the curve's
    order, the cropped picture, its rounding and integers, the PNG's rows."""
    est = Estimate(f"desonifying {samples:,} samples to {width}×{height}")
    est.add("reading the audio", audio_read(channels, samples, F64))
    side = max(1, math.isqrt(samples))
    est.add("the curve", 3 * F64 * channels * samples + hilbert_order(side))
    pixels = channels * height * width
    est.add("the picture", F64 * channels * samples + 2 * F64 * pixels + 2 * pixels + 3 * 2 * pixels)
    return est


def nnls_inverse(channels: int, stft_bins: int, rows: int, frames: int) -> float:
    """frontend.filterbank.nnls_inverse, the inverse of every non-linear axis:
    FISTA's float32 iterates x, z, x_next, gradient and moved_by over the B
    STFT bins, the float32 result and its channels-first copy, one float64
    copy over the bins (the start, then x for the final residual); over the
    F rows, the float64 bands and their batch copy, (MMᵀ)⁺Y, M x − Y, and
    float32 y and M z − y; the F × B matrix (dense and sparse copies) and the
    F × F Gram matrix with its pseudo-inverse."""
    B, F, T = stft_bins, rows, frames
    return (7 * F32 * channels * B * T + F64 * channels * B * T + 4 * F64 * channels * F * T
            + 2 * F32 * channels * F * T + 4 * F64 * B * F + 4 * F64 * F * F)


def axis_inverse(channels: int, spec, frames: int) -> float:
    """The spec's axis → linear bins, as the axis itself states its cost
    (nothing for a linear axis)."""
    return spec.axis.inverse_cost(spec, channels, frames)


# Building blocks of the phase-retrieval backends' working sets (each
# backend's ``working_set`` combines them). Only the spec's framing enters
# (n_fft, hop, padding): the same for a mel or log spec as for its linear STFT.

def spectra(count: int, channels: int, spec, frames: int) -> float:
    """``count`` complex64 spectra of the linear STFT (C × B × T each)."""
    return count * C64 * channels * spec.n_stft_bins * frames


def fgla_buffers(channels: int, spec, frames: int, samples: int) -> float:
    """fast_griffin_lim (griffinlim, fgla and every loop built on its buffers).

    ConsistencyProjection: frames buffer C×T×N, the window envelope built
    once over T×N, the padded signal; FGLA: phase, polar temporary, X and
    its copy, two spectra (complex64), magnitude twice (float32)."""
    N, T = spec.n_fft, frames
    P = samples + 2 * spec.side_padding + N
    cells = channels * spec.n_stft_bins * T
    return (spectra(6, channels, spec, T) + 3 * F32 * cells + F32 * channels * T * N + F32 * T * N
            + 2 * F32 * channels * P)


def pghi_buffers(channels: int, spec, frames: int, samples: int) -> float:
    """pghi_phase and the inverse STFT after it.

    Per channel: float64 log-magnitude and two gradients, heap keys,
    buckets, seeds, visits and the heap itself, float64 phase, float32 angle;
    then the complex spectrum and the inverse STFT's frames."""
    B, N, T = spec.n_stft_bins, spec.n_fft, frames
    P = samples + 2 * spec.side_padding + N
    return 80 * B * T + spectra(3, channels, spec, T) + 2 * F32 * channels * T * N + 2 * F32 * channels * P


def model_load(parameters: int, stored_bytes: int) -> Estimate:
    """Loading a generator of ``parameters`` parameters (its architecture counts
    them from the config): the file's tensors, the module built (weight norm
    doubles it), the state copied in."""
    est = Estimate("loading the model")
    est.add("building the model", stored_bytes + 3 * F32 * parameters)
    return est


def invert(header, spec, channels: int, frames: int, samples: int, backend: str, working_set: float,
           converts_axis: bool, embedded: bool, blur_sigma: float = 0.0, preview: bool = False,
           deviation: bool = False) -> Estimate:
    """`vocoder invert` from a picture header: decode, map, convert, invert
    (``working_set``: the backend's own figure), measure against the input, write.
    ``converts_axis``: the backend takes linear bins, so a mel or log axis is inverted first."""
    est = Estimate(f"inverting {os.path.basename(header.path)} ({header.width}×{header.height}) with {backend}")
    C, F, T, B = channels, spec.n_bins, frames, spec.n_stft_bins
    est.add("decoding the picture", picture_decode(header))
    held = F64 * header.pixels * len(header.bands)  # the Picture lives to the end
    if not embedded:
        est.add("finding a drawn plot's parts, reading its axes", held + drawn_plot(header))
    est.add("picture → spectrogram", picture_chain(header, C, F, T, blur_sigma, embedded))
    held += F32 * C * F * T
    if preview:
        est.add("preview", held + preview_cost(C, F, T))
    if converts_axis and not spec.axis.is_identity:
        est.add(f"{spec.axis.kind} → linear", held + axis_inverse(C, spec, T))
        held += F32 * C * B * T
    est.add("phase retrieval", held + working_set)
    held += F32 * C * samples
    # fidelity.against_input: the input's power (float64), the output's STFT
    # twice in float64 (own domain, linear), their powers.
    est.add("fidelity vs input", held + 2 * F64 * C * F * T + 2 * stft_magnitude(C, samples, spec))
    est.add("writing", held + (F32 + 2 + 4) * C * samples)
    if deviation:  # evaluation.deviation: input and output powers, their map, the linear power, its figure
        est.add("deviation map", held + 3 * F64 * C * F * T + F64 * C * B * T
                + stft_magnitude(C, samples, spec) + preview_cost(C, F, T))
    return est


def bench_clip(channels: int, samples: int, rate: int, spec, backends: Iterable[tuple[str, float, bool]],
               pitch: bool) -> Estimate:
    """One clip of `vocoder bench`: encode, decode, every backend ((label,
    working set, takes linear bins)), every metric, the plots."""
    est = Estimate("bench")
    est.merge(encode(channels, samples, rate, spec, preview=False))
    L = math.ceil(samples * spec.sample_rate / rate)
    T, F, B = _frames(L, spec), spec.n_bins, spec.n_stft_bins
    # reference and its resampled copy, the spectrogram and its decoded copy,
    # the reference's float64 linear power (kept for every backend)
    held = F32 * channels * L * 2 + 2 * F32 * channels * F * T + F64 * channels * B * T
    if pitch:
        # pYIN (librosa): frame matrices and per-frame candidate tables over
        # its own 2048-sample frames at hop/4: measured ~400 bytes per sample.
        est.add("pitch tracking", held + 400 * channels * L)
    for label, working_set, converts_axis in backends:
        step = held
        if converts_axis and not spec.axis.is_identity:
            est.add(f"{label}: {spec.axis.kind} → linear", step + axis_inverse(channels, spec, T))
            step += F32 * channels * B * T
        est.add(f"{label}: phase retrieval", step + working_set)
        step += F32 * channels * L
        # metrics: the estimate's float64 STFT and power, the difference map,
        # multi-resolution STFTs (the largest at 2048), mel cepstra; the deviation
        # map on the input's rows (input power, output power, difference); plots.
        metrics = (3 * stft_magnitude(channels, L, spec) + 3 * F64 * channels * B * T + 40 * F64 * channels * L
                   + 3 * F64 * channels * F * T)
        est.add(f"{label}: metrics and plots", step + metrics + preview_cost(channels, B, T))
    return est


def checkpoint_read(path: str) -> Estimate:
    """Reading a torch checkpoint: a zip archive's entries' declared sizes, or
    a legacy stream's file size.

    torch.save stores entries uncompressed, so a compressed entry (whose
    declared size could lie) is refused rather than inflated.
    """
    import zipfile

    if not zipfile.is_zipfile(path):
        # The legacy (pre-zip) torch format, as the original HiFi-GAN releases use: tensors are
        # stored raw in the stream, so the file's own size bounds what loading allocates.
        est = Estimate(f"reading legacy checkpoint {os.path.basename(path)}")
        est.add("reading the tensors", 2 * os.path.getsize(path))
        return est
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise VocoderError(f"cannot read checkpoint {path}: {str(exc)[:120]}") from None
    if any(e.compress_type != zipfile.ZIP_STORED for e in entries):
        raise VocoderError(f"{path} holds compressed entries; torch.save never writes those, so it is not a "
                           "checkpoint vocoder reads")
    est = Estimate(f"reading checkpoint {os.path.basename(path)}")
    est.add("reading the tensors", 2 * sum(e.file_size for e in entries))
    return est

"""What a screenshot can hold at best: the same recording drawn on the
picture's own grid (plot width × height), over its dB range, in 8 bits, as a
plain grey picture that the same reading inverts.

The recording's spectrogram under the spec the reading uses (the `linear`
preset, or a mel axis for a mel picture; vocoder.frontend.audio), the rows
inside the picture's frequency range, in dB re the loudest cell, resized to
the plot's pixels with the picture chain's own interpolation (antialiased
bilinear), quantised to 8 bits over the picture's dB range, top row the
highest frequency (vocoder.frontend.picture.encode_png). Inverted by
`vocoder invert` with the reading's options minus those about finding and
decoding the picture (crop, colour bar, colour map, polarity, row scale), the
score of that output is what a perfect reading of this picture would get.

Not comparable where the tool's dB reference differs: SoX and FFmpeg draw
dBFS, so their floor sits (range − the clip's peak dBFS) below its peak,
while this picture's floor is the range below the peak cell.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def drawn_range_db(png: Path, plot_box, colorbar_box, db_range: tuple[float, float]) -> float:
    """dB from the loudest cell the picture shows down to the quietest level it draws over at
    least 1 % of the plot: the whole scale where the program scales to the data (matplotlib,
    librosa, Octave, Praat) and draws silence at its bottom (SoX), less where it draws dBFS and
    the recording's loudest cell sits below the top (SoX, FFmpeg), or where the program draws a
    floor above the scale's bottom (FFmpeg 5.1: about 28 dB below a lone tone's colour, measured),
    below which the picture holds nothing. Each distinct plot colour is placed at its nearest
    colour-bar row (RGB distance; bars run loud at the top)."""
    from PIL import Image

    if colorbar_box is None:
        return db_range[1] - db_range[0]
    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB")).astype(np.int32)
    left, top, right, bottom = plot_box
    colours, counts = np.unique(pixels[top:bottom, left:right].reshape(-1, 3), axis=0, return_counts=True)
    bar_left, bar_top, bar_right, bar_bottom = colorbar_box
    bar = pixels[bar_top:bar_bottom, (bar_left + bar_right) // 2]
    rows = np.concatenate([np.abs(bar[None] - chunk[:, None]).sum(axis=2).argmin(axis=1)
                           for chunk in np.array_split(colours, max(1, len(colours) // 2000))])
    per_row = (db_range[1] - db_range[0]) / (len(bar) - 1)
    loudest = db_range[1] - rows.min() * per_row
    order = np.argsort(rows)  # loud (top rows) first
    floor_row = rows[order][np.searchsorted(np.cumsum(counts[order]), 0.99 * counts.sum())]
    return float(loudest - (db_range[1] - floor_row * per_row))


def colour_steps(png: Path, colorbar_box) -> int:
    """The levels a colour bar can draw, less one: its distinct colours along its length
    (255 when the picture has no bar: 8-bit grey)."""
    from PIL import Image

    if colorbar_box is None:
        return 255
    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB"))
    left, top, right, bottom = colorbar_box
    column = pixels[top:bottom, (left + right) // 2] if bottom - top >= right - left else \
        pixels[(top + bottom) // 2, left:right]
    return max(1, min(255, len(np.unique(column, axis=0)) - 1))


def holding_picture(wav: Path, out: Path, width: int, height: int, time_range: tuple[float, float],
                    freq_range: tuple[float, float], db_range: float, mel_bands: int | None = None,
                    pre_emphasis: float = 0.0, steps: int = 255, n_fft: int | None = None) -> Path:
    """Write the 8-bit grey picture of the stretch of ``wav`` the picture spans
    (``time_range``; SoX, for one, drops what does not fill a whole column) on a
    width × height grid, ``db_range`` deep below its loudest cell, tilted by the
    program's ``pre_emphasis`` (dB/octave, 0 dB at 1000 Hz, as Praat's Paint) which
    the reading cannot undo either. ``steps``: the levels the picture can draw, less one
    (255 for 8 bits; Octave's 64-entry colour map draws 64 levels, so 63). ``n_fft``: analyse
    with the program's own window length instead of the reading's 1024 (Hann either way): what a
    picture drawn from a 256-point analysis (matplotlib's and Octave's specgram) can hold."""
    import torch
    import torch.nn.functional as F

    from vocoder.frontend.audio import Audio, audio_to_spectrogram, read_audio
    from vocoder.frontend.filterbank import MelAxis
    from vocoder.frontend.picture import encode_png
    from vocoder.spec import get_preset

    spec = get_preset("linear")
    if n_fft is not None:
        from dataclasses import replace

        spec = replace(spec, n_fft=n_fft, win_length=n_fft, hop_length=min(spec.hop_length, n_fft // 2))
    if mel_bands is not None:
        from dataclasses import replace

        spec = replace(spec, axis=MelAxis(n_mels=mel_bands, fmin=0.0, fmax=spec.sample_rate / 2))
    audio = read_audio(str(wav))
    # As long as the reading's --duration (the axis's span), from the axis's start or 0.
    first = int(round(max(time_range[0], 0.0) * audio.sample_rate))
    last = first + int(round((time_range[1] - time_range[0]) * audio.sample_rate))
    audio = Audio(audio.samples[:, first:last], audio.sample_rate, audio.provenance)
    magnitude = audio_to_spectrogram(audio, spec).magnitude.double().mean(dim=0)
    if mel_bands is None:  # the rows --freq-range places, as the picture chain counts them
        hz_per_bin = spec.sample_rate / spec.n_fft
        first = int(math.ceil(freq_range[0] / hz_per_bin))
        last = min(int(math.floor(freq_range[1] / hz_per_bin)), spec.n_bins - 1)
        magnitude = magnitude[first:last + 1]
    db = 20 * torch.log10(magnitude.clamp_min(1e-30))
    if pre_emphasis:
        hz = torch.arange(first, first + db.shape[0], dtype=torch.float64) * spec.sample_rate / spec.n_fft
        db = db + pre_emphasis * torch.log2(hz.clamp_min(1e-9) / 1000.0)[:, None]
    db = db - db.max()
    grid = F.interpolate(db[None, None], size=(height, width), mode="bilinear", align_corners=False,
                         antialias=True)[0, 0]
    levels = torch.clamp(torch.round((grid + db_range) / db_range * steps), 0, steps) * (255 / steps)
    levels = torch.round(levels).numpy().astype(np.uint8)
    out.write_bytes(encode_png(np.ascontiguousarray(levels[::-1])))
    return out

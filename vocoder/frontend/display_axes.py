"""Where other programs draw each frequency band: image rows for a plot's
frequency axis.

Our own pictures (and Riffusion's) give every band one row, evenly. A figure
is different: librosa's ``specshow`` draws a mel spectrogram's bands as cells
centred on their centre frequencies on a *symlog* axis (linear below 1 kHz,
base-2 logarithmic above), not evenly in mel; a linear spectrogram on a plain
Hz axis or, with ``y_axis="log"``, on a symlog axis below C2. Reading such a
figure row by row as if the bands were even bends the spectrum. Here each
convention gives, for every band of the spec, the fractional row (from the
bottom of the plot area) where its cell's centre is drawn; the decoder samples
the picture there.

The scales are matplotlib's own transforms with the parameters librosa 0.11's
``display.__scale_axes`` sets; the cell edges follow pcolormesh's
``shading="nearest"`` (midpoints between centres, half a spacing beyond the
ends), which is what librosa's default ``shading="auto"`` does with one
coordinate per band.
"""

from __future__ import annotations

import numpy as np

from vocoder.errors import VocoderError
from vocoder.frontend.filterbank import LinearAxis, MelAxis
from vocoder.spec import SpectrogramSpec

ROW_SCALES = ("uniform", "librosa", "librosa-log")


def _centres(spec: SpectrogramSpec) -> np.ndarray:
    """The band centre frequencies librosa's specshow uses for this spec's axis."""
    import librosa

    if isinstance(spec.axis, MelAxis):
        low, high = spec.axis.band(spec)
        return librosa.mel_frequencies(spec.axis.n_mels, fmin=low, fmax=high, htk=spec.axis.mel_scale == "htk")
    if isinstance(spec.axis, LinearAxis):
        return librosa.fft_frequencies(sr=spec.sample_rate, n_fft=spec.n_fft)
    raise VocoderError(f"--row-scale librosa knows mel and linear axes, not {spec.axis.kind!r}")


def _transform(spec: SpectrogramSpec, row_scale: str):
    from matplotlib.scale import SymmetricalLogTransform

    if row_scale == "librosa" and isinstance(spec.axis, MelAxis):
        return SymmetricalLogTransform(base=2, linthresh=1000.0, linscale=1.0)  # librosa: y_axis="mel"
    if row_scale == "librosa" and isinstance(spec.axis, LinearAxis):
        return None  # y_axis="linear"/"hz": plain Hz
    if row_scale == "librosa-log" and isinstance(spec.axis, LinearAxis):
        import librosa

        # y_axis="log": symlog, threshold C2, linscale 0.5
        return SymmetricalLogTransform(base=2, linthresh=float(librosa.note_to_hz("C2")), linscale=0.5)
    raise VocoderError(f"--row-scale {row_scale} does not apply to a {spec.axis.kind} axis "
                       "(librosa-log is for linear spectrograms shown with y_axis='log')")


def band_rows(spec: SpectrogramSpec, height: int, row_scale: str) -> np.ndarray:
    """Fractional row (0 = centre of the bottom row) of every band's centre."""
    if row_scale not in ROW_SCALES:
        raise VocoderError(f"--row-scale must be one of {', '.join(ROW_SCALES)} (got {row_scale!r})")
    centres = _centres(spec)
    if len(centres) != spec.n_bins:
        raise VocoderError("the spec's bands do not match librosa's display coordinates")
    step = np.diff(centres)
    edges = np.concatenate([[centres[0] - step[0] / 2], centres[:-1] + step / 2, [centres[-1] + step[-1] / 2]])
    transform = _transform(spec, row_scale)
    forward = (lambda f: f) if transform is None else (lambda f: transform.transform(np.asarray(f, float)))
    low, high = forward(edges[0]), forward(edges[-1])
    position = (forward(centres) - low) / (high - low)  # 0 at the bottom edge, 1 at the top
    return position * height - 0.5

"""The screenshot experiment's score: in-band log-mel L1 against the recording,
gain-matched.

Both signals at 22050 Hz, STFT 1024/256 Hann (the project's `linear` preset,
through vocoder.frontend.audio, so no STFT is written here), 80 Slaney mel bands
over 0–11025 Hz (librosa.filters.mel), natural log with floor 1e-5: HiFi-GAN's
mel loss (Kong et al. 2020, meldataset.py `dynamic_range_compression`, C=1,
clip 1e-5) on the full band. Only the bands whose centre lies inside the
picture's frequency range count (what the picture cannot show is not the
reading's fault), and a picture has no level, so the estimate's gain is the
offset that minimises the L1: the median of the log difference over the in-band
cells. Lengths are trimmed to the shorter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 22050
N_MELS = 80
LOG_FLOOR = 1e-5


@dataclass(frozen=True)
class Score:
    l1: float  # mean |ln mel(ref) − ln mel(est) − offset| over in-band cells (nats)
    gain_db: float  # the offset that matched the levels, in dB of amplitude
    bands: int  # in-band mel bands
    frames: int  # frames compared


def _mel_matrix() -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=1024, n_mels=N_MELS, fmin=0.0, fmax=SAMPLE_RATE / 2)


def band_centres() -> np.ndarray:
    """Centre frequencies (Hz) of the 80 Slaney mel bands, as librosa.filters.mel places them."""
    import librosa

    return librosa.mel_frequencies(N_MELS + 2, fmin=0.0, fmax=SAMPLE_RATE / 2)[1:-1]


def log_mel(wav: Path) -> np.ndarray:
    """ln max(mel, 1e-5) of a recording's first channel mixed to mono: (80, frames)."""
    from vocoder.frontend.audio import audio_to_spectrogram, read_audio
    from vocoder.spec import get_preset

    spectrogram = audio_to_spectrogram(read_audio(str(wav)), get_preset("linear"))
    magnitude = spectrogram.magnitude.double().numpy().mean(axis=0)  # channels averaged: mono
    return np.log(np.maximum(_mel_matrix() @ magnitude, LOG_FLOOR))


def score(reference: Path, estimate: Path, band: tuple[float, float], start: float = 0.0) -> Score:
    """In-band, gain-matched log-mel L1 of ``estimate`` against ``reference``; ``start``: the
    second of the reference the estimate begins at (a reading's --time-range), to the nearest hop."""
    a, b = log_mel(reference), log_mel(estimate)
    a = a[:, int(round(start * SAMPLE_RATE / 256)):]
    frames = min(a.shape[1], b.shape[1])
    centres = band_centres()
    inside = (centres >= band[0]) & (centres <= band[1])
    difference = a[inside, :frames] - b[inside, :frames]
    offset = float(np.median(difference))
    return Score(l1=float(np.mean(np.abs(difference - offset))), gain_db=offset * 20 / np.log(10),
                 bands=int(inside.sum()), frames=frames)

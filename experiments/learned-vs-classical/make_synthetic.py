"""Synthetic clips for the content kinds the shared data lacks: tones, noise,
and animal-like calls. Every clip here is SYNTHETIC (made by this script, not
recorded); its name starts with ``synth_`` so no table can mistake it for a
recording. Deterministic: a fixed seed, so a rerun rewrites identical files.

    .venv/bin/python experiments/learned-vs-classical/make_synthetic.py [OUT_DIR]

OUT_DIR (default experiments/learned-vs-classical/synthetic/) is git-ignored;
run.sh regenerates it. Writes 24-bit WAVs at 22 050 Hz (the `hifigan`
preset's rate, so nothing is resampled) and manifest.csv (clip, kind, what).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 22050
SEED = 20261125
SECONDS = 4.0


def _time(seconds: float = SECONDS) -> np.ndarray:
    return np.arange(int(round(seconds * RATE))) / RATE


def _fade(x: np.ndarray, ms: float = 20.0) -> np.ndarray:
    """Raised-cosine fade in and out, so no clip starts or ends with a click."""
    n = int(RATE * ms / 1000)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))
    x = x.copy()
    x[:n] *= ramp
    x[-n:] *= ramp[::-1]
    return x


def _peak(x: np.ndarray, peak: float = 0.5) -> np.ndarray:
    return x * (peak / np.max(np.abs(x)))


def _shaped_noise(rng: np.random.Generator, gain) -> np.ndarray:
    """White Gaussian noise with its spectrum multiplied by gain(freqs)."""
    n = len(_time())
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    return np.fft.irfft(spectrum * gain(freqs), n)


def _chirp(f_of_t: np.ndarray) -> np.ndarray:
    """A sinusoid following the instantaneous frequency f_of_t (Hz per sample)."""
    return np.sin(2 * np.pi * np.cumsum(f_of_t) / RATE)


def clips(rng: np.random.Generator) -> list[tuple[str, str, str, np.ndarray]]:
    """(name, study kind, description, samples) for every synthetic clip."""
    t = _time()
    out = []
    out.append(("synth_tone_440", "tones", "pure tone, 440 Hz",
                _fade(0.5 * np.sin(2 * np.pi * 440 * t))))
    harmonics = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 21))  # 220 Hz … 4.4 kHz, 1/k
    out.append(("synth_harmonic_220", "tones", "harmonic complex, f0 220 Hz, 20 harmonics with 1/k amplitudes",
                _fade(_peak(harmonics))))
    sweep_seconds = 6.0
    ts = _time(sweep_seconds)
    f = 50.0 * (7500.0 / 50.0) ** (ts / sweep_seconds)  # exponential 50 Hz → 7.5 kHz (below the mel's 8 kHz)
    out.append(("synth_sweep_50_7500", "tones", "slow exponential sine sweep, 50 Hz to 7.5 kHz over 6 s",
                _fade(0.5 * _chirp(f))))
    out.append(("synth_dc_low_tone", "tones", "DC offset 0.2 plus a 40 Hz tone at 0.3",
                _fade(0.2 + 0.3 * np.sin(2 * np.pi * 40 * t), ms=100.0)))
    out.append(("synth_noise_white", "noise", "white Gaussian noise",
                _fade(_peak(rng.standard_normal(len(t)), 0.5))))
    out.append(("synth_noise_pink", "noise", "pink noise (power ∝ 1/f above 20 Hz)",
                _fade(_peak(_shaped_noise(rng, lambda fr: 1 / np.sqrt(np.maximum(fr, 20.0)))))))
    out.append(("synth_noise_band_1k_3k", "noise", "band-limited noise, 1 to 3 kHz (brick-wall in the FFT)",
                _fade(_peak(_shaped_noise(rng, lambda fr: ((fr >= 1000) & (fr <= 3000)).astype(float))))))
    out.append(("synth_birdlike_chirps", "animals",
                "SYNTHETIC stand-in for birdsong: frequency-modulated whistles (2 to 6 kHz, 60 to 180 ms) with "
                "silent gaps", _birdlike(rng)))
    out.append(("synth_whalelike_moan", "animals",
                "SYNTHETIC stand-in for a whale call: slow 6 s moan gliding 150 → 420 → 90 Hz with 4 harmonics "
                "and slow vibrato", _whalelike()))
    return out


def _birdlike(rng: np.random.Generator) -> np.ndarray:
    x = np.zeros(len(_time()))
    start = int(0.15 * RATE)
    for _ in range(12):
        length = int(rng.uniform(0.06, 0.18) * RATE)
        if start + length >= len(x):
            break
        u = np.linspace(0, 1, length)
        low, high = sorted(rng.uniform(2000, 6000, 2))
        shape = rng.integers(3)  # up-sweep, down-sweep, or a trill
        if shape == 0:
            f = low + (high - low) * u
        elif shape == 1:
            f = high - (high - low) * u
        else:
            f = (low + high) / 2 + (high - low) / 2 * np.sin(2 * np.pi * rng.uniform(20, 40) * u * length / RATE)
        envelope = np.sin(np.pi * u) ** 2
        x[start:start + length] += 0.5 * envelope * _chirp(f)
        start += length + int(rng.uniform(0.05, 0.25) * RATE)
    return x


def _whalelike() -> np.ndarray:
    seconds = 6.0
    t = _time(seconds)
    u = t / seconds
    glide = np.interp(u, [0, 0.45, 1], [150.0, 420.0, 90.0])
    f0 = glide * (1 + 0.01 * np.sin(2 * np.pi * 3.0 * t))
    tone = sum(_chirp(k * f0) * 0.6**(k - 1) for k in range(1, 5))
    envelope = np.sin(np.pi * np.clip((t - 0.3) / (seconds - 0.8), 0, 1)) ** 1.5
    return _peak(envelope * tone)


def main(out_dir: Path) -> None:
    rng = np.random.default_rng(SEED)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, kind, what, samples in clips(rng):
        sf.write(out_dir / f"{name}.wav", samples.astype(np.float32), RATE, subtype="PCM_24")  # no PEAK chunk timestamp: reruns are byte-identical
        rows.append({"clip": name, "kind": kind, "synthetic": "yes", "what": what,
                     "seconds": f"{len(samples) / RATE:.2f}"})
    with open(out_dir / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} synthetic clips to {out_dir}/")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "synthetic")

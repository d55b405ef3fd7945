"""Phase-gradient heap integration (PGHI): phase from the magnitude alone.

Průša, Balazs & Søndergaard, "A Noniterative Method for Reconstruction of
Phase From STFT Magnitude", IEEE/ACM TASLP 25(5), 2017.

For a Gaussian window φ_λ(t) = exp(−π t²/λ) the log-magnitude s = log|V| and
the phase φ of the STFT are the real and imaginary parts of an analytic
function, so their derivatives are tied (Cauchy–Riemann). With the
*frequency-invariant* phase convention (phase measured from the window's own
position, V(x, ω) = ∫ f(t) g(t − x) e^{−2πiω(t − x)} dt; x in samples, ω in
cycles per sample):

    ∂φ/∂x = (1/λ) ∂s/∂ω + 2πω          (time direction)
    ∂φ/∂ω = −λ ∂s/∂x                   (frequency direction)

(paper, eqs. 17–18 in its discrete form). A Hann, Hamming or Blackman window
is treated as the Gaussian with the closest λ (paper, Table I). The phase is
then integrated with the trapezoidal rule, always from the largest coefficient
already known to its unknown neighbours (a max-heap), because the gradient
estimates are most reliable where the magnitude is large. Coefficients below
``tol`` × the channel's maximum get random phase (seeded) and are never
integrated through.

Phase convention of our STFT. ``torch.stft`` (and so
:func:`vocoder.frontend.stft.stft`) measures each frame's phase from the
frame's *first sample*, not from the window's centre. For a window centred at
sample ``c`` of the frame that is the frame-centred phase minus 2πkc/M (for
n_fft = win_length = M, c = M/2: a factor (−1)^k). Because both conventions
are local to a frame, the padding ("center" or "same") does not enter: it only
moves every frame by the same number of samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numba
import numpy as np
import torch

from vocoder.errors import VocoderError
from vocoder.inversion.base import Inverter
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

# λ of the Gaussian that best matches each window, as a multiple of
# win_length² (Průša, Balazs & Søndergaard 2017, Table I).
GAMMA_FACTORS = {"hann": 0.25645, "hamming": 0.29794, "blackman": 0.17954}

# Default relative tolerance: coefficients more than 100 dB below the
# channel's peak get random phase. Measured on LJ Speech (experiments/
# classical-speed): 1e-5 is as good as anything from 1e-4 to 1e-8; above 1e-3
# the speech's quiet harmonics lose their integrated phase.
DEFAULT_TOL = 1e-5


def gamma(spec: SpectrogramSpec) -> float:
    """λ (samples²) of the Gaussian matched to the spec's window."""
    try:
        return GAMMA_FACTORS[spec.window] * spec.win_length ** 2
    except KeyError:
        raise VocoderError(
            f"pghi knows the Gaussian match for {', '.join(GAMMA_FACTORS)} windows, not {spec.window!r}"
        ) from None


def window_centre(spec: SpectrogramSpec) -> float:
    """Sample of the frame where our window is centred (its symmetry point).

    ``frontend.stft.window`` pads a periodic window of win_length samples,
    symmetric about win_length/2, with (n_fft − win_length)//2 zeros in front.
    """
    return (spec.n_fft - spec.win_length) // 2 + spec.win_length / 2


def phase_gradients(logmag: np.ndarray, spec: SpectrogramSpec) -> tuple[np.ndarray, np.ndarray]:
    """Phase increments per frame step and per bin step, (frames × bins) each.

    ``logmag`` is log|X| laid out frames × bins (float64). Returns
    ``(dt, df)``: a·∂φ/∂x (radians from one frame to the next) and
    (1/M)·∂φ/∂ω (radians from one bin to the next), both in the
    frame-centred, frequency-invariant convention.
    """
    a, M, lam = spec.hop_length, spec.n_fft, gamma(spec)
    T, F = logmag.shape
    # ∂s/∂x: central differences over frames (one-sided at the ends), per sample.
    if T > 1:
        ds_dx = np.gradient(logmag, axis=0) / a
    else:
        ds_dx = np.zeros_like(logmag)
    # ∂s/∂ω: central differences over bins. A real signal's |X| is symmetric
    # about DC and Nyquist, so the bins beyond both ends mirror the ones inside.
    mirror_hi = M - F  # bin index that bin F (one past the last) mirrors
    padded = np.concatenate([logmag[:, 1:2] if F > 1 else logmag[:, :1], logmag,
                             logmag[:, mirror_hi:mirror_hi + 1]], axis=1)
    ds_dw = (padded[:, 2:] - padded[:, :-2]) * (M / 2.0)  # per cycle/sample: Δω = 1/M
    omega = np.arange(F) / M
    dt = a * (ds_dw / lam + 2 * np.pi * omega)
    df = (-lam * ds_dx) / M
    return dt, df


# -- heap integration (compiled) -------------------------------------------------


@numba.njit(cache=True, nogil=True)
def _sift_up(keys, items, pos):
    key, item = keys[pos], items[pos]
    while pos > 0:
        parent = (pos - 1) >> 1
        if keys[parent] >= key:
            break
        keys[pos], items[pos] = keys[parent], items[parent]
        pos = parent
    keys[pos], items[pos] = key, item


@numba.njit(cache=True, nogil=True)
def _sift_down(keys, items, size):
    key, item = keys[0], items[0]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] > keys[child]:
            child += 1
        if keys[child] <= key:
            break
        keys[pos], items[pos] = keys[child], items[child]
        pos = child
    keys[pos], items[pos] = key, item


@numba.njit(cache=True, nogil=True)
def heap_integrate(logmag, dt, df, threshold, start_order, start_phase):
    """Integrate the phase gradients over every coefficient above ``threshold``.

    logmag, dt, df: (frames × bins) float64; ``start_order``: all flat indices
    by decreasing magnitude (where a new island starts when the heap runs dry);
    ``start_phase``: flat array of phases for island seeds and for coefficients
    below the threshold.

    Returns (phase, visits, order): ``visits[i]`` counts how often coefficient
    i was assigned a phase by the integration (must be 1 above the threshold,
    0 below) and ``order[i]`` is when it left the heap (−1: never entered).
    """
    T, F = logmag.shape
    n = T * F
    flat = logmag.ravel()
    dtf = dt.ravel()
    dff = df.ravel()
    phase = start_phase.copy()
    done = flat <= threshold  # below tolerance: keep the random phase
    visits = np.zeros(n, np.int32)
    order = np.full(n, -1, np.int64)
    keys = np.empty(n, np.float64)
    items = np.empty(n, np.int64)
    size = 0
    popped = 0
    for seed in start_order:
        if done[seed]:
            continue
        # A new island: its largest coefficient keeps its (random) phase.
        done[seed] = True
        visits[seed] += 1
        keys[0], items[0] = flat[seed], seed
        size = 1
        while size > 0:
            i = items[0]
            size -= 1
            if size > 0:
                keys[0], items[0] = keys[size], items[size]
                _sift_down(keys, items, size)
            order[i] = popped
            popped += 1
            m, k = i // F, i % F
            # Four neighbours: next/previous frame, next/previous bin.
            for d in range(4):
                if d == 0:
                    if m + 1 >= T:
                        continue
                    j = i + F
                    step = 0.5 * (dtf[i] + dtf[j])
                elif d == 1:
                    if m == 0:
                        continue
                    j = i - F
                    step = -0.5 * (dtf[i] + dtf[j])
                elif d == 2:
                    if k + 1 >= F:
                        continue
                    j = i + 1
                    step = 0.5 * (dff[i] + dff[j])
                else:
                    if k == 0:
                        continue
                    j = i - 1
                    step = -0.5 * (dff[i] + dff[j])
                if done[j]:
                    continue
                phase[j] = phase[i] + step
                done[j] = True
                visits[j] += 1
                keys[size], items[size] = flat[j], j
                _sift_up(keys, items, size)
                size += 1
    return phase.reshape(T, F), visits.reshape(T, F), order.reshape(T, F)


# -- the phase for a Spectrogram -------------------------------------------------


def pghi_phase_channel(magnitude: np.ndarray, spec: SpectrogramSpec, tol: float,
                       rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Phase (bins × frames, our STFT's convention) for one channel's |X|.

    Also returns the integration's bookkeeping (``visits``, ``order``,
    ``above``: the coefficients above tolerance), frames × bins, for checks.
    """
    mag = np.ascontiguousarray(magnitude.T, dtype=np.float64)  # frames × bins
    T, F = mag.shape
    random_phase = rng.uniform(0.0, 2 * np.pi, size=T * F)
    peak = float(mag.max()) if mag.size else 0.0
    if peak <= 0.0:  # silence: nothing to integrate
        phase = random_phase.reshape(T, F)
        info = {"visits": np.zeros((T, F), np.int32), "order": np.full((T, F), -1), "above": np.zeros((T, F), bool)}
    else:
        floor = tol * peak
        # Clamp at the tolerance so the gradients beside silent regions stay finite.
        logmag = np.log(np.maximum(mag, floor))
        dt, df = phase_gradients(logmag, spec)
        threshold = math.log(floor)
        start_order = np.argsort(-logmag, axis=None, kind="stable")
        phase, visits, order = heap_integrate(logmag, dt, df, threshold, start_order, random_phase)
        info = {"visits": visits, "order": order, "above": logmag > threshold}
    # Frame-centred → frame-start phase (torch.stft's convention).
    k = np.arange(F)
    phase = phase - 2 * np.pi * k * window_centre(spec) / spec.n_fft
    return phase.T, info


def pghi_phase(spectrogram: Spectrogram, tol: float = DEFAULT_TOL, seed: int = 0) -> torch.Tensor:
    """Unit-modulus complex phase (channels × bins × frames, complex64)."""
    spec = spectrogram.spec
    if spec.scale != "linear":
        raise ValueError("PGHI needs a linear magnitude; convert the mel first")
    gamma(spec)  # refuse unknown windows before any work
    rng = np.random.default_rng(seed)
    mags = spectrogram.magnitude.detach().cpu().numpy()
    phases = [pghi_phase_channel(channel, spec, tol, rng)[0] for channel in mags]
    angle = torch.from_numpy(np.stack(phases)).to(torch.float32)
    return torch.polar(torch.ones_like(angle), angle)


def check_tol(tol: float) -> None:
    if not (isinstance(tol, (int, float)) and 0.0 < tol < 1.0):
        raise VocoderError(f"--tol must be a relative magnitude in (0, 1) (got {tol})")


@dataclass
class PGHI(Inverter):
    name: ClassVar[str] = "pghi"
    summary: ClassVar[str] = ("phase-gradient heap integration (Průša et al. 2017), non-iterative, --tol; "
                              "classical, any spec")

    tol: float = DEFAULT_TOL
    seed: int = 0

    def __post_init__(self) -> None:
        check_tol(self.tol)

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        from vocoder.frontend.stft import istft

        phase = pghi_phase(spectrogram, self.tol, self.seed)
        return istft(spectrogram.magnitude.to(torch.float32) * phase, spectrogram.spec, spectrogram.length)

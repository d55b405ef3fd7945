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

(derived in the paper; we discretise with central differences, as it does).
A Hann, Hamming or Blackman window is treated as the Gaussian with the
closest λ, using the paper's constants; a "gauss" window is used as it is. The phase is
then integrated with the trapezoidal rule, always from the largest coefficient
already known to its unknown neighbours (a max-heap), because the gradient
estimates are most reliable where the magnitude is large. Each island (a
region not reached from what is already integrated) starts at its largest
coefficient with phase 0, as published. Coefficients below ``tol`` × the
channel's maximum get random phase (the backend's ``seed``: the only thing it
still affects) and are never integrated through. DC and Nyquist end as 0 or
π, the nearer to the integrated phase: a real signal's frames are real there.

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
from dataclasses import dataclass, field
from typing import ClassVar

import numba
import numpy as np
import torch

from vocoder import costs
from vocoder.errors import VocoderError
from vocoder.frontend.stft import istft
from vocoder.inversion.base import Inverter
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

# λ of the Gaussian that best matches each window, as a multiple of
# win_length² (Průša, Balazs & Søndergaard 2017: γ = 0.25645 × L² for
# a Hann window of length L; the Hann value is also the design brief's anchor).
# A "gauss" window needs no match: its own γ (spec.gaussian_gamma; the paper's
# Gaussian has λ = aM/L, γ = λL = aM) makes the relations exact, up to the
# truncation to win_length.
GAMMA_FACTORS = {"hann": 0.25645, "hamming": 0.29794, "blackman": 0.17954}
PGHI_WINDOWS = (*GAMMA_FACTORS, "gauss")

# Default relative tolerance: coefficients more than 80 dB below the
# channel's peak get random phase. Measured on the nine eval clips at
# redundancy 4 and 8 (experiments/classical-speed/results.md): 1e-4 gives the
# same spectral convergence as 1e-5 (±0.05 dB) in 65–85% of the time; 1e-3
# loses up to 0.25 dB at redundancy 8; 1e-2 loses several dB.
DEFAULT_TOL = 1e-4


def gamma(spec: SpectrogramSpec) -> float:
    """λ (samples²) of the Gaussian matched to the spec's window (its own for "gauss")."""
    if spec.window == "gauss":
        return spec.gaussian_gamma
    try:
        return GAMMA_FACTORS[spec.window] * spec.win_length ** 2
    except KeyError:
        raise VocoderError(
            f"pghi needs a window with a known Gaussian match ({', '.join(PGHI_WINDOWS)}); "
            f"this spectrogram's "
            f"window is {spec.window}: use fgla or griffinlim, or encode with --window hann"
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
    return _phase_gradients(np.ascontiguousarray(logmag, dtype=np.float64), spec.hop_length, spec.n_fft, gamma(spec))


@numba.njit(cache=True, nogil=True)
def _phase_gradients(logmag, a, M, lam):
    T, F = logmag.shape
    dt = np.empty((T, F))
    df = np.empty((T, F))
    mirror_hi = M - F  # the bin that bin F (one past the last) mirrors
    for m in range(T):
        # ∂s/∂x per sample: central differences over frames, one-sided at the ends.
        if T == 1:
            prev_m, next_m, span = m, m, 1.0
        elif m == 0:
            prev_m, next_m, span = 0, 1, 1.0
        elif m == T - 1:
            prev_m, next_m, span = T - 2, T - 1, 1.0
        else:
            prev_m, next_m, span = m - 1, m + 1, 2.0
        for k in range(F):
            ds_dx = (logmag[next_m, k] - logmag[prev_m, k]) / (span * a)
            # ∂s/∂ω per cycle/sample (Δω = 1/M): central differences over bins.
            # A real signal's |X| is symmetric about DC and Nyquist, so the bins
            # beyond both ends mirror the ones inside.
            below = logmag[m, k - 1] if k > 0 else logmag[m, min(1, F - 1)]
            above = logmag[m, k + 1] if k + 1 < F else logmag[m, mirror_hi]
            ds_dw = (above - below) * (M / 2.0)
            dt[m, k] = a * (ds_dw / lam + 2 * np.pi * k / M)
            df[m, k] = -lam * ds_dx / M
    return dt, df


# -- heap integration (compiled) -------------------------------------------------
#
# Heap entries are single uint64 words: the float32 bit pattern of
# (log|X| − log threshold), which is positive above the tolerance and so
# ordered like the value itself, in the high 32 bits and the flat index in the
# low 32 bits. One array and one integer comparison per heap step (ties go to
# the larger index). float32 resolves log-magnitudes to ~1e-6 dB, far below
# anything the phase estimate can tell apart.
#
# Islands (regions above tolerance not connected to what was integrated so
# far) start from their largest coefficient. Rather than sorting every
# coefficient for that (a third of the run time), seeds come from a counting
# sort into SEED_BUCKETS equal steps of log-magnitude: a seed is within one
# step (≤ 100 dB / 65536 ≈ 0.002 dB at tol 1e-5) of the true remaining maximum.
SEED_BUCKETS = 65536


@numba.njit(cache=True, nogil=True)
def heap_keys(logmag, threshold):
    """(keys, seeds) for a (frames × bins) float64 log-magnitude.

    keys: uint64 per coefficient (0 at or below ``threshold``); seeds: flat
    indices of the coefficients above it, largest first (to a 1/SEED_BUCKETS
    step of the range; by index within a step).
    """
    flat = logmag.ravel()
    n = flat.size
    height = np.empty(n, np.float32)
    top = np.float32(0.0)
    for i in range(n):
        h = flat[i] - threshold
        height[i] = h if h > 0 else 0.0
        top = max(top, height[i])
    bits = height.view(np.uint32)
    keys = np.zeros(n, np.uint64)
    bucket = np.empty(n, np.int64)
    counts = np.zeros(SEED_BUCKETS + 1, np.int64)
    scale = (SEED_BUCKETS - 1) / top if top > 0 else 0.0
    for i in range(n):
        if height[i] > 0:
            keys[i] = (np.uint64(bits[i]) << np.uint64(32)) | np.uint64(i)
            b = SEED_BUCKETS - 1 - np.int64(height[i] * scale)  # largest first
            bucket[i] = b
            counts[b + 1] += 1
    for b in range(SEED_BUCKETS):
        counts[b + 1] += counts[b]
    seeds = np.empty(counts[SEED_BUCKETS], np.int64)
    for i in range(n):
        if height[i] > 0:
            seeds[counts[bucket[i]]] = i
            counts[bucket[i]] += 1
    return keys.reshape(logmag.shape), seeds


# A 4-ary max-heap: half the levels of a binary one and the four children
# share a cache line; 30% faster here on speech than binary (same order).
@numba.njit(cache=True, nogil=True)
def _sift_up(heap, pos):
    item = heap[pos]
    while pos > 0:
        parent = (pos - 1) >> 2
        if heap[parent] >= item:
            break
        heap[pos] = heap[parent]
        pos = parent
    heap[pos] = item


@numba.njit(cache=True, nogil=True)
def _sift_down(heap, size):
    item = heap[0]
    pos = 0
    while True:
        first = 4 * pos + 1
        if first >= size:
            break
        best, value = first, heap[first]
        for child in range(first + 1, min(first + 4, size)):
            if heap[child] > value:
                best, value = child, heap[child]
        if value <= item:
            break
        heap[pos] = value
        pos = best
    heap[pos] = item


@numba.njit(cache=True, nogil=True)
def heap_integrate(keys, seeds, dt, df, start_phase):
    """Integrate the phase gradients over every coefficient with a key.

    keys: (frames × bins) uint64 from :func:`heap_keys` (0: below tolerance);
    seeds: flat indices, largest first, where a new island starts when the
    heap runs dry; dt, df: (frames × bins) phase steps from
    :func:`phase_gradients`; start_phase: flat phases kept by island seeds and
    by coefficients below tolerance.

    Returns (phase, visits, order): ``visits[i]`` counts how often coefficient
    i was assigned a phase (must be 1 above tolerance, 0 below) and
    ``order[i]`` is when it left the heap (−1: never entered).
    """
    T, F = keys.shape
    n = T * F
    flat = keys.ravel()
    dtf = dt.ravel()
    dff = df.ravel()
    phase = start_phase.copy()
    done = flat == 0  # below tolerance: keep the random phase
    visits = np.zeros(n, np.int32)
    order = np.full(n, -1, np.int64)
    heap = np.empty(n, np.uint64)
    low = np.uint64(0xFFFFFFFF)
    popped = 0
    for seed in seeds:
        if done[seed]:
            continue
        # A new island: its largest coefficient keeps its (random) phase.
        done[seed] = True
        visits[seed] += 1
        heap[0] = flat[seed]
        size = 1
        while size > 0:
            i = np.int64(heap[0] & low)
            size -= 1
            if size > 0:
                heap[0] = heap[size]
                _sift_down(heap, size)
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
                heap[size] = flat[j]
                _sift_up(heap, size)
                size += 1
    return phase.reshape(T, F), visits.reshape(T, F), order.reshape(T, F)


# -- the phase for a Spectrogram -------------------------------------------------


def integrate_channel(magnitude: np.ndarray, spec: SpectrogramSpec, tol: float,
                      rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Frame-centred phase (frames × bins) for one channel's |X| (bins × frames).

    Also returns the integration's bookkeeping (``visits``, ``order``,
    ``above``: the coefficients above tolerance), frames × bins, for checks.
    """
    mag = np.ascontiguousarray(magnitude.T, dtype=np.float64)  # frames × bins
    T, F = mag.shape
    start_phase = rng.uniform(0.0, 2 * np.pi, size=T * F)
    peak = float(mag.max()) if mag.size else 0.0
    if peak <= 0.0:  # silence: nothing to integrate
        info = {"visits": np.zeros((T, F), np.int32), "order": np.full((T, F), -1), "above": np.zeros((T, F), bool)}
        return start_phase.reshape(T, F), info
    floor = tol * peak
    # Clamp at the tolerance so the gradients beside silent regions stay finite.
    logmag = np.log(np.maximum(mag, floor))
    dt, df = phase_gradients(logmag, spec)
    keys, seeds = heap_keys(logmag, math.log(floor))
    # Every island's seed starts from phase 0, as the published algorithm does
    # (Průša et al. 2017); only coefficients below tolerance keep a
    # random phase. A random seed phase is harmless for a tone (a constant
    # phase offset of its island) but not for a DC offset or content near DC,
    # whose frames are nearly real: a random start keeps only cos(φ0) of them.
    start_phase[keys.ravel() > 0] = 0.0
    phase, visits, order = heap_integrate(keys, seeds, dt, df, start_phase)
    return phase, {"visits": visits, "order": order, "above": keys > 0}


def frame_start_shift(spec: SpectrogramSpec) -> float:
    """Radians per bin to subtract from a frame-centred phase to get
    torch.stft's frame-start phase: 2π·c/M for a window centred at sample c."""
    return 2 * np.pi * window_centre(spec) / spec.n_fft


def real_bins(spec: SpectrogramSpec, bins: int) -> tuple[int, ...]:
    """Bins whose STFT value is real for any real signal: DC, and Nyquist when
    n_fft is even (each frame's DFT at k = 0 and k = M/2 is a sum of real
    samples times ±1)."""
    return (0, bins - 1) if spec.n_fft % 2 == 0 and bins > 1 else (0,)


@numba.njit(cache=True, nogil=True)
def _wrapped_angles(phase, shift, nyquist, out):
    """out[m, k] = (phase[m, k] − shift·k) mod 2π as float32, with DC (and
    Nyquist when ``nyquist``) snapped to the nearer of 0 and π.

    The reduction runs in float64: integrated phases reach ~1e6 rad, where a
    float32 is only good to 0.06 rad."""
    T, F = phase.shape
    two_pi = 2 * np.pi
    for m in range(T):
        for k in range(F):
            a = phase[m, k] - shift * k
            a = a - two_pi * np.floor(a / two_pi)
            if k == 0 or (nyquist and k == F - 1):
                a = np.pi if np.cos(a) < 0.0 else 0.0
            out[m, k] = a


def _phasors(phase: np.ndarray, shift: float, nyquist: bool, out: np.ndarray) -> None:
    """out (complex64, frames × bins) = exp(i(phase − shift·k)), DC and
    (``nyquist``) the last bin real. numpy's float32 cos/sin are vectorised;
    numba's scalar ones are 5× slower."""
    angle = np.empty(phase.shape, np.float32)
    _wrapped_angles(phase, shift, nyquist, angle)
    pairs = out.view(np.float32).reshape(*phase.shape, 2)
    np.cos(angle, out=pairs[..., 0])
    np.sin(angle, out=pairs[..., 1])


def pghi_phase(spectrogram: Spectrogram, tol: float = DEFAULT_TOL, seed: int = 0) -> torch.Tensor:
    """Unit-modulus complex phase (channels × bins × frames, complex64; a
    view of a frames-major buffer, which is what Griffin-Lim iterates on)."""
    spec = spectrogram.spec
    if not spec.axis.is_identity:
        raise ValueError("PGHI needs a linear magnitude; invert the filterbank first")
    gamma(spec)  # refuse unknown windows before any work
    rng = np.random.default_rng(seed)
    mags = spectrogram.magnitude.detach().cpu().numpy()
    out = torch.empty(mags.shape[0], mags.shape[2], mags.shape[1], dtype=torch.complex64)
    for channel, target in zip(mags, out):
        phase, _ = integrate_channel(channel, spec, tol, rng)
        _phasors(phase, frame_start_shift(spec), len(real_bins(spec, phase.shape[1])) == 2, target.numpy())
    return out.transpose(1, 2)


# What the record says about the phase PGHI starts from, so that ``seed`` is
# not read as "the phase is random": it only reaches the quiet coefficients.
START_PHASE = "0 at each island's largest coefficient (Průša et al. 2017); random (seed) below tol"


def check_tol(tol: float) -> None:
    if not (isinstance(tol, (int, float)) and 0.0 < tol < 1.0):
        raise VocoderError(f"--tol must be a relative magnitude in (0, 1) (got {tol})")


@dataclass
class PGHI(Inverter):
    name: ClassVar[str] = "pghi"
    summary: ClassVar[str] = ("phase-gradient heap integration (Průša et al. 2017), non-iterative, --tol; "
                              "classical, any spec with a gauss, hann, hamming or blackman window")

    tol: float = field(default=DEFAULT_TOL, metadata={"help": "coefficients below TOL × the peak get random phase"})
    # Only the random phase of coefficients below tol depends on it; every
    # island above tol starts from phase 0, so the energy-carrying part of the
    # result is the same for every seed.
    seed: int = field(default=0, metadata={"help": "seed of the random phase"})

    def __post_init__(self) -> None:
        check_tol(self.tol)

    def check_spec(self, spec: SpectrogramSpec) -> None:
        gamma(spec)

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        return costs.pghi_buffers(channels, spec, frames, samples)

    def parameters(self) -> dict:
        return {**super().parameters(), "start_phase": START_PHASE}

    def start_phase(self, spectrogram: Spectrogram) -> torch.Tensor:
        return pghi_phase(spectrogram, self.tol, self.seed)

    @classmethod
    def runs_blockwise(cls) -> bool:
        # Without iterations nothing joins one block's integrated phase to the
        # next's: each island's phase offset differs, and the seams would
        # cancel in the cross-fade (1.4-2 dB worse SC when measured). pghi+fgla
        # runs block-wise.
        return False

    def invert_from(self, spectrogram: Spectrogram, phase: torch.Tensor, callback=None) -> torch.Tensor:
        """Non-iterative: ``callback`` (for iterative backends) has nothing to see."""
        magnitude = spectrogram.magnitude.detach().to("cpu", torch.float32)
        return istft(magnitude * phase, spectrogram.spec, spectrogram.length)

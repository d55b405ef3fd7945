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
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from vocoder import costs, lazy_jit
from vocoder.errors import VocoderError
from vocoder.inversion.base import Inverter
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

if TYPE_CHECKING:  # torch, numba and the STFT load where the phase is computed: `vocoder backends` needs none
    import torch

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


@lazy_jit.njit(cache=True, nogil=True)
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


# -- the phase for a Spectrogram -------------------------------------------------


def integrate_channel(magnitude: np.ndarray, spec: SpectrogramSpec, tol: float,
                      rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Frame-centred phase (frames × bins) for one channel's |X| (bins × frames).

    Also returns the integration's bookkeeping (``visits``, ``order``,
    ``above``: the coefficients above tolerance), frames × bins, for checks.
    """
    from vocoder.inversion.pghi_heap import heap_integrate, heap_keys

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


@lazy_jit.njit(cache=True, nogil=True)
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
    import torch

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
        import torch

        from vocoder.frontend.stft import istft

        magnitude = spectrogram.magnitude.detach().to("cpu", torch.float32)
        return istft(magnitude * phase, spectrogram.spec, spectrogram.length)

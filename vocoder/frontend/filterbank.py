"""Frequency axes: one class per axis maps linear STFT magnitudes onto a
spectrogram's rows and back.

Every question "which axis is this?" is answered here, so a new axis is one
class in :data:`AXES`. The spec owns its axis: ``spec.filterbank()`` returns
the object, ``spec.is_linear`` and ``spec.n_bins`` ask it, and the spec's
validation asks :func:`axis_problems`. So this module sits below
:mod:`vocoder.spec`: it imports neither the spec nor the Spectrogram, it is
handed them (a ``SpectrogramSpec`` and, for :meth:`Filterbank.inverse`, a
``Spectrogram``).

* ``linear``: the STFT's own bins, 0 Hz to Nyquist; forward and inverse are
  the identity.
* ``mel``: the mel filterbank of the spec's library (librosa or torchaudio,
  :mod:`vocoder.frontend.mel`), as the HiFi-GAN, BigVGAN and Vocos recipes use.
* ``log``: ``bands_per_octave`` bands with geometrically spaced centres from
  ``fmin`` up to at most ``fmax`` (the layout of constant-Q displays),
  triangular on the STFT bins (see :class:`LogAxis`).

Every non-linear axis is a matrix ``M`` (bands × STFT bins) applied to |STFT|;
its inverse is the same batched non-negative least squares for all of them
(:func:`nnls_inverse`). Bins no band reaches come back as zero: nothing is
invented where the spectrogram says nothing.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import ClassVar, Iterator

import numpy as np
import torch


class Filterbank:
    """One frequency axis under one spec."""

    name: ClassVar[str]
    # Spec fields only this axis uses; every other axis requires them None.
    fields: ClassVar[tuple[str, ...]] = ()
    is_linear: ClassVar[bool] = False

    def __init__(self, spec: "SpectrogramSpec"):
        self.spec = spec

    @classmethod
    def problems(cls, spec: "SpectrogramSpec") -> Iterator[str]:
        """What is wrong with ``spec``'s fields for this axis (nothing: empty)."""
        return iter(())

    @property
    def n_bins(self) -> int:
        raise NotImplementedError

    def centre_frequencies(self) -> np.ndarray:
        """Centre frequency (Hz) of every row, lowest first."""
        raise NotImplementedError

    def describe(self) -> str:
        """The axis in words, for axis labels and messages."""
        raise NotImplementedError

    def matrix(self) -> torch.Tensor:
        """(n_bins × n_fft//2+1) float64 weights: row = Σ weight · |STFT bin|."""
        raise NotImplementedError

    def forward(self, linear_magnitude: torch.Tensor) -> torch.Tensor:
        """(..., n_fft//2+1, frames) linear magnitude → (..., n_bins, frames)."""
        return torch.matmul(self.matrix().to(linear_magnitude.dtype), linear_magnitude)

    def inverse(self, spectrogram: "Spectrogram") -> "Spectrogram":
        """The linear STFT magnitude behind ``spectrogram`` (recorded as one step)."""
        estimate, iterations, residual = nnls_inverse(self.matrix(), spectrogram.magnitude)
        spec = self.spec
        return spectrogram.with_step(
            f"{self.name}_to_linear",
            magnitude=estimate.to(torch.float32),
            spec=spec.as_linear(),
            method="non-negative least squares, FISTA from clipped pseudo-inverse",
            iterations=iterations,
            relative_residual=residual,
            note=f"bins above {self.top_hz():g} Hz and below {self.bottom_hz():g} Hz are not described by the "
                 f"{self.name} axis and are left at zero",
        )

    def inverse_cost(self, channels: int, frames: int) -> float:
        """Bytes :meth:`inverse` holds at its peak (the memory budget asks first)."""
        from vocoder import budget

        return budget.nnls_inverse(channels, self.spec.n_stft_bins, self.n_bins, frames)

    def bottom_hz(self) -> float:
        """Lowest frequency any row has weight at."""
        nonzero = np.flatnonzero(self.matrix().abs().sum(0).numpy())
        return float(nonzero[0] * self.spec.sample_rate / self.spec.n_fft) if nonzero.size else 0.0

    def top_hz(self) -> float:
        """Highest frequency any row has weight at."""
        nonzero = np.flatnonzero(self.matrix().abs().sum(0).numpy())
        return float(nonzero[-1] * self.spec.sample_rate / self.spec.n_fft) if nonzero.size else 0.0


class LinearAxis(Filterbank):
    """The STFT's own bins, 0 Hz to Nyquist."""

    name = "linear"
    is_linear = True

    @property
    def n_bins(self) -> int:
        return self.spec.n_stft_bins

    def centre_frequencies(self) -> np.ndarray:
        return np.arange(self.n_bins) * self.spec.sample_rate / self.spec.n_fft

    def describe(self) -> str:
        return f"{self.n_bins} linear bins, {self.spec.sample_rate / self.spec.n_fft:.3g} Hz apart"

    def matrix(self) -> torch.Tensor:
        return torch.eye(self.n_bins, dtype=torch.float64)

    def forward(self, linear_magnitude: torch.Tensor) -> torch.Tensor:
        return linear_magnitude

    def inverse(self, spectrogram: "Spectrogram") -> "Spectrogram":
        return spectrogram

    def inverse_cost(self, channels: int, frames: int) -> float:
        return 0.0


class MelAxis(Filterbank):
    """Mel bands, built by the library the spec names (librosa or torchaudio)."""

    name = "mel"
    fields = ("n_mels", "mel_scale", "mel_norm", "mel_filterbank")

    @classmethod
    def problems(cls, spec):
        if not isinstance(spec.n_mels, int) or spec.n_mels < 1:
            yield "a mel spec needs n_mels >= 1"
        if spec.mel_scale not in ("slaney", "htk"):
            yield f"mel_scale must be 'slaney' or 'htk' (got {spec.mel_scale!r})"
        if spec.mel_norm not in ("slaney", None):
            yield f"mel_norm must be 'slaney' or null (got {spec.mel_norm!r})"
        if spec.mel_filterbank not in ("librosa", "torchaudio"):
            yield f"mel_filterbank must be 'librosa' or 'torchaudio' (got {spec.mel_filterbank!r})"

    @property
    def n_bins(self) -> int:
        return self.spec.n_mels

    def centre_frequencies(self) -> np.ndarray:
        import librosa

        spec = self.spec
        return librosa.mel_frequencies(spec.n_mels + 2, fmin=spec.fmin, fmax=spec.f_max,
                                       htk=spec.mel_scale == "htk")[1:-1]

    def describe(self) -> str:
        spec = self.spec
        return f"{spec.n_mels} {spec.mel_scale} mel bands, {spec.fmin:g}–{spec.f_max:g} Hz"

    def matrix(self) -> torch.Tensor:
        # Here, not at the top: it imports librosa and torchaudio, which a spec (imported by the
        # CLI at start-up) never needs unless a mel matrix is built.
        from vocoder.frontend.mel import filterbank

        return filterbank(self.spec)


# Above this many bands per octave the STFT cannot tell neighbouring bands
# apart at any usual size; it is a typo guard, not a design limit.
MAX_BANDS_PER_OCTAVE = 1200


class LogAxis(Filterbank):
    """``bands_per_octave`` bands per octave: the layout of constant-Q displays.

    Centres c_k = fmin · 2^(k/B), k = 0 … K−1, the last one at or below fmax
    (B = bands_per_octave, K = ⌊B · log2(fmax/fmin)⌋ + 1): a constant-Q grid
    (Brown 1991, "Calculation of a constant Q spectral transform", JASA 89).
    Each band is a triangle on the STFT bins, linear in Hz from the previous
    centre to its own and down to the next, as mel bands are built (Slaney's
    Auditory Toolbox, librosa) and as the log-spaced filterbanks of onset
    detection are (SuperFlux, Böck & Widmer, DAFx 2013: 24 bands per octave;
    madmom's ``LogarithmicFilterbank``).

    Two choices of ours:

    * Where bands are narrower than the STFT's bin spacing Δ = sr / n_fft
      (below about B·Δ/ln 2 Hz: 1.1 kHz for 36 bands per octave at
      22050/1024), a triangle's half-width is widened to Δ, so the band is the
      linear interpolation of the two nearest bins. madmom drops such
      duplicate bands instead; we keep every band, so the row count is exactly
      B per octave and rows stay evenly spaced on the picture's log axis. They
      add no resolution the STFT does not have: finer low-frequency detail
      needs a longer n_fft.
    * Each row's weights sum to 1 (Essentia calls this ``unit_sum``): a band is
      the weighted mean of the magnitudes under it, on the same scale as a
      linear bin, so a log picture's brightness means the same level as a
      linear one's.
    """

    name = "log"
    fields = ("bands_per_octave",)

    @classmethod
    def problems(cls, spec):
        bpo = spec.bands_per_octave
        if not isinstance(bpo, int) or isinstance(bpo, bool) or not 1 <= bpo <= MAX_BANDS_PER_OCTAVE:
            yield f"a log spec needs bands_per_octave, a whole number in 1..{MAX_BANDS_PER_OCTAVE} (got {bpo!r})"
        if not spec.fmin > 0:
            yield f"a log axis needs fmin > 0 Hz, its lowest band's centre (got {spec.fmin:g})"

    @property
    def n_bins(self) -> int:
        spec = self.spec
        # The small slack keeps a top centre that equals fmax up to rounding.
        return int(math.floor(spec.bands_per_octave * math.log2(spec.f_max / spec.fmin) + 1e-9)) + 1

    def centre_frequencies(self) -> np.ndarray:
        spec = self.spec
        return spec.fmin * 2.0 ** (np.arange(self.n_bins) / spec.bands_per_octave)

    def describe(self) -> str:
        spec = self.spec
        top = self.centre_frequencies()[-1]
        return f"{self.n_bins} log bands, {spec.bands_per_octave} per octave, {spec.fmin:g}–{top:.0f} Hz"

    def matrix(self) -> torch.Tensor:
        return _log_matrix(self.spec)


@lru_cache(maxsize=16)
def _log_matrix(spec: "SpectrogramSpec") -> torch.Tensor:
    axis = LogAxis(spec)
    centres = axis.centre_frequencies()
    ratio = 2.0 ** (1.0 / spec.bands_per_octave)
    spacing = spec.sample_rate / spec.n_fft
    lower = np.minimum(centres / ratio, centres - spacing)[:, None]
    upper = np.maximum(centres * ratio, centres + spacing)[:, None]
    bins = (np.arange(spec.n_stft_bins) * spacing)[None, :]
    c = centres[:, None]
    weights = np.maximum(0.0, np.minimum((bins - lower) / (c - lower), (upper - bins) / (upper - c)))
    weights /= weights.sum(axis=1, keepdims=True)  # never 0: half-width ≥ one bin, centre ≤ Nyquist
    return torch.from_numpy(weights)


AXES: dict[str, type[Filterbank]] = {cls.name: cls for cls in (LinearAxis, MelAxis, LogAxis)}


def axis_fields() -> tuple[str, ...]:
    """Every axis-specific spec field (cleared by ``spec.as_linear()``)."""
    return tuple(f for cls in AXES.values() for f in cls.fields)


def axis_problems(spec: "SpectrogramSpec") -> Iterator[str]:
    """The axis's own checks, and fields of other axes that a spec must not set."""
    cls = AXES[spec.scale]
    foreign = [f for f in axis_fields() if f not in cls.fields and getattr(spec, f) is not None]
    if foreign:
        yield f"a {spec.scale} axis takes no {', '.join(foreign)}"
    yield from cls.problems(spec)


@lru_cache(maxsize=64)
def filterbank_for(spec: "SpectrogramSpec") -> Filterbank:
    """The axis object of a (valid) spec."""
    return AXES[spec.scale](spec)


# Stop when an iteration moves the solution by less than this (relative): on
# LJ Speech the mel is then reproduced to ~3e-8, far below a 16-bit PNG's
# quantisation (~1e-4), in 128 iterations instead of 300 (measured on LJ001-0027).
NNLS_TOLERANCE = 1e-5
NNLS_MAX_ITERATIONS = 300


def nnls_inverse(M: torch.Tensor, bands: torch.Tensor, max_iterations: int = NNLS_MAX_ITERATIONS,
                 tolerance: float = NNLS_TOLERANCE) -> tuple[torch.Tensor, int, float]:
    """min ||M x − y||² subject to x ≥ 0, for every frame and channel at once.

    Accelerated projected gradient (FISTA, Beck & Teboulle 2009) from the
    clipped pseudo-inverse, until the solution moves by less than
    ``tolerance`` (relative) in an iteration. Returns (x as float64,
    iterations, relative residual ||M x − y|| / ||y||).
    """
    Y = bands.to(torch.float64)
    # Only bins some band covers take part (the rest stay exactly zero), and
    # a filterbank is sparse (a bin feeds one or two bands), so the FISTA
    # products run on a sparse matrix: Riffusion's 512 × 8821 mel costs ~1/200
    # of the dense products. ‖M‖² and M⁺ = Mᵀ(MMᵀ)⁺ come from the small
    # bands × bands Gram matrix: an SVD of the wide M takes seconds there.
    active = M.abs().sum(dim=0) > 0
    Ma = M[:, active].to(torch.float64)
    lead, frames = Y.shape[:-2], Y.shape[-1]
    Y2 = Y.reshape(-1, Ma.shape[0], frames).permute(1, 0, 2).reshape(Ma.shape[0], -1)  # bands × (channels·frames)
    M_sparse, Mt_sparse = Ma.to_sparse_coo().coalesce(), Ma.T.to_sparse_coo().coalesce()
    gram = Ma @ Ma.T
    step = 1.0 / torch.linalg.eigvalsh(gram)[-1]
    x = torch.clamp(Ma.T @ (torch.linalg.pinv(gram, hermitian=True) @ Y2), min=0.0)
    z, t = x.clone(), 1.0
    scale = torch.linalg.vector_norm(x).clamp_min(1e-30)
    iterations = 0
    for iterations in range(1, max_iterations + 1):
        gradient = torch.sparse.mm(Mt_sparse, torch.sparse.mm(M_sparse, z) - Y2)
        x_next = torch.clamp(z - step * gradient, min=0.0)
        t_next = (1.0 + (1.0 + 4.0 * t * t) ** 0.5) / 2.0
        moved = torch.linalg.vector_norm(x_next - x) / scale
        z = x_next + ((t - 1.0) / t_next) * (x_next - x)
        x, t = x_next, t_next
        if moved < tolerance:
            break
    residual = torch.linalg.vector_norm(torch.sparse.mm(M_sparse, x) - Y2) / torch.linalg.vector_norm(Y2).clamp_min(1e-30)
    full = torch.zeros(M.shape[1], x.shape[1], dtype=torch.float64)
    full[active] = x
    x = full.reshape(M.shape[1], -1, frames).permute(1, 0, 2).reshape(*lead, M.shape[1], frames)
    return x, iterations, float(residual)

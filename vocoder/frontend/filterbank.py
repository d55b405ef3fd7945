"""Frequency axes: what a spectrogram's rows are, one frozen dataclass per kind.

A spec holds one axis (``spec.axis``): :class:`LinearAxis`, :class:`MelAxis`
or :class:`LogAxis`, or any class given to :func:`register_axis`. The axis
owns everything about its rows: its fields and their checks (a spec arrives
as JSON from files anyone can write), its description, its row count, centre
frequencies and band, the matrix that maps linear STFT magnitudes onto its
rows and the inverse of that matrix with the memory the inverse needs, its
JSON form (``{"kind": "mel", ...}``) and its command-line options. Code
elsewhere asks the axis (``axis.is_identity``, ``axis.n_rows(spec)``,
``axis.band(spec)``, ``axis.describe(spec)``) and never its kind; code that
only works for one kind (mel-gd, HiFi-GAN's log-mel, librosa's display axes)
asks ``isinstance(spec.axis, MelAxis)``. So a new axis is one class plus one
``register_axis`` call.

This module sits below :mod:`vocoder.spec`: it imports neither the spec nor
the Spectrogram, it is handed them. Methods that need the framing (sample
rate, FFT size) take the spec.

* ``linear``: the STFT's own bins, 0 Hz to Nyquist; forward and inverse are
  the identity.
* ``mel``: the mel filterbank of the axis's library (librosa or torchaudio),
  as the HiFi-GAN, BigVGAN and Vocos recipes use.
* ``log``: ``bands_per_octave`` bands with geometrically spaced centres from
  ``fmin`` up to at most ``fmax`` (the layout of constant-Q displays),
  triangular on the STFT bins (see :class:`LogAxis`).

Every non-linear axis is a matrix ``M`` (bands × STFT bins) applied to |STFT|;
its inverse is the same batched non-negative least squares for all of them
(:func:`nnls_inverse`). Bins no band reaches come back as zero: nothing is
invented where the spectrogram says nothing.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator

import numpy as np

from vocoder.errors import VocoderError
from vocoder.safety.text import shown
from vocoder.safety.untrusted import is_number, is_whole

if TYPE_CHECKING:  # torch loads where a matrix is built: the CLI imports the axes at start-up
    import torch


# -- command-line options ---------------------------------------------------------


@dataclass(frozen=True)
class AxisOption:
    """A command-line option that sets one field of an axis.

    ``parse`` turns the option's text into the field's value and raises
    ValueError with a short reason; the range is the axis's check. An option
    shared by several axes (``--fmin``) is one object they all list.
    """

    flag: str
    field: str
    parse: Callable[[str], Any]
    metavar: str
    help: str


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None


def hertz(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a frequency in Hz, got {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"expected a finite frequency in Hz, got {text!r}")
    return value


FMIN = AxisOption("--fmin", "fmin", hertz, "HZ", "lowest frequency: a mel axis's lower edge, a log axis's lowest centre")
FMAX = AxisOption("--fmax", "fmax", hertz, "HZ", "highest frequency (default: the preset's; Nyquist)")


# -- the axes ---------------------------------------------------------------------


@dataclass(frozen=True)
class FrequencyAxis:
    """What a spectrogram's rows are. Subclasses are frozen dataclasses whose
    fields are the axis's own parameters; they set ``kind`` and ``options``
    and implement the methods that raise NotImplementedError here."""

    kind: ClassVar[str]
    # Rows are the STFT's own bins: nothing to undo before phase retrieval.
    is_identity: ClassVar[bool] = False
    options: ClassVar[tuple[AxisOption, ...]] = ()

    # -- checks and JSON

    def problems(self, spec: "SpectrogramSpec") -> Iterator[str]:
        """What is wrong with this axis under ``spec``'s framing, one line each
        (types first: the values may come from a file anyone can write)."""
        return iter(())

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **dataclasses.asdict(self)}

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_values(cls, values: dict[str, Any], named: Callable[[str], str]) -> "FrequencyAxis":
        """The axis from field values (JSON or options); ``named`` says how a
        missing or foreign field is called to the user (a key or a flag)."""
        foreign = [name for name in values if name not in cls.field_names()]
        if foreign:
            raise VocoderError(f"a {cls.kind} axis takes no {', '.join(named(str(n)) for n in foreign)}")
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in values
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        if missing:
            raise VocoderError(f"a {cls.kind} axis needs {' and '.join(named(n) for n in missing)}")
        return cls(**values)

    # -- rows

    def n_rows(self, spec: "SpectrogramSpec") -> int:
        raise NotImplementedError

    def centre_frequencies(self, spec: "SpectrogramSpec") -> np.ndarray:
        """Centre frequency (Hz) of every row, lowest first."""
        raise NotImplementedError

    def band(self, spec: "SpectrogramSpec") -> tuple[float, float]:
        """(lowest, highest) frequency in Hz the rows describe."""
        return 0.0, spec.sample_rate / 2

    def describe(self, spec: "SpectrogramSpec") -> str:
        """The axis in words, for `info`, plots and messages."""
        raise NotImplementedError

    # -- mapping and its inverse

    def matrix(self, spec: "SpectrogramSpec") -> torch.Tensor:
        """(rows × n_fft//2+1) float64 weights: row = Σ weight · |STFT bin|."""
        raise NotImplementedError

    def forward(self, spec: "SpectrogramSpec", linear_magnitude: torch.Tensor) -> torch.Tensor:
        """(..., n_fft//2+1, frames) linear magnitude → (..., rows, frames)."""
        import torch

        return torch.matmul(self.matrix(spec).to(linear_magnitude.dtype), linear_magnitude)

    def inverse(self, spectrogram: "Spectrogram") -> "Spectrogram":
        """The linear STFT magnitude behind ``spectrogram`` (recorded as one step)."""
        import torch

        spec = spectrogram.spec
        estimate, iterations, residual = nnls_inverse(self.matrix(spec), spectrogram.magnitude)
        low, high = self.reached_hz(spec)
        return spectrogram.with_step(
            f"{self.kind}_to_linear",
            magnitude=estimate.to(torch.float32),
            spec=spec.as_linear(),
            method="non-negative least squares, FISTA from clipped pseudo-inverse",
            iterations=iterations,
            relative_residual=residual,
            note=f"bins above {high:g} Hz and below {low:g} Hz are not described by the "
                 f"{self.kind} axis and are left at zero",
        )

    def inverse_cost(self, spec: "SpectrogramSpec", channels: int, frames: int) -> float:
        """Bytes :meth:`inverse` holds at its peak (the memory budget asks first)."""
        from vocoder import costs

        return costs.nnls_inverse(channels, spec.n_stft_bins, self.n_rows(spec), frames)

    def reached_hz(self, spec: "SpectrogramSpec") -> tuple[float, float]:
        """(lowest, highest) STFT bin frequency any row has weight at."""
        nonzero = np.flatnonzero(self.matrix(spec).abs().sum(0).numpy())
        if not nonzero.size:
            return 0.0, 0.0
        return float(nonzero[0] * spec.sample_rate / spec.n_fft), float(nonzero[-1] * spec.sample_rate / spec.n_fft)


@dataclass(frozen=True)
class LinearAxis(FrequencyAxis):
    """The STFT's own bins, 0 Hz to Nyquist."""

    kind: ClassVar[str] = "linear"
    is_identity: ClassVar[bool] = True

    def n_rows(self, spec):
        return spec.n_stft_bins

    def centre_frequencies(self, spec):
        return np.arange(self.n_rows(spec)) * spec.sample_rate / spec.n_fft

    def describe(self, spec):
        return (f"linear, {self.n_rows(spec)} bins {spec.sample_rate / spec.n_fft:.3g} Hz apart, "
                f"0 Hz to {spec.sample_rate / 2:g} Hz (Nyquist)")

    def matrix(self, spec):
        import torch

        return torch.eye(self.n_rows(spec), dtype=torch.float64)

    def forward(self, spec, linear_magnitude):
        return linear_magnitude

    def inverse(self, spectrogram):
        return spectrogram

    def inverse_cost(self, spec, channels, frames):
        return 0.0


def _band_problems(axis: "MelAxis | LogAxis", spec: "SpectrogramSpec") -> Iterator[str]:
    """The checks of an axis with an ``fmin``..``fmax`` band (fmax None: Nyquist)."""
    if not is_number(axis.fmin):
        yield f"fmin must be a number (got {shown(axis.fmin)})"
    elif axis.fmax is not None and not is_number(axis.fmax):
        yield f"fmax must be a number or null (got {shown(axis.fmax)})"
    else:
        nyquist = spec.sample_rate / 2
        top = axis.fmax if axis.fmax is not None else nyquist
        if not 0 <= axis.fmin < top <= nyquist:
            yield f"need 0 <= fmin < fmax <= Nyquist ({nyquist:g} Hz); got fmin={axis.fmin}, fmax={axis.fmax}"


def _band(axis: "MelAxis | LogAxis", spec: "SpectrogramSpec") -> tuple[float, float]:
    return float(axis.fmin), float(axis.fmax) if axis.fmax is not None else spec.sample_rate / 2


MEL_SCALES = ("slaney", "htk")
MEL_NORMS = ("slaney", None)
MEL_LIBRARIES = ("librosa", "torchaudio")


@dataclass(frozen=True)
class MelAxis(FrequencyAxis):
    """Mel bands, built by the library the axis names (librosa or torchaudio).

    A new mel axis (``--scale mel``) gets HiFi-GAN's recipe for the rest
    (Kong et al. 2020, meldataset.py: librosa, slaney scale and norm, 0 Hz to
    Nyquist).
    """

    kind: ClassVar[str] = "mel"
    options: ClassVar[tuple[AxisOption, ...]] = (
        AxisOption("--n-mels", "n_mels", whole_number, "N", "mel bands"), FMIN, FMAX)

    n_mels: int
    fmin: float = 0.0
    fmax: float | None = None  # None: Nyquist
    mel_scale: str = "slaney"
    mel_norm: str | None = "slaney"
    # Whose filterbank code builds the triangles. librosa (float64) and
    # torchaudio (float32) differ by ~1e-5 per weight: enough to move the log
    # of quiet bands by 1e-4, so each preset names the one its peer used.
    mel_filterbank: str = "librosa"

    def problems(self, spec):
        if not is_whole(self.n_mels) or not 1 <= self.n_mels <= spec.n_stft_bins:
            yield f"a mel axis needs n_mels, a whole number in 1..n_fft//2+1 = {spec.n_stft_bins} (got {shown(self.n_mels)})"
        yield from _band_problems(self, spec)
        if self.mel_scale not in MEL_SCALES:
            yield f"mel_scale must be 'slaney' or 'htk' (got {shown(self.mel_scale)})"
        if self.mel_norm not in MEL_NORMS:
            yield f"mel_norm must be 'slaney' or null (got {shown(self.mel_norm)})"
        if self.mel_filterbank not in MEL_LIBRARIES:
            yield f"mel_filterbank must be 'librosa' or 'torchaudio' (got {shown(self.mel_filterbank)})"

    def n_rows(self, spec):
        return self.n_mels

    def band(self, spec):
        return _band(self, spec)

    def centre_frequencies(self, spec):
        import librosa

        low, high = self.band(spec)
        return librosa.mel_frequencies(self.n_mels + 2, fmin=low, fmax=high, htk=self.mel_scale == "htk")[1:-1]

    def describe(self, spec):
        low, high = self.band(spec)
        return (f"mel, {self.n_mels} bands ({self.mel_scale} scale, {self.mel_norm} norm, {self.mel_filterbank}), "
                f"{low:g} Hz to {high:g} Hz")

    def matrix(self, spec):
        return _mel_matrix(self, spec.sample_rate, spec.n_fft)


@lru_cache(maxsize=16)
def _mel_matrix(axis: MelAxis, sample_rate: int, n_fft: int) -> torch.Tensor:
    """The (n_mels × n_fft//2+1) mel matrix as float64, built by the library the
    axis names: librosa for HiFi-GAN and BigVGAN, torchaudio (whose float32
    weights we keep exactly) for Vocos."""
    # Imported here: librosa and torchaudio cost seconds, which a spec (imported by the CLI at
    # start-up) never needs unless a mel matrix is built.
    import torch

    low, high = _band(axis, _Framing(sample_rate, n_fft))
    if axis.mel_filterbank == "torchaudio":
        import torchaudio.functional as AF

        fb = AF.melscale_fbanks(n_fft // 2 + 1, low, high, axis.n_mels, sample_rate, norm=axis.mel_norm,
                                mel_scale=axis.mel_scale)
        return fb.T.to(torch.float64).contiguous()
    # librosa.filters.mel (0.11) operation for operation, on librosa's own frequencies: the
    # same bytes (tests/test_mel_inverse.py), without librosa.filters' import of scipy.signal,
    # which was a second of every mel command's start for this one matrix.
    from librosa.core.convert import fft_frequencies, mel_frequencies

    bins = fft_frequencies(sr=sample_rate, n_fft=n_fft)
    edges = mel_frequencies(axis.n_mels + 2, fmin=low, fmax=high, htk=axis.mel_scale == "htk")
    widths = np.diff(edges)
    ramps = np.subtract.outer(edges, bins)
    weights = np.zeros((axis.n_mels, len(bins)), dtype=np.float64)
    for i in range(axis.n_mels):
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / widths[i], ramps[i + 2] / widths[i + 1]))
    if axis.mel_norm == "slaney":
        weights *= (2.0 / (edges[2:] - edges[:-2]))[:, np.newaxis]
    return torch.from_numpy(weights)


@dataclass(frozen=True)
class _Framing:
    """The two spec numbers a cached matrix depends on (the cache key is the
    axis plus these, so specs that differ only in hop or window share it)."""

    sample_rate: int
    n_fft: int

    @property
    def n_stft_bins(self) -> int:
        return self.n_fft // 2 + 1


# Above this many bands per octave the STFT cannot tell neighbouring bands
# apart at any usual size; it is a typo guard, not a design limit.
MAX_BANDS_PER_OCTAVE = 1200


@dataclass(frozen=True)
class LogAxis(FrequencyAxis):
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

    kind: ClassVar[str] = "log"
    options: ClassVar[tuple[AxisOption, ...]] = (
        AxisOption("--bands-per-octave", "bands_per_octave", whole_number, "N", "bands per octave"), FMIN, FMAX)

    bands_per_octave: int
    fmin: float  # the lowest band's centre, > 0
    fmax: float | None = None  # None: Nyquist

    def problems(self, spec):
        bpo = self.bands_per_octave
        if not is_whole(bpo) or not 1 <= bpo <= MAX_BANDS_PER_OCTAVE:
            yield f"a log axis needs bands_per_octave, a whole number in 1..{MAX_BANDS_PER_OCTAVE} (got {shown(bpo)})"
        band = list(_band_problems(self, spec))
        yield from band
        if not band and not self.fmin > 0:
            yield f"a log axis needs fmin > 0 Hz, its lowest band's centre (got {self.fmin:g})"

    def n_rows(self, spec):
        low, high = self.band(spec)
        # The small slack keeps a top centre that equals fmax up to rounding.
        return int(math.floor(self.bands_per_octave * math.log2(high / low) + 1e-9)) + 1

    def band(self, spec):
        return _band(self, spec)

    def centre_frequencies(self, spec):
        return self.fmin * 2.0 ** (np.arange(self.n_rows(spec)) / self.bands_per_octave)

    def describe(self, spec):
        top = self.centre_frequencies(spec)[-1]
        return (f"log, {self.n_rows(spec)} bands, {self.bands_per_octave} per octave, centres {self.fmin:g} Hz "
                f"to {top:.0f} Hz")

    def matrix(self, spec):
        return _log_matrix(self, spec.sample_rate, spec.n_fft)


@lru_cache(maxsize=16)
def _log_matrix(axis: LogAxis, sample_rate: int, n_fft: int) -> torch.Tensor:
    import torch

    framing = _Framing(sample_rate, n_fft)
    centres = axis.centre_frequencies(framing)
    ratio = 2.0 ** (1.0 / axis.bands_per_octave)
    spacing = sample_rate / n_fft
    lower = np.minimum(centres / ratio, centres - spacing)[:, None]
    upper = np.maximum(centres * ratio, centres + spacing)[:, None]
    bins = (np.arange(framing.n_stft_bins) * spacing)[None, :]
    c = centres[:, None]
    weights = np.maximum(0.0, np.minimum((bins - lower) / (c - lower), (upper - bins) / (upper - c)))
    weights /= weights.sum(axis=1, keepdims=True)  # never 0: half-width ≥ one bin, centre ≤ Nyquist
    return torch.from_numpy(weights)


# -- the registry -----------------------------------------------------------------

AXES: dict[str, type[FrequencyAxis]] = {}


def register_axis(cls: type[FrequencyAxis]) -> type[FrequencyAxis]:
    """Make ``cls`` a kind ``--scale`` offers and spec JSON may name.

    Its options join the command line; an option flag that another axis
    declares must be that same option (shared flags are declared once).
    """
    if not (isinstance(cls, type) and issubclass(cls, FrequencyAxis) and dataclasses.is_dataclass(cls)):
        raise TypeError("register_axis takes a FrequencyAxis dataclass")
    if cls.kind in AXES and AXES[cls.kind] is not cls:
        raise ValueError(f"a {cls.kind!r} axis is registered already")
    declared = {option.flag: option for other in AXES.values() for option in other.options}
    for option in cls.options:
        if option.field not in cls.field_names():
            raise ValueError(f"{cls.__name__}: option {option.flag} sets {option.field!r}, which is not a field")
        if declared.get(option.flag, option) != option:
            raise ValueError(f"{cls.__name__}: {option.flag} is declared by another axis as a different option")
    AXES[cls.kind] = cls
    return cls


def unregister_axis(kind: str) -> None:
    """Undo :func:`register_axis` (for an axis made in a test or a notebook)."""
    AXES.pop(kind, None)


for _builtin in (LinearAxis, MelAxis, LogAxis):
    register_axis(_builtin)


def axis_class(kind: Any) -> type[FrequencyAxis]:
    try:
        return AXES[kind]
    except (KeyError, TypeError):
        raise VocoderError(f"unknown frequency axis {shown(kind)}; known: {', '.join(AXES)}") from None


def axis_from_dict(data: Any) -> FrequencyAxis:
    """A spec's ``"axis"`` JSON object → the axis (its values checked by the spec)."""
    if not isinstance(data, dict):
        raise VocoderError(f"the spec's axis must be a JSON object (got {shown(data)})")
    fields = dict(data)
    cls = axis_class(fields.pop("kind", None))
    return cls.from_values(fields, str)


def axis_options() -> list[tuple[AxisOption, tuple[str, ...]]]:
    """Every registered axis option once, with the kinds that take it: options
    of one axis first (in registration order), shared ones after."""
    kinds: dict[str, list[str]] = {}
    options: dict[str, AxisOption] = {}
    for kind, cls in AXES.items():
        for option in cls.options:
            options.setdefault(option.flag, option)
            kinds.setdefault(option.flag, []).append(kind)
    flags = sorted(options, key=lambda flag: len(kinds[flag]) > 1)  # stable: keeps registration order
    return [(options[flag], tuple(kinds[flag])) for flag in flags]


def flag_of(field: str) -> str:
    """The command-line flag that sets an axis field (the field if none does)."""
    return next((option.flag for option, _ in axis_options() if option.field == field), field)


# Stop when an iteration moves the solution by less than this (relative): on
# LJ Speech the mel is then reproduced to ~3e-8, far below a 16-bit PNG's
# quantisation (~1e-4), in 128 iterations instead of 300 (measured on LJ001-0027).
NNLS_TOLERANCE = 1e-5
NNLS_MAX_ITERATIONS = 300


def nnls_inverse(M: torch.Tensor, bands: torch.Tensor, max_iterations: int = NNLS_MAX_ITERATIONS,
                 tolerance: float = NNLS_TOLERANCE) -> tuple[torch.Tensor, int, float]:
    """min ||M x − y||² subject to x ≥ 0, for every frame and channel at once.

    Accelerated projected gradient (FISTA, Beck & Teboulle 2009, "A fast
    iterative shrinkage-thresholding algorithm for linear inverse problems",
    SIAM J. Imaging Sci. 2(1)) with step 1/‖M‖², from the clipped
    pseudo-inverse, until the whole batch moves by less than ``tolerance``
    (relative to the start) in an iteration. The iterates are float32: a
    minute of speech takes 0.5 s instead of 1.4 s, in as many iterations, and
    the solution differs from float64 iterates' by rounding along the way
    (1.5e-5 relative, the stopping tolerance's scale), reproducing the bands
    as well (experiments/mel-inverse-speed). The start and the reported
    residual are float64. Returns (x as float32, iterations, relative
    residual ||M x − y|| / ||y||).
    """
    import torch

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
    gram = Ma @ Ma.T
    step = float(1.0 / torch.linalg.eigvalsh(gram)[-1])
    start = torch.clamp(Ma.T @ (torch.linalg.pinv(gram, hermitian=True) @ Y2), min=0.0)
    scale = float(torch.linalg.vector_norm(start).clamp_min(1e-30))
    x = start.to(torch.float32)
    del start
    y = Y2.to(torch.float32)
    M_sparse, Mt_sparse = (m.to(torch.float32).to_sparse_coo().coalesce() for m in (Ma, Ma.T))
    z, t = x.clone(), 1.0
    # Every iterate lives in a buffer made once: over a whole recording each
    # is tens of MB, above glibc's mmap threshold, and fresh ones per
    # iteration were mapped and unmapped each time (half a 3-minute
    # inversion's CPU was page faults). The operations are the ones the
    # plain expressions would do, in the same order: the results are identical.
    residual_rows = torch.empty_like(y)
    gradient, x_next, moved_by = torch.empty_like(x), torch.empty_like(x), torch.empty_like(x)
    iterations = 0
    for iterations in range(1, max_iterations + 1):
        torch.mm(M_sparse, z, out=residual_rows)
        residual_rows.sub_(y)
        torch.mm(Mt_sparse, residual_rows, out=gradient)
        torch.sub(z, gradient.mul_(step), out=x_next).clamp_(min=0.0)  # x_next = max(z - step ∇, 0)
        t_next = (1.0 + (1.0 + 4.0 * t * t) ** 0.5) / 2.0
        torch.sub(x_next, x, out=moved_by)
        moved = torch.linalg.vector_norm(moved_by) / scale
        torch.add(x_next, moved_by.mul_((t - 1.0) / t_next), out=z)  # z = x_next + momentum (x_next - x)
        x, x_next, t = x_next, x, t_next
        if moved < tolerance:
            break
    fit = torch.mm(Ma.to_sparse_coo().coalesce(), x.to(torch.float64))
    residual = torch.linalg.vector_norm(fit - Y2) / torch.linalg.vector_norm(Y2).clamp_min(1e-30)
    full = torch.zeros(M.shape[1], x.shape[1], dtype=torch.float32)
    full[active] = x
    x = full.reshape(M.shape[1], -1, frames).permute(1, 0, 2).reshape(*lead, M.shape[1], frames)
    return x, iterations, float(residual)

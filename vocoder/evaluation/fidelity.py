"""The metric catalogue, and computing a selection of it for one output.

Two situations:
* with reference audio (``vocoder bench``): every metric, against the truth,
  but for ``consistency_db`` and the ``deviation_*`` shares, which measure
  the output against the input spectrogram as decoded (no reference needed);
* with only the input spectrogram (``vocoder invert``): consistency and the
  energy measures, in the input's own domain (mel or linear).

A metric is one catalogue entry: its name, unit, direction, description, the
content kinds it means something for, and a function of a
:class:`Comparison`, which computes what several metrics share (an STFT at
a framing, the linear powers, the pitch tracks, the energy measures, the hum
comparison, the deviation map) once, when first asked.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

import torch

from vocoder.errors import VocoderError
from vocoder.evaluation import deviation as dev, hallucination as hal, hum, metrics as m, perceptual as p
from vocoder.evaluation.spectra import ESTIMATE, REFERENCE, Spectra
from vocoder.frontend.filterbank import MelAxis
from vocoder.spec import PRESETS, SpectrogramSpec
from vocoder.spectrogram import Spectrogram

KINDS = ("speech", "monophonic", "polyphonic")


@dataclass(frozen=True)
class Value:
    """A metric's value, or why there is none (never a silent zero)."""

    value: float | None
    skipped: str = ""
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


class Comparison:
    """One output against its reference: what every metric is a function of.

    ``reference`` and ``estimate`` are (channels × samples) at the input
    spec's rate, cut to the shorter; ``input_spectrogram`` is what the
    backend was given (before any mel → linear step), which defines the
    domain for consistency and the deviation map and the fmax for
    out-of-band energy. ``reference_power``, when the caller already has it
    (bench: once per clip), is |STFT|² of the reference under the input
    spec's linear framing, and ``reference_pitch`` the reference's pitch track.
    """

    def __init__(self, reference: torch.Tensor, estimate: torch.Tensor, input_spectrogram: Spectrogram,
                 kind: str = "speech", reference_pitch: p.PitchTrack | None = None,
                 reference_power: torch.Tensor | None = None):
        if kind not in KINDS:
            raise VocoderError(f"unknown clip kind {kind!r}; choose from: {', '.join(KINDS)}")
        self.input_spectrogram, self.kind = input_spectrogram, kind
        self.spec = input_spectrogram.spec
        self.rate = self.spec.sample_rate
        n = min(reference.shape[-1], estimate.shape[-1])
        self.spectra = Spectra({REFERENCE: reference[..., :n], ESTIMATE: estimate[..., :n]})
        self.reference, self.estimate = self.spectra.signals[REFERENCE], self.spectra.signals[ESTIMATE]
        self.linear = self.spec.as_linear()
        self.band = m.spec_band(self.spec)
        self.rows = m.band_bins(self.spec.n_fft, self.rate, self.band)
        self._shared: dict[Any, Any] = {}
        if reference_power is not None:
            self._shared["power", REFERENCE] = reference_power
        if reference_pitch is not None:
            self._shared["pitch", REFERENCE] = reference_pitch
        self._values: dict[str, Value] = {}

    def _once(self, key: Any, compute: Callable[[], Any]) -> Any:
        if key not in self._shared:
            self._shared[key] = compute()
        return self._shared[key]

    def magnitude(self, which: str, spec: SpectrogramSpec) -> torch.Tensor:
        return self.spectra.magnitude(which, spec)

    def linear_power(self, which: str) -> torch.Tensor:
        """|STFT|² under the input spec's linear framing."""
        return self._once(("power", which), lambda: self.magnitude(which, self.linear) ** 2)

    def resolutions(self, which: str) -> list[torch.Tensor]:
        """The M-STFT resolutions' magnitudes."""
        return self._once(("mstft", which), lambda: m.multi_resolution_magnitudes(self.spectra.signals[which]))

    def pitch(self, which: str) -> p.PitchTrack:
        return self._once(("pitch", which), lambda: p.pitch_track(self.spectra.signals[which], self.rate, self.kind,
                                                                  self.spec.hop_length))

    def energy(self) -> hal.EnergyMeasures:
        return self._once("energy", lambda: hal.energy_measures(self.linear_power(REFERENCE),
                                                                self.linear_power(ESTIMATE)))

    def hum(self) -> hum.HumComparison | hum.NotApplicable:
        return self._once("hum", lambda: hum.compare(self.reference, self.estimate, self.rate, self.band))

    def deviation(self) -> dev.Deviation:
        """The output against the input as decoded, cell by cell (no reference), on the shared transforms."""
        return self._once("deviation", lambda: dev.deviation(self.input_spectrogram, self.estimate, self.spectra))

    def value(self, name: str) -> Value:
        """The catalogue metric ``name`` for this output, computed once."""
        if name not in self._values:
            metric = CATALOGUE[name]
            self._values[name] = (metric.compute(self) if self.kind in metric.kinds
                                  else Value(None, metric.not_for_reason))
        return self._values[name]


Compute = Callable[[Comparison], Value]


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    better: str  # "lower" or "higher"
    description: str
    compute: Compute
    kinds: tuple[str, ...] = KINDS  # the content it is meaningful for
    not_for_reason: str = ""
    full_band_of: str = ""  # the in-band metric this one is the 0..Nyquist twin of


def _spectral_convergence(c: Comparison, full: bool) -> float:
    R, E = c.linear_power(REFERENCE), c.linear_power(ESTIMATE)
    if not full:
        R, E = R[..., c.rows, :], E[..., c.rows, :]
    return m.spectral_convergence_db(R.sqrt(), E.sqrt())


def _lsd(c: Comparison, full: bool) -> float:
    return m.log_spectral_distance_of_powers(c.linear_power(REFERENCE), c.linear_power(ESTIMATE), c.spec, full)


def _mel_l1(c: Comparison, full: bool) -> float:
    spec = mel_spec_for(c.spec, full_band=full)
    return m.mel_l1_of_magnitudes(c.magnitude(REFERENCE, spec), c.magnitude(ESTIMATE, spec), spec)


def _mstft(c: Comparison, full: bool) -> float:
    band = (None, None) if full else (c.band, c.rate)
    return m.multi_resolution_distance_of_magnitudes(c.resolutions(REFERENCE), c.resolutions(ESTIMATE),
                                                     band=band[0], sample_rate=band[1])


def _mcd(c: Comparison, full: bool) -> float:
    spec = m.mcd_mel_spec(c.spec, full_band=full)
    return m.mel_cepstral_distortion_of_magnitudes(c.magnitude(REFERENCE, spec), c.magnitude(ESTIMATE, spec), spec)


def _in_band(measure: Callable[[Comparison, bool], float]) -> Compute:
    return lambda c: Value(measure(c, False))


def _full_band(in_band: str, measure: Callable[[Comparison, bool], float]) -> Compute:
    """A full-band twin: the in-band value itself when the spec covers 0..Nyquist."""
    return lambda c: c.value(in_band) if m.covers_full_band(c.spec) else Value(measure(c, True))


def _refusable(compute: Compute) -> Compute:
    """A reference package's metric: its refusal of an input (PESQ: "no utterances detected") is the reason."""
    def guarded(c: Comparison) -> Value:
        try:
            return compute(c)
        except Exception as exc:
            return Value(None, f"{type(exc).__name__}: {exc}".strip())
    return guarded


def _snr_aligned(c: Comparison) -> Value:
    value, lag, sign = m.aligned_snr_db(c.reference, c.estimate, c.spec.hop_length)
    return Value(value, details={"lag_samples": lag, "sign": sign})


def _f0_rmse(c: Comparison) -> Value:
    value = p.f0_rmse_cents(c.pitch(REFERENCE), c.pitch(ESTIMATE))
    if math.isnan(value):
        return Value(None, "no frame is voiced in both reference and output")
    return Value(value)


def _out_of_band(c: Comparison) -> Value:
    freqs = torch.fft.rfftfreq(c.spec.n_fft, 1.0 / c.rate)
    value = hal.out_of_band_db(c.linear_power(ESTIMATE), freqs, c.spec.axis.band(c.spec)[1])
    if value is None:
        return Value(None, f"the input describes the whole band (fmax {c.spec.axis.band(c.spec)[1]:g} Hz = Nyquist)")
    return Value(value)


def _hum(field: str) -> Compute:
    def compute(c: Comparison) -> Value:
        outcome = c.hum()
        if isinstance(outcome, hum.NotApplicable):
            return Value(None, outcome.reason, details=outcome.details)
        if getattr(outcome, field) is None:
            return Value(None, outcome.reason)
        return Value(getattr(outcome, field), details=outcome.details())
    return compute


def _deviation_share(key: str) -> Compute:
    return lambda c: Value(c.deviation().shares[key])


def _consistency(c: Comparison) -> Value:
    return Value(_consistency_db(c.input_spectrogram, c.spectra.own_domain_power(ESTIMATE, c.spec)))


CATALOGUE: dict[str, Metric] = {x.name: x for x in [
    Metric("sc_db", "dB", "lower", "spectral convergence of the output's linear STFT magnitude vs the reference's, "
           "within the spec's band", _in_band(_spectral_convergence)),
    Metric("sc_fullband_db", "dB", "lower", "sc_db over 0..Nyquist", _full_band("sc_db", _spectral_convergence),
           full_band_of="sc_db"),
    Metric("consistency_db", "dB", "lower",
           "spectral convergence of the output's spectrogram vs the input spectrogram, in the input's domain",
           _consistency),
    Metric("snr_db", "dB", "higher", "waveform SNR, no alignment", lambda c: Value(m.snr_db(c.reference, c.estimate))),
    Metric("snr_aligned_db", "dB", "higher", "waveform SNR after the best sign and integer lag within ±hop",
           _snr_aligned),
    Metric("si_sdr_db", "dB", "higher", "scale-invariant SDR", lambda c: Value(m.si_sdr_db(c.reference, c.estimate))),
    Metric("lsd_db", "dB", "lower", "log-spectral distance within the spec's band", _in_band(_lsd)),
    Metric("lsd_fullband_db", "dB", "lower", "lsd_db over 0..Nyquist", _full_band("lsd_db", _lsd),
           full_band_of="lsd_db"),
    Metric("mel_l1", "ln", "lower", "mean |Δ ln mel| (HiFi-GAN's mel loss), mel bands within the spec's band",
           _in_band(_mel_l1)),
    Metric("mel_l1_fullband", "ln", "lower", "mel_l1 with the mel bands over 0..Nyquist",
           _full_band("mel_l1", _mel_l1), full_band_of="mel_l1"),
    Metric("mstft", "", "lower", "multi-resolution STFT distance (BigVGAN's M-STFT resolutions) within the spec's band",
           _in_band(_mstft)),
    Metric("mstft_fullband", "", "lower", "mstft over 0..Nyquist", _full_band("mstft", _mstft),
           full_band_of="mstft"),
    Metric("mcd_db", "dB", "lower", "mel-cepstral distortion, c1..c13, 80 mel bands within the spec's band",
           _in_band(_mcd)),
    Metric("mcd_fullband_db", "dB", "lower", "mcd_db with the mel bands over 0..Nyquist", _full_band("mcd_db", _mcd),
           full_band_of="mcd_db"),
    Metric("pesq", "MOS", "higher", "wideband PESQ at 16 kHz",
           _refusable(lambda c: Value(p.pesq_wb(c.reference, c.estimate, c.rate))),
           ("speech",), "PESQ is defined for speech only"),
    Metric("stoi", "", "higher", "short-time objective intelligibility",
           _refusable(lambda c: Value(p.stoi(c.reference, c.estimate, c.rate))),
           ("speech",), "STOI is defined for speech only"),
    Metric("estoi", "", "higher", "extended STOI",
           _refusable(lambda c: Value(p.stoi(c.reference, c.estimate, c.rate, extended=True))),
           ("speech",), "ESTOI is defined for speech only"),
    Metric("f0_rmse_cents", "cents", "lower", "F0 RMSE over frames voiced in both (pYIN)", _f0_rmse,
           ("speech", "monophonic"), "F0 needs a single voice (not polyphonic music)"),
    Metric("vuv_f1", "", "higher", "voiced/unvoiced F1 (pYIN)",
           lambda c: Value(p.voicing_f1(c.pitch(REFERENCE), c.pitch(ESTIMATE))),
           ("speech", "monophonic"), "voicing needs a single voice (not polyphonic music)"),
    Metric("hallucinated_db", "dB", "lower", "output energy where the reference is > 60 dB below its max, re. reference energy",
           lambda c: Value(c.energy().hallucinated_db, details={"floor_db": c.energy().hallucinated_floor_db})),
    Metric("missing_db", "dB", "lower", "reference energy where the output is > 60 dB below the reference max, re. reference energy",
           lambda c: Value(c.energy().missing_db)),
    Metric("out_of_band_db", "dB", "lower", "output energy above the input spectrogram's fmax, re. output energy",
           _out_of_band),
    Metric("enf_error_mhz", "mHz", "lower", "median |output − reference| mains-hum (ENF) frequency over frames tracked "
           "in both", _hum("median_error_mhz")),
    Metric("enf_mean_error_mhz", "mHz", "lower", "mean |output − reference| ENF frequency over frames tracked in both",
           _hum("mean_error_mhz")),
    Metric("enf_tracked", "", "higher", "fraction of the reference's tracked hum frames also tracked in the output",
           _hum("tracked_fraction")),
    # Against the input spectrogram as decoded, not the reference: the deviation map's shares
    # (deviation.py), what an examiner can compute without a reference recording.
    *(Metric(f"deviation_added_beyond_{t:g}_db", "fraction", "lower",
             f"against the input, not the reference: share of the output's energy in cells more than {t:g} dB "
             "louder than the input spectrogram as decoded, on its own axis",
             _deviation_share(f"added_beyond_{t:g}_db")) for t in dev.THRESHOLDS_DB),
    *(Metric(f"deviation_lost_beyond_{t:g}_db", "fraction", "lower",
             f"against the input, not the reference: share of the input spectrogram's energy in cells the output "
             f"made more than {t:g} dB quieter, on the input's own axis",
             _deviation_share(f"lost_beyond_{t:g}_db")) for t in dev.THRESHOLDS_DB),
]}
DEFAULT_METRICS = tuple(CATALOGUE)
# In-band metric → its full-band twin (docs/metrics.md, "Bands").
FULL_BAND_TWINS = {x.full_band_of: x.name for x in CATALOGUE.values() if x.full_band_of}
ENF_METRICS = ("enf_error_mhz", "enf_mean_error_mhz", "enf_tracked")


def parse_metrics(text: str | None) -> tuple[str, ...]:
    """'all' / None → every metric; else a comma list, checked against the catalogue."""
    if text is None or text.strip() == "all":
        return DEFAULT_METRICS
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in CATALOGUE]
    if unknown or not names:
        raise VocoderError(f"unknown metric(s) {', '.join(unknown) or '(none given)'}; choose from: {', '.join(CATALOGUE)}")
    return names


def mel_spec_for(spec: SpectrogramSpec, full_band: bool = False) -> SpectrogramSpec:
    """The mel spec mel_l1 uses: the input's own when it is a mel, else
    HiFi-GAN's 80 bands and log floor at the input's rate and framing over
    the input's fmin..fmax; with ``full_band``, the same over 0..Nyquist."""
    if isinstance(spec.axis, MelAxis) and spec.log_floor is not None:
        return dataclasses.replace(spec, axis=dataclasses.replace(spec.axis, fmin=0.0, fmax=None)) if full_band else spec
    base = PRESETS["hifigan"]
    low, high = (0.0, None) if full_band else spec.axis.band(spec)
    return dataclasses.replace(base, sample_rate=spec.sample_rate, n_fft=spec.n_fft, hop_length=spec.hop_length,
                               win_length=spec.win_length, padding=spec.padding,
                               axis=dataclasses.replace(base.axis, fmin=low, fmax=high))


def against_reference(reference: torch.Tensor, estimate: torch.Tensor, input_spectrogram: Spectrogram,
                      kind: str = "speech", selected: tuple[str, ...] = DEFAULT_METRICS,
                      reference_pitch: p.PitchTrack | None = None,
                      reference_power: torch.Tensor | None = None) -> dict[str, Value]:
    """Every selected metric for one output against its reference waveform
    (the arguments are :class:`Comparison`'s)."""
    comparison = Comparison(reference, estimate, input_spectrogram, kind, reference_pitch, reference_power)
    return {name: comparison.value(name) for name in selected}


def _consistency_db(input_spectrogram: Spectrogram, own_power: torch.Tensor) -> float:
    """SC of the output's spectrogram (``own_power``, on the input's axis) against the input."""
    own = own_power.sqrt()
    target = input_spectrogram.magnitude.double()
    frames = min(own.shape[-1], target.shape[-1])
    return m.spectral_convergence_db(target[..., :frames], own[..., :frames])


def against_input(input_spectrogram: Spectrogram, estimate: torch.Tensor,
                  spectra: Spectra | None = None) -> dict[str, Any]:
    """Without reference audio: how the output relates to the spectrogram it came from
    (``spectra``: the estimate's transforms, when a caller shares them with another measure)."""
    spec = input_spectrogram.spec
    if float(input_spectrogram.magnitude.max()) <= 0:
        return {"skipped": "the input spectrogram is silent"}
    spectra = spectra if spectra is not None else Spectra({ESTIMATE: estimate})
    own_power = spectra.own_domain_power(ESTIMATE, spec)
    measures = hal.energy_measures(input_spectrogram.magnitude.double() ** 2, own_power)
    linear_power = spectra.magnitude(ESTIMATE, spec.as_linear()) ** 2
    oob = hal.out_of_band_db(linear_power, torch.fft.rfftfreq(spec.n_fft, 1.0 / spec.sample_rate),
                              spec.axis.band(spec)[1])
    return {
        "domain": spec.axis.kind,
        "consistency_db": _consistency_db(input_spectrogram, own_power),
        "hallucinated_db": measures.hallucinated_db,
        "hallucinated_floor_db": measures.hallucinated_floor_db,
        "missing_db": measures.missing_db,
        "out_of_band_db": oob,
        "definitions": "docs/metrics.md; energies on the input's own domain (its axis: linear, mel or log), "
                       "powers = magnitude²",
    }

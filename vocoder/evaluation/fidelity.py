"""The metric catalogue, and computing a selection of it for one output.

Two situations:
* with reference audio (``vocoder bench``): every metric, against the truth;
* with only the input spectrogram (``vocoder invert``): consistency and the
  energy measures, in the input's own domain (mel or linear).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

import torch

from vocoder.errors import VocoderError
from vocoder.evaluation import hallucination as hal
from vocoder.evaluation import hum
from vocoder.evaluation import metrics as m
from vocoder.evaluation import perceptual as p
from vocoder.frontend import stft as stft_ops
from vocoder.frontend.filterbank import MelAxis
from vocoder.spec import PRESETS, SpectrogramSpec
from vocoder.spectrogram import Spectrogram

KINDS = ("speech", "monophonic", "polyphonic")


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    better: str  # "lower" or "higher"
    description: str
    kinds: tuple[str, ...] = KINDS  # the content it is meaningful for
    not_for_reason: str = ""


CATALOGUE: dict[str, Metric] = {x.name: x for x in [
    Metric("sc_db", "dB", "lower", "spectral convergence of the output's linear STFT magnitude vs the reference's, "
           "within the spec's band"),
    Metric("sc_fullband_db", "dB", "lower", "sc_db over 0..Nyquist"),
    Metric("consistency_db", "dB", "lower",
           "spectral convergence of the output's spectrogram vs the input spectrogram, in the input's domain"),
    Metric("snr_db", "dB", "higher", "waveform SNR, no alignment"),
    Metric("snr_aligned_db", "dB", "higher", "waveform SNR after the best sign and integer lag within ±hop"),
    Metric("si_sdr_db", "dB", "higher", "scale-invariant SDR"),
    Metric("lsd_db", "dB", "lower", "log-spectral distance within the spec's band"),
    Metric("lsd_fullband_db", "dB", "lower", "lsd_db over 0..Nyquist"),
    Metric("mel_l1", "ln", "lower", "mean |Δ ln mel| (HiFi-GAN's mel loss), mel bands within the spec's band"),
    Metric("mel_l1_fullband", "ln", "lower", "mel_l1 with the mel bands over 0..Nyquist"),
    Metric("mstft", "", "lower", "multi-resolution STFT distance (BigVGAN's M-STFT resolutions) within the spec's band"),
    Metric("mstft_fullband", "", "lower", "mstft over 0..Nyquist"),
    Metric("mcd_db", "dB", "lower", "mel-cepstral distortion, c1..c13, 80 mel bands within the spec's band"),
    Metric("mcd_fullband_db", "dB", "lower", "mcd_db with the mel bands over 0..Nyquist"),
    Metric("pesq", "MOS", "higher", "wideband PESQ at 16 kHz", ("speech",), "PESQ is defined for speech only"),
    Metric("stoi", "", "higher", "short-time objective intelligibility", ("speech",), "STOI is defined for speech only"),
    Metric("estoi", "", "higher", "extended STOI", ("speech",), "ESTOI is defined for speech only"),
    Metric("f0_rmse_cents", "cents", "lower", "F0 RMSE over frames voiced in both (pYIN)", ("speech", "monophonic"),
           "F0 needs a single voice (not polyphonic music)"),
    Metric("vuv_f1", "", "higher", "voiced/unvoiced F1 (pYIN)", ("speech", "monophonic"),
           "voicing needs a single voice (not polyphonic music)"),
    Metric("hallucinated_db", "dB", "lower", "output energy where the reference is > 60 dB below its max, re. reference energy"),
    Metric("missing_db", "dB", "lower", "reference energy where the output is > 60 dB below the reference max, re. reference energy"),
    Metric("out_of_band_db", "dB", "lower", "output energy above the input spectrogram's fmax, re. output energy"),
    Metric("enf_error_mhz", "mHz", "lower", "median |output − reference| mains-hum (ENF) frequency over frames tracked "
           "in both"),
    Metric("enf_mean_error_mhz", "mHz", "lower", "mean |output − reference| ENF frequency over frames tracked in both"),
    Metric("enf_tracked", "", "higher", "fraction of the reference's tracked hum frames also tracked in the output"),
]}
DEFAULT_METRICS = tuple(CATALOGUE)
# In-band metric → its full-band twin (docs/metrics.md, "Bands").
FULL_BAND_TWINS = {"sc_db": "sc_fullband_db", "lsd_db": "lsd_fullband_db", "mel_l1": "mel_l1_fullband",
                   "mstft": "mstft_fullband", "mcd_db": "mcd_fullband_db"}
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


@dataclass(frozen=True)
class Value:
    """A metric's value, or why there is none (never a silent zero)."""

    value: float | None
    skipped: str = ""
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


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


def _own_domain_power(waveform: torch.Tensor, spec: SpectrogramSpec) -> torch.Tensor:
    return spec.axis.forward(spec, stft_ops.magnitude(waveform.double(), spec)) ** 2


def against_reference(reference: torch.Tensor, estimate: torch.Tensor, input_spectrogram: Spectrogram,
                      kind: str = "speech", selected: tuple[str, ...] = DEFAULT_METRICS,
                      reference_pitch: p.PitchTrack | None = None,
                      linear_powers: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict[str, Value]:
    """Every selected metric for one output against its reference waveform.

    ``reference`` and ``estimate`` are (channels × samples) at the input
    spec's rate; ``input_spectrogram`` is what the backend was given (before
    any mel → linear step), which defines the domain for consistency and the
    fmax for out-of-band energy. ``linear_powers``, when the caller already
    has them, are |STFT|² of reference and estimate under
    ``input_spectrogram.spec.as_linear()`` (so they are not computed twice).
    """
    if kind not in KINDS:
        raise VocoderError(f"unknown clip kind {kind!r}; choose from: {', '.join(KINDS)}")
    spec = input_spectrogram.spec
    rate = spec.sample_rate
    n = min(reference.shape[-1], estimate.shape[-1])
    reference, estimate = reference[..., :n].double(), estimate[..., :n].double()
    linear = spec.as_linear()
    cache: dict[str, Any] = {} if linear_powers is None else {"R": linear_powers[0], "E": linear_powers[1]}

    def linear_power(which: str) -> torch.Tensor:
        if which not in cache:
            cache[which] = stft_ops.magnitude(reference if which == "R" else estimate, linear) ** 2
        return cache[which]

    def energy() -> hal.EnergyMeasures:
        if "energy" not in cache:
            cache["energy"] = hal.energy_measures(linear_power("R"), linear_power("E"))
        return cache["energy"]

    def pitch() -> tuple[p.PitchTrack, p.PitchTrack]:
        if "pitch" not in cache:
            ref_track = reference_pitch or p.pitch_track(reference, rate, kind, spec.hop_length)
            cache["pitch"] = (ref_track, p.pitch_track(estimate, rate, kind, spec.hop_length))
        return cache["pitch"]

    def snr_aligned() -> Value:
        value, lag, sign = m.aligned_snr_db(reference, estimate, spec.hop_length)
        return Value(value, details={"lag_samples": lag, "sign": sign})

    band = m.spec_band(spec)
    rows = m.band_bins(spec.n_fft, rate, band)

    def full_band(name: str, compute_full: Callable[[], float]) -> Callable[[], Value]:
        """A full-band twin: the in-band value itself when the spec covers 0..Nyquist."""
        in_band = next(k for k, v in FULL_BAND_TWINS.items() if v == name)
        if m.covers_full_band(spec):
            return lambda: results[in_band] if in_band in results else compute[in_band]()
        return lambda: Value(compute_full())

    def sc(full: bool) -> float:
        R, E = linear_power("R"), linear_power("E")
        if not full:
            R, E = R[..., rows, :], E[..., rows, :]
        return m.spectral_convergence_db(R.sqrt(), E.sqrt())

    def enf() -> hum.HumComparison | hum.NotApplicable:
        if "enf" not in cache:
            cache["enf"] = hum.compare(reference, estimate, rate, band)
        return cache["enf"]

    def enf_value(field: str) -> Value:
        outcome = enf()
        if isinstance(outcome, hum.NotApplicable):
            return Value(None, outcome.reason, details=outcome.details)
        if getattr(outcome, field) is None:
            return Value(None, outcome.reason)
        return Value(getattr(outcome, field), details=outcome.details())

    def out_of_band() -> Value:
        freqs = torch.fft.rfftfreq(spec.n_fft, 1.0 / rate)
        value = hal.out_of_band_db(linear_power("E"), freqs, spec.axis.band(spec)[1])
        if value is None:
            return Value(None, f"the input describes the whole band (fmax {spec.axis.band(spec)[1]:g} Hz = Nyquist)")
        return Value(value)

    compute: dict[str, Callable[[], Value]] = {
        "sc_db": lambda: Value(sc(False)),
        "consistency_db": lambda: Value(consistency_db(input_spectrogram, estimate)),
        "snr_db": lambda: Value(m.snr_db(reference, estimate)),
        "snr_aligned_db": snr_aligned,
        "si_sdr_db": lambda: Value(m.si_sdr_db(reference, estimate)),
        "lsd_db": lambda: Value(m.log_spectral_distance_db(reference, estimate, spec)),
        "mel_l1": lambda: Value(m.mel_l1(reference, estimate, mel_spec_for(spec))),
        "mstft": lambda: Value(m.multi_resolution_stft_distance(reference, estimate, band=band, sample_rate=rate)),
        "mcd_db": lambda: Value(m.mel_cepstral_distortion_db(reference, estimate, spec)),
        "pesq": lambda: Value(p.pesq_wb(reference, estimate, rate)),
        "stoi": lambda: Value(p.stoi(reference, estimate, rate)),
        "estoi": lambda: Value(p.stoi(reference, estimate, rate, extended=True)),
        "f0_rmse_cents": lambda: _f0_rmse(*pitch()),
        "vuv_f1": lambda: Value(p.voicing_f1(*pitch())),
        "hallucinated_db": lambda: Value(energy().hallucinated_db,
                                         details={"floor_db": energy().hallucinated_floor_db}),
        "missing_db": lambda: Value(energy().missing_db),
        "out_of_band_db": out_of_band,
        "enf_error_mhz": lambda: enf_value("median_error_mhz"),
        "enf_mean_error_mhz": lambda: enf_value("mean_error_mhz"),
        "enf_tracked": lambda: enf_value("tracked_fraction"),
    }
    compute.update({
        "sc_fullband_db": full_band("sc_fullband_db", lambda: sc(True)),
        "lsd_fullband_db": full_band("lsd_fullband_db",
                                     lambda: m.log_spectral_distance_db(reference, estimate, spec, full_band=True)),
        "mel_l1_fullband": full_band("mel_l1_fullband",
                                     lambda: m.mel_l1(reference, estimate, mel_spec_for(spec, full_band=True))),
        "mstft_fullband": full_band("mstft_fullband", lambda: m.multi_resolution_stft_distance(reference, estimate)),
        "mcd_fullband_db": full_band("mcd_fullband_db",
                                     lambda: m.mel_cepstral_distortion_db(reference, estimate, spec, full_band=True)),
    })
    results = {}
    for name in selected:
        metric = CATALOGUE[name]
        if kind not in metric.kinds:
            results[name] = Value(None, metric.not_for_reason)
            continue
        if name in ("pesq", "stoi", "estoi"):
            try:
                results[name] = compute[name]()
            except Exception as exc:  # the library refuses this input (PESQ: "no utterances detected")
                results[name] = Value(None, f"{type(exc).__name__}: {exc}".strip())
        else:
            results[name] = compute[name]()
    return results


def _f0_rmse(reference: p.PitchTrack, estimate: p.PitchTrack) -> Value:
    value = p.f0_rmse_cents(reference, estimate)
    if math.isnan(value):
        return Value(None, "no frame is voiced in both reference and output")
    return Value(value)


def consistency_db(input_spectrogram: Spectrogram, estimate: torch.Tensor) -> float:
    """SC of the output's spectrogram against the input, in the input's domain."""
    spec = input_spectrogram.spec
    own = _own_domain_power(estimate, spec).sqrt()
    target = input_spectrogram.magnitude.double()
    frames = min(own.shape[-1], target.shape[-1])
    return m.spectral_convergence_db(target[..., :frames], own[..., :frames])


def against_input(input_spectrogram: Spectrogram, estimate: torch.Tensor) -> dict[str, Any]:
    """Without reference audio: how the output relates to the spectrogram it came from."""
    spec = input_spectrogram.spec
    if float(input_spectrogram.magnitude.max()) <= 0:
        return {"skipped": "the input spectrogram is silent"}
    measures = hal.energy_measures(input_spectrogram.magnitude.double() ** 2, _own_domain_power(estimate, spec))
    linear_power = stft_ops.magnitude(estimate.double(), spec.as_linear()) ** 2
    oob = hal.out_of_band_db(linear_power, torch.fft.rfftfreq(spec.n_fft, 1.0 / spec.sample_rate),
                              spec.axis.band(spec)[1])
    return {
        "domain": spec.axis.kind,
        "consistency_db": consistency_db(input_spectrogram, estimate),
        "hallucinated_db": measures.hallucinated_db,
        "hallucinated_floor_db": measures.hallucinated_floor_db,
        "missing_db": measures.missing_db,
        "out_of_band_db": oob,
        "definitions": "docs/metrics.md; energies on the input's own domain (its axis: linear, mel or log), "
                       "powers = magnitude²",
    }

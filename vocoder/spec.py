"""SpectrogramSpec: the exact meaning of a spectrogram's axes and values.

A spec is frozen and JSON-serialisable so it can travel inside PNG files,
provenance records and model checkpoints. Everything that turns audio into a
spectrogram or back reads its parameters from one spec and nowhere else.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Literal

from vocoder.errors import VocoderError
from vocoder.frontend.filterbank import AXES, FrequencyAxis, LinearAxis, MelAxis, axis_from_dict
from vocoder.safety.text import brief, shown
from vocoder.safety.untrusted import is_number, is_whole, load_json

# How frames sit on the waveform:
#   "center": torch.stft(center=True) / librosa's default. n_fft//2 samples of
#             padding on each side; frame k is centred on sample k*hop.
#   "same":   HiFi-GAN's convention. (n_fft - hop)//2 samples of padding on
#             each side and center=False, so frames * hop == samples.
Padding = Literal["center", "same"]

# Analysis windows (built in vocoder/frontend/stft.py, the one place a window
# is made). "kaiser" needs the spec's kaiser_beta; "gauss" is exp(−π t²/γ)
# (t in samples from the window's centre) truncated to win_length, γ the
# spec's gauss_gamma: the window PGHI's phase-gradient relations are exact for.
WINDOWS = ("hann", "hamming", "blackman", "kaiser", "rectangular", "gauss")

# Physical bounds on a spec. 1 MHz is above any audio or ultrasound recorder
# a forensic user meets (bat detectors record at 250-500 kHz); 2^18 FFT bins
# are ~1.3 s windows at 192 kHz, beyond any spectrogram we know of. Inside
# these bounds, what a job may cost is decided by the memory budget.
MAX_SAMPLE_RATE = 1_000_000
MAX_N_FFT = 2**18


@dataclass(frozen=True)
class SpectrogramSpec:
    """Everything needed to compute, or invert, one kind of spectrogram.

    Values held in a :class:`~vocoder.spectrogram.Spectrogram` with this spec
    are *linear amplitudes* (|STFT|, or the axis's filterbank applied to
    |STFT|); ``log_floor`` says how a model's log features are made from them.
    ``log_floor`` and ``magnitude_eps`` are conventions of the values, not of
    the frequency axis: a log floor applies to linear bins as much as to mel
    bands, and HiFi-GAN's epsilon is added to |X|² before any filterbank.
    """

    sample_rate: int
    n_fft: int
    hop_length: int
    win_length: int
    window: str = "hann"
    kaiser_beta: float | None = None  # the Kaiser window's shape parameter β; only for window "kaiser"
    # The Gaussian window's γ (samples²): exp(−π t²/γ). Only for window "gauss";
    # None there means hop_length × n_fft (see gaussian_gamma). At most
    # 16·win_length²: beyond that the truncated window is within 5% of a
    # rectangle at its ends and no longer a Gaussian in any useful sense.
    gauss_gamma: float | None = None
    padding: Padding = "center"
    pad_mode: str = "reflect"
    # What the rows are (vocoder/frontend/filterbank.py): the STFT's bins, mel or log bands, ...
    axis: FrequencyAxis = LinearAxis()
    # Natural-log features are ln(max(x, log_floor)); None: no log convention.
    log_floor: float | None = None
    # Added to |X|^2 before the square root, as HiFi-GAN's mel code does (1e-9).
    magnitude_eps: float = 0.0

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise VocoderError("invalid spectrogram spec: " + "; ".join(problems))

    def _problems(self):
        # Types first: a spec also arrives as JSON from files (PNG metadata,
        # checkpoints) that anyone can write, so nothing is assumed.
        ints = ("sample_rate", "n_fft", "hop_length", "win_length")
        wrong = [f"{name} must be a whole number (got {shown(getattr(self, name))})" for name in ints
                 if not is_whole(getattr(self, name))]
        if not is_number(self.magnitude_eps):
            wrong.append(f"magnitude_eps must be a number (got {shown(self.magnitude_eps)})")
        if self.log_floor is not None and not is_number(self.log_floor):
            wrong.append(f"log_floor must be a number or null (got {shown(self.log_floor)})")
        if not isinstance(self.axis, FrequencyAxis):
            wrong.append(f"axis must be a frequency axis (got {shown(self.axis)})")
        for name in ("window", "padding", "pad_mode"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                wrong.append(f"{name} must be a string (got {shown(value)})")
        if wrong:
            yield from wrong
            return
        if not 1 <= self.sample_rate <= MAX_SAMPLE_RATE:
            yield f"sample_rate must be in 1..{MAX_SAMPLE_RATE} Hz (got {shown(self.sample_rate)})"
        if not 2 <= self.n_fft <= MAX_N_FFT:
            yield f"n_fft must be in 2..{MAX_N_FFT} (got {shown(self.n_fft)})"
        if not 0 < self.win_length <= self.n_fft:
            yield f"win_length must be in 1..n_fft={self.n_fft} (got {shown(self.win_length)})"
        if not 0 < self.hop_length <= self.win_length:
            yield f"hop_length must be in 1..win_length={self.win_length} (got {shown(self.hop_length)})"
        if self.window not in WINDOWS:
            yield f"window must be one of {', '.join(WINDOWS)} (got {shown(self.window)})"
        if self.padding not in ("center", "same"):
            yield f"padding must be 'center' or 'same' (got {shown(self.padding)})"
        if self.padding == "same" and (self.n_fft - self.hop_length) % 2:
            yield "padding 'same' needs n_fft - hop_length to be even"
        if self.pad_mode not in ("reflect", "constant"):
            yield f"pad_mode must be 'reflect' or 'constant' (got {shown(self.pad_mode)})"
        if self.window == "kaiser":
            if not is_number(self.kaiser_beta) or not 0 <= self.kaiser_beta <= 100:
                yield f"a kaiser window needs kaiser_beta in 0..100 (got {shown(self.kaiser_beta)})"
        elif self.kaiser_beta is not None:
            yield f"kaiser_beta is only for the kaiser window (window is {shown(self.window)})"
        if self.window == "gauss":
            if self.gauss_gamma is not None and (not is_number(self.gauss_gamma) or not 0 < self.gauss_gamma
                                                 <= 16.0 * self.win_length ** 2):
                yield (f"a gauss window needs gauss_gamma in (0, 16·win_length²] samples² or null "
                       f"(got {shown(self.gauss_gamma)})")
        elif self.gauss_gamma is not None:
            yield f"gauss_gamma is only for the gauss window (window is {shown(self.window)})"
        if 2 <= self.n_fft <= MAX_N_FFT and 1 <= self.sample_rate <= MAX_SAMPLE_RATE:
            yield from self.axis.problems(self)
        if self.log_floor is not None and not 0 < self.log_floor < 1:
            yield f"log_floor must be in (0, 1) (got {shown(self.log_floor)})"
        if not 0 <= self.magnitude_eps < 1:
            yield f"magnitude_eps must be in [0, 1) (got {shown(self.magnitude_eps)})"

    # -- derived quantities -------------------------------------------------

    @property
    def n_stft_bins(self) -> int:
        """Frequency bins of the underlying linear STFT (n_fft // 2 + 1)."""
        return self.n_fft // 2 + 1

    @property
    def n_bins(self) -> int:
        """Rows of this spectrogram, as its axis says."""
        return self.axis.n_rows(self)

    @property
    def redundancy(self) -> float:
        """n_fft / hop: how many frames overlap each sample."""
        return self.n_fft / self.hop_length

    @property
    def side_padding(self) -> int:
        """Samples of padding added on each side before framing."""
        if self.padding == "center":
            return self.n_fft // 2
        return (self.n_fft - self.hop_length) // 2

    def n_frames(self, n_samples: int) -> int:
        """Frames produced from a waveform of ``n_samples`` samples."""
        return (n_samples + 2 * self.side_padding - self.n_fft) // self.hop_length + 1

    def n_samples(self, n_frames: int) -> int:
        """Natural waveform length for ``n_frames`` frames (inverse of n_frames
        up to the hop's rounding)."""
        return (n_frames - 1) * self.hop_length + self.n_fft - 2 * self.side_padding

    def min_samples(self) -> int:
        """Shortest waveform the padding convention can frame."""
        # Reflect padding needs more samples than it pads; one frame needs n_fft.
        return max(self.side_padding + 1, self.n_fft - 2 * self.side_padding, 1)

    @property
    def gaussian_gamma(self) -> float | None:
        """γ (samples²) of a "gauss" window, None for other windows.

        Unset, it is hop_length × n_fft: Průša, Balazs & Søndergaard (2017)
        use the Gaussian of time-frequency ratio λ = aM/L (a: hop, M: FFT
        size, L: signal length), whose γ = λL = aM spreads equally over the
        time and frequency steps of the lattice.
        """
        if self.window != "gauss":
            return None
        return float(self.gauss_gamma) if self.gauss_gamma is not None else float(self.hop_length * self.n_fft)

    def as_linear(self) -> "SpectrogramSpec":
        """The plain linear-STFT spec under this one: same rate, framing and
        window, no filterbank, no log floor, no magnitude epsilon."""
        return dataclasses.replace(self, axis=LinearAxis(), log_floor=None, magnitude_eps=0.0)

    # -- (de)serialisation ---------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-typed fields, the axis nested as ``{"kind": ..., its fields}``."""
        return {f.name: self.axis.to_dict() if f.name == "axis" else getattr(self, f.name)
                for f in dataclasses.fields(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SpectrogramSpec":
        """A spec from JSON of any version (the flat form through :func:`upgrade_flat_axis`)."""
        if not isinstance(data, dict):
            raise VocoderError("a spectrogram spec must be a JSON object")
        data = upgrade_flat_axis(data)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise VocoderError(f"unknown spectrogram spec field(s): {shown(', '.join(map(str, unknown)))}")
        fields = dict(data)
        if "axis" in fields:
            fields["axis"] = axis_from_dict(fields["axis"])
        try:
            return cls(**fields)
        except TypeError as exc:
            raise VocoderError(f"incomplete spectrogram spec: {brief(exc, 120)}") from None

    @classmethod
    def from_json(cls, text: str) -> "SpectrogramSpec":
        return cls.from_dict(load_json(text, "spectrogram spec"))

    def differences(self, other: "SpectrogramSpec") -> list[str]:
        """Human-readable list of fields where ``other`` differs from self (axis fields as axis.NAME)."""
        mine, theirs = _flat(self.to_dict()), _flat(other.to_dict())

        def value(data: dict[str, Any], key: str) -> str:
            return repr(data[key]) if key in data else "(none)"

        return [f"{k}: {value(mine, k)} vs {value(theirs, k)}"
                for k in list(mine) + [k for k in theirs if k not in mine] if value(mine, k) != value(theirs, k)]


def _flat(data: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in data.items() if k != "axis"},
            **{f"axis.{k}": v for k, v in data["axis"].items()}}


# The frequency axis as flat spec fields, as vocoder wrote specs before the
# axis was nested (PNG metadata, records, model files, training checkpoints).
FLAT_AXIS_FIELDS = ("scale", "n_mels", "fmin", "fmax", "mel_scale", "mel_norm", "mel_filterbank",
                    "bands_per_octave")
# What the flat form held for a field its axis does not use.
_FLAT_UNUSED = {"fmin": 0.0}


def upgrade_flat_axis(data: dict[str, Any]) -> dict[str, Any]:
    """The one upgrade of an earlier spec JSON: flat axis fields → ``"axis"``.

    ``scale`` names the kind (absent: linear, its old default); the kind's own
    fields move into the axis, and every other flat field must hold the value
    the flat form wrote for an unused field (None; fmin 0), else the spec
    contradicts itself. A spec that gives both forms is refused.
    """
    flat = [name for name in FLAT_AXIS_FIELDS if name in data]
    if not flat:
        return data
    if "axis" in data:
        raise VocoderError(f"the spectrogram spec gives its axis twice: as 'axis' and as the earlier flat "
                           f"{', '.join(flat)}")
    kind = data.get("scale", "linear")
    if kind not in ("linear", "mel", "log"):  # the kinds the flat form had
        raise VocoderError(f"scale must be one of linear, mel, log (got {shown(kind)})")
    own = AXES[kind].field_names()
    contradictions = [f"{name} {shown(data[name])}" for name in flat
                      if name != "scale" and name not in own and data[name] != _FLAT_UNUSED.get(name)]
    if contradictions:
        raise VocoderError(f"the spectrogram spec contradicts itself: a {kind} axis takes no "
                           f"{', '.join(contradictions)}")
    axis = {"kind": kind, **{name: data[name] for name in flat if name in own}}
    return {**{k: v for k, v in data.items() if k not in FLAT_AXIS_FIELDS}, "axis": axis}


PRESETS: dict[str, SpectrogramSpec] = {
    # HiFi-GAN V1-V3 (Kong et al. 2020, config_v1.json / meldataset.py), also
    # iSTFTNet: 22.05 kHz, n_fft 1024, hop 256, win 1024, 80 slaney mels
    # 0-8000 Hz from librosa, reflect padding of (n_fft-hop)/2 with
    # center=False, sqrt(|X|^2 + 1e-9), ln(clamp(x, 1e-5)).
    "hifigan": SpectrogramSpec(
        sample_rate=22050, n_fft=1024, hop_length=256, win_length=1024,
        padding="same", axis=MelAxis(n_mels=80, fmin=0.0, fmax=8000.0, mel_scale="slaney", mel_norm="slaney",
                                     mel_filterbank="librosa"),
        log_floor=1e-5, magnitude_eps=1e-9,
    ),
    # BigVGAN v1 24 kHz (Lee et al. 2023, bigvgan_24khz_100band config): same
    # recipe as HiFi-GAN with 100 bands up to 12 kHz.
    "bigvgan-24k": SpectrogramSpec(
        sample_rate=24000, n_fft=1024, hop_length=256, win_length=1024,
        padding="same", axis=MelAxis(n_mels=100, fmin=0.0, fmax=12000.0, mel_scale="slaney", mel_norm="slaney",
                                     mel_filterbank="librosa"),
        log_floor=1e-5, magnitude_eps=1e-9,
    ),
    # Vocos 24 kHz (Siuzdak 2023, vocos-mel-24khz config): torchaudio
    # MelSpectrogram with center=True, power 1, HTK scale, no norm,
    # ln(clip(x, 1e-7)).
    "vocos-24k": SpectrogramSpec(
        sample_rate=24000, n_fft=1024, hop_length=256, win_length=1024,
        padding="center", axis=MelAxis(n_mels=100, fmin=0.0, fmax=12000.0, mel_scale="htk", mel_norm=None,
                                       mel_filterbank="torchaudio"),
        log_floor=1e-7,
    ),
    # Plain linear STFT magnitude at HiFi-GAN's rate and framing sizes.
    "linear": SpectrogramSpec(
        sample_rate=22050, n_fft=1024, hop_length=256, win_length=1024,
        padding="center", axis=LinearAxis(),
    ),
}


def get_preset(name: str) -> SpectrogramSpec:
    try:
        return PRESETS[name]
    except KeyError:
        raise VocoderError(
            f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}"
        ) from None

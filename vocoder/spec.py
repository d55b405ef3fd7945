"""SpectrogramSpec: the exact meaning of a spectrogram's axes and values.

A spec is frozen and JSON-serialisable so it can travel inside PNG files,
provenance records and model checkpoints. Everything that turns audio into a
spectrogram or back reads its parameters from one spec and nowhere else.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from vocoder.errors import VocoderError

# The frequency axis; each has one class in vocoder/frontend/filterbank.py
# that maps linear STFT magnitudes onto its rows and back.
Scale = Literal["linear", "mel", "log"]
SCALES = ("linear", "mel", "log")
# How frames sit on the waveform:
#   "center": torch.stft(center=True) / librosa's default. n_fft//2 samples of
#             padding on each side; frame k is centred on sample k*hop.
#   "same":   HiFi-GAN's convention. (n_fft - hop)//2 samples of padding on
#             each side and center=False, so frames * hop == samples.
Padding = Literal["center", "same"]

# Analysis windows (built in vocoder/frontend/stft.py, the one place a window
# is made). "kaiser" needs the spec's kaiser_beta.
WINDOWS = ("hann", "hamming", "blackman", "kaiser", "rectangular")


@dataclass(frozen=True)
class SpectrogramSpec:
    """Everything needed to compute, or invert, one kind of spectrogram.

    Values held in a :class:`~vocoder.spectrogram.Spectrogram` with this spec
    are *linear amplitudes* (|STFT|, or a mel filterbank applied to |STFT|);
    ``log_floor`` says how a model's log features are made from them.
    """

    sample_rate: int
    n_fft: int
    hop_length: int
    win_length: int
    window: str = "hann"
    kaiser_beta: float | None = None  # the Kaiser window's shape parameter β; only for window "kaiser"
    padding: Padding = "center"
    pad_mode: str = "reflect"
    scale: Scale = "linear"
    n_mels: int | None = None
    fmin: float = 0.0
    fmax: float | None = None  # None: Nyquist
    mel_scale: Literal["slaney", "htk"] | None = None
    mel_norm: Literal["slaney"] | None = None
    # Whose filterbank code builds the triangles. librosa (float64) and
    # torchaudio (float32) differ by ~1e-5 per weight: enough to move the log
    # of quiet bands by 1e-4, so each preset names the one its peer used.
    mel_filterbank: Literal["librosa", "torchaudio"] | None = None
    # Log axis: bands per octave, centres from fmin up to at most fmax.
    bands_per_octave: int | None = None
    # Natural-log features are ln(max(x, log_floor)); None: no log convention.
    log_floor: float | None = None
    # Added to |X|^2 before the square root, as HiFi-GAN's mel code does (1e-9).
    magnitude_eps: float = 0.0

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise VocoderError("invalid spectrogram spec: " + "; ".join(problems))

    def _problems(self):
        if self.sample_rate <= 0:
            yield f"sample_rate must be positive (got {self.sample_rate})"
        if self.n_fft < 2:
            yield f"n_fft must be at least 2 (got {self.n_fft})"
        if not 0 < self.win_length <= self.n_fft:
            yield f"win_length must be in 1..n_fft={self.n_fft} (got {self.win_length})"
        if not 0 < self.hop_length <= self.win_length:
            yield f"hop_length must be in 1..win_length={self.win_length} (got {self.hop_length})"
        if self.window not in WINDOWS:
            yield f"window must be one of {', '.join(WINDOWS)} (got {self.window!r})"
        if self.padding not in ("center", "same"):
            yield f"padding must be 'center' or 'same' (got {self.padding!r})"
        if self.padding == "same" and (self.n_fft - self.hop_length) % 2:
            yield "padding 'same' needs n_fft - hop_length to be even"
        if self.pad_mode not in ("reflect", "constant"):
            yield f"pad_mode must be 'reflect' or 'constant' (got {self.pad_mode!r})"
        if self.window == "kaiser":
            if not _is_number(self.kaiser_beta) or not 0 <= self.kaiser_beta <= 100:
                yield f"a kaiser window needs kaiser_beta in 0..100 (got {self.kaiser_beta!r})"
        elif self.kaiser_beta is not None:
            yield f"kaiser_beta is only for the kaiser window (window is {self.window!r})"
        nyquist = self.sample_rate / 2
        top = self.fmax if self.fmax is not None else nyquist
        if not 0 <= self.fmin < top <= nyquist:
            yield f"need 0 <= fmin < fmax <= Nyquist ({nyquist:g} Hz); got fmin={self.fmin}, fmax={self.fmax}"
        if self.scale not in SCALES:
            yield f"scale must be one of {', '.join(SCALES)} (got {self.scale!r})"
        else:
            from vocoder.frontend.filterbank import axis_problems

            yield from axis_problems(self)
        if self.log_floor is not None and self.log_floor <= 0:
            yield f"log_floor must be positive (got {self.log_floor})"
        if self.magnitude_eps < 0:
            yield f"magnitude_eps must be >= 0 (got {self.magnitude_eps})"

    # -- derived quantities -------------------------------------------------

    @property
    def n_stft_bins(self) -> int:
        """Frequency bins of the underlying linear STFT (n_fft // 2 + 1)."""
        return self.n_fft // 2 + 1

    @property
    def is_linear(self) -> bool:
        """True when the rows are the STFT's own bins (no filterbank to undo)."""
        return self.filterbank().is_linear

    def filterbank(self):
        """The axis object (:mod:`vocoder.frontend.filterbank`): linear STFT
        magnitude ↔ this spec's rows, band centre frequencies, n_bins."""
        from vocoder.frontend.filterbank import filterbank_for

        return filterbank_for(self)

    @property
    def n_bins(self) -> int:
        """Rows of this spectrogram: mel or log bands, or linear STFT bins."""
        return self.filterbank().n_bins

    @property
    def f_max(self) -> float:
        """The highest frequency this spectrogram describes, in Hz."""
        return float(self.fmax) if self.fmax is not None else self.sample_rate / 2

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

    def as_linear(self) -> "SpectrogramSpec":
        """The plain linear-STFT spec under this one: same rate, framing and
        window, no filterbank, no log floor, no magnitude epsilon."""
        from vocoder.frontend.filterbank import axis_fields

        return dataclasses.replace(
            self, scale="linear", **{name: None for name in axis_fields()},
            fmin=0.0, fmax=None, log_floor=None, magnitude_eps=0.0,
        )

    # -- (de)serialisation ---------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SpectrogramSpec":
        if not isinstance(data, dict):
            raise VocoderError("a spectrogram spec must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise VocoderError(f"unknown spectrogram spec field(s): {', '.join(unknown)}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise VocoderError(f"incomplete spectrogram spec: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> "SpectrogramSpec":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise VocoderError(f"spectrogram spec is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    def differences(self, other: "SpectrogramSpec") -> list[str]:
        """Human-readable list of fields where ``other`` differs from self."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [f"{k}: {mine[k]!r} vs {theirs[k]!r}" for k in mine if mine[k] != theirs[k]]


PRESETS: dict[str, SpectrogramSpec] = {
    # HiFi-GAN V1-V3 (Kong et al. 2020, config_v1.json / meldataset.py), also
    # iSTFTNet: 22.05 kHz, n_fft 1024, hop 256, win 1024, 80 slaney mels
    # 0-8000 Hz from librosa, reflect padding of (n_fft-hop)/2 with
    # center=False, sqrt(|X|^2 + 1e-9), ln(clamp(x, 1e-5)).
    "hifigan": SpectrogramSpec(
        sample_rate=22050, n_fft=1024, hop_length=256, win_length=1024,
        padding="same", scale="mel", n_mels=80, fmin=0.0, fmax=8000.0,
        mel_scale="slaney", mel_norm="slaney", mel_filterbank="librosa", log_floor=1e-5, magnitude_eps=1e-9,
    ),
    # BigVGAN v1 24 kHz (Lee et al. 2023, bigvgan_24khz_100band config): same
    # recipe as HiFi-GAN with 100 bands up to 12 kHz.
    "bigvgan-24k": SpectrogramSpec(
        sample_rate=24000, n_fft=1024, hop_length=256, win_length=1024,
        padding="same", scale="mel", n_mels=100, fmin=0.0, fmax=12000.0,
        mel_scale="slaney", mel_norm="slaney", mel_filterbank="librosa", log_floor=1e-5, magnitude_eps=1e-9,
    ),
    # Vocos 24 kHz (Siuzdak 2023, vocos-mel-24khz config): torchaudio
    # MelSpectrogram with center=True, power 1, HTK scale, no norm,
    # ln(clip(x, 1e-7)).
    "vocos-24k": SpectrogramSpec(
        sample_rate=24000, n_fft=1024, hop_length=256, win_length=1024,
        padding="center", scale="mel", n_mels=100, fmin=0.0, fmax=12000.0,
        mel_scale="htk", mel_norm=None, mel_filterbank="torchaudio", log_floor=1e-7,
    ),
    # Plain linear STFT magnitude at HiFi-GAN's rate and framing sizes.
    "linear": SpectrogramSpec(
        sample_rate=22050, n_fft=1024, hop_length=256, win_length=1024,
        padding="center", scale="linear",
    ),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def get_preset(name: str) -> SpectrogramSpec:
    try:
        return PRESETS[name]
    except KeyError:
        raise VocoderError(
            f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}"
        ) from None

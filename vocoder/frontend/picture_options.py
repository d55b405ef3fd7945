"""How an analyst says a picture without metadata becomes a spectrogram:
:class:`PictureOptions`, and its one check.

Its own module because both the picture chain (:mod:`vocoder.frontend.image`)
and the known producers (:mod:`vocoder.frontend.producers`, whose readings are
options like an analyst's) need it, and the chain asks the producers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from vocoder.errors import VocoderError
from vocoder.frontend.display_axes import ROW_SCALES
from vocoder.safety.text import shown

# Largest |dB| a mapping may name. 200 dB of amplitude is 10^10: beyond the
# ~150 dB a float32 waveform can resolve, and its powers (10^20) still fit
# float32 sums; a larger figure is a typo or a hostile file, not a recording.
MAX_DB = 200.0
# The dB a picture's colour scale may be labelled with, each end: a plotting program's dB of power
# spectral density sits far below 0 (matplotlib's specgram draws 10·log10 of a PSD: −230 dB for quiet
# audio), so the values may be large as long as their span stays within MAX_DB and the magnitudes
# they stand for pass check_magnitudes.
MAX_DB_LABEL = 400.0
# Magnitudes a picture's mapping may stand for. Below float32's smallest normal
# number a level is lost to denormals; above 1e12 its power (1e24) summed over
# 10^13 STFT cells would pass float32's 3.4e38. A full-scale signal's STFT
# magnitude is at most its window's sum (< n_fft <= 2^18): real spectrograms sit
# far inside. Computed in float64, so a forged mapping is refused, not overflowed.
MIN_MAGNITUDE = 1.1754943508222875e-38  # numpy.finfo(numpy.float32).tiny
MAX_MAGNITUDE = 1e12


def check_magnitudes(quietest: float, loudest: float, what: str) -> None:
    """Refuse a mapping whose quietest non-zero or loudest magnitude (float64)
    is outside what float32 spectra and their powers hold."""
    if not MIN_MAGNITUDE <= quietest <= loudest <= MAX_MAGNITUDE:
        raise VocoderError(f"{what} stands for magnitudes {quietest:.3g} .. {loudest:.3g}, outside "
                           f"{MIN_MAGNITUDE:.3g} .. {MAX_MAGNITUDE:g}: not a spectrogram vocoder can invert")


def contradicting_channels(channel: str, planes: tuple[str, ...] | list[str]) -> VocoderError:
    """The refusal of --channel given with --channels (each names what a channel reads)."""
    return VocoderError(f"--channel {channel} and --channels {','.join(planes)} contradict each other: "
                        "--channels names the plane of each output channel; give one of them")


# --duration above a day is a typo; the memory budget decides below that.
MAX_DURATION = 86_400.0
# Tools tilt by a few dB per octave (Praat: 6); 24 dB/octave over 10 octaves is 240 dB, beyond any picture.
MAX_PRE_EMPHASIS = 24.0
# A Gaussian wider than 1000 pixels flattens any spectrogram to a constant.
MAX_BLUR = 1000.0


ChannelChoice = Literal["grey", "r", "g", "b", "stereo"]
PLANES = ("grey", "r", "g", "b")


@dataclass(frozen=True)
class PictureOptions:
    """How an analyst turns a picture without metadata into a spectrogram.

    The chain, in order: crop → values (a colour map, named planes, or
    brightness) → polarity → flip → resize → blur → brightness → amplitude.
    """

    channel: ChannelChoice = "grey"
    planes: tuple[str, ...] | None = None  # one plane per output channel, e.g. ("g", "b"); overrides channel
    colormap: str | None = None  # a matplotlib map name or "auto": colours → values; None: brightness
    colorbar: tuple[int, int, int, int] | None = None  # box of a colour bar to take the map from
    crop: tuple[int, int, int, int] | str | None = None  # LEFT, TOP, RIGHT, BOTTOM pixels, or "auto"
    duration: float | None = None  # seconds; None: one frame per image column
    freq_range: tuple[float, float] | None = None  # Hz at the bottom and top edges of the (cropped) picture
    freq_scale: Literal["linear", "log", "symlog"] = "linear"  # how the rows between those edges are spaced
    symlog: tuple[float, float, float] | None = None  # symlog's (base, linthresh Hz, linscale), matplotlib's terms
    time_range: tuple[float, float] | None = None  # seconds of the recording at the left and right edges
    row_scale: str = "uniform"  # how the rows were drawn: evenly per band, or as librosa's specshow draws them
    flip: bool = True  # image top = highest frequency
    blur_sigma: float = 0.0  # Gaussian blur in output pixels; 0 = off
    dark_is_loud: bool = False  # inverted polarity: black is the loudest value
    mapping: Literal["db", "power"] = "db"
    db_min: float = -80.0  # brightness 0+ (librosa's display default top_db=80)
    db_max: float = 0.0  # brightness 1
    power: float | None = None  # mapping "power": brightness = (amplitude / peak) ** power
    quantisation: Literal["round", "truncate"] = "round"  # how the producer turned values into integers
    level_reference: float | None = None  # amplitude of brightness 1 when the picture's producer says
    # 0 dB is the loudest cell ("peak": the level is unknown) or a full-scale sine ("full-scale": dBFS,
    # as SoX and ffmpeg label their bars); full-scale gives the output an absolute level.
    db_reference: Literal["peak", "full-scale"] = "peak"
    # dB per octave the producer added above 1 kHz before drawing (Praat paints with +6 by default:
    # its Spectrogram "Paint..." pre-emphasis), taken off again; 0 = none.
    pre_emphasis: float = 0.0

    @property
    def seconds(self) -> float | None:
        """Seconds the picture spans: --duration, or the length of --time-range."""
        if self.time_range is not None:
            return self.time_range[1] - self.time_range[0]
        return self.duration

    def validate(self) -> None:
        """The one check of an analyst's options (CLI, notebook or bench)."""
        if self.channel not in ("grey", "r", "g", "b", "stereo"):
            raise VocoderError(f"--channel must be grey, r, g, b or stereo (got {shown(self.channel)})")
        numbers = {"--duration": self.duration, "--blur": self.blur_sigma, "--db-range MIN": self.db_min,
                   "--db-range MAX": self.db_max, "--pre-emphasis": self.pre_emphasis}
        for flag, value in numbers.items():
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)
                                      or not math.isfinite(value)):
                raise VocoderError(f"{flag} must be a finite number (got {shown(value)})")
        if self.duration is not None and not 0 < self.duration <= MAX_DURATION:
            raise VocoderError(f"--duration must be a positive number of seconds, at most {MAX_DURATION:g} "
                               f"(one day; got {self.duration:g})")
        if self.time_range is not None:
            start, end = self.time_range
            if not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end):
                raise VocoderError(f"--time-range needs 0 <= START < END in seconds (got {start:g} {end:g})")
            if self.duration is not None:
                raise VocoderError("--time-range and --duration exclude each other: the range gives the duration")
            if end - start > MAX_DURATION:
                raise VocoderError(f"--time-range spans more than {MAX_DURATION:g} s (one day)")
        if self.db_reference not in ("peak", "full-scale"):
            raise VocoderError(f"--db-reference must be peak or full-scale (got {shown(self.db_reference)})")
        if self.db_reference == "full-scale" and (self.mapping != "db" or self.level_reference is not None):
            raise VocoderError("--db-reference full-scale goes with --mapping db and a picture without its own level")
        if not -MAX_PRE_EMPHASIS <= self.pre_emphasis <= MAX_PRE_EMPHASIS:
            raise VocoderError(f"--pre-emphasis must be within ±{MAX_PRE_EMPHASIS:g} dB per octave "
                               f"(got {self.pre_emphasis:g})")
        if self.freq_scale not in ("linear", "log", "symlog"):
            raise VocoderError(f"--freq-scale must be linear, log or symlog (got {shown(self.freq_scale)})")
        if self.freq_scale == "log" and (self.freq_range is None or not self.freq_range[0] > 0):
            raise VocoderError("--freq-scale log needs --freq-range LOW HIGH with LOW > 0 Hz")
        if (self.freq_scale == "symlog") != (self.symlog is not None):
            raise VocoderError("--freq-scale symlog and --symlog BASE LINTHRESH LINSCALE go together")
        if self.symlog is not None:
            base, linthresh, linscale = self.symlog
            if not (all(math.isfinite(v) for v in self.symlog) and base > 1 and linthresh > 0 and linscale > 0):
                raise VocoderError(f"--symlog needs BASE > 1, LINTHRESH > 0 and LINSCALE > 0 (got {base:g} "
                                   f"{linthresh:g} {linscale:g})")
            if self.freq_range is None:
                raise VocoderError("--freq-scale symlog needs --freq-range LOW HIGH")
        if not 0 <= self.blur_sigma <= MAX_BLUR:
            raise VocoderError(f"--blur must be in 0..{MAX_BLUR:g} pixels (got {self.blur_sigma:g})")
        if not (-MAX_DB_LABEL <= self.db_min < self.db_max <= MAX_DB_LABEL and self.db_max - self.db_min <= MAX_DB):
            raise VocoderError(f"--db-range needs MIN < MAX within ±{MAX_DB_LABEL:g} dB and at most {MAX_DB:g} dB "
                               f"apart (got {self.db_min:g} {self.db_max:g})")
        if self.planes is not None and (not 1 <= len(self.planes) <= 2 or any(p not in PLANES for p in self.planes)):
            raise VocoderError(f"--channels takes one or two of {', '.join(PLANES)}, e.g. g,b (got "
                               f"{','.join(self.planes)})")
        if self.planes is not None and self.channel != "grey":
            raise contradicting_channels(self.channel, self.planes)
        if self.planes is not None and self.colormap is not None:
            raise VocoderError("--channels and --colormap exclude each other: a colour map reads all three planes")
        if self.colorbar is not None and self.colormap not in (None, "colorbar"):
            raise VocoderError("--colorbar takes the colour map from the picture; leave --colormap out")
        if self.mapping not in ("db", "power"):
            raise VocoderError(f"--mapping must be db or power (got {self.mapping!r})")
        if self.mapping == "power" and not (self.power is not None and 0 < self.power <= 10
                                            and math.isfinite(self.power)):
            raise VocoderError(f"--mapping power needs --power P with 0 < P <= 10 (got {self.power})")
        if self.mapping == "db" and self.power is not None:
            raise VocoderError("--power goes with --mapping power")
        if self.freq_range is not None:
            low, high = self.freq_range
            if not (math.isfinite(low) and math.isfinite(high) and 0 <= low < high):
                raise VocoderError(f"--freq-range needs 0 <= LOW < HIGH in Hz (got {low:g} {high:g})")
        if self.row_scale not in ROW_SCALES:
            raise VocoderError(f"--row-scale must be one of {', '.join(ROW_SCALES)} (got {self.row_scale!r})")
        if self.row_scale != "uniform" and self.freq_range is not None:
            raise VocoderError("--row-scale and --freq-range exclude each other: the row scale fixes the range")
        if self.level_reference is not None and not (self.level_reference > 0 and
                                                     math.isfinite(self.level_reference)):
            raise VocoderError(f"the picture's level reference must be a positive number (got {self.level_reference})")
        reference = self.level_reference or 1.0
        if self.mapping == "db":
            check_magnitudes(reference * 10.0 ** (self.db_min / 20.0), reference * 10.0 ** (self.db_max / 20.0),
                             f"the picture's mapping (reference {reference:.3g}, {self.db_min:g} .. {self.db_max:g} dB)")
        else:  # brightness^(1/power) underflows to silence at worst; only the loudest can overflow
            check_magnitudes(MIN_MAGNITUDE, reference, f"the picture's mapping (power, reference {reference:.3g})")

"""A preset plus command-line overrides → the one effective spec.

`encode`, `invert` and `bench` all build their spec here, so `--hop 128` means
the same thing everywhere, and the result is validated once, as one
:class:`~vocoder.spec.SpectrogramSpec` (its checks name every inconsistency).

Rules that are not obvious from the flags:

* ``--n-fft`` without ``--win-length`` makes the window as long as the frame
  (the usual meaning of "FFT size 4096"); a preset's window length would
  otherwise refuse any n_fft below it.
* ``--scale`` that differs from the preset's axis starts the axis afresh from
  the options given and the new axis's defaults (a new mel axis: HiFi-GAN's
  slaney scale, slaney norm and librosa filterbank, 0 Hz to Nyquist); the
  preset's axis fields are dropped. Framing, window and log floor are kept.
* An axis option (``--n-mels``, ``--fmin``, ...) is declared by the axis
  classes (vocoder/frontend/filterbank.py); one the effective axis does not
  take is refused, naming the axes that do.
* ``--window kaiser:8`` is ``--window kaiser --kaiser-beta 8``.
* ``--window gauss`` is the Gaussian exp(−π t²/γ) with γ = hop × n_fft of the
  effective spec (Průša et al. 2017's λ = aM/L), written into the spec as a
  number; ``--window gauss:GAMMA`` sets γ in samples².
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from vocoder.errors import VocoderError
from vocoder.frontend.filterbank import axis_class, axis_options, flag_of
from vocoder.spec import SpectrogramSpec, get_preset

DEFAULT_PRESET = "linear"

# Override field → the command-line flag that sets it (for messages and records);
# the axis options' flags are the axes' own (filterbank.axis_options).
FLAGS = {
    "sample_rate": "--sr", "n_fft": "--n-fft", "hop_length": "--hop", "win_length": "--win-length",
    "window": "--window", "kaiser_beta": "--kaiser-beta", "scale": "--scale",
}


@dataclass(frozen=True)
class SpecOverrides:
    """Spec fields a user set on the command line; None: the preset's."""

    sample_rate: int | None = None
    n_fft: int | None = None
    hop_length: int | None = None
    win_length: int | None = None
    window: str | None = None  # a name, or "kaiser:BETA"
    kaiser_beta: float | None = None
    scale: str | None = None
    # Axis field → value, from the axis options (--n-mels, --fmin, ...); the axis checks them.
    axis: dict[str, Any] = dataclasses.field(default_factory=dict)

    def given(self) -> dict[str, Any]:
        """{flag: value} for every override set, in flag order (for records)."""
        given = {FLAGS[f.name]: getattr(self, f.name) for f in dataclasses.fields(self)
                 if f.name != "axis" and getattr(self, f.name) is not None}
        order = [option.field for option, _ in axis_options()]
        for field in sorted(self.axis, key=lambda f: order.index(f) if f in order else len(order)):
            given[flag_of(field)] = self.axis[field]
        return given

    def __bool__(self) -> bool:
        return bool(self.given())

    def describe(self) -> str:
        return " ".join(f"{flag} {value}" for flag, value in self.given().items())


def _window(overrides: SpecOverrides, base: SpectrogramSpec) -> dict[str, Any]:
    """The window fields after --window / --kaiser-beta."""
    if overrides.window is None:
        return {} if overrides.kaiser_beta is None else {"kaiser_beta": overrides.kaiser_beta}
    name, colon, beta_text = overrides.window.partition(":")
    if name == "gauss":
        gamma = None
        if colon:
            try:
                gamma = float(beta_text)
            except ValueError:
                raise VocoderError(f"--window {overrides.window}: GAMMA must be a number of samples², "
                                   f"e.g. gauss:131072") from None
        # kaiser_beta stays as given, so --kaiser-beta with a gauss window is refused by the spec.
        return {"window": name, "gauss_gamma": gamma, "kaiser_beta": overrides.kaiser_beta}
    beta = overrides.kaiser_beta
    if colon:
        if name != "kaiser":
            raise VocoderError(f"--window {overrides.window}: only the kaiser and gauss windows take a parameter "
                               f"(kaiser:BETA, gauss:GAMMA)")
        try:
            parsed = float(beta_text)
        except ValueError:
            raise VocoderError(f"--window {overrides.window}: BETA must be a number, e.g. kaiser:8") from None
        if beta is not None and beta != parsed:
            raise VocoderError(f"--window {overrides.window} and --kaiser-beta {beta} disagree; give beta once")
        beta = parsed
    if name == "kaiser" and beta is None:
        # No default: libraries disagree (torch 12, MATLAB 0.5, scipy none), and β decides the trade-off.
        raise VocoderError("the kaiser window needs its beta: --window kaiser:8 or --kaiser-beta 8 "
                           "(larger beta: lower sidelobes, wider main lobe)")
    return {"window": name, "kaiser_beta": beta, "gauss_gamma": None}


def _axis(overrides: SpecOverrides, base: SpectrogramSpec):
    """The axis after --scale and the axis options: the preset's with the
    options applied, or a new one of the kind --scale names."""
    cls = axis_class(overrides.scale or base.axis.kind)
    foreign = [field for field in overrides.axis if field not in cls.field_names()]
    if foreign:
        takers = {option.field: kinds for option, kinds in axis_options()}
        field = foreign[0]
        kinds = takers.get(field, ())
        raise VocoderError(f"a {cls.kind} axis takes no {flag_of(field)} (an option of the {' and '.join(kinds)} "
                           f"ax{'es' if len(kinds) > 1 else 'is'}: add {' or '.join('--scale ' + k for k in kinds)})")
    if cls.kind != base.axis.kind:
        return cls.from_values(dict(overrides.axis), flag_of)
    return dataclasses.replace(base.axis, **overrides.axis)


def effective_spec(preset: str | None, overrides: SpecOverrides | None = None) -> SpectrogramSpec:
    """The preset (``linear`` when None) with ``overrides`` applied, validated as one spec."""
    name = preset or DEFAULT_PRESET
    base = get_preset(name)
    overrides = overrides or SpecOverrides()
    if not overrides:
        return base
    changes: dict[str, Any] = {k: getattr(overrides, k) for k in ("sample_rate", "n_fft", "hop_length", "win_length")
                               if getattr(overrides, k) is not None}
    if overrides.n_fft is not None and overrides.win_length is None:
        changes["win_length"] = overrides.n_fft
    changes.update(_window(overrides, base))
    if overrides.scale is not None or overrides.axis:
        changes["axis"] = _axis(overrides, base)
    try:
        spec = dataclasses.replace(base, **changes)
        if spec.window == "gauss" and spec.gauss_gamma is None:  # record the default as a number
            spec = dataclasses.replace(spec, gauss_gamma=spec.gaussian_gamma)
        return spec
    except VocoderError as exc:
        raise VocoderError(f"preset {name} with {overrides.describe()}: {exc}") from None
    except TypeError as exc:  # a value of the wrong type reached a comparison
        raise VocoderError(f"preset {name} with {overrides.describe()}: {exc}") from None


def spec_choice(preset: str | None, overrides: SpecOverrides | None) -> dict[str, Any]:
    """What the user asked for, for a record: the preset and the flags set."""
    return {"preset": preset or DEFAULT_PRESET, "overrides": (overrides or SpecOverrides()).given()}

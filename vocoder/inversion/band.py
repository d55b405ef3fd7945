"""`band`: a refinement that takes out of another stage's output what the
spectrogram does not support (``hifigan-v1-universal>band``).

Two kinds of cell: those outside the spectrogram's frequency band (above a
mel's fmax, below its fmin), where the picture says nothing at all, and
those inside it where the input is silent (at or below its floor). The
output's STFT (the input's framing, linear bins) is zeroed in both, and the
waveform is its least-squares inverse STFT; then the frequencies outside the
band are zeroed in the whole signal's spectrum, so the output holds none
there at all (the STFT of any signal still leaks a window's main lobe across
the edge). A linear bin counts as silent at a frame when every row of the
input's axis that covers it is silent there. What was removed, as shares of
the start's STFT energy, goes in the record (:meth:`stage_report`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from vocoder import costs
from vocoder.errors import VocoderError
from vocoder.inversion.base import Inverter
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

if TYPE_CHECKING:  # the declaration (`vocoder backends`) loads no torch
    import torch

# vocoder encode's default dynamic range: its PNG holds nothing quieter, so a
# cell this far below the peak is at the picture's floor.
DEFAULT_FLOOR_DB = 100.0


@dataclass
class BandLimit(Inverter):
    name: ClassVar[str] = "band"
    summary: ClassVar[str] = ("refinement only (X>band): removes the output's energy outside the spectrogram's "
                              "frequency band and where the input is silent; the removed shares are recorded")
    needs_stft_bins: ClassVar[bool] = False  # reads the input on its own axis
    starts: ClassVar[bool] = False

    floor_db: float = field(default=DEFAULT_FLOOR_DB, metadata={"help": (
        "input cells more than FLOOR_DB below its peak (and zeros) count as silent")})
    silence: Literal["remove", "keep"] = field(default="remove", metadata={"help": (
        "remove the output's energy where the input is silent, or keep it (the band's edges only)")})
    _report: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.floor_db <= 400.0:
            raise VocoderError(f"band: --floor-db must be in (0, 400] (got {self.floor_db:g})")

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        # The start's STFT, the kept copy and its masks; the inverse STFT's
        # frames; the whole signal's spectrum (complex128 of half the samples)
        # and the output's STFT for the report.
        return (costs.spectra(4, channels, spec, frames) + 2 * costs.F32 * channels * frames * spec.n_fft
                + 24 * channels * samples)

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        raise VocoderError("band refines another stage's output; it makes none of its own (e.g. "
                           "hifigan-v1-universal>band)")

    def refine(self, spectrogram: Spectrogram, start: torch.Tensor) -> torch.Tensor:
        import torch

        from vocoder.frontend.stft import istft, stft

        spec = spectrogram.spec
        linear = spec.as_linear()
        low, high = spec.axis.band(spec)
        x = start.detach().to("cpu", torch.float32)
        X = stft(x, linear)

        def outside_band(bins: int) -> torch.Tensor:  # the rfft bins of a length-`bins` transform out of the band
            frequencies = torch.fft.rfftfreq(bins, 1.0 / spec.sample_rate)
            return (frequencies < low) | (frequencies > high)

        outside = outside_band(spec.n_fft)[:, None].expand(X.shape[-2:])
        live = self._live_bins(spectrogram, X.shape[-1]) if self.silence == "remove" else torch.ones_like(outside)
        power = X.real.double().square() + X.imag.double().square()
        total = float(power.sum())
        removed_outside = float(power[..., outside].sum())
        in_silence = ~outside & ~live
        removed_silent = float(power[in_silence.expand_as(power)].sum())
        kept = X * (~outside & live).to(X.dtype)
        y = istft(kept, linear, x.shape[-1])
        spectrum = torch.fft.rfft(y.double(), dim=-1)
        spectrum[..., outside_band(y.shape[-1])] = 0
        y = torch.fft.irfft(spectrum, n=y.shape[-1], dim=-1).to(torch.float32)
        after = stft(y, linear)
        after_power = after.real.double().square() + after.imag.double().square()

        def share(part: float, whole: float) -> float:
            return part / whole if whole > 0 else 0.0

        self._report = {
            "band_hz": [low, high],
            "removed_outside_band": share(removed_outside, total),
            "removed_where_input_silent": share(removed_silent, total),
            "removed_total": share(total - float(after_power.sum()), total),
            "silent_cells_of_input": share(float(in_silence.sum()), float(in_silence.numel())),
            "left_outside_band": share(float(after_power[..., outside].sum()), float(after_power.sum())),
            "definitions": ("shares of the previous stage's linear STFT energy (removed_*) and of this stage's "
                            "(left_outside_band: window leakage across the band's edge, the signal's own spectrum "
                            "holds none); silent_cells_of_input: share of the linear cells whose every covering "
                            f"input row is at or below {self.floor_db:g} dB under the input's peak"),
        }
        return y

    def _live_bins(self, spectrogram: Spectrogram, frames: int) -> torch.Tensor:
        """(channels × bins × frames) True where a linear bin has a non-silent input row over it."""
        import torch

        spec = spectrogram.spec
        magnitude = spectrogram.magnitude.detach().to("cpu", torch.float64)
        peak = float(magnitude.max()) if magnitude.numel() else 0.0
        rows_live = magnitude > peak * 10.0 ** (-self.floor_db / 20.0)
        if spec.axis.is_identity:
            live = rows_live
        else:
            covers = (spec.axis.matrix(spec) > 0).to(torch.float64).T  # bins × rows
            live = torch.matmul(covers, rows_live.to(torch.float64)) > 0
        have = live.shape[-1]
        if have < frames:  # frames the input does not describe: nothing to compare, kept
            live = torch.nn.functional.pad(live, (0, frames - have), value=True)
        return live[..., :frames]

    def stage_report(self) -> dict[str, Any] | None:
        return self._report

    def parameters(self) -> dict[str, Any]:
        return {"floor_db": self.floor_db, "silence": self.silence}

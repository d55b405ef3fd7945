"""Waveform fitted to a mel target by gradient descent.

Classical mel inversion is two steps: mel → linear magnitude (NNLS), then
phase retrieval on that magnitude. The NNLS magnitude is generally not the
magnitude of any signal, and phase retrieval then matches it, not the mel
the user gave. This backend starts from pghi+fgla's waveform on the NNLS
magnitude and then minimises the L1 distance between the log-mel of the
waveform (the front end's own framing and filterbank, differentiable, as
in HiFi-GAN's mel loss) and the log of the target mel, with Adam (Kingma &
Ba 2015) on the waveform samples directly. Mel specs only.

Nothing here comes from a paper's defaults: the step size and step count
are ours, chosen in experiments/phase-retrieval (see ``DEFAULT_LR``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from vocoder import costs
from vocoder.errors import VocoderError
from vocoder.frontend.filterbank import MelAxis
from vocoder.inversion.base import Inverter
from vocoder.inversion.griffinlim import check_options, fast_griffin_lim
from vocoder.inversion.pghi import check_tol, gamma as pghi_gamma, pghi_phase
from vocoder.inversion.pghi_fgla import HYBRID_TOL
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

if TYPE_CHECKING:  # for annotations: the declaration (`vocoder backends`) loads no torch
    import torch

# Adam's step on samples of a waveform with peaks ~0.1–1. Ours: with the loss
# mel over the target's own band, 1e-4 for 100 steps lowered the in-band mel
# L1 against the recording from pghi+fgla's 0.094 to 0.064 (median of 7
# speech clips, hifigan preset) and 1e-3 raised it to 0.154
# (experiments/phase-retrieval, --melgd-in-band).
DEFAULT_LR = 1e-4


@dataclass
class MelGradientDescent(Inverter):
    name: ClassVar[str] = "mel-gd"
    summary: ClassVar[str] = ("waveform fitted to the mel by Adam through a differentiable STFT→mel, "
                              "started from pghi+fgla (--iters Adam steps); classical, mel specs only")
    needs_stft_bins: ClassVar[bool] = False  # fits the mel itself

    iters: int = field(default=100, metadata={"help": "Adam steps on the waveform"})
    lr: float = field(default=DEFAULT_LR, metadata={"help": "Adam's learning rate"})
    # The start: pghi+fgla with these iterations and PGHI tolerance.
    fgla_iters: int = field(default=32, metadata={"help": "iterations of the pghi+fgla start"})
    tol: float = field(default=HYBRID_TOL, metadata={"help": "coefficients below TOL × the peak get random phase"})
    seed: int = field(default=0, metadata={"help": "seed of the random phase"})

    def __post_init__(self) -> None:
        check_options(self.iters, 0.0, "random")
        check_options(self.fgla_iters, 0.0, "random")
        check_tol(self.tol)
        if not (0.0 < self.lr <= 1.0):
            raise VocoderError(f"mel-gd: lr must be in (0, 1] (got {self.lr})")

    def check_spec(self, spec: SpectrogramSpec) -> None:
        if not isinstance(spec.axis, MelAxis):
            raise VocoderError(f"mel-gd inverts mel spectrograms only (this one is {spec.axis.kind}); "
                               "use fgla, agla or pghi+fgla")
        if spec.log_floor is None:
            raise VocoderError("mel-gd needs a mel spec with a log floor (log_floor), as the presets have")
        pghi_gamma(spec)  # the start is pghi+fgla

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        # pghi+fgla's start, then autograd through one STFT → mel: the padded
        # signal and its gradient, framed and windowed copies (C×T×N float32,
        # kept for backward, and their gradients), the complex spectrum, its
        # magnitude and their gradients, Adam's two moments of the waveform.
        padded = samples + 2 * spec.side_padding + spec.n_fft
        graph = (6 * costs.F32 * channels * frames * spec.n_fft + costs.spectra(4, channels, spec, frames)
                 + 6 * costs.F32 * channels * padded)
        return max(costs.pghi_buffers(channels, spec, frames, samples),
                   costs.fgla_buffers(channels, spec, frames, samples) + costs.spectra(1, channels, spec, frames),
                   graph)

    def parameters(self) -> dict:
        return {**super().parameters(),
                "start": "pghi+fgla (momentum 0.99) on the mel's NNLS linear magnitude (spec.axis.inverse)",
                "loss": "L1 between ln(max(mel, log_floor)) of the waveform and of the input"}

    def refine(self, spectrogram: Spectrogram, start: torch.Tensor) -> torch.Tensor:
        """Adam from the previous stage's waveform instead of pghi+fgla's (iters=0: it unchanged)."""
        return fit_waveform(start, spectrogram, self.iters, self.lr)[0] if self.iters else start

    def refine_parameters(self) -> dict:
        return {"iters": self.iters, "lr": self.lr, "start": "the previous stage's waveform (in place of pghi+fgla)",
                "loss": self.parameters()["loss"]}

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        spec = spectrogram.spec
        linear = spec.axis.inverse(spectrogram)
        phase = pghi_phase(linear, self.tol, self.seed)
        start = fast_griffin_lim(linear, self.fgla_iters, 0.99, phase=phase, label="mel-gd start")
        return fit_waveform(start, spectrogram, self.iters, self.lr)[0]


def fit_waveform(start: torch.Tensor, spectrogram: Spectrogram, iters: int,
                 lr: float = DEFAULT_LR) -> tuple[torch.Tensor, list[float]]:
    """Adam on the samples of ``start`` (channels × samples) against the
    log-mel L1 to ``spectrogram`` (a mel with a log floor); returns the
    waveform and the loss before each step and after the last."""
    import torch
    from tqdm.auto import tqdm

    from vocoder.models.losses import LogMel

    spec = spectrogram.spec
    # The loss mel covers the target's band (fmin..fmax), not up to Nyquist
    # as HiFi-GAN's training loss does: above fmax the target says nothing,
    # and a loss there pulls the waveform towards the log floor.
    log_mel = LogMel(spec, fmax=spec.axis.fmax)
    target = torch.log(torch.clamp(spectrogram.magnitude.detach().to("cpu", torch.float32), min=spec.log_floor))
    x = start.detach().to("cpu", torch.float32).clone().requires_grad_(True)
    optimiser = torch.optim.Adam([x], lr=lr)
    losses = []
    with torch.enable_grad():
        for _ in tqdm(range(iters), desc="mel-gd", unit="it", leave=False, disable=None):
            optimiser.zero_grad(set_to_none=True)
            loss = torch.nn.functional.l1_loss(log_mel(x), target)
            loss.backward()
            losses.append(float(loss.detach()))
            optimiser.step()
        with torch.no_grad():
            losses.append(float(torch.nn.functional.l1_loss(log_mel(x), target)))
    return x.detach(), losses

"""STFT and its least-squares inverse under a SpectrogramSpec's framing.

One pair of functions serves every consumer (front end, Griffin-Lim, later the
evaluation), so the padding convention can never differ between the
spectrogram that was measured and the one that is inverted.

The inverse is our own overlap-add rather than ``torch.istft`` because
``torch.istft(center=False)`` refuses windows whose squared sum touches zero
at the edges, which a Hann window always does under HiFi-GAN's framing.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F

from vocoder.spec import SpectrogramSpec

# The one place windows are made; names are spec.WINDOWS. All periodic
# ("DFT-even"), as torch, librosa (fftbins=True) and HiFi-GAN use.
_WINDOW_FUNCTIONS = {
    "hann": lambda n, beta: torch.hann_window(n, periodic=True, dtype=torch.float64),
    "hamming": lambda n, beta: torch.hamming_window(n, periodic=True, dtype=torch.float64),
    "blackman": lambda n, beta: torch.blackman_window(n, periodic=True, dtype=torch.float64),
    "kaiser": lambda n, beta: torch.kaiser_window(n, periodic=True, beta=float(beta), dtype=torch.float64),
    "rectangular": lambda n, beta: torch.ones(n, dtype=torch.float64),
    # exp(−π t²/γ), symmetric about n/2 like the periodic windows above (so
    # its centre is where pghi.window_centre puts it); the parameter is γ.
    "gauss": lambda n, gamma: torch.exp(-math.pi * (torch.arange(n, dtype=torch.float64) - n / 2) ** 2 / gamma),
}


@lru_cache(maxsize=32)
def _window_cached(name: str, beta: float | None, win_length: int, n_fft: int, dtype: torch.dtype) -> torch.Tensor:
    """``beta``: the window's one parameter (Kaiser β, Gaussian γ) or None."""
    w = _WINDOW_FUNCTIONS[name](win_length, beta)
    left = (n_fft - win_length) // 2  # centred in the frame, as torch.stft does
    return F.pad(w, (left, n_fft - win_length - left)).to(dtype)


def window(spec: SpectrogramSpec, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The analysis/synthesis window, zero-padded to n_fft."""
    parameter = spec.gaussian_gamma if spec.window == "gauss" else spec.kaiser_beta
    return _window_cached(spec.window, parameter, spec.win_length, spec.n_fft, dtype)


def stft(waveform: torch.Tensor, spec: SpectrogramSpec) -> torch.Tensor:
    """Complex STFT of ``waveform`` (..., samples) → (..., n_fft//2+1, frames)."""
    lead = waveform.shape[:-1]
    x = waveform.reshape(-1, waveform.shape[-1])
    pad = spec.side_padding
    if x.shape[-1] <= pad and spec.pad_mode == "reflect":
        raise ValueError(f"waveform of {x.shape[-1]} samples is too short to reflect-pad by {pad}")
    x = F.pad(x.unsqueeze(1), (pad, pad), mode=spec.pad_mode).squeeze(1)
    return stft_padded(x, spec).reshape(*lead, spec.n_stft_bins, -1)


def stft_padded(padded: torch.Tensor, spec: SpectrogramSpec) -> torch.Tensor:
    """The frames of an already padded signal (or of any stretch of one that
    starts at a frame boundary): (..., padded samples) → (..., bins, frames).
    Block-wise encoding frames a long recording a stretch at a time with it."""
    return torch.stft(
        padded, n_fft=spec.n_fft, hop_length=spec.hop_length, win_length=spec.n_fft,
        window=window(spec, padded.dtype), center=False, return_complex=True,
    )


def magnitude(waveform: torch.Tensor, spec: SpectrogramSpec) -> torch.Tensor:
    """|STFT| with the spec's ``magnitude_eps`` under the square root.

    Computed in float64 and returned in the input's dtype: float32 FFT error
    (~1e-7 of a frame's peak) is visible in the log of quiet bins.
    """
    return magnitude_of(stft(waveform.to(torch.float64), spec), spec).to(waveform.dtype)


def magnitude_of(X: torch.Tensor, spec: SpectrogramSpec) -> torch.Tensor:
    """|X| (float64 in, float64 out) with the spec's ``magnitude_eps``."""
    if spec.magnitude_eps:
        mag = torch.sqrt(X.real.square() + X.imag.square() + spec.magnitude_eps)
    else:
        mag = X.abs()
    return mag


class InverseSTFT:
    """Least-squares inverse STFT (Griffin & Lim 1984, eq. 6) for one spec,
    frame count and length, with the window envelope computed once.

    Griffin-Lim calls this hundreds of times on the same shape; precomputing
    the normalisation keeps each call to one irfft and one overlap-add.
    """

    def __init__(self, spec: SpectrogramSpec, n_frames: int, length: int | None = None):
        self.spec = spec
        self.n_frames = n_frames
        self.padded_length = (n_frames - 1) * spec.hop_length + spec.n_fft
        self.start = spec.side_padding
        natural = self.padded_length - 2 * spec.side_padding
        self.length = natural if length is None else length
        w = window(spec)
        self.window = w.unsqueeze(-1)  # (n_fft, 1) to multiply frames
        envelope = self._overlap_add(w.square().unsqueeze(-1).expand(-1, n_frames).unsqueeze(0))[0]
        # Where no window covers a sample (the very edge of a Hann frame at
        # padding "same"), the least-squares estimate is undefined: output 0.
        tiny = torch.finfo(torch.float32).tiny * 1e3
        self.inv_envelope = torch.where(envelope > tiny, 1.0 / envelope.clamp_min(tiny), 0.0)

    def _overlap_add(self, frames: torch.Tensor) -> torch.Tensor:
        """(batch, n_fft, frames) → (batch, padded_length)."""
        n_fft, hop = self.spec.n_fft, self.spec.hop_length
        batch, _, T = frames.shape
        if n_fft % hop:
            out = F.fold(frames, output_size=(1, self.padded_length), kernel_size=(1, n_fft), stride=(1, hop))
            return out.reshape(batch, self.padded_length)
        # hop divides n_fft: n_fft/hop strided adds, several times faster than
        # fold's generic col2im at these sizes.
        R = n_fft // hop
        out = frames.new_zeros(batch, T + R - 1, hop)
        parts = frames.reshape(batch, R, hop, T)
        for r in range(R):
            out[:, r:r + T].add_(parts[:, r].transpose(1, 2))
        return out.reshape(batch, self.padded_length)

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """(..., bins, frames) complex → (..., length) real."""
        lead = X.shape[:-2]
        frames = torch.fft.irfft(X.reshape(-1, X.shape[-2], X.shape[-1]), n=self.spec.n_fft, dim=-2)
        y = self._overlap_add(frames * self.window) * self.inv_envelope
        y = y[:, self.start: self.start + self.length]
        if y.shape[-1] < self.length:  # asked for more than the frames cover
            y = F.pad(y, (0, self.length - y.shape[-1]))
        return y.reshape(*lead, self.length)


def istft(X: torch.Tensor, spec: SpectrogramSpec, length: int | None = None) -> torch.Tensor:
    """Least-squares inverse of :func:`stft` (one-off use)."""
    return InverseSTFT(spec, X.shape[-1], length)(X)


class ConsistencyProjection:
    """X ↦ STFT(iSTFT(X)) in place, for iterative phase retrieval.

    The same arithmetic as ``stft(InverseSTFT(...)(X), spec)``, but laid out
    time-major (batch × frames × bins, so every FFT runs over contiguous
    memory) and written into buffers allocated once: one irfft, one window
    multiply, an overlap-add of n_fft/hop strided adds, the envelope division,
    the padding rewritten in place, one window multiply on a strided view of
    the frames, one rfft. Per call only the two reflected edges (n_fft/2
    samples each) are allocated, plus ``fold``'s output when hop does not
    divide n_fft.
    """

    def __init__(self, spec: SpectrogramSpec, batch: int, n_frames: int, length: int | None = None):
        inverse = InverseSTFT(spec, n_frames, length)
        self.spec, self.batch, self.n_frames = spec, batch, n_frames
        self.length = inverse.length
        n_fft, hop, side = spec.n_fft, spec.hop_length, spec.side_padding
        if spec.pad_mode == "reflect" and self.length <= side:
            raise ValueError(f"waveform of {self.length} samples is too short to reflect-pad by {side}")
        expected = (self.length + 2 * side - n_fft) // hop + 1
        if expected != n_frames:
            raise ValueError(f"{self.length} samples give {expected} frames under this spec, not {n_frames}")
        self.padded_length = inverse.padded_length
        self.window = window(spec)
        self.inv_envelope = inverse.inv_envelope
        # The padded signal: the STFT frames it; the inverse writes into it.
        self.signal = torch.zeros(batch, self.length + 2 * side)
        self.frames = torch.empty(batch, n_frames, n_fft)
        self.inverse = inverse
        self.overlap = n_fft // hop if n_fft % hop == 0 else None

    def new_spectrum(self) -> torch.Tensor:
        """A zeroed (batch × frames × bins) complex64 buffer of the right shape."""
        return torch.zeros(self.batch, self.n_frames, self.spec.n_stft_bins, dtype=torch.complex64)

    def _overlap_add(self) -> None:
        """Frames (already windowed) → signal[:, :padded_length], summed."""
        P, T, hop = self.padded_length, self.n_frames, self.spec.hop_length
        if self.overlap is None:
            self.signal[:, :P] = self.inverse._overlap_add(self.frames.transpose(1, 2))
            return
        R = self.overlap
        out = self.signal[:, :P].view(self.batch, T + R - 1, hop)
        parts = self.frames.view(self.batch, T, R, hop)
        out[:, :T].copy_(parts[:, :, 0])
        out[:, T:].zero_()
        for r in range(1, R):
            out[:, r:r + T].add_(parts[:, :, r])

    def _inverse(self, X: torch.Tensor) -> None:
        """iSTFT of X into ``signal``: the estimate is signal[:, side:side+length]."""
        torch.fft.irfft(X, n=self.spec.n_fft, dim=-1, out=self.frames)
        self.frames.mul_(self.window)
        self._overlap_add()
        P = self.padded_length
        self.signal[:, :P].mul_(self.inv_envelope)
        self.signal[:, P:].zero_()  # asked for more samples than the frames cover: zeros

    def __call__(self, X: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """(batch × frames × bins) complex → ``out``, same shape: STFT(iSTFT(X))."""
        spec, side, L = self.spec, self.spec.side_padding, self.length
        self._inverse(X)
        sig = self.signal
        # Pad the estimate y = sig[:, side:side+L] again, as stft() would.
        if spec.pad_mode == "reflect":
            # x[i] = y[side - i] on the left, x[side+L+j] = y[L-2-j] on the right.
            sig[:, :side] = sig[:, side + 1:2 * side + 1].flip(1)
            sig[:, side + L:] = sig[:, L - 1:side + L - 1].flip(1)
        else:
            sig[:, :side].zero_()
            sig[:, side + L:].zero_()
        framed = sig.unfold(-1, spec.n_fft, spec.hop_length)[:, :self.n_frames]
        torch.mul(framed, self.window, out=self.frames)
        torch.fft.rfft(self.frames, dim=-1, out=out)
        return out

    def waveform(self, X: torch.Tensor) -> torch.Tensor:
        """(batch × frames × bins) complex → (batch × length) waveform (a new tensor)."""
        self._inverse(X)
        side = self.spec.side_padding
        return self.signal[:, side:side + self.length].clone()

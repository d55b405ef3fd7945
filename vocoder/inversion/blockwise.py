"""Block-wise phase retrieval: a long spectrogram inverted a block of frames
at a time, so memory depends on the block, not on the recording's length.

Each block is extended by ``context`` frames on both sides and inverted as a
signal of its own by the chosen backend. Its start phase is the backend's
own (PGHI's, random, zero) except on the frames it shares with the block
before, which start from the phase of that block's output: the new block
continues the old one's phase instead of picking an unrelated global sign
or offset. Only each block's core is kept; the frames before a block's core (its left
context, already committed) are held at the block before's values through
the iterations, as RTISI-LA holds committed frames. Neighbouring cores meet at a
frame centre and are cross-faded over ``n_fft`` samples there, where both
blocks are at least ``context - 1`` hops away from their own edges (whose
padding is not the recording's).

This is the look-ahead scheme of RTISI-LA (Zhu, Beauregard & Wyse 2007)
applied to whole blocks: a block sees ``context`` frames of the future and
is pinned to the past through its start phase. The result is not the
whole-signal result, but on clips short enough for both it is within
0.5 dB spectral convergence of it (tests/test_blockwise.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch
from tqdm.auto import tqdm

from vocoder.errors import VocoderError
from vocoder.frontend.stft import stft
from vocoder.safety.text import shown
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram

# Block-wise encoding's block: encoding is exact whatever the block, and
# 10 s keeps its buffers near 70 MB beside the ~600 MB torch itself holds.
DEFAULT_BLOCK_SECONDS = 10.0

# The block lengths an inversion's plan chooses among (cheapest_fitting).
# Up to 10 s, work per second of audio falls with the length (the context
# frames and a block's fixed cost are spread wider); beyond it, it rises:
# the filterbank inverse's float64 iterates outgrow the processor's cache and
# the block's slowest frames set its iteration count. Measured for 3 minutes
# of a hifigan mel with pghi+fgla (experiments/blockwise-cap/README.md): 20 s
# and 40 s blocks took 1.3x and 1.6x the CPU of 10 s blocks, so they are no
# candidates; shorter ones are, for their smaller peak.
BLOCK_CANDIDATES = (2.5, 5.0, 10.0)
# Work a block costs whatever its length (PGHI's and the filterbank inverse's
# set-up, the block before's STFT for its start phase, torch's thread pool
# woken for many small operations), in frames' worth of per-frame work: the
# same runs cost ~95 ms more CPU per extra block from 10 to 5 to 2.5 s, 32
# context frames (~10 ms) included, at ~0.3 ms per frame: ~300 frames.
BLOCK_OVERHEAD_FRAMES = 300


def block_frames(spec: SpectrogramSpec, seconds: float) -> int:
    """Frames in ``seconds`` of the spec's hop (at least 1), or one line on a bad --block-seconds."""
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
        raise VocoderError(f"--block-seconds must be a positive number of seconds (got {shown(seconds)})")
    return max(1, round(seconds * spec.sample_rate / spec.hop_length))


def default_context(spec: SpectrogramSpec) -> int:
    """Frames of context on each side: 4 windows' worth (at least 16), so the
    cross-fade is several window lengths away from a block's own edges."""
    return max(16, 4 * math.ceil(spec.n_fft / spec.hop_length))


@dataclass(frozen=True)
class BlockPlan:
    """How ``n_frames`` frames are cut into blocks: cores [a, b) of
    ``block`` frames, each extended to [a - context, b + context)."""

    spec: SpectrogramSpec
    n_frames: int
    length: int  # samples of the whole output
    block: int
    context: int

    def __post_init__(self) -> None:
        needed = math.ceil(self.spec.n_fft / self.spec.hop_length) + 1
        if self.context < needed:
            raise VocoderError(f"block-wise inversion needs at least {needed} frames of context for this spec "
                               f"(n_fft / hop + 1; got {self.context})")
        if self.block < 2 * self.context:
            raise VocoderError(f"a block must be at least twice its context ({2 * self.context} frames; got "
                               f"{self.block}): give a longer --block-seconds")

    @classmethod
    def for_seconds(cls, spec: SpectrogramSpec, n_frames: int, length: int, seconds: float,
                    context: int | None = None) -> "BlockPlan":
        context = default_context(spec) if context is None else context
        return cls(spec, n_frames, length, max(2 * context, block_frames(spec, seconds)), context)

    def cores(self) -> list[tuple[int, int]]:
        """Core frame ranges; the last one absorbs a remainder shorter than a block."""
        bounds = list(range(0, self.n_frames, self.block)) + [self.n_frames]
        if len(bounds) > 2 and bounds[-1] - bounds[-2] < self.block // 2:
            del bounds[-2]  # a short tail joins the block before it
        return list(zip(bounds[:-1], bounds[1:]))

    def extended(self, a: int, b: int) -> tuple[int, int]:
        return max(0, a - self.context), min(self.n_frames, b + self.context)

    def block_length(self, ea: int, eb: int) -> int:
        """Samples of the stand-alone signal that frames [ea, eb) describe."""
        if eb == self.n_frames:
            return self.length - ea * self.spec.hop_length
        return self.spec.n_samples(eb - ea)

    def centre(self, frame: int) -> int:
        """The sample at the centre of ``frame``: where two cores meet."""
        return frame * self.spec.hop_length - self.spec.side_padding + self.spec.n_fft // 2

    @property
    def largest_block_frames(self) -> int:
        """Frames of the largest extended block (the last core may be up to
        1.5 blocks): what the memory estimate sizes."""
        return max(eb - ea for ea, eb in (self.extended(a, b) for a, b in self.cores()))


def plan_work(plan: BlockPlan) -> float:
    """Estimated work of a plan in frames' worth: each extended block's
    frames (its core and context) plus the fixed cost of a block."""
    return float(sum(eb - ea + BLOCK_OVERHEAD_FRAMES for ea, eb in (plan.extended(a, b) for a, b in plan.cores())))


@dataclass(frozen=True)
class BlockChoice:
    """One candidate block length, weighed: its plan, estimated peak and work."""

    seconds: float
    plan: BlockPlan
    peak: int  # estimated peak resident bytes of the process
    work: float  # plan_work

    def to_dict(self, cap: int) -> dict:
        return {"seconds": self.seconds, "estimated_peak_mib": round(self.peak / 2**20),
                "work_per_frame": round(self.work / self.plan.n_frames, 3), "fits": self.peak <= cap}


def cheapest_fitting(spec: SpectrogramSpec, n_frames: int, length: int, peak: Callable[[BlockPlan], int],
                     cap: int, candidates: tuple[float, ...] = BLOCK_CANDIDATES
                     ) -> tuple[BlockChoice | None, list[BlockChoice]]:
    """The candidate block length of least estimated work whose estimated
    ``peak`` fits ``cap`` (of equal work, the shorter: a recording shorter
    than several candidates is one block under each), or None when none fits;
    and every candidate weighed, for the record.

    Among the candidates, longer blocks cost less per second (fewer context
    frames and per-block set-ups) and shorter ones need less memory: this is
    the longest candidate that fits the cap."""
    weighed = []
    for seconds in candidates:
        plan = BlockPlan.for_seconds(spec, n_frames, length, seconds)
        weighed.append(BlockChoice(seconds, plan, peak(plan), plan_work(plan)))
    best = min((c for c in weighed if c.peak <= cap), key=lambda c: (c.work, c.seconds), default=None)
    return best, weighed


# Reads frames [a, b) of the spectrogram (already in the backend's domain,
# e.g. a mel's linear inverse): (channels × bins × (b - a)) float32.
ReadFrames = Callable[[int, int], torch.Tensor]
# The backend's start phase for a block, and its inversion from a given phase.
StartPhase = Callable[[Spectrogram], torch.Tensor]
InvertFrom = Callable[..., torch.Tensor]  # (spectrogram, phase, callback) → waveform


def _holder(values: torch.Tensor):
    """An iteration callback that writes ``values`` (channels × bins × k)
    over the estimate's first k frames: the frames already committed."""
    k = values.shape[-1]

    def hold(n: int, X: torch.Tensor) -> None:
        X[..., :k] = values

    return hold


def invert_blocks(plan: BlockPlan, read_frames: ReadFrames, start_phase: StartPhase, invert_from: InvertFrom,
                  progress: bool | None = None, label: str = "blocks") -> Iterator[np.ndarray]:
    """Yield the output waveform in consecutive pieces (channels × samples,
    float32) that together are ``plan.length`` samples long."""
    spec, hop = plan.spec, plan.spec.hop_length
    fade = spec.n_fft
    ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)).astype(np.float32)  # 0 → 1
    emitted = 0  # samples of the output already yielded
    tail: np.ndarray | None = None  # the previous block's samples over the coming fade
    previous: tuple[int, torch.Tensor] | None = None  # (first frame, output) of the block before
    cores = plan.cores()
    for index, (a, b) in enumerate(tqdm(cores, desc=label, unit="block", disable=None if progress is None
                                        else not progress, leave=False)):
        ea, eb = plan.extended(a, b)
        block_length = plan.block_length(ea, eb)
        block = Spectrogram(magnitude=read_frames(ea, eb), spec=spec, n_samples=block_length)
        phase = start_phase(block)
        hold = None
        if previous is not None:
            # Frames shared with the block before, except the last windows'
            # worth of that block (too near its own edge), start from its phase;
            # those before this block's core are held at that block's values.
            first, waveform = previous
            shared_end = min(eb, first + spec.n_frames(waveform.shape[-1]) - math.ceil(spec.n_fft / hop) - 1)
            if shared_end > ea:
                before = stft(waveform.to(torch.float64), spec)[..., ea - first: shared_end - first]
                phase = phase.clone()
                phase[..., : shared_end - ea] = torch.polar(torch.ones_like(before.real),
                                                            torch.angle(before)).to(torch.complex64)
                hold = _holder(before[..., : min(a, shared_end) - ea].to(torch.complex64))
        waveform = invert_from(block, phase, hold).detach().to("cpu", torch.float32)
        offset = ea * hop  # global sample of the block's sample 0
        last = index == len(cores) - 1
        start = 0 if index == 0 else plan.centre(a) - fade // 2
        end = plan.length if last else plan.centre(b) - fade // 2
        piece = waveform[:, start - offset: end - offset].numpy().copy()
        if tail is not None:
            piece[:, :fade] = tail * (1.0 - ramp) + piece[:, :fade] * ramp
        if start != emitted:
            raise AssertionError(f"block {index} starts at sample {start}, expected {emitted}")
        yield piece
        emitted = end
        if not last:
            tail = waveform[:, end - offset: end + fade - offset].numpy().copy()
        previous = (ea, waveform)
    if emitted != plan.length:
        raise AssertionError(f"block-wise inversion produced {emitted} samples, expected {plan.length}")

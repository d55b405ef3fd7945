"""Memory is bounded before work starts: the cap and the estimate checked against it.

Every job states what it will cost (:mod:`vocoder.costs`, and each backend,
architecture and axis for its own part) from what its inputs' headers and its
options say, before it allocates anything, and is refused with one line
when that exceeds the cap: ``--max-memory``, else ``VOCODER_MAX_MEMORY``,
else half of this machine's memory (or of the container's limit).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

from vocoder.errors import VocoderError

ENV = "VOCODER_MAX_MEMORY"
# Half the machine: room for the OS, the user's other programs and a second
# job, while any input a laptop can hold still runs.
DEFAULT_FRACTION = 0.5
# Allocator slack, fragmentation and the temporaries too small to list
# (calibrated: tests/test_budget.py).
SLACK = 1.3
# Imports done lazily during a job (numba's compiled kernels, matplotlib's
# fonts, librosa's filterbanks, a backend's modules), measured at 180-250 MB (tests/test_budget.py).
LAZY_IMPORTS = 300 * 2**20

_SUFFIXES = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
_explicit: int | None = None


def parse_size(text: str) -> int:
    """'8G', '512M', '1.5GiB', '2000000000' → bytes (binary units)."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([kmgt]?)(?:i?b)?\s*", str(text), re.IGNORECASE)
    if not match:
        raise VocoderError(f"a memory size looks like 8G, 512M or 1.5GiB (got {str(text)[:40]!r})")
    value = float(match.group(1)) * _SUFFIXES[match.group(2).lower()]
    if not math.isfinite(value) or value < 2**20:
        raise VocoderError(f"a memory limit below 1 MiB cannot run anything (got {str(text)[:40]!r})")
    if value > 2**60:
        raise VocoderError(f"a memory limit above an exabyte is not a limit (got {str(text)[:40]!r})")
    return int(value)


def format_size(n: float) -> str:
    if n >= 10 * 2**30:
        return f"{n / 2**30:.1f} GiB"
    if n >= 2**20:
        return f"{n / 2**20:.0f} MiB"
    return f"{n / 2**10:.0f} KiB"


def machine_memory() -> int:
    """Physical memory, or the cgroup (container) limit when that is lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                text = fh.read().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def set_limit(limit: int | None) -> None:
    """The cap from the command line (None: fall back to the environment or the default)."""
    global _explicit
    _explicit = limit


def limit() -> tuple[int, str]:
    """(bytes, where the figure came from)."""
    if _explicit is not None:
        return _explicit, "--max-memory"
    text = os.environ.get(ENV)
    if text:
        try:
            return parse_size(text), ENV
        except VocoderError as exc:
            raise VocoderError(f"{ENV}: {exc}") from None
    return int(machine_memory() * DEFAULT_FRACTION), "half of this machine's memory"


def resident() -> int:
    """Bytes this process holds now (interpreter, libraries, loaded data)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class Estimate:
    """Bytes each step of a job holds at its peak (beyond the running process)."""

    job: str
    steps: dict[str, float] = field(default_factory=dict)

    def add(self, step: str, nbytes: float) -> None:
        self.steps[step] = max(self.steps.get(step, 0.0), float(nbytes))

    def merge(self, other: "Estimate", prefix: str = "") -> None:
        for step, nbytes in other.steps.items():
            self.add(prefix + step, nbytes)

    @property
    def largest(self) -> tuple[str, float]:
        return max(self.steps.items(), key=lambda kv: kv[1], default=("nothing", 0.0))

    def peak(self, base: int | None = None) -> int:
        """Peak resident bytes of the process running the job."""
        base = resident() if base is None else base
        return int(base + LAZY_IMPORTS + SLACK * self.largest[1])

    def check(self) -> int:
        """Refuse the job, in one line, when its peak exceeds the cap; else return the peak."""
        cap, source = limit()
        base = resident()
        total = self.peak(base)
        if total > cap:
            step, nbytes = self.largest
            raise VocoderError(
                f"{self.job} needs about {format_size(total)} of memory (largest step: {step}, "
                f"{format_size(SLACK * nbytes)}; {format_size(base)} already held by vocoder and its libraries), "
                f"over the limit of {format_size(cap)} ({source}); raise it with --max-memory SIZE or "
                f"{ENV}=SIZE if this machine has the room"
            )
        return total

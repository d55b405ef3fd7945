"""SIGINT and SIGTERM take the same way out: an ``Interrupted`` exception
(a KeyboardInterrupt, so Lightning and every ``finally`` treat it alike),
which unwinds through ``AtomicOutputs`` and removes every unfinished output.

Only the first signal interrupts; later ones are ignored so that they cannot
break off the clean-up the first one started.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

_SIGNALS = {name: getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name)}
_received: list[str] = []


class Interrupted(KeyboardInterrupt):
    """The user (SIGINT) or the system (SIGTERM) asked vocoder to stop."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


def _handler(signum: int, _frame) -> None:
    if _received:
        return  # already stopping
    name = signal.Signals(signum).name
    _received.append(name)
    raise Interrupted(name)


def received() -> str | None:
    """The name of the signal that stopped this command, if one did."""
    return _received[0] if _received else None


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into ``Interrupted`` while the block runs
    (main thread only; previous handlers come back afterwards)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received.clear()
    _finished.clear()
    previous = {}
    for signum in _SIGNALS.values():
        try:
            previous[signum] = signal.signal(signum, _handler)
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_IGN if _finished else handler)


_finished: list[bool] = []


def finished() -> None:
    """The command's work is done and its outputs are whole: from now on a
    signal is ignored, so a late Ctrl-C cannot turn a success into a death by
    signal while the interpreter shuts down (the executable calls this; a
    library caller's handlers are restored as they were)."""
    _finished.append(True)
    for signum in _SIGNALS.values():
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signum, signal.SIG_IGN)


def message(signal_name: str | None) -> str:
    """The one line a stopped command prints."""
    return f"vocoder: stopped by {signal_name or 'SIGINT'} before finishing; unfinished outputs were removed"

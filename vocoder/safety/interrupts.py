"""SIGINT, SIGTERM and SIGHUP (the terminal closed) take the same way out: an ``Interrupted`` exception
(a KeyboardInterrupt, so Lightning and every ``finally`` treat it alike),
which unwinds through ``AtomicOutputs`` and removes every unfinished output.

Only the first signal interrupts; later ones are ignored so that they cannot
break off the clean-up the first one started. The first one is remembered
for the whole command: a nested ``handled`` (the executable's, then the
CLI's) does not forget it, and ``raise_if_received`` (asked before any output
is published) raises it again if a library's ``except`` swallowed it, e.g.
while modules were still being imported.

An ``Interrupted`` can be lost on its way: raised in a finaliser
(``__del__``, ``weakref.finalize``, a progress bar closing), where Python
passes it to ``sys.unraisablehook`` and carries on; or swallowed by a
library, in a bare ``except`` or in C code that clears the error (module
imports in the first second of a command). Ignoring later signals would
then leave the command running to its end with nothing left to stop it. So
the first signal also starts a short repeating timer: whenever it finds the
program running on, not unwinding from the interruption (no
``KeyboardInterrupt`` being handled) and not in a ``held`` section, it
raises ``Interrupted`` again in ordinary code.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Iterator, Sequence

SIGNAL_NAMES = ("SIGINT", "SIGTERM", "SIGHUP")
_SIGNALS = {name: getattr(signal, name) for name in SIGNAL_NAMES if hasattr(signal, name)}
_received: list[str] = []
_depth = [0]  # how many `handled` blocks are open
_redelivering: list[str] = []
# How soon, and how often, a swallowed interruption is raised again (seconds):
# long enough to leave the finaliser that swallowed it, short enough to be
# immediate to a user.
REDELIVERY_DELAY = 0.05
RECHECK_INTERVAL = 0.2
_held = [0]  # open `held` sections: a redelivery waits for them
_CAN_REDELIVER = hasattr(signal, "SIGALRM") and hasattr(signal, "setitimer")


class Interrupted(KeyboardInterrupt):
    """The user (SIGINT), the system (SIGTERM) or a closed terminal (SIGHUP) asked vocoder to stop."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


def _handler(signum: int, _frame) -> None:
    if _received:
        return  # already stopping
    name = signal.Signals(signum).name
    _received.append(name)
    if _CAN_REDELIVER:
        _redelivering.append(name)
        signal.setitimer(signal.ITIMER_REAL, REDELIVERY_DELAY, RECHECK_INTERVAL)
    raise Interrupted(name)


def _unraisable(hook_args, previous) -> None:
    """An ``Interrupted`` that Python had to swallow is not reported: the timer raises it again."""
    if not isinstance(hook_args.exc_value, Interrupted):
        previous(hook_args)
    elif not _CAN_REDELIVER:  # no timer here: let the next signal interrupt instead
        _received.clear()


def _redeliver(_signum: int, _frame) -> None:
    """Raise the interruption again if the program runs on as if it had not come."""
    if not _redelivering or _held[0] or isinstance(sys.exc_info()[1], KeyboardInterrupt):
        return  # none, in a critical section, or unwinding from it as it should
    raise Interrupted(_redelivering[0])


@contextlib.contextmanager
def held() -> Iterator[None]:
    """A section (publishing, cleaning up) that a redelivered interruption waits for."""
    _held[0] += 1
    try:
        yield
    finally:
        _held[0] -= 1


def received() -> str | None:
    """The name of the signal that stopped this command, if one did."""
    return _received[0] if _received else None


def raise_if_received() -> None:
    """Raise ``Interrupted`` again if a signal came (and was swallowed on its way)."""
    if _received:
        raise Interrupted(_received[0])


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into ``Interrupted`` while the block
    runs (main thread only; previous handlers come back afterwards). Inside
    another ``handled`` block, a signal the outer one already received is
    raised at once instead of forgotten."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    outermost = _depth[0] == 0
    if outermost:
        _received.clear()
        _finished.clear()
        _redelivering.clear()
    else:
        raise_if_received()
    previous = {}
    handlers = {signum: _handler for signum in _SIGNALS.values()}
    if _CAN_REDELIVER:
        handlers[signal.SIGALRM] = _redeliver
    for signum, handler in handlers.items():
        try:
            previous[signum] = signal.signal(signum, handler)
        except (ValueError, OSError):
            pass
    previous_hook, sys.unraisablehook = sys.unraisablehook, lambda args: _unraisable(args, previous_hook)
    _depth[0] += 1
    try:
        yield
    finally:
        _depth[0] -= 1
        _cancel_redelivery()
        sys.unraisablehook = previous_hook
        for signum, handler in previous.items():
            ignore = _finished and signum in _SIGNALS.values()
            signal.signal(signum, signal.SIG_IGN if ignore else handler)


def _cancel_redelivery() -> None:
    _redelivering.clear()
    if _CAN_REDELIVER:
        with contextlib.suppress(ValueError, OSError):
            signal.setitimer(signal.ITIMER_REAL, 0)


_finished: list[bool] = []


def finished() -> None:
    """The command's work is done and its outputs are whole: from now on a
    signal is ignored, so a late Ctrl-C cannot turn a success into a death by
    signal while the interpreter shuts down (the executable calls this; a
    library caller's handlers are restored as they were)."""
    _finished.append(True)
    _cancel_redelivery()
    for signum in _SIGNALS.values():
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signum, signal.SIG_IGN)


def message(signal_name: str | None, published: Sequence[str] = ()) -> str:
    """The one line a stopped command prints (``published``: outputs already in place, which stand)."""
    line = f"vocoder: stopped by {signal_name or 'SIGINT'} before finishing; unfinished outputs were removed"
    if published:
        line += "; outputs already written stand: " + ", ".join(os.path.basename(p) for p in published)
    return line

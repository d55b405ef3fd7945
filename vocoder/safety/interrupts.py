"""SIGINT and SIGTERM take the same way out: an ``Interrupted`` exception
(a KeyboardInterrupt, so Lightning and every ``finally`` treat it alike),
which unwinds through ``AtomicOutputs`` and removes every unfinished output.

Only the first signal interrupts; later ones are ignored so that they cannot
break off the clean-up the first one started.

A signal can land while Python runs a finaliser or a garbage-collection
callback (``__del__``, ``weakref.finalize``, a progress bar closing). An
exception raised there cannot propagate: Python passes it to
``sys.unraisablehook`` and carries on. Ignoring later signals would then
leave the command running to its end with nothing left to stop it, so the
hook hands the signal back: a short timer raises ``Interrupted`` again in
ordinary code.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from typing import Iterator

_SIGNALS = {name: getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name)}
_received: list[str] = []
_redelivering: list[str] = []
# How soon a swallowed interruption is raised again (seconds): long enough to
# leave the finaliser that swallowed it, short enough to be immediate to a user.
REDELIVERY_DELAY = 0.05
_CAN_REDELIVER = hasattr(signal, "SIGALRM") and hasattr(signal, "setitimer")


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


def _unraisable(hook_args, previous) -> None:
    """An ``Interrupted`` that Python had to swallow is raised again shortly."""
    if not isinstance(hook_args.exc_value, Interrupted):
        previous(hook_args)
        return
    if _CAN_REDELIVER:
        _redelivering.append(hook_args.exc_value.signal_name)
        signal.setitimer(signal.ITIMER_REAL, REDELIVERY_DELAY)
    else:  # no timer here: let the next signal interrupt instead
        _received.clear()


def _redeliver(_signum: int, _frame) -> None:
    if _redelivering:
        raise Interrupted(_redelivering.pop())


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
    _redelivering.clear()
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
    try:
        yield
    finally:
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


def message(signal_name: str | None) -> str:
    """The one line a stopped command prints."""
    return f"vocoder: stopped by {signal_name or 'SIGINT'} before finishing; unfinished outputs were removed"

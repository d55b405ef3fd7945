"""Standard output as the user gave it: closed (``>&-``), full (``>/dev/full``)
or a pipe whose reader left. A failure there is the stream's, not an output
file's, so it gets its own exception, which the CLI turns into one line that
says what happened and whether the outputs written so far stand.
"""

from __future__ import annotations

import errno
import os
from typing import Any, TextIO

from vocoder.errors import VocoderError
from vocoder.safety.text import terminal_line


class StandardOutputFailed(VocoderError):
    """Writing to standard output failed (the outputs are not to blame)."""

    def __init__(self, error: OSError) -> None:
        self.errno = error.errno
        if error.errno == errno.EPIPE:
            what = "standard output was closed before vocoder finished writing to it (broken pipe)"
        else:
            what = f"cannot write to standard output: {error.strerror or error}"
        super().__init__(what)


class GuardedStdout:
    """``sys.stdout`` whose write failures raise ``StandardOutputFailed``, and
    whose lines reach the terminal as text: a control character a file name
    carried (ESC, BEL, CR) is written as its escape, as on stderr."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write("\n".join(terminal_line(line) for line in text.split("\n")))
        except OSError as exc:
            raise StandardOutputFailed(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise StandardOutputFailed(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def reopen_closed_standard_streams() -> None:
    """Put /dev/null on a closed descriptor 0, 1 or 2, so that no file the
    command opens later gets that number and receives what is printed."""
    for fd, flags in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, flags)
            except OSError:
                continue
            if null != fd:
                os.dup2(null, fd)
                os.close(null)

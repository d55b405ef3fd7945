"""Text from outside (file names, file contents, library messages) made safe
to show or store: the one place for it.

- ``shown``: a value's repr, cut, on one line, for error messages;
- ``brief``: a library's message, whitespace collapsed, cut;
- ``terminal_text``: printable characters only (no escape sequences or
  newlines reach the terminal), cut, for summaries of what a file claims;
- ``printable``: valid UTF-8 whatever a file name holds, for records and JSON;
- ``terminal_line``: a whole message for the terminal, every control
  character (ESC, BEL, newline…) shown as an escape, never acted on.
"""

from __future__ import annotations

from typing import Any


def shown(value: Any, limit: int = 60) -> str:
    """repr(value), cut to ``limit`` characters: safe to put in a one-line message."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 5] + " …" + text[-2:]
    return text.replace("\n", "\\n")



def brief(text: str, limit: int = 120) -> str:
    """A library's message on one short line (whitespace collapsed, cut)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 2] + " …"



def terminal_text(value: Any, limit: int = 40) -> str:
    """A value from a file anyone can write, safe on a terminal: printable
    characters only (no escape sequences, no newlines), cut to ``limit``."""
    text = "".join(c if c.isprintable() else "?" for c in str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"



def printable(text: str) -> str:
    """``text`` as valid UTF-8: a file name that is not (Python keeps its bad
    bytes as lone surrogates) shows them as U+FFFD instead of failing."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def terminal_line(text: str) -> str:
    """``text`` on one line for stderr or a progress bar: valid UTF-8, and each
    character that is not printable (an escape sequence's ESC, BEL, CR, a
    newline) written as its escape (``\\x1b``), so a file name cannot drive
    the terminal and the user still sees what it holds."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in printable(str(text)))

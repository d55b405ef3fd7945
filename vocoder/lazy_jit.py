"""numba's ``njit``, applied when a kernel is first called.

Importing numba takes about a third of a second, which commands that never
run a kernel (`vocoder --help`, `backends`, `info`) must not pay. A kernel
decorated here is compiled with exactly the options given, on its first
call; it must be called from Python, not from another numba kernel (numba
cannot see through the wrapper).
"""

from __future__ import annotations

import functools
from typing import Any, Callable


def njit(**options: Any) -> Callable[[Callable], Callable]:
    """``numba.njit(**options)``, deferred to the first call of the kernel."""

    def decorate(function: Callable) -> Callable:
        compiled: Callable | None = None

        @functools.wraps(function)
        def kernel(*args: Any) -> Any:
            nonlocal compiled
            if compiled is None:
                import numba

                compiled = numba.njit(**options)(function)
            return compiled(*args)

        return kernel

    return decorate

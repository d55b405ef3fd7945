"""Where outputs go. One place owns the rules every command follows:

* an existing file is never replaced, nor a non-empty folder filled, unless
  the user said ``--force``; the refusal names the path and the flag;
* an output is never one of the command's inputs (the same path, or the same
  file through a symbolic link, a hard link or another spelling: compared by
  device and inode, and by resolved path), ``--force`` or not;
* outputs are regular files (or, for ``bench``, a folder), never a device,
  FIFO or socket;
* every file is written to a temporary beside its target and renamed into
  place only when the whole job succeeded, so a crash, a full disk, SIGINT or
  SIGTERM leaves neither a partial output nor a temporary behind.

The CLI sets the policy for a command once (``output_policy``: its inputs and
``--force``); every ``AtomicOutputs`` opened while it holds follows it, so a
library function that writes a file needs no extra arguments to be safe.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from vocoder.errors import VocoderError
from vocoder.provenance.hashing import sha256_file

FORCE_FLAG = "--force"
# Write failures that are the user's environment, not a bug: said in one line.
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
_HELD_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s)


@dataclass(frozen=True)
class OutputPolicy:
    """What the running command allows: replacing outputs, and what it reads."""

    force: bool = False
    inputs: tuple[str, ...] = ()


_POLICY: contextvars.ContextVar[OutputPolicy] = contextvars.ContextVar("vocoder_output_policy",
                                                                       default=OutputPolicy())


@contextlib.contextmanager
def output_policy(force: bool = False, inputs: Iterable[str | os.PathLike | None] = ()) -> Iterator[None]:
    """Every AtomicOutputs opened inside follows ``force`` and protects ``inputs``."""
    token = _POLICY.set(OutputPolicy(bool(force), tuple(os.fspath(p) for p in inputs if p)))
    try:
        yield
    finally:
        _POLICY.reset(token)


def current_policy() -> OutputPolicy:
    return _POLICY.get()


def umask() -> int:
    """The process's current umask (read without changing it for long)."""
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for a short critical section (creating a
    temporary and remembering it, publishing, cleaning up), then act on them.

    The Python-level handlers are swapped, not the OS mask, so a signal whose
    handler was already due when we entered is held too.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for signum in _HELD_SIGNALS:
        try:
            previous[signum] = signal.signal(signum, lambda s, _f: received.append(s))
        except (ValueError, OSError):  # not settable here (embedded interpreter)
            pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in received[:1]:  # one is enough to stop
            handler = previous.get(signum)
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _real(path: str) -> str:
    return os.path.realpath(os.path.abspath(path))


def inside(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Whether ``path`` is ``folder`` or lies anywhere below it, however
    either is spelled (links resolved, folders compared by device and inode)."""
    folder_id, folder_real = _identity(os.fspath(folder)), _real(os.fspath(folder))
    current = Path(_real(os.fspath(path)))
    for candidate in (current, *current.parents):
        if str(candidate) == folder_real or (folder_id is not None and _identity(str(candidate)) == folder_id):
            return True
    return False


class AtomicOutputs:
    """Collect output files (and bench's output folder) in temporaries beside
    their targets; publish all of them only when the whole job succeeded.

    Used as a context manager: on any exception (KeyboardInterrupt included)
    every temporary is removed and no target is touched. ``force`` and the
    protected inputs default to the current ``output_policy``.
    """

    def __init__(self, inputs: Iterable[str | os.PathLike | None] = (), force: bool | None = None) -> None:
        policy = current_policy()
        self.force = policy.force if force is None else force
        self._inputs: list[str] = []
        self._sources: dict[str, str] = {}  # sha256 → what the input says it was made from
        self._pending: dict[str, str] = {}  # target file → temporary file
        self._folders: dict[str, str] = {}  # target folder → staging folder
        self.protect(*policy.inputs, *inputs)

    # -- rules ---------------------------------------------------------------

    def protect(self, *paths: str | os.PathLike | None) -> None:
        """Declare more inputs; no reserved output may be one of them."""
        for path in paths:
            if path is None:
                continue
            self._inputs.append(os.fspath(path))
        for target in self._pending:
            self._check_not_input(target, folder=False)
        for target in self._folders:
            self._check_not_input(target, folder=True)

    def protect_source(self, sha256: str, description: str) -> None:
        """A file with this content is what an input was made from (e.g. the
        recording a spectrogram PNG names): never replaced, even with --force."""
        if isinstance(sha256, str) and sha256:
            self._sources[sha256] = description
        for target in self._pending:
            self._check_not_source(target)

    def _check_not_source(self, target: str) -> None:
        if not self._sources or not os.path.isfile(target):
            return
        description = self._sources.get(sha256_file(target))
        if description is not None:
            raise VocoderError(f"output {target} is {description} (the same sha256): an output never replaces "
                               f"the material it was made from, even with {FORCE_FLAG}; choose another name")

    def _check_not_input(self, target: str, folder: bool) -> None:
        target_id, target_real = _identity(target), _real(target)
        for source in self._inputs:
            same = (target_id is not None and target_id == _identity(source)) or target_real == _real(source)
            if same:
                raise VocoderError(f"output {target} is the input {source} (the same file): an output never "
                                   f"replaces an input, even with {FORCE_FLAG}; choose another output name")
            if folder and target_id is not None and inside(source, target):
                raise VocoderError(f"output folder {target} holds the input {source}: an output never replaces "
                                   f"an input, even with {FORCE_FLAG}; choose another folder")

    def _check_unique(self, target: str) -> None:
        real = _real(target)
        for other in (*self._pending, *self._folders):
            if _real(other) == real:
                raise VocoderError(f"two outputs of this command would be the same file {target}")

    def _check_file_target(self, target: str) -> str:
        """The folder a file target lives in, after every rule passed."""
        if not os.path.basename(target) or target.endswith(("/", os.sep)):
            raise VocoderError(f"output {target!r} names a folder, not a file")
        folder = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(folder):
            raise VocoderError(f"output folder {folder} does not exist")
        self._check_not_input(target, folder=False)
        self._check_not_source(target)
        if os.path.lexists(target):
            try:
                mode = os.stat(target).st_mode
            except OSError:
                mode = None  # a dangling symbolic link: replacing it touches nothing else
            if mode is not None and stat.S_ISDIR(mode):
                raise VocoderError(f"output {target} is a folder; give a file name")
            if mode is not None and not stat.S_ISREG(mode):
                raise VocoderError(f"output {target} is not a regular file (a device, FIFO or socket); "
                                   "vocoder writes regular files only")
            if not self.force:
                raise VocoderError(f"{target} already exists; add {FORCE_FLAG} to replace it")
        self._check_unique(target)
        return folder

    # -- reserving -----------------------------------------------------------

    def reserve(self, target: str | os.PathLike) -> str:
        """Check ``target`` against the rules, create (and return the path of)
        a temporary beside it; reserving the same target again returns the
        same temporary."""
        target = os.fspath(target)
        if target in self._pending:
            return self._pending[target]
        folder = self._check_file_target(target)
        name = Path(target).name
        suffix = "".join(Path(target).suffixes[-1:])  # libraries that go by the extension still can
        with signals_held():
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=f".part{suffix}", dir=folder)
            except OSError as exc:
                raise VocoderError(f"cannot write to {folder}: {exc.strerror or exc}") from None
            os.close(fd)
            self._pending[target] = tmp
        return tmp

    def reserve_folder(self, target: str | os.PathLike) -> Path:
        """A staging folder that becomes ``target`` on success. An existing
        empty folder is replaced; a non-empty one only with ``--force``."""
        target = os.fspath(target).rstrip("/") or "/"
        if target in self._folders:
            return Path(self._folders[target])
        parent = os.path.dirname(os.path.abspath(target))
        if os.path.lexists(target):
            if os.path.islink(target):
                raise VocoderError(f"output folder {target} is a symbolic link; name the folder itself")
            if not os.path.isdir(target):
                raise VocoderError(f"output folder {target} exists and is not a folder")
            self._check_not_input(target, folder=True)
            if inside(os.getcwd(), target):
                raise VocoderError(f"output folder {target} holds the current folder; choose another")
            with os.scandir(target) as entries:
                if any(True for _ in entries) and not self.force:
                    raise VocoderError(f"output folder {target} is not empty; add {FORCE_FLAG} to replace "
                                       "its contents, or choose another folder")
        if not os.path.isdir(parent):
            raise VocoderError(f"the folder {parent} (where {target} would go) does not exist")
        self._check_unique(target)
        with signals_held():
            try:
                staging = tempfile.mkdtemp(prefix=f".{Path(target).name}.partial-", dir=parent)
            except OSError as exc:
                raise VocoderError(f"cannot write to {parent}: {exc.strerror or exc}") from None
            self._folders[target] = staging
        return Path(staging)

    # -- writing ---------------------------------------------------------------

    def write_bytes(self, target: str | os.PathLike, data: bytes) -> None:
        tmp = self.reserve(target)
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise VocoderError(f"cannot write {os.fspath(target)}: {exc.strerror or exc}") from None

    def write_text(self, target: str | os.PathLike, text: str) -> None:
        self.write_bytes(target, text.encode("utf-8"))

    # -- publishing ------------------------------------------------------------

    def commit(self) -> None:
        mode = 0o666 & ~umask()  # mkstemp makes 0600; outputs get the usual mode
        with signals_held():
            if not self.force:  # something may have appeared at a target while we worked
                for target in self._pending:
                    if os.path.lexists(target):
                        raise VocoderError(f"{target} appeared while vocoder was working; add "
                                           f"{FORCE_FLAG} to replace it")
            for tmp in self._pending.values():
                os.chmod(tmp, mode)
                _fsync(tmp)
            for staging in self._folders.values():
                os.chmod(staging, 0o777 & ~umask())  # mkdtemp made it private
                for root, _dirs, files in os.walk(staging):
                    for name in files:
                        _fsync(os.path.join(root, name))
                    _fsync(root)
            for target, tmp in self._pending.items():
                os.replace(tmp, target)
            for target, staging in self._folders.items():
                _replace_folder(staging, target)
            for folder in {os.path.dirname(os.path.abspath(t)) for t in (*self._pending, *self._folders)}:
                _fsync(folder)
            self._pending.clear()
            self._folders.clear()

    def discard(self) -> None:
        with signals_held():
            for tmp in self._pending.values():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            for staging in self._folders.values():
                shutil.rmtree(staging, ignore_errors=True)
            self._pending.clear()
            self._folders.clear()

    def _target_of(self, filename: str | None) -> str | None:
        if filename is None:
            return None
        filename = os.fspath(filename)
        for target, tmp in self._pending.items():
            if filename == tmp:
                return target
        for target, staging in self._folders.items():
            if filename.startswith(staging):
                return target
        return None

    def __enter__(self) -> "AtomicOutputs":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.discard()
                raise
            return
        described = write_failure(exc, self._target_of(getattr(exc, "filename", None))
                                  or next(iter((*self._pending, *self._folders)), None))
        self.discard()
        if described is not None:
            raise described from None


def write_failure(exc: BaseException | None, target: str | None = None) -> VocoderError | None:
    """A full disk, a quota, a read-only or forbidden place: one line for the
    user (None for anything else, which stays a bug report)."""
    if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
        where = f" {target}" if target else ""
        return VocoderError(f"cannot write{where}: {exc.strerror or exc}; nothing was written")
    # Libraries that wrap the OSError (safetensors: "... (os error 28)").
    match = re.search(r"\(os error (\d+)\)", str(exc) if exc is not None else "")
    if match and int(match.group(1)) in WRITE_ERRNOS:
        where = f" {target}" if target else ""
        return VocoderError(f"cannot write{where}: {os.strerror(int(match.group(1)))}; nothing was written")
    return None


def _fsync(path: str) -> None:
    """Flush to the device so a power cut cannot publish an empty file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (and folders on some systems) cannot be synced
    finally:
        os.close(fd)


def _replace_folder(staging: str, target: str) -> None:
    """Put ``staging`` at ``target``; an existing folder there (empty, or any
    with --force, checked when reserved) is moved aside first and removed."""
    if not os.path.lexists(target):
        os.replace(staging, target)
        return
    parent = os.path.dirname(os.path.abspath(target))
    aside = tempfile.mkdtemp(prefix=f".{Path(target).name}.old-", dir=parent)
    os.replace(target, aside)  # a folder may replace an empty folder
    os.replace(staging, target)
    shutil.rmtree(aside, ignore_errors=True)

"""Where outputs go. One place owns the rules every command follows:

* an existing file is never replaced, nor a non-empty folder filled, unless
  the user said ``--force``; the refusal names the path and the flag;
* an output is never one of the command's inputs (the same path, or the same
  file through a symbolic link, a hard link or another spelling: compared by
  device and inode, and by resolved path), ``--force`` or not;
* outputs are regular files (or, for ``bench``, a folder), never a device,
  FIFO or socket;
* every file is written to a temporary beside its target and put in place
  only when the whole job succeeded, so a crash, a full disk, SIGINT, SIGTERM
  or SIGHUP leaves neither a partial output nor a temporary behind. On Linux
  the temporary has no name at all (``O_TMPFILE``, linked in at commit), so
  not even SIGKILL or a power cut can leave one; elsewhere (and for bench's
  folder) a named temporary carries its maker's pid, and the next run for
  the same output removes those whose maker is gone.

The CLI sets the policy for a command once (``output_policy``: its inputs and
``--force``); every ``AtomicOutputs`` opened while it holds follows it, so a
library function that writes a file needs no extra arguments to be safe.
Every file the command reads goes through ``reading``/``open_input``, which
adds it to the policy's inputs: a record, sidecar, config or list read on the
way is protected like the files named on the command line.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import re
import secrets
import shutil
import signal
import stat
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from vocoder.errors import VocoderError
from vocoder.provenance.hashing import sha256_file
from vocoder.safety import interrupts

FORCE_FLAG = "--force"
# Write failures that are the user's environment, not a bug: said in one line.
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
# Failures to read a file that are the user's (permission, a name that is not there or is a folder).
READ_ERRNOS = WRITE_ERRNOS | {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ELOOP, errno.ENAMETOOLONG, errno.ENXIO}
_HELD_SIGNALS = tuple(getattr(signal, name) for name in interrupts.SIGNAL_NAMES if hasattr(signal, name))
# A temporary's name keeps at most this much of its target's name (bytes), so
# that a legal target name (NAME_MAX, 255 bytes) never makes an illegal one.
NAME_KEPT = 100
SUFFIX_KEPT = 16
# Where a nameless temporary is reached by name (Linux): /proc/self/fd/N.
_ANONYMOUS = "/proc/self/fd/"


@dataclass(frozen=True)
class OutputPolicy:
    """What the running command allows: replacing outputs, what it reads (the
    named inputs, and every file opened through ``reading`` while it holds),
    and what it has already published."""

    force: bool = False
    inputs: tuple[str, ...] = ()
    read: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)


_DEFAULT_POLICY = OutputPolicy()
_POLICY: contextvars.ContextVar[OutputPolicy] = contextvars.ContextVar("vocoder_output_policy",
                                                                       default=_DEFAULT_POLICY)


@contextlib.contextmanager
def output_policy(force: bool = False, inputs: Iterable[str | os.PathLike | None] = ()) -> Iterator[OutputPolicy]:
    """Every AtomicOutputs opened inside follows ``force`` and protects ``inputs``."""
    policy = OutputPolicy(bool(force), tuple(os.fspath(p) for p in inputs if p))
    token = _POLICY.set(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(token)


def current_policy() -> OutputPolicy:
    return _POLICY.get()


def reading(path: str | os.PathLike) -> str:
    """Declare that the command reads ``path`` (returned as given): no output
    of this command may replace it, ``--force`` or not. Every reader in
    vocoder calls this (or ``open_input``), so none can forget. A FIFO or
    device is refused here, before anything opens it: a read could block for
    ever (a file that does not exist is left to the caller to report)."""
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise VocoderError(f"{path} is not a regular file (a FIFO, device or socket): give a file")
    policy = current_policy()
    if policy is not _DEFAULT_POLICY and not path.startswith(_ANONYMOUS):
        policy.read.append(path)
    return path


def existing_input(path: str | os.PathLike, what: str, hint: str = "") -> str:
    """``path`` (as given), declared an input, when it is a regular file this
    command may read; else one line saying which: absent ("WHAT not found:
    PATH" + ``hint``), behind a folder that cannot be entered or otherwise
    unreadable ("cannot read"), a folder, or a FIFO or device (``reading``)."""
    path = os.fspath(path)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise VocoderError(f"{what} not found: {path}{hint}") from None
    except OSError as exc:
        raise VocoderError(f"cannot read {path}: {exc.strerror or exc}; {outcome()}") from None
    if stat.S_ISDIR(info.st_mode):
        raise VocoderError(f"{what} {path} is a folder, not a file")
    return reading(path)  # an input from here on; a FIFO or device is refused there


def open_input(path: str | os.PathLike, mode: str = "rb", **kwargs: Any) -> IO:
    """``open`` for reading, with ``path`` declared an input first."""
    if any(c in mode for c in "wax+"):
        raise ValueError(f"open_input reads; mode {mode!r} writes")
    return open(reading(path), mode, **kwargs)


def folder_of(path: str | os.PathLike) -> str:
    """The folder a file, or one of our temporaries (a nameless one too), lives in:
    where scratch data for it goes."""
    path = os.fspath(path)
    if path.startswith(_ANONYMOUS):
        path = os.readlink(path)  # "/folder/#inode (deleted)"
    return os.path.dirname(os.path.abspath(path))


def published_outputs(policy: OutputPolicy | None = None) -> list[str]:
    """The outputs this command (``policy``, else the current one) has already put in place: they stand."""
    return list((policy or current_policy()).published)


def outcome(policy: OutputPolicy | None = None) -> str:
    """What a failure leaves: nothing, or the outputs already published."""
    done = published_outputs(policy)
    if not done:
        return "nothing was written"
    return "outputs already written stand: " + ", ".join(os.path.basename(p) for p in done)


def umask() -> int:
    """The process's current umask (read without changing it for long)."""
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP (and a redelivered interruption) for a
    short critical section (creating a temporary and remembering it,
    publishing, cleaning up), then act on them.

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
        with interrupts.held():
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


def _kept(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` bytes of its file-system encoding."""
    raw = os.fsencode(text)
    return text if len(raw) <= limit else os.fsdecode(raw[:limit])


def _temp_stem(target: str) -> str:
    """The start every temporary of ``target`` shares: short, whatever the target's length."""
    return f".{_kept(Path(target).name, NAME_KEPT)}."


def _named_temporary(target: str, folder: str, kind: str = "part") -> str:
    """A hidden file beside ``target`` named ``.NAME.PID.XXXXXXXX.part.EXT``
    (NAME and EXT cut short): the pid lets a later run see that its maker is gone."""
    suffix = _kept("".join(Path(target).suffixes[-1:]), SUFFIX_KEPT)  # for libraries that go by the extension
    fd, tmp = tempfile.mkstemp(prefix=f"{_temp_stem(target)}{os.getpid()}.", suffix=f".{kind}{suffix}",
                               dir=folder)
    os.close(fd)
    return tmp


def _anonymous_temporary(folder: str) -> int | None:
    """A file with no name in ``folder`` (Linux ``O_TMPFILE``) that nothing can
    leave behind; None where the system, the file system or /proc cannot."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir(_ANONYMOUS):
        return None
    try:
        fd = os.open(folder, flag | os.O_RDWR, 0o666)  # the umask applies, as for any new file
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
            return None
        raise
    if not os.path.exists(f"{_ANONYMOUS}{fd}"):
        os.close(fd)
        return None
    return fd


_STALE = r"(?:(\d+)\.[A-Za-z0-9_]{8}\.(?:part|link).*|(?:partial|old)-(\d+)\.[A-Za-z0-9_]{8})"


def _maker_gone(pid: int, made: float) -> bool:
    """Whether process ``pid`` that made a temporary at time ``made`` has ended
    (not running, or the pid now belongs to a process started later)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, someone else's
    started = _process_start(pid)
    return started is not None and started > made + 1.0


def _process_start(pid: int) -> float | None:
    """When ``pid`` started (seconds since the epoch), from /proc; None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            ticks = int(fh.read().rsplit(b")", 1)[1].split()[19])
        with open("/proc/stat", "rb") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith(b"btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def remove_stale_temporaries(target: str) -> None:
    """Remove what an earlier run for ``target`` left when it was killed
    (named temporaries only: ours, for this target, whose maker is gone)."""
    folder = os.path.dirname(os.path.abspath(target)) or "."
    pattern = re.compile(re.escape(_temp_stem(target)) + _STALE + r"\Z", re.DOTALL)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None:
            continue
        try:
            made = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if not _maker_gone(int(match.group(1) or match.group(2)), made):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)


class AtomicOutputs:
    """Collect output files (and bench's output folder) in temporaries beside
    their targets; publish all of them only when the whole job succeeded.

    Used as a context manager: on any exception (KeyboardInterrupt included)
    every temporary is removed and no target is touched. ``force`` and the
    protected inputs default to the current ``output_policy``.
    """

    def __init__(self, inputs: Iterable[str | os.PathLike | None] = (), force: bool | None = None) -> None:
        self._policy = current_policy()
        self.force = self._policy.force if force is None else force
        self._inputs: list[str] = []
        self._sources: dict[str, str] = {}  # sha256 → what the input says it was made from
        self._pending: dict[str, str] = {}  # target file → temporary file
        self._anonymous: dict[str, int] = {}  # target file → descriptor of its nameless temporary
        self._folders: dict[str, str] = {}  # target folder → staging folder
        self.protect(*self._policy.inputs, *inputs)

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
        for source in (*self._inputs, *self._policy.read):
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
        remove_stale_temporaries(target)
        with signals_held():
            try:
                fd = _anonymous_temporary(folder)
                tmp = _named_temporary(target, folder) if fd is None else f"{_ANONYMOUS}{fd}"
            except OSError as exc:
                raise VocoderError(f"cannot write to {folder}: {exc.strerror or exc}; {outcome()}") from None
            if fd is not None:
                self._anonymous[target] = fd
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
        remove_stale_temporaries(target)
        with signals_held():
            try:
                staging = tempfile.mkdtemp(prefix=f"{_temp_stem(target)}partial-{os.getpid()}.", dir=parent)
            except OSError as exc:
                raise VocoderError(f"cannot write to {parent}: {exc.strerror or exc}; {outcome()}") from None
            self._folders[target] = staging
        return Path(staging)

    # -- writing ---------------------------------------------------------------

    def write_bytes(self, target: str | os.PathLike, data: bytes) -> None:
        tmp = self.reserve(target)
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise VocoderError(f"cannot write {os.fspath(target)}: {exc.strerror or exc}; "
                               f"{outcome(self._policy)}") from None

    def write_text(self, target: str | os.PathLike, text: str) -> None:
        self.write_bytes(target, text.encode("utf-8"))

    # -- publishing ------------------------------------------------------------

    def commit(self) -> None:
        mode = 0o666 & ~umask()  # mkstemp makes 0600; outputs get the usual mode
        with signals_held():
            interrupts.raise_if_received()  # a stop swallowed on the way (a library's `except`) publishes nothing
            for target in self._pending:  # inputs read since the target was reserved
                self._check_not_input(target, folder=False)
            for target in self._folders:
                self._check_not_input(target, folder=True)
            if not self.force:  # something may have appeared at a target while we worked
                for target in self._pending:
                    if os.path.lexists(target):
                        raise VocoderError(f"{target} appeared while vocoder was working; add "
                                           f"{FORCE_FLAG} to replace it")
            for target, tmp in self._pending.items():
                if target in self._anonymous:
                    with contextlib.suppress(OSError):
                        os.fsync(self._anonymous[target])
                    continue
                os.chmod(tmp, mode)
                _fsync(tmp)
            for staging in self._folders.values():
                os.chmod(staging, 0o777 & ~umask())  # mkdtemp made it private
                for root, _dirs, files in os.walk(staging):
                    for name in files:
                        _fsync(os.path.join(root, name))
                    _fsync(root)
            self._publish_files()
            for target, staging in self._folders.items():
                _replace_folder(staging, target)
                self._published([target])
            for folder in {os.path.dirname(os.path.abspath(t)) for t in (*self._pending, *self._folders)}:
                _fsync(folder)
            self._close_anonymous()
            self._pending.clear()
            self._folders.clear()

    def _publish_files(self) -> None:
        """Every file target in place; without --force, a target that appeared
        meanwhile stops the commit and the targets linked so far are removed."""
        linked: list[str] = []
        try:
            for target, tmp in self._pending.items():
                if target in self._anonymous:
                    _link_anonymous(self._anonymous[target], target, self.force)
                else:
                    os.replace(tmp, target)
                linked.append(target)
        except FileExistsError:
            if not self.force:
                for target in linked:
                    with contextlib.suppress(OSError):
                        os.unlink(target)
                linked.clear()
            raise VocoderError(f"{next(t for t in self._pending if t not in linked)} appeared while vocoder was "
                               f"working; add {FORCE_FLAG} to replace it") from None
        finally:
            self._published(linked)

    def _published(self, targets: list[str]) -> None:
        """Remember what stands now, for the command's later error lines (none outside a command)."""
        if self._policy is not _DEFAULT_POLICY:
            self._policy.published.extend(targets)

    def _close_anonymous(self) -> None:
        for fd in self._anonymous.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._anonymous.clear()

    def discard(self) -> None:
        with signals_held():
            for target, tmp in self._pending.items():
                if target in self._anonymous:
                    continue  # closed below: gone with its last descriptor
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            self._close_anonymous()
            for staging in self._folders.values():
                shutil.rmtree(staging, ignore_errors=True)
            self._pending.clear()
            self._folders.clear()

    def _target_of(self, filename: str | None) -> str | None:
        if filename is None:
            return None
        filename = os.fsdecode(filename)
        for target, tmp in self._pending.items():
            if filename in (tmp, target):
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
        filename = getattr(exc, "filename", None)
        # An error naming another file is about reading it; one naming none came from a writer.
        target = (self._target_of(filename) if filename is not None
                  else next(iter((*self._pending, *self._folders)), None))
        self.discard()
        described = os_failure(exc, target, self._policy)
        if described is not None:
            raise described from None


def os_failure(exc: BaseException | None, target: str | None = None,
               policy: OutputPolicy | None = None) -> VocoderError | None:
    """A failure of the user's environment in one line that blames the right
    side: an input that cannot be read (the error names a file that is not
    an output: permission, a folder that cannot be entered), or an output that
    cannot be written (a full disk, a quota, a read-only or forbidden place),
    and what stands. None for anything else, which stays a bug report."""
    if isinstance(exc, OSError) and exc.errno is not None:
        number, filename = exc.errno, exc.filename
    else:  # libraries that wrap the OSError (safetensors: "... (os error 28)")
        match = re.search(r"\(os error (\d+)\)", str(exc) if exc is not None else "")
        number, filename = (int(match.group(1)), None) if match else (None, None)
    left = outcome(policy)
    if number in READ_ERRNOS and filename is not None and target is None:
        return VocoderError(f"cannot read {os.fsdecode(filename)}: {os.strerror(number)}; {left}")
    if number in WRITE_ERRNOS:
        where = f" {target}" if target else ""
        return VocoderError(f"cannot write{where}: {os.strerror(number)}; {left}")
    return None


def _link_anonymous(fd: int, target: str, force: bool) -> None:
    """Give the nameless temporary ``fd`` the name ``target``: a link that
    fails if the target exists, or with ``force`` a link under a short
    temporary name renamed over it (atomic either way)."""
    folder = os.open(os.path.dirname(os.path.abspath(target)), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    source, name = f"{_ANONYMOUS}{fd}", os.path.basename(target)
    try:
        if not force:  # linkat(AT_SYMLINK_FOLLOW) through /proc: os.link uses it when given folder descriptors
            os.link(source, name, src_dir_fd=folder, dst_dir_fd=folder)
            return
        short = f"{_temp_stem(target)}{os.getpid()}.{secrets.token_hex(4)}.link"
        os.link(source, short, src_dir_fd=folder, dst_dir_fd=folder)
        try:
            os.replace(short, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(short, dir_fd=folder)
            raise
    finally:
        os.close(folder)


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
    aside = tempfile.mkdtemp(prefix=f"{_temp_stem(target)}old-{os.getpid()}.", dir=parent)
    os.replace(target, aside)  # a folder may replace an empty folder
    os.replace(staging, target)
    shutil.rmtree(aside, ignore_errors=True)

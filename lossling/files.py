"""Reading a file's bytes and writing them back: the only places lossling touches the files it checks.

A fixed file is written in place, so that it keeps everything that belongs to the file rather than to its text: its
inode, hard links, owner, group, mode, extended attributes and ACLs (replacing it through its folder would give it
a new inode and lossling's owner, and split its hard links). The write is made safe instead of atomic:

1. the new text goes first into a temporary copy beside the file, flushed to disk and read back;
2. the file is locked (``flock``, so that two lossling runs never write it at once), overwritten, truncated,
   flushed and read back;
3. the copy is removed. If step 2 fails, the original bytes are written back; if even that fails, the copy is
   kept and the error names it. SIGTERM and SIGHUP wait until the write is done or undone.

A file the user may not write (mode 444, or not writable by this user) is refused, as ruff refuses it.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import tempfile
from contextlib import contextmanager
from typing import Iterator

from .engine import SourceError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks
    fcntl = None  # type: ignore[assignment]

# Signals that stop a process without unwinding it: held while a file is written, so the write completes first.
_HELD = {getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)}


class Incomplete(OSError):
    """The file could be neither written nor restored: its new text is in ``copy``."""

    def __init__(self, cause: OSError, copy: str) -> None:
        super().__init__(cause.errno, f"{cause.strerror or cause}; the file may be incomplete, its fixed text is "
                                      f"in {copy}")
        self.copy = copy


def read_bytes(path: str) -> bytes:
    """A file's bytes; a failure is a SourceError that says why."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None


def write_file(path: str, data: bytes) -> None:
    """Replace the bytes of the file at ``path`` (through a symlink: of its target) with ``data``, in place, as
    the module docstring describes. Raises OSError (``Incomplete`` when the original could not be restored)."""
    with _held():
        target = os.path.realpath(path)
        info = os.stat(target)
        if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
            raise PermissionError(errno.EACCES, "the file is read-only")
        copy = _verified_copy(os.path.dirname(target) or ".", data)
        try:
            _write_in_place(target, data, copy)
        except Incomplete:
            raise
        except BaseException:
            _remove(copy)
            raise
        _remove(copy)


def _verified_copy(folder: str, data: bytes) -> str:
    handle, copy = tempfile.mkstemp(prefix=".lossling-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "r+b") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
            out.seek(0)
            if out.read() != data:
                raise OSError(errno.EIO, "the temporary copy does not read back as written")
    except BaseException:
        _remove(copy)
        raise
    return copy


def _write_in_place(target: str, data: bytes, copy: str) -> None:
    fd = os.open(target, os.O_RDWR)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        original = _contents(fd)
        try:
            _overwrite(fd, data)
            if _contents(fd) != data:
                raise OSError(errno.EIO, "the file does not read back as written")
        except BaseException as failure:
            try:
                _overwrite(fd, original)
            except OSError:
                cause = failure if isinstance(failure, OSError) else OSError(errno.EINTR, "interrupted")
                raise Incomplete(cause, copy) from failure
            raise
    finally:
        os.close(fd)  # releases the lock


def _contents(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _overwrite(fd: int, data: bytes) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.ftruncate(fd, len(data))
    os.fsync(fd)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


@contextmanager
def _held() -> Iterator[None]:
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)

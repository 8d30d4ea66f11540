"""Reading a file's bytes and writing them back atomically: the only places lossling touches the files it checks."""

from __future__ import annotations

import os
import signal
import stat
import tempfile
from contextlib import contextmanager
from typing import Iterator

from .engine import SourceError

# Signals that stop a process without unwinding it: held while a file is written, so the write completes first.
_HELD = {getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)}


def read_bytes(path: str) -> bytes:
    """A file's bytes; a failure is a SourceError that says why."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None


def write_atomic(path: str, data: bytes) -> None:
    """Write through a temporary file in the same folder and ``os.replace``, keeping the file's mode; a symlink
    is followed, so the link stays a link. SIGTERM and SIGHUP wait until the write is done or undone."""
    with _held():
        _write_atomic(path, data)


def _write_atomic(path: str, data: bytes) -> None:
    target = os.path.realpath(path)
    mode = stat.S_IMODE(os.stat(target).st_mode)
    folder = os.path.dirname(target) or "."
    handle, temporary = tempfile.mkstemp(prefix=".lossling-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


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

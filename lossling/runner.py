"""Running check and fix over many files, in parallel processes; results come back in path order."""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import os
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeVar

from . import cache
from .config import Settings
from .document import Document, FileResult, FixOutcome, check_document, fix_document, read_document
from .collector import collector_paused
from .engine import SourceError
from .files import read_bytes
from .finding import applicable
from .rule import all_rules

T = TypeVar("T")


def parallel_map(function: Callable[..., T], items: list[tuple[Any, ...]], jobs: int) -> list[T]:
    """``function(*item)`` for every item; in ``jobs`` processes when there is enough work to share."""
    if jobs <= 1 or len(items) < 2:
        return [_star((function, item)) for item in items]
    all_rules()  # import the rules once, before the workers fork, rather than once in each
    chunk = max(1, min(64, len(items) // (jobs * 4)))
    with _workers(jobs) as pool:
        results = pool.map_async(_star, [(function, item) for item in items], chunksize=chunk)
        while True:  # a Ctrl-C that arrives just as a wait starts is only answered when the wait ends
            try:
                return results.get(0.2)
            except multiprocessing.TimeoutError:
                continue


@contextmanager
def _workers(jobs: int) -> Iterator[multiprocessing.pool.Pool]:
    """A pool of ``jobs`` workers, terminated on the way out: at once on Ctrl-C, rather than after the queued
    files. Ctrl-C is blocked while the pool starts, so the workers and the pool's threads inherit it blocked: the
    kernel then gives a Ctrl-C to the main thread (one given to a pool thread would leave the main thread waiting
    for results forever), and a worker that has not yet run its initializer cannot die of it with a traceback.
    The parent answers only the first Ctrl-C: a second one while the first unwinds would break the pool's locks."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        with multiprocessing.Pool(jobs, initializer=_worker_signals) as pool:
            yield pool
        return
    interrupt = {signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, interrupt)
    try:
        pool = multiprocessing.Pool(jobs, initializer=_worker_signals)
    except BaseException:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, interrupt)
        raise
    previous = signal.signal(signal.SIGINT, _interrupt_once)
    try:
        with pool:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, interrupt)  # a Ctrl-C pressed meanwhile arrives here
            yield pool
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupt_once(signum: int, frame: object) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _worker_signals() -> None:
    """In a worker: Ctrl-C reaches the whole process group, and only the parent answers it (once); the parent's
    terminate() then stops the worker with SIGTERM's default action, at once wherever it is (a Python handler can
    miss a signal that arrives just as the worker starts waiting for a task). A fix being written is not cut
    short: ``write_file`` holds SIGTERM until the file is whole."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _star(pair: tuple[Callable[..., T], tuple[Any, ...]]) -> T:
    function, item = pair
    with collector_paused():
        return function(*item)


def default_jobs() -> int:
    return os.cpu_count() or 1


@dataclass(frozen=True)
class Target:
    """A file to check or fix: its path, its kind (decided once, where it was found) and its settings."""

    path: str
    kind: type[Document]
    settings: Settings


def check_files(targets: list[Target], jobs: int, cache_dir: str | None = None) -> list[FileResult]:
    """Check every file; with ``cache_dir``, files whose key is stored there are answered from it (in this
    process, so a run over an unchanged tree starts no workers) and the others are checked and stored."""
    results = [None if cache_dir is None else cached(target, cache_dir) for target in targets]
    misses = [index for index, result in enumerate(results) if result is None]
    for index, result in zip(misses, parallel_map(check_file, [(targets[i], cache_dir) for i in misses], jobs)):
        results[index] = result
    return [result for result in results if result is not None]


def cached(target: Target, cache_dir: str) -> FileResult | None:
    """The stored result of the file as it is now, or None."""
    try:
        data = read_bytes(target.path)
    except SourceError:
        return None
    return cache.load(cache_dir, cache.key(target.path, data, target.settings), target.path)


def check_file(target: Target, cache_dir: str | None = None) -> FileResult:
    """Check one file; with ``cache_dir``, keep the result under the key of the bytes that were checked."""
    try:
        data, document = read_target(target)
    except SourceError as error:
        return FileResult(target.path, error=error)
    result = check_document(document, target.settings.rules(target.path))
    if cache_dir is not None and cache.cacheable(result):
        cache.store(cache_dir, cache.key(target.path, data, target.settings), result)
    return result


def fix_file(target: Target, write: bool, cache_dir: str | None = None) -> FixOutcome:
    """Fix one file (unsafe fixes too if its settings say so); write it back when ``write`` and something changed.
    A cached check result only ever skips a file with nothing to fix: whatever is written comes from checking the
    file afresh."""
    settings = target.settings
    if cache_dir is not None:
        hit = cached(target, cache_dir)
        if hit is not None and hit.error is None and not any(applicable(f, settings.unsafe_fixes)
                                                             for f in hit.findings):
            return FixOutcome(target.path, remaining=hit.findings)
    try:
        _, document = read_target(target)
    except SourceError as error:
        return FixOutcome(target.path, error=error)
    return fix_document(document, settings.rules(target.path), settings.unsafe_fixes, write)


def read_target(target: Target) -> tuple[bytes, Document]:
    """The file's bytes and its document. Raises SourceError."""
    data = read_bytes(target.path)
    return data, read_document(target.kind, data, target.path)


def fix_files(targets: list[Target], write: bool, jobs: int, cache_dir: str | None = None) -> list[FixOutcome]:
    if jobs > 1:
        from . import fixer  # noqa: F401  libcst, imported once before the workers fork
    return parallel_map(fix_file, [(target, write, cache_dir) for target in targets], jobs)

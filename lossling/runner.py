"""Running check and fix over many files, in parallel processes; results come back in path order."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from dataclasses import dataclass, field
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from . import cache
from .semantic.project_only import take_consulted
from .config import Settings
from .engine import FileResult, SourceError, check_data, check_file, internal_error, read, read_bytes
from .finding import Finding
from .rule import all_rules

T = TypeVar("T")


def parallel_map(function: Callable[..., T], items: list[tuple], jobs: int) -> list[T]:
    """``function(*item)`` for every item; in ``jobs`` processes when there is enough work to share."""
    if jobs <= 1 or len(items) < 2:
        return [_star((function, item)) for item in items]
    all_rules()  # import the rules once, before the workers fork, rather than once in each
    chunk = max(1, min(64, len(items) // (jobs * 4)))
    pool = None
    try:
        with _interrupts_blocked():
            pool = multiprocessing.Pool(jobs, initializer=_worker_signals)
        results = pool.map_async(_star, [(function, item) for item in items], chunksize=chunk)
        while not results.ready():
            results.wait(0.1)  # not a wait without end: Python looks at a Ctrl-C only between two waits
        return results.get()
    finally:
        if pool is not None:
            pool.terminate()  # at once, also on Ctrl-C, rather than after the queued files


@contextmanager
def _interrupts_blocked() -> Iterator[None]:
    """Ctrl-C reaches every process of the group, and any thread of a process. SIGINT is blocked while the pool
    starts, so its threads and workers inherit the block: the workers then ignore it (the parent answers it, once),
    and in the parent it can only reach the main thread, which would not notice it while waiting in a lock if it
    reached another. A Ctrl-C while the pool starts is delivered when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _worker_signals() -> None:
    """In a worker: ignore Ctrl-C, and let the parent's terminate() unwind the worker like an exception, so a fix
    being written removes its temporary file."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGTERM, _exit_on_signal)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _star(pair: tuple[Callable[..., T], tuple]) -> T:
    """One file with the cyclic garbage collector paused, then one young-generation pass that frees the file's
    trees (parent links make them cycles). A parse allocates ~10^5 objects that all stay alive until the file is
    done, so collections during it only re-traverse them (with them, ast.parse alone took ~3x as long)."""
    function, item = pair
    paused = gc.isenabled()
    gc.disable()
    try:
        return function(*item)
    finally:
        if paused:
            gc.enable()
        gc.collect(0)


def default_jobs() -> int:
    return os.cpu_count() or 1


def check_files(files: list[tuple[str, Settings]], jobs: int, cache_dir: str | None = None) -> list[FileResult]:
    """Check every file; with ``cache_dir``, files whose key is stored there are answered from it (in this
    process, so a run over an unchanged tree starts no workers) and the others are checked and stored."""
    if cache_dir is None:
        return parallel_map(check_file, files, jobs)
    results: list[FileResult | None] = [cached(path, settings, cache_dir) for path, settings in files]
    misses = [index for index, result in enumerate(results) if result is None]
    checked = parallel_map(check_and_store, [(*files[i], cache_dir) for i in misses], jobs)
    for index, result in zip(misses, checked):
        results[index] = result
    return results  # type: ignore[return-value]


def cached(path: str, settings: Settings, cache_dir: str) -> FileResult | None:
    """The stored result of the file as it is now, or None."""
    try:
        data = read_bytes(path)
    except SourceError:
        return None
    return cache.load(cache_dir, cache.key(path, data, settings), path)


def check_and_store(path: str, settings: Settings, cache_dir: str) -> FileResult:
    """``check_file``, keeping the result under the key of the bytes that were checked."""
    try:
        data = read_bytes(path)
    except SourceError as error:
        return FileResult(path, error=error)
    take_consulted()
    if path.endswith(".ipynb"):
        result = check_file(path, settings)  # reads the notebook again: keep it only if it did not change since
        unchanged = _same_bytes(path, data)
    else:
        result, unchanged = check_data(path, data, settings), True
    deps = take_consulted() - {os.path.abspath(path)}
    if unchanged and cache.cacheable(result):
        cache.store(cache_dir, cache.key(path, data, settings), result, deps)
    return result


def _same_bytes(path: str, data: bytes) -> bool:
    try:
        return read_bytes(path) == data
    except SourceError:
        return False


@dataclass
class FixOutcome:
    path: str
    before: str = ""
    after: str = ""
    fixed: list[Finding] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)
    error: SourceError | None = None

    @property
    def changed(self) -> bool:
        return self.after != self.before


def fix_file(path: str, settings: Settings, write: bool, cache_dir: str | None = None) -> FixOutcome:
    """Fix one file (unsafe fixes too if the settings say so); write it back atomically when ``write`` and
    something changed. A cached check result only ever skips a file with nothing to fix: whatever is written comes
    from checking the file afresh."""
    if cache_dir is not None:
        hit = cached(path, settings, cache_dir)
        if hit is not None and hit.error is None:
            from .fixer import applicable

            if not any(applicable(f, settings.unsafe_fixes) for f in hit.findings):
                return FixOutcome(path, remaining=hit.findings)
    if path.endswith(".ipynb"):
        from .notebook import fix_notebook

        return fix_notebook(path, settings, write)
    from .fixer import fix_source, write_atomic  # libcst: paid only by runs that fix

    try:
        source = read(path)
        result = fix_source(source.text, path, settings, settings.unsafe_fixes)
        outcome = FixOutcome(path, source.text, result.text, result.fixed, result.remaining)
        if write and outcome.changed:
            write_atomic(path, source.encode(result.text))
        return outcome
    except SourceError as error:
        return FixOutcome(path, error=error)
    except UnicodeEncodeError as error:
        return FixOutcome(path, error=SourceError(f"cannot write the fixes as {error.encoding}; left unchanged"))
    except OSError as error:
        return FixOutcome(path, error=SourceError(f"cannot write: {error.strerror or error}; left unchanged"))
    except Exception as error:  # a bug in a rule or the fixer: report it with the file, and go on
        return FixOutcome(path, error=internal_error(error))


def fix_files(files: list[tuple[str, Settings]], write: bool, jobs: int,
              cache_dir: str | None = None) -> list[FixOutcome]:
    if jobs > 1:
        from . import fixer  # noqa: F401  libcst, imported once before the workers fork
    return parallel_map(fix_file, [(path, settings, write, cache_dir) for path, settings in files], jobs)

"""Running check and fix over many files, in parallel processes; results come back in path order."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from .config import Settings
from .engine import FileResult, SourceError, check_file, internal_error, read
from .finding import Finding
from .fixer import fix_source, write_atomic

T = TypeVar("T")


def parallel_map(function: Callable[..., T], items: list[tuple], jobs: int) -> list[T]:
    """``function(*item)`` for every item; in ``jobs`` processes when there is enough work to share."""
    if jobs <= 1 or len(items) < 2:
        return [function(*item) for item in items]
    chunk = max(1, min(64, len(items) // (jobs * 4)))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_star, [(function, item) for item in items], chunksize=chunk))


def _star(pair: tuple) -> object:
    function, item = pair
    return function(*item)


def default_jobs() -> int:
    return os.cpu_count() or 1


def check_files(files: list[tuple[str, Settings]], jobs: int) -> list[FileResult]:
    return parallel_map(check_file, files, jobs)


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


def fix_file(path: str, settings: Settings, write: bool) -> FixOutcome:
    """Fix one file (unsafe fixes too if the settings say so); write it back atomically when ``write`` and
    something changed."""
    if path.endswith(".ipynb"):
        from .notebook import fix_notebook

        return fix_notebook(path, settings, write)
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


def fix_files(files: list[tuple[str, Settings]], write: bool, jobs: int) -> list[FixOutcome]:
    return parallel_map(fix_file, [(path, settings, write) for path, settings in files], jobs)

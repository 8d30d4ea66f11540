"""A result cache like ruff's: a file's findings are kept under ``.lossling_cache/``, keyed by the file's bytes,
its path, lossling's own code and the settings, so an unchanged file is never parsed twice."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from . import __version__
from .config import Settings
from .document import FileResult
from .engine import SourceError
from .finding import Edit, Finding, Fix, Import, Safety, Span

CACHE_DIR = ".lossling_cache"


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """lossling's version and its source files' sizes and times: an edited rule invalidates the cache."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*.py")):
        info = path.stat()
        digest.update(f"{path.relative_to(package)}:{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()


_SETTINGS: dict[int, tuple[Settings, str]] = {}


def _settings_fingerprint(settings: Settings) -> str:
    """``settings.fingerprint()``, computed once per settings object (it builds every rule)."""
    known = _SETTINGS.get(id(settings))
    if known is None or known[0] is not settings:
        known = _SETTINGS[id(settings)] = (settings, settings.fingerprint())
    return known[1]


def key(path: str, data: bytes, settings: Settings) -> str:
    digest = hashlib.sha256()
    for part in (_code_fingerprint(), os.path.abspath(path), _settings_fingerprint(settings)):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(data)
    return digest.hexdigest()


def _entry(folder: str, digest: str) -> Path:
    return Path(folder) / digest[:2] / f"{digest[2:]}.json"


def load(folder: str, digest: str, path: str) -> FileResult | None:
    """The stored result for ``digest``, reported under ``path`` (the key holds the absolute path, while findings
    name the file as this run was given it); None if absent or unreadable."""
    try:
        data = json.loads(_entry(folder, digest).read_text(encoding="utf-8"))
        if any(_stamp(dep) != stamp for dep, stamp in data.get("deps", {}).items()):
            return None  # a module it read a value from (``from .config import EPS``) has changed
        error = data["error"]
        return FileResult(path, [_finding(f, path) for f in data["findings"]],
                          SourceError(error["message"], error["line"], error["col"], error.get("cell"),
                                      error.get("file_line")) if error else None)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def cacheable(result: FileResult) -> bool:
    """Findings and syntax errors depend only on the key; a crash in a rule (a bug) is never kept."""
    return result.error is None or not str(result.error).startswith("internal error")


def _stamp(path: str) -> str | None:
    """What an entry remembers of a module a value was inferred from: a hash of its bytes (a size and a time
    miss an edit that keeps both, as a same-size edit within the clock's resolution, or a restored mtime)."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


def store(folder: str, digest: str, result: FileResult) -> None:
    """Write an entry atomically; a cache that cannot be written is silently skipped. The entry holds only while
    the other files the result was inferred from (``result.deps``) are unchanged."""
    error = result.error
    data = {"findings": [_plain(f) for f in result.findings],
            "error": {"message": str(error), "line": error.line, "col": error.col, "cell": error.cell,
                      "file_line": error.file_line} if error else None,
            "deps": {dep: _stamp(dep) for dep in sorted(result.deps)}}
    target = _entry(folder, digest)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        ignore = Path(folder) / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n", encoding="utf-8")
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(temporary, target)
    except OSError:
        pass


def _plain(finding: Finding) -> dict:
    fix = finding.fix
    return {"code": finding.code, "message": finding.message, "span": list(_span(finding.span)),
            "cell": finding.cell, "file_span": list(_span(finding.file_span)) if finding.file_span else None,
            "fix": None if fix is None else {
                "safety": fix.safety.value, "title": fix.title,
                "edits": [[list(_span(e.span)), e.text, e.cell] for e in fix.edits],
                "imports": [[i.module, i.name, i.alias] for i in fix.imports]}}


def _span(span: Span) -> tuple[int, int, int, int]:
    return span.line, span.col, span.end_line, span.end_col


def _finding(data: dict, path: str) -> Finding:
    fix = data["fix"]
    if fix is not None:
        fix = Fix(tuple(Edit(Span(*span), text, cell) for span, text, cell in fix["edits"]), Safety(fix["safety"]),
                  tuple(Import(*i) for i in fix["imports"]), fix["title"])
    file_span = Span(*data["file_span"]) if data.get("file_span") else None
    return Finding(data["code"], data["message"], Span(*data["span"]), fix, path, data["cell"], file_span)


def is_cache(folder: str) -> bool:
    """Whether ``folder`` is a lossling cache and nothing else: the ``.gitignore`` it writes, and two-hex-digit
    folders of entries. ``lossling clean`` removes only such a folder, so a mistyped --cache-dir loses nothing."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name == ".gitignore" and entry.is_file(follow_symlinks=False):
                    continue
                if not (len(entry.name) == 2 and all(c in "0123456789abcdef" for c in entry.name)
                        and entry.is_dir(follow_symlinks=False)):
                    return False
                with os.scandir(entry.path) as inner:
                    if any(not (e.name.endswith((".json", ".tmp")) and e.is_file(follow_symlinks=False))
                           for e in inner):
                        return False
    except OSError:
        return False
    return True

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
from .engine import FileResult, SourceError
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


def key(path: str, data: bytes, settings: Settings) -> str:
    digest = hashlib.sha256()
    for part in (_code_fingerprint(), os.path.abspath(path), settings.fingerprint()):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(data)
    return digest.hexdigest()


def _entry(folder: str, digest: str) -> Path:
    return Path(folder) / digest[:2] / f"{digest[2:]}.json"


def load(folder: str, digest: str) -> FileResult | None:
    try:
        data = json.loads(_entry(folder, digest).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    error = data.get("error")
    return FileResult(data["path"], [_finding(f) for f in data["findings"]],
                      SourceError(error["message"], error["line"], error["col"]) if error else None)


def store(folder: str, digest: str, result: FileResult) -> None:
    """Write an entry atomically; a cache that cannot be written is silently skipped."""
    error = result.error
    data = {"path": result.path, "findings": [_plain(f) for f in result.findings],
            "error": {"message": str(error), "line": error.line, "col": error.col} if error else None}
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
            "path": finding.path, "cell": finding.cell,
            "fix": None if fix is None else {
                "safety": fix.safety.value,
                "edits": [[list(_span(e.span)), e.text] for e in fix.edits],
                "imports": [[i.module, i.name, i.alias] for i in fix.imports]}}


def _span(span: Span) -> tuple[int, int, int, int]:
    return span.line, span.col, span.end_line, span.end_col


def _finding(data: dict) -> Finding:
    fix = data["fix"]
    if fix is not None:
        fix = Fix(tuple(Edit(Span(*span), text) for span, text in fix["edits"]), Safety(fix["safety"]),
                  tuple(Import(*i) for i in fix["imports"]))
    return Finding(data["code"], data["message"], Span(*data["span"]), fix, data["path"], data["cell"])

"""A file as checking and fixing see it, and the one check and the one fix over it.

A ``Document`` is one of two kinds: ``PythonSource`` (``.py``, ``.pyi``) or ``notebook.Notebook`` (``.ipynb``).
Each reads itself from bytes into ``source``, the Python text the rules check; maps what is found there back to
the file (``to_file``: a notebook's cell and line within it); applies a pass of fixes (``fixed``); and renders
back to bytes. Which kind a file is, is decided once, where files are found (``discovery.kind_of``).

``check_document`` and ``fix_document`` are the only way from a document to a result. They own the fix loop, the
mapping of every failure to a message (a rule that crashes included: "internal error, please report it"), the
project files a result depends on, and the write. Neither raises, and both work on documents in memory as well as
on files: an editor's unsaved buffer is ``PythonSource(path, text)``, a notebook open in an editor is
``Notebook.from_cells(path, cells)``::

    rules = settings.rules(path)
    result = check_document(PythonSource(path, text), rules)             # FileResult: findings or error
    outcome = fix_document(PythonSource(path, text), rules, unsafe=False)  # FixOutcome: after, fixed, remaining
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass, field, replace

from .engine import Checked, SourceError, check_source, internal_error
from .files import Incomplete, write_file
from .finding import Edit, Finding, Import, Span, applicable
from .rule import Rule

MAX_PASSES = 8  # fixes that uncover others (nested findings) get this many rounds


class Document:
    """A file to check: its path, the Python ``source`` the rules see, and how to map and write results back."""

    path: str
    source: str
    skip: bool = False  # the file opts out as a whole (a notebook's metadata); nothing is reported or fixed

    @classmethod
    def from_bytes(cls, data: bytes, path: str) -> Document:
        """The document of a file's bytes. Raises SourceError when they cannot be read as this kind."""
        raise NotImplementedError

    def text(self) -> str:
        """The whole file as text, as a diff shows it."""
        raise NotImplementedError

    def render(self) -> bytes:
        """The file's bytes. Raises UnicodeEncodeError when its encoding cannot hold the text."""
        raise NotImplementedError

    def fixed(self, findings: list[Finding]) -> Document:
        """This document with the fixes of ``findings`` (spans in ``source``, not overlapping) applied."""
        raise NotImplementedError

    def with_lines(self, changes: dict[int, str]) -> Document:
        """This document with lines of ``source`` (by number) given new text; each keeps its line end."""
        raise NotImplementedError

    def to_file(self, finding: Finding) -> Finding:
        """A finding in ``source`` as the file's reader sees it."""
        return finding

    def from_file(self, finding: Finding) -> Finding:
        """A finding as the file's reader sees it (``to_file``'s) back in ``source``."""
        return finding

    def error_to_file(self, error: SourceError) -> SourceError:
        """An error in ``source`` (a syntax error) as the file's reader sees it."""
        return error


@dataclass
class PythonSource(Document):
    """A Python file, with what is needed to write it back exactly: its encoding and BOM."""

    path: str
    source: str
    encoding: str = "utf-8"
    bom: bool = False

    @classmethod
    def from_bytes(cls, data: bytes, path: str) -> PythonSource:
        """Bytes to text the way Python reads a source file: BOM, PEP 263 coding cookie, else UTF-8."""
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as error:  # a bad byte in the first two lines, or an unknown or contradicting cookie
            if "unknown encoding" in str(error) or "encoding problem" in str(error):
                raise SourceError(f"cannot decode: {error}", 1, 0) from None
            encoding = "utf-8"
        bom = encoding == "utf-8-sig"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            hint = "" if encoding != "utf-8" else " and there is no PEP 263 coding cookie"
            raise SourceError(f"cannot decode: byte 0x{data[error.start]:02x} is not valid {encoding}{hint}",
                              *byte_position(data, error.start)) from None
        return cls(path, text, "utf-8" if bom else encoding, bom)

    def text(self) -> str:
        return self.source

    def render(self) -> bytes:
        data = self.source.encode(self.encoding)
        return (b"\xef\xbb\xbf" + data) if self.bom else data

    def fixed(self, findings: list[Finding]) -> PythonSource:
        from .fixer import apply  # libcst: paid only by runs that fix

        return replace(self, source=apply(self.source, *edits_and_imports(findings)))

    def with_lines(self, changes: dict[int, str]) -> PythonSource:
        return replace(self, source=replace_lines(self.source, changes))


@dataclass
class FileResult:
    """What checking a file gave: its findings (in the file's coordinates) or why it could not be checked, and
    the other project files the findings were inferred from (a cached result holds while they are unchanged)."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    error: SourceError | None = None
    deps: frozenset[str] = frozenset()


@dataclass
class FixOutcome:
    """What fixing a file gave. ``before`` and ``after`` are the file's text (a notebook's JSON); ``document``
    is the fixed document and ``data`` its bytes when something changed. On ``error`` nothing was written, and
    ``remaining`` holds the findings of the file as it is (when it could be checked)."""

    path: str
    before: str = ""
    after: str = ""
    fixed: list[Finding] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)
    error: SourceError | None = None
    document: Document | None = None
    data: bytes | None = None

    @property
    def changed(self) -> bool:
        return self.after != self.before


def byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """The line (1-based) and column (0-based, in bytes) of a byte offset: where a file cannot be decoded."""
    return data.count(b"\n", 0, offset) + 1, offset - (data.rfind(b"\n", 0, offset) + 1)


def read_document(kind: type[Document], data: bytes, path: str) -> Document:
    """``kind.from_bytes``, with any failure (a notebook too deeply nested for ``json``, a bug) a SourceError."""
    try:
        return kind.from_bytes(data, path)
    except Exception as error:
        raise failure(error, fixing=False) from None


def check_document(document: Document, rules: list[Rule]) -> FileResult:
    """What ``rules`` find in ``document``, in the file's coordinates; a failure becomes ``FileResult.error``."""
    try:
        if document.skip:
            return FileResult(document.path)
        checked = find(document, rules)
        return FileResult(document.path, [document.to_file(f) for f in checked.findings], deps=checked.deps)
    except Exception as error:
        return FileResult(document.path, error=failure(error, fixing=False))


def fix_document(document: Document, rules: list[Rule], unsafe: bool = False, write: bool = False) -> FixOutcome:
    """Apply every applicable fix of ``rules`` (safe ones; unsafe ones too with ``unsafe``) until nothing changes,
    then write the file atomically when ``write`` and something changed. A fix that would leave the file unable
    to be checked is refused; on any failure the outcome carries the error and nothing is written."""
    found: list[Finding] = []  # what the file holds as it is: all of it remains when the fix fails
    try:
        if document.skip:
            return finish(document, document, [], [], write)
        checked, fixed, current = find(document, rules), [], document
        found = [document.to_file(f) for f in checked.findings]
        for _ in range(MAX_PASSES):
            chosen = non_overlapping([f for f in checked.findings if applicable(f, unsafe)])
            if not chosen:
                break
            candidate = current.fixed(chosen)
            if candidate.source == current.source:
                break
            try:
                checked = find(candidate, rules)
            except SourceError as error:  # a fix that breaks the file is a bug: refuse it rather than write it
                raise SourceError(f"internal error: the fixed file cannot be checked ({error}); "
                                  "left unchanged") from None
            fixed += [current.to_file(f) for f in chosen]
            current = candidate
        return finish(document, current, fixed, [current.to_file(f) for f in checked.findings], write)
    except Exception as error:
        return FixOutcome(document.path, remaining=found, error=failure(error, fixing=True))


def find(document: Document, rules: list[Rule]) -> Checked:
    """What ``rules`` find in ``document``, in ``source`` coordinates (``Document.to_file`` maps them). Raises
    SourceError, in the file's coordinates."""
    try:
        return check_source(document.source, document.path, rules)
    except SourceError as error:
        raise document.error_to_file(error) from None


def finish(before: Document, after: Document, fixed: list[Finding], remaining: list[Finding], write: bool,
           what: str = "fixes") -> FixOutcome:
    """The outcome of changing ``before`` into ``after``; with ``write``, the file is written when it changed.
    Raises SourceError when it cannot be encoded or written."""
    outcome = FixOutcome(before.path, before.text(), after.text(), fixed, remaining, document=after)
    if outcome.changed:
        try:
            outcome.data = after.render()
        except UnicodeEncodeError as error:
            raise SourceError(f"cannot write the {what} as {error.encoding}; left unchanged") from None
        if write:
            try:
                write_file(before.path, outcome.data)
            except Incomplete as error:
                raise SourceError(f"cannot write: {error.strerror}") from None
            except OSError as error:
                raise SourceError(f"cannot write: {error.strerror or error}; left unchanged") from None
    return outcome


def failure(error: Exception, fixing: bool) -> SourceError:
    """The message for a file that could not be checked, or fixed: a SourceError says it already; a file too
    deeply nested for the fixer (or a rule) to walk; any other exception is a bug, reported with the file."""
    if isinstance(error, SourceError):
        return error
    if isinstance(error, RecursionError):
        return SourceError("too deeply nested to fix; left unchanged" if fixing else "too deeply nested to check")
    return internal_error(error)


def replace_lines(text: str, changes: dict[int, str]) -> str:
    """``text`` with lines (1-based, as ``ast`` counts them) given new text; each keeps its line end."""
    if not changes:
        return text
    lines = io.StringIO(text, newline="").readlines()
    for number, body in changes.items():
        line = lines[number - 1]
        lines[number - 1] = body + line[len(line.rstrip("\r\n")):]
    return "".join(lines)


def non_overlapping(findings: list[Finding]) -> list[Finding]:
    """Outermost fixes first; a fix whose edits overlap a chosen one waits for the next pass."""
    chosen: list[Finding] = []
    taken: list[Span] = []
    for finding in sorted(findings, key=lambda f: (f.span.line, f.span.col, -f.span.end_line, -f.span.end_col)):
        spans = [edit.span for edit in finding.fix.edits] if finding.fix else []
        if any(_overlap(a, b) for a in spans for b in taken):
            continue
        chosen.append(finding)
        taken.extend(spans)
    return chosen


def _overlap(a: Span, b: Span) -> bool:
    return (a.line, a.col) < (b.end_line, b.end_col) and (b.line, b.col) < (a.end_line, a.end_col)


def edits_and_imports(findings: list[Finding]) -> tuple[list[Edit], set[Import]]:
    """The edits of ``findings``' fixes, and the imports they need."""
    edits = [edit for finding in findings if finding.fix for edit in finding.fix.edits]
    return edits, {imp for finding in findings if finding.fix for imp in finding.fix.imports}

"""What the server asks of lossling, on text held in memory: a document's findings, the text a fix would leave,
and the text with a ``# noqa`` added. Nothing here speaks LSP.

A document is a Python file's text or a notebook's cells. Findings come from ``check_source`` and fixes from the
fixer, exactly as ``lossling check`` and ``lossling fix`` run them; a notebook's code cells are read as one module
by lossling's notebook support, so names flow between cells as they do on the command line.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field, fields
from typing import Any, Callable

from .. import notebook
from ..config import Settings
from ..engine import SourceError, _noqa_lines, check_source, parse
from ..finding import Finding
from ..fixer import apply, fix_source
from ..rule import Rule
from ..semantic.project_only import take_consulted
from ..suppression import with_code
from .text import split


@dataclass(frozen=True)
class Cell:
    uri: str
    text: str
    python: bool  # a code cell in Python; markdown cells and other languages are not checked


@dataclass(frozen=True)
class Document:
    """A Python file's text (``cells`` None), or a notebook's cells in order (``text`` unused)."""

    uri: str
    path: str
    text: str = ""
    cells: tuple[Cell, ...] | None = None
    metadata: Any = None

    def texts(self) -> dict[str, str]:
        """The text of each part an editor shows: the file, or each cell."""
        if self.cells is None:
            return {self.uri: self.text}
        return {cell.uri: cell.text for cell in self.cells}


@dataclass(frozen=True)
class Flagged:
    """A finding where the editor shows it (``uri``, and a span in that part's lines), and as the engine reported
    it (``found``: in the checked module's lines, which for a notebook are its code cells joined)."""

    uri: str
    finding: Finding
    found: Finding


@dataclass(frozen=True)
class Problem:
    """A document that cannot be checked: where (1-based line and column, when known) and why."""

    uri: str
    message: str
    line: int | None = None
    col: int | None = None


@dataclass
class Analysis:
    flagged: list[Flagged] = field(default_factory=list)
    problem: Problem | None = None
    failures: list[str] = field(default_factory=list)  # tracebacks of rules that raised (their findings are lost)
    consulted: set[str] = field(default_factory=set)  # other project files the findings were inferred from


# Rules that raise --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Guarded(Settings):
    """Settings whose rules log an internal error in ``failures`` and find nothing, instead of raising: one
    broken rule must not take the other rules' findings, or the server, with it."""

    failures: list[str] = field(default_factory=list, compare=False)

    def rules(self, path: str | None = None) -> list[Rule]:
        return [_guard(rule, self.failures.append) for rule in super().rules(path)]


def _guard(rule: Rule, failed: Callable[[str], None]) -> Rule:
    check = rule.check

    def guarded(module: Any) -> list[Finding]:
        try:
            return list(check(module))
        except RecursionError:
            raise  # the engine reports a file too deeply nested to walk
        except Exception:
            failed(f"{rule.code} raised an internal error, please report it:\n{traceback.format_exc()}")
            return []

    rule.check = guarded  # type: ignore[method-assign]
    return rule


def guarded(settings: Settings, failures: list[str]) -> Settings:
    values = {f.name: getattr(settings, f.name) for f in fields(Settings)}
    return _Guarded(**values, failures=failures)


# Checking ----------------------------------------------------------------------------------------------------

def analyse(document: Document, settings: Settings) -> Analysis:
    """The document's findings, or the problem that stops it being checked."""
    result = Analysis()
    rules = guarded(settings, result.failures)
    take_consulted()
    try:
        if document.cells is None:
            result.flagged = [Flagged(document.uri, f, f) for f in check_source(document.text, document.path, rules)]
        else:
            result.flagged = _check_notebook(document, rules)
    except _CellError as error:
        result.problem = error.problem
    except SourceError as error:
        result.problem = Problem(document.uri, str(error), error.line, error.col)
    except Exception:
        result.failures.append(f"internal error, please report it:\n{traceback.format_exc()}")
    result.consulted = take_consulted() - {document.path}
    return result


class _CellError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class _Notebook:
    cells: list[Any]  # lossling.notebook's cells: the checked ones, each knowing its index among all cells
    uris: list[str]  # the uri of every cell, by index

    def uri(self, cell: Any) -> str:
        return self.uris[cell.index]


def _read(document: Document) -> _Notebook:
    """The notebook's Python code cells, masked for IPython syntax as ``lossling check`` masks a file's cells."""
    assert document.cells is not None
    cells = []
    if not notebook._skipped(document.metadata):
        for index, cell in enumerate(document.cells):
            masked = notebook._mask(cell.text) if cell.python else None
            if masked is not None:
                cells.append(notebook._Cell(index + 1, index, cell.text, masked[0], masked[1]))
    return _Notebook(cells, [cell.uri for cell in document.cells])


def _check_notebook(document: Document, settings: Settings) -> list[Flagged]:
    book = _read(document)
    if not book.cells:
        return []
    virtual, findings = _checked(book, document.path, settings)
    flagged = []
    for found in findings:
        shown = virtual.to_cell(found)
        flagged.append(Flagged(book.uris[shown.cell - 1], shown, found))
    return flagged


def _checked(book: _Notebook, path: str, settings: Settings) -> tuple[Any, list[Finding]]:
    """The cells as one module, and its findings; a syntax error names the cell it is in, at that cell's line (as
    ``lossling check`` names it)."""
    virtual = notebook._Virtual(book.cells)
    try:
        return virtual, check_source(virtual.text, path, settings)
    except SourceError as error:
        for cell in book.cells:  # the first cell that does not parse on its own holds the error
            try:
                parse(cell.masked)
            except SourceError as own:
                raise _CellError(Problem(book.uri(cell), str(own), own.line, own.col)) from None
        if error.line is None:
            raise _CellError(Problem(book.uri(book.cells[0]), str(error))) from None
        position, offset = virtual.locate(error.line)
        raise _CellError(Problem(book.uri(book.cells[position]), str(error), error.line - offset,
                                 error.col)) from None


# Fixing ------------------------------------------------------------------------------------------------------
# Each returns the new text of every part that changes. Raises SourceError when the fix cannot be made.

def fix_one(document: Document, settings: Settings, flagged: Flagged) -> dict[str, str]:
    """The finding's fix applied as ``lossling fix`` applies it, the imports it needs included."""
    if document.cells is None:
        text = apply(document.text, [flagged.found])
        parse(text)  # a fix that breaks the file is a bug: offer nothing rather than that
        return _changed(document, {document.uri: text})
    book = _read(document)
    virtual = notebook._Virtual(book.cells)
    fixed = notebook._apply(book.cells, virtual, [flagged.found])
    return _changed(document, {book.uri(cell): cell.text for cell in fixed})


def fix_all(document: Document, settings: Settings) -> dict[str, str]:
    """Every safe fix, pass after pass until the text is stable: what ``lossling fix`` writes. A rule that raises
    fixes nothing (its error was logged when the document was checked)."""
    rules = guarded(settings, [])
    if document.cells is None:
        return _changed(document, {document.uri: fix_source(document.text, document.path, rules).text})
    book = _read(document)
    if not book.cells:
        return {}
    cells, _, _ = notebook._fix(book.cells, document.path, rules, unsafe=False)
    return _changed(document, {book.uri(cell): cell.text for cell in cells})


def with_noqa(document: Document, flagged: Flagged) -> dict[str, str]:
    """The part's text with the finding's code added to the ``# noqa`` that the engine reads for its line:
    merged into a noqa already there, else appended to the last line of the logical line (so a comment never
    lands inside a multi-line string or a backslash continuation)."""
    text = document.texts()[flagged.uri]
    lines = split(text)
    first, last = _noqa_lines(text).get(flagged.finding.line, (flagged.finding.line, flagged.finding.line))
    for number in range(first, last + 1):
        merged = with_code(lines[number - 1], flagged.finding.code)
        if merged is not None:
            lines[number - 1] = merged
            break
    else:
        body = lines[last - 1].rstrip("\r\n")
        lines[last - 1] = f"{body}  # noqa: {flagged.finding.code}{lines[last - 1][len(body):]}"
    return {flagged.uri: "".join(lines)}


def _changed(document: Document, texts: dict[str, str]) -> dict[str, str]:
    old = document.texts()
    return {uri: text for uri, text in texts.items() if old.get(uri) != text}


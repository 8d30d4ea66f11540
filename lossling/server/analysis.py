"""What the server asks of lossling, on text held in memory: a document's findings, the text a fix would leave,
and the text with a ``# noqa`` added. Nothing here speaks LSP.

A document is a Python file's text or a notebook's cells. Both go through lossling's own documents
(``PythonSource``, ``Notebook.from_cells``) and ``find``/``fix_document``, exactly as ``lossling check`` and
``lossling fix`` run them; a notebook's code cells are read as one module, so names flow between cells as they do
on the command line.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import document as lossling
from ..config import Settings
from ..engine import SourceError, noqa_groups, parse
from ..finding import Finding
from ..notebook import Notebook
from ..rule import Rule
from ..suppression import with_code
from ..textedits import lines as split


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

def guarded(settings: Settings, path: str, failures: list[str]) -> list[Rule]:
    """The settings' rules for ``path``, each logging an internal error in ``failures`` and finding nothing
    instead of raising: one broken rule must not take the other rules' findings, or the server, with it."""
    return [_guard(rule, failures.append) for rule in settings.rules(path)]


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


# Checking ----------------------------------------------------------------------------------------------------

def source_of(document: Document) -> lossling.Document:
    """The document as lossling reads it: a Python file's text, or the notebook's cells (a cell that is not
    Python code is numbered, and not checked)."""
    if document.cells is None:
        return lossling.PythonSource(document.path, document.text)
    return Notebook.from_cells(document.path, [cell.text if cell.python else ("markdown", cell.text)
                                               for cell in document.cells], document.metadata)


def uri(document: Document, cell: int | None) -> str:
    """Where the editor shows a cell (1-based, among all cells), or the file."""
    if document.cells is None or cell is None:
        return document.uri
    return document.cells[cell - 1].uri


def analyse(document: Document, settings: Settings) -> Analysis:
    """The document's findings, or the problem that stops it being checked."""
    result = Analysis()
    source = source_of(document)
    try:
        if not source.skip:
            checked = lossling.find(source, guarded(settings, document.path, result.failures))
            shown = [source.to_file(found) for found in checked.findings]
            result.flagged = [Flagged(uri(document, f.cell), f, found) for f, found in zip(shown, checked.findings)]
            result.consulted = set(checked.deps)
    except SourceError as error:
        cell = error.cell
        if cell is None and isinstance(source, Notebook) and source.cells:
            cell = source.cells[0].number  # a notebook's error without a place: shown on its first code cell
        result.problem = Problem(uri(document, cell), str(error), error.line, error.col)
    except Exception:
        result.failures.append(f"internal error, please report it:\n{traceback.format_exc()}")
    return result


# Fixing ------------------------------------------------------------------------------------------------------
# Each returns the new text of every part that changes. Raises SourceError when the fix cannot be made.

def fix_one(document: Document, settings: Settings, flagged: Flagged) -> dict[str, str]:
    """The finding's fix applied as ``lossling fix`` applies it, the imports it needs included."""
    fixed = source_of(document).fixed([flagged.found])
    parse(fixed.source)  # a fix that breaks the file is a bug: offer nothing rather than that
    return _changed(document, fixed)


def fix_all(document: Document, settings: Settings) -> dict[str, str]:
    """Every safe fix, pass after pass until the text is stable: what ``lossling fix`` writes. A rule that raises
    fixes nothing (its error was logged when the document was checked)."""
    outcome = lossling.fix_document(source_of(document), guarded(settings, document.path, []))
    if outcome.error is not None:
        raise outcome.error
    return _changed(document, outcome.document) if outcome.document is not None else {}


def with_noqa(document: Document, flagged: Flagged) -> dict[str, str]:
    """The part's text with the finding's code added to the ``# noqa`` that the engine reads for its line:
    merged into a noqa already there, else appended to the last line of the logical line (so a comment never
    lands inside a multi-line string or a backslash continuation)."""
    text = document.texts()[flagged.uri]
    lines = split(text)
    first, last = noqa_groups(text).get(flagged.finding.line, (flagged.finding.line, flagged.finding.line))
    for number in range(first, last + 1):
        merged = with_code(lines[number - 1], flagged.finding.code)
        if merged is not None:
            lines[number - 1] = merged
            break
    else:
        body = lines[last - 1].rstrip("\r\n")
        lines[last - 1] = f"{body}  # noqa: {flagged.finding.code}{lines[last - 1][len(body):]}"
    return {flagged.uri: "".join(lines)}


def _changed(document: Document, fixed: lossling.Document) -> dict[str, str]:
    """The text of each part of ``document`` that ``fixed`` changes."""
    if isinstance(fixed, Notebook):
        texts = {uri(document, number): text for number, text in fixed.code_cells}
    else:
        texts = {document.uri: fixed.source}
    old = document.texts()
    return {part: text for part, text in texts.items() if old.get(part) != text}

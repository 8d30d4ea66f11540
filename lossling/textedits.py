"""A fix as text edits: the characters it replaces and what it writes there, the form that tools apply (JSON,
SARIF) and that editors apply (the language server).

A ``TextEdit`` replaces the characters of ``span`` (1-based lines, 0-based code-point columns, end exclusive; a
line ends at ``\\n``, ``\\r\\n`` or ``\\r``, as ``ast`` counts) with ``text``; in a notebook, in the source of cell
``cell``. The edits of one fix never overlap and apply together to the original text.

``fix_edits`` gives them exactly as ``lossling fix`` writes the fix: the fixer applies the finding's fix alone,
and the edits are read back from the difference of the two texts, so the import the fix adds, the parentheses
the fixer adds or drops and every other byte it writes are in them. A change that meets an expression the rule
rewrites is widened to that whole expression, so an edit reads as the expression and its replacement; the
added import stays an edit of its own.
"""

from __future__ import annotations

import bisect
import difflib
import io
import itertools
import os
from dataclasses import dataclass

from .document import Document
from .engine import parse
from .finding import Finding, Span
from .notebook import Notebook

Change = tuple[int, int, str]  # replace the characters from offset start to offset end with the text


@dataclass(frozen=True)
class TextEdit:
    span: Span
    text: str
    cell: int | None = None  # notebooks: the 1-based index of the cell among all cells


def lines(text: str) -> list[str]:
    """The lines of ``text``, each with its line break (``\\n``, ``\\r\\n`` or ``\\r``)."""
    return io.StringIO(text, newline="").readlines()


class Offsets:
    """Converts between a text's character offsets and (1-based line, 0-based column) positions."""

    def __init__(self, text: str) -> None:
        self.lines = lines(text)
        self.starts = list(itertools.accumulate((len(line) for line in self.lines), initial=0))

    def offset(self, line: int, col: int) -> int:
        return self.starts[min(line - 1, len(self.lines))] + col

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        if line == len(self.lines) and self.lines and not self.lines[-1].endswith(("\n", "\r")):
            line -= 1  # the end of a text without a final line break is the end of its last line
        return line + 1, offset - self.starts[line]

    def span(self, start: int, end: int) -> Span:
        return Span(*self.position(start), *self.position(end))


def changes(old: str, new: str) -> list[Change]:
    """Small changes that turn ``old`` into ``new``: the changed runs of lines, each trimmed to the characters
    that differ (never between the two characters of a ``\\r\\n``), in order."""
    before, after = Offsets(old), Offsets(new)
    result = []
    matcher = difflib.SequenceMatcher(None, before.lines, after.lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start, end = before.starts[i1], before.starts[i2]
        replacement = new[after.starts[j1]:after.starts[j2]]
        prefix = _shared(old[start:end], replacement)
        suffix = _shared(old[start + prefix:end][::-1], replacement[prefix:][::-1])
        if prefix and old[start + prefix - 1] == "\r" and old[start + prefix:start + prefix + 1] == "\n":
            prefix -= 1
        if suffix and old[end - suffix] == "\n" and old[end - suffix - 1:end - suffix] == "\r":
            suffix -= 1
        result.append((start + prefix, end - suffix, replacement[prefix:len(replacement) - suffix]))
    return result


def _shared(a: str, b: str) -> int:
    """The length of the common prefix of two strings."""
    return len(os.path.commonprefix([a, b]))


def widened(old: str, found: list[Change], spans: list[tuple[int, int]]) -> list[Change]:
    """``found`` (ordered, disjoint changes of ``old``) with every change that meets one of ``spans`` merged
    into one change covering the whole span; spans no change meets give nothing."""
    intervals = sorted([(start, end, i) for i, (start, end, _) in enumerate(found)] +
                       [(start, end, None) for start, end in spans], key=lambda x: (x[0], x[1]))
    groups: list[tuple[int, int, list[int]]] = []
    for start, end, index in intervals:
        if groups and start <= groups[-1][1]:
            first, last, members = groups[-1]
            groups[-1] = (first, max(last, end), members + ([index] if index is not None else []))
        else:
            groups.append((start, end, [] if index is None else [index]))
    result = []
    for first, last, members in groups:
        if not members:
            continue
        parts, at = [], first
        for index in members:
            start, end, text = found[index]
            parts += [old[at:start], text]
            at = end
        result.append((first, last, "".join(parts) + old[at:last]))
    return result


def fix_edits(document: Document, finding: Finding) -> list[TextEdit]:
    """The edits of ``finding``'s fix alone (a finding of ``document``, as the file's reader sees it), as
    ``lossling fix`` writes it. Raises SourceError when the fix cannot be made."""
    assert finding.fix is not None
    fixed = document.fixed([document.from_file(finding)])
    parse(fixed.source)  # a fix that breaks the file is a bug: lossling fix refuses it, and so is it offered nowhere
    if not isinstance(document, Notebook):
        return edits(document.source, fixed.source, [edit.span for edit in finding.fix.edits])
    assert isinstance(fixed, Notebook)
    return [edit for (number, before), (_, after) in zip(document.code_cells, fixed.code_cells) if before != after
            for edit in edits(before, after, [e.span for e in finding.fix.edits
                                              if (e.cell or finding.cell) == number], number)]


def edits(old: str, new: str, spans: list[Span], cell: int | None = None) -> list[TextEdit]:
    """The text edits from ``old`` to ``new``, widened to the rewritten expressions at ``spans``."""
    offsets = Offsets(old)
    at = [(offsets.offset(s.line, s.col), offsets.offset(s.end_line, s.end_col)) for s in spans]
    return [TextEdit(offsets.span(start, end), replacement, cell)
            for start, end, replacement in widened(old, changes(old, new), at)]

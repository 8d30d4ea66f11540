"""Text as the Language Server Protocol addresses it: lines, positions counted in the client's code units, and
the edits that turn one text into another.

LSP lines end at ``\\n``, ``\\r\\n`` or ``\\r`` (the line breaks Python's tokenizer and ``ast`` count too), and a
position's character counts UTF-16 code units unless the client chose UTF-8 or UTF-32 at initialization.
lossling's spans count code points, so every range crosses this module on its way to or from the client.
"""

from __future__ import annotations

import bisect
import itertools

from lsprotocol import types

from ..finding import Span
from ..textedits import changes, lines as split

UTF16 = types.PositionEncodingKind.Utf16


class Lines:
    """A text's lines, to convert between code-point columns and the client's code units."""

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.lines = split(text)
        self.encoding = encoding
        self.starts = list(itertools.accumulate((len(line) for line in self.lines), initial=0))

    def _units(self, chars: str) -> int:
        if self.encoding == types.PositionEncodingKind.Utf8:
            return len(chars.encode("utf-8", "surrogatepass"))
        if self.encoding == types.PositionEncodingKind.Utf32:
            return len(chars)
        return len(chars.encode("utf-16-le", "surrogatepass")) // 2

    def _body(self, line: int) -> str:
        """A 0-based line's text without its line break ('' past the end)."""
        return self.lines[line].rstrip("\r\n") if 0 <= line < len(self.lines) else ""

    def position(self, line: int, col: int) -> types.Position:
        """A 1-based line and a code-point column as an LSP position (the column clamped to the line)."""
        return types.Position(line - 1, self._units(self._body(line - 1)[:max(0, col)]))

    def range(self, span: Span) -> types.Range:
        return types.Range(self.position(span.line, span.col), self.position(span.end_line, span.end_col))

    def rest_of_line(self, line: int, col: int = 0) -> types.Range:
        """From a code-point column to the end of a 1-based line (clamped to the text's lines)."""
        line = min(max(line, 1), max(len(self.lines), 1))
        end = len(self._body(line - 1))
        return types.Range(self.position(line, min(col, end)), self.position(line, end))

    def column(self, position: types.Position) -> int:
        """An LSP position's character as a code-point column of its line."""
        units = col = 0
        for char in self._body(position.line):
            if units >= position.character:
                break
            units += self._units(char)
            col += 1
        return col

    def at(self, offset: int) -> types.Position:
        """The position of a character offset into the text."""
        line = bisect.bisect_right(self.starts, offset) - 1
        if line == len(self.lines) and self.lines and not self.lines[-1].endswith(("\n", "\r")):
            line -= 1  # the end of a text without a final line break is the end of its last line
        if line >= len(self.lines):
            return types.Position(line, 0)
        return types.Position(line, self._units(self.lines[line][:offset - self.starts[line]]))


def contains(span: Span, line: int, col: int) -> bool:
    """Whether a 1-based line and code-point column lie within ``span``, its end included (a cursor just after
    an expression is on it)."""
    return (span.line, span.col) <= (line, col) <= (span.end_line, span.end_col)


def meets(span: Span, first: tuple[int, int], last: tuple[int, int]) -> bool:
    """Whether ``span`` meets the range from ``first`` to ``last`` (1-based lines, code-point columns)."""
    return (span.line, span.col) <= last and first <= (span.end_line, span.end_col)


def edits(old: str, new: str, encoding: str = UTF16) -> list[types.TextEdit]:
    """Small edits that turn ``old`` into ``new`` (``textedits.changes``), so a rewrite far down a file and an
    import added at its top stay two small edits."""
    lines = Lines(old, encoding)
    return [types.TextEdit(types.Range(lines.at(start), lines.at(end)), text)
            for start, end, text in changes(old, new)]

"""Output for people: ``text`` (one line per finding, flake8's layout) and ``full`` (with the source line and a
caret under what was found), coloured on a terminal."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from typing import IO

from ..document import FileResult, PythonSource
from ..engine import SourceError
from ..finding import Finding
from .common import Report, location

MARK = "[*]"  # `lossling fix` applies this finding's fix
_LINE_END = re.compile(r"\r\n|\r|\n")  # the line ends Python counts (str.splitlines also splits at \f)
MAX_LINES = 4  # source lines shown under a finding in `full`; a longer span ends in an ellipsis


class Style:
    """ANSI colours, or none. Colour is on when the stream is a terminal; NO_COLOR (non-empty) turns it off and
    FORCE_COLOR (non-empty) on, as https://no-color.org and https://force-color.org ask; NO_COLOR wins."""

    def __init__(self, on: bool) -> None:
        self.on = on

    @classmethod
    def for_stream(cls, stream: IO[str]) -> Style:
        if os.environ.get("NO_COLOR"):
            return cls(False)
        if os.environ.get("FORCE_COLOR"):
            return cls(True)
        isatty = getattr(stream, "isatty", None)
        return cls(bool(isatty and isatty()) and os.environ.get("TERM") != "dumb")

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.on and text else text

    def path(self, text: str) -> str:
        return self._paint(text, "1")

    def code(self, text: str) -> str:
        return self._paint(text, "1;31")

    def mark(self, text: str) -> str:
        return self._paint(text, "36")

    def gutter(self, text: str) -> str:
        return self._paint(text, "34")

    def caret(self, text: str) -> str:
        return self._paint(text, "1;31")


PLAIN = Style(False)


def finding_line(finding: Finding, fixable: bool = False, style: Style = PLAIN) -> str:
    """``path:line:col: CODE [*] message``; ``[*]`` when ``lossling fix`` applies the fix."""
    where = location(finding.path, finding.line, finding.col, finding.cell)
    mark = " " + style.mark(MARK) if fixable else ""
    return f"{style.path(where)}: {style.code(finding.code)}{mark} {finding.message}"


def error_line(result: FileResult) -> str:
    error = result.error
    assert error is not None
    # always ``path:line:col`` (a notebook: ``path:cell N:line:col``); 1:1 when no place is known, as in ruff
    line, col = (error.line, error.col or 0) if error.line else (1, 0)
    where = location(result.path, line, col, error.cell)
    return f"{where}: error: {error}"


def text(report: Report, style: Style = PLAIN) -> str:
    return "\n".join(finding_line(f, report.fixable(f), style) for f in report.findings)


def full(report: Report, style: Style = PLAIN) -> str:
    """Each finding's line, then the source lines it spans with carets under it, and the fix if there is one."""
    blocks = []
    files: dict[tuple[str, int | None], list[str] | None] = {}
    for finding in report.findings:
        key = (finding.path, finding.cell)
        if key not in files:
            files[key] = _source_lines(finding.path, finding.cell, report.sources)
        block = [finding_line(finding, report.fixable(finding), style)]
        lines = files[key]
        if lines is not None and 0 < finding.line <= len(lines):
            block += _excerpt(finding, lines, style)
        block += _fix_note(finding, report, style)
        blocks.append("\n".join(block))
    return "\n\n".join(blocks)


def _excerpt(finding: Finding, lines: list[str], style: Style) -> list[str]:
    span = finding.span
    last = min(span.end_line, len(lines), span.line + MAX_LINES - 1)
    width = len(str(last))
    bar = style.gutter(" " * width + " |")
    out = [bar]
    for number in range(span.line, last + 1):
        line = lines[number - 1]
        start = span.col if number == span.line else len(line) - len(line.lstrip())
        end = span.end_col if number == span.end_line else len(line)
        out.append(style.gutter(f"{number:>{width}} |") + " " + _expand(line))
        carets = max(1, _width(line[start:end]))
        out.append(f"{bar} {' ' * _width(line[:start])}{style.caret('^' * carets)}")
    if last < span.end_line:
        out.append(f"{bar} ... (to line {span.end_line})")
    return out


def _fix_note(finding: Finding, report: Report, style: Style) -> list[str]:
    fix = finding.fix
    if fix is None:
        return []
    bar = style.gutter("  =")
    how = "fix" if report.fixable(finding) else "unsafe fix (lossling fix --unsafe-fixes)"
    edits = fix.edits
    if fix.title:
        return [f"{bar} {how}: {fix.title}"]
    if len(edits) == 1 and "\n" not in edits[0].text:
        return [f"{bar} {how}: {edits[0].text}"]
    return [f"{bar} {how}: {len(edits)} edit{'s' * (len(edits) != 1)}"]


def _expand(line: str) -> str:
    return line.replace("\t", "    ")


def _width(text: str) -> int:
    """Terminal columns of ``text`` as ``_expand`` shows it: wide East Asian characters take two."""
    return sum(4 if c == "\t" else 2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c)
               else 1 for c in text)


def _source_lines(path: str, cell: int | None, sources: dict[str, str]) -> list[str] | None:
    """The lines of a file (a notebook: of its cell) as the finding counts them, or None if it cannot be read."""
    try:
        if path in sources:
            text = sources[path]
        elif cell is None:
            with open(path, "rb") as handle:
                text = PythonSource.from_bytes(handle.read(), path).source
        else:
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8-sig")
        if cell is not None:
            source = json.loads(text)["cells"][cell - 1]["source"]
            text = source if isinstance(source, str) else "".join(source)
    except (OSError, SourceError, ValueError, KeyError, IndexError, TypeError):
        return None
    return _LINE_END.split(text)

"""Checking Python text: decode, parse once, build the semantic view, run the rules, suppress, sort.

``analyze`` is the part the flake8 plugin shares (it already holds the tree); ``check_source`` adds parsing,
``# lossling: skip-file`` and ``# noqa``. Both take the rules to run as an argument and return ``Checked``: the
findings and the project files their values were inferred from. Files, notebooks, fixing and writing are
``document.py``'s.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from dataclasses import dataclass, field

from .finding import Finding
from .rule import Rule
from .semantic.module import Module, split_lines
from .suppression import noqa_codes, skips_file, suppressed
from .tables import summarized

_NEWLINE = re.compile(r"\r\n|\r|\n")  # the line ends ast counts


class SourceError(Exception):
    """A file that cannot be checked: unreadable, undecodable, or not valid Python. The message says why; ``line``
    (1-based) and ``col`` (0-based) say where, when known, within notebook cell ``cell`` when that is set."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None,
                 cell: int | None = None, file_line: int | None = None) -> None:
        super().__init__(message)
        self.line, self.col, self.cell = line, col, cell
        self.file_line = file_line  # in a cell: the line of the .ipynb file's own text (the JSON)


@dataclass
class Checked:
    """What checking a text found, and what the answer depends on besides the text and the rules: the other
    files of the project a value was inferred from (``from .config import EPS``)."""

    findings: list[Finding] = field(default_factory=list)
    deps: frozenset[str] = frozenset()


def parse(text: str) -> ast.Module:
    """``ast.parse``; a failure is a SourceError that says why and, when a place is known, where. The long tables
    of constants of a large file are summarized first (``tables``); if the summary does not parse, the file as it
    is says what is wrong."""
    summary = summarized(text)
    if summary is not text:
        try:
            return ast.parse(summary)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
    try:
        return ast.parse(text)
    except SyntaxError as error:
        where = (error.lineno, (error.offset or 1) - 1) if error.lineno else _nul(text)
        raise SourceError(f"syntax error: {error.msg}", *where) from None
    except (RecursionError, MemoryError):
        raise SourceError("cannot parse: too deeply nested") from None
    except ValueError as error:  # null bytes, before Python 3.11.4
        raise SourceError(f"cannot parse: {error}", *_nul(text)) from None


def _nul(text: str) -> tuple[int | None, int | None]:
    """Where the first NUL character is (Python reports no place for it), as ``ast`` counts lines."""
    index = text.find("\0")
    if index < 0:
        return None, None
    before = _NEWLINE.split(text[:index])
    return len(before), len(before[-1])


def active(rules: list[Rule], text: str) -> list[Rule]:
    """The rules whose trigger words occur in the text (the others cannot fire)."""
    searched: dict[str, bool] = {}  # each word searched once, and only until one of a rule's words is found
    return [rule for rule in rules if not rule.triggers or any(
        searched[t] if t in searched else searched.setdefault(t, t in text) for t in rule.triggers)]


def analyze(tree: ast.Module, text: str, path: str, rules: list[Rule]) -> Checked:
    """Run ``rules`` over a parsed file; one finding per root cause (see ``Rule.supersedes``), in source order."""
    rules = active(rules, text)
    if not rules:
        return Checked()
    findings: list[Finding] = []
    module = Module(tree, text, path)
    try:
        for rule in rules:
            findings.extend(rule.check(module))
    except RecursionError:
        raise SourceError("too deeply nested to check") from None
    finally:
        module.release()
    deps = frozenset(module.consulted) - {os.path.abspath(path)}
    return Checked(sorted(_dedupe(findings, rules), key=Finding.sort_key), deps)


def _dedupe(findings: list[Finding], rules: list[Rule]) -> list[Finding]:
    supersedes = {rule.code: rule.supersedes for rule in rules if rule.supersedes}
    covering = [f for f in findings if f.code in supersedes]  # only these can drop another finding
    if not covering:
        return findings
    kept = []
    for finding in findings:
        if not any(finding.code in supersedes[other.code] and other.span.contains(finding.span)
                   for other in covering if other is not finding):
            kept.append(finding)
    return kept


def check_source(text: str, path: str, rules: list[Rule]) -> Checked:
    """What ``rules`` find in the Python ``text`` of ``path`` that no ``# noqa`` silences. Raises SourceError
    when the text is not valid Python (or too deeply nested to walk)."""
    tree = parse(text)
    if skips_file(text):
        return Checked()
    checked = analyze(tree, text, path, rules)
    if checked.findings and "noqa" in text.lower():
        checked.findings = unsuppressed(checked.findings, text)
    return checked


def unsuppressed(findings: list[Finding], text: str) -> list[Finding]:
    """Drop findings silenced by ``# noqa`` on the reported line (or, as in flake8, on any line of a backslash
    continuation or a multi-line string that line is part of)."""
    lines = split_lines(text)
    ranges = noqa_groups(text)
    kept = []
    for finding in findings:
        first, last = ranges.get(finding.line, (finding.line, finding.line))
        codes = noqa_codes("\n".join(lines[first - 1:last]))
        if not suppressed(finding.code, codes):
            kept.append(finding)
    return kept


def noqa_groups(text: str) -> dict[int, tuple[int, int]]:
    """Physical line -> the first and last line searched for its ``# noqa``, mapped as flake8 maps them: lines
    run from one NL/NEWLINE token to the next, so a bracketed statement's lines stay apart while a backslash
    continuation or a multi-line string joins its lines."""
    ranges: dict[int, tuple[int, int]] = {}
    first, last = None, 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first = token.start[0] if first is None else min(first, token.start[0])
            last = max(last, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                for line in range(first, last + 1):
                    ranges[line] = (first, last)
                first, last = None, 0
    except (tokenize.TokenError, SyntaxError):
        pass
    return ranges


def internal_error(error: BaseException) -> SourceError:
    return SourceError(f"internal error, please report it: {type(error).__name__}: {error}")

"""The path of a finding: read, parse once, build the semantic view, run the rules, suppress, sort.

``analyze`` is the part the flake8 plugin shares (it already holds the tree); ``check_source`` adds parsing and
``# noqa``; ``check_file`` adds reading bytes, with every failure turned into a message that names the file.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass, field

from .config import Settings
from .finding import Finding
from .rule import Rule
from .semantic.module import Module, split_lines
from .suppression import noqa_codes, skips_file, suppressed


class SourceError(Exception):
    """A file that cannot be checked: unreadable, undecodable, or not valid Python. The message says why."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None) -> None:
        super().__init__(message)
        self.line, self.col = line, col


@dataclass
class Source:
    """A decoded file, with what is needed to write it back exactly: its encoding and BOM."""

    text: str
    encoding: str = "utf-8"
    bom: bool = False

    def encode(self, text: str) -> bytes:
        data = text.encode(self.encoding)
        return (b"\xef\xbb\xbf" + data) if self.bom else data


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    error: SourceError | None = None


def decode(data: bytes) -> Source:
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
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1)
        hint = "" if encoding != "utf-8" else " and there is no PEP 263 coding cookie"
        raise SourceError(f"cannot decode: byte 0x{data[error.start]:02x} is not valid {encoding}{hint}",
                          line, column) from None
    return Source(text, "utf-8" if bom else encoding, bom)


def read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None


def read(path: str) -> Source:
    return decode(read_bytes(path))


def parse(text: str) -> ast.Module:
    try:
        return ast.parse(text)
    except SyntaxError as error:
        raise SourceError(f"syntax error: {error.msg}", error.lineno, (error.offset or 1) - 1) from None
    except (RecursionError, MemoryError):
        raise SourceError("cannot parse: too deeply nested") from None
    except ValueError as error:  # null bytes, before Python 3.11.4
        raise SourceError(f"cannot parse: {error}") from None


def active(rules: list[Rule], text: str) -> list[Rule]:
    """The rules whose trigger words occur in the text (the others cannot fire)."""
    present = {t for t in {t for rule in rules for t in rule.triggers} if t in text}  # each word searched once
    return [rule for rule in rules if not rule.triggers or not present.isdisjoint(rule.triggers)]


def analyze(tree: ast.Module, text: str, path: str, rules: list[Rule]) -> list[Finding]:
    """Run ``rules`` over a parsed file; one finding per root cause (see ``Rule.supersedes``), in source order."""
    rules = active(rules, text)
    if not rules:
        return []
    findings: list[Finding] = []
    try:
        module = Module(tree, text, path)
        for rule in rules:
            findings.extend(rule.check(module))
    except RecursionError:
        raise SourceError("too deeply nested to check") from None
    return sorted(_dedupe(findings, rules), key=Finding.sort_key)


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


def check_source(text: str, path: str, settings: Settings) -> list[Finding]:
    """Findings in ``text`` that the settings enable and no ``# noqa`` silences. Raises SourceError."""
    tree = parse(text)
    if skips_file(text):
        return []
    findings = analyze(tree, text, path, settings.rules(path))
    return unsuppressed(findings, text) if findings and "noqa" in text.lower() else findings


def unsuppressed(findings: list[Finding], text: str) -> list[Finding]:
    """Drop findings silenced by ``# noqa`` on the reported line (or, as in flake8, on any line of a backslash
    continuation or a multi-line string that line is part of)."""
    lines = split_lines(text)
    ranges = _noqa_lines(text)
    kept = []
    for finding in findings:
        first, last = ranges.get(finding.line, (finding.line, finding.line))
        codes = noqa_codes("\n".join(lines[first - 1:last]))
        if not suppressed(finding.code, codes):
            kept.append(finding)
    return kept


def _noqa_lines(text: str) -> dict[int, tuple[int, int]]:
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


def check_file(path: str, settings: Settings) -> FileResult:
    """Check one file on disk; a failure becomes ``FileResult.error``, never an exception."""
    if path.endswith(".ipynb"):
        from .notebook import check_notebook

        return check_notebook(path, settings)
    try:
        return check_data(path, read_bytes(path), settings)
    except SourceError as error:
        return FileResult(path, error=error)


def check_data(path: str, data: bytes, settings: Settings) -> FileResult:
    """Check the bytes of a Python file read from ``path``; a failure becomes ``FileResult.error``."""
    try:
        return FileResult(path, check_source(decode(data).text, path, settings))
    except SourceError as error:
        return FileResult(path, error=error)
    except Exception as error:  # a bug in a rule: report it with the file, and go on with the others
        return FileResult(path, error=internal_error(error))


def internal_error(error: Exception) -> SourceError:
    return SourceError(f"internal error, please report it: {type(error).__name__}: {error}")

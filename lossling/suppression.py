"""``# noqa`` comments and ``# lossling: skip-file``, read the way flake8 reads them."""

from __future__ import annotations

import io
import re
import tokenize

# flake8's own pattern, so that a comment means the same to both: "# noqa", "# noqa: A1,B2", "# NOQA:A1 B2".
# Codes that are not LOSS codes are kept, so that "# noqa: E501" on a line does not silence lossling.
NOQA = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
SKIP_FILE = re.compile(r"^\s*#\s*lossling:\s*skip-file\b", re.MULTILINE)


def skips_file(source: str) -> bool:
    """Whether a comment on a line of its own says ``# lossling: skip-file``. The text search is only a
    prefilter: the line must be a real comment token, not a line inside a docstring or another string."""
    if "skip-file" not in source:  # a plain search for the literal first: the regex tries every line
        return False
    candidates = {source.count("\n", 0, match.end()) + 1 for match in SKIP_FILE.finditer(source)}
    if not candidates:
        return False
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            line, col = token.start
            if token.type == tokenize.COMMENT and line in candidates and not token.line[:col].strip():
                return True
    except (tokenize.TokenError, SyntaxError):  # a file that tokenize cannot finish is not checked anyway
        pass
    return False


def noqa_codes(line: str) -> frozenset[str] | None:
    """None when the line has no noqa; an empty set for a bare ``# noqa``; else the codes it names."""
    if "noqa" not in line.lower():
        return None
    match = NOQA.search(line)
    if match is None:
        return None
    codes = match.group("codes")
    return frozenset(c.upper() for c in CODE.findall(codes)) if codes else frozenset()


def suppressed(code: str, codes: frozenset[str] | None) -> bool:
    """flake8's semantics: a bare noqa silences everything, a listed code (or a prefix of it) silences that code."""
    if codes is None:
        return False
    return not codes or any(code.startswith(c) for c in codes)


def with_code(line: str, code: str) -> str | None:
    """``line`` with ``code`` added to the codes of its ``# noqa: ...``; None when it has no noqa naming codes
    (a bare ``# noqa`` already silences everything)."""
    match = NOQA.search(line) if "noqa" in line.lower() else None
    if match is None or not match.group("codes"):
        return None
    end = match.start("codes") + len(match.group("codes").rstrip(", \t\r\n"))
    return f"{line[:end]}, {code}{line[end:]}"

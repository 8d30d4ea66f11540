"""``lossling check --add-noqa``: a ``# noqa: LOSSnnn`` comment for every finding, so that a code base can adopt
lossling at once and fix its findings later.

A comment goes where ``# noqa`` is read for the finding (``suppression``, as flake8 reads it): on the reported
line, or, when that line is part of a multi-line string or a backslash continuation, on the last line of it (the
only line of such a group where a comment can stand). A ``# noqa: E501`` already in that group gets the codes
added (``# noqa: E501, LOSS102``); a line with another comment gets the noqa after it. Nothing but comments is
written, the result must still parse, and running it again adds nothing.
"""

from __future__ import annotations

import io
from collections import defaultdict

from .config import Settings
from .engine import SourceError, _noqa_lines, check_source, internal_error, parse, read
from .finding import Finding
from .runner import FixOutcome
from .suppression import noqa_codes, with_code


def add_noqa_file(path: str, settings: Settings) -> FixOutcome:
    """Add the comments to one file and write it back; ``fixed`` are the findings silenced, ``remaining`` those
    a comment could not silence."""
    if path.endswith(".ipynb"):
        from .notebook import add_noqa_notebook

        return add_noqa_notebook(path, settings)
    try:
        source = read(path)
        findings = check_source(source.text, path, settings)
        text = with_noqa(source.text, findings)
        remaining = check_source(text, path, settings) if text != source.text else findings
        outcome = FixOutcome(path, source.text, text, [f for f in findings if f not in remaining], remaining)
        if outcome.changed:
            from .fixer import write_atomic

            write_atomic(path, source.encode(text))
        return outcome
    except SourceError as error:
        return FixOutcome(path, error=error)
    except UnicodeEncodeError as error:
        return FixOutcome(path, error=SourceError(f"cannot write the comments as {error.encoding}; left unchanged"))
    except OSError as error:
        return FixOutcome(path, error=SourceError(f"cannot write: {error.strerror or error}; left unchanged"))
    except Exception as error:  # a bug: report it with the file, and go on
        return FixOutcome(path, error=internal_error(error))


def with_noqa(text: str, findings: list[Finding]) -> str:
    """``text`` with the comments that silence ``findings`` (lines of ``text``). Raises SourceError if the result
    would not parse."""
    changes = noqa_lines(text, findings)
    if not changes:
        return text
    lines = io.StringIO(text, newline="").readlines()
    for number, body in changes.items():
        line = lines[number - 1]
        lines[number - 1] = body + line[len(line.rstrip("\r\n")):]
    new = "".join(lines)
    parse(new)  # only comments were added: a failure here is a bug, and nothing is written
    return new


def noqa_lines(text: str, findings: list[Finding]) -> dict[int, str]:
    """Line number -> that line's new text (without its line end), for every line that gets or extends a noqa.
    The lines searched for a finding's noqa are those the engine reads for it (``_noqa_lines``)."""
    groups = _noqa_lines(text)
    lines = io.StringIO(text, newline="").readlines()
    wanted: dict[int, set[str]] = defaultdict(set)
    for finding in findings:
        first, last = groups.get(finding.line, (finding.line, finding.line))
        named = [n for n in range(first, last + 1) if n <= len(lines) and noqa_codes(lines[n - 1])]
        wanted[named[0] if named else last].add(finding.code)
    changes = {}
    for number, codes in wanted.items():
        if number > len(lines):
            continue
        body = lines[number - 1].rstrip("\r\n")
        for code in sorted(codes):
            body = with_code(body, code) or f"{body.rstrip()}  # noqa: {code}"
        changes[number] = body
    return changes

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

from .document import Document, FixOutcome, failure, find, finish
from .engine import SourceError, noqa_groups, parse
from .finding import Finding
from .rule import Rule
from .runner import Target, read_target
from .suppression import noqa_codes, with_code


def add_noqa_file(target: Target) -> FixOutcome:
    """Add the comments to one file (a notebook: to its code cells' sources) and write it back."""
    try:
        _, document = read_target(target)
    except SourceError as error:
        return FixOutcome(target.path, error=error)
    return add_noqa_document(document, target.settings.rules(target.path), write=True)


def add_noqa_document(document: Document, rules: list[Rule], write: bool = False) -> FixOutcome:
    """The document with a comment silencing each finding of ``rules``, written back when ``write``; ``fixed``
    are the findings silenced, ``remaining`` those a comment could not silence. Never raises."""
    try:
        if document.skip:
            return finish(document, document, [], [], write)
        found = find(document, rules).findings
        changes = noqa_lines(document.source, found)
        current, remaining = document, found
        if changes:
            current = document.with_lines(changes)
            parse(current.source)  # only comments were added: a failure here is a bug, and nothing is written
            remaining = find(current, rules).findings
        silenced = [document.to_file(f) for f in found if f not in remaining]
        return finish(document, current, silenced, [current.to_file(f) for f in remaining], write, "comments")
    except Exception as error:
        return FixOutcome(document.path, error=failure(error, fixing=True))


def noqa_lines(text: str, findings: list[Finding]) -> dict[int, str]:
    """Line number -> that line's new text (without its line end), for every line that gets or extends a noqa.
    The lines searched for a finding's noqa are those the engine reads for it (``noqa_groups``)."""
    groups = noqa_groups(text)
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

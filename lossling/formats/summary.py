"""Counting a run's findings: the closing summary a person reads, and ``--statistics`` (per rule, what is
fixable), as text or JSON."""

from __future__ import annotations

import json
from collections import Counter

from .common import Report, rule_name
from .text import MARK


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def summary(report: Report) -> str:
    """``Found 9 findings; 7 fixable with `lossling fix`, 2 more with `--unsafe-fixes`.``, or ``All checks
    passed!``; files that could not be checked are counted too."""
    findings = report.findings
    errors = len(report.errors)
    if not findings and not errors:
        return "All checks passed!"
    fixable = sum(map(report.fixable, findings))
    unsafe = sum(map(report.unsafe_only, findings))
    parts = []
    if fixable:
        parts.append(f"{fixable} fixable with `lossling fix`")
    if unsafe:
        parts.append(f"{unsafe} more with `--unsafe-fixes`" if fixable else
                     f"{unsafe} fixable with `lossling fix --unsafe-fixes`")
    if errors:
        parts.append(f"{_plural(errors, 'file')} could not be checked")
    return f"Found {_plural(len(findings), 'finding')}" + ("; " + ", ".join(parts) if parts else "") + "."


def _rows(report: Report) -> list[dict]:
    """Per rule, most frequent first: its count, how many ``lossling fix`` fixes, and how many more
    ``--unsafe-fixes`` would."""
    counts: Counter[str] = Counter()
    fixable: Counter[str] = Counter()
    unsafe: Counter[str] = Counter()
    for finding in report.findings:
        counts[finding.code] += 1
        fixable[finding.code] += report.fixable(finding)
        unsafe[finding.code] += report.unsafe_only(finding)
    return [{"code": code, "name": rule_name(code), "count": counts[code], "fixable": fixable[code],
             "unsafe_fixable": unsafe[code]} for code in sorted(counts, key=lambda c: (-counts[c], c))]


def statistics_text(report: Report) -> str:
    """``count code [*] name`` per rule; ``[*]`` when ``lossling fix`` fixes some of them."""
    rows = _rows(report)
    width = max((len(str(row["count"])) for row in rows), default=1)
    return "\n".join(f"{row['count']:>{width}}  {row['code']}  {MARK if row['fixable'] else ' ' * len(MARK)} "
                     f"{row['name'] or ''}".rstrip() for row in rows)


def statistics_json(report: Report, lines: bool = False) -> str:
    """The rows as one JSON array, or (``lines``) one compact object per line."""
    if lines:
        return "\n".join(json.dumps(row, separators=(",", ":")) for row in _rows(report))
    return json.dumps(_rows(report), indent=2)

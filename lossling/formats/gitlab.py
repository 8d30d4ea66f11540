"""GitLab's code quality report (a JSON array of issues, for the merge request widget): each finding with a
description, its rule as check name, a severity and a location, and a fingerprint that identifies it across
runs, so GitLab can tell new findings from fixed ones."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from ..finding import Finding
from .common import Report, severity, shown

# GitLab's severities (info, minor, major, critical, blocker) for lossling's
SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}
COULD_NOT_CHECK = "LOSS000"  # the check name of a file lossling could not check, as in the flake8 plugin


def gitlab(report: Report) -> str:
    issues = []
    seen: Counter[tuple] = Counter()
    for finding in report.findings:
        description = f"{finding.code}: {finding.message}" + (f" (cell {finding.cell})" if finding.cell else "")
        issues.append({"description": description, "check_name": finding.code,
                       "fingerprint": _fingerprint(finding.path, finding.code, finding.message, seen, finding.cell),
                       "severity": SEVERITIES[severity(finding.code)],
                       "location": {"path": shown(finding.path), "positions": _positions(finding)}})
    for result in report.errors:
        assert result.error is not None
        message = str(result.error)
        issues.append({"description": f"could not be checked: {message}", "check_name": COULD_NOT_CHECK,
                       "fingerprint": _fingerprint(result.path, COULD_NOT_CHECK, message, seen),
                       "severity": "critical",
                       "location": {"path": shown(result.path), "lines": {"begin": result.error.line or 1}}})
    return json.dumps(issues, indent=2)


def _positions(finding: Finding) -> dict:
    span = finding.span
    return {"begin": {"line": span.line, "column": span.col + 1},
            "end": {"line": span.end_line, "column": span.end_col + 1}}


def _fingerprint(path: str, code: str, message: str, seen: Counter[tuple], cell: int | None = None) -> str:
    """A hash of the path, the rule, the message and which of the same ones in that file this is: not of the line,
    so a finding keeps its fingerprint when lines above it are added or removed."""
    key = (shown(path), code, message, cell)
    seen[key] += 1
    return hashlib.sha256(json.dumps([*key, seen[key]]).encode()).hexdigest()[:32]

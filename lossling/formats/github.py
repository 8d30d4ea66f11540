"""GitHub Actions workflow commands (``::warning file=...::message``): findings show as annotations on a pull
request."""

from __future__ import annotations

from ..finding import Finding
from .common import Report, severity, shown

# workflow commands for lossling's severities
COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def github(report: Report) -> str:
    lines = [_finding(f) for f in report.findings]
    lines += [f"::error file={_property(shown(r.path))},line={r.error.line or 1}::{_escape(str(r.error))}"
              for r in report.errors if r.error is not None]
    return "\n".join(lines)


def _finding(finding: Finding) -> str:
    return (f"::{COMMANDS[severity(finding.code)]} file={_property(shown(finding.path))},line={finding.line},"
            f"col={finding.col + 1},endLine={finding.span.end_line},endColumn={finding.span.end_col + 1},"
            f"title={finding.code}::{_escape(finding.code + ' ' + finding.message)}")


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")

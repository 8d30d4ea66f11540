"""GitHub Actions workflow commands (``::warning file=...::message``): findings show as annotations on a pull
request."""

from __future__ import annotations

from ..engine import SourceError
from ..finding import Finding
from .common import Report, severity, shown

# workflow commands for lossling's severities
COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def github(report: Report) -> str:
    lines = [_finding(f) for f in report.findings]
    lines += [_error(r.path, r.error) for r in report.errors if r.error is not None]
    return "\n".join(lines)


def _finding(finding: Finding) -> str:
    """A notebook's finding is placed on the lines of the .ipynb file (what a pull request shows), and its
    message names the cell and the line within it."""
    span, text = finding.span, f"{finding.code} {finding.message}"
    if finding.file_span is not None:
        span, text = finding.file_span, f"cell {finding.cell}:{finding.line}:{finding.col + 1}: {text}"
    return (f"::{COMMANDS[severity(finding.code)]} file={_property(shown(finding.path))},line={span.line},"
            f"col={span.col + 1},endLine={span.end_line},endColumn={span.end_col + 1},"
            f"title={finding.code}::{_escape(text)}")


def _error(path: str, error: SourceError) -> str:
    line, text = error.line or 1, str(error)
    if error.cell is not None:
        line = error.file_line or 1
        text = f"cell {error.cell}" + (f":{error.line}:{(error.col or 0) + 1}" if error.line else "") + f": {text}"
    return f"::error file={_property(shown(path))},line={line}::{_escape(text)}"


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")

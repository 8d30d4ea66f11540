"""Output for tools: ``json`` (one document) and ``json-lines`` (one object per line, for streaming)."""

from __future__ import annotations

import json

from ..document import FileResult
from ..finding import Finding
from ..textedits import TextEdit
from .common import Report, fix_title, rule_name, severity, shown


def finding_object(finding: Finding, report: Report) -> dict:
    entry = {"path": shown(finding.path), "line": finding.line, "column": finding.col + 1,
             "end_line": finding.span.end_line, "end_column": finding.span.end_col + 1,
             "code": finding.code, "name": rule_name(finding.code), "message": finding.message,
             "severity": severity(finding.code), "fixable": report.fixable(finding), "fix": _fix(finding, report)}
    if finding.cell is not None:
        entry["cell"] = finding.cell
    return entry


def error_object(result: FileResult) -> dict:
    error = result.error
    assert error is not None
    column = None if error.line is None else (error.col or 0) + 1
    entry = {"path": shown(result.path), "line": error.line, "column": column, "message": str(error)}
    if error.cell is not None:
        entry["cell"] = error.cell
    return entry


def _fix(finding: Finding, report: Report) -> dict | None:
    """The fix: its safety, title and every text edit it makes, the added import included (1-based lines and
    code-point columns, end exclusive; in a notebook, each edit names its cell)."""
    edits = report.edits(finding)
    if finding.fix is None or edits is None:
        return None
    return {"safety": finding.fix.safety.value, "title": fix_title(finding.fix), "edits": [_edit(e) for e in edits]}


def _edit(edit: TextEdit) -> dict:
    entry: dict = {"line": edit.span.line, "column": edit.span.col + 1, "end_line": edit.span.end_line,
                   "end_column": edit.span.end_col + 1, "content": edit.text}
    if edit.cell is not None:
        entry["cell"] = edit.cell
    return entry


def json_document(report: Report) -> str:
    return json.dumps({"findings": [finding_object(f, report) for f in report.findings],
                       "errors": [error_object(r) for r in report.errors]}, indent=2)


def json_lines(report: Report) -> str:
    """One compact object per line: ``"type": "finding"`` with the fields of ``json``'s findings, or
    ``"type": "error"`` with those of its errors."""
    lines = [{"type": "finding", **finding_object(f, report)} for f in report.findings]
    lines += [{"type": "error", **error_object(r)} for r in report.errors]
    return "\n".join(json.dumps(line, separators=(",", ":")) for line in lines)

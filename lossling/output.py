"""Printing findings: text for people, JSON for tools, SARIF 2.1.0 for code scanning, GitHub annotations."""

from __future__ import annotations

import difflib
import json
import os
import urllib.parse
from collections import Counter
from pathlib import Path, PurePath
from typing import Iterable

from . import __version__
from .engine import FileResult
from .finding import Finding
from .rule import rule_by_code

FORMATS = ("text", "json", "sarif", "github")


def location(path: str, line: int, col: int, cell: int | None = None) -> str:
    """``path:line:col`` with a 1-based column (flake8's convention); notebooks name the cell."""
    where = f"{path}:cell {cell}" if cell is not None else path
    return f"{where}:{line}:{col + 1}"


def text_line(finding: Finding) -> str:
    return f"{location(finding.path, finding.line, finding.col, finding.cell)}: {finding.code} {finding.message}"


def error_line(result: FileResult) -> str:
    error = result.error
    where = result.path if error.line is None else location(result.path, error.line, error.col or 0)
    return f"{where}: error: {error}"


def render(results: list[FileResult], fmt: str) -> str:
    findings = [f for r in results for f in r.findings]
    errors = [r for r in results if r.error is not None]
    if fmt == "json":
        return json.dumps({"findings": [_json(f) for f in findings],
                           "errors": [_json_error(r) for r in errors]}, indent=2)
    if fmt == "sarif":
        return json.dumps(_sarif(findings, errors), indent=2)
    if fmt == "github":
        lines = [_github(f) for f in findings]
        lines += [f"::error file={_escape_property(r.path)},line={r.error.line or 1}::{_escape(str(r.error))}"
                  for r in errors]
        return "\n".join(lines)
    return "\n".join(text_line(f) for f in findings)


def unified_diff(before: str, after: str, path: str) -> str:
    """A unified diff of a file's fix, marking a last line without newline the way ``diff`` does."""
    lines = []
    for line in difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), path, path):
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def statistics(findings: Iterable[Finding]) -> str:
    rules = rule_by_code()
    counts = Counter(f.code for f in findings)
    return "\n".join(f"{counts[code]:>6} {code} {rules[code].name if code in rules else ''}".rstrip()
                     for code in sorted(counts))


def _fix_field(finding: Finding) -> dict | None:
    if finding.fix is None:
        return None
    return {"safety": finding.fix.safety.value,
            "edits": [{"line": e.span.line, "column": e.span.col + 1, "end_line": e.span.end_line,
                       "end_column": e.span.end_col + 1, "content": e.text} for e in finding.fix.edits]}


def _json(finding: Finding) -> dict:
    rule = rule_by_code().get(finding.code)
    entry = {"path": finding.path, "line": finding.line, "column": finding.col + 1,
             "end_line": finding.span.end_line, "end_column": finding.span.end_col + 1,
             "code": finding.code, "name": rule.name if rule else None, "message": finding.message,
             "fix": _fix_field(finding)}
    if finding.cell is not None:
        entry["cell"] = finding.cell
    return entry


def _json_error(result: FileResult) -> dict:
    return {"path": result.path, "line": result.error.line, "message": str(result.error)}


def _sarif(findings: list[Finding], errors: list[FileResult]) -> dict:
    rules = rule_by_code()
    codes = sorted(rules)
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for finding in findings:
        region = {"startLine": finding.line, "startColumn": finding.col + 1,
                  "endLine": finding.span.end_line, "endColumn": finding.span.end_col + 1}
        location_ = {"physicalLocation": {"artifactLocation": {"uri": _uri(finding.path)}, "region": region}}
        if finding.cell is not None:
            location_["properties"] = {"cell": finding.cell}
        results.append({"ruleId": finding.code, "ruleIndex": index.get(finding.code, 0), "level": "warning",
                        "message": {"text": finding.message}, "locations": [location_]})
    notifications = [{"level": "error", "message": {"text": str(r.error)},
                      "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(r.path)}}}]}
                     for r in errors]
    driver = {"name": "lossling", "version": __version__, "informationUri": "https://pypi.org/project/lossling/",
              "rules": [{"id": code, "name": rules[code].name,
                         "shortDescription": {"text": rules[code].summary},
                         "properties": {"fix": rules[code].fix_safety.value}} for code in codes]}
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results,
                      "invocations": [{"executionSuccessful": not errors,
                                       "toolExecutionNotifications": notifications}]}]}


def _uri(path: str) -> str:
    """A path as a SARIF URI: relative ones stay relative (code scanning resolves them against the repository)."""
    if os.path.isabs(path):
        return Path(path).as_uri()
    return urllib.parse.quote(PurePath(os.path.normpath(path)).as_posix())


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def _github(finding: Finding) -> str:
    return (f"::warning file={_escape_property(finding.path)},line={finding.line},col={finding.col + 1},"
            f"endLine={finding.span.end_line},endColumn={finding.span.end_col + 1},"
            f"title={finding.code}::{_escape(finding.code + ' ' + finding.message)}")

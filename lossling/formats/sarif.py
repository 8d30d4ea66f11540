"""SARIF 2.1.0, for GitHub code scanning and other SARIF viewers."""

from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import PurePath
from typing import Any

from .. import __version__
from ..finding import Fix
from ..pages import page_path, pages_folder
from ..rule import Rule, rule_by_code
from ..textedits import TextEdit
from .common import Report, fix_title, severity

# SARIF's result levels for lossling's severities
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def sarif(report: Report) -> str:
    rules = rule_by_code()
    codes = sorted(rules)
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for finding in report.findings:
        region = {"startLine": finding.line, "startColumn": finding.col + 1,
                  "endLine": finding.span.end_line, "endColumn": finding.span.end_col + 1}
        place: dict = {"physicalLocation": {"artifactLocation": {"uri": uri(finding.path)}, "region": region}}
        if finding.cell is not None:
            place["properties"] = {"cell": finding.cell}
        result: dict[str, Any] = {"ruleId": finding.code, "level": LEVELS[severity(finding.code)],
                                  "message": {"text": finding.message}, "locations": [place]}
        if finding.code in index:
            result["ruleIndex"] = index[finding.code]
        edits = report.edits(finding)
        if finding.fix is not None and edits is not None:
            result["fixes"] = [_fix(finding.fix, edits, uri(finding.path))]
        results.append(result)
    notifications = [{"level": "error", "message": {"text": str(r.error)},
                      "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(r.path)}}}]}
                     for r in report.errors]
    driver: dict = {"name": "lossling", "version": __version__, "rules": [_rule(rules[code]) for code in codes]}
    folder = pages_folder()
    if folder is not None:
        driver["informationUri"] = folder.as_uri()
    document = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
                "runs": [{"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results,
                          "invocations": [{"executionSuccessful": not report.errors,
                                           "toolExecutionNotifications": notifications}]}]}
    return json.dumps(document, indent=2)


def _fix(fix: Fix, edits: list[TextEdit], where: str) -> dict:
    """A SARIF fix: every replacement of the file that ``lossling fix`` makes for the finding, the added import
    included (in a notebook, each replacement names its cell in its properties)."""
    replacements = []
    for edit in edits:
        replacement: dict[str, Any] = {
            "deletedRegion": {"startLine": edit.span.line, "startColumn": edit.span.col + 1,
                              "endLine": edit.span.end_line, "endColumn": edit.span.end_col + 1},
            "insertedContent": {"text": edit.text}}
        if edit.cell is not None:
            replacement["properties"] = {"cell": edit.cell}
        replacements.append(replacement)
    return {"description": {"text": fix_title(fix)}, "properties": {"safety": fix.safety.value},
            "artifactChanges": [{"artifactLocation": {"uri": where}, "replacements": replacements}]}


def _rule(rule: type[Rule]) -> dict:
    """A rule's descriptor. Its help is the rule page itself (Markdown), so a viewer on another machine shows it
    too; helpUri is the page's file on the machine that made the report (lossling has no public site)."""
    entry: dict[str, Any] = {
        "id": rule.code, "name": rule.name, "shortDescription": {"text": rule.summary},
        "defaultConfiguration": {"level": LEVELS[getattr(rule, "severity", "warning")]},
        "properties": {"fix": rule.fix_safety.value}}
    page = page_path(rule.code)
    if page is not None:
        entry["helpUri"] = page.as_uri()
        entry["help"] = {"text": rule.summary, "markdown": page.read_text(encoding="utf-8")}
    return entry


def uri(path: str) -> str:
    """A path as a SARIF URI: relative ones stay relative (code scanning resolves them against the repository).
    The path's bytes are percent-encoded, so a file name that is not UTF-8 keeps its exact bytes."""
    if os.path.isabs(path):
        return PurePath(path).as_uri()  # quotes the path's bytes (os.fsencode) itself
    return urllib.parse.quote(os.fsencode(PurePath(os.path.normpath(path)).as_posix()))

"""The output formats of ``lossling check``, by name; each module holds one kind of output.

``text`` and ``full`` are for people (coloured on a terminal, followed by a summary on standard error); the others
are for tools and carry nothing but the report. Every format gets a ``Report`` and returns the text to print.
"""

from __future__ import annotations

from typing import Callable

from .common import Report, location, severity, shown
from .diff import unified_diff
from .github import github
from .gitlab import gitlab
from .json_formats import json_document, json_lines
from .junit import junit
from .sarif import sarif
from .summary import statistics_json, statistics_text, summary
from .text import PLAIN, Style, error_line, finding_line, full, text

FOR_PEOPLE = ("text", "full")
FOR_TOOLS: dict[str, Callable[[Report], str]] = {
    "json": json_document, "json-lines": json_lines, "sarif": sarif, "github": github, "gitlab": gitlab,
    "junit": junit}
FORMATS = (*FOR_PEOPLE, *FOR_TOOLS)


def render(report: Report, fmt: str, style: Style = PLAIN) -> str:
    if fmt == "text":
        return text(report, style)
    if fmt == "full":
        return full(report, style)
    return FOR_TOOLS[fmt](report)


def statistics(report: Report, fmt: str) -> str:
    """``--statistics``: JSON for the JSON formats, else a text table."""
    if fmt in ("json", "json-lines"):
        return statistics_json(report, lines=fmt == "json-lines")
    return statistics_text(report)


__all__ = ["FORMATS", "FOR_PEOPLE", "PLAIN", "Report", "Style", "error_line", "finding_line", "location", "render",
           "severity", "shown", "statistics", "summary", "unified_diff"]

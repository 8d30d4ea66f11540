"""Unified diffs of fixes (``lossling fix --diff``)."""

from __future__ import annotations

import difflib


def unified_diff(before: str, after: str, path: str) -> str:
    """A unified diff of a file's fix, marking a last line without newline the way ``diff`` does."""
    lines = []
    for line in difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), path, path):
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines)

"""The flake8 plugin: the same rules on the tree flake8 already parsed, configured by [tool.lossling] too.

flake8 6+ rejects ``ignore = LOSS101`` in its own config files (codes there must match ``[A-Z]{1,3}[0-9]{0,3}``),
so the plugin also honours select, ignore, per-file-ignores and rule options from the nearest
``[tool.lossling]``. flake8's own --select/--extend-ignore/per-file-ignores and ``# noqa`` apply on top.
"""

from __future__ import annotations

import ast
import os
from typing import Iterator

from . import __version__
from .config import ConfigError, find_config, load
from .engine import SourceError, analyze
from .suppression import skips_file


class Plugin:
    name = "lossling"
    version = __version__

    def __init__(self, tree: ast.AST, lines: list[str], filename: str = "stdin") -> None:
        self.tree, self.lines, self.filename = tree, lines, filename

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        text = "".join(self.lines)
        if skips_file(text):
            return
        start = os.path.dirname(os.path.abspath(self.filename)) if self.filename not in ("stdin", "-") else "."
        try:
            settings = load(find_config(start))
        except ConfigError as error:
            yield 1, 0, f"LOSS000 {error}", type(self)
            return
        try:
            findings = analyze(self.tree, text, self.filename, settings.rules(self.filename))
        except SourceError as error:
            yield 1, 0, f"LOSS000 could not be checked: {error}", type(self)
            return
        for finding in findings:
            # flake8 adds 1 to the column a plugin yields: yield the 0-based one
            yield finding.line, finding.col, f"{finding.code} {finding.message}", type(self)

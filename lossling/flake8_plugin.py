"""The flake8 plugin: the same rules on the tree flake8 already parsed, configured by [tool.lossling] too.

flake8 6+ rejects ``ignore = LOSS101`` in its own config files (codes there must match ``[A-Z]{1,3}[0-9]{0,3}``),
so the plugin also honours select, ignore, per-file-ignores and rule options from the nearest
``[tool.lossling]``: that table decides which rules run; flake8's own --select/--extend-ignore/per-file-ignores
and ``# noqa`` then filter what they report.

A bad ``[tool.lossling]`` stops the flake8 run with the configuration error (as ``lossling check`` exits 2)
rather than becoming a finding that a --select or a ``# noqa`` could hide. A file the rules cannot walk (too
deeply nested) is reported as ``LOSS000`` on that file and the run goes on, as flake8 reports E902/E999.
"""

from __future__ import annotations

import ast
import os
from functools import lru_cache
from typing import Iterator

from . import __version__
from .config import ConfigError, Settings, find_config, load
from .collector import collector_paused
from .engine import SourceError, analyze
from .suppression import skips_file


class LosslingConfigError(ConfigError):
    """A bad [tool.lossling] seen by the plugin; flake8 prints its repr, so that repr is the plain message."""

    def __repr__(self) -> str:
        return f"lossling: bad configuration: {self}"


@lru_cache(maxsize=1024)
def settings_for(folder: str) -> Settings:
    """The settings of the nearest [tool.lossling] above ``folder``, looked up once per folder."""
    try:
        return load(find_config(folder))
    except ConfigError as error:
        raise LosslingConfigError(str(error)) from None


class Plugin:
    name = "lossling"
    version = __version__

    def __init__(self, tree: ast.Module, lines: list[str], filename: str = "stdin") -> None:
        self.tree, self.lines, self.filename = tree, lines, filename
        # flake8 turns an exception here into '<file>: "lossling[LOS]" failed during execution due to <repr>'
        # and stops with exit 1: a bad configuration cannot be filtered away.
        stdin = filename in ("stdin", "-")
        self.settings = settings_for(os.getcwd() if stdin else os.path.dirname(os.path.abspath(filename)))

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        text = "".join(self.lines)
        if skips_file(text):
            return
        try:
            with collector_paused():
                findings = analyze(self.tree, text, self.filename, self.settings.rules(self.filename)).findings
        except SourceError as error:
            yield 1, 0, f"LOSS000 could not be checked: {error}", type(self)
            return
        for finding in findings:
            # flake8 adds 1 to the column a plugin yields: yield the 0-based one
            yield finding.line, finding.col, f"{finding.code} {finding.message}", type(self)

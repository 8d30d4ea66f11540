"""What every output format shares: the findings of a run, how a path is shown, a finding's rule, severity,
whether ``lossling fix`` applies its fix, what the fix does and the text edits it makes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..discovery import kind_of
from ..document import Document, FileResult, PythonSource, read_document
from ..engine import SourceError
from ..files import read_bytes
from ..finding import Finding, Fix, Safety, applicable
from ..rule import rule_by_code
from ..textedits import TextEdit, fix_edits

SEVERITIES = ("error", "warning", "info")


@dataclass
class Report:
    """What a run hands to a format: every file's result, in path order."""

    results: list[FileResult]
    unsafe: frozenset[str] = frozenset()  # paths whose settings let ``lossling fix`` apply unsafe fixes
    sources: dict[str, str] = field(default_factory=dict)  # text of paths not on disk (standard input)
    documents: dict[str, Document] = field(default_factory=dict)  # the files fixes were read from, by path

    @property
    def findings(self) -> list[Finding]:
        return [finding for result in self.results for finding in result.findings]

    @property
    def errors(self) -> list[FileResult]:
        return [result for result in self.results if result.error is not None]

    def fixable(self, finding: Finding) -> bool:
        """Whether ``lossling fix`` applies the finding's fix, with the settings of its file."""
        return applicable(finding, finding.path in self.unsafe)

    def edits(self, finding: Finding) -> list[TextEdit] | None:
        """The text edits of the finding's fix, its added imports included: applied to the file, they give what
        ``lossling fix`` writes for this finding alone. None when the file can no longer be read or the fix
        cannot be made (``lossling fix`` would refuse it too)."""
        if finding.fix is None:
            return None
        try:
            if finding.path not in self.documents:
                self.documents[finding.path] = self._document(finding.path)
            return fix_edits(self.documents[finding.path], finding)
        except SourceError:
            return None

    def _document(self, path: str) -> Document:
        """The file as it was checked: its text from standard input, else read again."""
        kind = kind_of(path)
        if path in self.sources and kind is PythonSource:
            return PythonSource(path, self.sources[path])
        data = self.sources[path].encode("utf-8") if path in self.sources else read_bytes(path)
        return read_document(kind, data, path)

    def unsafe_only(self, finding: Finding) -> bool:
        """Whether the fix applies only once ``--unsafe-fixes`` is given."""
        return finding.fix is not None and finding.fix.safety is Safety.UNSAFE and not self.fixable(finding)


def fix_title(fix: Fix) -> str:
    """What a fix does, in a few words: the rule's own title for it, else the replacement it writes."""
    if fix.title:
        return fix.title
    if len(fix.edits) != 1:
        return f"Rewrite {len(fix.edits)} expressions"
    text = " ".join(fix.edits[0].text.split())
    return "Use " + (f"`{text}`" if len(text) <= 60 else f"`{text[:59]}…`")


def shown(path: str) -> str:
    """A path as text every format can carry. Python holds a file name that is not UTF-8 with lone surrogates
    (``\\udce9``), which UTF-8 output cannot encode; its bad bytes are shown as U+FFFD, as git and ruff show them."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "replace")


def location(path: str, line: int, col: int, cell: int | None = None) -> str:
    """``path:line:col`` with a 1-based column (flake8's convention); notebooks name the cell."""
    where = f"{shown(path)}:cell {cell}" if cell is not None else shown(path)
    return f"{where}:{line}:{col + 1}"


def rule_name(code: str) -> str | None:
    rule = rule_by_code().get(code)
    return rule.name if rule else None


def severity(code: str) -> str:
    """The rule's severity (``error``, ``warning`` or ``info``); findings of unknown codes are warnings."""
    rule = rule_by_code().get(code)
    return getattr(rule, "severity", "warning") if rule else "warning"

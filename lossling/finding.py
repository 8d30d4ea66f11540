"""What a rule reports: a finding at a span, with an optional fix made of edits."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Safety(str, Enum):
    """How far a fix can be trusted. ``SAFE`` fixes keep values and gradients on benign inputs; ``UNSAFE`` ones
    change values (an eps, a clamp, a semantic repair) and run only with ``--unsafe-fixes``."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    NONE = "none"


@dataclass(frozen=True, order=True)
class Span:
    """A source range: 1-based lines, 0-based character columns, end exclusive (like ``ast``)."""

    line: int
    col: int
    end_line: int
    end_col: int

    def contains(self, other: Span) -> bool:
        return (self.line, self.col) <= (other.line, other.col) and (other.end_line, other.end_col) <= (
            self.end_line, self.end_col)


@dataclass(frozen=True)
class Import:
    """An import a fix needs: ``import module as alias`` (name None) or ``from module import name as alias``."""

    module: str
    name: str | None = None
    alias: str | None = None


@dataclass(frozen=True)
class Edit:
    """Replace the expression at ``span`` with ``text`` (a Python expression). In a notebook's findings, ``cell``
    is the cell whose lines the span counts (an edit may lie in another cell than its finding)."""

    span: Span
    text: str
    cell: int | None = None


@dataclass(frozen=True)
class Fix:
    """Edits that remove a finding. ``title`` says what the fix does in a few words ("Use `log_softmax`"), set
    by the rule beside the edits, so no message or editor action has to read it back out of the edit text."""

    edits: tuple[Edit, ...]
    safety: Safety
    imports: tuple[Import, ...] = ()
    title: str = ""


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    span: Span
    fix: Fix | None = field(default=None, compare=False)
    path: str = ""
    cell: int | None = None  # notebooks: the cell's 1-based index among all cells; span lines are then the cell's
    # notebooks: where the span is in the .ipynb file's own text (the JSON), where a pull request shows it
    file_span: Span | None = field(default=None, compare=False)

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def col(self) -> int:
        return self.span.col

    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.span.line, self.span.col, self.code)


def applicable(finding: Finding, unsafe: bool) -> bool:
    """Whether ``fix`` applies the finding's fix: a safe one always, an unsafe one with ``--unsafe-fixes``."""
    fix = finding.fix
    return fix is not None and (fix.safety is Safety.SAFE or (unsafe and fix.safety is Safety.UNSAFE))

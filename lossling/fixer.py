"""Applying a pass of edits to Python text with libcst (the fix loop and the write are ``document.py``'s).

Each edit names the span of an expression and its replacement text. The fixer parses the top-level statements that
hold edits with libcst, finds each expression in that tree by position, swaps in the parsed replacement (keeping
the original's parentheses), adds the imports the fixes need once with libcst's ``AddImportsVisitor``, and checks
that the result still parses. Everything outside the rewritten expressions stays byte for byte: other lines are
not touched, and libcst keeps comments, whitespace and newline style.
"""

from __future__ import annotations

import ast
import bisect
import io
import re
from typing import Iterable, Mapping, Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from .engine import SourceError, parse
from .finding import Edit, Import

_BARE_CR = re.compile(r"\r(?!\n)")
_BARE_LF = re.compile(r"(?<!\r)\n")


def apply(text: str, edits: Iterable[Edit], imports: Iterable[Import] = ()) -> str:
    """One libcst pass: replace each edited expression (``edits`` do not overlap) and add the needed imports. Only
    the top-level statements that hold an edit go through libcst (its parser takes half a minute on a 5 MB file);
    other lines stay as they are. Raises SourceError when an edit is not where it says or not an expression."""
    try:
        if not _BARE_CR.search(text) or _BARE_LF.search(text):
            return _apply(text, list(edits), set(imports))
        # libcst keeps \n and \r\n line ends but not a bare \r (old Mac files): those lines end in \n while they
        # are rewritten (one character for another, so every span stays where it was), and in \r again after
        edits = [Edit(edit.span, _BARE_CR.sub("\n", edit.text)) for edit in edits]
        return _BARE_LF.sub("\r", _apply(_BARE_CR.sub("\n", text), edits, set(imports)))
    except cst.ParserSyntaxError as error:  # a rule built a replacement that is not an expression
        raise SourceError(f"internal error: a fix is not valid Python ({error.message}); left unchanged") from None


def _apply(text: str, edits: list[Edit], imports: set[Import]) -> str:
    blocks = _blocks(parse(text))
    starts = [start for start, _ in blocks]
    groups: dict[tuple[int, int], list[Edit]] = {}
    for edit in edits:
        index = bisect.bisect_right(starts, edit.span.line) - 1
        if index < 0 or edit.span.end_line > blocks[index][1]:
            raise SourceError(f"internal error: no statement at line {edit.span.line} to rewrite")
        groups.setdefault(blocks[index], []).append(edit)
    lines = io.StringIO(text, newline="").readlines()  # the lines ast counts: \n, \r\n and \r end one
    for (start, end), group in sorted(groups.items(), reverse=True):
        lines[start - 1:end] = [_rewrite("".join(lines[start - 1:end]), group, start - 1)]
    text = "".join(lines)
    if not imports:
        return text
    context = CodemodContext()
    for imp in sorted(imports, key=lambda i: (i.module, i.name or "", i.alias or "")):
        AddImportsVisitor.add_needed_import(context, imp.module, imp.name, imp.alias)
    return AddImportsVisitor(context).transform_module(_parse_module(text)).code


def _blocks(tree: ast.Module) -> list[tuple[int, int]]:
    """First and last line of each top-level statement (with its decorators); statements sharing a line (``a = 1;
    b = (``) form one block, so that a block is whole lines that parse on their own."""
    blocks: list[tuple[int, int]] = []
    for statement in tree.body:
        start = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", ())])
        end = statement.end_lineno or statement.lineno
        if blocks and start <= blocks[-1][1]:
            blocks[-1] = (blocks[-1][0], max(end, blocks[-1][1]))
        else:
            blocks.append((start, end))
    return blocks


def _parse_module(text: str, offset: int = 0) -> cst.Module:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise SourceError(f"libcst cannot parse: {error.message}", error.raw_line + offset, error.raw_column) from None


def _rewrite(chunk: str, edits: list[Edit], offset: int) -> str:
    """Apply ``edits`` (spans in file lines) to ``chunk``, the file's lines from ``offset + 1`` on."""
    tree = _parse_module(chunk, offset)
    keyed = {(e.span.line - offset, e.span.col, e.span.end_line - offset, e.span.end_col): e for e in edits}
    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
    replacer = _Replacer(keyed, wrapper.resolve(PositionProvider), tree.default_indent)
    tree = wrapper.module.visit(replacer)
    missing = set(keyed) - replacer.done
    if missing:
        line, col = sorted(missing)[0][:2]
        raise SourceError(f"internal error: no expression at {line + offset}:{col + 1} to rewrite")
    return tree.code


# Replacement expressions of these kinds bind as tightly as the call they usually replace.
_ATOMIC = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float, cst.SimpleString)
# Parents in which a looser replacement needs parentheses to keep its meaning.
_OPERATOR_PARENTS = (cst.BinaryOperation, cst.UnaryOperation, cst.BooleanOperation, cst.Comparison,
                     cst.ComparisonTarget, cst.Attribute, cst.Subscript, cst.Call, cst.Await)


def _bare(lpar: Sequence[cst.LeftParen], rpar: Sequence[cst.RightParen]) -> bool:
    """Parentheses that hold no comment and no line break, so dropping them loses nothing."""
    spaces = [p.whitespace_after for p in lpar] + [p.whitespace_before for p in rpar]
    return all(isinstance(w, cst.SimpleWhitespace) and not w.value for w in spaces)


class _Replacer(cst.CSTTransformer):
    def __init__(self, edits: dict[tuple[int, int, int, int], Edit], positions: Mapping[cst.CSTNode, CodeRange],
                 default_indent: str) -> None:
        super().__init__()
        self.edits, self.positions = edits, positions
        self.done: set[tuple[int, int, int, int]] = set()
        self.default_indent = default_indent
        self.stack: list[cst.CSTNode] = []

    def _parse(self, text: str) -> cst.BaseExpression:
        """Parse replacement text taken from the file. libcst re-adds the enclosing block's indentation to
        continuation lines, so it is taken off them first; the rewritten lines then stay where they were."""
        indent = "".join(self.default_indent if block.indent is None else block.indent
                         for block in self.stack if isinstance(block, cst.IndentedBlock))
        lines = text.split("\n")
        if indent and len(lines) > 1 and all(line.startswith(indent) or not line.strip() for line in lines[1:]):
            text = "\n".join([lines[0]] + [line[len(indent):] for line in lines[1:]])
        return cst.parse_expression(text)

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.stack.append(node)
        return True

    # returns a node of another type than the one it leaves (a replacement expression): hence the ignore
    def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        self.stack.pop()
        if isinstance(original, cst.BaseExpression):
            position = self.positions.get(original)
            if position is not None:
                key = (position.start.line, position.start.column, position.end.line, position.end.column)
                edit = self.edits.get(key)
                if edit is not None and key not in self.done:
                    self.done.add(key)
                    replacement = self._parse(edit.text)
                    lpar: Sequence[cst.LeftParen] = original.lpar
                    rpar: Sequence[cst.RightParen] = original.rpar
                    parent = self.stack[-1] if self.stack else None
                    if not lpar and not isinstance(replacement, _ATOMIC) and isinstance(parent, _OPERATOR_PARENTS):
                        lpar, rpar = [cst.LeftParen()], [cst.RightParen()]
                    elif isinstance(replacement, _ATOMIC) and _bare(lpar, rpar):
                        lpar, rpar = [], []  # (a - 1) became expm1(a): its grouping parentheses now group nothing
                    return replacement.with_changes(lpar=lpar, rpar=rpar)
        return updated

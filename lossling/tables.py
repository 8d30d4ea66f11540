"""Large tables of constants, summarized before a file is parsed into the tree the rules see.

A generated file may hold a table of a million numbers (weights, a lookup table, test vectors): as an ``ast`` tree
each number costs some 600 bytes, so a 20 MB table took 2 GB to parse. What the analysis reads of a literal is the
join of its elements (their kinds, the smallest and the largest, whether one is 0), so the tree keeps only the
rows that tell it, and the other rows of a long table become empty lines:

* a table is a run of at least ``MIN_ROWS`` lines each holding nothing but constants (numbers, plain strings,
  ``True``/``False``/``None``), commas, colons and brackets balanced within the line, and ending with a comma;
* every row is checked to be valid Python (parsed a batch of rows at a time, then let go), so a summary never hides
  a syntax error;
* the first and the last row stay, with the rows holding the smallest and the largest number, the first 0, and the
  first row of each kind of element.

Lines keep their numbers and kept rows their columns, so every node of the tree is where it is in the file, and
text taken from the file (a fix's replacement) is the file's own. Files under ``MIN_SIZE`` are never touched.
"""

from __future__ import annotations

import ast
import re

MIN_SIZE = 1_000_000  # characters: smaller files are parsed as they are
MIN_ROWS = 1000
_BATCH = 2000

_CONSTANT = (r"[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d[\d_]*)?[jJ]?"
             r"|'[^'\\\r\n]*'|\"[^\"\\\r\n]*\"|True|False|None")
# possessive: a row of digits is read one way, never backtracked into many
_ROW = re.compile(rf"(?:[ \t]|{_CONSTANT}|[,:\[\](){{}}])*+(?:#[^\r\n]*)?")
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def summarized(text: str) -> str:
    """``text`` with the rows of its long tables that tell nothing new made empty (``text`` itself if none)."""
    if len(text) < MIN_SIZE:
        return text
    lines = _LINES.findall(text)
    changed = False
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and _is_row(lines[end]):
            end += 1
        if end - start >= MIN_ROWS:
            for number in _dropped(lines, start, end):
                line = lines[number]
                lines[number] = line[len(line.rstrip("\r\n")):]
                changed = True
        start = end + 1
    return "".join(lines) if changed else text


def _is_row(line: str) -> bool:
    body = line.rstrip("\r\n")
    if not _ROW.fullmatch(body) or ("#" in body and ("'" in body or '"' in body)):
        return False  # (a # with quotes could be in a string or a comment: not worth telling apart)
    code = body.split("#", 1)[0]
    return code.rstrip().endswith(",") and all(code.count(a) == code.count(b) for a, b in ("[]", "()", "{}"))


def _dropped(lines: list[str], start: int, end: int) -> list[int]:
    """The rows of the table ``lines[start:end]`` that may be emptied: none of a batch that is not valid."""
    keep = {start, end - 1}
    smallest: tuple[float, int] | None = None
    largest: tuple[float, int] | None = None
    zero = False
    kinds: set[tuple[str, ...]] = set()
    valid: list[int] = []
    for first in range(start, end, _BATCH):
        rows = range(first, min(first + _BATCH, end))
        values = _values("".join(lines[i] for i in rows))
        if values is None:
            keep.update(rows)
            continue
        valid.extend(rows)
        for offset, row in values.items():
            number = first + offset
            kind = tuple(sorted({type(value).__name__ for value in row}))
            if kind not in kinds:
                kinds.add(kind)
                keep.add(number)
            for value in row:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                if smallest is None or value < smallest[0]:
                    smallest = (value, number)
                if largest is None or value > largest[0]:
                    largest = (value, number)
                if value == 0 and not zero:
                    zero = True
                    keep.add(number)
    keep.update(found[1] for found in (smallest, largest) if found is not None)
    return [number for number in valid if number not in keep]


def _values(rows: str) -> dict[int, list[object]] | None:
    """Row offset -> the constants on it, if the rows are valid elements of a list (or entries of a dict)."""
    for opening, closing in (("[", "]"), ("{", "}")):
        try:
            tree = ast.parse(f"{opening}\n{rows}\n{closing}", mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        found: dict[int, list[object]] = {}
        stack: list[ast.AST] = [tree.body]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Constant):
                found.setdefault(node.lineno - 2, []).append(node.value)
            elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
                stack.extend(node.elts)
            elif isinstance(node, ast.Dict):
                stack.extend(key for key in node.keys if key is not None)
                stack.extend(node.values)
            elif isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant) and isinstance(
                    node.operand.value, (int, float, complex)):
                value = node.operand.value
                found.setdefault(node.lineno - 2, []).append(-value if isinstance(node.op, ast.USub) else value)
            else:
                return None  # something other than constants: leave the rows as they are
        return found
    return None

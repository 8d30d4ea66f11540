"""Jupyter notebooks (``.ipynb``): check the code cells as one module, fix them, write back only changed sources.

Reading a notebook
    Only code cells are checked; markdown and raw cells are not. The code cells are joined top to bottom into one
    virtual module with a line map, so names flow between cells as when the notebook runs top to bottom:
    ``p = torch.sigmoid(z)`` in one cell and ``torch.log(p)`` in a later one is log-of-sigmoid.

    A finding names its cell as Jupyter and ruff count cells: the 1-based index among *all* cells, markdown and raw
    cells included (``nb.ipynb:cell 3:2:5: LOSS102 ...``); its line and column are within that cell. JSON and SARIF
    output carry the same cell number (``"cell"``) and cell-relative lines.

    IPython syntax is masked line by line so the rest of the cell is checked: line magics (``%timeit f()``),
    shell commands (``!pip install x``), help (``?obj``, ``obj?``, ``obj??``) and assignments from them
    (``files = !ls``, ``t = %timeit -o f()``), with their backslash continuations. Only lines that start a
    statement are masked, never text inside a string or brackets. A masked line is not checked. A cell whose
    first line is a cell magic (``%%bash``, ``%%writefile``) is skipped, except for the cell magics that run their
    body as Python in the kernel (``%%time``, ``%%timeit``, ``%%capture``, ``%%prun``, ``%%debug``), whose body
    is checked. A trailing ``;`` needs no masking: it is Python.

    ``# noqa`` works on a cell line as in a ``.py`` file. A whole notebook is skipped when its metadata says
    ``"lossling": {"skip": true}``, or when a code cell has a ``# lossling: skip-file`` line (as in a ``.py``
    file; put it in the first cell). Notebooks whose kernel language is not Python are skipped too.

    A notebook lossling cannot read safely gets a message and is left untouched byte for byte: text that is not
    UTF-8 JSON, nbformat other than 4, no ``cells`` list, a cell that is not an object or has no ``cell_type``,
    a code cell without ``source`` or whose ``source`` is neither a list of strings nor a string, and a code cell
    that is not valid Python once masked (the message names the cell). nbformat 4 allows a cell's source to be one
    string instead of a list of lines, and Jupyter opens such notebooks, so a string source is accepted: it is
    checked, and a fixed source stays one string.

Writing a fix
    Fixes run on each changed cell separately (libcst, as for ``.py`` files), so no fix crosses a cell boundary.
    An import a fix needs goes into the cell of the notebook's first top-level import (else the first code cell
    with code), after that cell's leading imports. Only the ``source`` values of the changed cells are replaced,
    in the original JSON text: outputs, execution counts, metadata, cell ids, the nbformat version and the layout
    (indentation, key order, trailing newline, line endings, escapes) stay byte for byte, so the git diff of a
    fixed notebook shows only the source change. A list source stays a list of lines in Jupyter's split (each
    line keeps its ``\\n``); lines that did not change keep their original JSON spelling, and new lines are
    encoded as the file encodes text (non-ASCII characters raw, or as ``\\u`` escapes when the file escapes them).

Why not nbformat
    ``nbformat.read`` joins each source list into one string and ``nbformat.write`` serializes the whole
    document its own way (indent 1, sorted keys, its own escaping), so a notebook saved by Colab (indent 2,
    unsorted keys), or one with a float or an escape written differently, would show unrelated changes in git.
    Its full schema validation would also refuse notebooks Jupyter opens for reasons that have nothing to do with
    code, and would add nbformat, jsonschema and traitlets to every install. So lossling reads the JSON itself,
    checks the fields it reads and writes, and edits the text in place; the tests validate the fixed notebooks
    with nbformat.
"""

from __future__ import annotations

import ast
import bisect
import io
import json
import re
import tokenize
from dataclasses import dataclass, replace
from typing import Sequence, Union

from .document import Document, byte_position, edits_and_imports, replace_lines
from .engine import SourceError, parse
from .finding import Edit, Finding, Span

# Cell magics that run their body as Python in the kernel's namespace: the body is checked.
PYTHON_CELL_MAGICS = frozenset({"capture", "debug", "prun", "time", "timeit"})

# Placeholders for masked lines: a comment at the top level (so a leading magic does not end the import block
# that imports are added to), ``pass`` inside a block (where a comment would leave the block empty).
_TOP = "#lossling-ipython"
_NESTED = "pass  " + _TOP

_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_HELP = re.compile(r"\?{1,2}\S.*|[^#'\"]*\S\?{1,2}")
_ASSIGN = re.compile(r"[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[!%]")
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()

Source = Union[list[str], str]  # a code cell's "source": a list of lines, or one string


@dataclass(frozen=True)
class _Cell:
    number: int  # 1-based index among all cells, as Jupyter shows it
    index: int  # 0-based position in the "cells" array
    text: str  # the source as one string
    masked: str  # the source with IPython lines replaced by placeholders
    hidden: tuple[str, ...]  # the masked lines' original text, in order


class Notebook(Document):
    """A notebook's code cells as one module (see the module docstring), and the JSON text they came from."""

    def __init__(self, path: str, text: str, bom: bool, cells: tuple[_Cell, ...], sources: dict[int, Source],
                 skip: bool) -> None:
        self.path = path
        self.json = text  # the JSON text, without a BOM
        self.bom = bom
        self.cells = cells  # the code cells to check, in order
        self.sources = sources  # cell index -> the original JSON value of its source (a list or a string)
        self.skip = skip
        self.virtual = _Virtual(cells)
        self.source = self.virtual.text
        self._locator: _Locator | None = None

    @classmethod
    def from_bytes(cls, data: bytes, path: str) -> Notebook:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise SourceError(f"not a notebook: byte 0x{data[error.start]:02x} is not valid UTF-8",
                              *byte_position(data, error.start)) from None
        bom = text.startswith("\ufeff")
        return _read(path, text[1:] if bom else text, bom)

    @classmethod
    def from_cells(cls, path: str, cells: Sequence[str | tuple[str, str]], metadata: object = None) -> Notebook:
        """A notebook held in memory (an editor's): code cells as strings, other cells as ``(cell_type, text)``,
        and the notebook's metadata (which may opt out, or name another language). Cells are numbered as given,
        so findings name the editor's cells."""
        def cell(value: str | tuple[str, str]) -> dict[str, object]:
            kind, text = value if isinstance(value, tuple) else ("code", value)
            entry: dict[str, object] = {"cell_type": kind, "metadata": {}, "source": text}
            if kind == "code":
                entry.update(execution_count=None, outputs=[])
            return entry

        document = {"cells": [cell(c) for c in cells], "metadata": metadata if isinstance(metadata, dict) else {},
                    "nbformat": 4, "nbformat_minor": 5}
        return _read(path, json.dumps(document, indent=1) + "\n", False)

    @property
    def code_cells(self) -> list[tuple[int, str]]:
        """Each checked code cell's number (1-based among all cells) and its current source."""
        return [(cell.number, cell.text) for cell in self.cells]

    def text(self) -> str:
        return _render(self)

    def render(self) -> bytes:
        return (("\ufeff" if self.bom else "") + self.text()).encode("utf-8")

    def to_file(self, finding: Finding) -> Finding:
        shown = self.virtual.to_cell(finding)
        index = self.cells[self.virtual.locate(finding.span.line)[0]].index
        span = shown.span
        start, end = self._place(index, span.line, span.col), self._place(index, span.end_line, span.end_col)
        return replace(shown, file_span=Span(*start, *end))

    def _place(self, index: int, line: int, col: int) -> tuple[int, int]:
        """Where line ``line``, column ``col`` of cell ``index``'s source is in the notebook's JSON text."""
        if self._locator is None:
            self._locator = _Locator(self.text())
        cell = next(cell for cell in self.cells if cell.index == index)
        return self._locator.place(index, cell.text, line, col)

    def from_file(self, finding: Finding) -> Finding:
        return self.virtual.from_cell(finding)

    def error_to_file(self, error: SourceError) -> SourceError:
        """A syntax error in the joined cells, reported in its cell: the first cell that does not parse on its
        own, else the cell of the error's line."""
        for cell in self.cells:
            try:
                parse(cell.masked)
            except SourceError as own:
                return _in_cell(own, cell, self)
        if error.line is None:
            return error
        position, offset = self.virtual.locate(error.line)
        return _in_cell(SourceError(str(error), error.line - offset, error.col), self.cells[position], self)

    def fixed(self, findings: list[Finding]) -> Notebook:
        return self._with_cells(_apply(self.cells, self.virtual, findings))

    def with_lines(self, changes: dict[int, str]) -> Notebook:
        by_cell: dict[int, dict[int, str]] = {}
        for number, body in changes.items():
            position, offset = self.virtual.locate(number)
            by_cell.setdefault(position, {})[number - offset] = body
        cells = list(self.cells)
        for position, mine in by_cell.items():  # masked lines are lines of the text too, one for one
            cell = cells[position]
            cells[position] = replace(cell, text=replace_lines(cell.text, mine),
                                      masked=replace_lines(cell.masked, mine))
        return self._with_cells(tuple(cells))

    def _with_cells(self, cells: tuple[_Cell, ...]) -> Notebook:
        return Notebook(self.path, self.json, self.bom, cells, self.sources, self.skip)


# Reading ---------------------------------------------------------------------------------------------------------

def _read(path: str, text: str, bom: bool) -> Notebook:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(f"not a notebook: invalid JSON: {error.msg}", error.lineno, error.colno - 1) from None
    except RecursionError:  # json.loads recurses once per level of brackets
        raise SourceError("not a notebook: the JSON is nested too deeply to read") from None
    if not isinstance(document, dict):
        raise SourceError("not a notebook: the JSON is not an object")
    version = document.get("nbformat")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SourceError("not a notebook: no 'nbformat' version")
    if version != 4:
        raise SourceError(f"nbformat {version} is not supported, only nbformat 4 "
                          "(upgrade it with `jupyter nbconvert --to notebook --inplace`)")
    raw_cells = document.get("cells")
    if not isinstance(raw_cells, list):
        raise SourceError("not a notebook: no 'cells' list")
    cells: list[_Cell] = []
    sources: dict[int, Source] = {}
    for index, cell in enumerate(raw_cells):
        number = index + 1
        if not isinstance(cell, dict):
            raise SourceError(f"cell {number} is not a JSON object")
        if not isinstance(cell.get("cell_type"), str):
            raise SourceError(f"cell {number} has no 'cell_type'")
        if cell["cell_type"] != "code":
            continue
        if "source" not in cell:
            raise SourceError(f"cell {number} has no 'source'")
        source = cell["source"]
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            joined = "".join(source)
        elif isinstance(source, str):
            joined = source
        else:
            raise SourceError(f"cell {number}: 'source' must be a list of strings or a string")
        sources[index] = source
        masked = _mask(joined)
        if masked is not None:
            cells.append(_Cell(number, index, joined, masked[0], masked[1]))
    return Notebook(path, text, bom, tuple(cells), sources, _skipped(document.get("metadata")))


def _skipped(metadata: object) -> bool:
    """Whether the notebook metadata opts out (``"lossling": {"skip": true}``) or names another language."""
    if not isinstance(metadata, dict):
        return False
    own = metadata.get("lossling")
    if isinstance(own, dict) and own.get("skip") is True:
        return True
    info, kernel = metadata.get("language_info"), metadata.get("kernelspec")
    language = (info.get("name") if isinstance(info, dict) else None) or (
        kernel.get("language") if isinstance(kernel, dict) else None)
    return isinstance(language, str) and not language.lower().lstrip("i").startswith("python")


# Masking IPython syntax ------------------------------------------------------------------------------------------

def _mask(text: str) -> tuple[str, tuple[str, ...]] | None:
    """The cell's source with IPython lines replaced by placeholders, and the replaced lines; None for a cell
    magic whose body is not Python (the cell is skipped)."""
    lines = _LINES.findall(text)
    first = next((i for i, line in enumerate(lines) if line.strip()), -1)
    cell_magic = first >= 0 and lines[first].lstrip().startswith("%%")
    if cell_magic and (lines[first].strip()[2:].split() or [""])[0] not in PYTHON_CELL_MAGICS:
        return None
    out, hidden = list(lines), []
    i = 0
    while i < len(lines):
        body = lines[i].rstrip("\r\n")
        stripped = body.strip()
        if (cell_magic and i == first) or (_ipython(stripped) and _starts_statement(out[:i])):
            indent = body[:len(body) - len(body.lstrip())]
            placeholder = indent + _NESTED if indent else _TOP
            while True:  # the magic and its backslash continuations
                body = lines[i].rstrip("\r\n")
                hidden.append(body)
                out[i] = placeholder + lines[i][len(body):]
                i += 1
                if not body.endswith("\\") or i == len(lines):
                    break
        else:
            i += 1
    return "".join(out), tuple(hidden)


def _ipython(stripped: str) -> bool:
    return stripped[:1] in ("%", "!") or bool(_HELP.fullmatch(stripped) or _ASSIGN.match(stripped))


def _starts_statement(before: list[str]) -> bool:
    """Whether a line after ``before`` starts a statement (is not inside a string, brackets or a continuation)."""
    try:
        for _ in tokenize.generate_tokens(io.StringIO("".join(before)).readline):
            pass
    except tokenize.TokenError:  # an open string, bracket or backslash continuation
        return False
    except SyntaxError:  # bad indentation before: the line still starts a statement
        pass
    return True


def _unmask(masked: str, hidden: tuple[str, ...]) -> str:
    lines = _LINES.findall(masked)
    found = 0
    for i, line in enumerate(lines):
        body = line.rstrip("\r\n")
        if body.lstrip() in (_TOP, _NESTED):
            if found == len(hidden):
                break
            lines[i] = hidden[found] + line[len(body):]
            found += 1
    if found != len(hidden) or sum(line.rstrip("\r\n").lstrip() in (_TOP, _NESTED) for line in lines):
        raise SourceError("internal error: a fix moved IPython lines; left unchanged")
    return "".join(lines)


# Checking --------------------------------------------------------------------------------------------------------

class _Virtual:
    """The code cells joined into one module, and the map from its lines back to cells."""

    def __init__(self, cells: tuple[_Cell, ...]) -> None:
        self.cells = cells
        self.starts: list[int] = []  # the virtual line of each cell's first line
        parts, line = [], 1
        for cell in cells:
            text = cell.masked if not cell.masked or cell.masked.endswith(("\n", "\r")) else cell.masked + "\n"
            self.starts.append(line)
            parts.append(text)
            line += len(_LINES.findall(text))
        self.text = "".join(parts)

    def locate(self, line: int) -> tuple[int, int]:
        """A virtual line's cell (position in ``cells``) and the number of lines before that cell."""
        position = max(0, bisect.bisect_right(self.starts, line) - 1)
        return position, self.starts[position] - 1

    def to_cell(self, finding: Finding) -> Finding:
        position, offset = self.locate(finding.span.line)
        fix = finding.fix
        if fix is not None:
            fix = replace(fix, edits=tuple(self._edit_to_cell(e) for e in fix.edits))
        return replace(finding, span=_shift(finding.span, offset), cell=self.cells[position].number, fix=fix)

    def _edit_to_cell(self, edit: Edit) -> Edit:
        position, offset = self.locate(edit.span.line)
        return Edit(_shift(edit.span, offset), edit.text, self.cells[position].number)

    def from_cell(self, finding: Finding) -> Finding:
        """A finding of ``to_cell`` back in the virtual module's lines."""
        assert finding.cell is not None
        offsets = {cell.number: start - 1 for cell, start in zip(self.cells, self.starts)}
        fix = finding.fix
        if fix is not None:
            fix = replace(fix, edits=tuple(Edit(_shift(e.span, -offsets[e.cell or finding.cell]), e.text)
                                           for e in fix.edits))
        return replace(finding, span=_shift(finding.span, -offsets[finding.cell]), cell=None, fix=fix)


def _shift(span: Span, lines: int) -> Span:
    return Span(span.line - lines, span.col, span.end_line - lines, span.end_col)


def _in_cell(error: SourceError, cell: _Cell, notebook: Notebook) -> SourceError:
    file_line = notebook._place(cell.index, error.line, error.col or 0)[0] if error.line is not None else None
    return SourceError(str(error), error.line, error.col, cell.number, file_line)


# Fixing ----------------------------------------------------------------------------------------------------------

def _apply(cells: tuple[_Cell, ...], virtual: _Virtual, chosen: list[Finding]) -> tuple[_Cell, ...]:
    """One pass: each cell's edits applied to that cell alone; the needed imports added to the import cell."""
    from .fixer import apply  # libcst: paid only by runs that fix

    all_edits, imports = edits_and_imports(chosen)
    edits: dict[int, list[Edit]] = {}
    for edit in all_edits:
        position, offset = virtual.locate(edit.span.line)
        edits.setdefault(position, []).append(Edit(_shift(edit.span, offset), edit.text))
    target = _import_cell(cells) if imports else None
    new_cells = list(cells)
    for position in sorted(set(edits) | ({target} if target is not None else set())):
        cell = cells[position]
        masked = apply(cell.masked, edits.get(position, ()), imports if position == target else ())
        try:
            parse(masked)
        except SourceError as error:
            raise SourceError(f"internal error: the fixes of cell {cell.number} would not parse ({error}); "
                              "left unchanged") from None
        new_cells[position] = replace(cell, text=_unmask(masked, cell.hidden), masked=masked)
    return tuple(new_cells)


def _import_cell(cells: tuple[_Cell, ...]) -> int:
    """Where imports go: the cell of the first top-level import, else the first cell with code."""
    first_code = None
    for position, cell in enumerate(cells):
        try:
            body = ast.parse(cell.masked).body
        except SyntaxError:
            continue
        if any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in body):
            return position
        if body and first_code is None:
            first_code = position
    return first_code if first_code is not None else 0


# Where cells are in the JSON --------------------------------------------------------------------------------

class _Locator:
    """Maps a place in a code cell's source to the same place in the notebook's JSON text, through the JSON
    string escapes of its ``source`` (a list of lines, however they are split, or one string)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans = _source_spans(text)
        self.line_starts = [0] + [match.end() for match in re.finditer("\n", text)]

    def place(self, index: int, source: str, line: int, col: int) -> tuple[int, int]:
        """JSON (line, column), 1-based line and 0-based column, of ``source``'s ``line``:``col``."""
        wanted = sum(len(part) for part in _LINES.findall(source)[:line - 1]) + col  # a character of the source
        start, _ = self.spans[index]
        literals = _items(self.text, start) if self.text[start] == "[" else [(start, 0)]
        offset = start
        for literal, _ in literals:
            offset, wanted = self._advance(literal, wanted)
            if wanted < 0:
                break
        line_number = bisect.bisect_right(self.line_starts, offset)
        return line_number, offset - self.line_starts[line_number - 1]

    def _advance(self, literal: int, wanted: int) -> tuple[int, int]:
        """Walk the JSON string at ``literal`` to its ``wanted``-th character: (its offset, -1), or, when the
        string is shorter, (the offset of its closing quote, what is left to walk in the next string)."""
        text, i = self.text, literal + 1
        while text[i] != '"':
            if wanted == 0:
                return i, -1
            if text[i] == "\\":
                unicode = text[i + 1] == "u"
                pair = unicode and "d800" <= text[i + 2:i + 6].lower() < "dc00"  # a surrogate pair: one character
                i += 12 if pair else 6 if unicode else 2
            else:
                i += 1
            wanted -= 1
        return i, wanted if wanted > 0 else -1


# Writing ---------------------------------------------------------------------------------------------------------

def _render(notebook: Notebook) -> str:
    """The notebook's JSON text with the changed cells' ``source`` values replaced, and nothing else."""
    changed = {cell.index: cell.text for cell in notebook.cells
               if cell.text != _joined(notebook.sources[cell.index])}
    if not changed:
        return notebook.json
    text = notebook.json
    escape = text.isascii() and re.search(r"\\u(?!00[0-7])[0-9a-fA-F]{4}", text) is not None
    spans = _source_spans(text)
    parts, last = [], 0
    for index in sorted(changed):
        start, end = spans[index]
        if isinstance(notebook.sources[index], str):
            value = json.dumps(changed[index], ensure_ascii=escape)
        else:
            value = _list_value(text, start, end, re.findall(r"[^\n]*\n|[^\n]+\Z", changed[index]), escape)
        parts += [text[last:start], value]
        last = end
    return "".join(parts + [text[last:]])


def _joined(source: Source) -> str:
    return source if isinstance(source, str) else "".join(source)


def _list_value(text: str, start: int, end: int, lines: list[str], escape: bool) -> str:
    """A JSON list of ``lines`` laid out like the list at ``text[start:end]``, reusing its items' spelling."""
    items = _items(text, start)
    spelled: dict[str, str] = {}
    for item_start, item_end in items:
        spelled.setdefault(json.loads(text[item_start:item_end]), text[item_start:item_end])
    values = [spelled.get(line) or json.dumps(line, ensure_ascii=escape) for line in lines]
    if not items or not values:
        return "[" + ", ".join(values) + "]"
    opening, closing = text[start + 1:items[0][0]], text[items[-1][1]:end - 1]
    separator = text[items[0][1]:items[1][0]] if len(items) > 1 else "," + (opening or " ")
    return "[" + opening + separator.join(values) + closing + "]"


def _source_spans(text: str) -> dict[int, tuple[int, int]]:
    """Cell index -> where its ``source`` value starts and ends in the (valid) notebook JSON text."""
    top = _members(text, _skip(text, 0))
    cells_start = [start for key, start, _ in top if key == "cells"][-1]
    spans = {}
    for index, (start, _) in enumerate(_items(text, cells_start)):
        sources = [(s, e) for key, s, e in _members(text, start) if key == "source"]
        if sources:
            spans[index] = sources[-1]  # like json.loads, the last of duplicate keys wins
    return spans


def _members(text: str, start: int) -> list[tuple[str, int, int]]:
    """The members of the JSON object at ``start``: key, and where its value starts and ends."""
    members = []
    i = _skip(text, start + 1)
    while text[i] != "}":
        key, i = _DECODER.raw_decode(text, i)
        i = _skip(text, _skip(text, i) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, i)
        members.append((key, i, end))
        i = _skip(text, end)
        if text[i] == ",":
            i = _skip(text, i + 1)
    return members


def _items(text: str, start: int) -> list[tuple[int, int]]:
    """Where each item of the JSON array at ``start`` starts and ends."""
    items = []
    i = _skip(text, start + 1)
    while text[i] != "]":
        _, end = _DECODER.raw_decode(text, i)
        items.append((i, end))
        i = _skip(text, end)
        if text[i] == ",":
            i = _skip(text, i + 1)
    return items


def _skip(text: str, i: int) -> int:
    """The position of the first character at or after ``i`` that is not JSON whitespace."""
    match = _WS.match(text, i)
    return match.end() if match else i

"""Names are not evidence: renaming every function, class, parameter and local variable of a fixture to neutral
names (``f1``, ``v12``, same length so every column stays put) must leave its findings and fixes unchanged.

Framework modules, attributes and keyword arguments of other code keep their names; so do a project package's
module-level names (other modules import them) and the methods a framework calls by name (``forward``, ``call``).
Rules whose pages say they read a name are listed in ``READS_NAMES`` with the reason, and their findings are left
out of the comparison.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import keyword
from collections import Counter

import pytest

from helpers import FIXTURES, check, fix, fixture_files

# Methods a framework calls on the classes that override them (nn.Module.__call__ runs forward, Keras runs call and
# train_step, Lightning training_step): their names are the framework's, not the author's, so they are kept.
FRAMEWORK_METHODS = frozenset({"forward", "call", "build", "train_step", "test_step", "compute_loss", "training_step",
                               "validation_step"})
# Rules that must read a name, as their pages say under Known limits.
READS_NAMES: dict[str, str] = {}


def _bound_names(tree: ast.Module, keep_module_level: bool) -> set[str]:
    """Every name the file binds itself (assignments, loop and with targets, parameters, defs, classes)."""
    imported: set[str] = set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported.update((a.asname or a.name).partition(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.add(node.name)
    for cls in ast.walk(tree):  # a class body binds attributes (is_differentiable = False), not variables
        if isinstance(cls, ast.ClassDef):
            for stmt in cls.body:
                if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                    found.difference_update(n.id for n in ast.walk(stmt) if isinstance(n, ast.Name))
                elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in FRAMEWORK_METHODS:
                    found.discard(stmt.name)
    if keep_module_level:
        for stmt in tree.body:
            for node in ast.walk(stmt) if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else [stmt]:
                if isinstance(node, ast.Name):
                    found.discard(node.id)
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.discard(stmt.name)
    return {n for n in found - imported if not (n.startswith("__") and n.endswith("__"))}


def _neutral(names: set[str], taken: set[str]) -> dict[str, str]:
    """A neutral name of the same length for each name: one letter, or a letter and digits."""
    mapping: dict[str, str] = {}
    used = set(taken)
    pools: dict[int, itertools.chain] = {}
    for name in sorted(names):
        length = len(name)
        if length not in pools:
            if length == 1:
                letters = "qzjkwxyuvgQZJKWXYUVG"
                pools[length] = itertools.chain(iter(letters))
            else:
                pools[length] = itertools.chain.from_iterable(
                    (f"{head}{n:0{length - 1}d}" for n in range(10 ** (length - 1))) for head in "vfkcwgVF")
        for candidate in pools[length]:
            if candidate not in used and not keyword.iskeyword(candidate) and not hasattr(builtins, candidate):
                mapping[name] = used_add(used, candidate)
                break
        else:
            pytest.skip(f"no neutral name of length {length} left")
    return mapping


def used_add(used: set[str], name: str) -> str:
    used.add(name)
    return name


def _positions(tree: ast.Module, mapping: dict[str, str], source_lines: list[str]) -> list[tuple[int, int, str]]:
    """(line, column, name) of every occurrence to rename: names, parameters, def and class names, and keyword
    arguments of calls to the file's own functions."""
    local_functions = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in mapping:
            found.append((node.lineno, node.col_offset, node.id))
        elif isinstance(node, ast.arg) and node.arg in mapping:
            found.append((node.lineno, node.col_offset, node.arg))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in mapping:
            line = source_lines[node.lineno - 1]
            word = "class " if isinstance(node, ast.ClassDef) else "def "
            col = line.index(word + node.name) + len(word) if word + node.name in line else None
            if col is None:  # decorated: the def line is further down
                for offset, text in enumerate(source_lines[node.lineno - 1:node.body[0].lineno], node.lineno):
                    if word + node.name in text:
                        found.append((offset, text.index(word + node.name) + len(word), node.name))
                        break
            else:
                found.append((node.lineno, col, node.name))
        elif isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            callee = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if callee in local_functions:
                for kw in node.keywords:
                    if kw.arg in mapping:
                        found.append((kw.lineno, kw.col_offset, kw.arg))
        if isinstance(node, ast.ClassDef):
            found.extend(_method_references(node, mapping))
    return found


def _method_references(cls: ast.ClassDef, mapping: dict[str, str]) -> list[tuple[int, int, str]]:
    """``self.method`` inside the class's own methods, where ``method`` is one of the class's renamed methods."""
    methods = {s.name for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))} & set(mapping)
    found = []
    for method in cls.body:
        if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and method.args.args:
            receiver = method.args.args[0].arg
            for node in ast.walk(method):
                if isinstance(node, ast.Attribute) and node.attr in methods and isinstance(node.value, ast.Name) and (
                        node.value.id == receiver) and node.lineno == node.end_lineno:
                    found.append((node.end_lineno, node.end_col_offset - len(node.attr), node.attr))
    return found


def _byte_col(line: str, col: int) -> int:
    """ast columns count UTF-8 bytes; turn one into a character index."""
    return len(line.encode("utf-8")[:col].decode("utf-8", "replace"))


def rename(text: str, mapping: dict[str, str]) -> str:
    tree = ast.parse(text)
    lines = text.split("\n")
    edited = [list(line) for line in lines]
    for line, col, name in _positions(tree, mapping, lines):
        start = _byte_col(lines[line - 1], col)
        assert lines[line - 1][start:start + len(name)] == name, (line, col, name)
        edited[line - 1][start:start + len(name)] = mapping[name]
    return "\n".join("".join(chars) for chars in edited)


def _mapping(path, text: str) -> dict[str, str]:
    tree = ast.parse(text)
    in_package = (path.parent / "__init__.py").exists()
    names = _bound_names(tree, keep_module_level=in_package)
    taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    return _neutral(names, taken)


def _findings(text: str, path: str) -> Counter:
    return Counter((f.code, f.line, f.col) for f in check(text, path) if f.code not in READS_NAMES)


FILES = fixture_files()
# Fixtures whose findings still follow names, until their rule family reads facts instead (strict: a fixture that
# starts to pass must leave this list).
NAME_DEPENDENT = {
    "LOSS308/keras_fire.py", "LOSS308/tf_fire.py", "LOSS308/torch_fire.py",
}


def _cases(files):
    return [pytest.param(p, id=str(p.relative_to(FIXTURES)), marks=pytest.mark.xfail(strict=True, reason="names"))
            if str(p.relative_to(FIXTURES)) in NAME_DEPENDENT else pytest.param(p, id=str(p.relative_to(FIXTURES)))
            for p in files]


@pytest.mark.parametrize("path", _cases(FILES))
def test_findings_do_not_depend_on_names(path):
    text = path.read_text(encoding="utf-8")
    mapping = _mapping(path, text)
    renamed = rename(text, mapping)
    assert _findings(renamed, str(path)) == _findings(text, str(path))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_fixes_do_not_depend_on_names(path, unsafe):
    if str(path.relative_to(FIXTURES)) in NAME_DEPENDENT:
        pytest.skip("the findings themselves still follow names (NAME_DEPENDENT)")
    text = path.read_text(encoding="utf-8")
    if any(f.code in READS_NAMES for f in check(text, str(path))):
        pytest.skip("a rule that reads names fires here")
    mapping = _mapping(path, text)
    fixed = fix(text, unsafe=unsafe, path=str(path))
    assert fix(rename(text, mapping), unsafe=unsafe, path=str(path)) == rename(fixed, mapping)


def test_renaming_renames():
    text = "import torch\n\n\ndef loss(logits, target):\n    probs = logits.sigmoid()\n    return probs, loss\n"
    renamed = rename(text, _mapping(FIXTURES / "x.py", text))
    assert "logits" not in renamed and "probs" not in renamed and "torch" in renamed and ".sigmoid" in renamed
    assert [len(line) for line in renamed.split("\n")] == [len(line) for line in text.split("\n")]

"""One path for Python files and notebooks: documents read from bytes or held in memory, one check and one fix that
never raise, results that carry what they depend on, and no import cycle among lossling's modules."""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import ROOT, UnsafeEps, run, write
from lossling.config import Settings
from lossling.document import PythonSource, check_document, fix_document
from lossling.finding import Safety
from lossling.notebook import Notebook
from lossling.rule import Rule

SOFTMAX = "import torch\n\n\ndef loss(x):\n    return torch.log(torch.softmax(x, dim=1))\n"


class Crash(Rule):
    code = "LOSS102"
    name = "test-crash"
    summary = "test"
    fix_safety = Safety.SAFE

    def check(self, module):
        raise KeyError("boom")


def test_a_document_in_memory_is_checked_and_fixed():
    rules = Settings(select=("LOSS102",)).rules()
    result = check_document(PythonSource("unsaved.py", SOFTMAX), rules)
    assert [(f.path, f.line, f.code) for f in result.findings] == [("unsaved.py", 5, "LOSS102")]
    outcome = fix_document(PythonSource("unsaved.py", SOFTMAX), rules)
    assert outcome.after == SOFTMAX.replace("torch.log(torch.softmax(x, dim=1))", "torch.log_softmax(x, dim=1)")
    assert outcome.data == outcome.after.encode() and [f.code for f in outcome.fixed] == ["LOSS102"]


def test_a_notebook_given_as_cells_names_them_and_gives_back_fixed_cells():
    notebook = Notebook.from_cells("nb.ipynb", ["import torch", ("markdown", "# Loss"),
                                                "x = torch.randn(3)\ny = torch.log(torch.softmax(x, 0))"])
    [finding] = check_document(notebook, Settings().rules()).findings
    assert (finding.cell, finding.line, finding.col, finding.code) == (3, 2, 4, "LOSS102")
    outcome = fix_document(notebook, Settings().rules())
    assert outcome.document.code_cells == [(1, "import torch"),
                                           (3, "x = torch.randn(3)\ny = torch.log_softmax(x, 0)")]


def test_the_rules_are_an_argument():
    text = "import torch\n\n\ndef f(p):\n    return torch.log(p)\n"
    assert check_document(PythonSource("m.py", text), []).findings == []
    assert [f.code for f in check_document(PythonSource("m.py", text), [UnsafeEps()]).findings] == ["LOSS102"]
    outcome = fix_document(PythonSource("m.py", text), [UnsafeEps()], unsafe=True)
    assert outcome.after == text.replace("torch.log(p)", "torch.log(p + 1e-12)")


def test_a_rule_crash_is_reported_alike_for_a_notebook_and_a_python_file():
    notebook = Notebook.from_cells("nb.ipynb", ["import torch\ntorch.log(torch.softmax(x, 0))"])
    python = PythonSource("m.py", SOFTMAX)
    for document in (notebook, python):
        for error in (check_document(document, [Crash()]).error, fix_document(document, [Crash()]).error):
            assert str(error) == "internal error, please report it: KeyError: 'boom'"


def test_a_rule_crash_on_a_notebook_does_not_stop_the_run(tmp_path, monkeypatch):
    (tmp_path / "nb.ipynb").write_bytes(Notebook.from_cells("nb.ipynb", ["import torch\ntorch.log(x)"]).render())
    (tmp_path / "m.py").write_text(SOFTMAX)
    before = (tmp_path / "nb.ipynb").read_bytes()
    softmax = [rule for rule in Settings().rules() if rule.code == "LOSS102"]
    monkeypatch.setattr(Settings, "rules", lambda self, path="": [Crash()] if path.endswith(".ipynb") else softmax)
    check = run("check", ".", cwd=tmp_path)
    fix = run("fix", ".", cwd=tmp_path)
    for result in (check, fix):
        assert result.code == 2
        assert result.err.splitlines()[0] == "./nb.ipynb:1:1: error: internal error, please report it: KeyError: 'boom'"
    assert check.out.startswith("./m.py:5:12: LOSS102 ")
    assert fix.out.endswith("Fixed 1 finding in 1 file (0 remaining)\n")
    assert (tmp_path / "nb.ipynb").read_bytes() == before
    assert "torch.log_softmax" in (tmp_path / "m.py").read_text()


def test_a_result_names_the_project_files_its_values_came_from(tmp_path):
    write(tmp_path, {"pkg/__init__.py": "", "pkg/config.py": "EPS = 1e-8\n",
                     "pkg/loss.py": "import torch\nfrom .config import EPS\n\n\ndef bce(p, y):\n"
                                    "    p = torch.clamp(p, EPS, 1 - EPS)\n    return torch.log(1 - p) * (1 - y)\n",
                     "pkg/other.py": "import torch\n\n\ndef f(p):\n    return torch.clamp(p, 1e-8, 1 - 1e-8)\n"})
    rules = Settings().rules()
    loss, other = (str(tmp_path / "pkg" / name) for name in ("loss.py", "other.py"))
    found = check_document(PythonSource(loss, Path(loss).read_text()), rules)
    assert "LOSS401" in [f.code for f in found.findings]
    assert str(tmp_path / "pkg" / "config.py") in found.deps and loss not in found.deps
    # nothing carries over from one check to the next
    assert check_document(PythonSource(other, Path(other).read_text()), rules).deps == frozenset()


# Imports ---------------------------------------------------------------------------------------------------------



def _modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "lossling").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The lossling modules ``name`` imports anywhere in its file (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            targets.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names)
    found = set()
    for target in targets:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target.startswith("lossling") and target != name:
            found.add(target)
    return found


def _cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The sets of modules that import each other, directly or through others (strongly connected components)."""
    reach = {name: set() for name in graph}
    for start in graph:
        stack = list(graph[start])
        while stack:
            module = stack.pop()
            if module not in reach[start]:
                reach[start].add(module)
                stack.extend(graph[module])
    return {frozenset({start} | {m for m in reach[start] if start in reach[m]}) for start in graph
            if start in reach[start]}


def test_no_module_imports_one_that_imports_it_back():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert "lossling.fixer" in graph["lossling.document"]  # imports inside functions count
    cycles = _cycles(graph)
    assert cycles == set(), "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in cycles)


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert _cycles(graph) == {frozenset("abc"), frozenset("e")}

"""A finding's fix as JSON and SARIF list it is complete: applying its edits to the original file, as an editor or
a bot applies them, gives exactly what ``lossling fix`` writes for that finding alone, the imports it adds
included. Checked for every finding of every fixture, one finding at a time."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from helpers import FIXTURES, run, write
from lossling.config import Settings
from lossling.finding import Safety

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # the line ends JSON's line numbers count


def applied(text: str, edits: list[dict]) -> str:
    """``text`` with ``edits`` (1-based lines and code-point columns, end exclusive) applied together."""
    starts = [0]
    for line in _LINE.findall(text):
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    spans = sorted(((offset(e["line"], e["column"]), offset(e["end_line"], e["end_column"]), e["content"])
                    for e in edits), reverse=True)
    for (first, last, _), (following, _, _) in zip(spans[1:], spans):
        assert last <= following, "the edits of one fix overlap"
    for first, last, replacement in spans:
        text = text[:first] + replacement + text[last:]
    return text


def alone(monkeypatch, code: str, key: tuple) -> None:
    """Only this finding: its rule, reporting nothing else (a subclass, so triggers and options stay)."""
    rules = Settings.rules

    def only(self, path=None):
        chosen = []
        for rule in rules(self, path):
            if rule.code == code:
                class Alone(type(rule)):  # type: ignore[misc, valid-type]
                    def check(self, module):
                        return [f for f in super().check(module) if (f.span, f.message) == key]

                chosen.append(Alone(rule.settings))
        return chosen

    monkeypatch.setattr(Settings, "rules", only)


def fixed_alone(monkeypatch, tmp_path, path, finding: dict) -> str:
    """What ``lossling fix`` writes for this finding alone (with --unsafe-fixes if its fix is unsafe)."""
    from lossling.finding import Span
    from lossling.notebook import Notebook

    shift = 0  # a notebook's rules see its code cells joined: the cell's first line there, less one
    if "cell" in finding:
        virtual = Notebook.from_bytes(path.read_bytes(), str(path)).virtual
        shift = dict(zip((c.number for c in virtual.cells), virtual.starts))[finding["cell"]] - 1
    key = (Span(finding["line"] + shift, finding["column"] - 1, finding["end_line"] + shift,
                finding["end_column"] - 1), finding["message"])
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    with monkeypatch.context() as patch:
        alone(patch, finding["code"], key)
        unsafe = ["--unsafe-fixes"] if finding["fix"]["safety"] == Safety.UNSAFE.value else []
        result = run("fix", *unsafe, copy.name, cwd=tmp_path)
    assert result.code in (0, 1), result.err
    return copy.read_bytes().decode("utf-8")


def findings(path) -> list[dict]:
    report = json.loads(run("check", "--format", "json", str(path)).out)
    assert report["errors"] == []
    return [f for f in report["findings"] if f["fix"] is not None]


SOURCES = sorted(FIXTURES.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_json_edits_of_each_finding_give_what_lossling_fix_writes(path, monkeypatch, tmp_path):
    text = path.read_bytes().decode("utf-8")
    for finding in findings(path):
        expected = fixed_alone(monkeypatch, tmp_path, path, finding)
        assert expected != text, f"{finding['code']} at line {finding['line']}: lossling fix changes nothing"
        assert applied(text, finding["fix"]["edits"]) == expected, (
            f"{finding['code']} at line {finding['line']}: its JSON edits differ from lossling fix")


def cell_sources(text: str) -> dict[int, str]:
    cells = json.loads(text)["cells"]
    return {n: "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for n, c in enumerate(cells, 1) if c["cell_type"] == "code"}


@pytest.mark.parametrize("path", sorted(FIXTURES.rglob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_edits_name_their_cells_and_give_what_lossling_fix_writes(path, monkeypatch, tmp_path):
    before = cell_sources(path.read_text(encoding="utf-8"))
    found = findings(path)
    assert found
    for finding in found:
        after = cell_sources(fixed_alone(monkeypatch, tmp_path, path, finding))
        cells = dict(before)
        for number in {e["cell"] for e in finding["fix"]["edits"]}:
            cells[number] = applied(cells[number], [e for e in finding["fix"]["edits"] if e["cell"] == number])
        assert cells == after, f"{finding['code']} in cell {finding['cell']}: its edits differ from lossling fix"


IMPORTING = '"""Docstring."""\r\nfrom torch import log, sigmoid\r\n\r\n\r\ndef f(x):  # é😀\r\n' \
            '    return log(sigmoid(x)) + (log(sigmoid(x)))\r\n'


def test_an_added_import_is_an_edit_of_its_own_and_line_ends_and_characters_are_kept(tmp_path):
    write(tmp_path, {})
    (tmp_path / "m.py").write_bytes(IMPORTING.encode("utf-8"))
    report = json.loads(run("check", "--select", "LOSS103", "--format", "json", "m.py", cwd=tmp_path).out)
    first, second = report["findings"]
    assert first["fix"]["edits"] == [
        {"line": 3, "column": 1, "end_line": 3, "end_column": 1, "content": "import torch\r\n"},
        {"line": 6, "column": 12, "end_line": 6, "end_column": 27, "content": "torch.nn.functional.logsigmoid(x)"}]
    # the fixer drops the parentheses that grouped the call it replaces; the edit covers the call and the
    # opening one, and the closing one's ")" is shared with the replacement's
    assert second["fix"]["edits"][1] == {"line": 6, "column": 30, "end_line": 6, "end_column": 46,
                                         "content": "torch.nn.functional.logsigmoid(x"}
    assert applied(IMPORTING, second["fix"]["edits"]).endswith(" + torch.nn.functional.logsigmoid(x)\r\n")
    assert first["fix"]["title"] == "Use `torch.nn.functional.logsigmoid(x)`"


def test_sarif_fixes_carry_the_same_replacements(tmp_path):
    (tmp_path / "m.py").write_bytes(IMPORTING.encode("utf-8"))
    report = json.loads(run("check", "--select", "LOSS103", "--format", "json", "m.py", cwd=tmp_path).out)
    sarif = json.loads(run("check", "--select", "LOSS103", "--format", "sarif", "m.py", cwd=tmp_path).out)
    for finding, result in zip(report["findings"], sarif["runs"][0]["results"], strict=True):
        (fix,) = result["fixes"]
        assert fix["description"]["text"] == finding["fix"]["title"]
        (change,) = fix["artifactChanges"]
        assert change["artifactLocation"]["uri"] == "m.py"
        replacements = change["replacements"]
        as_json = [{"line": r["deletedRegion"]["startLine"], "column": r["deletedRegion"]["startColumn"],
                    "end_line": r["deletedRegion"]["endLine"], "end_column": r["deletedRegion"]["endColumn"],
                    "content": r["insertedContent"]["text"]} for r in replacements]
        assert as_json == finding["fix"]["edits"]


def test_a_fix_title_set_by_the_rule_is_shown_and_the_fallback_names_the_replacement():
    from lossling.finding import Edit, Fix, Span
    from lossling.formats.common import fix_title

    edit = Edit(Span(1, 0, 1, 3), "torch.log_softmax(x,\n    dim=1)")
    assert fix_title(Fix((edit,), Safety.SAFE, title="Use `log_softmax`")) == "Use `log_softmax`"
    assert fix_title(Fix((edit,), Safety.SAFE)) == "Use `torch.log_softmax(x, dim=1)`"
    assert fix_title(Fix((edit, edit), Safety.SAFE)) == "Rewrite 2 expressions"


def test_the_cache_keeps_fix_titles_and_the_cells_of_edits(tmp_path):
    from lossling.cache import _finding, _plain
    from lossling.finding import Edit, Finding, Fix, Span

    fix = Fix((Edit(Span(2, 4, 2, 9), "a", 3),), Safety.UNSAFE, title="Use `a`")
    finding = Finding("LOSS101", "m", Span(1, 0, 1, 1), fix, "nb.ipynb", 2)
    again = _finding(json.loads(json.dumps(_plain(finding))), "nb.ipynb")
    assert again == finding and again.fix == fix

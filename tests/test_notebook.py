"""Notebooks: findings name their cell, names flow between cells, IPython syntax is masked, a fix changes only the
changed cells' sources (byte for byte everywhere else), and a bad notebook is refused and left untouched."""

from __future__ import annotations

import ast
import io
import json
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import FIXTURES, check, check_path, fix, fix_path, run
from lossling import cli

NOTEBOOKS = FIXTURES / "notebooks"
CASES = sorted(NOTEBOOKS.glob("*.ipynb"))


def _id(path: Path) -> str:
    return path.name


def _where(path: Path | str) -> list[str]:
    result = check_path(path)
    assert result.error is None, result.error
    return [f"cell {f.cell}:{f.line}:{f.col + 1} {f.code}" for f in result.findings]


def _fix(path: Path, write: bool = True):
    return fix_path(path, write=write)


def _notebook(folder: Path, *cells: str | tuple[str, str], metadata: dict | None = None,
              name: str = "nb.ipynb") -> Path:
    """A notebook of code cells (strings) and (cell_type, text) cells, sources split into lines as Jupyter does."""
    def cell(value):
        kind, text = value if isinstance(value, tuple) else ("code", value)
        entry = {"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True)}
        if kind == "code":
            entry.update(execution_count=None, outputs=[])
        return entry

    document = {"cells": [cell(c) for c in cells], "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}
    path = folder / name
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return path


# The fixture notebooks ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", CASES, ids=_id)
def test_findings_match_expected(path):
    expected = path.with_name(path.name + ".expected").read_text(encoding="utf-8").split("\n")
    assert _where(path) == [line for line in expected if line]


@pytest.mark.parametrize("path", CASES, ids=_id)
def test_fix_gives_expected_notebook(path, tmp_path):
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    outcome = _fix(copy)
    assert outcome.error is None, outcome.error
    expected = path.with_name(path.name + ".fixed").read_bytes()
    assert copy.read_bytes() == expected
    assert _fix(copy).changed is False, "fix is not idempotent"


@pytest.mark.parametrize("path", CASES, ids=_id)
def test_fix_changes_nothing_but_code_sources(path):
    before = json.loads(path.read_text(encoding="utf-8"))
    after = json.loads(path.with_name(path.name + ".fixed").read_text(encoding="utf-8"))
    for document in (before, after):
        for cell in document["cells"]:
            if cell["cell_type"] == "code":
                cell["source"] = type(cell["source"])()
    assert json.dumps(before) == json.dumps(after)  # order-sensitive: key order is kept too


@pytest.mark.parametrize("path", CASES, ids=_id)
def test_fixed_notebooks_are_valid_nbformat(path):
    for candidate in (path, path.with_name(path.name + ".fixed")):
        nbformat.validate(nbformat.reads(candidate.read_text(encoding="utf-8"), as_version=nbformat.NO_CONVERT))


# Cells and names -----------------------------------------------------------------------------------------------

def test_names_flow_between_cells_and_cells_count_markdown(tmp_path):
    path = _notebook(tmp_path, "import torch", ("markdown", "# Model"), "z = torch.randn(3)\np = torch.sigmoid(z)",
                     ("raw", "raw text"), "loss = torch.log(p)")
    assert _where(path) == ["cell 5:1:8 LOSS103"]
    _fix(path)
    assert json.loads(path.read_text(encoding="utf-8"))["cells"][4]["source"] == [
        "loss = torch.nn.functional.logsigmoid(z)"]


@pytest.mark.parametrize("example", sorted((FIXTURES / "examples").glob("*.py")), ids=_id)
def test_a_module_split_into_cells_is_checked_and_fixed_as_the_module(tmp_path, example):
    """Cut a module at every other top-level statement: the notebook's findings and fixes are the module's."""
    text = example.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    body = ast.parse(text).body
    cuts = [1] + [getattr(node, "decorator_list", None) and node.decorator_list[0].lineno or node.lineno
                  for node in body[2::2]] + [len(lines) + 1]
    cells = ["".join(lines[a - 1:b - 1]) for a, b in zip(cuts, cuts[1:])]
    path = _notebook(tmp_path, *cells)
    firsts = [1 + sum(cell.count("\n") for cell in cells[:k]) for k in range(len(cells))]
    in_module = [f"{f.line}:{f.col + 1} {f.code}" for f in check(text, str(example))]
    in_notebook = [f"{firsts[f.cell - 1] + f.line - 1}:{f.col + 1} {f.code}"
                   for f in check_path(path).findings]
    assert in_notebook == in_module and in_module
    _fix(path)
    sources = ["".join(cell["source"]) for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]]
    assert "".join(sources) == fix(text, path=str(example))


@pytest.mark.parametrize("line", [
    "%time x = torch.log(torch.sigmoid(z))",
    "%pip install --quiet torch",
    "!ls -l",
    "files = !ls",
    "t = %timeit -o torch.log(torch.sigmoid(z))",
    "torch.log?",
    "torch.log??",
    "?torch.log",
    "!pip install \\\n    torch",
    "for i in range(2):\n    !echo {i}\n    %time y = i",
])
def test_ipython_lines_are_masked_and_the_rest_checked(tmp_path, line):
    path = _notebook(tmp_path, "import torch\nz = torch.randn(3)", line + "\nw = torch.log(torch.sigmoid(z))")
    assert _where(path) == [f"cell 2:{line.count(chr(10)) + 2}:5 LOSS103"]
    _fix(path)
    source = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][1]["source"])
    assert source == line + "\nw = torch.nn.functional.logsigmoid(z)"


def test_lines_inside_brackets_and_strings_are_not_masked(tmp_path):
    path = _notebook(tmp_path, "import torch\nz = torch.randn(3)",
                     "n = (5\n% 3)\ns = '''\n!not a command\n'''\nw = torch.log(torch.sigmoid(z));")
    assert _where(path) == ["cell 2:6:5 LOSS103"]


@pytest.mark.parametrize("magic, checked", [("%%bash", False), ("%%writefile loss.py", False), ("%%html", False),
                                            ("%%time", True), ("%%capture out", True), ("\n%%timeit -n 1", True)])
def test_cell_magics(tmp_path, magic, checked):
    path = _notebook(tmp_path, "import torch\nz = torch.randn(3)", magic + "\nw = torch.log(torch.sigmoid(z))")
    line = magic.count("\n") + 2
    assert _where(path) == ([f"cell 2:{line}:5 LOSS103"] if checked else [])


def test_noqa_on_a_cell_line(tmp_path):
    path = _notebook(tmp_path, "import torch\nz = torch.randn(3)",
                     "a = torch.log(torch.sigmoid(z))  # noqa: LOSS103\nb = torch.log(torch.sigmoid(z))  # noqa\n"
                     "c = torch.log(torch.sigmoid(z))  # noqa: LOSS102")
    assert _where(path) == ["cell 2:3:5 LOSS103"]


@pytest.mark.parametrize("metadata, first", [
    ({"lossling": {"skip": True}}, "import torch"),
    ({}, "# lossling: skip-file\nimport torch"),
    ({"kernelspec": {"language": "R", "name": "ir"}}, "import torch"),
    ({"language_info": {"name": "julia"}}, "import torch"),
])
def test_notebook_level_skip(tmp_path, metadata, first):
    path = _notebook(tmp_path, first, "w = torch.log(torch.sigmoid(torch.randn(3)))", metadata=metadata)
    before = path.read_bytes()
    assert _where(path) == []
    assert not _fix(path).changed and path.read_bytes() == before


def test_skip_is_not_triggered_by_other_metadata(tmp_path):
    path = _notebook(tmp_path, "import torch", "w = torch.log(torch.sigmoid(torch.randn(3)))",
                     metadata={"lossling": {"skip": False}, "kernelspec": {"language": "python"}})
    assert _where(path) == ["cell 2:1:5 LOSS103"]


# Writing -------------------------------------------------------------------------------------------------------

def test_import_goes_to_the_cell_of_the_first_import(tmp_path):
    path = _notebook(tmp_path, "x = 1.0", "%matplotlib inline\nfrom torch import log, sigmoid\nx = 2.0",
                     "y = log(sigmoid(x))")
    _fix(path)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert [c["source"] for c in cells] == [
        ["x = 1.0"],
        ["%matplotlib inline\n", "from torch import log, sigmoid\n", "import torch\n", "\n", "x = 2.0"],
        ["y = torch.nn.functional.logsigmoid(x)"],
    ]


def test_layout_outside_the_source_is_kept_byte_for_byte(tmp_path):
    """CRLF line ends, a BOM, indent 4, unsorted keys, a float and escapes json.dumps would write otherwise, no
    trailing newline: only the changed source line differs."""
    text = ('{\r\n    "nbformat": 4,\r\n    "nbformat_minor": 2,\r\n    "metadata": {"lr": 1.0e-5, "url": "a\\/b"},\r\n'
            '    "cells": [\r\n        {\r\n            "source": [\r\n                "import torch\\n",\r\n'
            '                "z = torch.randn(3)\\n",\r\n'
            '                "p = torch.sigmoid(z)  # \\u00e9t\\u00e9\\n",\r\n'
            '                "w = torch.log(p)  # \\u00e9t\\u00e9"\r\n            ],\r\n'
            '            "cell_type": "code", "outputs": [], "execution_count": 3, "metadata": {}\r\n        }\r\n'
            '    ]\r\n}')
    path = tmp_path / "layout.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert _where(path) == ["cell 1:4:5 LOSS103"]
    _fix(path)
    fixed = text.replace('"w = torch.log(p)', '"w = torch.nn.functional.logsigmoid(z)')
    assert fixed != text and path.read_bytes() == b"\xef\xbb\xbf" + fixed.encode("utf-8")


def test_string_source_is_checked_and_stays_a_string(tmp_path):
    path = tmp_path / "string.ipynb"
    document = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                           "source": "import torch\nw = torch.log(torch.sigmoid(torch.randn(3)))  # é"}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
    assert _where(path) == ["cell 1:2:5 LOSS103"]
    _fix(path)
    assert json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"] == (
        "import torch\nw = torch.nn.functional.logsigmoid(torch.randn(3))  # é")


def test_fix_without_write_and_diff_leave_the_file(tmp_path, capsys):
    path = _notebook(tmp_path, "import torch", "w = torch.log(torch.sigmoid(torch.randn(3)))")
    before = path.read_bytes()
    outcome = _fix(path, write=False)
    assert outcome.changed and outcome.before == before.decode("utf-8") and path.read_bytes() == before
    assert cli.main(["fix", "--diff", str(path)]) == 1
    assert '+    "w = torch.nn.functional.logsigmoid(torch.randn(3))"' in capsys.readouterr().out
    assert path.read_bytes() == before


# Bad notebooks -------------------------------------------------------------------------------------------------

def _code(source) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def _document(*cells, version=4) -> bytes:
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": version, "nbformat_minor": 0}).encode()


@pytest.mark.parametrize("data, message", [
    (b'{"cells": [', "not a notebook: invalid JSON"),
    (b"\xff\xfe{}", "not a notebook: byte 0xff is not valid UTF-8"),
    (b"[1, 2]", "not a notebook: the JSON is not an object"),
    (b'{"cells": []}', "not a notebook: no 'nbformat' version"),
    (json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": [{"cells": []}], "metadata": {}}).encode(),
     "nbformat 3 is not supported"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "not a notebook: no 'cells' list"),
    (_document("x = 1"), "cell 1 is not a JSON object"),
    (_document({"source": ["x = 1"]}), "cell 1 has no 'cell_type'"),
    (_document({"cell_type": "markdown", "source": []}, {"cell_type": "code", "outputs": []}),
     "cell 2 has no 'source'"),
    (_document(_code(["import torch\n", 3])), "cell 1: 'source' must be a list of strings or a string"),
    (_document(_code(None)), "cell 1: 'source' must be a list of strings or a string"),
    (_document(_code(["import torch\n"]), _code(["x = 1\n", "y = )"])),
     "cell 2:2:5: syntax error"),
])
def test_bad_notebooks_get_a_message_and_stay_untouched(tmp_path, data, message):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(data)
    result = check_path(path)
    assert result.error is not None and _placed(result.error).startswith(message), result.error
    outcome = _fix(path)
    assert outcome.error is not None and _placed(outcome.error).startswith(message)
    assert path.read_bytes() == data


def _placed(error) -> str:
    """The error's message after its place in a cell: ``cell 2:2:5: syntax error ...``."""
    if error.cell is None:
        return str(error)
    where = f"cell {error.cell}" + ("" if error.line is None else f":{error.line}:{error.col + 1}")
    return f"{where}: {error}"


# The command line ----------------------------------------------------------------------------------------------

def test_check_finds_notebooks_in_folders_and_names_cells(tmp_path, capsys):
    folder = tmp_path / "project"
    folder.mkdir()
    _notebook(folder, ("markdown", "# Loss"), "import torch\nw = torch.log(torch.sigmoid(torch.randn(3)))")
    (folder / "notes.txt").write_text("torch.log(torch.sigmoid(x))", encoding="utf-8")
    (folder / ".ipynb_checkpoints").mkdir()  # Jupyter's autosaved copies are excluded by default
    _notebook(folder / ".ipynb_checkpoints", "import torch\nw = torch.log(torch.sigmoid(torch.randn(3)))",
              name="nb-checkpoint.ipynb")
    assert cli.main(["check", "-j", "1", str(folder)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{folder / 'nb.ipynb'}:cell 2:2:5: LOSS103 ") and out.count("LOSS") == 1

    assert cli.main(["check", "-j", "1", "--format", "json", str(folder)]) == 1
    [finding] = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["cell"], finding["line"], finding["column"], finding["code"]) == (2, 2, 5, "LOSS103")

    assert cli.main(["check", "-j", "1", "--format", "sarif", str(folder)]) == 1
    [result] = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    [location] = result["locations"]
    assert location["properties"] == {"cell": 2} and location["physicalLocation"]["region"]["startLine"] == 2


def test_fix_command_rewrites_notebooks(tmp_path, capsys):
    path = _notebook(tmp_path, "import torch", "w = torch.log(torch.sigmoid(torch.randn(3)))")
    assert cli.main(["fix", "-j", "1", str(tmp_path)]) == 0
    assert "Fixed 1 finding in 1 file" in capsys.readouterr().out
    assert _where(path) == []


def test_standard_input_stays_python(monkeypatch, capsys):
    source = b"import torch\nw = torch.log(torch.sigmoid(torch.randn(3)))\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(source)))
    assert cli.main(["check", "-"]) == 1
    assert capsys.readouterr().out.startswith("-:2:5: LOSS103 ")


def test_standard_input_reads_a_notebook_when_its_name_says_so(monkeypatch, capsys):
    notebook = FIXTURES / "notebooks" / "torch_training.ipynb"
    for command, expected_out in (("check", None), ("fix", notebook.with_name(notebook.name + ".fixed"))):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(notebook.read_bytes())))
        assert cli.main([command, "--no-cache", "--stdin-filename", "t.ipynb", "-"]) == 1
        out = capsys.readouterr().out
        if expected_out is None:
            assert out.startswith("t.ipynb:cell ")
        else:
            assert out == expected_out.read_text(encoding="utf-8")


# GitHub annotations ---------------------------------------------------------------------------------------------

def test_github_annotations_sit_on_the_notebook_lines_and_name_the_cell(tmp_path):
    """Issue 14 item 13: an annotation gave the line within the cell (a line of the .ipynb file that has nothing to
    do with the finding) and did not name the cell. It now gives the .ipynb file's own line and columns (through
    JSON escapes, list or string sources) and names the cell and the line in it."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# Notes \u00e9\n"]},
             {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
              "source": ["import torch\n", "x = torch.randn(3)  # \u00e9 \"q\"\n",
                         "y = torch.log(torch.softmax(x, 0))\n"]},
             {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
              "source": "z = '\\t\u00e9'\nw = torch.log(torch.sigmoid(x))"}]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1))
    lines = path.read_text().splitlines()
    expected = {"LOSS102": (2, 3, 5, "torch.log(torch.softmax(x, 0))"),
                "LOSS103": (3, 2, 5, "torch.log(torch.sigmoid(x))")}
    for flags in (["--no-cache"], ["--cache-dir", str(tmp_path / "cache")], ["--cache-dir", str(tmp_path / "cache")]):
        result = run("check", "--format", "github", *flags, "nb.ipynb", cwd=tmp_path)
        annotations = [line for line in result.out.splitlines() if line.startswith("::warning")]
        assert len(annotations) == 2
        for annotation in annotations:
            head, message = annotation.split("::")[1:]
            fields = dict(part.split("=", 1) for part in head.split(" ", 1)[1].split(","))
            cell, line, col, code = expected[fields["title"]]
            assert message.startswith(f"cell {cell}:{line}:{col}: {fields['title']} ")
            assert fields["line"] == fields["endLine"]
            text = lines[int(fields["line"]) - 1]
            assert text[int(fields["col"]) - 1:int(fields["endColumn"]) - 1] == code


def test_github_annotation_of_a_syntax_error_in_a_cell(tmp_path):
    path = _notebook(tmp_path, "import torch", "x = 1\ny = (")
    result = run("check", "--format", "github", "--no-cache", "nb.ipynb", cwd=tmp_path)
    [annotation] = result.out.splitlines()
    head, message = annotation.split("::")[1:]
    line = int(head.split("line=")[1])
    assert message == "cell 2:2:5: syntax error: '(' was never closed"
    assert path.read_text().splitlines()[line - 1].strip() == '"y = ("'

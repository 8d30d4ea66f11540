"""``lossling check --add-noqa``: every finding silenced by a comment where ``# noqa`` is read for it, merged with
an existing noqa, idempotent, never breaking a multi-line string or a backslash continuation; notebooks too."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import run, write

ONLY = ("--select", "LOSS102,LOSS103")
HEADER = "import torch\n\n\ndef f(x):\n"
SOFTMAX = "torch.log(torch.softmax(x, dim=1))"
SIGMOID = "torch.log(torch.sigmoid(x))"


def added(body: str, tmp_path) -> str:
    """The body after ``--add-noqa``, checked to be clean afterwards and unchanged by a second run."""
    write(tmp_path, {"m.py": HEADER + body})
    first = run("check", *ONLY, "--add-noqa", "m.py", cwd=tmp_path)
    assert (first.code, first.out) == (0, "")
    after = (tmp_path / "m.py").read_text()
    assert after.startswith(HEADER)
    compile(after, "m.py", "exec")
    assert run("check", *ONLY, "m.py", cwd=tmp_path).code == 0
    again = run("check", *ONLY, "--add-noqa", "m.py", cwd=tmp_path)
    assert again.code == 0 and again.err == "Added # noqa for 0 findings in 0 files\n"
    assert (tmp_path / "m.py").read_text() == after
    return after[len(HEADER):]


@pytest.mark.parametrize("body, expected", [
    (f"    a = {SOFTMAX}\n    return a\n", f"    a = {SOFTMAX}  # noqa: LOSS102\n    return a\n"),
    (f"    a = {SOFTMAX} + {SIGMOID}   \n", f"    a = {SOFTMAX} + {SIGMOID}  # noqa: LOSS102, LOSS103\n"),
    # an existing noqa with other codes gets the new ones; another comment keeps its text
    (f"    a = {SOFTMAX}  # noqa: E501\n", f"    a = {SOFTMAX}  # noqa: E501, LOSS102\n"),
    (f"    a = {SOFTMAX}  # noqa:E501,W291 trailing words\n", f"    a = {SOFTMAX}  # noqa:E501,W291, LOSS102 trailing words\n"),
    (f"    a = {SOFTMAX}  # noqa: LOSS103\n", f"    a = {SOFTMAX}  # noqa: LOSS103, LOSS102\n"),
    (f"    a = {SOFTMAX}  # the softmax\n", f"    a = {SOFTMAX}  # the softmax  # noqa: LOSS102\n"),
    # a bracketed statement: each line is read on its own, and the finding's first line gets the comment
    ("    a = torch.log(torch.softmax(\n        x, dim=1))\n",
     "    a = torch.log(torch.softmax(  # noqa: LOSS102\n        x, dim=1))\n"),
    # a multi-line string: the comment goes after its end
    (f'    a = f"""{{{SOFTMAX}}}\n    """\n', f'    a = f"""{{{SOFTMAX}}}\n    """  # noqa: LOSS102\n'),
    # a backslash continuation: on its last line, where a comment may stand
    (f"    a = 1 + \\\n        {SOFTMAX} + \\\n        {SIGMOID}\n",
     f"    a = 1 + \\\n        {SOFTMAX} + \\\n        {SIGMOID}  # noqa: LOSS102, LOSS103\n"),
    # a noqa on another line of the same continuation already counts for it: extended there
    (f"    a = {SOFTMAX} + \\\n        1  # noqa: E501\n",
     f"    a = {SOFTMAX} + \\\n        1  # noqa: E501, LOSS102\n"),
])
def test_comments_go_where_noqa_is_read(tmp_path, body, expected):
    assert added(body, tmp_path) == expected


def test_line_endings_and_the_rest_of_the_file_stay(tmp_path):
    source = (HEADER + f"    a = {SOFTMAX}\n    return a\n").replace("\n", "\r\n")
    (tmp_path / "m.py").write_bytes(source.encode())
    assert run("check", *ONLY, "--add-noqa", "m.py", cwd=tmp_path).code == 0
    assert (tmp_path / "m.py").read_bytes() == source.replace(f"{SOFTMAX}\r\n", f"{SOFTMAX}  # noqa: LOSS102\r\n"
                                                              ).encode()


def test_flake8_reads_the_comments_too(tmp_path):
    write(tmp_path, {"m.py": HEADER + f"    a = {SOFTMAX}  # noqa: E501\n    b = 1 + \\\n        {SIGMOID}\n"
                                      "    return a, b\n"})
    assert run("check", *ONLY, "--add-noqa", "m.py", cwd=tmp_path).code == 0
    flake8 = subprocess.run([sys.executable, "-m", "flake8", "--select", "LOSS", "m.py"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert (flake8.returncode, flake8.stdout) == (0, "")


def test_reports_what_it_did_and_leaves_a_file_it_cannot_check(tmp_path):
    write(tmp_path, {"a.py": HEADER + f"    return {SOFTMAX}\n", "b.py": HEADER + f"    return {SIGMOID} + {SOFTMAX}\n",
                     "ok.py": "x = 1\n", "bad.py": "x = (\n" + SOFTMAX + "\n"})
    result = run("check", *ONLY, "--add-noqa", ".", cwd=tmp_path)
    assert result.code == 2 and result.out == ""
    assert result.err == ("./bad.py:1:5: error: syntax error: '(' was never closed\n"
                          "Added # noqa for 3 findings in 2 files\n")
    assert (tmp_path / "bad.py").read_text() == "x = (\n" + SOFTMAX + "\n"
    assert (tmp_path / "ok.py").read_text() == "x = 1\n"
    assert run("check", *ONLY, "a.py", "b.py", cwd=tmp_path).code == 0
    assert run("check", "--add-noqa", "-", stdin=b"x = 1\n", cwd=tmp_path).code == 2  # it edits files


def test_notebook_cells_get_the_comments(tmp_path):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# title"]},
             {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [{"output_type": "stream",
                                                                                      "name": "stdout",
                                                                                      "text": ["hi\n"]}],
              "source": ["import torch\n", "%timeit 1\n", f"y = {SOFTMAX}\n", "z = 2"]},
             {"cell_type": "code", "metadata": {}, "execution_count": 2, "outputs": [], "source": f"w = {SIGMOID}"}]
    text = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}, indent=1)
    write(tmp_path, {"nb.ipynb": text})
    result = run("check", *ONLY, "--add-noqa", "nb.ipynb", cwd=tmp_path)
    assert result.code == 0 and result.err == "Added # noqa for 2 findings in 1 file\n"
    after = json.loads((tmp_path / "nb.ipynb").read_text())
    assert after["cells"][1]["source"] == ["import torch\n", "%timeit 1\n", f"y = {SOFTMAX}  # noqa: LOSS102\n",
                                           "z = 2"]
    assert after["cells"][2]["source"] == f"w = {SIGMOID}  # noqa: LOSS103"
    cells[1]["source"][2] = f"y = {SOFTMAX}  # noqa: LOSS102\n"
    cells[2]["source"] = f"w = {SIGMOID}  # noqa: LOSS103"
    assert after == json.loads(text) | {"cells": cells}  # outputs, counts and metadata as they were
    assert run("check", *ONLY, "nb.ipynb", cwd=tmp_path).code == 0
    before = (tmp_path / "nb.ipynb").read_bytes()
    assert run("check", *ONLY, "--add-noqa", "nb.ipynb", cwd=tmp_path).code == 0
    assert (tmp_path / "nb.ipynb").read_bytes() == before

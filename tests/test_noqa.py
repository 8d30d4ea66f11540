"""``# noqa`` and ``# lossling: skip-file``: read as flake8 reads them, honoured identically by check and fix."""

from __future__ import annotations

import ast

import pytest

from helpers import check, fix, run
from lossling.config import Settings
from lossling.flake8_plugin import Plugin
from lossling.suppression import noqa_codes, suppressed

SETTINGS = Settings(select=("LOSS102", "LOSS103"))
HEADER = "import torch\n\n\ndef f(x):\n"
SOFTMAX = "torch.log(torch.softmax(x, dim=1))"
FIXED = "torch.log_softmax(x, dim=1)"


def findings(body: str) -> list[tuple[int, str]]:
    """(line within ``body``, code) of what check reports."""
    return [(f.line - 4, f.code) for f in check(HEADER + body, "m.py", SETTINGS)]


def fixed(body: str) -> str:
    return fix(HEADER + body, path="m.py", settings=SETTINGS)[len(HEADER):]


@pytest.mark.parametrize("comment", [
    "# noqa", "# NOQA", "# noqa-ish", "# noqa: LOSS102", "# noqa:LOSS102", "# noqa:LOSS102,LOSS103",
    "# noqa: LOSS103, LOSS102", "# noqa: LOSS103 LOSS102", "# noqa: loss102", "# noqa: LOSS1", "# noqa: LOSS",
    "# a comment first # noqa: LOSS102",
])
def test_silencing_comments(comment):
    body = f"    return {SOFTMAX}  {comment}\n"
    assert findings(body) == []
    assert fixed(body) == body


@pytest.mark.parametrize("comment", [
    "# noqa: E501", "# noqa: LOSS103", "# noqa: LOSS1020", "# noqa: LOSS104,E501", "# no qa",
    "#noqa",  # flake8 needs "# noqa" with the space, and so does lossling
])
def test_comments_that_do_not_silence_lossling(comment):
    body = f"    return {SOFTMAX}  {comment}\n"
    assert findings(body) == [(1, "LOSS102")]
    assert fixed(body) == f"    return {FIXED}  {comment}\n"


def test_only_the_named_code_is_silenced_on_a_line():
    body = f"    return {SOFTMAX} + torch.log(torch.sigmoid(x))  # noqa: LOSS102\n"
    assert findings(body) == [(1, "LOSS103")]
    assert fixed(body) == f"    return {SOFTMAX} + torch.nn.functional.logsigmoid(x)  # noqa: LOSS102\n"


SILENCED = [
    "    return torch.log(  # noqa: LOSS102\n        torch.softmax(x, dim=1)\n    )\n",
    "    y = 2 * \\\n        torch.log(torch.softmax(x, dim=1))  # noqa: LOSS102\n    return y\n",
    "    y = torch.log(torch.softmax(x, dim=1)) + \\\n        1  # noqa: LOSS102\n    return y\n",
    '    y = torch.log(torch.softmax(x, dim=1)) + len("""\n    """)  # noqa\n    return y\n',
]


@pytest.mark.parametrize("body", SILENCED)
def test_noqa_on_the_reported_line_or_a_line_joined_to_it(body):
    """As in flake8: the reported line, and lines joined to it by a backslash or a multi-line string."""
    assert findings(body) == []
    assert fixed(body) == body


NOT_SILENCED = [
    "    return torch.log(\n        torch.softmax(x, dim=1)  # noqa\n    )\n",
    "    return torch.log(\n        torch.softmax(x, dim=1)\n    )  # noqa:LOSS102\n",
]


@pytest.mark.parametrize("body", NOT_SILENCED)
def test_noqa_on_a_later_line_of_a_bracketed_statement_does_not_count(body):
    """flake8 7.5 keeps the lines of a bracketed statement apart (an NL token ends its noqa range): it reports
    E711 on ``if (x == None and\\n        y):  # noqa``. lossling reads comments the same way, so that its findings
    and flake8's agree."""
    assert findings(body) == [(1, "LOSS102")]
    assert fixed(body).startswith(f"    return {FIXED}")


def test_noqa_does_not_reach_other_statements():
    body = f"    a = 1  # noqa\n    b = {SOFTMAX}\n    c = 2  # noqa\n    return b\n"
    assert findings(body) == [(2, "LOSS102")]
    assert fixed(body) == body.replace(SOFTMAX, FIXED)
    header_noqa = f"import torch\n\n\ndef g(x):  # noqa\n    return {SOFTMAX}\n"
    assert [f.line for f in check(header_noqa, "m.py", SETTINGS)] == [5]


def test_fix_never_rewrites_a_silenced_line_among_fixed_ones():
    body = (f"    a = {SOFTMAX}\n"
            f"    b = {SOFTMAX}  # noqa: LOSS102\n"
            "    c = torch.log(  # noqa\n        torch.softmax(x, dim=1))\n"
            f"    d = {SOFTMAX}\n"
            "    return a, b, c, d\n")
    assert findings(body) == [(1, "LOSS102"), (5, "LOSS102")]
    lines = fixed(body).splitlines()
    assert lines[0] == f"    a = {FIXED}"
    assert lines[1:4] == body.splitlines()[1:4]
    assert lines[4] == f"    d = {FIXED}"


@pytest.mark.parametrize("comment", ["# lossling: skip-file", "#lossling:skip-file", "  # lossling: skip-file  "])
def test_skip_file(tmp_path, comment):
    text = f'"""Module."""\n{comment}\n' + HEADER + f"    return {SOFTMAX}\n"
    assert check(text, "m.py", SETTINGS) == []
    assert fix(text, path="m.py", settings=SETTINGS) == text
    (tmp_path / "m.py").write_text(text)
    assert run("check", "m.py", cwd=tmp_path).code == 0
    result = run("fix", "m.py", cwd=tmp_path)
    assert result.code == 0 and (tmp_path / "m.py").read_text() == text


def test_skip_file_must_be_a_comment_of_its_own():
    text = HEADER + f"    return {SOFTMAX}  # lossling: skip-file\n"
    assert [f.code for f in check(text, "m.py", SETTINGS)] == ["LOSS102"]


@pytest.mark.parametrize("text", [
    '"""Module.\n\n# lossling: skip-file\n"""\n',  # in a docstring
    'NOTE = """\n  # lossling: skip-file\n"""\n',  # in another string
    "x = 1 + \\\n    2\nNOTE = f'''\n# lossling: skip-file\n'''\n",
])
def test_skip_file_inside_a_string_is_not_a_comment(tmp_path, text):
    text += HEADER + f"    return {SOFTMAX}\n"
    assert [f.code for f in check(text, "m.py", SETTINGS)] == ["LOSS102"]
    (tmp_path / "m.py").write_text(text)
    assert run("check", "--select", "LOSS102", "m.py", cwd=tmp_path).code == 1
    assert "torch.log_softmax" in run("fix", "--select", "LOSS102", "-", stdin=text.encode()).out
    plugin = Plugin(ast.parse(text), text.splitlines(keepends=True), "m.py")
    assert [message.split()[0] for _, _, message, _ in plugin.run()] == ["LOSS102"]


def test_skip_file_after_blank_lines_and_a_string_that_mentions_it():
    text = 'x = "# lossling: skip-file"\n\n\n# lossling: skip-file\n' + HEADER + f"    return {SOFTMAX}\n"
    assert check(text, "m.py", SETTINGS) == []


def test_check_and_fix_agree_through_the_cli(tmp_path):
    body = f"    a = {SOFTMAX}  # noqa\n    b = {SOFTMAX}  # noqa: E501\n    return a, b\n"
    (tmp_path / "m.py").write_text(HEADER + body)
    check = run("check", "--select", "LOSS102", "m.py", cwd=tmp_path)
    assert check.out == "m.py:6:9: LOSS102 [*] log of softmax underflows to -inf; use torch.log_softmax\n"
    fix = run("fix", "--select", "LOSS102", "m.py", cwd=tmp_path)
    assert fix.code == 0 and fix.out == "Fixed 1 finding in 1 file (0 remaining)\n"
    assert (tmp_path / "m.py").read_text() == HEADER + body.replace(f"b = {SOFTMAX}", f"b = {FIXED}")


def test_noqa_codes_parsing():
    assert noqa_codes("x = 1") is None
    assert noqa_codes("x = 1  # noqa") == frozenset()
    assert noqa_codes("x = 1  # noqa:LOSS102,LOSS103") == {"LOSS102", "LOSS103"}
    assert not suppressed("LOSS102", frozenset({"E501"}))
    assert suppressed("LOSS102", frozenset({"LOSS1"}))

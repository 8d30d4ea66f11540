"""Bad input: each case gets a clear message naming the file (and line), the run goes on, exit 2 where a file could
not be checked, and fix leaves such a file byte for byte as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from helpers import run
from lossling import files

ONLY = ("--select", "LOSS102,LOSS103")
SOFTMAX = "import torch\n\n\ndef loss(x):\n    return torch.log(torch.softmax(x, dim=1))\n"
FOUND = "good.py:5:12: LOSS102 [*] log of softmax underflows to -inf; use torch.log_softmax\n"
SUMMARY = "Found 1 finding; 1 fixable with `lossling fix`, 1 file could not be checked.\n"


def project(tmp_path: Path, bad: bytes, name: str = "bad.py") -> Path:
    (tmp_path / name).write_bytes(bad)
    (tmp_path / "good.py").write_text(SOFTMAX)
    return tmp_path / name


def assert_not_checked(tmp_path: Path, bad: Path, message: str) -> None:
    """check reports ``message`` for the bad file and still checks the good one; fix leaves the bad file alone."""
    before = bad.read_bytes()
    check = run("check", *ONLY, bad.name, "good.py", cwd=tmp_path)
    assert check.code == 2
    assert check.out == FOUND
    assert check.err == f"{bad.name}{message}\n{SUMMARY}"
    fix = run("fix", *ONLY, bad.name, "good.py", cwd=tmp_path)
    assert fix.code == 2
    assert fix.err == f"{bad.name}{message}\n"
    assert fix.out == "Fixed 1 finding in 1 file (0 remaining)\n"
    assert bad.read_bytes() == before
    assert "torch.log_softmax(x, dim=1)" in (tmp_path / "good.py").read_text()
    diff = run("fix", *ONLY, "--diff", bad.name, cwd=tmp_path)
    assert diff.code == 2 and diff.out == "" and bad.read_bytes() == before


def test_syntax_error(tmp_path):
    bad = project(tmp_path, b"import torch\n\ndef loss(x:\n    return torch.log(torch.softmax(x, 1))\n")
    assert_not_checked(tmp_path, bad, ":3:9: error: syntax error: '(' was never closed")


def test_syntax_error_json_names_path_and_line(tmp_path):
    project(tmp_path, b"x = 1\ny = )\n")
    result = run("check", *ONLY, "--format", "json", ".", cwd=tmp_path)
    assert result.code == 2
    assert json.loads(result.out)["errors"] == [
        {"path": "./bad.py", "line": 2, "column": 5, "message": "syntax error: unmatched ')'"}]


def test_undecodable_file_without_coding_cookie(tmp_path):
    bad = project(tmp_path, b"import torch\n\n\nname = 'caf\xe9'\n")
    assert_not_checked(tmp_path, bad, ":4:12: error: cannot decode: byte 0xe9 is not valid utf-8 and there is no "
                                      "PEP 263 coding cookie")


def test_undecodable_first_line(tmp_path):
    bad = project(tmp_path, b"# caf\xe9\nx = 1\n")
    assert_not_checked(tmp_path, bad, ":1:6: error: cannot decode: byte 0xe9 is not valid utf-8 and there is no "
                                      "PEP 263 coding cookie")


def test_unknown_coding_cookie(tmp_path):
    bad = project(tmp_path, b"# -*- coding: klingon -*-\nx = 1\n")
    assert_not_checked(tmp_path, bad, ":1:1: error: cannot decode: unknown encoding: klingon")


def test_latin1_coding_cookie_is_checked_and_fixed_in_latin1(tmp_path):
    source = ("# -*- coding: latin-1 -*-\n" + SOFTMAX.replace("def loss", "CAFE = 'café'\n\n\ndef loss")).encode(
        "latin-1")
    path = tmp_path / "m.py"
    path.write_bytes(source)
    check = run("check", *ONLY, "m.py", cwd=tmp_path)
    assert check.code == 1 and check.out.startswith("m.py:9:12: LOSS102")
    assert run("fix", *ONLY, "m.py", cwd=tmp_path).code == 0
    assert path.read_bytes() == source.replace(b"torch.log(torch.softmax(x, dim=1))", b"torch.log_softmax(x, dim=1)")
    assert b"caf\xe9" in path.read_bytes()


def test_unreadable_file(tmp_path, monkeypatch):
    """We run as root, who can read a chmod 000 file: make opening it fail the way it fails for a user."""
    bad = project(tmp_path, SOFTMAX.encode())
    os.chmod(bad, 0)
    real_open = open

    def guarded(path, *args, **kwargs):
        if os.path.basename(str(path)) == "bad.py":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    if os.geteuid() == 0:
        monkeypatch.setattr(files, "open", guarded, raising=False)
    try:
        assert_not_checked(tmp_path, bad, ":1:1: error: cannot read: Permission denied")
    finally:
        os.chmod(bad, 0o644)


def test_explicit_entry_that_cannot_be_opened(tmp_path):
    """A real failure to open, even as root: a named symlink to nothing."""
    (tmp_path / "good.py").write_text(SOFTMAX)
    os.symlink("nowhere.py", tmp_path / "dangling.py")
    result = run("check", *ONLY, "dangling.py", "good.py", cwd=tmp_path)
    assert result.code == 2 and result.out == FOUND
    assert result.err == "dangling.py:1:1: error: cannot read: No such file or directory\n" + SUMMARY
    assert os.path.islink(tmp_path / "dangling.py")


@pytest.mark.parametrize("source", [b"", b"\n\n", b"# only\n# comments\n", b"#!/usr/bin/env python\n# c\n",
                                    b'"""Only a docstring."""\n'])
def test_empty_and_comment_only_files(tmp_path, source):
    path = tmp_path / "m.py"
    path.write_bytes(source)
    for command in ("check", "fix"):
        result = run(command, *ONLY, "m.py", cwd=tmp_path)
        assert result.code == 0 and result.err == ("All checks passed!\n" if command == "check" else "")
    assert path.read_bytes() == source


def test_nul_bytes(tmp_path):
    bad = project(tmp_path, b"import torch\nx = 1\x00\n")
    assert_not_checked(tmp_path, bad, ":2:6: error: syntax error: source code string cannot contain null bytes")


def test_five_megabyte_file(tmp_path):
    row = "    " + ", ".join(f"{i * 0.001:.6f}" for i in range(10)) + ",\n"
    rows = 5_000_000 // len(row) + 1
    text = ("import torch\n\nTABLE = [\n" + row * rows
            + "]\n\n\ndef loss(x):\n    return torch.log(torch.softmax(x, 1))\n")
    assert len(text) > 5_000_000
    path = tmp_path / "big.py"
    path.write_text(text)
    check = run("check", *ONLY, "big.py", cwd=tmp_path)
    assert check.code == 1 and check.out.startswith(f"big.py:{rows + 8}:12: LOSS102")
    assert run("fix", *ONLY, "big.py", cwd=tmp_path).code == 0
    assert path.read_text() == text.replace("torch.log(torch.softmax(x, 1))", "torch.log_softmax(x, 1)")


def test_too_many_nested_parentheses(tmp_path):
    bad = project(tmp_path, ("x = " + "(" * 1000 + "1" + ")" * 1000 + "\n").encode())
    assert_not_checked(tmp_path, bad, ":1:205: error: syntax error: too many nested parentheses")


def test_expression_too_deep_for_the_parser(tmp_path):
    bad = project(tmp_path, ("import torch\ny = 1\nx = y" + " + y" * 100_000 + "\n").encode())
    assert_not_checked(tmp_path, bad, ":1:1: error: cannot parse: too deeply nested")


def test_long_chain_is_checked_and_left_alone_when_too_deep_to_fix(tmp_path):
    text = ("import torch\n\n\ndef loss(x):\n    y = torch.log(torch.softmax(x, 1))\n    return y" + " + y" * 2000
            + "\n")
    path = tmp_path / "chain.py"
    path.write_text(text)
    check = run("check", *ONLY, "chain.py", cwd=tmp_path)
    assert (check.code, check.out.split(": LOSS")[0]) == (1, "chain.py:5:9")
    fix = run("fix", *ONLY, "chain.py", cwd=tmp_path)
    if fix.code == 2:
        assert fix.err == "chain.py:1:1: error: too deeply nested to fix; left unchanged\n"
        assert path.read_text() == text
    else:
        assert fix.code == 0 and path.read_text() == text.replace("torch.log(torch.softmax(x, 1))",
                                                                  "torch.log_softmax(x, 1)")


def test_tabs(tmp_path):
    source = b"import torch\n\n\nclass Loss:\n\tdef forward(self, x):\n\t\tif x is not None:\n" \
             b"\t\t\treturn torch.log(\n\t\t\t\ttorch.softmax(x, dim=1))\n"
    path = tmp_path / "m.py"
    path.write_bytes(source)
    assert run("check", *ONLY, "m.py", cwd=tmp_path).out.startswith("m.py:7:11: LOSS102")
    assert run("fix", *ONLY, "m.py", cwd=tmp_path).code == 0
    assert path.read_bytes() == source.replace(b"torch.log(\n\t\t\t\ttorch.softmax(x, dim=1))",
                                               b"torch.log_softmax(x, dim=1)")


def test_crlf_stays_crlf(tmp_path):
    source = (SOFTMAX + "\n\ndef g(z):\n    return torch.log(\n        torch.sigmoid(z))\n").replace("\n", "\r\n")
    path = tmp_path / "m.py"
    path.write_bytes(source.encode())
    assert [line.split(":")[1] for line in run("check", *ONLY, "m.py", cwd=tmp_path).out.splitlines()] == ["5", "9"]
    assert run("fix", *ONLY, "m.py", cwd=tmp_path).code == 0
    after = path.read_bytes()
    assert after.count(b"\r\n") == after.count(b"\n") == 9
    assert b"torch.log_softmax(x, dim=1)\r\n" in after and b"torch.nn.functional.logsigmoid(z)\r\n" in after


def test_bare_cr_stays_bare_cr(tmp_path):
    """Issue 14 item 5: libcst drops a bare \\r line end (old Mac files); the last one used to vanish, and a line
    after the fix made the fixed file unparseable (refused as an internal error)."""
    source = (SOFTMAX + "\n\ndef g(z):\n    return torch.log(\n        torch.sigmoid(z))\n\n\nN = 1\n")
    source = source.replace("\n", "\r")
    path = tmp_path / "m.py"
    path.write_bytes(source.encode())
    assert [line.split(":")[1] for line in run("check", *ONLY, "m.py", cwd=tmp_path).out.splitlines()] == ["5", "9"]
    fix = run("fix", *ONLY, "m.py", cwd=tmp_path)
    assert (fix.code, fix.err) == (0, "")
    fixed = source.replace("torch.log(torch.softmax(x, dim=1))", "torch.log_softmax(x, dim=1)")
    assert path.read_bytes() == fixed.replace("torch.log(\r        torch.sigmoid(z))",
                                              "torch.nn.functional.logsigmoid(z)").encode()
    assert b"\n" not in path.read_bytes() and run("fix", *ONLY, "m.py", cwd=tmp_path).out.startswith("Fixed 0 ")


def test_bom_is_kept(tmp_path):
    path = tmp_path / "m.py"
    path.write_bytes(b"\xef\xbb\xbf" + SOFTMAX.encode())
    assert run("check", *ONLY, "m.py", cwd=tmp_path).out.startswith("m.py:5:12: LOSS102")
    assert run("fix", *ONLY, "m.py", cwd=tmp_path).code == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + SOFTMAX.replace("torch.log(torch.softmax(x, dim=1))",
                                                                  "torch.log_softmax(x, dim=1)").encode()


def test_symlink_fix_writes_through(tmp_path):
    (tmp_path / "real.py").write_text(SOFTMAX)
    os.symlink("real.py", tmp_path / "link.py")
    assert run("fix", *ONLY, "link.py", cwd=tmp_path).code == 0
    assert os.readlink(tmp_path / "link.py") == "real.py"
    assert "torch.log_softmax" in (tmp_path / "real.py").read_text()


def test_stdin_bad_input(tmp_path):
    result = run("check", "--stdin-filename", "m.py", "-", stdin=b"x = '\xe9'\n", cwd=tmp_path)
    assert result.code == 2 and result.err.startswith("m.py:1:6: error: cannot decode")
    result = run("fix", "-", stdin=b"x = 1\x00\n", cwd=tmp_path)
    assert result.code == 2 and result.stdout == b"x = 1\x00\n"


def test_names_assigned_from_themselves_are_checked(tmp_path):
    """Constant folding follows names; ``n = n + 1`` (global) and ``self.k = k; k = self.k + 1`` cycle, a complex
    power and an int beyond float range do not fold."""
    (tmp_path / "cycle.py").write_text(
        "import torch\n\nn = 0\n\n\ndef step():\n    global n\n    n = n + 1\n    return torch.exp(n) - 1\n\n\n"
        "class Scaler:\n    def update(self):\n        k = self.k + 1\n        self.k = k\n"
        "        return torch.exp(self.k) + -1\n\n\nlr = 0.1\n\n\ndef decay(model):\n    global lr\n    lr = lr * 0.5\n"
        "    return torch.optim.SGD(model.parameters(), lr=lr), torch.optim.SGD(model.parameters(),\n"
        "                                                               lr=(-8) ** (1 / 3))\n"
        "\n\nbig = torch.exp(x) - 1" + "0" * 400 + "\n")
    check = run("check", "--quiet", "--no-cache", "cycle.py", cwd=tmp_path)
    assert check.code in (0, 1) and check.err == ""


# Issue 14: a deeply nested notebook, a symlink loop, and a place on every error line

def test_deeply_nested_notebook_is_reported_and_the_run_goes_on(tmp_path):
    """Item 1: ``json`` recurses once per bracket; 100,000 of them used to end the run with a RecursionError."""
    nested = ("[" * 100_000 + "]" * 100_000).encode()
    bad = project(tmp_path, nested, "deep.ipynb")
    assert_not_checked(tmp_path, bad, ":1:1: error: not a notebook: the JSON is nested too deeply to read")
    result = run("check", "--stdin-filename", "deep.ipynb", "-", stdin=nested, cwd=tmp_path)
    assert result.code == 2
    assert result.err.startswith("deep.ipynb:1:1: error: not a notebook: the JSON is nested too deeply to read\n")
    result = run("fix", "--stdin-filename", "deep.ipynb", "-", stdin=nested, cwd=tmp_path)
    assert result.code == 2 and result.stdout == nested


def test_symlink_loop_named_explicitly(tmp_path):
    """Item 2: finding the configuration of a path resolved it, and a symlink loop raised RuntimeError."""
    os.symlink("b.py", tmp_path / "a.py")
    os.symlink("a.py", tmp_path / "b.py")
    (tmp_path / "good.py").write_text(SOFTMAX)
    error = "a.py:1:1: error: cannot read: Too many levels of symbolic links\n"
    check = run("check", *ONLY, "a.py", "good.py", cwd=tmp_path)
    assert (check.code, check.out, check.err) == (2, FOUND, error + SUMMARY)
    fix = run("fix", *ONLY, "a.py", "good.py", cwd=tmp_path)
    assert (fix.code, fix.err) == (2, error)
    stdin = run("check", *ONLY, "--stdin-filename", "a.py", "-", stdin=SOFTMAX.encode(), cwd=tmp_path)
    assert stdin.code == 1 and stdin.out.startswith("a.py:5:12: LOSS102 ")
    assert os.readlink(tmp_path / "a.py") == "b.py" and os.readlink(tmp_path / "b.py") == "a.py"


@pytest.mark.parametrize("data, name, message", [
    (b"x = 1\n\ny = 2\x00\n", "bad.py", ":3:6: error: syntax error: source code string cannot contain null bytes"),
    (b'{"cells": [], "x": "caf\xe9"}', "bad.ipynb", ":1:24: error: not a notebook: byte 0xe9 is not valid UTF-8"),
    (b"x = " + b"(" * 1000 + b"1" + b")" * 1000 + b"\n", "bad.py", ":1:205: error: syntax error: too many nested"),
    (b"y = 1\nx = y" + b" + y" * 100_000 + b"\n", "bad.py", ":1:1: error: cannot parse: too deeply nested"),
])
def test_every_error_line_has_a_place(tmp_path, data, name, message):
    """Item 15: ``path:line:col: error: message``, as documented; 1:1 when nothing better is known (as in ruff)."""
    project(tmp_path, data, name)
    for command in ("check", "fix"):
        result = run(command, *ONLY, name, cwd=tmp_path)
        assert result.code == 2 and result.err.startswith(name + message), result.err


def test_a_missing_path_has_a_place_too(tmp_path):
    result = run("check", "nothere.py", cwd=tmp_path)
    assert result.code == 2 and result.err.startswith("nothere.py:1:1: error: no such file or folder\n")

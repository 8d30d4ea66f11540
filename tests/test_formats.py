"""The output formats of ``lossling check``: what each one carries, for people (text, full, colour, summary) and
for tools (json, json-lines, sarif, github, gitlab, junit), and file names that are not UTF-8."""

from __future__ import annotations

import io
import json
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlparse

import pytest

from helpers import UnsafeEps, run, write
from lossling.formats import Style
from lossling.rule import rule_by_code

ONLY = ("--select", "LOSS102,LOSS103")
SOFTMAX = "import torch\n\n\ndef loss(x):\n    return torch.log(torch.softmax(x, dim=1))\n"
MIXED = """import torch


def loss(x, g):
    a = torch.log(torch.sigmoid(x)) + torch.log(torch.softmax(x, dim=1))
    p = torch.softmax(g(x), dim=1)
    return a + torch.log(p)
"""
LOG_SOFTMAX = "log of softmax underflows to -inf; use torch.log_softmax"


@pytest.fixture
def unsafe_rule(monkeypatch):
    """The real rules, plus a stand-in whose fix is unsafe (reported as LOSS102 on ``torch.log(p)``)."""
    from lossling.config import Settings

    rules = Settings.rules
    monkeypatch.setattr(Settings, "rules", lambda self, path=None: [*rules(self, path), UnsafeEps()])


@pytest.fixture
def loss102_is_an_error(monkeypatch):
    monkeypatch.setattr(rule_by_code()["LOSS102"], "severity", "error", raising=False)


# for people: text, full, the summary, colour


def test_full_shows_the_source_line_with_a_caret_and_the_fix(tmp_path):
    write(tmp_path, {"m.py": MIXED})
    result = run("check", *ONLY, "--format", "full", "m.py", cwd=tmp_path)
    assert result.code == 1
    assert result.out == (
        "m.py:5:9: LOSS103 [*] log(sigmoid(x)) underflows to -inf for saturated x; use "
        "torch.nn.functional.logsigmoid(x)\n"
        "  |\n"
        "5 |     a = torch.log(torch.sigmoid(x)) + torch.log(torch.softmax(x, dim=1))\n"
        "  |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "  = fix: torch.nn.functional.logsigmoid(x)\n"
        "\n"
        f"m.py:5:39: LOSS102 [*] {LOG_SOFTMAX}\n"
        "  |\n"
        "5 |     a = torch.log(torch.sigmoid(x)) + torch.log(torch.softmax(x, dim=1))\n"
        "  |                                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "  = fix: torch.log_softmax(x, dim=1)\n"
        "\n"
        "m.py:7:16: LOSS102 log of softmax underflows to -inf; use log_softmax (no fix: `g` may change something "
        "on the way)\n"
        "  |\n"
        "7 |     return a + torch.log(p)\n"
        "  |                ^^^^^^^^^^^^\n")
    assert result.err == "Found 3 findings; 2 fixable with `lossling fix`.\n"


def test_full_underlines_every_line_of_a_span_and_aligns_after_tabs_and_wide_characters(tmp_path):
    source = ("import torch\n\n\ndef loss(x):\n\ty = '数据'; z = torch.log(\n\t\ttorch.softmax(x, dim=1))\n"
              "\treturn y, z\n")
    write(tmp_path, {"m.py": source})
    lines = run("check", *ONLY, "--format", "full", "m.py", cwd=tmp_path).out.splitlines()
    assert lines[1:6] == [
        "  |",
        "5 |     y = '数据'; z = torch.log(",
        "  |                     ^^^^^^^^^^",
        "6 |         torch.softmax(x, dim=1))",
        "  |         ^^^^^^^^^^^^^^^^^^^^^^^^"]


def test_full_reads_notebook_cells_and_standard_input(tmp_path):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# title"]},
             {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": ["import torch\n", "%timeit 1\n", "y = torch.log(torch.softmax(x, 1))\n"]}]
    notebook = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
    write(tmp_path, {"nb.ipynb": notebook})
    lines = run("check", *ONLY, "--format", "full", "nb.ipynb", cwd=tmp_path).out.splitlines()
    assert lines[:4] == [f"nb.ipynb:cell 2:3:5: LOSS102 [*] {LOG_SOFTMAX}", "  |",
                         "3 | y = torch.log(torch.softmax(x, 1))", "  |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"]
    from_stdin = run("check", *ONLY, "--format", "full", "--stdin-filename", "nb.ipynb", "-",
                     stdin=notebook.encode(), cwd=tmp_path)
    assert from_stdin.out.splitlines()[:4] == lines[:4]
    piped = run("check", *ONLY, "--format", "full", "-", stdin=SOFTMAX.encode(), cwd=tmp_path).out.splitlines()
    assert piped[2:4] == ["5 |     return torch.log(torch.softmax(x, dim=1))",
                          "  |            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"]


def test_full_names_an_unsafe_fix_with_its_flag(tmp_path, unsafe_rule):
    write(tmp_path, {"m.py": "import torch\n\n\ndef f(p):\n    return torch.log(p)\n"})
    out = run("check", "--select", "LOSS103", "--format", "full", "m.py", cwd=tmp_path).out
    assert out.startswith("m.py:5:12: LOSS102 log of p; add an eps\n")  # no [*]: `lossling fix` leaves it
    assert out.endswith("  = unsafe fix (lossling fix --unsafe-fixes): torch.log(p + 1e-12)\n")


def test_a_fix_with_a_title_is_named_by_it_in_full_and_json(tmp_path, monkeypatch):
    from dataclasses import replace

    from lossling.config import Settings

    class Titled(UnsafeEps):
        def check(self, module):
            for finding in super().check(module):
                yield replace(finding, fix=replace(finding.fix, title="Add an eps inside the log"))

    monkeypatch.setattr(Settings, "rules", lambda self, path=None: [Titled()])
    write(tmp_path, {"m.py": "import torch\n\n\ndef f(p):\n    return torch.log(p)\n"})
    out = run("check", "--format", "full", "m.py", cwd=tmp_path).out
    assert out.endswith("  = unsafe fix (lossling fix --unsafe-fixes): Add an eps inside the log\n")
    (finding,) = json.loads(run("check", "--format", "json", "m.py", cwd=tmp_path).out)["findings"]
    assert finding["fix"]["title"] == "Add an eps inside the log"
    cache = str(tmp_path / "cache")
    for _ in range(2):  # stored, then read back from the cache
        assert run("check", "--format", "full", "--cache-dir", cache, "m.py", cwd=tmp_path).out == out


def test_summary_counts_safe_and_unsafe_fixes_and_files_not_checked(tmp_path, unsafe_rule):
    write(tmp_path, {"m.py": MIXED})
    result = run("check", *ONLY, "m.py", cwd=tmp_path)
    assert result.err == "Found 4 findings; 2 fixable with `lossling fix`, 1 more with `--unsafe-fixes`.\n"
    assert "m.py:7:16: LOSS102 log of p; add an eps" in result.out.splitlines()
    write(tmp_path, {"u.py": "import torch\n\n\ndef f(p):\n    return torch.log(p)\n", "bad.py": "x = (\n"})
    result = run("check", "--select", "LOSS103", "u.py", "bad.py", cwd=tmp_path)
    assert result.err.splitlines() == [
        "bad.py:1:5: error: syntax error: '(' was never closed",
        "Found 1 finding; 1 fixable with `lossling fix --unsafe-fixes`, 1 file could not be checked."]
    write(tmp_path, {"pyproject.toml": "[tool.lossling]\nunsafe-fixes = true\n"})
    result = run("check", "--select", "LOSS103", "u.py", cwd=tmp_path)
    assert result.out.startswith("u.py:5:12: LOSS102 [*] log of p")  # `lossling fix` would apply it here
    assert result.err == "Found 1 finding; 1 fixable with `lossling fix`.\n"


def test_colour_on_a_terminal_honours_no_color_and_force_color(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    assert Style.for_stream(Terminal()).on and not Style.for_stream(io.StringIO()).on
    monkeypatch.setenv("NO_COLOR", "1")
    assert not Style.for_stream(Terminal()).on
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not Style.for_stream(Terminal()).on  # NO_COLOR wins
    monkeypatch.setenv("NO_COLOR", "")  # empty: as if unset
    assert Style.for_stream(io.StringIO()).on
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not Style.for_stream(Terminal()).on


def test_colour_in_the_output_only_when_asked_or_on_a_terminal(tmp_path, monkeypatch):
    write(tmp_path, {"m.py": SOFTMAX})
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert "\x1b[" not in run("check", *ONLY, "m.py", cwd=tmp_path).out
    monkeypatch.setenv("FORCE_COLOR", "1")
    coloured = run("check", *ONLY, "m.py", cwd=tmp_path).out
    assert coloured == f"\x1b[1mm.py:5:12\x1b[0m: \x1b[1;31mLOSS102\x1b[0m \x1b[36m[*]\x1b[0m {LOG_SOFTMAX}\n"
    assert "\x1b[" in run("check", *ONLY, "--format", "full", "m.py", cwd=tmp_path).out
    assert "\x1b[" not in run("check", *ONLY, "--format", "json", "m.py", cwd=tmp_path).out
    run("check", *ONLY, "--output-file", "report.txt", "m.py", cwd=tmp_path)
    assert "\x1b[" not in (tmp_path / "report.txt").read_text()


# for tools


def test_json_carries_severity_and_fixability(tmp_path, unsafe_rule, loss102_is_an_error):
    write(tmp_path, {"m.py": MIXED})
    findings = json.loads(run("check", *ONLY, "--format", "json", "m.py", cwd=tmp_path).out)["findings"]
    assert sorted((f["code"], f["severity"], f["fixable"], (f["fix"] or {}).get("safety", "")) for f in findings) == [
        ("LOSS102", "error", False, ""), ("LOSS102", "error", False, "unsafe"), ("LOSS102", "error", True, "safe"),
        ("LOSS103", "warning", True, "safe")]


def test_json_lines_is_one_object_per_finding_or_error(tmp_path):
    write(tmp_path, {"m.py": MIXED, "bad.py": "def f(:\n"})
    result = run("check", *ONLY, "--format", "json-lines", ".", cwd=tmp_path)
    assert (result.code, result.err) == (2, "")
    objects = [json.loads(line) for line in result.out.splitlines()]
    assert [(o["type"], o["path"], o.get("code")) for o in objects] == [
        ("finding", "./m.py", "LOSS103"), ("finding", "./m.py", "LOSS102"), ("finding", "./m.py", "LOSS102"),
        ("error", "./bad.py", None)]
    document = json.loads(run("check", *ONLY, "--format", "json", ".", cwd=tmp_path).out)
    assert [{k: v for k, v in o.items() if k != "type"} for o in objects] == document["findings"] + document["errors"]
    assert objects[-1] == {"type": "error", "path": "./bad.py", "line": 1, "column": 7,
                           "message": "syntax error: invalid syntax"}


def test_sarif_levels_come_from_the_rules_severity(tmp_path, loss102_is_an_error):
    write(tmp_path, {"m.py": MIXED})
    sarif = json.loads(run("check", *ONLY, "--format", "sarif", "m.py", cwd=tmp_path).out)
    (run_,) = sarif["runs"]
    assert [r["level"] for r in run_["results"]] == ["warning", "error", "error"]
    rules = {rule["id"]: rule for rule in run_["tool"]["driver"]["rules"]}
    assert rules["LOSS102"]["defaultConfiguration"] == {"level": "error"}
    assert rules["LOSS103"]["defaultConfiguration"] == {"level": "warning"}


def test_sarif_links_point_to_files_that_exist(tmp_path):
    write(tmp_path, {"m.py": SOFTMAX})
    driver = json.loads(run("check", *ONLY, "--format", "sarif", "m.py", cwd=tmp_path).out)["runs"][0]["tool"][
        "driver"]
    folder = Path(unquote_to_bytes(urlparse(driver["informationUri"]).path).decode())
    assert folder.is_dir() and (folder / "LOSS102.md").is_file()
    for rule in driver["rules"]:
        page = Path(unquote_to_bytes(urlparse(rule["helpUri"]).path).decode())
        assert page.read_text(encoding="utf-8") == rule["help"]["markdown"]
        assert page.name == f"{rule['id']}.md"


def test_github_commands_follow_the_severity(tmp_path, loss102_is_an_error, monkeypatch):
    monkeypatch.setattr(rule_by_code()["LOSS103"], "severity", "info", raising=False)
    write(tmp_path, {"m.py": MIXED})
    out = run("check", *ONLY, "--format", "github", "m.py", cwd=tmp_path).out
    assert [line.split(" ")[0] for line in out.splitlines()] == ["::notice", "::error", "::error"]


def test_gitlab_code_quality_report(tmp_path, loss102_is_an_error):
    write(tmp_path, {"pkg/m.py": MIXED, "bad.py": "x = (\n"})
    result = run("check", *ONLY, "--format", "gitlab", ".", cwd=tmp_path)
    assert (result.code, result.err) == (2, "")
    issues = json.loads(result.out)
    first = issues[0]
    assert first == {"description": "LOSS103: log(sigmoid(x)) underflows to -inf for saturated x; use "
                                    "torch.nn.functional.logsigmoid(x)",
                     "check_name": "LOSS103", "fingerprint": first["fingerprint"], "severity": "minor",
                     "location": {"path": "./pkg/m.py", "positions": {"begin": {"line": 5, "column": 9},
                                                                      "end": {"line": 5, "column": 36}}}}
    assert [i["severity"] for i in issues] == ["minor", "major", "major", "critical"]
    assert issues[-1]["check_name"] == "LOSS000"
    assert issues[-1]["location"] == {"path": "./bad.py", "lines": {"begin": 1}}
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    # lines added above the findings: same findings, same fingerprints; another file: others
    write(tmp_path, {"pkg/m.py": "\n\n" + MIXED, "pkg/n.py": MIXED})
    moved = json.loads(run("check", *ONLY, "--format", "gitlab", ".", cwd=tmp_path).out)
    by_path = {}
    for issue in moved:
        by_path.setdefault(issue["location"]["path"], []).append(issue["fingerprint"])
    assert by_path["./pkg/m.py"] == fingerprints[:3]
    assert not set(by_path["./pkg/n.py"]) & set(fingerprints)


def test_junit_report(tmp_path):
    write(tmp_path, {"m.py": MIXED, "ok.py": "x = 1\n", "bad.py": "x = (\n"})
    result = run("check", *ONLY, "--format", "junit", ".", cwd=tmp_path)
    assert (result.code, result.err) == (2, "")
    assert result.out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(result.out.split("\n", 1)[1])
    assert (root.tag, root.get("tests"), root.get("failures"), root.get("errors")) == ("testsuites", "5", "3", "1")
    suites = {suite.get("name"): suite for suite in root}
    assert sorted(suites) == ["./bad.py", "./m.py", "./ok.py"]
    cases = suites["./m.py"].findall("testcase")
    assert [(c.get("name"), c.get("line"), c.get("column")) for c in cases] == [
        ("LOSS103", "5", "9"), ("LOSS102", "5", "39"), ("LOSS102", "7", "16")]
    failure = cases[1].find("failure")
    assert failure.get("message") == LOG_SOFTMAX and failure.text == f"line 5, col 39: {LOG_SOFTMAX}"
    assert cases[1].find("properties/property").attrib == {"name": "severity", "value": "warning"}
    (passing,) = suites["./ok.py"].findall("testcase")
    assert list(passing) == []
    assert suites["./bad.py"].find("testcase/error").get("message") == "syntax error: '(' was never closed"


# file names that are not UTF-8 (defect: sarif crashed, json wrote a lone surrogate)


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes in a name")
@pytest.mark.parametrize("fmt", ["text", "full", "json", "json-lines", "sarif", "github", "gitlab", "junit"])
def test_a_file_name_that_is_not_utf8(tmp_path, fmt):
    name = os.fsdecode(b"caf\xe9.py")
    (tmp_path / name).write_text(SOFTMAX)
    result = run("check", *ONLY, "--format", fmt, ".", cwd=tmp_path)
    assert result.code == 1 and "Traceback" not in result.err
    result.stdout.decode("utf-8")  # valid UTF-8, with no encoded surrogate
    assert "\\udce9" not in result.out and "\udce9" not in result.out
    if fmt == "json-lines":
        assert json.loads(result.out)["path"] == "./caf\ufffd.py"
    elif fmt in ("json", "sarif", "gitlab"):
        document = json.loads(result.out)
        if fmt == "json":
            assert document["findings"][0]["path"] == "./caf\ufffd.py"
        if fmt == "sarif":
            uri = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            assert uri == "caf%E9.py" and unquote_to_bytes(uri) == b"caf\xe9.py"  # the exact bytes
    else:
        assert "caf\ufffd.py" in result.out

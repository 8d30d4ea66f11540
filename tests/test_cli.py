"""The ``lossling`` command: output formats, selection, fix, standard input, rules, explain, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import ROOT, UnsafeEps, run, write

ONLY = ("--select", "LOSS102,LOSS103")  # the tests' samples are about these two; other rules may come and go
SOFTMAX = "import torch\n\n\ndef loss(x):\n    return torch.log(torch.softmax(x, dim=1))\n"
MIXED = """import torch


def loss(x, g):
    a = torch.log(torch.sigmoid(x)) + torch.log(torch.softmax(x, dim=1))
    p = torch.softmax(g(x), dim=1)
    return a + torch.log(p)
"""
LOG_SIGMOID = "log(sigmoid(x)) underflows to -inf for saturated x; use torch.nn.functional.logsigmoid(x)"
LOG_SOFTMAX = "log of softmax underflows to -inf; use torch.log_softmax"


# check: output


def test_text_output_is_flake8_style_with_one_based_columns(tmp_path):
    write(tmp_path, {"m.py": MIXED})
    result = run("check", *ONLY, "m.py", cwd=tmp_path)
    assert result.code == 1
    assert result.out.splitlines() == [
        f"m.py:5:9: LOSS103 {LOG_SIGMOID}",
        f"m.py:5:39: LOSS102 {LOG_SOFTMAX}",
        "m.py:7:16: LOSS102 log of softmax underflows to -inf; use log_softmax",
    ]
    assert result.err == ""


def test_sorted_by_path_line_column_across_arguments(tmp_path):
    write(tmp_path, {"b.py": MIXED, "a.py": SOFTMAX, "sub/c.py": SOFTMAX, "sub_d.py": SOFTMAX})
    out = run("check", *ONLY, "sub_d.py", "b.py", "sub", "a.py", cwd=tmp_path).out
    places = [tuple(line.split(":")[:3]) for line in out.splitlines()]
    assert places == [("a.py", "5", "12"), ("b.py", "5", "9"), ("b.py", "5", "39"), ("b.py", "7", "16"),
                      ("sub/c.py", "5", "12"), ("sub_d.py", "5", "12")]


def test_clean_run_exits_0_and_prints_nothing(tmp_path):
    write(tmp_path, {"ok.py": "import torch\n\n\ndef loss(x):\n    return torch.log_softmax(x, dim=1)\n"})
    result = run("check", *ONLY, cwd=tmp_path)
    assert (result.code, result.out, result.err) == (0, "", "")


def test_json_format(tmp_path):
    write(tmp_path, {"m.py": MIXED})
    data = json.loads(run("check", *ONLY, "--format", "json", "m.py", cwd=tmp_path).out)
    assert data["errors"] == []
    first = data["findings"][0]
    assert {k: first[k] for k in ("path", "line", "column", "end_line", "end_column", "code", "name")} == {
        "path": "m.py", "line": 5, "column": 9, "end_line": 5, "end_column": 36, "code": "LOSS103",
        "name": "log-of-sigmoid"}
    assert first["fix"] == {"safety": "safe", "edits": [
        {"line": 5, "column": 9, "end_line": 5, "end_column": 36, "content": "torch.nn.functional.logsigmoid(x)"}]}
    assert data["findings"][2]["fix"] is None
    assert [f["code"] for f in data["findings"]] == ["LOSS103", "LOSS102", "LOSS102"]


def test_sarif_format(tmp_path):
    write(tmp_path, {"pkg/m.py": MIXED, "broken.py": "def f(:\n"})
    result = run("check", *ONLY, "--format", "sarif", ".", cwd=tmp_path)
    assert result.code == 2
    sarif = json.loads(result.out)
    assert sarif["version"] == "2.1.0" and "sarif-2.1.0" in sarif["$schema"]
    (run_,) = sarif["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "lossling"
    ids = [rule["id"] for rule in driver["rules"]]
    assert {"LOSS102", "LOSS103"} <= set(ids) and ids == sorted(ids)
    assert all(rule["shortDescription"]["text"] for rule in driver["rules"])
    results = run_["results"]
    assert [r["ruleId"] for r in results] == ["LOSS103", "LOSS102", "LOSS102"]
    for result_ in results:
        assert ids[result_["ruleIndex"]] == result_["ruleId"]
        assert result_["message"]["text"]
        (location,) = result_["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == "pkg/m.py"
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 5, "startColumn": 9, "endLine": 5, "endColumn": 36}
    (invocation,) = run_["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.py"


def test_github_format(tmp_path):
    write(tmp_path, {"m.py": SOFTMAX, "broken.py": "x = (\n"})
    result = run("check", *ONLY, "--format", "github", "m.py", "broken.py", cwd=tmp_path)
    assert result.code == 2
    assert result.out.splitlines() == [
        f"::warning file=m.py,line=5,col=12,endLine=5,endColumn=46,title=LOSS102::LOSS102 {LOG_SOFTMAX}",
        "::error file=broken.py,line=1::syntax error: '(' was never closed",
    ]


def test_statistics(tmp_path):
    write(tmp_path, {"m.py": MIXED, "n.py": SOFTMAX})
    out = run("check", *ONLY, "--statistics", cwd=tmp_path).out.splitlines()
    assert out[-2:] == ["     3 LOSS102 log-of-softmax", "     1 LOSS103 log-of-sigmoid"]
    assert len(out) == 6


@pytest.mark.parametrize("flags, codes", [
    ((), ["LOSS103", "LOSS102", "LOSS102"]),
    (("--select", "LOSS102"), ["LOSS102", "LOSS102"]),
    (("--select", "LOSS1", "--ignore", "LOSS10"), []),
    (("--select", "LOSS10", "--ignore", "LOSS102"), ["LOSS103"]),
    (("--select", "LOSS102", "--extend-select", "LOSS103"), ["LOSS103", "LOSS102", "LOSS102"]),
    (("--select", "LOSS103", "--ignore", "LOSS103"), []),  # an ignore as long as the select wins
    (("--select", "LOSS102", "--select", "LOSS103"), ["LOSS103", "LOSS102", "LOSS102"]),  # repeated flags add up
    (("--select", "LOSS10", "--ignore", "LOSS103", "--ignore", "LOSS102"), []),
])
def test_select_ignore_prefixes(tmp_path, flags, codes):
    write(tmp_path, {"m.py": MIXED})
    out = run("check", *(flags or ONLY), "m.py", cwd=tmp_path).out
    assert [line.split()[1] for line in out.splitlines()] == codes


def test_select_family_prefix_selects_every_rule_of_it(tmp_path):
    from lossling.config import Settings

    family = [r.code for r in Settings(select=("LOSS1",)).rules()]
    assert "LOSS102" in family and "LOSS103" in family and all(code.startswith("LOSS1") for code in family)


@pytest.mark.parametrize("flag", ["--select", "--ignore", "--extend-select"])
@pytest.mark.parametrize("code", ["LOSS999", "LOSS9", "E501", "LOSS1O2"])
def test_unknown_code_is_a_usage_error(tmp_path, flag, code):
    write(tmp_path, {"m.py": SOFTMAX})
    result = run("check", flag, code, "m.py", cwd=tmp_path)
    assert result.code == 2
    assert result.out == ""
    assert result.err.strip() == f"lossling: {flag}: unknown rule code '{code}'"


@pytest.mark.parametrize("flag", ["--select", "--ignore", "--extend-select"])
@pytest.mark.parametrize("value", ["", ",", " , "])
def test_empty_code_list_is_a_usage_error(tmp_path, flag, value):
    write(tmp_path, {"m.py": SOFTMAX})
    for command in ("check", "fix"):
        result = run(command, flag, value, "m.py", cwd=tmp_path)
        assert (result.code, result.out) == (2, "")
        assert result.err == f"lossling: {flag}: no rule code given\n"
    assert (tmp_path / "m.py").read_text() == SOFTMAX


def test_bad_usage_exits_2():
    assert run("check", "--format", "xml").code == 2
    assert run("frobnicate").code == 2
    assert run("check", "-", "a.py").code == 2


def test_jobs_give_identical_output(tmp_path):
    files = {f"pkg{i % 3}/m{i:02}.py": MIXED if i % 2 else SOFTMAX for i in range(24)}
    files["pkg0/broken.py"] = "def f(:\n"
    write(tmp_path, files)

    def lossling(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lossling", *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300)

    one, two = lossling("check", *ONLY, "-j", "1", "."), lossling("check", *ONLY, "-j", "2", ".")
    assert one.returncode == two.returncode == 2
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert len(one.stdout.splitlines()) == 12 * 3 + 12
    diff_one = lossling("fix", *ONLY, "--diff", "-j", "1", ".")
    diff_two = lossling("fix", *ONLY, "--diff", "-j", "2", ".")
    assert diff_one.stdout == diff_two.stdout and diff_one.stdout.count("+++ ") == 24


# fix


def test_diff_prints_a_unified_diff_and_writes_nothing(tmp_path):
    write(tmp_path, {"m.py": MIXED, "ok.py": "x = 1\n"})
    result = run("fix", *ONLY, "--diff", cwd=tmp_path)
    assert result.code == 1
    assert result.out.splitlines() == [
        "--- ./m.py",
        "+++ ./m.py",
        "@@ -2,6 +2,6 @@",
        " ",
        " ",
        " def loss(x, g):",
        "-    a = torch.log(torch.sigmoid(x)) + torch.log(torch.softmax(x, dim=1))",
        "+    a = torch.nn.functional.logsigmoid(x) + torch.log_softmax(x, dim=1)",
        "     p = torch.softmax(g(x), dim=1)",
        "     return a + torch.log(p)",
    ]
    assert (tmp_path / "m.py").read_text() == MIXED
    assert run("fix", *ONLY, "--diff", "ok.py", cwd=tmp_path).code == 0


def test_diff_of_a_file_without_final_newline_applies_with_patch(tmp_path):
    write(tmp_path, {"m.py": SOFTMAX.rstrip("\n")})
    diff = run("fix", *ONLY, "--diff", "m.py", cwd=tmp_path).out
    assert diff.endswith("+    return torch.log_softmax(x, dim=1)\n\\ No newline at end of file\n")
    subprocess.run(["patch", "-p0"], input=diff, text=True, cwd=tmp_path, check=True, capture_output=True)
    assert (tmp_path / "m.py").read_text() == "import torch\n\n\ndef loss(x):\n    return torch.log_softmax(x, dim=1)"


def test_fix_writes_reports_and_lists_what_remains(tmp_path):
    write(tmp_path, {"m.py": MIXED, "n.py": SOFTMAX, "ok.py": "x = 1\n"})
    result = run("fix", *ONLY, cwd=tmp_path)
    assert result.code == 1
    assert result.out.splitlines() == [
        "./m.py:7:16: LOSS102 log of softmax underflows to -inf; use log_softmax",
        "Fixed 3 findings in 2 files (1 remaining)",
    ]
    assert "torch.nn.functional.logsigmoid(x) + torch.log_softmax(x, dim=1)" in (tmp_path / "m.py").read_text()
    assert (tmp_path / "n.py").read_text() == SOFTMAX.replace("torch.log(torch.softmax(x, dim=1))",
                                                              "torch.log_softmax(x, dim=1)")
    again = run("fix", *ONLY, cwd=tmp_path)
    assert again.code == 1 and again.out.splitlines()[-1] == "Fixed 0 findings in 0 files (1 remaining)"


def test_fix_exits_0_when_everything_was_fixed(tmp_path):
    write(tmp_path, {"n.py": SOFTMAX})
    result = run("fix", *ONLY, cwd=tmp_path)
    assert (result.code, result.out) == (0, "Fixed 1 finding in 1 file (0 remaining)\n")
    assert run("check", *ONLY, cwd=tmp_path).code == 0


def test_unsafe_fixes_only_with_the_flag_or_config(tmp_path, monkeypatch):
    from lossling.config import Settings

    monkeypatch.setattr(Settings, "rules", lambda self, path=None: [UnsafeEps()])
    text = "import torch\n\n\ndef f(p):\n    return torch.log(p)\n"
    write(tmp_path, {"m.py": text})
    result = run("fix", "m.py", cwd=tmp_path)
    assert result.code == 1 and result.out.splitlines()[-1] == "Fixed 0 findings in 0 files (1 remaining)"
    assert (tmp_path / "m.py").read_text() == text
    assert run("fix", "--diff", "m.py", cwd=tmp_path).code == 0
    result = run("fix", "--unsafe-fixes", "m.py", cwd=tmp_path)
    assert result.code == 0 and result.out == "Fixed 1 finding in 1 file (0 remaining)\n"
    assert (tmp_path / "m.py").read_text() == text.replace("torch.log(p)", "torch.log(p + 1e-12)")
    write(tmp_path, {"m.py": text, "pyproject.toml": "[tool.lossling]\nunsafe-fixes = true\n"})
    assert run("fix", "m.py", cwd=tmp_path).code == 0
    assert "1e-12" in (tmp_path / "m.py").read_text()


def test_check_ignores_unsafe_fixes_flag():
    assert run("check", "--unsafe-fixes", ".").code == 2  # fix-only flag: argparse says so


# standard input


def test_check_stdin(tmp_path):
    result = run("check", *ONLY, "-", stdin=SOFTMAX.encode(), cwd=tmp_path)
    assert (result.code, result.out) == (1, f"-:5:12: LOSS102 {LOG_SOFTMAX}\n")
    result = run("check", *ONLY, "--stdin-filename", "pkg/m.py", "-", stdin=SOFTMAX.encode(), cwd=tmp_path)
    assert result.out.startswith("pkg/m.py:5:12: LOSS102")
    assert run("check", *ONLY, "-", stdin=b"x = 1\n", cwd=tmp_path).code == 0


def test_stdin_filename_is_used_for_config_matching(tmp_path):
    write(tmp_path, {"pyproject.toml": '[tool.lossling]\nper-file-ignores = {"tests/*" = ["LOSS102"]}\n',
                     "sub/pyproject.toml": "[tool.lossling]\nignore = ['LOSS103']\n"})
    stdin = MIXED.encode()
    assert run("check", "--stdin-filename", "tests/t.py", "-", stdin=stdin, cwd=tmp_path).out.count("LOSS102") == 0
    assert run("check", *ONLY, "--stdin-filename", "src/t.py", "-", stdin=stdin, cwd=tmp_path).out.count(
        "LOSS102") == 2
    assert "LOSS103" not in run("check", "--stdin-filename", "sub/t.py", "-", stdin=stdin, cwd=tmp_path).out


def test_fix_stdin_writes_fixed_source_to_stdout(tmp_path):
    result = run("fix", *ONLY, "-", stdin=MIXED.encode(), cwd=tmp_path)
    assert result.code == 1  # the unfixable finding remains, and is listed on stderr
    assert result.out == MIXED.replace("torch.log(torch.sigmoid(x)) + torch.log(torch.softmax(x, dim=1))",
                                       "torch.nn.functional.logsigmoid(x) + torch.log_softmax(x, dim=1)")
    assert result.err == "-:7:16: LOSS102 log of softmax underflows to -inf; use log_softmax\n"
    clean = run("fix", *ONLY, "--stdin-filename", "m.py", "-", stdin=SOFTMAX.encode(), cwd=tmp_path)
    assert clean.code == 0 and "torch.log_softmax(x, dim=1)" in clean.out
    diff = run("fix", *ONLY, "--diff", "--stdin-filename", "m.py", "-", stdin=SOFTMAX.encode(), cwd=tmp_path)
    assert diff.code == 1 and diff.out.startswith("--- m.py\n+++ m.py\n")


def test_fix_stdin_that_cannot_be_parsed_is_echoed_unchanged(tmp_path):
    source = b"def f(:\n    return torch.log(torch.softmax(x, 1))\n"
    result = run("fix", "--stdin-filename", "m.py", "-", stdin=source, cwd=tmp_path)
    assert result.code == 2
    assert result.stdout == source
    assert result.err.startswith("m.py:1:7: error: syntax error")


# rules, explain


def test_rules_lists_every_rule(tmp_path):
    from lossling.rule import all_rules

    out = run("rules").out.splitlines()
    assert len(out) == len(all_rules())
    row = next(line for line in out if line.startswith("LOSS102"))
    assert row.split()[:4] == ["LOSS102", "log-of-softmax", "fix:", "safe"]
    assert "torch" in row and "tensorflow" in row
    rows = json.loads(run("rules", "--format", "json").out)
    assert [r["code"] for r in rows] == [rule.code for rule in all_rules()]
    assert next(r for r in rows if r["code"] == "LOSS103") == {
        "code": "LOSS103", "name": "log-of-sigmoid", "summary": all_rules()[[r.code for r in all_rules()].index(
            "LOSS103")].summary, "frameworks": ["torch", "tensorflow", "keras", "jax", "numpy"], "fix": "safe"}
    assert {r["fix"] for r in rows} <= {"safe", "unsafe", "none"}


def test_explain_prints_the_page():
    page = (ROOT / "rules" / "LOSS102.md").read_text(encoding="utf-8")
    for name in ("LOSS102", "loss102", "log-of-softmax"):
        result = run("explain", name)
        assert result.code == 0 and result.out == page


def test_explain_unknown_code():
    result = run("explain", "LOSS999")
    assert result.code == 2 and result.err == "lossling: unknown rule 'LOSS999'\n"


def test_entry_points():
    for command in ([sys.executable, "-m", "lossling", "--version"], ["lossling", "--version"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and done.stdout.startswith("lossling ")


# Ctrl-C

INTERRUPT = """
import os, signal, sys, time
import lossling.runner as runner
from lossling.cli import main

def interrupted(*args):
    os.killpg(os.getpgid(0), signal.SIGINT)  # as a terminal's Ctrl-C: to every process of the group
    time.sleep(600)  # the parent must not wait for this

runner.check_file = runner.fix_file = interrupted
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("command", ["check", "fix"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_exits_130_with_one_line(tmp_path, command, jobs):
    write(tmp_path, {f"m{i}.py": SOFTMAX for i in range(4)})
    done = subprocess.run([sys.executable, "-c", INTERRUPT, command, "--no-cache", "-j", jobs, "."], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, start_new_session=True)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "lossling: interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m0.py", "m1.py", "m2.py", "m3.py"]

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
NOT_FIXED = "log of softmax underflows to -inf; use log_softmax (no fix: `g` may change something on the way)"
LOG_SIGMOID = "log(sigmoid(x)) underflows to -inf for saturated x; use torch.nn.functional.logsigmoid(x)"
LOG_SOFTMAX = "log of softmax underflows to -inf; use torch.log_softmax"


# check: output


def test_text_output_is_flake8_style_with_one_based_columns(tmp_path):
    write(tmp_path, {"m.py": MIXED})
    result = run("check", *ONLY, "m.py", cwd=tmp_path)
    assert result.code == 1
    assert result.out.splitlines() == [
        f"m.py:5:9: LOSS103 [*] {LOG_SIGMOID}",
        f"m.py:5:39: LOSS102 [*] {LOG_SOFTMAX}",
        f"m.py:7:16: LOSS102 {NOT_FIXED}",
    ]
    assert result.err == "Found 3 findings; 2 fixable with `lossling fix`.\n"


def test_sorted_by_path_line_column_across_arguments(tmp_path):
    write(tmp_path, {"b.py": MIXED, "a.py": SOFTMAX, "sub/c.py": SOFTMAX, "sub_d.py": SOFTMAX})
    out = run("check", *ONLY, "sub_d.py", "b.py", "sub", "a.py", cwd=tmp_path).out
    places = [tuple(line.split(":")[:3]) for line in out.splitlines()]
    assert places == [("a.py", "5", "12"), ("b.py", "5", "9"), ("b.py", "5", "39"), ("b.py", "7", "16"),
                      ("sub/c.py", "5", "12"), ("sub_d.py", "5", "12")]


def test_clean_run_exits_0_and_says_so_on_stderr(tmp_path):
    write(tmp_path, {"ok.py": "import torch\n\n\ndef loss(x):\n    return torch.log_softmax(x, dim=1)\n"})
    result = run("check", *ONLY, cwd=tmp_path)
    assert (result.code, result.out, result.err) == (0, "", "All checks passed!\n")
    for fmt in ("json", "sarif", "github", "gitlab", "junit", "json-lines"):  # tools get the report alone
        assert run("check", *ONLY, "--format", fmt, cwd=tmp_path).err == ""


def test_json_format(tmp_path):
    write(tmp_path, {"m.py": MIXED})
    data = json.loads(run("check", *ONLY, "--format", "json", "m.py", cwd=tmp_path).out)
    assert data["errors"] == []
    first = data["findings"][0]
    assert {k: first[k] for k in ("path", "line", "column", "end_line", "end_column", "code", "name")} == {
        "path": "m.py", "line": 5, "column": 9, "end_line": 5, "end_column": 36, "code": "LOSS103",
        "name": "log-of-sigmoid"}
    assert first["fix"] == {"safety": "safe", "title": "Use `torch.nn.functional.logsigmoid(x)`", "edits": [
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


def test_statistics_count_per_rule_most_frequent_first_and_mark_the_fixable(tmp_path):
    write(tmp_path, {"m.py": MIXED, "n.py": SOFTMAX})
    result = run("check", *ONLY, "--statistics", cwd=tmp_path)
    assert result.code == 1
    assert result.out.splitlines() == ["3  LOSS102  [*] log-of-softmax", "1  LOSS103  [*] log-of-sigmoid"]
    assert result.err == "Found 4 findings; 3 fixable with `lossling fix`.\n"
    write(tmp_path, {"m.py": "import torch\n\n\ndef f(g, x):\n    p = torch.softmax(g(x), dim=1)\n"
                             "    return torch.log(p)\n"})
    assert run("check", *ONLY, "--statistics", "m.py", cwd=tmp_path).out == "1  LOSS102      log-of-softmax\n"


def test_statistics_as_json_say_what_is_fixable(tmp_path, monkeypatch):
    from lossling.config import Settings

    rules = Settings.rules
    monkeypatch.setattr(Settings, "rules", lambda self, path=None: [*rules(self, path), UnsafeEps()])
    write(tmp_path, {"m.py": "import torch\n\n\ndef f(x):\n    return torch.log(torch.sigmoid(x))\n",
                     "u.py": "import torch\n\n\ndef f(p):\n    return torch.log(p)\n"})
    result = run("check", "--select", "LOSS103", "--statistics", "--format", "json", cwd=tmp_path)
    assert (result.code, result.err) == (1, "")
    assert json.loads(result.out) == [  # the stand-in rule reports as LOSS102
        {"code": "LOSS102", "name": "log-of-softmax", "count": 1, "fixable": 0, "unsafe_fixable": 1},
        {"code": "LOSS103", "name": "log-of-sigmoid", "count": 1, "fixable": 1, "unsafe_fixable": 0}]
    lines = run("check", "--select", "LOSS103", "--statistics", "--format", "json-lines", cwd=tmp_path).out
    assert [json.loads(line)["code"] for line in lines.splitlines()] == ["LOSS102", "LOSS103"]
    write(tmp_path, {"pyproject.toml": "[tool.lossling]\nunsafe-fixes = true\n"})
    rows = json.loads(run("check", "--select", "LOSS103", "--statistics", "--format", "json", cwd=tmp_path).out)
    assert (rows[0]["fixable"], rows[0]["unsafe_fixable"]) == (1, 0)


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
        f"./m.py:7:16: LOSS102 {NOT_FIXED}",
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
    assert result.code == 1
    assert result.out.splitlines()[-1] == "Fixed 0 findings in 0 files (1 remaining; 1 fixable with `--unsafe-fixes`)"
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
    assert (result.code, result.out) == (1, f"-:5:12: LOSS102 [*] {LOG_SOFTMAX}\n")
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
    assert result.err == f"-:7:16: LOSS102 {NOT_FIXED}\n"
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
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, whatever started this process
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


# exit codes, quiet, silent, output file


def test_exit_zero_for_findings_but_not_for_errors(tmp_path):
    write(tmp_path, {"m.py": MIXED})
    result = run("check", *ONLY, "--exit-zero", "m.py", cwd=tmp_path)
    assert result.code == 0 and len(result.out.splitlines()) == 3
    assert run("fix", *ONLY, "--exit-zero", "--diff", "m.py", cwd=tmp_path).code == 0
    assert run("fix", *ONLY, "--exit-zero", "-", stdin=MIXED.encode(), cwd=tmp_path).code == 0
    fixed = run("fix", *ONLY, "--exit-zero", "m.py", cwd=tmp_path)
    assert fixed.code == 0 and fixed.out.endswith("(1 remaining)\n")
    write(tmp_path, {"bad.py": "x = (\n"})
    assert run("check", *ONLY, "--exit-zero", "m.py", "bad.py", cwd=tmp_path).code == 2


def test_exit_non_zero_on_fix(tmp_path):
    write(tmp_path, {"n.py": SOFTMAX})
    result = run("fix", *ONLY, "--exit-non-zero-on-fix", "n.py", cwd=tmp_path)
    assert (result.code, result.out) == (1, "Fixed 1 finding in 1 file (0 remaining)\n")
    assert run("fix", *ONLY, "--exit-non-zero-on-fix", "n.py", cwd=tmp_path).code == 0  # nothing left to fix
    piped = run("fix", *ONLY, "--exit-non-zero-on-fix", "-", stdin=SOFTMAX.encode(), cwd=tmp_path)
    assert piped.code == 1 and "torch.log_softmax(x, dim=1)" in piped.out


def test_quiet_prints_findings_only_and_silent_nothing(tmp_path):
    write(tmp_path, {"m.py": MIXED, "bad.py": "x = (\n"})
    quiet = run("check", *ONLY, "-q", "m.py", "bad.py", cwd=tmp_path)
    assert quiet.code == 2 and len(quiet.out.splitlines()) == 3
    assert quiet.err == "bad.py:1:5: error: syntax error: '(' was never closed\n"  # a problem, not a note
    silent = run("check", *ONLY, "--silent", "m.py", "bad.py", cwd=tmp_path)
    assert (silent.code, silent.out, silent.err) == (2, "", "")
    assert run("check", *ONLY, "-s", "m.py", cwd=tmp_path).code == 1
    fix_quiet = run("fix", *ONLY, "--quiet", "m.py", cwd=tmp_path)
    assert (fix_quiet.code, fix_quiet.out) == (1, f"m.py:7:16: LOSS102 {NOT_FIXED}\n")
    write(tmp_path, {"m.py": MIXED})
    fix_silent = run("fix", *ONLY, "--silent", "m.py", cwd=tmp_path)
    assert (fix_silent.code, fix_silent.out, fix_silent.err) == (1, "", "")
    assert "torch.log_softmax" in (tmp_path / "m.py").read_text()
    config_error = run("check", "-s", "--select", "LOSS999", "m.py", cwd=tmp_path)  # fatal: still said
    assert config_error.code == 2 and "unknown rule code" in config_error.err


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit"])
def test_output_file_gets_the_report_and_stderr_the_summary(tmp_path, fmt):
    write(tmp_path, {"m.py": MIXED})
    to_stdout = run("check", *ONLY, "--format", fmt, "m.py", cwd=tmp_path)
    (tmp_path / "out").mkdir()
    result = run("check", *ONLY, "--format", fmt, "-o", "out/report", "m.py", cwd=tmp_path)
    assert (result.code, result.out) == (1, "")
    assert result.err == to_stdout.err
    report = (tmp_path / "out" / "report").read_text(encoding="utf-8")
    if fmt == "sarif":  # the same but for nothing: compare the parsed documents
        assert json.loads(report) == json.loads(to_stdout.out)
    else:
        assert report == to_stdout.out


def test_output_file_that_cannot_be_written(tmp_path):
    write(tmp_path, {"m.py": SOFTMAX})
    result = run("check", *ONLY, "--output-file", "missing/report.txt", "m.py", cwd=tmp_path)
    assert result.code == 2
    assert result.err == "lossling: missing/report.txt: cannot write the report: No such file or directory\n"
    clean = run("check", *ONLY, "--output-file", "r.txt", cwd=write(tmp_path, {"m.py": "x = 1\n"}))
    assert clean.code == 0 and (tmp_path / "r.txt").read_text() == "" and clean.err == "All checks passed!\n"


# fix --show-fixes


def test_show_fixes_lists_what_was_fixed_per_file_and_rule(tmp_path):
    write(tmp_path, {"m.py": MIXED, "n.py": SOFTMAX + "\n\ndef g(x):\n    return torch.log(torch.softmax(x, 1))\n",
                     "ok.py": "x = 1\n"})
    result = run("fix", *ONLY, "--show-fixes", cwd=tmp_path)
    assert result.code == 1
    assert result.out.splitlines() == [
        f"./m.py:7:16: LOSS102 {NOT_FIXED}",
        "Fixed in ./m.py:",
        "     1  LOSS102  log-of-softmax",
        "     1  LOSS103  log-of-sigmoid",
        "Fixed in ./n.py:",
        "     2  LOSS102  log-of-softmax",
        "Fixed 4 findings in 2 files (1 remaining)",
    ]
    assert run("fix", *ONLY, "--show-fixes", cwd=tmp_path).out.splitlines()[1:] == [
        "Fixed 0 findings in 0 files (1 remaining)"]


# --per-file-ignores, --show-settings, --show-files


def test_per_file_ignores_on_the_command_line(tmp_path):
    write(tmp_path, {"pyproject.toml": '[tool.lossling]\nper-file-ignores = {"src/*" = ["LOSS103"]}\n',
                     "src/a.py": MIXED, "tests/t.py": MIXED, "tests/deep/u.py": MIXED})

    def codes(*flags: str, cwd=tmp_path) -> list[tuple[str, str]]:
        out = run("check", *ONLY, *flags, ".", cwd=cwd).out
        return sorted({(line.split(":")[0], line.split()[1]) for line in out.splitlines()})

    assert ("./src/a.py", "LOSS103") not in codes()
    # the flag replaces the configuration's per-file-ignores; its globs start from the current folder
    assert codes("--per-file-ignores", "tests/*:LOSS102,LOSS103") == [("./src/a.py", "LOSS102"),
                                                                      ("./src/a.py", "LOSS103")]
    assert codes("--per-file-ignores", "tests/*:LOSS1", "--per-file-ignores", "src/a.py:LOSS102") == [
        ("./src/a.py", "LOSS103")]
    assert codes("--per-file-ignores", "t.py:LOSS1", cwd=tmp_path / "tests") == [
        ("./deep/u.py", "LOSS102"), ("./deep/u.py", "LOSS103")]
    fixed = run("fix", *ONLY, "--per-file-ignores", "tests/*:LOSS102", cwd=tmp_path)
    assert fixed.code == 1 and "torch.log(torch.softmax" in (tmp_path / "tests" / "t.py").read_text()
    assert "torch.log(torch.softmax" not in (tmp_path / "src" / "a.py").read_text()
    for value, problem in (("tests/*", "is not GLOB:CODES"), ("tests/*:", "is not GLOB:CODES"),
                           (":LOSS1", "is not GLOB:CODES"), ("tests/*:LOSS999", "unknown rule code 'LOSS999'")):
        result = run("check", "--per-file-ignores", value, cwd=tmp_path)
        assert result.code == 2 and problem in result.err and result.out == ""


def test_show_settings_prints_a_config_that_reads_back(tmp_path):
    write(tmp_path, {"pyproject.toml": '[tool.lossling]\nignore = ["LOSS2"]\nunsafe-fixes = true\n'
                                       'extend-exclude = ["gen"]\n[tool.lossling.options.LOSS501]\nthreshold = 0.1\n'
                                       '[tool.lossling.per-file-ignores]\n"tests/*" = ["LOSS1"]\n',
                     "m.py": MIXED})
    result = run("check", "--show-settings", "m.py", cwd=tmp_path)
    assert (result.code, result.err) == (0, "")
    assert result.out.startswith(f"# settings for m.py, from {tmp_path / 'pyproject.toml'}\n")
    from lossling.config import from_table, load

    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    shown_settings = from_table(tomllib.loads(result.out), root=str(tmp_path))
    actual = load(tmp_path / "pyproject.toml")
    assert [r.code for r in shown_settings.rules()] == [r.code for r in actual.rules()]
    assert not any(code.startswith("LOSS2") for code in tomllib.loads(result.out)["select"])
    for key in ("exclude", "extend_exclude", "per_file_ignores", "unsafe_fixes"):
        assert getattr(shown_settings, key) == getattr(actual, key)
    assert dict(dict(shown_settings.options)["LOSS501"])["threshold"] == 0.1
    # flags are part of what it shows; nothing is checked
    narrowed = tomllib.loads(run("check", "--show-settings", "--select", "LOSS10", "m.py", cwd=tmp_path).out)
    assert narrowed["select"] == [f"LOSS10{i}" for i in range(1, 10)]
    assert "defaults" in run("fix", "--show-settings", "-", cwd=tmp_path.parent).out.splitlines()[0]


def test_show_files_lists_what_would_be_checked(tmp_path):
    write(tmp_path, {"a.py": "x = 1\n", "nb.ipynb": "{}", "pkg/b.pyi": "", "pkg/c.txt": "", "build/d.py": "",
                     "pyproject.toml": '[tool.lossling]\nextend-exclude = ["skip"]\n', "skip/e.py": ""})
    result = run("check", "--show-files", cwd=tmp_path)
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == ["./a.py", "./nb.ipynb", "./pkg/b.pyi"]
    # --exclude replaces the default excludes (build), the configuration's extend-exclude still applies
    assert run("fix", "--show-files", "--exclude", "pkg", cwd=tmp_path).out.splitlines() == [
        "./a.py", "./build/d.py", "./nb.ipynb"]
    assert run("check", "--show-files", "nowhere", cwd=tmp_path).code == 2


# clean


def test_clean_removes_the_caches_here_and_below(tmp_path):
    write(tmp_path, {"m.py": SOFTMAX, "sub/n.py": SOFTMAX, "notes/.lossling_cache/keep.txt": "mine"})
    assert run("check", "--cache-dir", ".lossling_cache", ".", cwd=tmp_path).code == 1
    assert run("check", "--cache-dir", ".lossling_cache", ".", cwd=tmp_path / "sub").code == 1
    assert (tmp_path / ".lossling_cache").is_dir() and (tmp_path / "sub" / ".lossling_cache").is_dir()
    result = run("clean", cwd=tmp_path)
    assert result.code == 2  # one of them is not a cache
    assert result.err.splitlines() == [
        "Removed .lossling_cache",
        "lossling: notes/.lossling_cache holds files that are not cache entries; left as it is",
        "Removed sub/.lossling_cache"]
    assert not (tmp_path / ".lossling_cache").exists() and not (tmp_path / "sub" / ".lossling_cache").exists()
    assert (tmp_path / "notes" / ".lossling_cache" / "keep.txt").read_text() == "mine"
    assert (tmp_path / "m.py").read_text() == SOFTMAX


def test_clean_a_named_cache_folder_and_refuse_anything_else(tmp_path):
    write(tmp_path, {"m.py": SOFTMAX})
    run("check", "--cache-dir", str(tmp_path / "elsewhere"), str(tmp_path))
    assert run("clean", "--cache-dir", "elsewhere", cwd=tmp_path).err == "Removed elsewhere\n"
    assert not (tmp_path / "elsewhere").exists()
    refused = run("clean", "--cache-dir", ".", cwd=tmp_path)
    assert refused.code == 2 and "holds files that are not cache entries" in refused.err
    assert (tmp_path / "m.py").read_text() == SOFTMAX
    assert run("clean", "--cache-dir", "nothing-here", cwd=tmp_path).code == 0
    assert run("clean", cwd=tmp_path).code == 0

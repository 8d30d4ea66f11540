"""The flake8 plugin (entry point ``LOS``), run by the real flake8: the same findings as ``lossling check``,
flake8's own selection and suppression on top, and [tool.lossling] as the one config for every way in."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT
from lossling import flake8_plugin
from lossling.config import Settings
from lossling.engine import SourceError
from lossling.flake8_plugin import Plugin, settings_for
from lossling.rule import all_rules

# flake8's default format, spelled out so that a user's flake8 config cannot change it
FORMAT = "--format=%(path)s:%(row)d:%(col)d: %(code)s %(text)s"
FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>LOSS\d{3}) (?P<message>.*)$")

SOFTMAX = "import torch\n\n\ndef loss(x):\n    return torch.log(torch.softmax(x, 1))\n"
BOTH = SOFTMAX + "\n\ndef bce(z):\n    return torch.log(torch.sigmoid(z))\n"


def flake8(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flake8", FORMAT, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def lossling(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lossling", "check", "-j", "1", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def reported(output: str) -> list[tuple[str, int, int, str]]:
    """(path, line, column, code) of every LOSS line printed."""
    found = [FINDING.match(line) for line in output.splitlines()]
    return sorted((m["path"], int(m["line"]), int(m["col"]), m["code"]) for m in found if m)


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_parity_with_lossling_check_on_every_fixture():
    """Same lines, as printed (path, line, 1-based column, code, message), for every .py file under fixtures/."""
    ours = lossling(ROOT, "fixtures")
    theirs = flake8(ROOT, "--isolated", "--select", "LOSS", "fixtures")
    # a file lossling cannot check (a bad-input sample) is an error on stderr, not a finding: compared elsewhere
    unreadable = {line.split(": error: ")[0].split(":")[0] for line in ours.stderr.splitlines() if ": error: " in line}
    # lossling check marks what `lossling fix` fixes with [*]; flake8 cannot fix, so the plugin does not
    lines = sorted(line.replace(" [*] ", " ", 1) for line in ours.stdout.splitlines()
                   if FINDING.match(line) and FINDING.match(line)["path"].endswith(".py"))
    flake8_lines = sorted(line for line in theirs.stdout.splitlines()
                          if FINDING.match(line) and FINDING.match(line)["path"] not in unreadable)
    assert theirs.returncode in (0, 1), theirs.stderr
    assert lines
    assert flake8_lines == lines


def test_flake8_default_selection_reports_every_default_rule():
    """The default rules are on by default, the opt-in ones are not: flake8 without --select, --select LOSS and
    lossling check agree."""
    defaults = flake8(ROOT, "--isolated", "fixtures")
    selected = flake8(ROOT, "--isolated", "--select", "LOSS", "fixtures")
    assert reported(defaults.stdout) == reported(selected.stdout)
    assert {code for *_, code in reported(selected.stdout)} == {rule.code for rule in all_rules() if rule.default}


def test_default_rule_set_is_every_default_rule(tmp_path):
    """The plugin runs what ``lossling check`` runs by default: every rule but the opt-in ones."""
    defaults = [rule.code for rule in all_rules() if rule.default]
    assert [rule.code for rule in Settings().rules()] == defaults
    assert len(defaults) < len(all_rules())  # the training heuristics are opt-in
    plugin = Plugin(ast.parse(""), [], str(project(tmp_path, {"a.py": ""}) / "a.py"))
    assert [rule.code for rule in plugin.settings.rules()] == defaults
    family = Plugin(ast.parse(""), [], str(project(tmp_path / "family", {
        "pyproject.toml": "[tool.lossling]\nselect = ['LOSS5']\n", "b.py": ""}) / "b.py"))
    assert [rule.code for rule in family.settings.rules()] == [r.code for r in all_rules() if r.code.startswith("LOSS5")]


@pytest.mark.parametrize("config", ["setup.cfg", ".flake8", "tox.ini"])
def test_select_in_flake8_config(tmp_path, config):
    root = project(tmp_path, {"a.py": BOTH, config: "[flake8]\nselect = LOSS\n"})
    run = flake8(root, "a.py")
    assert reported(run.stdout) == [("a.py", 5, 12, "LOSS102"), ("a.py", 9, 12, "LOSS103")]
    assert len(run.stdout.splitlines()) == 2, f"select = LOSS was not applied:\n{run.stdout}"


def test_select_one_code_in_flake8_config(tmp_path):
    root = project(tmp_path, {"a.py": BOTH, ".flake8": "[flake8]\nselect = LOSS103\n"})
    assert reported(flake8(root, "a.py").stdout) == [("a.py", 9, 12, "LOSS103")]


def test_noqa(tmp_path):
    text = BOTH.replace("torch.softmax(x, 1))", "torch.softmax(x, 1))  # noqa: LOSS102")
    text = text.replace("torch.sigmoid(z))", "torch.sigmoid(z))  # noqa: LOSS102")  # another code: still reported
    root = project(tmp_path, {"a.py": text})
    assert reported(flake8(root, "--select", "LOSS", "a.py").stdout) == [("a.py", 9, 12, "LOSS103")]
    assert reported(lossling(root, "a.py").stdout) == [("a.py", 9, 12, "LOSS103")]


MULTILINE_NOQA = """\
import torch


def on_the_reported_line(x):
    return torch.log(  # noqa: LOSS102
        torch.softmax(x, 1)
    )


def on_the_last_line(x):
    return torch.log(
        torch.softmax(x, 1)
    )  # noqa: LOSS102


def inside_the_call(x):
    return torch.log(
        torch.softmax(x, 1)  # noqa: LOSS102
    )


def after_a_backslash(x):
    return torch.log(torch.softmax(x, 1)) + \\
        0  # noqa: LOSS102


def after_a_multiline_string(x):
    return torch.log(torch.softmax(x, 1)), \"\"\"
    text\"\"\"  # noqa: LOSS102
"""


def test_noqa_in_multiline_statements_as_flake8_reads_it(tmp_path):
    """flake8 looks for noqa on the reported line only, or on every line of a backslash continuation or a
    multi-line string; lossling check must silence exactly the same findings."""
    root = project(tmp_path, {"a.py": MULTILINE_NOQA})
    expected = [("a.py", 11, 12, "LOSS102"), ("a.py", 17, 12, "LOSS102")]
    assert reported(flake8(root, "--select", "LOSS", "a.py").stdout) == expected
    assert reported(lossling(root, "a.py").stdout) == expected


def test_extend_ignore_on_the_command_line(tmp_path):
    root = project(tmp_path, {"a.py": BOTH})
    run = flake8(root, "--select", "LOSS", "--extend-ignore", "LOSS102", "a.py")
    assert reported(run.stdout) == [("a.py", 9, 12, "LOSS103")]


def test_per_file_ignores_in_flake8_config(tmp_path):
    config = "[flake8]\nselect = LOSS\nper-file-ignores =\n    a.py: LOSS102\n"
    root = project(tmp_path, {"a.py": BOTH, "b.py": BOTH, ".flake8": config})
    assert reported(flake8(root, ".").stdout) == [
        ("./a.py", 9, 12, "LOSS103"), ("./b.py", 5, 12, "LOSS102"), ("./b.py", 9, 12, "LOSS103")]


@pytest.mark.parametrize("option", ["ignore", "extend-ignore"])
def test_flake8_rejects_loss_codes_in_its_ignore_options(tmp_path, option):
    """The caveat the README documents: flake8 6+ allows at most three letters in a config file's ignore codes."""
    root = project(tmp_path, {"a.py": BOTH, ".flake8": f"[flake8]\n{option} = LOSS102\n"})
    run = flake8(root, "--select", "LOSS", "a.py")
    assert run.returncode == 1
    assert (f"ValueError: Error code 'LOSS102' supplied to '{option}' option does not match "
            "'^[A-Z]{1,3}[0-9]{0,3}$'") in run.stderr


@pytest.mark.parametrize("table, expected", [
    ('ignore = ["LOSS102"]', [("a.py", 9, 12, "LOSS103"), ("sub/b.py", 9, 12, "LOSS103")]),
    ('select = ["LOSS102"]', [("a.py", 5, 12, "LOSS102"), ("sub/b.py", 5, 12, "LOSS102")]),
    ('per-file-ignores = {"sub/*" = ["LOSS1"]}', [("a.py", 5, 12, "LOSS102"), ("a.py", 9, 12, "LOSS103")]),
    ('select = ["LOSS1"]\nignore = ["LOSS103"]\n[tool.lossling.per-file-ignores]\n"a.py" = ["LOSS102"]',
     [("sub/b.py", 5, 12, "LOSS102")]),
])
def test_tool_lossling_config_is_honoured_by_flake8(tmp_path, table, expected):
    """One [tool.lossling] for every way in: flake8 reports what ``lossling check`` reports."""
    root = project(tmp_path, {"a.py": BOTH, "sub/b.py": BOTH,
                              "pyproject.toml": f"[project]\nname = 'x'\n\n[tool.lossling]\n{table}\n"})
    assert reported(flake8(root, "--select", "LOSS", "a.py", "sub/b.py").stdout) == expected
    assert reported(lossling(root, "a.py", "sub/b.py").stdout) == expected


def test_nearest_tool_lossling_per_folder(tmp_path):
    """Each file gets the [tool.lossling] nearest above it, also when one flake8 run spans both folders."""
    root = project(tmp_path, {"a.py": BOTH, "sub/b.py": BOTH,
                              "pyproject.toml": '[tool.lossling]\nignore = ["LOSS103"]\n',
                              "sub/pyproject.toml": '[tool.lossling]\nignore = ["LOSS102"]\n'})
    expected = [("a.py", 5, 12, "LOSS102"), ("sub/b.py", 9, 12, "LOSS103")]
    assert reported(flake8(root, "--select", "LOSS", "a.py", "sub/b.py").stdout) == expected
    assert reported(lossling(root, "a.py", "sub/b.py").stdout) == expected


@pytest.mark.parametrize("table, message", [
    ("bogus = 1", "unknown key 'bogus' in [tool.lossling]"),
    ('ignore = ["LOSS999"]', "unknown rule code 'LOSS999'"),
    ("[tool.lossling.options.LOSS102]\nbogus = 1", "unknown option 'bogus' for LOSS102"),
    ("select = 'LOSS102'", "'select' must be a list of strings"),
])
def test_bad_tool_lossling_stops_flake8_with_the_message(tmp_path, table, message):
    """A bad [tool.lossling] is an error flake8 prints (exit 1), naming the file and the problem, no traceback;
    no --select or # noqa can hide it, as ``lossling check`` exits 2 on it."""
    root = project(tmp_path, {"a.py": BOTH, "b.py": BOTH, "pyproject.toml": f"[tool.lossling]\n{table}\n"})
    for args in (["--select", "LOSS", "a.py"], ["--select", "LOSS103", "-j", "2", "."]):
        run = flake8(root, *args)
        assert run.returncode == 1
        assert "Traceback" not in run.stdout + run.stderr
        assert f"lossling: bad configuration: {root / 'pyproject.toml'}: " in run.stdout
        assert message in run.stdout
        assert not reported(run.stdout)
    assert lossling(root, "a.py").returncode == 2


def test_pyproject_that_is_not_utf8_above_the_file(tmp_path):
    """Another tool's broken pyproject.toml is passed over; one that mentions lossling stops flake8 with why."""
    root = project(tmp_path, {"sub/a.py": BOTH})
    (root / "pyproject.toml").write_bytes("[project]\nname = 'caf\xe9'\n".encode("latin-1"))
    run = flake8(root, "--select", "LOSS", "sub/a.py")
    assert (run.returncode, run.stderr) == (1, "")
    assert reported(run.stdout) == [("sub/a.py", 5, 12, "LOSS102"), ("sub/a.py", 9, 12, "LOSS103")]
    (root / "pyproject.toml").write_bytes("[tool.lossling]\n# caf\xe9\n".encode("latin-1"))
    run = flake8(root, "--select", "LOSS", "sub/a.py")
    assert run.returncode == 1 and "Traceback" not in run.stdout + run.stderr
    assert (f"lossling: bad configuration: {root / 'pyproject.toml'}: cannot read configuration: byte 0xe9 on "
            "line 2 is not UTF-8") in run.stdout
    assert not reported(run.stdout)


def test_file_it_cannot_walk_is_one_finding_on_that_file(monkeypatch):
    """As flake8 reports E902/E999 per file, a file the rules cannot walk is LOSS000 on line 1, the run goes on.
    (flake8 itself fails on nesting deep enough to stop the rules, so the failure is simulated here.)"""
    def too_deep(*args, **kwargs):
        raise SourceError("too deeply nested to check")

    monkeypatch.setattr(flake8_plugin, "analyze", too_deep)
    found = list(Plugin(ast.parse(SOFTMAX), SOFTMAX.splitlines(keepends=True), "a.py").run())
    assert [(line, col, message) for line, col, message, _ in found] == [
        (1, 0, "LOSS000 could not be checked: too deeply nested to check")]


def test_plugin_does_not_parse_and_caches_settings_per_folder(tmp_path, monkeypatch):
    """flake8 hands over the tree: the plugin must not parse again, and must look up the config once per folder."""
    root = project(tmp_path, {"a.py": BOTH, "b.py": BOTH, "sub/c.py": BOTH})
    tree = ast.parse(BOTH)

    def refuse(*args, **kwargs):
        raise AssertionError("the plugin parsed the source again")

    monkeypatch.setattr(ast, "parse", refuse)
    settings_for.cache_clear()
    for name in ("a.py", "b.py", "sub/c.py"):
        found = list(Plugin(tree, BOTH.splitlines(keepends=True), str(root / name)).run())
        assert [(line, col, message.split()[0]) for line, col, message, _ in found] == [
            (5, 11, "LOSS102"), (9, 11, "LOSS103")]
    info = settings_for.cache_info()
    assert (info.misses, info.hits) == (2, 1)

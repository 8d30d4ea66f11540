"""[tool.lossling]: finding it, every key, command-line overrides, and clear errors.

Decision: each checked file uses the nearest pyproject.toml with a [tool.lossling] table above it (as ruff and
the flake8 plugin do), so the configuration is found relative to every path argument and, below a folder
argument, relative to every file in it. ``--config FILE`` applies one file to every path.
"""

from __future__ import annotations


import pytest

from helpers import check, run, write
from lossling import config
from lossling.config import ConfigError, Settings, from_table
from lossling.rule import Rule, all_rules

ONLY = ("--select", "LOSS102,LOSS103")
MIXED = """import torch


def loss(x):
    return torch.log(torch.sigmoid(x)) + torch.log(torch.softmax(x, dim=1))
"""


def reported(out: str) -> list[tuple[str, str]]:
    """(path, code) of every finding line."""
    return [(line.split(":")[0], line.split()[1]) for line in out.splitlines() if ": LOSS" in line]


def toml(**keys: str) -> str:
    return "[tool.lossling]\n" + "".join(f"{key} = {value}\n" for key, value in keys.items())


# finding the configuration


def test_nearest_config_above_each_file(tmp_path):
    write(tmp_path, {
        "pyproject.toml": toml(select='["LOSS102", "LOSS103"]', ignore='["LOSS103"]'),
        "a.py": MIXED,
        "sub/pyproject.toml": toml(select='["LOSS103"]'),
        "sub/b.py": MIXED,
        "sub/plain/pyproject.toml": "[project]\nname = 'x'\n",  # no [tool.lossling]: keep looking upwards
        "sub/plain/c.py": MIXED,
    })
    expected = [("./a.py", "LOSS102"), ("./sub/b.py", "LOSS103"), ("./sub/plain/c.py", "LOSS103")]
    assert reported(run("check", ".", cwd=tmp_path).out) == expected
    # relative to each path argument, whatever the current folder
    out = run("check", str(tmp_path / "a.py"), str(tmp_path / "sub" / "plain"), cwd="/").out
    assert [code for _, code in reported(out)] == ["LOSS102", "LOSS103"]
    assert reported(run("check", "b.py", cwd=tmp_path / "sub").out) == [("b.py", "LOSS103")]


def test_config_option_applies_one_file_to_every_path(tmp_path):
    write(tmp_path, {"pyproject.toml": toml(ignore='["LOSS103"]'), "a.py": MIXED, "sub/b.py": MIXED,
                     "sub/pyproject.toml": toml(ignore='["LOSS102"]'),
                     "conf/lossling.toml": 'select = ["LOSS103"]\n'})
    out = run("check", "--config", "conf/lossling.toml", "a.py", "sub", cwd=tmp_path).out
    assert reported(out) == [("a.py", "LOSS103"), ("sub/b.py", "LOSS103")]
    missing = run("check", "--config", "nope.toml", "a.py", cwd=tmp_path)
    assert missing.code == 2 and missing.err == "lossling: nope.toml: no such configuration file\n"


def test_without_any_config_every_default_rule_runs(tmp_path):
    write(tmp_path, {"a.py": MIXED})
    assert [r.code for r in Settings().rules()] == [r.code for r in all_rules() if r.default]
    assert not Settings().enabled("LOSS501") and Settings(select=("LOSS5",)).enabled("LOSS501")
    assert Settings(extend_select=("LOSS501",)).enabled("LOSS501") and not Settings(select=("LOSS",)).enabled("LOSS501")
    assert [code for _, code in reported(run("check", *ONLY, cwd=tmp_path).out)] == ["LOSS103", "LOSS102"]


@pytest.mark.parametrize("text", [
    "[tool.lossling]\nignore = ['LOSS103']\n",
    "[tool]\nlossling.ignore = ['LOSS103']\n",  # dotted keys
    "tool.lossling.ignore = ['LOSS103']\n",
    "tool = {lossling = {ignore = ['LOSS103']}}\n",  # inline tables
    "[tool]\nlossling = {ignore = ['LOSS103']}\n",
    "[tool.'lossling']\nignore = ['LOSS103']\n",  # a quoted key
])
def test_every_toml_spelling_of_the_table_is_read(tmp_path, text):
    write(tmp_path, {"pyproject.toml": text + "[project]\nname = 'x'\n", "a.py": MIXED})
    assert reported(run("check", cwd=tmp_path).out) == [("./a.py", "LOSS102")]
    bogus = run("check", cwd=write(tmp_path, {"pyproject.toml": text.replace("ignore", "ignroe")}))
    assert bogus.code == 2
    assert "unknown key 'ignroe' in [tool.lossling] (did you mean 'ignore'?)" in bogus.err


def test_config_file_not_named_pyproject_holds_top_level_keys(tmp_path):
    write(tmp_path, {"lossling.toml": "ignore = ['LOSS103']\n", "a.py": MIXED})
    assert reported(run("check", "--config", "lossling.toml", cwd=tmp_path).out) == [("./a.py", "LOSS102")]
    write(tmp_path, {"lossling.toml": "ignore = ['LOSS103']\nbogus = 1\n"})
    bogus = run("check", "--config", "lossling.toml", cwd=tmp_path)
    assert (bogus.code, bogus.out) == (2, "")
    assert bogus.err == f"lossling: {tmp_path / 'lossling.toml'}: unknown key 'bogus'\n"
    write(tmp_path, {"lossling.toml": "[tool.lossling]\nignore = ['LOSS103']\n"})
    nested = run("check", "--config", "lossling.toml", cwd=tmp_path)
    assert nested.code == 2 and "settings go at the top level" in nested.err
    write(tmp_path, {"lossling.toml": "[options.LOSS999]\n"})
    assert "unknown rule 'LOSS999' in [options]" in run("check", "--config", "lossling.toml", cwd=tmp_path).err


def test_config_option_naming_a_pyproject_without_the_table_gives_the_defaults(tmp_path):
    write(tmp_path, {"conf/pyproject.toml": "[project]\nname = 'x'\n", "a.py": MIXED,
                     "pyproject.toml": toml(select='["LOSS103"]')})
    out = run("check", "--config", "conf/pyproject.toml", *ONLY, cwd=tmp_path).out
    assert [code for _, code in reported(out)] == ["LOSS103", "LOSS102"]


LATIN1 = "[project]\nname = 'caf\xe9'\n".encode("latin-1")


def test_a_pyproject_that_is_not_utf8_and_not_ours_is_passed_over(tmp_path):
    """A broken pyproject.toml of another tool, anywhere above the checked file, is no configuration of ours."""
    write(tmp_path, {"sub/a.py": MIXED, "pyproject.toml": toml(select='["LOSS103"]')})
    (tmp_path / "sub" / "pyproject.toml").write_bytes(LATIN1)
    (tmp_path / "sub" / "deeper").mkdir()
    (tmp_path / "sub" / "deeper" / "pyproject.toml").write_bytes(b"not [ toml\n")
    (tmp_path / "sub" / "deeper" / "b.py").write_text(MIXED)
    result = run("check", "sub", cwd=tmp_path)
    assert (result.code, result.err) == (1, "Found 2 findings; 2 fixable with `lossling fix`.\n")
    assert reported(result.out) == [("sub/a.py", "LOSS103"), ("sub/deeper/b.py", "LOSS103")]


def test_a_pyproject_that_is_not_utf8_and_mentions_lossling_is_a_clear_error(tmp_path):
    write(tmp_path, {"sub/a.py": MIXED})
    (tmp_path / "pyproject.toml").write_bytes(LATIN1 + b"[tool.lossling]\nignore = ['LOSS103']\n")
    for command in ("check", "fix"):
        result = run(command, "sub", cwd=tmp_path)
        assert (result.code, result.out) == (2, "")
        assert result.err == (f"lossling: {tmp_path / 'pyproject.toml'}: cannot read configuration: byte 0xe9 on "
                              "line 2 is not UTF-8 (TOML files must be UTF-8)\n")
    assert (tmp_path / "sub" / "a.py").read_text() == MIXED


# every key


@pytest.mark.parametrize("keys, codes", [
    ({"select": '["LOSS102"]'}, ["LOSS102"]),
    ({"select": '["LOSS10"]', "ignore": '["LOSS102"]'}, ["LOSS103"]),
    ({"select": '["LOSS103"]', "extend-select": '["LOSS102"]'}, ["LOSS103", "LOSS102"]),
    ({"select": '["LOSS103"]', "extend_select": '["LOSS102"]'}, ["LOSS103", "LOSS102"]),  # underscores too
    ({"select": "[]"}, []),
])
def test_selection_keys(tmp_path, keys, codes):
    write(tmp_path, {"pyproject.toml": toml(**keys), "a.py": MIXED})
    assert [code for _, code in reported(run("check", cwd=tmp_path).out)] == codes


def test_exclude_and_extend_exclude(tmp_path):
    files = {"a.py": MIXED, "build/b.py": MIXED, "gen/c.py": MIXED, "pkg/gen/d.py": MIXED, "pkg/e.py": MIXED}
    write(tmp_path, {**files, "pyproject.toml": toml(select='["LOSS102"]', exclude='["gen"]')})
    assert [p for p, _ in reported(run("check", cwd=tmp_path).out)] == ["./a.py", "./build/b.py", "./pkg/e.py"]
    write(tmp_path, {"pyproject.toml": toml(select='["LOSS102"]', **{"extend-exclude": '["pkg/gen", "gen/*"]'})})
    assert [p for p, _ in reported(run("check", cwd=tmp_path).out)] == ["./a.py", "./pkg/e.py"]
    # a pattern with a slash is relative to the configuration's folder, wherever the run starts
    assert [p for p, _ in reported(run("check", "pkg", cwd=tmp_path).out)] == ["pkg/e.py"]


def test_per_file_ignores(tmp_path):
    write(tmp_path, {"pyproject.toml": toml(select='["LOSS102", "LOSS103"]', **{
        "per-file-ignores": '{"tests/*" = ["LOSS1"], "legacy_*.py" = ["LOSS103"]}'}),
        "a.py": MIXED, "tests/deep/t.py": MIXED, "pkg/legacy_x.py": MIXED})
    assert reported(run("check", cwd=tmp_path).out) == [
        ("./a.py", "LOSS103"), ("./a.py", "LOSS102"), ("./pkg/legacy_x.py", "LOSS102")]
    # from another folder, the globs still match from the configuration's folder
    assert reported(run("check", "tests", cwd=tmp_path).out) == []
    # fix never rewrites what the configuration turns off
    assert run("fix", cwd=tmp_path).code == 0
    assert (tmp_path / "tests/deep/t.py").read_text() == MIXED
    assert "torch.log(torch.sigmoid(x))" in (tmp_path / "pkg/legacy_x.py").read_text()
    assert "torch.log(torch.softmax" not in (tmp_path / "pkg/legacy_x.py").read_text()


def test_command_line_overrides_config(tmp_path):
    write(tmp_path, {"pyproject.toml": toml(select='["LOSS103"]', ignore='["LOSS102"]',
                                            **{"extend-select": '["LOSS102"]'}), "a.py": MIXED})
    assert [c for _, c in reported(run("check", cwd=tmp_path).out)] == ["LOSS103"]
    # --select is the whole selection (as in ruff): the configuration's ignore no longer applies
    assert [c for _, c in reported(run("check", "--select", "LOSS102", cwd=tmp_path).out)] == ["LOSS102"]
    assert [c for _, c in reported(run("check", "--ignore", "LOSS103", cwd=tmp_path).out)] == []
    # --extend-select adds to the configuration's selection, even what it ignores; --ignore takes away
    assert [c for _, c in reported(run("check", "--extend-select", "LOSS102", cwd=tmp_path).out)] == [
        "LOSS103", "LOSS102"]
    assert [c for _, c in reported(run("check", "--extend-select", "LOSS10", "--ignore", "LOSS102",
                                       cwd=tmp_path).out)] == ["LOSS103"]
    write(tmp_path, {"pyproject.toml": toml(select='["LOSS102"]', exclude='["a.py"]'), "b.py": MIXED})
    assert [p for p, _ in reported(run("check", ".", cwd=tmp_path).out)] == ["./b.py"]
    assert [p for p, _ in reported(run("check", "--exclude", "b.py", ".", cwd=tmp_path).out)] == ["./a.py"]


class _Threshold(Rule):
    """A stand-in rule with options, reporting the option values it was given."""

    code = "LOSS990"
    name = "test-threshold"
    summary = "test"
    options = {"limit": 1.0, "strict": False, "names": ["a"]}

    def check(self, module):
        message = f"limit={self.settings['limit']} strict={self.settings['strict']}"
        yield self.finding(module, module.tree.body[0], message)


@pytest.fixture
def threshold(monkeypatch):
    rules = (*all_rules(), _Threshold)
    monkeypatch.setattr(config, "all_rules", lambda: rules)
    return _Threshold


def test_rule_options(threshold):
    def message(table):
        settings = from_table({"select": ["LOSS990"], **table})
        return check("x = 1\n", "a.py", settings)[0].message

    assert message({}) == "limit=1.0 strict=False"
    assert message({"options": {"LOSS990": {"limit": 3, "strict": True}}}) == "limit=3 strict=True"
    assert message({"options": {"test-threshold": {"limit": 0.5}}}) == "limit=0.5 strict=False"


@pytest.mark.parametrize("table, error", [
    ({"options": {"LOSS990": {"limit": "high"}}}, "option 'limit' of LOSS990 must be float, got str"),
    ({"options": {"LOSS990": {"strict": 1}}}, "option 'strict' of LOSS990 must be bool, got int"),
    ({"options": {"LOSS990": {"limit": True}}}, "option 'limit' of LOSS990 must be float, got bool"),
    ({"options": {"LOSS990": {"names": "a"}}}, "option 'names' of LOSS990 must be list, got str"),
    ({"options": {"LOSS990": {"nope": 1}}}, "unknown option 'nope' for LOSS990 (known: limit, names, strict)"),
    ({"options": {"LOSS999": {}}}, "unknown rule 'LOSS999' in [tool.lossling.options]"),
    ({"options": {"LOSS990": 3}}, "[tool.lossling.options.LOSS990] must be a table"),
    ({"options": []}, "'options' must be a table of rule codes"),
])
def test_bad_options(threshold, table, error):
    with pytest.raises(ConfigError) as raised:
        from_table(table, source="pyproject.toml")
    assert str(raised.value) == f"pyproject.toml: {error}"


@pytest.mark.parametrize("text, error", [
    (toml(selcet='["LOSS102"]'), "unknown key 'selcet' in [tool.lossling]"),
    (toml(select='"LOSS102"'), "'select' must be a list of strings"),
    (toml(ignore='["LOSS102", 3]'), "'ignore' must be a list of strings"),
    (toml(select='["LOSS999"]'), "'select': unknown rule code 'LOSS999'"),
    (toml(ignore='["E501"]'), "'ignore': unknown rule code 'E501'"),
    (toml(**{"extend-select": '["LOSS9"]'}), "'extend-select': unknown rule code 'LOSS9'"),
    (toml(exclude='"build"'), "'exclude' must be a list of strings"),
    (toml(**{"extend-exclude": "3"}), "'extend-exclude' must be a list of strings"),
    (toml(**{"per-file-ignores": '{"tests/*" = ["LOSS998"]}'}),
     "per-file-ignores 'tests/*': unknown rule code 'LOSS998'"),
    (toml(**{"per-file-ignores": '{"tests/*" = "LOSS102"}'}), "'per-file-ignores' must map globs to lists of codes"),
    (toml(**{"per-file-ignores": '["LOSS102"]'}), "'per-file-ignores' must map globs to lists of codes"),
    (toml(**{"unsafe-fixes": '"yes"'}), "'unsafe-fixes' must be true or false"),
    (toml(options='{LOSS102 = {nope = 1}}'), "unknown option 'nope' for LOSS102 (known: none)"),
    ("[tool]\nlossling = 3\n[tool.lossling.x]\n", "cannot read configuration"),
    ("[tool.lossling\n", "cannot read configuration: "),
])
def test_bad_config_is_a_clear_error(tmp_path, text, error):
    write(tmp_path, {"pyproject.toml": text, "a.py": MIXED})
    for command in ("check", "fix"):
        result = run(command, cwd=tmp_path)
        assert result.code == 2
        assert result.out == ""
        assert result.err.startswith(f"lossling: {tmp_path / 'pyproject.toml'}: {error}")
    assert (tmp_path / "a.py").read_text() == MIXED

"""README.md says what the code does: its commands run, its snippets are valid, its rules table is current."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import yaml

from helpers import ROOT
from lossling.config import from_table
from lossling import docs
from lossling.docs import BEGIN, END, rules_table, with_table
from lossling.formats import FORMATS
from lossling.finding import Safety
from lossling.rule import Rule, all_rules

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)


VENV = "python3 -m venv .venv && . .venv/bin/activate && "  # a fresh machine: pip installs into an environment


def test_first_command_checks_the_bundled_examples():
    assert blocks("bash")[0].strip() == VENV + "python -m pip install . && lossling check fixtures/examples"
    run = subprocess.run([sys.executable, "-m", "lossling", "check", "fixtures/examples"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    assert {"LOSS102", "LOSS103"} <= set(re.findall(r": (LOSS\d{3}) ", run.stdout))


def test_test_command_is_what_ci_runs():
    """.ci/run takes the first bash block after the marker; it must stay the install-and-test command."""
    after = README.split("<!-- test-command -->", 1)[1]
    command = re.search(r"^```bash\n(.*?)^```$", after, flags=re.MULTILINE | re.DOTALL).group(1).strip()
    assert command == VENV + 'python -m pip install -e ".[test]" && python -m pytest'


def test_rules_table_is_in_sync_with_the_rules():
    assert README.count(BEGIN) == 1 and README.count(END) == 1
    table = README.split(BEGIN)[1].split(END)[0].strip()
    assert table == rules_table(), "the README's rules table is out of date: run python -m lossling.docs"
    assert with_table(README) == README
    assert rules_table().count("\n") - 1 == len(all_rules())


def test_rules_table_lists_options_with_their_defaults(monkeypatch):
    class Demo(Rule):
        code, name, summary, fix_safety = "LOSS999", "demo", "a | b", Safety.UNSAFE
        options = {"eps": 1e-07, "strict": True, "names": ["a"], "dtype": "float16"}

    monkeypatch.setattr(docs, "all_rules", lambda: (Demo,))
    assert rules_table().splitlines() == [
        "| code | name | severity | default | fix | summary | options (default) |",
        "|---|---|---|---|---|---|---|",
        '| [LOSS999](rules/LOSS999.md) | demo | warning | yes | unsafe | a \\| b | `eps = 1e-07`, `strict = true`, '
        '`names = ["a"]`, `dtype = "float16"` |']


def test_local_links_exist():
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", README)
    assert links
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_configuration_example_is_valid():
    examples = [b for b in blocks("toml") if "[tool.lossling]" in b]
    assert examples
    for example in examples:
        from_table(tomllib.loads(example)["tool"]["lossling"], source="README.md")


def test_ruff_snippet_declares_the_codes_external():
    ruff = next(b for b in blocks("toml") if "[tool.ruff.lint]" in b)
    assert tomllib.loads(ruff)["tool"]["ruff"]["lint"]["external"] == ["LOSS"]


def test_install_lines_install_from_the_clone_not_from_an_index():
    """lossling is not on PyPI: every pip line installs the clone ('.', with extras), never 'lossling' by name."""
    installs = re.findall(r"pip install (?:-e )?(\S+)", README)
    assert installs
    assert all(target.strip('"').startswith(".") for target in installs), installs


def test_pre_commit_snippet_pins_the_version_tag():
    """A branch is a mutable reference pre-commit never fetches again: the example pins this version's tag."""
    from lossling import __version__

    config = yaml.safe_load(next(b for b in blocks("yaml") if "repos:" in b))
    assert [repo["rev"] for repo in config["repos"]] == [f"v{__version__}"]
    assert f"git tag v{__version__}" in README


def test_pre_commit_snippet_names_real_hooks():
    manifest = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    config = yaml.safe_load(next(b for b in blocks("yaml") if "repos:" in b))
    used = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    assert used and used <= manifest
    for hook in manifest:
        assert f"`{hook}`" in README


def test_every_output_format_is_described():
    for fmt in FORMATS:
        assert f"`{fmt}`" in README


def test_editor_snippets_start_the_server_with_valid_options():
    from lossling.server.settings import options

    section = README.split("### Editors: `lossling server`", 1)[1].split("\n## ", 1)[0]
    snippets = re.findall(r"^```(?:json|lua|toml|elisp)\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    assert len(snippets) == 6  # VS Code, Neovim (two ways), Helix, Zed, Emacs
    for snippet in snippets:
        assert '"lossling"' in snippet and '"server"' in snippet, snippet  # the command: lossling server
    documented = json.loads(re.search(r"`(\{\"select\".*?\})`", section).group(1))
    helix = tomllib.loads(next(s for s in snippets if "[language-server.lossling]" in s))
    for raw in (documented, helix["language-server"]["lossling"]["config"]):
        chosen, problems = options(raw)
        assert problems == [] and chosen.fix_all is True


def test_every_command_and_option_is_in_the_readme():
    import argparse

    from lossling.cli import _parser

    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, sub in commands.choices.items():
        if f"lossling {name}" not in README:
            missing.append(f"lossling {name}")
        for action in sub._actions:
            long = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
            if long and not any(re.search(rf"[`/]{re.escape(o)}(?![-\w])", README) for o in long):
                missing.append(f"{name} {long[0]}")
    assert not missing, f"not in README.md: {missing}"

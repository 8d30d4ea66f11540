"""The pre-commit hooks, run by the real ``pre-commit try-repo`` against a temporary repository with a bad file.

try-repo installs lossling from a git repository into pre-commit's own virtual environment (pip; packages may come
from PyPI). The checkout may hold uncommitted work, so the test commits a snapshot of the working tree (the files
git would track: tracked and untracked, minus .gitignore) in a temporary repository and tries that. Both hooks run
in one try-repo call, so lossling is installed once: about 8 s here, most of it pip (longer where pip
must download libcst and astroid).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import ROOT, fix

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")

BAD = """\
import torch


def log_probs(logits):
    return torch.log(torch.softmax(logits, dim=1))
"""

GIT = ("git", "-c", "user.name=lossling tests", "-c", "user.email=tests@lossling.invalid",
       "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main")


def _env(home: Path) -> dict[str, str]:
    # GIT_DIR and friends (set when pytest runs inside a git hook) would point git at the wrong repository
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never", PIP_NO_INPUT="1")
    return env


def _git(cwd: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, env=_env(cwd))


def _snapshot(dest: Path) -> None:
    """The working tree as the next commit would hold it, committed in a fresh repository at ``dest``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is skipped
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "snapshot")


def _sections(output: str) -> dict[str, str]:
    """pre-commit's report, split per hook id: what follows ``- hook id: ID`` up to the next hook's status line."""
    parts = re.split(r"^- hook id: (\S+)$", output, flags=re.MULTILINE)
    return {hook: re.split(r"^\S.*\.{3,}(?:Passed|Failed|Skipped)", text, flags=re.MULTILINE)[0]
            for hook, text in zip(parts[1::2], parts[2::2])}


def test_manifest_declares_both_hooks():
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"lossling", "lossling-fix"}
    assert hooks["lossling"]["entry"] == "lossling check"
    assert hooks["lossling-fix"]["entry"] == "lossling fix"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types_or"] == ["python", "jupyter"]


def test_try_repo_check_fails_and_fix_rewrites(tmp_path):
    repo, project = tmp_path / "lossling", tmp_path / "project"
    repo.mkdir()
    project.mkdir()
    _snapshot(repo)
    bad = project / "bad.py"
    bad.write_text(BAD)
    _git(project, "init", "-q")
    _git(project, "add", "bad.py")

    run = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(repo), "--all-files"], cwd=project,
                         capture_output=True, text=True, env=_env(tmp_path / "pre-commit-home"), timeout=1200)
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert re.search(r"^lossling\.+Failed$", output, re.MULTILINE), output
    assert re.search(r"^lossling \(fix\)\.+Failed$", output, re.MULTILINE), output

    sections = _sections(output)
    check, fixing = sections["lossling"], sections["lossling-fix"]
    assert "- exit code: 1" in check
    assert "bad.py:5:12: LOSS102 [*] log of softmax underflows to -inf; use torch.log_softmax" in check
    assert "- files were modified by this hook" in fixing
    assert "Fixed 1 finding in 1 file (0 remaining)" in fixing

    fixed = bad.read_text()
    assert fixed == fix(BAD, path="bad.py")
    assert "return torch.log_softmax(logits, dim=1)\n" in fixed

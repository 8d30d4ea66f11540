"""Applying fixes: only the rewritten expression changes, imports are added once, writes are atomic."""

from __future__ import annotations

import os
import stat
import tempfile

import pytest

from helpers import UnsafeEps, check, fix_path, fixed, run
from lossling import files
from lossling.config import Settings
from lossling.files import write_file
from lossling.finding import Safety
from lossling.rule import Rule

SETTINGS = Settings(select=("LOSS102", "LOSS103"))
ONLY = ("--select", "LOSS102,LOSS103")
SOFTMAX = "import torch\n\n\ndef loss(x):\n    return torch.log(torch.softmax(x, dim=1))\n"
FIXED = SOFTMAX.replace("torch.log(torch.softmax(x, dim=1))", "torch.log_softmax(x, dim=1)")


def fix(text: str, unsafe: bool = False) -> str:
    return fixed(text, unsafe, "m.py", SETTINGS).after


def test_only_the_rewritten_expression_changes():
    text = '''"""Losses."""
import torch   # the framework

# a comment that stays
def loss(x,y):   # odd spacing stays
    a = torch.log(torch.softmax(x, dim=1))  # trailing comment stays
    b = (y+1)*2 ;  c = torch.log(torch.sigmoid(y))
    return a+b+c   # noqa: E226
'''
    assert fix(text) == text.replace("torch.log(torch.softmax(x, dim=1))", "torch.log_softmax(x, dim=1)").replace(
        "torch.log(torch.sigmoid(y))", "torch.nn.functional.logsigmoid(y)")


def test_idempotent():
    text = SOFTMAX + "\n\ndef g(z):\n    return torch.log(1 - torch.sigmoid(z)) + torch.log(torch.sigmoid(z))\n"
    once = fix(text)
    assert once != text and fix(once) == once
    assert check(once, "m.py", SETTINGS) == []


def test_nested_findings_are_fixed_over_passes():
    text = "import torch\n\n\ndef f(x):\n    return torch.log(torch.softmax(torch.log(torch.softmax(x, 1)), 1))\n"
    assert fix(text).endswith("    return torch.log_softmax(torch.log_softmax(x, 1), 1)\n")


def test_top_level_statements_sharing_a_line_and_decorators():
    text = ("import torch\nx = torch.ones(3)\n"
            "a = 1; b = torch.log(torch.softmax(x, 0)); c = (\n    2)\n"
            "@torch.no_grad()\n@staticmethod\ndef f(x):\n    return torch.log(torch.softmax(x, 0))\n")
    assert fix(text) == text.replace("torch.log(torch.softmax(x, 0))", "torch.log_softmax(x, 0)")


def test_needed_import_is_added_once_next_to_the_others():
    text = '''"""Module docstring."""
from __future__ import annotations

import os
from jax.numpy import log
from jax.nn import sigmoid, softmax

X = 1


def f(x):
    return log(softmax(x)) + log(sigmoid(x)) + log(1 - sigmoid(x))


def g(x):
    return log(softmax(x, axis=0))
'''
    result = fix(text)
    assert result == text.replace("from jax.nn import sigmoid, softmax\n",
                                  "from jax.nn import sigmoid, softmax\nimport jax\n").replace(
        "log(softmax(x)) + log(sigmoid(x)) + log(1 - sigmoid(x))",
        "jax.nn.log_softmax(x) + jax.nn.log_sigmoid(x) + jax.nn.log_sigmoid(-x)").replace(
        "log(softmax(x, axis=0))", "jax.nn.log_softmax(x, axis=0)")
    assert fix(result) == result


def test_import_is_not_added_twice_across_runs():
    text = ("import jax\nfrom jax.numpy import log\nfrom jax.nn import softmax\n\n\n"
            "def f(x):\n    return log(softmax(x))\n")
    result = fix(text)
    assert result.count("import jax\n") == 1
    assert "return jax.nn.log_softmax(x)" in result


def test_safe_only_by_default():
    text = "import torch\n\n\ndef f(p):\n    return torch.log(p)\n"
    result = fixed(text, path="m.py", rules=[UnsafeEps()])
    assert result.after == text and result.fixed == [] and [f.line for f in result.remaining] == [5]
    result = fixed(text, unsafe=True, path="m.py", rules=[UnsafeEps()])
    assert result.after == text.replace("torch.log(p)", "torch.log(p + 1e-12)") and len(result.fixed) == 1
    assert result.remaining == []


class _Broken(Rule):
    code = "LOSS102"
    name = "test-broken"
    summary = "test"
    fix_safety = Safety.SAFE

    def check(self, module):
        for log in module.ops("log"):
            yield self.finding(module, log.node, "broken", self.replace(module, log.node, "torch.log("))


def test_a_fix_that_breaks_the_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(Settings, "rules", lambda self, path=None: [_Broken()])
    path = tmp_path / "m.py"
    path.write_text(SOFTMAX)
    result = run("fix", "m.py", cwd=tmp_path)
    assert result.code == 2
    assert result.err.startswith("m.py:1:1: error: internal error: a fix is not valid Python")
    assert path.read_text() == SOFTMAX


def test_a_crashing_rule_is_reported_and_the_run_goes_on(tmp_path, monkeypatch):
    def crash(self, module):
        raise KeyError("boom")

    (tmp_path / "a.py").write_text(SOFTMAX)
    (tmp_path / "b.py").write_text("x = 1\n")
    monkeypatch.setattr(_Broken, "check", crash)
    monkeypatch.setattr(Settings, "rules", lambda self, path=None: [_Broken()])
    for command in ("check", "fix"):
        result = run(command, ".", cwd=tmp_path)
        assert result.code == 2
        assert "./a.py:1:1: error: internal error, please report it: KeyError: 'boom'" in result.err
    assert (tmp_path / "a.py").read_text() == SOFTMAX


# writing


def _no_temporaries(folder) -> bool:
    return not [name for name in os.listdir(folder) if name.startswith(".lossling-")]


def test_mode_is_kept(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(SOFTMAX)
    os.chmod(path, 0o640)
    assert run("fix", *ONLY, "m.py", cwd=tmp_path).code == 0
    assert path.read_text() == FIXED
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert _no_temporaries(tmp_path)


def _fail_once(monkeypatch, name: str, error: BaseException) -> None:
    """``files.os.<name>`` raises ``error`` the first time it is called, then works again."""
    real, calls = getattr(files.os, name), []

    def fail(*args):
        calls.append(args)
        if len(calls) == 1:
            raise error
        return real(*args)

    monkeypatch.setattr(files.os, name, fail)


@pytest.mark.parametrize("failing", ["fsync", "write", "ftruncate"])
def test_a_write_that_fails_midway_leaves_the_original(tmp_path, monkeypatch, failing):
    """fsync fails on the temporary copy, before the file is touched; write and ftruncate fail while the file is
    overwritten in place, and the original bytes are written back."""
    path = tmp_path / "m.py"
    path.write_text(SOFTMAX)
    other = tmp_path / "n.py"
    other.write_text(SOFTMAX)
    _fail_once(monkeypatch, failing, OSError(28, "No space left on device"))
    result = run("fix", *ONLY, "m.py", cwd=tmp_path)
    assert result.code == 2
    assert result.err == "m.py:1:1: error: cannot write: No space left on device; left unchanged\n"
    assert path.read_text() == SOFTMAX
    assert _no_temporaries(tmp_path)


def test_interrupted_write_leaves_the_original_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "m.py"
    path.write_text(SOFTMAX)
    _fail_once(monkeypatch, "ftruncate", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        write_file(str(path), b"new")
    assert path.read_text() == SOFTMAX and _no_temporaries(tmp_path)


def test_a_file_neither_written_nor_restored_keeps_its_fixed_copy(tmp_path, monkeypatch):
    path = tmp_path / "m.py"
    path.write_text(SOFTMAX)

    def fail(*args):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(files.os, "ftruncate", fail)
    result = run("fix", *ONLY, "m.py", cwd=tmp_path)
    [copy] = [name for name in os.listdir(tmp_path) if name.startswith(".lossling-")]
    assert result.code == 2
    assert result.err == (f"m.py:1:1: error: cannot write: Input/output error; the file may be incomplete, its "
                          f"fixed text is in {tmp_path / copy}\n")
    assert (tmp_path / copy).read_text() == FIXED


def test_read_only_folder_is_reported(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "m.py").write_text(SOFTMAX)
    (tmp_path / "ok.py").write_text(SOFTMAX)
    os.chmod(folder, 0o555)
    try:
        if os.geteuid() == 0:  # root writes anyway: make the temporary file fail as it would for a user
            real = tempfile.mkstemp

            def refuse(*args, dir=None, **kwargs):
                if dir == str(folder):
                    raise PermissionError(13, "Permission denied")
                return real(*args, dir=dir, **kwargs)

            monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
        result = run("fix", *ONLY, ".", cwd=tmp_path)
    finally:
        os.chmod(folder, 0o755)
    assert result.code == 2
    assert result.err == "./ro/m.py:1:1: error: cannot write: Permission denied; left unchanged\n"
    # issue 14 item 8: the finding of the file that could not be written remains, and is counted
    assert result.out == ("./ro/m.py:5:12: LOSS102 log of softmax underflows to -inf; use torch.log_softmax\n"
                          "Fixed 1 finding in 1 file (1 remaining)\n")
    assert (folder / "m.py").read_text() == SOFTMAX
    assert (tmp_path / "ok.py").read_text() == FIXED


def test_read_only_file_is_refused(tmp_path):
    """Issue 14 items 6 and 8: replacing a file through its folder needs no write permission on the file, so a
    mode 444 file used to be rewritten; it is refused, as ruff refuses it, and its finding remains."""
    path = tmp_path / "m.py"
    path.write_text(SOFTMAX)
    os.chmod(path, 0o444)
    try:
        result = run("fix", *ONLY, "m.py", cwd=tmp_path)
        assert result.code == 2
        assert result.err == "m.py:1:1: error: cannot write: the file is read-only; left unchanged\n"
        assert result.out == ("m.py:5:12: LOSS102 log of softmax underflows to -inf; use torch.log_softmax\n"
                              "Fixed 0 findings in 0 files (1 remaining)\n")
        assert path.read_text() == SOFTMAX and stat.S_IMODE(os.stat(path).st_mode) == 0o444
        assert run("fix", *ONLY, "--diff", "m.py", cwd=tmp_path).code == 1  # a diff writes nothing: it is shown
    finally:
        os.chmod(path, 0o644)


def test_inode_owner_and_hard_links_are_kept(tmp_path):
    """Issue 14 item 7: ``os.replace`` gave the file a new inode and lossling's owner, and split hard links."""
    path = tmp_path / "m.py"
    path.write_text(SOFTMAX)
    os.link(path, tmp_path / "twin.py")
    if os.geteuid() == 0:  # only root can give the file another owner to keep
        os.chown(path, 12345, 23456)
    before = os.stat(path)
    assert run("fix", *ONLY, "m.py", cwd=tmp_path).code == 0
    after = os.stat(path)
    assert path.read_text() == (tmp_path / "twin.py").read_text() == FIXED
    assert (after.st_ino, after.st_nlink, after.st_uid, after.st_gid) == (
        before.st_ino, 2, before.st_uid, before.st_gid)
    assert _no_temporaries(tmp_path)


def test_symlink_is_written_through_and_stays_a_link(tmp_path):
    target = tmp_path / "real" / "m.py"
    target.parent.mkdir()
    target.write_text(SOFTMAX)
    link = tmp_path / "link.py"
    os.symlink(target, link)
    result = run("fix", *ONLY, "link.py", cwd=tmp_path)
    assert result.code == 0
    assert os.path.islink(link) and os.readlink(link) == str(target)
    assert target.read_text() == FIXED
    assert _no_temporaries(tmp_path) and _no_temporaries(target.parent)


def test_fix_file_outcome(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(SOFTMAX)
    outcome = fix_path(path, SETTINGS, write=False)
    assert outcome.changed and outcome.after == FIXED and path.read_text() == SOFTMAX
    assert [f.code for f in outcome.fixed] == ["LOSS102"] and outcome.remaining == []

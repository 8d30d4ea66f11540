"""The result cache: hits on unchanged files, misses on any change of content, settings or selection, and output
identical to an uncached run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES, run, write
from lossling import runner

SOFTMAX = "import torch\n\n\ndef loss(x):\n    return torch.log(torch.softmax(x, dim=1))\n"
QUIET = "import torch\n\n\ndef loss(x):\n    return torch.log_softmax(x, dim=1)\n"


@pytest.fixture
def checked(monkeypatch) -> list[str]:
    """The paths lossling actually checked (a cache hit does not check)."""
    paths: list[str] = []
    real = runner.check_document

    def counting(document, rules):
        paths.append(Path(document.path).name)
        return real(document, rules)

    monkeypatch.setattr(runner, "check_document", counting)
    return paths


def project(tmp_path: Path, **files: str) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name, text in files.items():
        (root / f"{name}.py").write_text(text)
    return root


def cached_check(root: Path, cache: Path, *flags: str):
    return run("check", "--cache-dir", str(cache), *flags, str(root))


def test_unchanged_file_is_a_hit(tmp_path, checked):
    root = project(tmp_path, a=SOFTMAX, b=QUIET)
    first = cached_check(root, tmp_path / "cache")
    assert sorted(checked) == ["a.py", "b.py"]
    second = cached_check(root, tmp_path / "cache")
    assert sorted(checked) == ["a.py", "b.py"]  # nothing checked again
    assert (second.code, second.out, second.err) == (first.code, first.out, first.err)
    assert "LOSS102" in second.out


def test_content_change_is_a_miss(tmp_path, checked):
    root = project(tmp_path, a=SOFTMAX, b=QUIET)
    cached_check(root, tmp_path / "cache")
    (root / "b.py").write_text(SOFTMAX)
    second = cached_check(root, tmp_path / "cache")
    assert sorted(checked) == ["a.py", "b.py", "b.py"]
    assert second.out.count("LOSS102") == 2


def test_settings_change_is_a_miss(tmp_path, checked):
    root = project(tmp_path, a=SOFTMAX)
    config = root / "pyproject.toml"
    config.write_text("[tool.lossling.options.LOSS501]\nthreshold = 0.01\n")
    cached_check(root, tmp_path / "cache")
    config.write_text("[tool.lossling.options.LOSS501]\nthreshold = 0.1\n")
    cached_check(root, tmp_path / "cache")
    assert checked == ["a.py", "a.py"]


def test_other_rule_selection_is_a_miss(tmp_path, checked):
    root = project(tmp_path, a=SOFTMAX)
    quiet = cached_check(root, tmp_path / "cache", "--select", "LOSS103")
    loud = cached_check(root, tmp_path / "cache", "--select", "LOSS102")
    assert checked == ["a.py", "a.py"]
    assert (quiet.code, loud.code) == (0, 1)


def test_no_cache_reads_and_writes_nothing(tmp_path, checked):
    root = project(tmp_path, a=SOFTMAX)
    cache = tmp_path / "cache"
    for _ in range(2):
        assert run("check", "--no-cache", "--cache-dir", str(cache), str(root)).code == 1
    assert checked == ["a.py", "a.py"]
    assert not cache.exists()


def test_a_cache_that_cannot_be_written_is_not_an_error(tmp_path):
    root = project(tmp_path, a=SOFTMAX)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be\n")
    result = cached_check(root, blocked)
    assert result.code == 1 and "LOSS102" in result.out and result.err == "Found 1 finding; 1 fixable with `lossling fix`.\n"
    assert result.out == run("check", str(root)).out


def test_a_corrupt_entry_is_a_miss(tmp_path, checked):
    root = project(tmp_path, a=SOFTMAX)
    cache = tmp_path / "cache"
    first = cached_check(root, cache)
    for entry in cache.rglob("*.json"):
        entry.write_text("{not json")
    assert cached_check(root, cache).out == first.out
    assert checked == ["a.py", "a.py"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_cached_output_equals_uncached(tmp_path, jobs):
    """Findings with fixes, notebooks and syntax errors come back from the cache exactly as they were found."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "examples", root)
    shutil.copy(FIXTURES / "notebooks" / "torch_training.ipynb", root)
    (root / "broken.py").write_text("def f(:\n")
    cache = str(tmp_path / "cache")
    for fmt in ("text", "json"):
        plain = run("check", "-j", jobs, "--no-cache", "--format", fmt, str(root))
        first = run("check", "-j", jobs, "--cache-dir", cache, "--format", fmt, str(root))
        second = run("check", "-j", jobs, "--cache-dir", cache, "--format", fmt, str(root))
        assert plain.code == 2 and "broken.py" in plain.out + plain.err and "torch_training.ipynb" in plain.out
        assert (first.code, first.out, first.err) == (plain.code, plain.out, plain.err)
        assert (second.code, second.out, second.err) == (plain.code, plain.out, plain.err)


def test_fix_skips_cached_files_without_fixes_and_fixes_the_others(tmp_path, monkeypatch):
    root = project(tmp_path, a=SOFTMAX, b=QUIET)
    cache = str(tmp_path / "cache")
    run("check", "--cache-dir", cache, str(root))
    fixed: list[str] = []
    real = runner.fix_document

    def counting(document, *args):
        fixed.append(Path(document.path).name)
        return real(document, *args)

    monkeypatch.setattr(runner, "fix_document", counting)
    result = run("fix", "--cache-dir", cache, str(root))
    assert fixed == ["a.py"]  # b.py had nothing to fix: its cached result says so
    assert "log_softmax" in (root / "a.py").read_text()
    assert result.code == 0 and (root / "b.py").read_text() == QUIET


def test_a_changed_module_that_a_value_was_inferred_from_is_a_miss(tmp_path):
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "config.py").write_text("EPS = 1e-7\n")
    (root / "pkg" / "loss.py").write_text(
        "import torch\nfrom .config import EPS\n\n\ndef bce_loss(p, y):\n"
        "    p = torch.clamp(p, EPS, 1 - EPS)\n    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()\n")
    assert "LOSS401" not in cached_check(root, tmp_path / "cache").out
    (root / "pkg" / "config.py").write_text("EPS = 1e-8  # now absorbed by 1 - EPS in float32\n")
    assert "LOSS401" in cached_check(root, tmp_path / "cache").out


def test_a_same_size_edit_that_keeps_the_time_is_a_miss(tmp_path):
    """Issue 14 item 14: an entry remembered the size and mtime of the modules a value came from, so an edit that
    kept both (20 of 20 tries) gave the stale result; it remembers their content's hash."""
    root = tmp_path / "project"
    write(root, {"pkg/__init__.py": "", "pkg/config.py": "EPS = 1e-7\n",
                 "pkg/loss.py": "import torch\nfrom .config import EPS\n\n\ndef bce_loss(p, y):\n"
                                "    p = torch.clamp(p, EPS, 1 - EPS)\n"
                                "    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()\n"})
    config = root / "pkg" / "config.py"

    def separate_run() -> str:  # a process of its own, as two runs of a user are (nothing kept in memory)
        return subprocess.run([sys.executable, "-m", "lossling", "check", "--cache-dir", str(tmp_path / "cache"),
                               str(root)], capture_output=True, text=True, timeout=300).stdout

    assert "LOSS401" not in separate_run()
    before = os.stat(config)
    config.write_text("EPS = 1e-8\n")  # the same size; 1 - 1e-8 is 1 in float32
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(config).st_size == before.st_size and os.stat(config).st_mtime_ns == before.st_mtime_ns
    assert "LOSS401" in separate_run()

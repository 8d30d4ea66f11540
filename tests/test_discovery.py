"""Which files a run checks: recursion, excludes, explicit files, symlinks."""

from __future__ import annotations

import os
from pathlib import Path

from helpers import run
from lossling.config import Settings
from lossling.discovery import discover

BAD = "import torch\n\n\ndef loss(x):\n    return torch.log(torch.softmax(x, dim=1))\n"


def tree(root: Path, *names: str) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BAD)
    return root


def found(root: Path, settings: Settings | None = None, *paths: str) -> list[str]:
    settings = settings or Settings()
    files = discover([str(root / p) for p in paths] or [str(root)], lambda path: settings)
    return [Path(f).relative_to(root).as_posix() for f in files]


def test_recursion_and_suffixes(tmp_path):
    tree(tmp_path, "a.py", "pkg/b.py", "pkg/deep/c.pyi", "pkg/notes.txt", "pkg/deep/d.py")
    assert found(tmp_path) == ["a.py", "pkg/b.py", "pkg/deep/c.pyi", "pkg/deep/d.py"]


def test_default_excludes(tmp_path):
    excluded = [".git", ".hg", ".venv", "venv", "env", "build", "dist", "__pycache__", ".tox", ".nox", ".eggs",
                "node_modules", "site-packages"]
    tree(tmp_path, "keep.py", "src/lib/site-packages/x.py", *(f"{name}/x.py" for name in excluded))
    assert found(tmp_path) == ["keep.py"]


def test_exclude_replaces_defaults_and_extend_exclude_adds(tmp_path):
    tree(tmp_path, "a.py", "build/b.py", "gen/c.py", "pkg/gen_d.py", "pkg/e.py")
    assert found(tmp_path, Settings(exclude=("gen",))) == ["a.py", "build/b.py", "pkg/e.py", "pkg/gen_d.py"]
    assert found(tmp_path, Settings(extend_exclude=("gen*",))) == ["a.py", "pkg/e.py"]
    rooted = Settings(root=str(tmp_path), extend_exclude=("pkg/e.py",))
    assert found(tmp_path, rooted) == ["a.py", "gen/c.py", "pkg/gen_d.py"]


def test_cli_exclude_flags(tmp_path):
    tree(tmp_path, "a.py", "build/b.py", "gen/c.py")
    listed = run("check", "--select", "LOSS102", "--exclude", "gen", ".", cwd=tmp_path).out
    assert [line.split(":")[0] for line in listed.splitlines()] == ["./a.py", "./build/b.py"]
    listed = run("check", "--select", "LOSS102", "--extend-exclude", "gen", ".", cwd=tmp_path).out
    assert [line.split(":")[0] for line in listed.splitlines()] == ["./a.py"]


def test_explicit_files_are_always_checked(tmp_path):
    tree(tmp_path, "build/b.py", "script")
    assert found(tmp_path, None, "build/b.py", "script") == ["build/b.py", "script"]
    result = run("check", "--select", "LOSS102", "build/b.py", "script", cwd=tmp_path)
    assert result.code == 1
    assert [line.split(":")[0] for line in result.out.splitlines()] == ["build/b.py", "script"]


def test_named_folder_inside_an_excluded_one_is_walked(tmp_path):
    tree(tmp_path, "build/b.py")
    assert found(tmp_path, None, "build") == ["build/b.py"]


def test_symlink_loop_does_not_hang(tmp_path):
    tree(tmp_path, "pkg/a.py")
    os.symlink("..", tmp_path / "pkg" / "up")
    os.symlink(tmp_path / "pkg", tmp_path / "pkg" / "self")
    os.symlink("loop2", tmp_path / "loop1")
    os.symlink("loop1", tmp_path / "loop2")
    assert found(tmp_path) == ["pkg/a.py"]


def test_symlinked_file_and_folder_checked_once(tmp_path):
    tree(tmp_path, "a.py", "real/b.py")
    os.symlink("a.py", tmp_path / "z_link.py")
    os.symlink("real", tmp_path / "z_alias")
    assert found(tmp_path) == ["a.py", "real/b.py"]
    assert found(tmp_path, None, "a.py", "z_link.py", "a.py") == ["a.py"]


def test_broken_links_and_special_files_are_skipped_in_folders(tmp_path):
    tree(tmp_path, "a.py")
    os.symlink("missing.py", tmp_path / "broken.py")
    os.mkfifo(tmp_path / "pipe.py")  # opening it would block forever
    assert found(tmp_path) == ["a.py"]


def test_missing_path_is_an_error_and_the_rest_is_checked(tmp_path):
    tree(tmp_path, "a.py")
    result = run("check", "--select", "LOSS102", "nothere.py", "a.py", cwd=tmp_path)
    assert result.code == 2
    assert "nothere.py:1:1: error: no such file or folder" in result.err
    assert result.out.startswith("a.py:5:12: LOSS102")

"""Which files a run checks: explicitly named files always; directories recursively, minus the excludes."""

from __future__ import annotations

import os
from typing import Callable, Iterator

from .config import Settings
from .document import Document, PythonSource
from .notebook import Notebook

SUFFIXES = (".py", ".pyi", ".ipynb")


def kind_of(path: str) -> type[Document]:
    """What kind of document a file is: the one place this is decided (for files found or named, and for the
    name standard input stands for)."""
    return Notebook if path.endswith(".ipynb") else PythonSource


def discover(paths: list[str], settings_for: Callable[[str], Settings]) -> Iterator[str]:
    """Files under ``paths`` in a stable order, each once (a file reached through a symlink counts as its target).

    A folder's entries are excluded by the settings of that folder (``settings_for(folder)``: its nearest
    configuration). Symlinked folders are followed once, so loops cannot hang the walk; entries that are neither
    folders nor regular files (broken links, sockets, FIFOs) are skipped unless named explicitly.
    """
    seen: set[str] = set()
    for path in paths:
        if os.path.isdir(path):
            yield from _walk(path, settings_for, seen)
        elif _first_visit(path, seen):
            yield path


def _first_visit(path: str, seen: set[str]) -> bool:
    real = os.path.realpath(path)
    if real in seen:
        return False
    seen.add(real)
    return True


def _walk(top: str, settings_for: Callable[[str], Settings], seen: set[str]) -> Iterator[str]:
    visited: set[tuple[int, int]] = set()
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            info = os.stat(folder)
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) in visited:
            continue
        visited.add((info.st_dev, info.st_ino))
        settings = settings_for(folder)
        subfolders = []
        for entry in entries:
            path = os.path.join(folder, entry.name)
            if settings.excluded(path, top):
                continue
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()
            except OSError:
                continue
            if is_dir:
                subfolders.append(path)
            elif is_file and entry.name.endswith(SUFFIXES) and _first_visit(path, seen):
                yield path
        stack.extend(reversed(subfolders))

"""Which files a run checks: explicitly named files always; directories recursively, minus the excludes."""

from __future__ import annotations

import os
from typing import Iterator

from .config import Settings

SUFFIXES = (".py", ".pyi", ".ipynb")


def discover(paths: list[str], settings: Settings) -> Iterator[str]:
    """Files under ``paths`` in a stable order. Symlinked folders are followed once (loops cannot hang it)."""
    seen: set[str] = set()
    for path in paths:
        if os.path.isdir(path):
            yield from _walk(path, settings, seen)
        else:
            real = os.path.realpath(path)
            if real not in seen:
                seen.add(real)
                yield path


def _walk(top: str, settings: Settings, seen: set[str]) -> Iterator[str]:
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
        subfolders = []
        for entry in entries:
            path = os.path.join(folder, entry.name)
            if settings.excluded(path, top):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                subfolders.append(path)
            elif entry.name.endswith(SUFFIXES):
                real = os.path.realpath(path)
                if real not in seen:
                    seen.add(real)
                    yield path
        stack.extend(reversed(subfolders))

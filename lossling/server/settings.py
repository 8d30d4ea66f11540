"""The settings of each file an editor opens: its nearest ``[tool.lossling]`` (as ``lossling check`` finds it),
under the options the client sends, reloaded when a configuration file changes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import ConfigError, Settings, check_codes, find_config, forget, load, override


@dataclass(frozen=True)
class Options:
    """The client's options (``initializationOptions``, or ``workspace/didChangeConfiguration`` settings): the
    command line's ``--select``, ``--ignore`` and ``--unsafe-fixes``, and whether to offer Fix All."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    unsafe_fixes: bool | None = None
    fix_all: bool = True


def options(raw: Any) -> tuple[Options, list[str]]:
    """Options from the client's JSON, and a message for each entry that is wrong (that entry is left out).
    The options may sit under a ``lossling`` key; ``unsafe-fixes`` may be spelled ``unsafeFixes``."""
    if isinstance(raw, dict) and isinstance(raw.get("lossling"), dict):
        raw = raw["lossling"]
    if raw is None:
        return Options(), []
    if not isinstance(raw, dict):
        return Options(), ["lossling: the client's options must be an object"]
    values: dict[str, Any] = {}
    problems = []
    for key, value in raw.items():
        name = {"unsafeFixes": "unsafe-fixes", "fix-all": "fixAll"}.get(key, key)
        if name in ("select", "ignore"):
            codes = value.split(",") if isinstance(value, str) else value
            try:
                if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                    raise ConfigError(f"option '{key}' must be a list of rule codes")
                codes = [c.strip() for c in codes if c.strip()]
                check_codes(codes, f"option '{key}'")
            except ConfigError as error:
                problems.append(f"lossling: {error}")
                continue
            values[name] = tuple(codes)
        elif name in ("unsafe-fixes", "fixAll"):
            if not isinstance(value, bool):
                problems.append(f"lossling: option '{key}' must be true or false")
                continue
            values["unsafe_fixes" if name == "unsafe-fixes" else "fix_all"] = value
        else:
            problems.append(f"lossling: unknown option '{key}' (known: select, ignore, unsafe-fixes, fixAll)")
    return Options(**values), problems


def _stamp(path: Path | None) -> tuple[int, int] | None:
    try:
        info = os.stat(path) if path else None
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size) if info else None


class Configurations:
    """Settings per file, each configuration read once and read again when its file changes on disk (noticed by
    its modification time, so even a client that reports no file changes gets fresh settings). ``generation``
    counts the reloads: results computed under an older one are stale."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.generation = 0
        self._loaded: dict[Path | None, tuple[tuple[int, int] | None, Settings | ConfigError]] = {}

    def settings_for(self, path: str) -> Settings | ConfigError:
        """The settings for a file (or the folder of a file not yet saved), or the error in its configuration."""
        config = find_config(path)
        entry = self._loaded.get(config)
        if entry is not None and entry[0] != _stamp(config):
            self.reload()
            config, entry = find_config(path), None
        if entry is None:
            stamp = _stamp(config)
            try:
                value: Settings | ConfigError = override(load(config), select=self.options.select,
                                                         ignore=self.options.ignore,
                                                         unsafe_fixes=self.options.unsafe_fixes)
            except ConfigError as error:
                value = error
            self._loaded[config] = entry = (stamp, value)
        return entry[1]

    def reload(self, options: Options | None = None) -> None:
        """Forget every configuration read (a pyproject.toml changed, or the client's options did)."""
        if options is not None:
            self.options = options
        forget()
        self._loaded.clear()
        self.generation += 1

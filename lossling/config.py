"""``[tool.lossling]`` in pyproject.toml: finding it, validating it, and the settings it yields."""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
import sys
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

from .rule import Rule, all_rules

DEFAULT_EXCLUDE = (".git", ".hg", ".svn", ".venv", "venv", "env", "build", "dist", "__pycache__", ".tox", ".nox",
                   ".eggs", "node_modules", "site-packages", ".lossling_cache", ".ipynb_checkpoints")

_LISTS = ("select", "ignore", "extend-select", "exclude", "extend-exclude")
_OTHER_KEYS = ("per-file-ignores", "unsafe-fixes", "options")


class ConfigError(Exception):
    """A configuration the user must correct: unknown key, unknown code, wrong type, unreadable file."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("LOSS",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unsafe_fixes: bool = False
    options: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    root: str = field(default=".", compare=False)
    per_file_root: str | None = None  # where per-file-ignores globs start, if not at root (the command line's)
    source: str | None = field(default=None, compare=False)  # the file the settings came from

    def enabled(self, code: str) -> bool:
        """flake8's prefix semantics: the longest matching prefix decides; an ignore as long as a select wins. An
        opt-in rule needs a select longer than the namespace (``LOSS5``, ``LOSS501``; not ``LOSS``)."""
        chosen = max((len(p) for p in (*self.select, *self.extend_select) if code.startswith(p)), default=-1)
        ignored = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        if chosen <= len(NAMESPACE) and code in _opt_in():
            return False
        return chosen >= 0 and chosen > ignored

    def ignored_in(self, path: str) -> tuple[str, ...]:
        """Codes (prefixes) that per-file-ignores turns off for ``path``."""
        relative = _relative(path, self.per_file_root or self.root)
        codes: list[str] = []
        for pattern, ignored in self.per_file_ignores:
            if _matches(relative, pattern):
                codes.extend(ignored)
        return tuple(codes)

    def rules(self, path: str | None = None) -> list[Rule]:
        """Instances of the enabled rules (for ``path``, after per-file-ignores), with their options."""
        return list(_rules(self, self.ignored_in(path) if path else ()))

    def excluded(self, path: str, top: str) -> bool:
        """Whether a path found under the folder ``top`` is excluded. A bare name (``build``) excludes that part
        anywhere below ``top``; a pattern with a slash is matched from the configuration's folder."""
        below_top = _relative(path, top)
        from_root = _relative(path, self.root)
        for pattern in (*self.exclude, *self.extend_exclude):
            if _matches(below_top if "/" not in pattern.rstrip("/") else from_root, pattern):
                return True
        return False

    def fingerprint(self) -> str:
        """What the cache key needs: every setting that can change a file's findings."""
        return repr((sorted(r.code for r in self.rules()), self.per_file_ignores, self.options, self.root,
                     self.per_file_root))


@lru_cache(maxsize=64)
def _rules(settings: Settings, off: tuple[str, ...]) -> tuple[Rule, ...]:
    """The rule instances of ``settings`` minus the codes ``off``, made once: every file with the same
    per-file-ignores shares them (a rule keeps no state between files)."""
    options = dict(settings.options)
    return tuple(rule(dict(options.get(rule.code, ()))) for rule in all_rules()
                 if settings.enabled(rule.code) and not rule.code.startswith(off or ("\0",)))


def _relative(path: str, root: str) -> str:
    try:
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(root))).as_posix()
    except ValueError:  # another drive on Windows
        return Path(path).as_posix()


def _matches(relative: str, pattern: str) -> bool:
    """A glob matches the relative path, any of its trailing parts, or any directory on the way."""
    pattern = pattern.rstrip("/")
    match = _glob(pattern)
    parts = relative.split("/")
    if match(relative):
        return True
    if "/" not in pattern:
        return any(match(part) for part in parts)
    return any(match("/".join(parts[:i])) for i in range(1, len(parts)))


@lru_cache(maxsize=512)
def _glob(pattern: str) -> Any:
    """``fnmatch.fnmatch`` against ``pattern``, compiled once (case-insensitive only where paths are)."""
    match = re.compile(fnmatch.translate(os.path.normcase(pattern))).match
    if os.path.normcase("A") == "A":
        return match
    return lambda name: match(os.path.normcase(name))


def find_config(start: str) -> Path | None:
    """The nearest pyproject.toml with a [tool.lossling] table, in ``start`` or a folder above it."""
    here = Path(os.path.realpath(start))  # Path.resolve raises on a symlink loop; realpath leaves the loop as is
    if not here.is_dir():
        here = here.parent
    return _find_config(str(here))


@lru_cache(maxsize=256)
def _find_config(directory: str) -> Path | None:
    for folder in (Path(directory), *Path(directory).parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _pyproject_table(str(candidate)) is not None:
            return candidate
    return None


@lru_cache(maxsize=256)
def _pyproject_table(path: str) -> dict[str, Any] | None:
    """The ``[tool.lossling]`` table of a pyproject.toml, however TOML spells it (a header, dotted keys, an inline
    table), or None when it has none. A file that is not TOML is an error only when it mentions lossling: a broken
    pyproject.toml of some other tool above the checked files must not stop lossling, and cannot be its config."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    try:
        document = _parse_toml(data, path)
    except ConfigError:
        if b"lossling" in data:
            raise
        return None
    tool = document.get("tool")
    if not isinstance(tool, dict) or "lossling" not in tool:
        return None
    if not isinstance(tool["lossling"], dict):
        raise ConfigError(f"{path}: [tool.lossling] must be a table")
    return tool["lossling"]


def _parse_toml(data: bytes, path: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(f"{path}: cannot read configuration: byte 0x{data[error.start]:02x} on line {line} is "
                          "not UTF-8 (TOML files must be UTF-8)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: cannot read configuration: {error}") from None


def forget() -> None:
    """Drop the cached lookups and loads: a new run in the same process must see edited configuration files."""
    _find_config.cache_clear()
    _pyproject_table.cache_clear()
    _load.cache_clear()


def load(path: str | Path | None) -> Settings:
    """Settings from a configuration file (or defaults when ``path`` is None). A file named pyproject.toml holds
    them in its ``[tool.lossling]`` table; any other (``lossling.toml``, as ``--config`` may name) at its top
    level, as ruff reads ``ruff.toml``."""
    if path is None:
        return Settings()
    return _load(os.path.realpath(path))


@lru_cache(maxsize=64)
def _load(path: str) -> Settings:
    if Path(path).name == "pyproject.toml":
        table = _pyproject_table(path) or {}  # none: the defaults, as ruff reads one without [tool.ruff]
        return from_table(table, root=str(Path(path).parent), source=path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read configuration: {error.strerror or error}") from None
    table = _parse_toml(data, path)
    if "tool" in table and isinstance(table["tool"], dict) and "lossling" in table["tool"]:
        raise ConfigError(f"{path}: settings go at the top level of a file not named pyproject.toml, "
                          "not under [tool.lossling]")
    return from_table(table, root=str(Path(path).parent), source=path, section="")


def from_table(table: dict[str, Any], root: str = ".", source: str | None = None,
               section: str = "tool.lossling") -> Settings:
    """Settings from a configuration table; ``section`` names it in messages (empty: the file's top level)."""
    dotted = section + "." if section else ""
    where = source or "configuration"
    values: dict[str, Any] = {"root": root, "source": source}
    for raw_key, value in table.items():
        key = raw_key.replace("_", "-")
        if key in _LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: '{raw_key}' must be a list of strings")
            if key in ("select", "ignore", "extend-select"):
                check_codes(value, f"{where}: '{raw_key}'")
            values[key.replace("-", "_")] = tuple(value)
        elif key == "per-file-ignores":
            if not isinstance(value, dict) or not all(
                    isinstance(v, list) and all(isinstance(c, str) for c in v) for v in value.values()):
                raise ConfigError(f"{where}: 'per-file-ignores' must map globs to lists of codes")
            for glob, codes in value.items():
                check_codes(codes, f"{where}: per-file-ignores '{glob}'")
            values["per_file_ignores"] = tuple((glob, tuple(codes)) for glob, codes in value.items())
        elif key == "unsafe-fixes":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: 'unsafe-fixes' must be true or false")
            values["unsafe_fixes"] = value
        elif key == "options":
            values["options"] = _options(value, where, dotted + "options")
        else:
            raise ConfigError(f"{where}: unknown key '{raw_key}'{f' in [{section}]' if section else ''}"
                              f"{_did_you_mean(key, (*_LISTS, *_OTHER_KEYS))}")
    return Settings(**values)


def _did_you_mean(word: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _options(value: Any, where: str, section: str) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: 'options' must be a table of rule codes")
    rules = {known.code: known for known in all_rules()}
    names = {known.name: known.code for known in all_rules()}
    result = []
    for key, settings in value.items():
        code = str(names.get(key, key))  # TOML keys are strings
        rule = rules.get(code)
        if rule is None:
            raise ConfigError(f"{where}: unknown rule '{key}' in [{section}]")
        if not isinstance(settings, dict):
            raise ConfigError(f"{where}: [{section}.{key}] must be a table")
        for name, setting in settings.items():
            if name not in rule.options:
                known = ", ".join(sorted(rule.options)) or "none"
                raise ConfigError(f"{where}: unknown option '{name}' for {code} (known: {known})")
            default = rule.options[name]
            if not _same_type(setting, default):
                raise ConfigError(f"{where}: option '{name}' of {code} must be {type(default).__name__}, "
                                  f"got {type(setting).__name__}")
        result.append((code, tuple(sorted(settings.items()))))
    return tuple(result)


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def check_codes(codes: list[str] | tuple[str, ...], where: str) -> None:
    """Every entry must be a known code or a prefix of one (``LOSS``, ``LOSS1``, ``LOSS102``)."""
    known = [rule.code for rule in all_rules()]
    for code in codes:
        if not any(k.startswith(code) for k in known) or not code.startswith("LOSS"):
            raise ConfigError(f"{where}: unknown rule code '{code}'")


NAMESPACE = "LOSS"


def _opt_in() -> frozenset[str]:
    return frozenset(rule.code for rule in all_rules() if not rule.default)


def override(settings: Settings, **changes: Any) -> Settings:
    """Apply command-line values (None: not given) on top of the configuration, the way ruff layers them:
    ``--select`` starts the selection afresh, ``--extend-select`` and ``--ignore`` add to and take from the
    configuration's, and where a code matches both a select and an ignore the longer prefix wins. ``--exclude``
    replaces the configuration's excludes; ``--extend-exclude`` adds to them."""
    changes = {k: v for k, v in changes.items() if v is not None}
    flags = {k: changes.pop(k) for k in ("select", "ignore", "extend_select") if k in changes}
    if flags:
        layer = Settings(select=flags.get("select", ()), ignore=flags.get("ignore", ()),
                         extend_select=flags.get("extend_select", ()))
        kept = () if "select" in flags else tuple(
            code for code in _known_codes() if settings.enabled(code) and not code.startswith(layer.ignore))
        chosen = tuple(code for code in _known_codes() if code.startswith((*layer.select, *layer.extend_select)))
        changes.update(select=tuple(sorted({*kept, *(code for code in chosen if layer.enabled(code))})),
                       ignore=(), extend_select=())
    if "extend_exclude" in changes:
        changes["extend_exclude"] = settings.extend_exclude + changes["extend_exclude"]
    if "per_file_ignores" in changes:  # the command line's globs start from the current folder
        changes["per_file_root"] = os.getcwd()
    return replace(settings, **changes)


def per_file_ignore(value: str) -> tuple[str, tuple[str, ...]]:
    """``GLOB:CODES`` of ``--per-file-ignores`` (``tests/*:LOSS1,LOSS3``), checked."""
    glob, colon, codes = value.rpartition(":")
    listed = tuple(code.strip() for code in codes.split(",") if code.strip())
    if not colon or not glob or not listed:
        raise ConfigError(f"--per-file-ignores: '{value}' is not GLOB:CODES (e.g. 'tests/*:LOSS1,LOSS3')")
    check_codes(listed, f"--per-file-ignores '{glob}'")
    return glob, listed


def describe(settings: Settings, path: str) -> str:
    """The settings that apply to ``path``, as the top level of a lossling.toml would spell them (so the text can
    be read back with ``--config``): the rules that run, excludes, per-file-ignores, unsafe-fixes and every rule
    option with its value."""
    from .docs import toml_value

    def line(key: str, value: Any) -> str:
        return f"{key} = {toml_value(list(value) if isinstance(value, tuple) else value)}"

    base = settings.per_file_root or settings.root
    lines = [f"# settings for {path}, from {settings.source or 'the defaults (no [tool.lossling] found)'}",
             f"# the folder globs with a slash start from: {os.path.abspath(settings.root)}",
             line("select", [rule.code for rule in settings.rules()]),
             line("exclude", settings.exclude), line("extend-exclude", settings.extend_exclude),
             line("unsafe-fixes", settings.unsafe_fixes),
             "", f"[per-file-ignores]  # globs from {os.path.abspath(base)}"]
    lines += [f"{toml_value(glob)} = {toml_value(list(codes))}" for glob, codes in settings.per_file_ignores]
    chosen = dict(settings.options)
    for rule in all_rules():
        if rule.options:
            values = {**rule.options, **dict(chosen.get(rule.code, ()))}
            lines += ["", f"[options.{rule.code}]  # {rule.name}"] + [line(k, v) for k, v in values.items()]
    return "\n".join(lines)


def _known_codes() -> list[str]:
    return [rule.code for rule in all_rules()]

"""The rule interface and the registry that finds every rule in ``lossling.rules``.

A rule is a small class: its code, name and fix safety as data, and ``check(module)`` yielding findings. It sees
a parsed ``Module`` and nothing else: no files, no config files, no output. The engine owns all of those.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from functools import lru_cache
from typing import Any, ClassVar, Iterable

from .finding import Edit, Finding, Fix, Import, Safety
from .semantic.module import Module


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    fix_safety: ClassVar[Safety] = Safety.NONE
    frameworks: ClassVar[tuple[str, ...]] = ()
    # The rule can only fire where the source contains one of these substrings (a cheap prefilter).
    triggers: ClassVar[tuple[str, ...]] = ()
    # Codes whose findings inside this rule's finding are the same root cause, reported once (here).
    supersedes: ClassVar[tuple[str, ...]] = ()
    # Options a user may set under [tool.lossling.options.CODE], with their defaults (the type is checked).
    options: ClassVar[dict[str, Any]] = {}
    # How serious a finding is: "error", "warning" or "info". The formats that carry a level read it (SARIF
    # level, GitLab severity, GitHub command, JUnit property, JSON field).
    severity: ClassVar[str] = "warning"
    # On by default, or opt-in: an opt-in rule runs only when selected by its code or family (LOSS5, LOSS501),
    # not by the whole namespace (LOSS), as ruff keeps preview rules and clippy pedantic lints opt-in.
    default: ClassVar[bool] = True

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.settings = {**self.options, **(options or {})}

    def check(self, module: Module) -> Iterable[Finding]:
        raise NotImplementedError

    def finding(self, module: Module, node: ast.AST, message: str, fix: Fix | None = None) -> Finding:
        return Finding(self.code, message, module.span(node), fix, module.path)

    def replace(self, module: Module, node: ast.AST, text: str, *imports: Import | None,
                safety: Safety | None = None, title: str = "") -> Fix:
        """A fix that replaces the expression ``node`` with ``text`` (adding ``imports`` the text needs);
        ``title`` says what it does ("Use `torch.log1p`")."""
        return Fix((Edit(module.span(node), text),), safety or self.fix_safety, tuple(i for i in imports if i),
                   title)


@lru_cache(maxsize=None)
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule class in the ``lossling.rules`` package, sorted by code."""
    from . import rules as package

    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and "code" in vars(value):
                if value.code in found and found[value.code] is not value:
                    raise RuntimeError(f"two rules claim {value.code}: {found[value.code].__name__}, {value.__name__}")
                found[value.code] = value
    return tuple(found[code] for code in sorted(found))


def rule_by_code() -> dict[str, type[Rule]]:
    return {rule.code: rule for rule in all_rules()}

"""Keep astroid inside the checked project, and small: while it builds or infers for lossling, it may load a few of
the project's own modules but never another installed package or the standard library (building torch's modules
on demand took ~19 s for one kornia file). A module outside the project, or past the budget, is simply unknown,
as if it were not installed.

Modules astroid builds for a checked file are dropped from its cache when that file's ``Module`` is freed, so memory
stays bounded by one file's imports however large the project (one transformers file pulled in 39 modules, 85 MB).
"""

from __future__ import annotations

import os
import weakref
from contextlib import contextmanager
from typing import Any, Iterator

_VENDORED = ("site-packages", "dist-packages")
# Project modules astroid may build per question: enough for ``from .config import EPS`` and what that module
# imports, not the project's whole import closure.
BUDGET = 8


def inside(location: str | None, root: str) -> bool:
    """Whether ``location`` is a file of the project at ``root`` (and not of an environment installed there)."""
    if not location:
        return False
    relative = os.path.relpath(os.path.abspath(location), root)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep) or os.path.isabs(relative):
        return False
    return not any(part in _VENDORED for part in relative.split(os.sep))


@contextmanager
def project_only(root: str | None, owner: object | None = None,
                 consulted: set[str] | None = None) -> Iterator[None]:
    """Within the block, astroid resolves an import only to files under ``root`` (nothing when it is None), at most
    ``BUDGET`` of them; what it builds is forgotten when ``owner`` is freed. The files it reads are added to
    ``consulted``: a checked file's findings depend on them too."""
    from astroid import MANAGER
    from astroid.exceptions import AstroidImportError
    from astroid.manager import AstroidManager

    original = AstroidManager.file_from_module_name
    root = os.path.abspath(root) if root else None
    budget = [BUDGET]

    def find(manager: AstroidManager, modname: str, contextfile: str | None) -> Any:
        found = original(manager, modname, contextfile)
        locations = [found.location, *(found.submodule_search_locations or ())]
        allowed = root is not None and budget[0] > 0 and any(locations) and all(
            inside(location, root) for location in locations if location)
        if not allowed:
            raise AstroidImportError("{modname} is outside the checked project", modname=modname)
        budget[0] -= 1
        if consulted is not None:
            consulted.update(location for location in locations if location)
        return found

    cache = MANAGER.astroid_cache
    before = set(cache)
    # On the class: astroid makes new (state-sharing) managers as it goes. Restored on the way out.
    AstroidManager.file_from_module_name = find
    try:
        yield
    finally:
        AstroidManager.file_from_module_name = original
        added = set(cache) - before
        if added and owner is not None:
            _forget_with(owner, added)


_OWNED: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


def _forget_with(owner: object, names: set[str]) -> None:
    owned = _OWNED.get(owner)
    if owned is None:
        owned = _OWNED[owner] = set()
        weakref.finalize(owner, _forget, owned)
    owned |= names


def _forget(names: set[str]) -> None:
    from astroid import MANAGER

    for name in names:
        MANAGER.astroid_cache.pop(name, None)

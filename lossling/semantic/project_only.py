"""Keep astroid inside the checked project: while it builds or infers for lossling, it may load the project's own
modules but never another installed package or the standard library (building torch's modules on demand took
~19 s for one kornia file). A module outside the project is then simply unknown, as if it were not installed.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

_VENDORED = ("site-packages", "dist-packages")


def inside(location: str | None, root: str) -> bool:
    """Whether ``location`` is a file of the project at ``root`` (and not of an environment installed there)."""
    if not location:
        return False
    location = os.path.abspath(location)
    relative = os.path.relpath(location, root)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep) or os.path.isabs(relative):
        return False
    return not any(part in _VENDORED for part in relative.split(os.sep))


@contextmanager
def project_only(root: str | None) -> Iterator[None]:
    """Within the block, astroid resolves an import only to files under ``root`` (nothing when it is None)."""
    from astroid import MANAGER
    from astroid.exceptions import AstroidImportError

    original = MANAGER.file_from_module_name
    root = os.path.abspath(root) if root else None

    def find(modname: str, contextfile: str | None) -> Any:
        found = original(modname, contextfile)
        locations = [found.location, *(found.submodule_search_locations or ())]
        if root is None or not all(inside(location, root) for location in locations if location) or not any(
                locations):
            raise AstroidImportError("{modname} is outside the checked project", modname=modname)
        return found

    previous = vars(MANAGER).get("file_from_module_name")
    MANAGER.file_from_module_name = find  # an instance attribute, restored on the way out
    try:
        yield
    finally:
        if previous is None:
            del MANAGER.file_from_module_name
        else:
            MANAGER.file_from_module_name = previous

"""astroid stays inside the checked project: no installed package, no standard library, a bounded number of the
project's own modules, and nothing kept once the checked file is done."""

from __future__ import annotations

import gc

import pytest

astroid = pytest.importorskip("astroid")

from astroid import MANAGER  # noqa: E402
from astroid.exceptions import AstroidImportError  # noqa: E402

from lossling.semantic.project_only import BUDGET, inside, project_only  # noqa: E402


def test_inside(tmp_path):
    root = str(tmp_path)
    assert inside(str(tmp_path / "pkg" / "mod.py"), root)
    assert not inside(str(tmp_path.parent / "other.py"), root)
    assert not inside(str(tmp_path / ".venv" / "lib" / "site-packages" / "torch" / "__init__.py"), root)
    assert not inside(None, root)


@pytest.mark.parametrize("name", ["torch", "json"])
def test_installed_packages_and_the_standard_library_are_unknown(tmp_path, name):
    MANAGER.astroid_cache.pop(name, None)
    with project_only(str(tmp_path)), pytest.raises(AstroidImportError):
        MANAGER.ast_from_module_name(name)
    assert name not in MANAGER.astroid_cache


def test_project_modules_within_budget_and_forgotten_with_their_owner(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))  # as inference puts the project's root on the path
    package = tmp_path / "proj_only_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for number in range(BUDGET + 2):
        (package / f"m{number}.py").write_text(f"EPS = {number}\n")

    class Owner:
        pass

    owner = Owner()
    with project_only(str(tmp_path), owner):
        built = [MANAGER.ast_from_module_name(f"proj_only_pkg.m{n}", str(package / "__init__.py"))
                 for n in range(BUDGET - 1)]
        with pytest.raises(AstroidImportError):
            for number in range(BUDGET - 1, BUDGET + 2):
                MANAGER.ast_from_module_name(f"proj_only_pkg.m{number}", str(package / "__init__.py"))
    assert built[0].locals["EPS"]
    assert "proj_only_pkg.m0" in MANAGER.astroid_cache
    del owner
    gc.collect()
    assert not any(name.startswith("proj_only_pkg") for name in MANAGER.astroid_cache)

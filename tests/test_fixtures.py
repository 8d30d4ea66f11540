"""Every fixture fires exactly what its ``# expect:`` comments say, and its fixes give the expected files."""

from __future__ import annotations

import ast
from collections import Counter

import pytest

from helpers import FIXTURES, check, expected, fix, fixture_files

FILES = fixture_files()


def _id(path):
    return str(path.relative_to(FIXTURES))


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_findings_match_annotations(path):
    text = path.read_text(encoding="utf-8")
    found = Counter((f.line, f.code) for f in check(text, str(path)))
    assert found == expected(text)


@pytest.mark.parametrize("path", FILES, ids=_id)
@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_fix_gives_expected_file(path, unsafe):
    text = path.read_text(encoding="utf-8")
    expected_path = path.with_name(path.name + (".unsafe-fixed" if unsafe else ".fixed"))
    if unsafe and not expected_path.exists():
        expected_path = path.with_name(path.name + ".fixed")
    result = fix(text, unsafe=unsafe, path=str(path))
    if expected_path.exists():
        assert result == expected_path.read_text(encoding="utf-8")
    else:
        assert result == text, f"fix changed {path.name}; record the result in {expected_path.name}"
    ast.parse(result)
    assert fix(result, unsafe=unsafe, path=str(path)) == result, "fix is not idempotent"


def test_every_rule_has_fixtures():
    from lossling.rule import all_rules

    for rule in all_rules():
        folder = FIXTURES / rule.code
        samples = [p for p in folder.glob("*.py") if not p.name.startswith("proof_")]
        fired = sum(expected(p.read_text(encoding="utf-8"))[key] for p in samples
                    for key in expected(p.read_text(encoding="utf-8")) if key[1] == rule.code)
        assert fired >= 5, f"{rule.code} needs at least 5 firing fixture lines, has {fired}"
        quiet = [p for p in samples if p.name.startswith("quiet")]
        variants = sum(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                       for p in quiet for node in ast.parse(p.read_text(encoding="utf-8")).body)
        assert variants >= 5, f"{rule.code} needs at least 5 quiet variants (one function each), has {variants}"

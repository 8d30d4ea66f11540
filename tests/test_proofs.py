"""Every fix is proven with the real framework: same values and gradients on benign inputs, finite where the
original broke. The fixed source comes from lossling's own fix path, never from a hand-written expectation."""

from __future__ import annotations

import importlib.util

import pytest

from helpers import FIXTURES
from lossling.finding import Safety
from lossling.rule import all_rules
from proofs import (REQUIRE, case_names, fixed_text, function_source, load_proof, namespace, proof_files, prove_case,
                    require_framework)

PROOFS = proof_files(FIXTURES)
CASES = [(path, name) for path in PROOFS for name in case_names(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("path,name", CASES, ids=[f"{p.parent.name}/{p.stem}::{n}" for p, n in CASES])
def test_fix_is_proven(path, name):
    text, proof = load_proof(path)
    settings = {**proof, **proof.get("cases", {}).get(name, {})}
    require_framework(text, settings["framework"])
    fixed = fixed_text(text, path, settings["unsafe"])
    assert function_source(fixed, name) != function_source(text, name), f"lossling did not fix {name}"
    scope = namespace(text, path)
    correct = scope[settings["reference"]] if settings.get("reference") else None
    prove_case(scope[name], namespace(fixed, path)[name], settings, correct)


@pytest.mark.parametrize("rule", [r for r in all_rules() if r.fix_safety is not Safety.NONE], ids=lambda r: r.code)
def test_every_fix_has_a_proof(rule):
    files = [p for p in PROOFS if p.parent.name == rule.code]
    assert files, f"{rule.code} declares a {rule.fix_safety.value} fix but has no fixtures/{rule.code}/proof_*.py"
    unsafe = {load_proof(p)[1]["unsafe"] for p in files}
    if rule.fix_safety is Safety.SAFE:
        assert False in unsafe, f"{rule.code} claims a safe fix but its proofs only run unsafe fixes"


@pytest.mark.parametrize("path", PROOFS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_proof_belongs_to_a_rule_with_a_fix(path):
    codes = {r.code: r for r in all_rules()}
    assert path.parent.name in codes and codes[path.parent.name].fix_safety is not Safety.NONE


def test_a_proof_without_its_framework_is_skipped_with_the_reason(monkeypatch):
    text = "import torch\nfrom jax import numpy as jnp\nimport math\n"
    installed = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name in ("torch", "tensorflow") else installed(name, *args))
    monkeypatch.delenv(REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^keras proof: tensorflow, torch not installed$"):
        require_framework(text, "keras")
    require_framework("import jax\n", "jax")  # installed: runs
    monkeypatch.setenv(REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match=r"torch not installed \(LOSSLING_REQUIRE_PROOFS=1"):
        require_framework(text, "torch")

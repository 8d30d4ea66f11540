"""The value analysis (lossling/semantic/facts.py) and the helpers it shares with the rules, one test per fact."""

from __future__ import annotations

import ast

import pytest

from lossling.semantic.module import Module
from lossling.semantic.values import Zero


def module_of(text: str) -> Module:
    return Module(ast.parse(text), text)


def returned(module: Module, function: str = "f") -> ast.expr:
    """The expression the last ``return`` of ``function`` returns."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return [n for n in ast.walk(node) if isinstance(n, ast.Return)][-1].value  # type: ignore[return-value]
    raise AssertionError(function)


@pytest.mark.parametrize("expression, op, left, right", [
    ("a + b", ast.Add, "a", "b"),
    ("a.add(b)", ast.Add, "a", "b"),
    ("torch.add(a, b)", ast.Add, "a", "b"),
    ("torch.add(input=a, other=b)", ast.Add, "a", "b"),
    ("a.sub(b)", ast.Sub, "a", "b"),
    ("torch.rsub(a, b)", ast.Sub, "b", "a"),
    ("a.mul(b)", ast.Mult, "a", "b"),
    ("torch.multiply(a, b)", ast.Mult, "a", "b"),
    ("a.div(b)", ast.Div, "a", "b"),
    ("a.true_divide(b)", ast.Div, "a", "b"),
    ("a.pow(2)", ast.Pow, "a", "2"),
    ("a.neg()", ast.USub, "a", None),
    ("-a", ast.USub, "a", None),
    ("tf.math.subtract(a, b)", ast.Sub, "a", "b"),
    ("tf.add(a, b, name='s')", ast.Add, "a", "b"),
    ("keras.ops.multiply(a, b)", ast.Mult, "a", "b"),
    ("jnp.add(a, b)", ast.Add, "a", "b"),
])
def test_arithmetic_in_any_spelling(expression, op, left, right):
    module = module_of(f"import torch\nimport tensorflow as tf\nimport keras\nimport jax.numpy as jnp\n\n\n"
                       f"def f(a, b):\n    return {expression}\n")
    found = module.arith(returned(module))
    assert found is not None and found.op is op and not found.inplace
    assert module.text(found.left) == left
    assert (found.right is None and right is None) or module.text(found.right) == right


@pytest.mark.parametrize("expression", [
    "torch.add(a, b, alpha=2)", "a.div(b, rounding_mode='floor')", "torch.add(a, b, out=a)", "torch.log(a)",
    "a.add(*b)",
])
def test_calls_that_are_more_than_an_operator(expression):
    module = module_of(f"import torch\n\n\ndef f(a, b):\n    return {expression}\n")
    assert module.arith(returned(module)) is None


def test_in_place_arithmetic_is_marked():
    module = module_of("import torch\n\n\ndef f(a):\n    return a.add_(1)\n")
    found = module.arith(returned(module))
    assert found is not None and found.op is ast.Add and found.inplace


def test_a_sets_add_is_not_arithmetic():
    module = module_of("import torch\n\n\ndef f(xs):\n    seen = set()\n    for x in xs:\n        seen.add(x)\n"
                       "    return seen\n")
    call = next(n for n in ast.walk(module.tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "add")
    assert module.arith(call) is None
    assert not module.facts.value(returned(module)).tensor


def test_call_form_arithmetic_has_the_operators_value():
    module = module_of("import torch\n\n\ndef f(x):\n    p = torch.sigmoid(x)\n    return p.add(1e-3).mul(2)\n")
    value = module.facts.value(returned(module))
    assert value.zero is Zero.NEVER and value.lo == pytest.approx(2e-3) and value.hi == pytest.approx(2.002)


def test_in_place_add_of_a_positive_constant_guards():
    module = module_of("import torch\n\n\ndef f(p):\n    p = p.clone()\n    p.add_(1e-8)\n    return p\n")
    assert module.facts.guarded(returned(module))


def test_in_place_multiplication_does_not_guard():
    module = module_of("import torch\n\n\ndef f(p):\n    p = p.clone()\n    p.mul_(2.0)\n    return p\n")
    assert not module.facts.guarded(returned(module))

"""LOSS107 expm1: ``exp(x) - 1`` cancels to 0 for small x; ``expm1(x)`` keeps x."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import atom, call_args, hint, movable, spell_beside
from ..rule import Rule, Safety
from ..semantic.module import Module, OpCall
from ..semantic.patterns import tensor_operand, unary


class Expm1(Rule):
    code = "LOSS107"
    name = "expm1"
    summary = "exp(x) - 1 cancels: float32 gives 0 for |x| below 6e-8 and few correct digits near 0"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("exp",)

    def check(self, module: Module) -> Iterator[Finding]:
        for node in module.nodes(ast.BinOp):
            exp = self._match(module, node)
            if exp is None or not tensor_operand(module, exp, exp.input) or self._offset(module, node):
                continue
            fix = self._fix(module, node, exp)
            use = hint(fix, "expm1(x)")
            yield self.finding(module, node, f"exp(x) - 1 cancels to 0 for small x; use {use}", fix)

    @staticmethod
    def _match(module: Module, node: ast.BinOp) -> OpCall | None:
        """The exp in ``exp(x) - 1``, ``-1 + exp(x)`` or ``exp(x) + (-1)`` (the 1 written as a literal)."""
        if not (_literal(node.left) or _literal(node.right)):
            return None
        if isinstance(node.op, ast.Sub) and module.const(node.right) == 1.0:
            return module.op_of(node.left, "exp")
        if isinstance(node.op, ast.Add):
            if module.const(node.left) == -1.0:
                return module.op_of(node.right, "exp")
            if module.const(node.right) == -1.0:
                return module.op_of(node.left, "exp")
        return None

    @staticmethod
    def _offset(module: Module, node: ast.BinOp) -> bool:
        """Whether ``exp(x) - 1``, scaled or not, is added to a Python number (``max_val + s * (exp(x) - 1)``): the
        number's rounding swallows the digits expm1 would keep."""
        child: ast.expr = node
        parent = module.parent(node)
        while isinstance(parent, ast.UnaryOp) or (isinstance(parent, ast.BinOp) and isinstance(
                parent.op, (ast.Mult, ast.Div))):
            child, parent = parent, module.parent(parent)
        if not (isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Add, ast.Sub))):
            return False
        other = parent.right if parent.left is child else parent.left
        return module.const(other) != 0.0 and not module.is_tensor(other)

    def _fix(self, module: Module, node: ast.BinOp, exp: OpCall) -> Fix | None:
        x = exp.input
        if not unary(exp) or x is None or not movable(module, exp.node, node):
            return None
        if exp.kind == "method":
            return self.replace(module, node, f"{atom(module, x)}.expm1()")
        spelled = spell_beside(module, exp, "expm1")
        if spelled is None:
            return None
        return self.replace(module, node, spelled[0] + call_args(module, exp.node), spelled[1])


def _literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant)

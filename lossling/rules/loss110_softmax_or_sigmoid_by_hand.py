"""LOSS110 softmax-or-sigmoid-by-hand: ``exp(x) / sum(exp(x), d)`` and ``1 / (1 + exp(-x))`` overflow in exp;
``softmax(x, d)`` and ``sigmoid(x)`` do not."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import atom, hint, integral, movable, negated, spell_beside
from ..rule import Rule, Safety
from ..semantic.apis import axis_keyword
from ..semantic.divisions import divisions
from ..semantic.module import Module, OpCall
from ..semantic.patterns import (
    keeps_dims,
    overflows,
    plus_one,
    reduction_axis,
    reduction_rest,
    same_value,
    tensor_operand,
    unary,
    unstable_softmax,
)


_ONE = ast.Constant(1)  # the numerator of reciprocal(b)


class SoftmaxOrSigmoidByHand(Rule):
    code = "LOSS110"
    default = False  # opt-in: below the default set\'s precision bar on unseen code (README, "Default rules")
    name = "softmax-or-sigmoid-by-hand"
    summary = "softmax or sigmoid written with exp: inf / inf = NaN for large logits, NaN gradients for small ones"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("exp",)
    supersedes = ("LOSS201",)  # a sum of exps is positive: the division is this rule's, not an unguarded one

    def check(self, module: Module) -> Iterator[Finding]:
        for node, top, bottom in self._divisions(module):
            found = self._softmax(module, node, top, bottom) or self._sigmoid(module, node, top, bottom)
            if found is not None:
                yield found

    @staticmethod
    def _divisions(module: Module) -> Iterator[tuple[ast.AST, ast.expr, ast.expr]]:
        """Every division that is an expression (``a / b``, ``torch.div(a, b)``, ``a.div(b)``; not ``/=`` or
        ``a.div_(b)``, which change ``a``), and ``reciprocal(b)`` as ``1 / b``: (node, a, b)."""
        for site in divisions(module):
            if isinstance(site.node, ast.AugAssign) or site.call is not None and site.call.kind == "method" and (
                    site.call.node.func.attr.endswith("_")):  # type: ignore[attr-defined]
                continue
            yield site.node, site.numerator, site.divisor
        for call in module.ops("reciprocal"):
            if call.input is not None and unary(call):
                yield call.node, _ONE, call.input

    # ----- exp(x) / sum(exp(x), d) ---------------------------------------------------------------------------
    def _softmax(self, module: Module, node: ast.AST, top: ast.expr, bottom: ast.expr) -> Finding | None:
        found = unstable_softmax(module, top, bottom)
        if found is None:
            return None
        exp, total = found
        fix = self._softmax_fix(module, node, exp, total)
        use = hint(fix, "softmax(x, dim) over the axis the sum reduces")
        return self.finding(module, node, f"softmax by hand gives inf / inf = NaN for logits above 88.7; use {use}",
                            fix)

    def _softmax_fix(self, module: Module, node: ast.AST, exp: OpCall, total: OpCall) -> Fix | None:
        framework = "torch" if exp.kind == "method" else exp.framework
        axis = reduction_axis(total)
        if reduction_rest(module, total, 2 if total.framework in ("torch", "tf", "tf1", "keras") else 1) is None:
            return None
        if axis is None:
            # a softmax over every element: only SciPy's and JAX's softmax take axis=None
            if framework not in ("numpy", "jax"):
                return None
            axis_text = "None"
        elif keeps_dims(total) and not isinstance(axis, (ast.Tuple, ast.List)):
            axis_text = module.text(axis)
        else:  # without keepdims the sum does not broadcast back along the axis it removed
            return None
        x = exp.input
        if x is None or not (movable(module, exp.node, node) and movable(module, total.node, node)) or integral(
                module, x):
            return None
        if exp.kind == "method":
            return self.replace(module, node, f"{atom(module, x)}.softmax({axis_text})")
        spelled = spell_beside(module, exp, "softmax")
        if spelled is None:
            return None
        return self.replace(module, node, f"{spelled[0]}({module.text(x)}, {axis_keyword(framework)}={axis_text})",
                            spelled[1])

    # ----- 1 / (1 + exp(-x)) and exp(x) / (1 + exp(x)) ------------------------------------------------------
    def _sigmoid(self, module: Module, node: ast.AST, top: ast.expr, bottom: ast.expr) -> Finding | None:
        exp = module.op_of(plus_one(module, module.resolve(bottom)), "exp")
        if exp is None or not unary(exp) or exp.input is None or not tensor_operand(module, exp, exp.input) or (
                not overflows(module, exp)):
            return None
        if module.const(top) == 1.0:
            argument = negated(module, exp.input)  # 1 / (1 + exp(t)) = sigmoid(-t)
        else:
            numerator = module.op_of(top, "exp")
            if numerator is None or not same_value(module, exp, numerator):
                return None
            argument = module.text(exp.input)  # exp(t) / (1 + exp(t)) = sigmoid(t)
        fix = None
        if movable(module, module.resolve(bottom), node) and movable(module, exp.node, node):
            spelled = spell_beside(module, exp, "sigmoid")
            if spelled is not None:
                fix = self.replace(module, node, f"{spelled[0]}({argument})", spelled[1])
        return self.finding(module, node, f"sigmoid by hand gives NaN where exp overflows (|x| above 88.7); "
                                          f"use {hint(fix, 'sigmoid(x)')}", fix)

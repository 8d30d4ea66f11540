"""LOSS301 negated-loss: a loss that is never negative, negated as a whole and then minimised."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding
from ..rule import Rule
from ..semantic import losses
from ..semantic.module import Module
from ..semantic.patterns import difference

_REDUCTIONS = ("mean", "sum")


class NegatedLoss(Rule):
    code = "LOSS301"
    name = "negated-loss"
    summary = "a non-negative loss negated as a whole: minimising it maximises the error"
    severity = "error"
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("-", "neg")

    def check(self, module: Module) -> Iterator[Finding]:
        for node in module.nodes(ast.UnaryOp) + module.calls_named("neg", "negative"):
            arith = module.arith(node)
            if arith is None or arith.op is not ast.USub or arith.inplace:
                continue
            if isinstance(arith.left, ast.Constant) or not module.facts.minimised(node):
                continue
            what = _nonnegative(module, arith.left)
            if what is None:
                continue
            yield self.finding(module, node, f"negating {what}, which is never negative, and minimising the result "
                                             "maximises the error on every input: the loss falls without bound as "
                                             "the predictions get worse; remove the minus")


def _nonnegative(module: Module, operand: ast.expr) -> str | None:
    """How to name ``operand`` if it is a loss that cannot be negative, else None: a framework loss (directly,
    through names, joins or helper functions: the value analysis' role "loss" with a lower bound of 0), or a mean
    or sum of squared or absolute differences, possibly times a positive constant."""
    value = _unscaled(module, operand)
    call = module.op(value)
    inner = call
    while inner is not None and inner.op in _REDUCTIONS and module.op(_unscaled(module, inner.input)) is not None:
        inner = module.op(_unscaled(module, inner.input))  # the mean of a loss: tf.reduce_mean(bce(y, p))
    if inner is not None and inner.op in losses.NONNEGATIVE:
        what = f"`{module.text(inner.node.func)}(...)`"
    elif call is not None and call.op in _REDUCTIONS and _squared_or_absolute_error(module, call.input):
        text = module.text(call.node)
        what = f"`{text}`" if len(text) <= 60 and "\n" not in text else "a squared or absolute error"
    else:
        facts = module.facts.value(operand)
        if facts.role != "loss" or not facts.nonnegative:
            return None
        text = module.text(operand)
        return f"`{text}`" if len(text) <= 60 and "\n" not in text else "a loss"
    return f"`{operand.id}` = {what}" if isinstance(operand, ast.Name) else what


def _unscaled(module: Module, node: ast.AST | None) -> ast.AST | None:
    """``node`` with positive constant factors taken off (``100 * mse``), through names."""
    value = module.resolve(node)
    while isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
        if (module.const(value.left) or 0) > 0:
            value = module.resolve(value.right)
        elif (module.const(value.right) or 0) > 0:
            value = module.resolve(value.left)
        else:
            break
    return value


def _squared_or_absolute_error(module: Module, value: ast.AST | None) -> bool:
    """``(a - b) ** 2``, ``square(a - b)``, ``abs(a - b)``, possibly times a positive constant."""
    value = _unscaled(module, value)
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Pow) and module.const(value.right) == 2.0:
        return difference(module, value.left)
    call = module.op(value)
    if call is not None and call.op in ("square", "abs"):
        return difference(module, call.input)
    if call is not None and call.op == "pow" and module.const(call.arg(1, "exponent", "y")) == 2.0:
        return difference(module, call.input)
    return False

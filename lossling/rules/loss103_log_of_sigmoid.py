"""LOSS103 log-of-sigmoid: ``log(sigmoid(x))`` and ``log(1 - sigmoid(x))`` underflow; logsigmoid does not."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import integral, movable, negated, stable_call, unmovable
from ..rule import Rule, Safety
from ..semantic.inference import one_minus
from ..semantic.module import Module, OpCall
from ..semantic.patterns import pure, same_value


class LogOfSigmoid(Rule):
    code = "LOSS103"
    name = "log-of-sigmoid"
    summary = "log of a sigmoid (or of 1 - sigmoid): saturated logits give log(0) = -inf"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("sigmoid", "Sigmoid", "expit")
    supersedes = ("LOSS101",)

    def check(self, module: Module) -> Iterator[Finding]:
        for log in module.ops("log", "log1p"):
            found = self._match(module, log)
            if found is None:
                continue
            sigmoid, complement, where = found
            fix = self._fix(module, log, sigmoid, complement, where)
            if where is not None:
                what = "log(where(c, sigmoid(x), 1 - sigmoid(x)))"
                default = "logsigmoid(where(c, -x, x))" if complement else "logsigmoid(where(c, x, -x))"
            else:
                what = "log(1 - sigmoid(x))" if complement else "log(sigmoid(x))"
                default = "logsigmoid(-x)" if complement else "logsigmoid(x)"
            replacement = fix.edits[0].text if fix else ""
            hint = replacement if replacement and "\n" not in replacement else default
            why = "" if fix else unmovable(module, (where or sigmoid).node, log.node)
            yield self.finding(module, log.node, f"{what} underflows to -inf for saturated x; use {hint}{why}", fix)

    @staticmethod
    def _match(module: Module, log: OpCall) -> tuple[OpCall, bool, OpCall | None] | None:
        """The sigmoid under the log, whether the log is of its complement ``1 - sigmoid``, and the ``where``
        that picks the sigmoid or its complement (``where(t == 1, p, 1 - p)``: then the complement flag says
        the first branch is ``1 - p``)."""
        arg = module.resolve(log.input)
        if log.op == "log1p":  # log1p(-sigmoid(x)) is log(1 - sigmoid(x)), and rounds the same way
            if isinstance(arg, ast.UnaryOp) and isinstance(arg.op, ast.USub):
                sigmoid = module.op_of(arg.operand, "sigmoid")
                return (sigmoid, True, None) if sigmoid else None
            return None
        found = _sigmoid_or_complement(module, arg)
        if found is not None:
            return found[0], found[1], None
        where = module.op_of(arg, "where")
        if where is None or where.kind != "function" or len(where.node.args) != 3 or where.node.keywords:
            return None
        first, second = (_sigmoid_or_complement(module, module.resolve(a)) for a in where.node.args[1:])
        if first is None or second is None or first[1] == second[1] or not same_value(module, first[0], second[0]):
            return None
        return first[0], first[1], where

    def _fix(self, module: Module, log: OpCall, sigmoid: OpCall, complement: bool, where: OpCall | None
             ) -> Fix | None:
        x = sigmoid.input
        if x is None or not movable(module, (where or sigmoid).node, log.node) or integral(module, x):
            return None
        if sigmoid.kind == "module" and (len(sigmoid.node.args) != 1 or sigmoid.node.keywords):
            return None
        if sigmoid.kind == "function" and (len(sigmoid.node.args) + len(sigmoid.node.keywords) != 1):
            return None
        if log.kind == "function" and len(log.node.args) + len(log.node.keywords) != 1:
            return None
        framework = "torch" if sigmoid.kind in ("method", "module") else sigmoid.framework
        spelled = stable_call(module, "logsigmoid", framework)
        if spelled is None:
            return None
        arg = negated(module, x) if complement else module.text(x)
        if where is not None:  # log(where(c, s, 1 - s)) = where(c, logsigmoid(x), logsigmoid(-x))
            if not pure(module, x) or not movable(module, sigmoid.node, log.node):
                return None
            other = module.text(x) if complement else negated(module, x)
            arg = f"{module.text(where.node.func)}({module.text(where.node.args[0])}, {arg}, {other})"
        return self.replace(module, log.node, f"{spelled[0]}({arg})", spelled[1])


def _sigmoid_or_complement(module: Module, node: ast.AST | None) -> tuple[OpCall, bool] | None:
    """``(s, False)`` for a sigmoid ``s``, ``(s, True)`` for ``1 - s`` in any spelling (``torch.sub(1, s)``,
    ``s.neg().add(1)``)."""
    sigmoid = module.op_of(node, "sigmoid")
    if sigmoid is not None:
        return sigmoid, False
    sigmoid = module.op_of(one_minus(module, node), "sigmoid")
    return (sigmoid, True) if sigmoid is not None else None

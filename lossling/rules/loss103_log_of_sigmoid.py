"""LOSS103 log-of-sigmoid: ``log(sigmoid(x))`` and ``log(1 - sigmoid(x))`` underflow; logsigmoid does not."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import integral, movable, negated, stable_call, unmovable
from ..rule import Rule, Safety
from ..semantic.inference import one_minus
from ..semantic.module import Module, OpCall


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
            sigmoid, complement = found
            fix = self._fix(module, log, sigmoid, complement)
            what = "log(1 - sigmoid(x))" if complement else "log(sigmoid(x))"
            replacement = fix.edits[0].text if fix else ""
            hint = replacement if replacement and "\n" not in replacement else (
                "logsigmoid(-x)" if complement else "logsigmoid(x)")
            why = "" if fix else unmovable(module, sigmoid.node, log.node)
            yield self.finding(module, log.node, f"{what} underflows to -inf for saturated x; use {hint}{why}", fix)

    @staticmethod
    def _match(module: Module, log: OpCall) -> tuple[OpCall, bool] | None:
        """The sigmoid under the log, and whether the log is of its complement ``1 - sigmoid``."""
        arg = module.resolve(log.input)
        if log.op == "log1p":  # log1p(-sigmoid(x)) is log(1 - sigmoid(x)), and rounds the same way
            if isinstance(arg, ast.UnaryOp) and isinstance(arg.op, ast.USub):
                sigmoid = module.op_of(arg.operand, "sigmoid")
                return (sigmoid, True) if sigmoid else None
            return None
        sigmoid = module.op_of(arg, "sigmoid")
        if sigmoid is not None:
            return sigmoid, False
        sigmoid = module.op_of(one_minus(module, arg), "sigmoid")  # 1 - s, torch.sub(1, s), s.neg().add(1)
        return (sigmoid, True) if sigmoid is not None else None

    def _fix(self, module: Module, log: OpCall, sigmoid: OpCall, complement: bool) -> Fix | None:
        x = sigmoid.input
        if x is None or not movable(module, sigmoid.node, log.node) or integral(module, x):
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
        return self.replace(module, log.node, f"{spelled[0]}({arg})", spelled[1])

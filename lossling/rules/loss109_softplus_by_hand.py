"""LOSS109 softplus-by-hand: ``log(1 + exp(x))`` and ``log1p(exp(x))`` overflow above x = 88.7; softplus does not."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import hint, integral, movable, stable_call
from ..rule import Rule, Safety
from ..semantic.module import Module, OpCall
from ..semantic.patterns import max_shifted, overflows, plus_one, selected_below, tensor_operand, unary


class SoftplusByHand(Rule):
    code = "LOSS109"
    name = "softplus-by-hand"
    summary = "log(1 + exp(x)): exp overflows to inf above x = 88.7 (float32) and the gradient turns NaN"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("exp",)
    supersedes = ("LOSS101", "LOSS106")

    def check(self, module: Module) -> Iterator[Finding]:
        for log in module.ops("log", "log1p"):
            if not unary(log):
                continue
            total = module.resolve(log.input)
            term = total if log.op == "log1p" else plus_one(module, total)
            exp = module.op_of(term, "exp")
            if total is None or exp is None or not unary(exp) or not tensor_operand(module, exp, exp.input):
                continue
            if not overflows(module, exp) or max_shifted(module, exp.input) or selected_below(module, exp.input):
                continue  # exp(-|x|), exp(clamp(x, max=50)), exp(min - max): the stable form's tail
            fix = self._fix(module, log, total, exp)
            yield self.finding(module, log.node, f"log(1 + exp(x)) overflows to inf for x above 88.7; "
                                                 f"use {hint(fix, 'softplus(x)')}", fix)

    def _fix(self, module: Module, log: OpCall, total: ast.expr, exp: OpCall) -> Fix | None:
        if exp.input is None or not (movable(module, total, log.node) and movable(module, exp.node, log.node)) or (
                integral(module, exp.input)):
            return None
        framework = "torch" if exp.kind == "method" else exp.framework
        x = module.text(exp.input)
        if framework == "numpy":  # NumPy has no softplus: log(exp(0) + exp(x))
            spelled = stable_call(module, "logaddexp", "numpy")
            return self.replace(module, log.node, f"{spelled[0]}(0, {x})", spelled[1]) if spelled else None
        spelled = stable_call(module, "softplus", framework)
        if spelled is None:
            return None
        return self.replace(module, log.node, f"{spelled[0]}({x})", spelled[1])

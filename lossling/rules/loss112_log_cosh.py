"""LOSS112 log-cosh: ``log(cosh(x))`` overflows for |x| above 89; ``x + softplus(-2x) - log(2)`` does not."""

from __future__ import annotations

from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import atom, hint, integral, movable, stable_call, unmovable
from ..rule import Rule, Safety
from ..semantic.module import Module, OpCall
from ..semantic.patterns import overflows, pure, tensor_operand, unary


class LogCosh(Rule):
    code = "LOSS112"
    name = "log-cosh"
    summary = "log(cosh(x)): cosh overflows to inf for |x| above 89.4 (float32) and the gradient turns NaN"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("cosh",)
    supersedes = ("LOSS101",)

    def check(self, module: Module) -> Iterator[Finding]:
        for log in module.ops("log"):
            cosh = module.op_of(log.input, "cosh")
            if cosh is None or not unary(log) or not unary(cosh) or not tensor_operand(module, cosh, cosh.input):
                continue
            if not overflows(module, cosh):
                continue
            fix = self._fix(module, log, cosh)
            use = hint(fix, "x + softplus(-2 * x) - log(2)")
            why = "" if fix else unmovable(module, cosh.node, log.node)
            yield self.finding(module, log.node, f"log(cosh(x)) overflows to inf for |x| above 89; use {use}{why}",
                               fix)

    def _fix(self, module: Module, log: OpCall, cosh: OpCall) -> Fix | None:
        x = cosh.input
        if x is None or not pure(module, x) or not movable(module, cosh.node, log.node) or integral(module, x):
            return None
        framework = "torch" if cosh.kind == "method" else cosh.framework
        term = atom(module, x)
        if framework == "numpy":  # NumPy has no softplus: softplus(t) = logaddexp(0, t)
            spelled = stable_call(module, "logaddexp", "numpy")
            softplus = spelled and (f"{spelled[0]}(0, -2 * {term})", spelled[1])
        else:
            spelled = stable_call(module, "softplus", framework)
            softplus = spelled and (f"{spelled[0]}(-2 * {term})", spelled[1])
        log2 = module.spell("math.log")
        if not softplus or log2 is None:
            return None
        return self.replace(module, log.node, f"{term} + {softplus[0]} - {log2[0]}(2)", softplus[1], log2[1])

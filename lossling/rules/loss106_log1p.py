"""LOSS106 log1p: ``log(1 + x)`` rounds ``1 + x`` to 1 for small x; ``log1p(x)`` keeps x."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Edit, Finding, Fix
from ..rewrite import atom, hint, movable, spell_beside, unmovable
from ..rule import Rule, Safety
from ..semantic.module import Module, OpCall
from ..semantic.patterns import from_grid, plus_one, sign_scaled, tensor_operand, unary


class Log1p(Rule):
    code = "LOSS106"
    default = False  # opt-in: below the default set\'s precision bar on unseen code (README, "Default rules")
    name = "log1p"
    summary = "log(1 + x): float32 rounds 1 + x to 1 for |x| below 6e-8, so small x are lost"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("log",)

    def check(self, module: Module) -> Iterator[Finding]:
        for log in module.ops("log"):
            total = module.resolve(log.input)
            x = plus_one(module, total)
            if x is None or total is None or not tensor_operand(module, log, x) or self._not_small(module, log, x):
                continue
            fix = self._fix(module, log, total, x)
            use = hint(fix, "log1p(x)") if fix is None or len(fix.edits) == 1 else f"{fix.edits[0].text}(x)"
            why = "" if fix else unmovable(module, total, log.node)
            yield self.finding(module, log.node, f"log(1 + x) rounds 1 + x to 1 and loses small x; use {use}{why}",
                               fix)

    @staticmethod
    def _not_small(module: Module, log: OpCall, x: ast.expr) -> bool:
        """Where x carries no digits below 1e-7 worth keeping: integer grid coordinates, a magnitude compressed
        with its sign (``sign(x) * log(1 + |x|)``), a sum of exps (a log-sum-exp with a 0 appended, which masks
        terms with -inf; its stable form is not log1p)."""
        if from_grid(module, x) or sign_scaled(module, log.node):
            return True
        total = module.op_of(x, "sum", "mean")
        return total is not None and module.op_of(total.input, "exp") is not None

    def _fix(self, module: Module, log: OpCall, total: ast.expr, x: ast.expr) -> Fix | None:
        if not unary(log) or not movable(module, total, log.node):
            return None
        if log.kind == "method":
            return self.replace(module, log.node, f"{atom(module, x)}.log1p()")
        spelled = spell_beside(module, log, "log1p")
        if spelled is None:
            return None
        if total is not log.input:  # the sum was assigned earlier: write log1p of its term here
            return self.replace(module, log.node, f"{spelled[0]}({module.text(x)})", spelled[1])
        # rename the function and drop the "1 +": the call's own line breaks and comments stay
        edits = (Edit(module.span(log.node.func), spelled[0]), Edit(module.span(total), module.text(x)))
        return Fix(edits, self.fix_safety, tuple(i for i in (spelled[1],) if i))

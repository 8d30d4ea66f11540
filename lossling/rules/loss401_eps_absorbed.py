"""LOSS401 eps-absorbed: an eps that float32 absorbs into 1 before it can guard: ``clamp(p, eps, 1 - eps)`` with
``1 - eps`` exactly 1.0, or ``eps + 1 - p`` / ``(1 + eps) - p`` with ``1 + eps`` exactly 1.0."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Edit, Finding, Fix
from ..rewrite import atom
from ..rule import Rule, Safety
from ..semantic import inference
from ..semantic.module import Module


class EpsAbsorbed(Rule):
    code = "LOSS401"
    name = "eps-absorbed"
    summary = ("an eps that float32 absorbs into 1: 1 - eps is 1.0 for eps <= 2**-25 (2.98e-8), so clamp(p, eps, "
               "1 - eps) does not keep p below 1; 1 + eps is 1.0 for eps <= 2**-24, so log(eps + 1 - p) is -inf "
               "at p = 1")
    severity = "error"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("clamp", "clip", "log", "/")
    # eps + 1 - p under a log or as a divisor: the absorbed eps is the root cause of the unguarded log/division.
    supersedes = ("LOSS101", "LOSS201")

    def check(self, module: Module) -> Iterator[Finding]:
        for guard in inference.guards(module, additive=False):
            eps = inference.eps_value(module, guard.eps)
            if eps is None or not inference.absorbed(eps, "float32", guard.kind):
                continue
            if module.facts.value(guard.tensor).dtype == "f64":
                continue  # float64 keeps 1 - eps below 1
            fix = self._fix(module, guard, eps)
            if guard.kind == "one_minus":
                clip = module.op(guard.at)
                message = (f"1 - {eps:g} rounds to 1.0 in float32, so this {clip.op if clip else 'clamp'} lets p "
                           "reach 1 and log(1 - p) is -inf there; use an eps of at least float32's machine epsilon "
                           "(1.19e-07)")
            else:
                message = (f"{eps:g} + 1 rounds to 1.0 in float32 before p is subtracted, so at p = 1 this is 0 "
                           "again (-inf after a log, inf as a divisor); add the eps after the subtraction: "
                           "1 - p + eps")
            yield self.finding(module, guard.at, message, fix)

    def _fix(self, module: Module, guard: inference.Guard, eps: float) -> Fix | None:
        if guard.tensor is None:
            return None
        if guard.kind == "one_plus":
            if not (isinstance(guard.node, ast.BinOp) and isinstance(guard.node.left, ast.BinOp)):
                return None  # the 1 + eps is a name defined elsewhere: leave its definition alone
            return self.replace(module, guard.node, f"1 - {atom(module, guard.tensor)} + {module.text(guard.eps)}",
                                title="Add the eps after subtracting p")
        literals = inference.guard_literals(module, guard, eps)
        if not literals:
            return None
        spelled = inference.dtype_eps(module, guard.tensor, guard.framework)
        if spelled is None:
            if inference.guard_dtype(module, guard) != "float32":
                return None
            spelled = ("1e-7", None)
        edits = tuple(Edit(module.span(n), spelled[0]) for n in literals)
        return Fix(edits, Safety.UNSAFE, tuple(i for i in (spelled[1],) if i), "Use the dtype's machine epsilon")

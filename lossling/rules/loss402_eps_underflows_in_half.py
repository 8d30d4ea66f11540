"""LOSS402 eps-underflows-in-half: an eps that float16/bfloat16 code cannot represent next to the value it guards."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Edit, Finding, Fix
from ..rule import Rule, Safety
from ..semantic import inference
from ..semantic.module import Module

_MACHINE_EPS = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}


class EpsUnderflowsInHalf(Rule):
    code = "LOSS402"
    name = "eps-underflows-in-half"
    summary = "an eps that is 0 or subnormal in float16, or absorbed by 1 - eps / 1 + eps in float16/bfloat16"
    severity = "error"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("half", "float16", "autocast", "GradScaler", "mixed_precision", "set_floatx", "set_default_dtype")
    supersedes = ("LOSS401",)

    def check(self, module: Module) -> Iterator[Finding]:
        if not inference.half_anywhere(module):
            return
        for guard in inference.guards(module):
            dtype = inference.guard_dtype(module, guard)
            if dtype not in _MACHINE_EPS:
                continue
            eps = inference.eps_value(module, guard.eps)
            if eps is None:
                continue
            if guard.kind in ("one_minus", "one_plus"):
                if inference.absorbed(eps, "float32", guard.kind) or not inference.absorbed(eps, dtype, guard.kind):
                    continue  # LOSS401 reports the float32 case
                sign = "-" if guard.kind == "one_minus" else "+"
                why = f"1 {sign} {eps:g} rounds to 1.0 in {dtype}, so the guard fails at p = 1"
            elif dtype == "float16" and eps < inference.TINY["float16"]:
                why = _underflow(module, guard, eps)
            else:
                continue
            fix = self._fix(module, guard, eps)
            yield self.finding(module, guard.at, f"{why}; this value is computed in {dtype}: use an eps of at least "
                               f"{_MACHINE_EPS[dtype]:g} ({dtype}'s machine epsilon), e.g. finfo(dtype).eps", fix)

    def _fix(self, module: Module, guard: inference.Guard, eps: float) -> Fix | None:
        literals = inference.guard_literals(module, guard, eps)
        spelled = inference.dtype_eps(module, guard.tensor, guard.framework) if literals else None
        if spelled is None:
            return None
        edits = tuple(Edit(module.span(n), spelled[0]) for n in literals)
        return Fix(edits, Safety.UNSAFE, tuple(i for i in (spelled[1],) if i), "Use the dtype's machine epsilon")


def _underflow(module: Module, guard: inference.Guard, eps: float) -> str:
    """What an additive eps below float16's smallest normal number does where the guarded value is 0."""
    division = isinstance(guard.at, ast.BinOp)
    call = module.op(guard.at)
    op = "division" if division else (call.op if call is not None else "log")
    if eps < 2.0 ** -25:  # rounds to 0
        result = {"division": "x / 0 is inf or NaN", "sqrt": "sqrt's gradient is inf",
                  "rsqrt": "rsqrt(0) is inf"}.get(op, f"{op}(0) is -inf")
        return f"eps {eps:g} is 0 in float16, so where the guarded value is 0 {result}"
    return (f"eps {eps:g} is subnormal in float16, so where the guarded value is 0, 1/eps overflows to inf "
            f"({'the quotient' if division else 'the gradient'})")

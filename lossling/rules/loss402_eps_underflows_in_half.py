"""LOSS402 eps-underflows-in-half: an eps that float16/bfloat16 code cannot represent next to the value it guards."""

from __future__ import annotations

from typing import Iterator

from ..finding import Edit, Finding, Fix
from ..rule import Rule, Safety
from ..semantic import inference
from ..semantic.module import Module

_MACHINE_EPS = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}


class EpsUnderflowsInHalf(Rule):
    code = "LOSS402"
    name = "eps-underflows-in-half"
    summary = "an eps that is 0 or subnormal in float16, or absorbed by 1 - eps in float16/bfloat16"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("half", "float16", "autocast", "GradScaler", "mixed_precision", "set_floatx", "set_default_dtype")
    supersedes = ("LOSS401",)

    def check(self, module: Module) -> Iterator[Finding]:
        if not inference.half_anywhere(module):
            return
        for guard in inference.guards(module):
            dtype = inference.dtype(module, guard.at)
            if dtype == "float32":
                continue
            eps = inference.value(module, guard.eps)
            if eps is None or eps < 0:
                continue
            if guard.kind == "one_minus":
                if inference.absorbed(eps, "float32") or not inference.absorbed(eps, dtype):
                    continue  # LOSS401 reports the float32 case
                why = f"1 - {eps:g} rounds to 1.0 in {dtype}"
            elif dtype == "float16" and eps < inference.TINY["float16"]:
                why = f"eps {eps:g} is {'0' if eps < 2.0 ** -25 else 'subnormal'} in float16 (1/eps overflows)"
            else:
                continue
            fix = self._fix(module, guard, eps)
            if fix:
                name = fix.edits[-1].text
            elif guard.framework == "torch":
                tensor = module.text(guard.tensor) if inference.repeatable(guard.tensor) else "x"
                name = f"torch.finfo({tensor}.dtype).eps"
            else:
                name = f"an eps of at least {_MACHINE_EPS[dtype]:g} ({dtype}'s machine epsilon)"
            yield self.finding(module, guard.at, f"{why}, and this code runs in {dtype}; use {name}", fix)

    def _fix(self, module: Module, guard: inference.Guard, eps: float) -> Fix | None:
        literals = inference.guard_literals(module, guard, eps)
        spelled = inference.dtype_eps(module, guard.tensor, guard.framework) if literals else None
        if spelled is None:
            return None
        edits = tuple(Edit(module.span(n), spelled[0]) for n in literals)
        return Fix(edits, Safety.UNSAFE, tuple(i for i in (spelled[1],) if i))

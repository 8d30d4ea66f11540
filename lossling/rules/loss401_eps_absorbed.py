"""LOSS401 eps-absorbed: ``clamp(p, eps, 1 - eps)`` with eps so small that ``1 - eps`` is exactly 1 in float32."""

from __future__ import annotations

from typing import Iterator

from ..finding import Edit, Finding, Fix
from ..rule import Rule, Safety
from ..semantic import inference
from ..semantic.module import Module


class EpsAbsorbed(Rule):
    code = "LOSS401"
    name = "eps-absorbed"
    summary = ("1 - eps rounds to 1.0 in float32 when eps <= 2**-25 (2.98e-8), so the upper clamp does not keep "
               "log(1 - p) finite")
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("clamp", "clip")

    def check(self, module: Module) -> Iterator[Finding]:
        for guard in inference.guards(module, additive=False):
            if guard.kind != "one_minus":
                continue
            eps = inference.value(module, guard.eps)
            if eps is None or not inference.absorbed(eps, "float32"):
                continue
            clip = module.op(guard.at)
            hint = ""
            if module.op_of(guard.tensor, "sigmoid") is not None:
                hint = " (better: a with-logits loss on the sigmoid's input)"
            fix = self._fix(module, guard, eps)
            tensor = module.text(guard.tensor) if inference.repeatable(guard.tensor) else "p"
            replacement = fix.edits[-1].text if fix else (
                f"torch.finfo({tensor}.dtype).eps" if guard.framework == "torch" else "1e-7")
            yield self.finding(module, guard.at, f"1 - {eps:g} rounds to 1.0 in float32, so this {clip.op} "
                               f"does not keep p below 1; use eps = {replacement}{hint}", fix)

    def _fix(self, module: Module, guard: inference.Guard, eps: float) -> Fix | None:
        literals = inference.guard_literals(module, guard, eps)
        if not literals:
            return None
        spelled = inference.dtype_eps(module, guard.tensor, guard.framework)
        if spelled is None:
            if inference.dtype(module, guard.at) != "float32":
                return None
            spelled = ("1e-7", None)
        edits = tuple(Edit(module.span(n), spelled[0]) for n in literals)
        return Fix(edits, Safety.UNSAFE, tuple(i for i in (spelled[1],) if i))

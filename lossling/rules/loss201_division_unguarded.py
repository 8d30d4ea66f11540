"""LOSS201 division-unguarded: dividing by a sum, max, norm or std that degenerate inputs make exactly 0."""

from __future__ import annotations

from typing import Iterator

from ..rewrite import GUARD_TITLE, guarded_division
from ..rule import Rule, Safety
from ..semantic.divisions import divisions
from ..semantic.module import Module
from ..semantic.values import Zero
from ..finding import Finding

# What makes the divisor 0, said as the input where the division fails.
WHERE = {
    "sum": "a sum of non-negative terms, 0 when every term is 0",
    "max": "a max of non-negative values, 0 for an all-zero input",
    "min": "the smallest of several values (a min, a top-k of the smallest), 0 as soon as one of them is",
    "norm": "a norm, 0 for a zero vector",
    "std": "a std/var, 0 for a constant input",
}


class DivisionUnguarded(Rule):
    code = "LOSS201"
    default = False  # opt-in: below the default set\'s precision bar on unseen code (README, "Default rules")
    name = "division-unguarded"
    summary = "division by a sum, max, norm or std that degenerate inputs make exactly 0, with no guard"
    severity = "warning"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax")
    triggers = ("/", "div")

    def check(self, module: Module) -> Iterator[Finding]:
        if not module.frameworks:
            return
        facts = module.facts
        for site in divisions(module):
            divisor = facts.value(site.divisor)
            if divisor.zero < Zero.DEGENERATE or divisor.cause not in WHERE or not divisor.tensor:
                continue
            if divisor.kind == "numpy" or facts.tested(site.divisor) or facts.repaired(site.node):
                continue  # NumPy: data preparation, no autograd
            rewrite = guarded_division(module, site)
            fix = self.replace(module, rewrite[0], rewrite[1], rewrite[2], title=GUARD_TITLE) if rewrite else None
            yield self.finding(module, site.node, f"division by {WHERE[divisor.cause]}: inf/NaN there; guard the "
                               "divisor (clamp_min(eps) of its dtype, or divide_no_nan)", fix)

"""LOSS201 division-unguarded: dividing by a sum, count, max, norm or std that is exactly 0 on ordinary data."""

from __future__ import annotations

from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import guarded_division, hint
from ..rule import Rule, Safety
from ..semantic import zeros
from ..semantic.module import Module

WHAT = {
    "count": "a count that an empty mask makes 0",
    "sum": "a sum that is 0 when every term is",
    "max": "a max that is 0 for an all-zero input",
    "norm": "a norm that is 0 for a zero vector",
    "std": "a std/var that is 0 for a constant input",
}


class DivisionUnguarded(Rule):
    code = "LOSS201"
    name = "division-unguarded"
    summary = "division by a reduction, count, norm or std that can be exactly 0, with no guard"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("/", "div")

    def check(self, module: Module) -> Iterator[Finding]:
        if not module.frameworks:
            return
        for site in zeros.divisions(module):
            kind = zeros.zero_risk(module, site.divisor)
            if kind is None or zeros.framework_of(module, site.divisor) == "numpy":
                continue  # NumPy: data preparation, no autograd
            if zeros.checked(module, site.node, site.divisor):
                continue
            rewrite = guarded_division(module, site, kind)
            fix = self.replace(module, rewrite[0], rewrite[1], rewrite[2]) if rewrite else None
            yield self.finding(module, site.node, f"division by {WHAT[kind]} gives NaN/inf; {advice(fix, kind)}", fix)


def advice(fix: Fix | None, kind: str) -> str:
    """Name the guard: the fix's own text when it is short, else the usual guard for this kind of divisor."""
    text = hint(fix, "")
    if text:
        return f"use {text}"
    if fix is not None and "divide_no_nan" in fix.edits[0].text.partition("(")[0]:
        return f"use {fix.edits[0].text.partition('(')[0]}"
    return "clamp the count (.clamp_min(1), max(n, 1))" if kind == "count" else "guard it (.clamp_min(eps), + eps)"

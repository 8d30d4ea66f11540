"""LOSS206 mean-of-empty: the mean of a selection that a batch without positives makes empty is NaN."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import GUARD_TITLE, atom, guarded_division, sibling
from ..rule import Rule, Safety
from ..semantic.divisions import divisions, weighted_mean
from ..semantic.inference import repeatable
from ..semantic.module import Module, OpCall
from ..semantic.patterns import pure
from ..semantic.values import Zero


class MeanOfEmpty(Rule):
    code = "LOSS206"
    default = False  # opt-in: below the default set\'s precision bar on unseen code (README, "Default rules")
    name = "mean-of-empty"
    summary = "mean over a masked selection (x[mask].mean(), sum / mask.sum()): NaN when the mask is empty"
    severity = "error"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("mean", "/", "div")
    supersedes = ("LOSS201",)

    def check(self, module: Module) -> Iterator[Finding]:
        if not module.frameworks:
            return
        facts = module.facts
        for mean in module.ops("mean"):
            selected = mean.input
            if selected is None or mean.arg(1, "dim", "axis") is not None or not facts.selection(selected):
                continue
            if mean.framework in ("numpy", "scipy") or facts.value(selected).kind == "numpy":
                continue  # NumPy: data preparation and metrics, no autograd (as for the divisions below)
            if facts.tested(mean.node) or facts.repaired(mean.node):
                continue
            fix = self._mean_fix(module, mean, selected)
            yield self.finding(module, mean.node, "mean of a masked selection is NaN (0 / 0) when the mask selects "
                               "nothing (a batch without positives); divide by the count clamped to 1", fix)
        for site in divisions(module):
            divisor = facts.value(site.divisor)
            if divisor.kind == "numpy" or divisor.zero <= Zero.ROUNDING:
                continue
            weighted = weighted_mean(module, site)
            if not weighted and (divisor.cause != "count" or divisor.zero is not Zero.EXACT):
                continue
            if facts.tested(site.divisor) or facts.repaired(site.node):
                continue
            rewrite = guarded_division(module, site)
            # a count of a soft (float) mask can lie in (0, 1), where clamping it to 1 changes the value
            fix = self.replace(module, rewrite[0], rewrite[1], rewrite[2], safety=Safety.UNSAFE,
                               title=GUARD_TITLE) if rewrite else None
            what = "every weight is 0" if weighted and divisor.cause != "count" else "the mask is empty"
            yield self.finding(module, site.node, f"masked mean: sum / count is NaN (0 / 0) when {what}; guard "
                               "the count (clamp it to 1, or divide_no_nan)", fix)

    def _mean_fix(self, module: Module, mean: OpCall, selected: ast.expr) -> Fix | None:
        """``sel.mean()`` -> ``(sel / max(sel.numel(), 1)).sum()`` (dividing first: a float16 sum of the
        selection can overflow where its mean does not); TF ``reduce_mean(sel)`` -> ``divide_no_nan``."""
        if len(mean.node.args) + len(mean.node.keywords) != (0 if mean.kind == "method" else 1):
            return None
        if not pure(module, selected):
            return None
        sel = atom(module, selected)
        if mean.framework == "torch" or (mean.kind == "method" and "torch" in module.frameworks):
            return self.replace(module, mean.node, f"({sel} / max({sel}.numel(), 1)).sum()",
                                title="Divide by the count clamped to 1, then sum")
        if mean.framework not in ("tf", "tf1") or mean.kind != "function" or not repeatable(selected):
            return None
        total = sibling(module, mean, "reduce_sum")
        no_nan = module.spell("tensorflow.math.divide_no_nan")
        size, cast = module.spell("tensorflow.size"), module.spell("tensorflow.cast")
        if not (total and no_nan and size and cast):
            return None
        text = f"{no_nan[0]}({total[0]}({sel}), {cast[0]}({size[0]}({sel}), {sel}.dtype))"
        return self.replace(module, mean.node, text, total[1], no_nan[1], size[1], cast[1],
                            title="Use `divide_no_nan` of the sum and the size")


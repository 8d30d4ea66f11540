"""LOSS304 kl-div-input: ``F.kl_div`` / ``nn.KLDivLoss`` fed probabilities as input, or reducing with 'mean'."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import movable, respelled, rewritten
from ..rule import Rule, Safety
from ..semantic import models
from ..semantic.module import Module

_KL_FUNCTION = "torch.nn.functional.kl_div"
_KL_MODULE = "torch.nn.KLDivLoss"
# Where ``reduction`` sits when passed positionally: F.kl_div(input, target, size_average, reduce, reduction);
# nn.KLDivLoss(size_average, reduce, reduction). The legacy size_average/reduce are left alone.
_REDUCTION_POSITION = {_KL_FUNCTION: 4, _KL_MODULE: 2}


class KlDivInput(Rule):
    code = "LOSS304"
    name = "kl-div-input"
    summary = "kl_div fed probabilities instead of log-probabilities, or reduced with 'mean' instead of 'batchmean'"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch",)
    triggers = ("kl_div", "KLDivLoss")

    def check(self, module: Module) -> Iterator[Finding]:
        for kl in module.ops("kl_div"):
            if kl.framework != "torch":
                continue
            found = models.activation(module, kl.input, "softmax", "sigmoid")
            if found is None:
                continue
            fix = None
            if found.activation == "softmax" and found.call is not None and kl.input is not None and (
                    movable(module, found.call.node, kl.node)):
                spelled = respelled(module, found.call, "log_softmax")
                fix = self.replace(module, kl.input, *spelled) if spelled else None
            yield self.finding(module, kl.node, f"kl_div expects log-probabilities as input but gets "
                                                f"{found.describe(module)}: the result is not a divergence; use "
                                                "log_softmax", fix)
        for call in module.calls_named("kl_div", "KLDivLoss"):
            qualname = module.qualname(call.func)
            if qualname in _REDUCTION_POSITION:
                finding = self._reduction(module, call, qualname)
                if finding is not None:
                    yield finding

    def _reduction(self, module: Module, call: ast.Call, qualname: str) -> Finding | None:
        keywords = {k.arg: k.value for k in call.keywords}
        if "size_average" in keywords or "reduce" in keywords or None in keywords:
            return None
        position = _REDUCTION_POSITION[qualname]
        positional = len(call.args) - (2 if qualname == _KL_FUNCTION else 0)
        if any(isinstance(a, ast.Starred) for a in call.args) or 0 < positional < 3:
            return None
        reduction = keywords.get("reduction", call.args[position] if len(call.args) > position else None)
        if reduction is not None and not (isinstance(reduction, ast.Constant) and reduction.value == "mean"):
            return None
        fix: Fix | None
        if reduction is not None:
            quote = module.text(reduction)[0]
            fix = self.replace(module, reduction, f"{quote}batchmean{quote}")
        else:
            text = rewritten(module, call, {}, 'reduction="batchmean"')
            fix = self.replace(module, call, text) if text else None
        what = "reduction='mean'" if reduction is not None else "the default reduction='mean'"
        return self.finding(module, call, f"{what} divides the KL divergence by the number of elements, not the "
                                          "batch size; use reduction='batchmean'", fix)

"""LOSS603 ctc-infinite-loss: CTC loss without ``zero_infinity=True``: one impossible sample makes the loss inf."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding
from ..rewrite import rewritten
from ..rule import Rule, Safety
from ..semantic import apis
from ..semantic.module import Module

# Position of zero_infinity in the signature: nn.CTCLoss(blank, reduction, zero_infinity) and
# F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity).
_POSITION = {"module": 2, "function": 6}


class CtcInfiniteLoss(Rule):
    code = "LOSS603"
    name = "ctc-infinite-loss"
    summary = "CTC loss without zero_infinity=True: an input shorter than its target gives inf loss and NaN grads"
    severity = "warning"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch",)
    triggers = ("ctc", "CTC")

    def check(self, module: Module) -> Iterator[Finding]:
        for call in module.nodes(ast.Call):
            qualname = module.qualname(call.func)
            api = apis.FUNCTIONS.get(qualname) if qualname else None
            if api is None or api.op != "ctc" or api.framework != "torch":
                continue
            if any(k.arg in ("zero_infinity", None) for k in call.keywords) or any(
                    isinstance(a, ast.Starred) for a in call.args) or len(call.args) > _POSITION[api.kind]:
                continue  # set explicitly (either way) or passed through **kwargs
            text = rewritten(module, call, {}, append="zero_infinity=True")
            fix = self.replace(module, call, text, title="Pass `zero_infinity=True`") if text else None
            yield self.finding(module, call, "CTC loss is inf (and its gradients NaN for the whole batch) when an "
                               "input is shorter than its target; pass zero_infinity=True", fix)

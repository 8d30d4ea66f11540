"""LOSS303 nll-on-probabilities: ``nll_loss`` expects log-probabilities; fed softmax output it is negative."""

from __future__ import annotations

from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import movable, respelled
from ..rule import Rule, Safety
from ..semantic import models
from ..semantic.module import Module, OpCall


class NllOnProbabilities(Rule):
    code = "LOSS303"
    name = "nll-on-probabilities"
    summary = "nll_loss / NLLLoss fed probabilities (softmax or sigmoid output) instead of log-probabilities"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch",)
    triggers = ("nll_loss", "NLLLoss")

    def check(self, module: Module) -> Iterator[Finding]:
        for nll in module.ops("nll"):
            found = models.activation(module, nll.input, "softmax", "sigmoid")
            if found is None:
                continue
            fix = self._fix(module, nll, found.call) if found.activation == "softmax" else None
            yield self.finding(module, nll.node, f"{module.text(nll.node.func)} expects log-probabilities but gets "
                                                 f"{found.describe(module)}: the loss is negative and its gradient "
                                                 "wrong; use log_softmax (or cross_entropy on the logits)", fix)

    def _fix(self, module: Module, nll: OpCall, softmax: OpCall | None) -> Fix | None:
        if softmax is None or nll.input is None or not movable(module, softmax.node, nll.node):
            return None
        spelled = respelled(module, softmax, "log_softmax")
        return self.replace(module, nll.input, *spelled) if spelled else None

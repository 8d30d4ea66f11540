"""LOSS102 log-of-softmax: ``log(softmax(x))`` underflows; ``log_softmax(x)`` does not."""

from __future__ import annotations

from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import movable, respelled, unmovable
from ..rule import Rule, Safety
from ..semantic.module import Module, OpCall


class LogOfSoftmax(Rule):
    code = "LOSS102"
    name = "log-of-softmax"
    summary = "log of a softmax: one dominant logit sends a probability to 0 and its log to -inf"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("softmax", "Softmax")
    supersedes = ("LOSS101",)

    def check(self, module: Module) -> Iterator[Finding]:
        for log in module.ops("log"):
            softmax = module.op_of(log.input, "softmax")
            if softmax is None:
                continue
            fix = self._fix(module, log, softmax)
            name = fix.edits[0].text.partition("(")[0] if fix else "log_softmax"
            why = "" if fix else unmovable(module, softmax.node, log.node)
            yield self.finding(module, log.node, f"log of softmax underflows to -inf; use {name}{why}", fix)

    def _fix(self, module: Module, log: OpCall, softmax: OpCall) -> Fix | None:
        call = softmax.node
        if call is not module.resolve(log.input) or not movable(module, call, log.node):
            return None
        spelled = respelled(module, softmax, "log_softmax")
        return self.replace(module, log.node, spelled[0], spelled[1]) if spelled is not None else None

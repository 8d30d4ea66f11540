"""LOSS102 log-of-softmax: ``log(softmax(x))`` underflows; ``log_softmax(x)`` does not."""

from __future__ import annotations

from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import atom, call_args, movable, sibling, stable_call
from ..rule import Rule, Safety
from ..semantic.apis import axis_keyword
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
            yield self.finding(module, log.node, f"log of softmax underflows to -inf; use {name}", fix)

    def _fix(self, module: Module, log: OpCall, softmax: OpCall) -> Fix | None:
        call = softmax.node
        if call is not module.resolve(log.input) or not movable(module, call, log.node):
            return None
        if softmax.kind == "method":
            text = f"{atom(module, softmax.receiver)}.log_softmax{call_args(module, call)}"
            return self.replace(module, log.node, text)
        if softmax.kind == "function":
            spelled = sibling(module, softmax, "log_softmax") or stable_call(module, "log_softmax", softmax.framework)
            if spelled is None:
                return None
            return self.replace(module, log.node, spelled[0] + call_args(module, call), spelled[1])
        # an nn.Softmax(dim=...) instance: log_softmax of its input along its dim
        if softmax.framework != "torch" or softmax.input is None or len(call.args) != 1 or call.keywords:
            return None
        spelled = stable_call(module, "log_softmax", "torch")
        if spelled is None:
            return None
        dim = softmax.ctor.args[0] if softmax.ctor.args else softmax.keyword("dim")
        args = module.text(softmax.input) + (f", {axis_keyword('torch')}={module.text(dim)}" if dim else "")
        return self.replace(module, log.node, f"{spelled[0]}({args})", spelled[1])

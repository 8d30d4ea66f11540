"""LOSS309 probs-to-distribution: a distribution built from ``probs=softmax(z)`` instead of ``logits=z``."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import movable, rewritten
from ..rule import Rule, Safety
from ..semantic import apis, models
from ..semantic.module import Module, OpCall
from ..semantic.patterns import softmax_axis


_CLASSES = tuple(sorted({q.rpartition(".")[2] for q in apis.DISTRIBUTIONS}))


class ProbsToDistribution(Rule):
    code = "LOSS309"
    name = "probs-to-distribution"
    summary = "a distribution built from probs=softmax/sigmoid(z): its log_prob clamps; pass logits=z"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "jax")
    triggers = ("probs",) + _CLASSES

    def check(self, module: Module) -> Iterator[Finding]:
        for call in module.calls_named(*_CLASSES):
            qualname = _qualname(module, call.func)
            spec = apis.DISTRIBUTIONS.get(qualname) if qualname is not None else None
            if qualname is None or spec is None:
                continue
            activation, position = spec
            probs = next((k for k in call.keywords if k.arg == "probs"), None)
            value = probs.value if probs is not None else (
                call.args[position] if position is not None and len(call.args) > position else None)
            found = models.activation(module, value, activation)
            if found is None or value is None:
                continue
            fix = None
            if found.call is not None and qualname.startswith("torch."):
                fix = self._fix(module, call, probs or value, found.call)
            name = module.text(call.func)
            yield self.finding(module, call, f"{name}(probs={activation}(z)) clamps probabilities, so log_prob of "
                                             f"a saturated logit is wrong and its gradient 0; use "
                                             f"{name}(logits=z)", fix)

    def _fix(self, module: Module, call: ast.Call, argument: ast.expr | ast.keyword, activation: OpCall
             ) -> Fix | None:
        z = activation.input
        if z is None or not movable(module, activation.node, call):
            return None
        if isinstance(argument, ast.expr) and argument is not call.args[-1]:
            return None  # a positional probs followed by more positional arguments
        if activation.op == "softmax" and not _last_axis(module, activation):
            return None  # the distribution normalises over the last axis; logits=z is the same only then
        text = rewritten(module, call, {argument: f"logits={module.text(z)}"})
        return self.replace(module, call, text) if text else None


def _qualname(module: Module, func: ast.expr) -> str | None:
    """The qualified name of a call's function, also through a module alias (``tfd = tfp.distributions``)."""
    qualname = module.qualname(func)
    if qualname is None and isinstance(func, ast.Attribute):
        base = module.resolve(func.value)
        if base is not func.value:
            prefix = module.qualname(base)
            qualname = f"{prefix}.{func.attr}" if prefix else None
    return qualname


def _last_axis(module: Module, softmax: OpCall) -> bool:
    dim = softmax_axis(softmax)
    if dim is None:
        return softmax.framework != "torch"  # TF, Keras and JAX default to the last axis
    return module.const(dim) == -1.0

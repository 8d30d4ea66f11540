"""LOSS501 learning-rate-high: an adaptive optimizer (Adam, RMSprop ...) built with a learning rate of 1e-2 or more."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding
from ..rule import Rule
from ..semantic import apis, context, inference
from ..semantic.module import Module
from ..semantic.scopes import callee_name

# torch.optim.Adagrad's own default learning rate is 1e-2: a default is not the user's choice.
_DEFAULTS = {"torch.optim.Adagrad": 1e-2}
_NAMES = frozenset(q.rpartition(".")[2] for q in apis.OPTIMIZERS)


class LearningRateHigh(Rule):
    code = "LOSS501"
    name = "learning-rate-high"
    default = False  # a training heuristic: opt-in (select LOSS5 or its code)
    summary = ("an adaptive optimizer (Adam, RMSprop...) with lr >= 1e-2 (SGD >= 1.0; Adagrad above its default "
               "1e-2): the usual route to NaN early on")
    severity = "warning"
    frameworks = ("torch", "tensorflow", "keras", "jax")
    triggers = ("optim", "Optimizer", "optax")
    options = {"threshold": 1e-2, "sgd-threshold": 1.0}

    def check(self, module: Module) -> Iterator[Finding]:
        if not context.trains(module):
            return  # an optimizer built where nothing trains: a registry, a factory, a test
        for call in module.nodes(ast.Call):
            func = call.func
            if callee_name(func) not in _NAMES:
                continue
            qualname = module.qualname(func)
            found = apis.OPTIMIZERS.get(qualname) if qualname is not None else None
            if qualname is None or found is None:
                continue
            kind, position = found
            if context.in_test(module, call) or _explicit_variables(module, call, position):
                continue
            lr = next((k.value for k in call.keywords if k.arg in ("lr", "learning_rate")), None)
            if lr is None and len(call.args) > position and not any(isinstance(a, ast.Starred) for a in call.args):
                lr = call.args[position]
            value = inference.value(module, lr) if lr is not None else None
            if value is None:
                continue
            sgd = kind == "sgd"
            limit = self.settings["sgd-threshold"] if sgd else self.settings["threshold"]
            if value < limit or value <= _DEFAULTS.get(qualname, 0.0):
                continue
            name = qualname.rpartition(".")[2]
            advice = "steps of 1.0 or more diverge on most losses" if sgd else (
                "saturates the outputs within a few steps, where an unstable loss turns NaN; use about 1e-3 "
                "(3e-4 for AdamW) or a warm-up")
            yield self.finding(module, call, f"{name} with learning rate {value:g} (>= {limit:g}) in code that "
                               f"trains: {advice}")


def _explicit_variables(module: Module, call: ast.Call, position: int) -> bool:
    """A torch optimizer over a list of tensors written out (``Adam([scale, shift], lr=0.1)``): a handful of
    variables (kernel hyperparameters, a variational posterior's parameters), where steps of 0.1 are the
    usual choice, not a network's ``.parameters()``."""
    if position != 1 or not call.args:
        return False
    params = module.resolve(call.args[0])
    return isinstance(params, (ast.List, ast.Tuple)) and all(
        isinstance(e, (ast.Name, ast.Attribute)) for e in params.elts)

"""LOSS305 double-softmax: a loss that applies softmax (or sigmoid) itself, fed an activation's output."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import movable
from ..rule import Rule, Safety
from ..semantic import losses, models
from ..semantic.module import Module, OpCall

# Loss op -> (the activation it applies to its input, where that input is: position, keywords).
_APPLIES = {
    "cross_entropy": ("softmax", 0, ("input",)),
    "softmax_ce_logits": ("softmax", 1, ("logits",)),
    "sparse_softmax_ce_logits": ("softmax", 1, ("logits",)),
    "bce_logits": ("sigmoid", 0, ("input",)),
    "sigmoid_ce_logits": ("sigmoid", 1, ("logits",)),
    "categorical_crossentropy": ("softmax", 1, ("y_pred", "output")),
    "sparse_categorical_crossentropy": ("softmax", 1, ("y_pred", "output")),
    "binary_crossentropy": ("sigmoid", 1, ("y_pred", "output")),
    "binary_focal_crossentropy": ("sigmoid", 1, ("y_pred",)),
    "categorical_focal_crossentropy": ("softmax", 1, ("y_pred",)),
    "weighted_ce_logits": ("sigmoid", 1, ("logits",)),
}


class DoubleSoftmax(Rule):
    code = "LOSS305"
    name = "double-softmax"
    summary = "a loss that applies softmax/sigmoid itself is fed softmax/sigmoid output: activated twice"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras")
    triggers = ("cross_entropy", "CrossEntropy", "crossentropy", "Crossentropy", "BCEWithLogits")

    def check(self, module: Module) -> Iterator[Finding]:
        for loss in module.ops(*_APPLIES):
            activation, position, keywords = _APPLIES[loss.op]
            if loss.op in losses.KERAS_CROSSENTROPY and losses.constant_bool(losses.from_logits(loss)) is not True:
                continue
            value = loss.arg(position, *keywords)
            found = models.activation(module, value, activation)
            if found is None or value is None:
                continue
            fix = self._fix(module, loss, value, found.call)
            yield self.finding(module, loss.node, f"{module.text(loss.node.func)} applies {activation} itself but "
                                                  f"gets {found.describe(module)}: {activation} is applied twice; "
                                                  "pass the logits", fix)

    def _fix(self, module: Module, loss: OpCall, value: ast.expr, activation: OpCall | None) -> Fix | None:
        if activation is None or activation.input is None or not movable(module, activation.node, loss.node):
            return None
        extra = [k.arg for k in activation.node.keywords if k.arg not in ("dim", "axis", "input", "x", "logits")]
        if extra:
            return None
        return self.replace(module, value, module.text(activation.input))

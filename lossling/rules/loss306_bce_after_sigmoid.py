"""LOSS306 bce-after-sigmoid: a probability BCE applied to a sigmoid's output instead of BCE with logits."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Edit, Finding, Fix
from ..rewrite import movable, rewritten, sibling, stable_call
from ..rule import Rule, Safety
from ..semantic import losses, models
from ..semantic.module import Module, OpCall

_NON_TF_BACKENDS = ("torch", "jax")


class BceAfterSigmoid(Rule):
    code = "LOSS306"
    name = "bce-after-sigmoid"
    summary = "binary cross-entropy on sigmoid output: saturated logits give a clamped loss and a zero gradient"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras")
    triggers = ("binary_cross_entropy", "BCELoss", "binary_crossentropy", "BinaryCrossentropy",
                "binary_focal_crossentropy", "BinaryFocalCrossentropy", "log_loss")

    def check(self, module: Module) -> Iterator[Finding]:
        backend = models.keras_backend(module)
        for loss in module.ops("bce", "binary_crossentropy", "binary_focal_crossentropy", "log_loss"):
            keras = loss.op in losses.KERAS_CROSSENTROPY
            flag = losses.from_logits(loss) if keras else None
            if flag is not None and losses.constant_bool(flag) is not False:
                continue  # from_logits=True (LOSS305 judges a sigmoid there) or set at run time
            value = loss.arg(1, "y_pred", "output", "predictions") if loss.op != "bce" else loss.input
            found = models.activation(module, value, "sigmoid")
            if found is None or value is None:
                continue
            if found.head is not None:
                if found.head.framework == "keras" and backend not in _NON_TF_BACKENDS:
                    continue
                yield self.finding(module, loss.node, f"{module.text(loss.node.func)} gets "
                                                      f"{found.describe(module)}: saturated logits give a clamped "
                                                      "loss and a zero gradient; end the model with logits and use "
                                                      + ("from_logits=True" if keras else "BCEWithLogitsLoss"
                                                         if loss.op == "bce" else "sigmoid_cross_entropy"))
                continue
            fix = self._fix(module, loss, value, found.call) if loss.op != "log_loss" else None
            if loss.op == "log_loss":  # TensorFlow 1's log_loss(labels, predictions, weights, epsilon=1e-7)
                effect = ("log_loss adds epsilon 1e-7 inside the logs, so the loss stops at 16.1 with gradient 0 "
                          "(z = 20, y = 0)")
                replacement = "sigmoid_cross_entropy on the logits"
            elif keras:
                effect = "Keras clips the probability, so the loss stops at 16.1 with gradient 0 (z = 20, y = 0)"
                replacement = "from_logits=True on the logits"
            else:
                effect = "BCE clamps log at -100, so the loss stops at 100 with gradient 0 (true 30 at z = 30, y = 0)"
                replacement = "binary_cross_entropy_with_logits"
            yield self.finding(module, loss.node, f"{module.text(loss.node.func)} of a sigmoid output: {effect}; "
                                                  f"use {replacement}", fix)
        if backend in _NON_TF_BACKENDS:
            for compiled in models.compiles(module):
                keras_loss = losses.keras_crossentropy(module, compiled.loss)
                if (keras_loss is not None and keras_loss.kind == "binary_crossentropy" and keras_loss.logits is False
                        and compiled.head is not None and compiled.head.activation == "sigmoid"):
                    yield self.finding(module, compiled.loss, f"on the {backend} backend Keras does not recover "
                                                              "the logits of a sigmoid last layer: saturated outputs "
                                                              "give a clipped loss and a zero gradient; use a linear "
                                                              "last layer and from_logits=True")

    def _fix(self, module: Module, loss: OpCall, value: ast.expr, sigmoid: OpCall | None) -> Fix | None:
        if sigmoid is None or sigmoid.input is None or not movable(module, sigmoid.node, loss.node):
            return None
        if sigmoid.kind != "method" and len(sigmoid.node.args) + len(sigmoid.node.keywords) != 1:
            return None
        logits = module.text(sigmoid.input)
        if loss.op == "bce":
            return self._torch(module, loss, value, logits)
        # Keras adds its epsilon inside the logs, so its probability path differs from the exact logits path a
        # little everywhere near saturation (float64 included): the Keras variant is unsafe.
        flag = losses.from_logits(loss)
        if flag is not None:  # an explicit from_logits=False
            return Fix((Edit(module.span(flag), "True"), Edit(module.span(value), logits)), Safety.UNSAFE)
        if loss.kind == "function":
            text = rewritten(module, loss.node, {value: logits}, "from_logits=True")
        elif loss.ctor is loss.node.func:  # BinaryCrossentropy()(y, sigmoid(z))
            ctor = rewritten(module, loss.ctor, {}, "from_logits=True")
            text = rewritten(module, loss.node, {loss.ctor: ctor, value: logits}) if ctor else None
        else:
            return None
        return self.replace(module, loss.node, text, safety=Safety.UNSAFE) if text else None

    def _torch(self, module: Module, loss: OpCall, value: ast.expr, logits: str) -> Fix | None:
        if loss.kind == "function":
            spelled = sibling(module, loss, "binary_cross_entropy_with_logits")
            if spelled is None:
                return None
            edits = (Edit(module.span(loss.node.func), spelled[0]), Edit(module.span(value), logits))
            return Fix(edits, Safety.SAFE, (spelled[1],) if spelled[1] else ())
        if loss.ctor is loss.node.func:  # nn.BCELoss(...)(sigmoid(z), y)
            spelled = sibling(module, loss, "BCEWithLogitsLoss")
            if spelled is None:
                return None
            edits = (Edit(module.span(loss.ctor.func), spelled[0]), Edit(module.span(value), logits))
            return Fix(edits, Safety.SAFE, (spelled[1],) if spelled[1] else ())
        # a named nn.BCELoss(...) instance: the functional form at this call, with the constructor's settings
        ctor = loss.ctor
        if ctor is None or ctor.args or any(not isinstance(k.value, ast.Constant) or k.arg is None
                                            for k in ctor.keywords):
            return None
        spelled = stable_call(module, "bce_logits", "torch")
        if spelled is None:
            return None
        settings = ", ".join(f"{k.arg}={module.text(k.value)}" for k in ctor.keywords)
        text = rewritten(module, loss.node, {loss.node.func: spelled[0], value: logits}, settings)
        return self.replace(module, loss.node, text, spelled[1]) if text else None

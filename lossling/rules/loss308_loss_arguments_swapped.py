"""LOSS308 loss-arguments-swapped: a loss called with the target where the prediction goes, by its names."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from ..finding import Edit, Finding, Fix
from ..rule import Rule, Safety
from ..semantic.models import RESHAPES
from ..semantic.module import Module, OpCall
from ..semantic.scopes import callee_name

# Losses whose two arguments play different parts (MSE, MAE, Huber and cosine are symmetric and never reported).
_ASYMMETRIC = ("bce", "bce_logits", "cross_entropy", "nll", "kl_div", "binary_crossentropy",
               "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_focal_crossentropy",
               "categorical_focal_crossentropy", "keras_kl_div", "sigmoid_ce_logits", "softmax_ce_logits",
               "sparse_softmax_ce_logits", "weighted_ce_logits", "log_loss")
_TRUTH = {"true", "target", "targets", "label", "labels", "gt", "gts", "truth", "groundtruth"}
_PREDICTION = {"pred", "preds", "prediction", "predictions", "prob", "probs", "output", "outputs", "out", "logit",
               "logits", "hat", "yhat"}
_ACTIVATIONS = ("sigmoid", "softmax", "log_softmax", "logsigmoid")


class LossArgumentsSwapped(Rule):
    code = "LOSS308"
    name = "loss-arguments-swapped"
    summary = "a loss called with its prediction and target arguments in the wrong order"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras")
    triggers = ("loss", "Loss", "entropy", "crossentropy", "Crossentropy", "kl_div", "kld")

    def check(self, module: Module) -> Iterator[Finding]:
        for loss in module.ops(*_ASYMMETRIC):
            args = loss.node.args
            if loss.kind == "method" or len(args) < 2 or any(isinstance(a, ast.Starred) for a in args[:2]):
                continue
            first, second = _role(module, args[0]), _role(module, args[1])
            torch_order = loss.framework == "torch"
            expected = ("prediction", "truth") if torch_order else ("truth", "prediction")
            if (first, second) != expected[::-1] or _parameters_in_order(module, loss, args[0], args[1]):
                continue
            order = _order(module, loss)
            fix = Fix((Edit(module.span(args[0]), module.text(args[1])),
                       Edit(module.span(args[1]), module.text(args[0]))), Safety.UNSAFE)
            yield self.finding(module, loss.node, f"{module.text(loss.node.func)} takes {order}, but "
                                                  f"`{module.text(args[0])}` looks like the {first} and "
                                                  f"`{module.text(args[1])}` like the {second}; swap them", fix)


def _order(module: Module, loss: OpCall) -> str:
    """The loss's two arguments as its signature names them, for the message."""
    if loss.framework == "torch":
        return "(input, target)"
    if loss.op == "log_loss":
        return "(labels, predictions)"
    if loss.op.endswith("_ce_logits"):
        return "(labels, logits)"
    if (loss.qualname or "").startswith(("keras.ops.", "keras.backend.", "tensorflow.keras.backend.")):
        return "(target, output)"
    return "(y_true, y_pred)"


def _role(module: Module, node: ast.expr) -> str | None:
    """"truth" or "prediction" when the argument's name (or an activation/model call) says so, else None."""
    activation = module.op(node)
    if activation is not None and activation.op in _ACTIVATIONS:
        return "prediction"
    name = _name(node)
    if name is None:
        return None
    words = set(re.split(r"[_\d]+", name.lower())) - {""}
    truth, prediction = bool(words & _TRUTH), bool(words & _PREDICTION)
    if truth != prediction:
        return "truth" if truth else "prediction"
    return None


def _name(node: ast.expr) -> str | None:
    """The name an argument goes by: ``target``, ``self.target``, ``batch["target"]``, ``target.view(-1)``."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RESHAPES:
        node = node.func.value
    if isinstance(node, (ast.Name, ast.Attribute)):
        return callee_name(node)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value
    return None


def _parameters_in_order(module: Module, loss: OpCall, first: ast.expr, second: ast.expr) -> bool:
    """Both arguments are parameters of the enclosing function, declared in the same order: then the names may
    be wrong in the signature rather than in this call (Keras calls ``loss(y_true, y_pred)`` whatever the
    parameters are called), and nothing here tells which."""
    function = module.function(loss.node)
    if function is None or not (isinstance(first, ast.Name) and isinstance(second, ast.Name)):
        return False
    params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    return first.id in params and second.id in params and params.index(first.id) < params.index(second.id)

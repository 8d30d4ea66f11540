"""Loss knowledge the sign and configuration rules share: which ops are non-negative losses, and how a Keras
crossentropy is configured (``from_logits``, given as a string, a class or a function). What a loss is minimised
by is a fact of the value analysis (``Facts.minimised``), never a name.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from . import apis
from .module import Module, OpCall

# Ops whose value is >= 0 for every valid input: negating one as a whole maximises the error.
NONNEGATIVE = frozenset({
    "mse", "mae", "smooth_l1", "huber", "cross_entropy", "bce", "bce_logits", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "sigmoid_ce_logits", "softmax_ce_logits",
    "sparse_softmax_ce_logits", "log_cosh", "kl_div", "keras_kl_div",
})
# Crossentropies on probabilities that keep their own logs finite at p = 0 and p = 1: torch's binary_cross_entropy
# and BCELoss clamp each log at -100, Keras's binary_crossentropy clips p to [epsilon, 1 - epsilon].
SELF_BOUNDED = frozenset({"bce", "binary_crossentropy"})
KERAS_CROSSENTROPY = frozenset({"binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
                                "binary_focal_crossentropy", "categorical_focal_crossentropy"})
# Where a Keras crossentropy takes ``from_logits`` positionally: (in the function, in the loss class's constructor).
# binary_focal_crossentropy(y_true, y_pred, apply_class_balancing, alpha, gamma, from_logits, ...);
# BinaryFocalCrossentropy(apply_class_balancing, alpha, gamma, from_logits, ...).
_FROM_LOGITS_AT = {"binary_focal_crossentropy": (5, 3), "categorical_focal_crossentropy": (4, 2)}
# compile(loss="...") names Keras resolves to a crossentropy with from_logits=False (matched lowercased).
_KERAS_LOSS_STRINGS = {"binary_crossentropy": "binary_crossentropy", "bce": "binary_crossentropy",
                       "binarycrossentropy": "binary_crossentropy",
                       "categorical_crossentropy": "categorical_crossentropy",
                       "categoricalcrossentropy": "categorical_crossentropy",
                       "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
                       "sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
                       "binary_focal_crossentropy": "binary_focal_crossentropy",
                       "binaryfocalcrossentropy": "binary_focal_crossentropy",
                       "categorical_focal_crossentropy": "categorical_focal_crossentropy",
                       "categoricalfocalcrossentropy": "categorical_focal_crossentropy"}
def constant_bool(node: ast.AST | None) -> bool | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, bool) else None


def from_logits(call: OpCall) -> ast.expr | None:
    """The ``from_logits`` argument of a Keras crossentropy call (by keyword, or where its signature puts it: the
    function's third positional, the loss class's first; later for the focal losses), or None when it is left at
    its default (False)."""
    flag = call.keyword("from_logits")
    if flag is not None:
        return flag
    in_function, in_class = _FROM_LOGITS_AT.get(call.op, (2, 0))
    if call.kind == "module" and call.ctor is not None:
        return _positional(call.ctor, in_class)
    if call.kind == "function":
        return _positional(call.node, in_function)
    return None


def _positional(call: ast.Call, index: int) -> ast.expr | None:
    args = call.args
    if index < len(args) and not any(isinstance(a, ast.Starred) for a in args[:index + 1]):
        return args[index]
    return None


@dataclass(frozen=True)
class KerasLoss:
    """A Keras crossentropy given to ``compile``: ``kind`` is its op, ``logits`` its from_logits setting,
    ``flag`` the node that sets it, ``ctor`` the loss class's constructor call when it is one."""

    kind: str
    logits: bool | None
    node: ast.expr
    flag: ast.expr | None = None
    ctor: ast.Call | None = None


def keras_crossentropy(module: Module, loss: ast.expr) -> KerasLoss | None:
    """What crossentropy a ``compile(loss=...)`` argument is: a string, a loss class instance or a function."""
    if isinstance(loss, ast.Constant) and isinstance(loss.value, str):
        kind = _KERAS_LOSS_STRINGS.get(loss.value.lower())
        return KerasLoss(kind, False, loss) if kind else None
    value = module.resolve(loss)
    qualname = module.qualname(value.func if isinstance(value, ast.Call) else value)
    api = apis.FUNCTIONS.get(qualname) if qualname else None
    if api is None or api.op not in KERAS_CROSSENTROPY:
        return None
    if api.kind == "function" and not isinstance(value, ast.Call):
        return KerasLoss(api.op, False, loss)
    if api.kind == "module" and isinstance(value, ast.Call):
        flag = next((k.value for k in value.keywords if k.arg == "from_logits"), None)
        if flag is None:
            flag = _positional(value, _FROM_LOGITS_AT.get(api.op, (2, 0))[1])
        logits = False if flag is None else constant_bool(flag)
        return KerasLoss(api.op, logits, loss, flag, value)
    return None

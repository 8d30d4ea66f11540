"""Loss knowledge the sign and configuration rules share: which ops are non-negative losses, which names hold a
loss, and how a Keras crossentropy is configured (``from_logits``, given as a string, a class or a function).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from . import apis
from .module import Module, OpCall

# Ops whose value is >= 0 for every valid input: negating one as a whole maximises the error.
NONNEGATIVE = frozenset({
    "mse", "mae", "smooth_l1", "huber", "cross_entropy", "bce", "bce_logits", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "sigmoid_ce_logits", "softmax_ce_logits",
    "sparse_softmax_ce_logits", "log_cosh", "kl_div", "keras_kl_div",
})
KERAS_CROSSENTROPY = frozenset({"binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"})
# compile(loss="...") names Keras resolves to a crossentropy with from_logits=False (matched lowercased).
_KERAS_LOSS_STRINGS = {"binary_crossentropy": "binary_crossentropy", "bce": "binary_crossentropy",
                       "binarycrossentropy": "binary_crossentropy",
                       "categorical_crossentropy": "categorical_crossentropy",
                       "categoricalcrossentropy": "categorical_crossentropy",
                       "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
                       "sparsecategoricalcrossentropy": "sparse_categorical_crossentropy"}
# A name that holds the quantity being minimised.
_LOSS_NAME = re.compile(r"loss|cost|objective|criterion", re.I)
# Names of values that are meant to be maximised or are not losses at all.
_NOT_LOSS_NAME = re.compile(r"reward|return|advantage|score|metric|(^|_)acc(uracy)?($|_)|psnr|ssim|similarity|"
                            r"likelihood|elbo|log_?prob|gain|utility|fitness", re.I)


def loss_name(name: str) -> bool:
    """Whether a variable, attribute or function name says it holds a loss to minimise."""
    return bool(_LOSS_NAME.search(name)) and not _NOT_LOSS_NAME.search(name)


def not_loss_name(name: str) -> bool:
    """Whether a name says its value is maximised or a metric (reward, score, likelihood, elbo, ...)."""
    return bool(_NOT_LOSS_NAME.search(name))


def constant_bool(node: ast.AST | None) -> bool | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, bool) else None


def from_logits(call: OpCall) -> ast.expr | None:
    """The ``from_logits`` argument of a Keras crossentropy call (function: third positional; loss class: its
    constructor's first positional), or None when it is left at its default (False)."""
    flag = call.keyword("from_logits")
    if flag is not None:
        return flag
    if call.kind == "module" and call.ctor is not None and call.ctor.args:
        return call.ctor.args[0]
    if call.kind == "function" and len(call.node.args) > 2:
        return call.node.args[2]
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
        if flag is None and value.args:
            flag = value.args[0]
        logits = False if flag is None else constant_bool(flag)
        return KerasLoss(api.op, logits, loss, flag, value)
    return None

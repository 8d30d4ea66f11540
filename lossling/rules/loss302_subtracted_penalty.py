"""LOSS302 subtracted-penalty: a weight penalty subtracted from the loss rewards large weights."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from ..finding import Finding
from ..rule import Rule
from ..semantic import losses
from ..semantic.module import Module
from ..semantic.scopes import callee_name

# Iterables of a model's weights: model.parameters(), model.trainable_variables, ...
_PARAMETER_SOURCES = {"parameters", "named_parameters", "trainable_variables", "trainable_weights", "weights",
                      "variables"}
# Names that hold a weight penalty (l2, l2_reg, weight_penalty, reg_loss ...).
# (Not ``reg``/``reg_loss``: in detection code those are the box-regression loss.)
_PENALTY_NAME = re.compile(r"^(l[12]|l[12]_?(reg|regularization|regulari[sz]er|penalty|norm|loss|term)|"
                           r"regulari[sz]ation(_loss|_term)?|regulari[sz]er(_loss)?|"
                           r"(weight|param)_?(penalty|decay_term|norm)s?)$", re.I)
# Names of weight tensors.
_WEIGHT_NAME = re.compile(r"^(w\d*|W\d*|weights?|params?|parameters|kernels?|theta)$")
# Ops that measure a tensor's size: their value grows with the weights.
_MAGNITUDE = ("norm", "sum", "square", "abs", "pow", "l2_loss", "mean")
_MAGNITUDE_NAMES = frozenset(_MAGNITUDE) | {"reduce_sum", "reduce_mean", "vector_norm"}
_REDUCTION_NAMES = frozenset({"sum", "mean", "reduce_sum", "reduce_mean"})


class SubtractedPenalty(Rule):
    code = "LOSS302"
    name = "subtracted-penalty"
    summary = "a weight penalty subtracted from the loss: the optimiser is paid to grow the weights"
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("-",)

    def check(self, module: Module) -> Iterator[Finding]:
        for node in module.nodes(ast.BinOp, ast.AugAssign):
            if not isinstance(node.op, ast.Sub):
                continue
            if isinstance(node, ast.BinOp):
                loss, penalty = node.left, node.right
                loss_like = _loss(module, loss) or _assigned_to_loss(module, node)
            else:
                loss, penalty = node.target, node.value
                loss_like = _loss(module, loss)
            if not loss_like:
                continue
            term = _penalty(module, penalty)
            if term is None:
                continue
            yield self.finding(module, node, f"the weight penalty `{term}` is subtracted from the loss, so "
                                             "minimising it grows the weights; add it instead")


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _loss(module: Module, node: ast.AST) -> bool:
    name = _name(node)
    if name is not None and losses.loss_name(name):
        return True
    call = module.op_of(node)
    return call is not None and call.op in losses.NONNEGATIVE


def _assigned_to_loss(module: Module, node: ast.BinOp) -> bool:
    parent = module.parent(node)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        name = _name(parent.targets[0])
        return name is not None and losses.loss_name(name)
    return isinstance(parent, ast.Return) and (function := module.function(node)) is not None and losses.loss_name(
        function.name)


def _penalty(module: Module, node: ast.expr) -> str | None:
    """The penalty term in ``node`` (``lam * R``, ``R * lam``, ``R``), as written, if it is one."""
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        if _is_penalty(module, node.right):
            node = node.right
        elif _is_penalty(module, node.left):
            node = node.left
        else:
            return None
    return module.text(node) if _is_penalty(module, node) else None


def _is_penalty(module: Module, node: ast.expr, depth: int = 3) -> bool:
    if depth == 0:
        return False
    name = _name(node)
    if isinstance(node, ast.Name) and _PENALTY_NAME.match(node.id):
        return True
    if isinstance(node, ast.Attribute) and node.attr == "losses":  # Keras: sum(model.losses)
        return True
    resolved = module.resolve(node)
    if resolved is not node and name is not None:
        return _is_penalty(module, resolved, depth - 1)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id == "sum" and len(node.args) == 1:
            return _over_weights(module, node.args[0])
        qualname = module.qualname(node.func) or ""
        if qualname.endswith(("tensorflow.add_n", "tensorflow.math.add_n")) and node.args:
            return _over_weights(module, node.args[0])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and module.const(node.right) == 2.0:
        return _magnitude_of_weight(module, node.left) or _weight(module, node.left)
    return _magnitude_of_weight(module, node)


def _over_weights(module: Module, node: ast.expr) -> bool:
    """``[f(p) for p in model.parameters()]`` (any comprehension) with f a magnitude of p, or ``model.losses``."""
    if isinstance(node, ast.Attribute) and node.attr == "losses":
        return True
    if not isinstance(node, (ast.GeneratorExp, ast.ListComp)) or len(node.generators) != 1:
        return False
    return _parameter_source(node.generators[0].iter) and _magnitude_of_any(module, node.elt)


def _magnitude_of_any(module: Module, node: ast.expr) -> bool:
    """A size of the loop variable: ``p.pow(2).sum()``, ``torch.norm(p)``, ``p ** 2``, ``tf.nn.l2_loss(v)``. The
    loop variable is a parameter by construction, so the call is judged by its name alone."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return True
    return isinstance(node, ast.Call) and callee_name(node.func) in _MAGNITUDE_NAMES


def _magnitude_of_weight(module: Module, node: ast.expr, depth: int = 3) -> bool:
    """``norm(w)``, ``sum(w ** 2)``, ``w.pow(2).sum()``, ``tf.nn.l2_loss(w)``, ``tf.reduce_sum(tf.square(w))``: a
    size of a weight, judged by the called names (``layer.weight`` is not known to be a tensor otherwise). A sum
    or mean counts only over squares or absolute values (``sum(w)`` can be negative)."""
    if depth == 0 or not isinstance(node, ast.Call) or callee_name(node.func) not in _MAGNITUDE_NAMES:
        return False
    reduces = callee_name(node.func) in _REDUCTION_NAMES
    method = isinstance(node.func, ast.Attribute) and module.qualname(node.func) is None
    inner = node.func.value if method else (node.args[0] if node.args else None)
    if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Pow):
        return _weight(module, inner.left)
    if isinstance(inner, ast.Call):
        return _magnitude_of_weight(module, inner, depth - 1)
    return not reduces and _weight(module, inner)


def _weight(module: Module, node: ast.expr | None) -> bool:
    """A weight tensor: a name like ``w``/``weights``/``params`` or a layer's ``.weight``/``.kernel``."""
    if isinstance(node, ast.Attribute):
        return node.attr in ("weight", "kernel")
    if not isinstance(node, ast.Name):
        return False
    if _WEIGHT_NAME.match(node.id):
        return True
    bindings = module.scope(module.scope_node(node)).bindings.get(node.id, ())
    for binding in bindings:
        owner = binding.node
        while isinstance(owner, (ast.Name, ast.Tuple, ast.List)):
            owner = module.parent(owner)
        if isinstance(owner, (ast.For, ast.AsyncFor)) and _parameter_source(owner.iter):
            return True
    return False


def _parameter_source(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):
        node = node.func
    return isinstance(node, ast.Attribute) and node.attr in _PARAMETER_SOURCES

"""LOSS302 subtracted-penalty: a weight penalty subtracted from the loss rewards large weights."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding
from ..rule import Rule
from ..semantic.module import Module
from ..semantic.scopes import call_argument

# Iterables of a model's weights (``model.parameters()``, ``model.trainable_variables``) and single weights of a
# layer (``layer.weight``, ``dense.kernel``): attributes of the frameworks' module and layer classes.
_PARAMETER_ITERABLES = frozenset({"parameters", "named_parameters", "trainable_variables", "trainable_weights",
                                  "weights", "variables"})
_LAYER_WEIGHTS = frozenset({"weight", "kernel"})
_PARAMETER_CLASSES = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter", "tensorflow.Variable"})
# TF1's collected regularisation losses (every kernel_regularizer's term).
_REGULARIZATION_LOSSES = frozenset({"tensorflow.compat.v1.losses.get_regularization_loss",
                                    "tensorflow.compat.v1.losses.get_regularization_losses",
                                    "tensorflow.losses.get_regularization_loss",
                                    "tensorflow.losses.get_regularization_losses"})
_GRADIENT_FUNCTIONS = frozenset({"jax.grad", "jax.value_and_grad"})
_TREE_LEAVES = frozenset({"jax.tree_util.tree_leaves", "jax.tree.leaves", "jax.tree_leaves"})
_DEPTH = 8


class SubtractedPenalty(Rule):
    code = "LOSS302"
    name = "subtracted-penalty"
    summary = "a weight penalty subtracted from the loss: the optimiser is paid to grow the weights"
    severity = "error"
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("-", "sub")

    def check(self, module: Module) -> Iterator[Finding]:
        facts = module.facts
        for node in module.nodes(ast.BinOp, ast.AugAssign) + module.calls_named("sub", "subtract", "sub_", "rsub"):
            loss: ast.expr
            if isinstance(node, ast.AugAssign):
                if not isinstance(node.op, ast.Sub):
                    continue
                loss, penalty = node.target, node.value
            else:
                arith = module.arith(node)
                if arith is None or arith.op is not ast.Sub or arith.right is None:
                    continue
                loss, penalty = arith.left, arith.right
            term = _penalty(module, penalty)
            if term is None:
                continue
            if not (facts.minimised(node) or _is_loss(module, loss, node)):
                continue
            yield self.finding(module, node, f"the weight penalty `{term}` is subtracted from the minimised loss: "
                                             "the larger the weights, the lower the loss, so training grows them "
                                             "without bound; add the penalty instead")


def _is_loss(module: Module, loss: ast.expr, node: ast.AST) -> bool:
    """The left side is a framework loss's value (the value analysis' role "loss"), also for ``loss -= r``."""
    facts = module.facts
    if isinstance(node, ast.AugAssign) and isinstance(loss, ast.Name):
        flow = facts.flow_of(node)
        made = next((d for d in (flow.defs.get(loss.id, ()) if flow else ()) if d.node is node), None)
        return made is not None and bool(made.prev) and all(facts.of_def(d).role == "loss" for d in made.prev)
    return facts.value(loss).role == "loss"


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


def _is_penalty(module: Module, node: ast.AST | None, depth: int = _DEPTH) -> bool:
    """A size of the model's weights: a norm, a sum or mean of squares or absolute values, ``tf.nn.l2_loss``, a
    square of a norm, Keras ``model.losses`` (summed), TF1's regularisation losses, or a name every definition of
    which is one (an accumulator that starts at 0 and adds such terms in a loop counts)."""
    if node is None or depth <= 0:
        return False
    if isinstance(node, ast.Attribute) and node.attr == "losses":  # Keras: sum(model.losses)
        return True
    if isinstance(node, ast.Name):
        return _accumulated(module, node, depth)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and module.const(node.right) == 2.0:
        return _is_penalty(module, node.left, depth - 1) or _parameters(module, node.left, depth - 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_penalty(module, node.left, depth - 1) and _is_penalty(module, node.right, depth - 1)
    if not isinstance(node, ast.Call):
        return False
    qualname = module.qualname(node.func) or ""
    if qualname in _REGULARIZATION_LOSSES:
        return True
    if qualname.rpartition(".")[2] == "add_n" and node.args or (
            isinstance(node.func, ast.Name) and node.func.id == "sum" and not module.facts.definitions(node.func)):
        return _over_weights(module, node.args[0], depth - 1) if node.args else False
    return _magnitude(module, node, depth)


def _accumulated(module: Module, name: ast.Name, depth: int) -> bool:
    """Every definition reaching ``name`` is a penalty, a constant 0, or adds a penalty to the name itself
    (``l2 = 0.0; for p in model.parameters(): l2 = l2 + p.norm() ** 2``)."""
    defs = module.facts.definitions(name)
    if not defs:
        return False
    seen: set[int] = set()
    todo = list(defs)
    while todo:
        d = todo.pop()
        if id(d) in seen:
            continue
        seen.add(id(d))
        value = d.value
        if d.kind == "aug" and isinstance(d.node, ast.AugAssign) and isinstance(d.node.op, ast.Add):
            if not _is_penalty(module, value, depth - 1):
                return False
            todo.extend(d.prev)
        elif d.kind == "assign" and value is not None:
            if module.const(value) == 0.0:
                continue
            if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
                parts = [value.left, value.right]
                own = [p for p in parts if isinstance(p, ast.Name) and p.id == d.name]
                if own:
                    other = next(p for p in parts if p is not own[0])
                    if not _is_penalty(module, other, depth - 1):
                        return False
                    todo.extend(module.facts.definitions(own[0]))
                    continue
            if not _is_penalty(module, value, depth - 1):
                return False
        else:
            return False
    return True


def _over_weights(module: Module, node: ast.AST, depth: int) -> bool:
    """What ``sum``/``add_n`` adds up: ``[f(p) for p in model.parameters()]`` (any comprehension) with ``f`` a size
    of ``p``, or Keras ``model.losses``, or TF1's regularisation losses."""
    if isinstance(node, ast.Attribute) and node.attr == "losses":
        return True
    if isinstance(node, ast.Call) and (module.qualname(node.func) or "") in _REGULARIZATION_LOSSES:
        return True
    if not isinstance(node, (ast.GeneratorExp, ast.ListComp)) or len(node.generators) != 1:
        return False
    return _magnitude(module, node.elt, depth)


def _magnitude(module: Module, node: ast.AST, depth: int) -> bool:
    """``norm(w)``, ``w.abs().sum()``, ``(w ** 2).sum()``, ``w.pow(2).sum()``, ``tf.reduce_sum(tf.square(w))``,
    ``tf.nn.l2_loss(w)`` with ``w`` the model's weights. A sum or mean counts only over squares or absolute values
    (``sum(w)`` can be negative)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        exponent = module.const(node.right)
        return exponent is not None and exponent > 0 and _magnitude_or_weights(module, node.left, depth - 1)
    call = module.op(node)
    if call is None or depth <= 0:
        return False
    if call.op in ("norm", "l2_loss"):
        return _parameters(module, call.input, depth - 1)
    if call.op in ("sum", "mean"):
        inner = call.input
        if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Pow):
            return module.const(inner.right) == 2.0 and _parameters(module, inner.left, depth - 1)
        squared = module.op(inner)
        return squared is not None and _squared(module, squared) and _parameters(module, squared.input, depth - 1)
    if call.op in ("square", "abs"):
        return _parameters(module, call.input, depth - 1)
    if call.op == "pow":
        return module.const(call.arg(1, "exponent", "y")) == 2.0 and _parameters(module, call.input, depth - 1)
    return False


def _squared(module: Module, call) -> bool:
    return call.op in ("square", "abs") or call.op == "pow" and module.const(call.arg(1, "exponent", "y")) == 2.0


def _magnitude_or_weights(module: Module, node: ast.AST, depth: int) -> bool:
    return _magnitude(module, node, depth) or _parameters(module, node, depth)


def _parameters(module: Module, node: ast.AST | None, depth: int = _DEPTH) -> bool:
    """Whether ``node`` holds the model's trainable weights: a layer's ``.weight``/``.kernel``, an element of
    ``model.parameters()``/``trainable_variables`` (a loop or comprehension target), an ``nn.Parameter`` or
    ``tf.Variable``, the parameters a function handed to ``jax.grad`` differentiates, their reshapes and
    concatenations, or a parameter of a function every call of which in the file passes weights."""
    if node is None or depth <= 0:
        return False
    facts = module.facts
    if isinstance(node, ast.Attribute) and node.attr in _LAYER_WEIGHTS:
        return facts.value(node.value).kind not in ("number", "other") or facts.is_receiver(node.value)
    if isinstance(node, ast.Call):
        qualname = module.qualname(node.func) or ""
        if qualname in _PARAMETER_CLASSES:
            # a scalar parameter is a learned coefficient (a temperature, a min-max objective's dual variable),
            # not the size of the model's weights; an ascended one is maximised, so subtracting its size is right
            return not (facts.scalar(node) or facts.ascended(node))
        call = module.op(node)
        if call is not None and call.op in ("reshape", "flatten", "clone") and call.input is not None:
            return _parameters(module, call.input, depth - 1)
        if call is not None and call.op == "concat":
            items = call.arg(0, "tensors", "values")
            return isinstance(items, (ast.ListComp, ast.GeneratorExp)) and _parameters(module, items.elt, depth - 1)
        resolved = module.resolve(node)
        return resolved is not node and _parameters(module, resolved, depth - 1)
    if isinstance(node, ast.Attribute):
        resolved = module.resolve(node)
        return resolved is not node and _parameters(module, resolved, depth - 1)
    if not isinstance(node, ast.Name):
        return False
    defs = facts.definitions(node)
    return bool(defs) and all(_defines_parameters(module, d, depth - 1) for d in defs)


def _defines_parameters(module: Module, d, depth: int) -> bool:
    if d.kind in ("for", "comp"):
        return _parameter_iterable(module, d.value) and (d.index is None or d.index == 1)  # named_parameters
    if d.kind == "assign":
        return _parameters(module, d.value, depth)
    if d.kind == "param":
        function = d.scope
        if _differentiated(module, function, d.name):
            return True
        calls = module.facts.calls_of(function) if isinstance(function, ast.FunctionDef) else []
        positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)] if calls else []
        if calls and module.enclosing_class(function) is not None:
            positional = positional[1:]
        return bool(calls) and all(_parameters(module, call_argument(call, positional, d.name), depth) for call in calls)
    return False


def _parameter_iterable(module: Module, node: ast.AST | None) -> bool:
    """``model.parameters()``, ``model.trainable_variables``, ``list(...)`` of one, the leaves of a JAX pytree of
    parameters."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "list" and node.args:
        node = node.args[0]
    if isinstance(node, ast.Call) and (module.qualname(node.func) or "") in _TREE_LEAVES and node.args:
        return _parameters(module, node.args[0])
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute) and node.attr in _PARAMETER_ITERABLES:
        return True
    if isinstance(node, ast.Name):
        resolved = module.resolve(node)
        return resolved is not node and _parameter_iterable(module, resolved)
    return False


def _differentiated(module: Module, function: ast.AST | None, name: str) -> bool:
    """``name`` is the first parameter of a function handed to ``jax.grad``/``value_and_grad`` (the default
    ``argnums=0``): the parameters being trained."""
    if not isinstance(function, ast.FunctionDef):
        return False
    positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if not positional or positional[0] != name:
        return False
    for call in module.calls_named("grad", "value_and_grad"):
        if (module.qualname(call.func) or "") in _GRADIENT_FUNCTIONS and call.args and not any(
                k.arg == "argnums" for k in call.keywords):
            target = call.args[0]
            if isinstance(target, ast.Name) and any(d.node is function for d in module.facts.definitions(target)):
                return True
    return any((module.qualname(d) or "") in _GRADIENT_FUNCTIONS for d in function.decorator_list)

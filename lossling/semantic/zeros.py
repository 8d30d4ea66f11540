"""What can be exactly zero, and what keeps a value away from zero.

Rules that judge a singular point (a division, a sqrt, a log) ask two questions about the value that reaches it:

* ``guarded(module, node)``: does something visibly keep it away from 0? A positive constant, an eps-named value,
  ``x + eps``, ``clamp(x, min=eps)`` / ``clamp_min`` / ``maximum(x, eps)`` / builtin ``max(x, eps)``, anything
  built from ``finfo(...)`` or ``epsilon()``, ``exp(x)``, a ``where`` with a positive branch, or a name that is
  repaired in place later (``d[d == 0] = 1``, ``d.clamp_(min=1)``).
* ``zero_risk(module, node)``: is it a quantity that is exactly 0 on ordinary data? A reduction (sum of a mask,
  ``count_nonzero``, ``max``), a norm, a ``std``/``var``, or the size of a data-dependent selection. The answer
  names the class, so messages and fixes can differ per class.

Shapes of ordinary tensors (``x.shape[0]``, ``x.size(0)``, ``len(x)``, ``tf.shape(x)[0]``) are not a risk: a batch
dimension of 0 means there is no data to divide at all, and nearly every such division is a batch mean. The size
of a *selection* (``x[mask].numel()``, ``len(x[mask])``) is a count that an empty mask makes 0, and is a risk.

A sum of a signed product or a difference (a dot product, a determinant) is 0 only at special points and is no
risk; neither is a reduction of an input sanitized by a ``where`` or drawn at random (``torch.rand``).

Names are followed to their single assignment; a name bound several times is unknown, and unknown is never a risk.
Also here: ``divisions(module)`` lists every division site (``/``, ``/=``, ``torch.div``, ``tf.math.divide``, TF1
``tf.div``, ``x.div(d)``, ``keras.ops.divide``) with its numerator and divisor; ``checked`` says whether an
``if``/``assert`` tests the divisor; ``selection``/``mask_like`` recognise masked selections and 0/1 masks;
``without_gradient`` recognises code no gradient flows through (``no_grad``, metrics); ``framework_of`` names the
framework of the op that makes a value. ``guards.py`` (the log rules' ``positive``) builds on this module.
"""

from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass
from typing import Iterator

from .inference import clip_bounds, eps_named, parameter_default
from .module import Module, OpCall

# Methods that change dtype, device or layout but not whether the value is 0. ``item``/``tolist`` give Python numbers.
_PASS_METHODS = frozenset({"float", "double", "half", "bfloat16", "to", "type", "type_as", "detach", "clone",
                           "squeeze", "unsqueeze", "view", "reshape", "expand", "expand_as", "view_as", "reshape_as",
                           "contiguous", "cpu", "cuda", "item", "long", "int", "flatten"})
_PYTHON_NUMBER = frozenset({"item", "tolist"})
_PASS_FUNCTIONS = frozenset({"float", "int"})
_PASS_QUALNAMES = frozenset({"tensorflow.cast", "tensorflow.stop_gradient", "tensorflow.compat.v1.cast",
                             "tensorflow.expand_dims", "tensorflow.reshape", "keras.ops.cast", "torch.unsqueeze",
                             "tensorflow.to_float", "tensorflow.compat.v1.to_float"})
_COMPARISON_METHODS = frozenset({"eq", "ne", "gt", "lt", "ge", "le", "logical_and", "logical_or", "logical_not",
                                 "isfinite", "isnan", "isinf", "bool", "any", "all"})
_COMPARISON_FUNCTIONS = frozenset({"equal", "not_equal", "greater", "less", "greater_equal", "less_equal", "eq",
                                   "ne", "gt", "lt", "ge", "le", "logical_and", "logical_or", "logical_not",
                                   "isfinite", "is_finite", "isnan", "is_nan"})
_MASK_NAME = ("mask", "valid", "indicator", "keep", "selected", "onehot", "one_hot")
_SELECTING = frozenset({"masked_select", "boolean_mask", "nonzero", "argwhere"})
_IN_PLACE = frozenset({"clamp_", "clamp_min_", "clip_", "add_", "masked_fill_", "fill_", "index_fill_",
                       "copy_", "maximum_", "where_"})


@dataclass(frozen=True)
class Division:
    """One division site: ``node`` is what a finding reports (the ``/``, the call, the ``/=`` statement)."""

    node: ast.AST
    numerator: ast.expr
    divisor: ast.expr
    call: OpCall | None = None  # the divide call, when the division is spelled as one


def divisions(module: Module) -> Iterator[Division]:
    """Every true division in the file, in source order."""
    cached = _DIVISIONS.get(module)
    if cached is not None:
        return iter(cached)
    sites: list[Division] = []
    for node in module.nodes(ast.BinOp):
        if isinstance(node.op, ast.Div):
            sites.append(Division(node, node.left, node.right))
    for node in module.nodes(ast.AugAssign):
        if isinstance(node.op, ast.Div):
            sites.append(Division(node, node.target, node.value))
    for call in module.ops("divide"):
        numerator, divisor = call.arg(0, "input", "x", "x1"), call.arg(1, "other", "y", "x2")
        if numerator is not None and divisor is not None:
            sites.append(Division(call.node, numerator, divisor, call))
    sites.sort(key=lambda d: (d.node.lineno, d.node.col_offset))
    _DIVISIONS[module] = sites
    return iter(sites)


_DIVISIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# ----- guards ---------------------------------------------------------------------------------------------------
def is_eps(module: Module, node: ast.AST | None) -> bool:
    """A small positive guard constant: a literal > 0, an eps-named value, ``finfo(..).eps``, ``epsilon()``."""
    if node is None:
        return False
    value = module.const(node)
    if value is None and isinstance(node, ast.Name):
        value = module.const(parameter_default(module, node))
    if value is not None:
        return value > 0
    if eps_named(node) or _mentions_finfo(node):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Pow, ast.Mult)):  # eps ** 2, eps * eps
        return is_eps(module, node.left) and (isinstance(node.op, ast.Pow) or is_eps(module, node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
        if eps_named(node.func):  # K.epsilon(), keras.config.epsilon()
            return True
    resolved = module.resolve(node)
    return resolved is not node and resolved is not None and is_eps(module, resolved)


def guarded(module: Module, node: ast.AST | None, depth: int = 6) -> bool:
    """Whether something visibly keeps ``node`` away from 0 (see the module docstring)."""
    if node is None or depth <= 0:
        return False
    if is_eps(module, node):
        return True
    if isinstance(node, ast.Name) and mutated(module, node):
        return True
    resolved = module.resolve(node)
    if resolved is not node:
        return guarded(module, resolved, depth - 1)
    node = resolved
    if _mentions_finfo(node):
        return True
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Add):
            return is_eps(module, node.left) or is_eps(module, node.right)
        if isinstance(node.op, (ast.Mult, ast.Div)):
            return guarded(module, node.left, depth - 1) and guarded(module, node.right, depth - 1)
        if isinstance(node.op, ast.Pow):
            return guarded(module, node.left, depth - 1)
        return False
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id == "max" and module.qualname(node.func) is None:
            return any(is_eps(module, arg) for arg in node.args)
        call = module.op(node)
        if call is None:
            inner = _passthrough(module, node)
            return inner is not None and guarded(module, inner, depth - 1)
        if call.op in ("clamp", "clamp_min", "clip", "maximum"):
            lower, _ = clip_bounds(call)
            return is_eps(module, lower) or (call.op == "maximum" and is_eps(module, call.arg(0, "input", "x")))
        if call.op == "max" and len(node.args) + (call.receiver is not None) == 2 and not node.keywords:
            return any(is_eps(module, arg) for arg in (call.arg(0), call.arg(1)))
        if call.op == "where":
            return any(is_eps(module, call.arg(i)) for i in (1, 2))
        if call.op in ("exp", "softplus"):
            return True
        if call.op in ("sum", "mean") and (_positive_terms(module, call.input) or guarded(
                module, call.input, depth - 1)):
            return True
        if call.op in ("norm", "sum", "max", "amax", "std", "var") and _sanitized(module, call.input):
            return True
        if call.op == "sqrt":
            return guarded(module, call.input, depth - 1)
    return False


def _positive_terms(module: Module, node: ast.AST | None) -> bool:
    """Terms whose sum cannot be 0: exponentials and softmax/sigmoid outputs (LOSS110's business, not ours), and
    values ``guards.positive`` vouches for (``reciprocal(tensor([x ** 2 + 1 for x in r]))``)."""
    from .guards import last_value, positive  # guards builds on this module

    node = module.resolve(node)
    if isinstance(node, ast.Name):  # rebound: its last value before this use (straight-line code)
        node = last_value(module, node)
    call = module.op(node)
    return call is not None and call.op in ("exp", "softmax", "sigmoid") or positive(module, node)


_RANDOM = frozenset({"rand", "randn", "rand_like", "randn_like", "normal", "uniform"})


def _sanitized(module: Module, node: ast.AST | None) -> bool:
    """An input already passed through a ``where`` (the double-where pattern: ``where(small, one, v).norm()``), or
    drawn at random from a continuous distribution (0 with probability 0)."""
    from .guards import last_value  # guards builds on this module

    if isinstance(node, ast.Name) and module.resolve(node) is node:
        node = last_value(module, node)
    node = module.resolve(node)
    if node is None:
        return False
    for child in ast.walk(node):
        if module.op_of(child, "where", follow=False) is not None:
            return True
        if isinstance(child, ast.Call) and (module.qualname(child.func) or "").rpartition(".")[2] in _RANDOM:
            return True
    return False


def mutated(module: Module, name: ast.Name) -> bool:
    """``name`` is repaired in place somewhere in its scope: ``d[d == 0] = 1``, ``d.clamp_(min=1)``."""
    return name.id in _scope_facts(module, module.scope_node(name))[0]


def _scope_facts(module: Module, scope: ast.AST) -> tuple[frozenset[str], list[tuple[ast.AST, frozenset[str]]]]:
    """Per scope, computed once: the names repaired in place, and every ``if``/``while``/``assert``/conditional
    expression with the names its test mentions (``self.x`` counts as ``x``)."""
    cache = _FACTS.setdefault(module, {})
    found = cache.get(id(scope))
    if found is None:
        repaired: set[str] = set()
        tests: list[tuple[ast.AST, frozenset[str]]] = []
        for node in ast.walk(scope):
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and is_eps(
                            module, node.value):
                        repaired.add(target.value.id)  # d[d == 0] = 1, d[...] += eps
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _IN_PLACE
                  and isinstance(node.func.value, ast.Name)):
                repaired.add(node.func.value.id)
            elif isinstance(node, (ast.If, ast.While, ast.IfExp, ast.Assert)):
                names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(node.test) if isinstance(n, ast.Attribute)
                          and isinstance(n.value, ast.Name) and n.value.id == "self"}
                tests.append((node, frozenset(names)))
        found = cache[id(scope)] = (frozenset(repaired), tests)
    return found


_FACTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _mentions_finfo(node: ast.AST) -> bool:
    return any(isinstance(child, ast.Attribute) and child.attr in ("eps", "tiny", "smallest_normal")
               and isinstance(child.value, ast.Call) and isinstance(child.value.func, (ast.Name, ast.Attribute))
               and (getattr(child.value.func, "attr", None) or getattr(child.value.func, "id", None)) == "finfo"
               for child in ast.walk(node))


def _passthrough(module: Module, node: ast.AST) -> ast.expr | None:
    """The operand of a dtype/layout change (``d.float()``, ``float(d)``, ``d.item()``, ``tf.cast(d, ..)``)."""
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in _PASS_FUNCTIONS and len(node.args) == 1:
            return node.args[0]
        qualname = module.qualname(func)
        if qualname in _PASS_QUALNAMES and node.args:
            return node.args[0]
        if qualname is None and isinstance(func, ast.Attribute) and func.attr in _PASS_METHODS:
            return func.value
    if isinstance(node, ast.Attribute) and node.attr == "values":
        return node.value
    if isinstance(node, ast.Subscript):
        index = node.slice
        elements = index.elts if isinstance(index, ast.Tuple) else [index]
        if all(isinstance(e, ast.Slice) or (isinstance(e, ast.Constant) and e.value in (None, Ellipsis))
               for e in elements):
            return node.value  # d[:, None], d[..., None]
        call = module.op(node.value)
        if call is not None and call.op in ("max", "min") and module.const(index) == 0.0:
            return node.value  # x.max(dim)[0]
    return None


def python_number(module: Module, node: ast.AST | None) -> bool:
    """Whether the divisor has been turned into a Python number (``.item()``, ``float()``, ``len()``, ``numel()``)."""
    node = module.resolve(node)
    while node is not None:
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("float", "int", "len", "max"):
                return True
            if isinstance(func, ast.Attribute) and func.attr in _PYTHON_NUMBER | {"numel"}:
                return True
        inner = _passthrough(module, node)
        node = module.resolve(inner) if inner is not None else None
    return False


def scalar_parameter(module: Module, node: ast.AST | None) -> bool:
    """Whether ``node`` is a parameter of the enclosing function that holds a Python number: annotated ``float`` or
    ``int``, or defaulting to a numeric constant (``beta: float = 1.0``). A hyperparameter, not data."""
    default = parameter_default(module, node)
    if default is not None:
        return module.const(default) is not None
    if not isinstance(node, ast.Name):
        return False
    function = module.function(node)
    if function is None or module.scope_node(node) is not function or len(
            module.scope(function).bindings.get(node.id, ())) != 1:
        return False
    args = function.args
    annotation = next((a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs) if a.arg == node.id),
                      None)
    return isinstance(annotation, ast.Name) and annotation.id in ("float", "int")


# ----- zero risk ------------------------------------------------------------------------------------------------
def mask_like(module: Module, node: ast.AST | None, depth: int = 4) -> bool:
    """A 0/1 indicator: a comparison, a boolean combination, a ``.bool()``/``.float()`` of one, or a name such as
    ``mask``/``valid``."""
    if node is None or depth <= 0:
        return False
    if isinstance(node, ast.Compare):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Invert, ast.Not)):
        return mask_like(module, node.operand, depth - 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr, ast.BitXor)):
        return mask_like(module, node.left, depth - 1) or mask_like(module, node.right, depth - 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return mask_like(module, node.left, depth - 1) and mask_like(module, node.right, depth - 1)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and module.qualname(func) is None and func.attr in _COMPARISON_METHODS:
            return True
        qualname = module.qualname(func) or ""
        if qualname.rpartition(".")[2] in _COMPARISON_FUNCTIONS and qualname.partition(".")[0] in (
                "torch", "tensorflow", "keras", "numpy", "jax"):
            return True
        inner = _passthrough(module, node)
        if inner is not None:
            return mask_like(module, inner, depth - 1)
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = (node.id if isinstance(node, ast.Name) else node.attr).lower()
        if any(word in name for word in _MASK_NAME):
            return True
        resolved = module.resolve(node)
        if resolved is not node:
            return mask_like(module, resolved, depth - 1)
    return False


def selection(module: Module, node: ast.AST | None, depth: int = 4) -> bool:
    """A data-dependent selection that an empty mask makes empty: ``x[mask]``, ``masked_select``,
    ``boolean_mask``, ``nonzero()``, one-argument ``where(cond)``."""
    if node is None or depth <= 0:
        return False
    resolved = module.resolve(node)
    if resolved is not node:
        return selection(module, resolved, depth - 1)
    if isinstance(node, ast.Subscript):
        index = node.slice
        elements = index.elts if isinstance(index, ast.Tuple) else [index]
        return module.is_tensor(node.value) and any(mask_like(module, e) for e in elements)
    if isinstance(node, ast.Call):
        call = module.op(node)
        if call is not None and call.op in _SELECTING:
            return True
        if call is not None and call.op == "where" and len(node.args) == 1 and not node.keywords:
            return True
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _SELECTING and module.is_tensor(func.value):
            return True
        qualname = module.qualname(func) or ""
        if qualname.rpartition(".")[2] in _SELECTING and qualname.partition(".")[0] in ("torch", "tensorflow"):
            return True
    return False


def size_of_selection(module: Module, node: ast.AST) -> bool:
    """``len(sel)``, ``sel.numel()``, ``sel.shape[0]``, ``sel.size(0)``, ``tf.size(sel)`` of a selection."""
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id == "len" and len(node.args) == 1:
            return selection(module, node.args[0])
        if isinstance(func, ast.Attribute) and func.attr in ("numel", "size", "nelement") and (
                module.qualname(func) is None):
            return selection(module, func.value)
        if module.qualname(func) in ("tensorflow.size", "tensorflow.compat.v1.size") and node.args:
            return selection(module, node.args[0])
    if isinstance(node, ast.Subscript):
        value = node.value
        if isinstance(value, ast.Attribute) and value.attr == "shape":
            return selection(module, value.value)
        if isinstance(value, ast.Call) and module.qualname(value.func) in ("tensorflow.shape",
                                                                           "tensorflow.compat.v1.shape"):
            return bool(value.args) and selection(module, value.args[0])
    return False


def zero_risk(module: Module, node: ast.AST | None, depth: int = 6) -> str | None:
    """What ``node`` is when it is a quantity that is exactly 0 on ordinary data, else None: ``"count"``,
    ``"sum"``, ``"max"``, ``"norm"``, ``"std"``. Guarded values and unknown values are None."""
    if node is None or depth <= 0 or guarded(module, node):
        return None
    resolved = module.resolve(node)
    if resolved is not node:
        if isinstance(node, ast.Name) and mutated(module, node):
            return None
        return zero_risk(module, resolved, depth - 1)
    if size_of_selection(module, node):
        return "count"
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Add):  # a sum of reductions: a dice/IoU denominator
            left, right = zero_risk(module, node.left, depth - 1), zero_risk(module, node.right, depth - 1)
            return left and right and (left if left == right else "sum")
        if isinstance(node.op, ast.Mult):
            return zero_risk(module, node.left, depth - 1) or zero_risk(module, node.right, depth - 1)
        if isinstance(node.op, ast.Pow) and (module.const(node.right) or 0) > 0:
            return zero_risk(module, node.left, depth - 1)
        return None
    call = module.op(node)
    if call is None:
        inner = _passthrough(module, node)
        return zero_risk(module, inner, depth - 1) if inner is not None else None
    if call.op == "count_nonzero":
        return "count"
    if call.op == "sum":
        operand = module.resolve(call.input)
        if operand is None:
            return None
        if mask_like(module, operand):
            return "count"
        if isinstance(operand, ast.BinOp) and (isinstance(operand.op, ast.Sub) or isinstance(operand.op, ast.Mult) and (
                ast.dump(operand.left) != ast.dump(operand.right)) and not (
                mask_like(module, operand.left) or mask_like(module, operand.right))):
            return None  # a dot product or a sum of differences: signed, 0 only at special points
        return "sum"
    if call.op == "mean":
        return "count" if mask_like(module, module.resolve(call.input)) else None
    if call.op in ("max", "amax"):
        positional = len(call.node.args) + (call.receiver is not None)
        other = call.arg(1, "other")
        if positional >= 2 and other is not None and module.op(other) is None and module.const(other) is None and (
                not isinstance(other, ast.Name) or module.is_tensor(other)):
            return None  # torch.max(a, b): elementwise, not a reduction
        return "max" if module.is_tensor(call.input) else None
    if call.op == "norm":
        return "norm"
    if call.op in ("std", "var"):
        return "std"
    if call.op == "sqrt":
        inner = zero_risk(module, call.input, depth - 1)
        return "norm" if inner == "sum" else inner
    exponent = module.const(call.arg(1, "exponent")) if call.op == "pow" else None
    if exponent is not None and exponent > 0:  # x.pow(2).sum(1).pow(0.5): a norm written by hand
        inner = zero_risk(module, call.input, depth - 1)
        return "norm" if inner == "sum" and exponent < 1 else inner
    return None


def checked(module: Module, site: ast.AST, value: ast.AST) -> bool:
    """Whether control flow tests ``value`` around ``site``: an enclosing ``if``/``while``/conditional expression
    or ``where`` branch, or an earlier ``if``/``assert`` in the same function, whose test mentions a name ``value``
    is built from (``if num_pos > 0:``, ``if mask.any():``, ``assert n > 0``, ``where(n > 0, x / n, 0)``; the
    gradient through such a ``where`` is LOSS205's)."""
    names = _value_names(module, value)
    if not names:
        return False
    child = site
    for ancestor in module.ancestors(site):
        call = module.op(ancestor) if isinstance(ancestor, ast.Call) else None
        if call is not None and call.op == "where" and call.kind == "function":
            cond = call.arg(0, "condition", "cond")
            if cond is not None and cond is not child and _value_names(module, cond) & names:
                return True
        child = ancestor
    scope = module.function(site) or module.tree
    ancestors = None
    for node, mentioned in _scope_facts(module, scope)[1]:
        if not mentioned & names:
            continue
        if node.lineno < site.lineno:
            return True
        if ancestors is None:
            ancestors = {id(a) for a in module.ancestors(site)}
        if id(node) in ancestors:
            return True
    return False


def _value_names(module: Module, value: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(value):
        if isinstance(node, ast.Name) and module.qualname(node) is None and node.id != "self":
            names.add(node.id)
            resolved = module.resolve(node)
            if resolved is not node and resolved is not None:
                names |= {n.id for n in ast.walk(resolved) if isinstance(n, ast.Name) and module.qualname(n) is None
                          and n.id != "self"}
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            names.add(node.attr)
    return names


def framework_of(module: Module, node: ast.AST) -> str | None:
    """The framework of the first op that makes ``node`` (method forms count as the file's tensor framework)."""
    for child in ast.walk(module.resolve(node) or node):
        call = module.op(child)
        if call is not None:
            if call.kind == "method":
                return "torch" if "torch" in module.frameworks else None
            return call.framework
    return "torch" if "torch" in module.frameworks else None


def without_gradient(module: Module, node: ast.AST) -> bool:
    """Code no gradient flows through: under ``torch.no_grad()``/``inference_mode``, in a function decorated
    with them, metric code (a ``metrics`` package or module, a function or class named like a metric), an
    optimizer's update (an ``optim``/``optimizers`` package or module: parameters are updated, not differentiated)
    or a Keras weight constraint (a ``Constraint`` subclass: applied after the update)."""
    parts = module.path.replace("\\", "/").split("/")
    if {"metrics", "optim", "optimizers"} & set(parts[:-1]) or parts[-1] in ("optim.py", "optimizers.py") or (
            "metric" in parts[-1].lower()):
        return True
    for ancestor in module.ancestors(node):
        if isinstance(ancestor, (ast.With, ast.AsyncWith)) and any(
                _no_grad(module, item.context_expr) for item in ancestor.items):
            return True
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if "metric" in ancestor.name.lower() or any(_no_grad(module, d) for d in ancestor.decorator_list):
                return True
        if isinstance(ancestor, ast.ClassDef) and any(module.text(b).endswith("Constraint") for b in ancestor.bases):
            return True
    return False


def _no_grad(module: Module, node: ast.AST) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return (module.qualname(target) or "").rpartition(".")[2] in ("no_grad", "inference_mode")

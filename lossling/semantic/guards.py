"""Is this value kept away from 0? ``positive`` is the guard notion of the log rules (and any rule that asks it).

It widens ``zeros.guarded`` (the division rules' "does something visibly keep it away from 0?", which follows a
name only to its single assignment) with what a log's argument needs:

* names followed to their *last* assignment before the use, so ``y_pred = clamp(y_pred, eps, 1 - eps)`` followed
  by ``log(y_pred)`` counts, and augmented assignments read as the operation they apply (``p /= p.sum()``);
* values that are positive by construction: ``exp``/``softplus``/``cosh``, ``ones``, counts and sizes, products,
  quotients and sums of positive values (a sum of positive and non-negative ones), ``sqrt``/reductions of
  positive values, dtype/layout changes of positive values;
* the guards written around the zero: ``1 - p`` where ``p`` is clamped below 1 (``upper_bound``), the double
  where ``where(x > 0, x, 1)``, and the selection ``x[x != 0]`` / ``x[mask]`` with ``mask = x > 0``.

API: ``positive(module, node)``, ``nonnegative(module, node)``, ``upper_bound(module, node)``, ``last_value(module,
node)``. All are lenient towards the code: where the author visibly took care, they say yes.
"""

from __future__ import annotations

import ast
import functools
import weakref
from typing import Callable

from . import apis, zeros
from .inference import clip_bounds
from .module import Module, OpCall
from .scopes import PARENT

_SAME_VALUE = frozenset("float double half bfloat16 to type type_as detach clone contiguous view reshape view_as "
                        "reshape_as expand expand_as squeeze unsqueeze flatten permute transpose t repeat cpu cuda "
                        "item".split())
_ONES = frozenset({"ones", "ones_like", "new_ones"})
_COUNTS = frozenset({"numel", "nelement", "size", "len"})
_CONSTRUCTORS = frozenset({"tensor", "as_tensor", "constant", "convert_to_tensor", "array", "asarray"})
_POSITIVE_OPS = frozenset({"exp", "softplus", "cosh"})
_NONNEGATIVE_OPS = frozenset({"abs", "square", "relu", "sqrt", "norm", "softmax", "sigmoid", "std", "var"})
_DEPTH = 10


def positive(module: Module, node: ast.AST | None) -> bool:
    """Whether ``node`` is positive by construction or guarded away from 0 (see the module docstring)."""
    return _positive(module, node, _DEPTH)


def nonnegative(module: Module, node: ast.AST | None) -> bool:
    """Whether ``node`` is >= 0: ``abs``, ``x ** 2``, ``x * x``, ``relu``, ``sqrt``, ``norm``, a softmax, a positive."""
    return _nonnegative(module, node, _DEPTH)


def upper_bound(module: Module, node: ast.AST | None) -> float | None:
    """A constant ``node`` cannot exceed: the upper bound of a clamp/clip/minimum, 1 for a sigmoid/softmax."""
    node = last_value(module, node)
    call = _op(module, node)
    if call is None:
        return None
    if call.op in ("sigmoid", "softmax"):
        return 1.0
    if call.op in ("clamp", "clip", "clamp_max", "minimum"):
        upper = clip_bounds(call)[1]
        return module.const(upper) if upper is not None else None
    return None


def _below(module: Module, node: ast.AST | None, limit: float) -> bool:
    """Whether ``node`` stays below ``limit``: a constant upper bound under it, or a bound ``c - eps`` (c <= limit)
    such as ``clamp(p, eps, 1 - eps)``."""
    bound = upper_bound(module, node)
    if bound is not None:
        return bound < limit
    call = _op(module, last_value(module, node))
    if call is not None and call.op == "clamp_probs":
        return limit >= 1.0
    if call is None or call.op not in ("clamp", "clip", "clamp_max", "minimum"):
        return False
    upper = clip_bounds(call)[1]
    if not (isinstance(upper, ast.BinOp) and isinstance(upper.op, ast.Sub)):
        return False
    start = module.const(upper.left)
    return start is not None and start <= limit and zeros.is_eps(module, upper.right)


def selected_where_nonzero(module: Module, node: ast.AST, value: ast.AST) -> bool:
    """Whether ``node`` lies in the branch a ``where`` picks only where ``value`` is away from 0:
    ``where(p > 0, p * log(p), 0)``, ``where(p == 0, 0, -p * log(p))``."""
    child = node
    for ancestor in module.ancestors(node):
        call = _op(module, ancestor) if isinstance(ancestor, ast.Call) else None
        if call is not None and call.op == "where":
            cond, chosen, other = call.arg(0, "condition"), call.arg(1, "x", "input"), call.arg(2, "y", "other")
            if chosen is child and _excludes_zero(module, cond, value):
                return True
            if other is child and _is_zero_test(module, cond, value):
                return True
        child = ancestor
    return False


def _is_zero_test(module: Module, cond: ast.AST | None, value: ast.AST) -> bool:
    """``value == 0`` or ``value <= 0``."""
    cond = last_value(module, cond)
    return isinstance(cond, ast.Compare) and len(cond.ops) == 1 and isinstance(cond.ops[0], (ast.Eq, ast.LtE)) and (
        module.text(cond.left) == module.text(value) and module.const(cond.comparators[0]) == 0.0)


def last_value(module: Module, node: ast.AST | None) -> ast.AST | None:
    """A name's value at ``node``: the value of its last assignment on an earlier line of the same scope (an
    ``ast.AugAssign`` statement for ``x /= s``), else its single assignment (``Module.resolve``). Other nodes,
    and names bound without a value (parameters, loop targets), come back unchanged."""
    for _ in range(_DEPTH):
        if not isinstance(node, ast.Name):
            return module.resolve(node) if isinstance(node, ast.Attribute) else node
        bindings = module.scope(module.scope_node(node)).bindings.get(node.id, ())
        before = [b for b in bindings if 0 < b.line < node.lineno]
        if not before:
            return module.resolve(node)
        last = max(before, key=lambda b: b.line)
        if isinstance(last.node, ast.AugAssign):
            return last.node
        if last.value is None:
            return node
        node = last.value
    return node


def _before(module: Module, stmt: ast.AugAssign) -> ast.AST | None:
    """The value the target of ``x op= v`` held just before it."""
    if not isinstance(stmt.target, ast.Name):
        return None
    probe = ast.Name(id=stmt.target.id, ctx=ast.Load(), lineno=stmt.lineno, col_offset=stmt.col_offset,
                     end_lineno=stmt.lineno, end_col_offset=stmt.col_offset)
    setattr(probe, PARENT, stmt)
    return last_value(module, probe)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Module -> {(id(node), kind, depth): answer}


def _memo(kind: str) -> Callable:
    """Cache a ``(module, node, depth)`` question per module, node and depth, so nested sums stay polynomial; a
    cycle through names answers False."""

    def wrap(function: Callable[[Module, ast.AST, int], bool]) -> Callable[[Module, ast.AST | None, int], bool]:
        @functools.wraps(function)
        def cached(module: Module, node: ast.AST | None, depth: int) -> bool:
            if node is None or depth <= 0:
                return False
            table = _CACHE.setdefault(module, {})
            key = (id(node), kind, depth)
            if key not in table:
                table[key] = False
                table[key] = function(module, node, depth)
            return table[key]

        return cached

    return wrap


@_memo("+")
def _positive(module: Module, node: ast.AST, depth: int) -> bool:
    if zeros.is_eps(module, node) or zeros.guarded(module, node):
        return True
    value = last_value(module, node)
    if value is not node:
        if isinstance(value, ast.AugAssign):
            return _combined(module, value.op, _before(module, value), value.value, depth - 1)
        return _positive(module, value, depth - 1)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Sub):  # c - p with p clamped below c
            left = module.const(node.left)
            return left is not None and _below(module, node.right, left)
        return _combined(module, node.op, node.left, node.right, depth - 1)
    if isinstance(node, ast.IfExp):
        return _positive(module, node.body, depth - 1) and _positive(module, node.orelse, depth - 1)
    if isinstance(node, ast.Subscript):
        return _excludes_zero(module, node.slice, node.value) or _positive(module, node.value, depth - 1)
    if isinstance(node, ast.Call):
        return _positive_call(module, node, depth - 1)
    return False


def _combined(module: Module, op: ast.operator, left: ast.AST | None, right: ast.AST | None, depth: int) -> bool:
    if isinstance(op, ast.Add):
        return zeros.is_eps(module, left) or zeros.is_eps(module, right) or (
            _positive(module, left, depth) and _nonnegative(module, right, depth)) or (
            _nonnegative(module, left, depth) and _positive(module, right, depth))
    if isinstance(op, (ast.Mult, ast.Div)):
        return _positive(module, left, depth) and _positive(module, right, depth)
    if isinstance(op, ast.Pow):
        return _positive(module, left, depth)
    return False


def _op(module: Module, node: ast.AST | None) -> OpCall | None:
    """``module.op``, and a tensor method on a receiver ``is_tensor`` cannot vouch for (``x.clamp(eps)`` with ``x``
    assigned twice): in a guard question the method name is evidence enough."""
    call = module.op(node)
    if call is None and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
            module.qualname(node.func) is None and node.func.attr in apis.TENSOR_METHODS):
        call = OpCall(apis.TENSOR_METHODS[node.func.attr], "torch", node, "method", receiver=node.func.value)
    return call


def _positive_call(module: Module, node: ast.Call, depth: int) -> bool:
    call = _op(module, node)
    if call is not None:
        if call.op in _POSITIVE_OPS or call.op == "clamp_probs":  # clamp_probs: into [eps, 1 - eps]
            return True
        if call.op == "log":  # tf.math.log(2.0)
            value = module.const(call.input)
            return value is not None and value > 1
        if call.op in ("sqrt", "sum", "mean", "prod", "max", "amax", "cast", "reciprocal") and call.input is not None:
            return _positive(module, call.input, depth)
        if call.op in ("clamp", "clamp_min", "clip", "maximum"):
            lower = clip_bounds(call)[0]
            value = module.const(lower) if lower is not None else 0.0
            return lower is not None and (value is None or value > 0)
        if call.op == "where":
            chosen, other = call.arg(1, "x", "input"), call.arg(2, "y", "other")
            if chosen is None or other is None or not _positive(module, other, depth):
                return False
            return _positive(module, chosen, depth) or _excludes_zero(module, call.arg(0, "condition"), chosen)
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    if name in _ONES or name in _COUNTS:
        return True
    if name in _CONSTRUCTORS and node.args:  # torch.tensor([(x / s) ** 2 + 1 for x in ...])
        data = node.args[0]
        if isinstance(data, ast.ListComp):
            return _positive(module, data.elt, depth)
        return isinstance(data, (ast.List, ast.Tuple)) and bool(data.elts) and all(
            _positive(module, e, depth) for e in data.elts)
    if name in ("full", "full_like", "new_full"):
        return len(node.args) > 1 and _positive(module, node.args[1], depth)
    if isinstance(func, ast.Attribute) and name in _SAME_VALUE and module.qualname(func) is None:
        return _positive(module, func.value, depth)
    return False


def _excludes_zero(module: Module, cond: ast.AST | None, value: ast.AST) -> bool:
    """Whether ``cond`` (through names) is ``value > c`` (c >= 0), ``value != 0`` or ``value >= c`` (c > 0)."""
    cond = last_value(module, cond)
    if isinstance(cond, ast.BoolOp) and isinstance(cond.op, ast.And):
        return any(_excludes_zero(module, c, value) for c in cond.values)
    if isinstance(cond, ast.BinOp) and isinstance(cond.op, ast.BitAnd):
        return _excludes_zero(module, cond.left, value) or _excludes_zero(module, cond.right, value)
    if not (isinstance(cond, ast.Compare) and len(cond.ops) == 1):
        return False
    if module.text(cond.left) != module.text(value):
        return False
    bound, op = module.const(cond.comparators[0]), cond.ops[0]
    if bound is None:
        return False
    return (isinstance(op, ast.Gt) and bound >= 0) or (isinstance(op, ast.NotEq) and bound == 0) or (
        isinstance(op, ast.GtE) and bound > 0)


@_memo(">=")
def _nonnegative(module: Module, node: ast.AST, depth: int) -> bool:
    constant = module.const(node)
    if constant is not None:
        return constant >= 0
    if _positive(module, node, depth):
        return True
    value = last_value(module, node)
    if value is not node:
        return not isinstance(value, ast.AugAssign) and _nonnegative(module, value, depth - 1)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            exponent = module.const(node.right)
            return (exponent is not None and exponent % 2 == 0) or _nonnegative(module, node.left, depth - 1)
        if isinstance(node.op, ast.Mult) and module.text(node.left) == module.text(node.right):
            return True
        if isinstance(node.op, (ast.Add, ast.Mult, ast.Div)):
            return _nonnegative(module, node.left, depth - 1) and _nonnegative(module, node.right, depth - 1)
        return False
    if isinstance(node, ast.Subscript):
        return _nonnegative(module, node.value, depth - 1)
    if isinstance(node, ast.Call):
        call = _op(module, node)
        if call is None:
            func = node.func
            return isinstance(func, ast.Attribute) and func.attr in _SAME_VALUE and _nonnegative(
                module, func.value, depth - 1)
        if call.op in _NONNEGATIVE_OPS:
            return True
        if call.op in ("clamp", "clamp_min", "clip", "maximum"):
            lower = clip_bounds(call)[0]
            return lower is not None and (module.const(lower) or 0.0) >= 0 and module.const(lower) is not None
        if call.op in ("sum", "mean", "max", "amax") and call.input is not None:
            return _nonnegative(module, call.input, depth - 1)
    return False

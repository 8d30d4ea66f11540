"""Expression shapes the log/exp rules share: ``1 + t``, an exp shifted by a maximum, a reduction's axis arguments.

Each helper answers one question about the ``ast`` a rule holds, through the ``Module``'s name resolution, so the
rules read as the formula they match.
"""

from __future__ import annotations

import ast

from .dataflow import Def
from .module import INPUT_KEYWORDS, Module, OpCall
from .scopes import callee_name
from .values import Zero

# Ops whose result bounds the terms it is computed from: ``exp(x - x.max(1))``, ``exp(x - lse)``.
_MAXIMA = {"max", "amax", "maximum", "logsumexp", "max_pool"}
# Keywords of a reduction a logsumexp-style replacement takes over unchanged.
AXIS_KEYWORDS = ("dim", "axis", "reduction_indices")
KEEPDIM_KEYWORDS = ("keepdim", "keepdims", "keep_dims")


def plus_one(module: Module, node: ast.AST | None) -> ast.expr | None:
    """``t`` when ``node`` is ``1 + t`` or ``t + 1`` in any spelling (``t.add(1)``, ``torch.add(t, 1)``; 1 a
    numeric constant, ``t`` not constant and not a negation, which makes it ``1 - p``; not the in-place
    ``t.add_(1)``), else None."""
    found = module.arith(node)
    if found is None or found.op is not ast.Add or found.inplace or found.right is None:
        return None
    left, right = module.const(found.left), module.const(found.right)
    term = found.right if left == 1.0 and right is None else (found.left if right == 1.0 and left is None else None)
    negation = module.arith(term)
    if negation is not None and negation.op is ast.USub:
        return None  # 1 + (-p), p.neg().add(1): that is 1 - p
    return term


def tensor_operand(module: Module, call: OpCall, operand: ast.AST | None) -> bool:
    """Whether ``operand`` of ``call`` is worth a numerics finding: not a constant, and a tensor. Framework ops
    take tensors; NumPy's accept Python floats too, so there the operand itself must look like an array."""
    if operand is None or constant(module, operand):
        return False
    return call.framework not in ("numpy", "scipy") or _array(module, operand)


def constant(module: Module, node: ast.AST | None, depth: int = 4) -> bool:
    """Whether ``node`` is a constant or framework math on constants only: ``2.0``, ``np.exp(3.0)``."""
    if module.const(node) is not None:
        return True
    node = module.resolve(node)
    found = module.op(node)
    if depth and found is not None and found.kind == "function" and found.node.args:
        return all(constant(module, arg, depth - 1) for arg in found.node.args)
    return False


def _array(module: Module, node: ast.AST, depth: int = 4) -> bool:
    """Whether a NumPy operand holds an array rather than a Python float: a NumPy call counts only when an
    argument of it does (``np.exp(rate)`` on a float is a float)."""
    node = module.resolve(node)
    found = module.op(node)
    if depth and found is not None and found.framework in ("numpy", "scipy") and found.kind == "function":
        return any(_array(module, arg, depth - 1) for arg in found.node.args)
    if isinstance(node, ast.BinOp):
        return _array(module, node.left, depth) or _array(module, node.right, depth)
    if isinstance(node, ast.UnaryOp):
        return _array(module, node.operand, depth)
    return module.is_tensor(node)


def max_shifted(module: Module, node: ast.AST | None, depth: int = 6) -> bool:
    """Whether ``node`` (an exp's argument) subtracts a maximum somewhere inside (in any spelling of the
    subtraction): ``x - x.max(1, keepdim=True)[0]``, ``x.sub(m)``,
    ``r * (x - m)`` with ``m, _ = x.max(1)``, ``logits - lse`` with ``lse = logsumexp(logits)``. That is the stable
    form. A name counts when every definition that reaches it does."""
    if node is None or depth <= 0:
        return False
    if isinstance(node, ast.Name):
        defs = module.facts.definitions(node)
        return bool(defs) and all(d.kind == "assign" and max_shifted(module, d.value, depth - 1) for d in defs)
    found = module.arith(node)  # x - m, x.sub(m), torch.sub(x, m)
    if found is not None and found.op is ast.Sub and found.right is not None and maximum(module, found.right):
        return True
    if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Call, ast.Subscript, ast.Starred)):
        return any(max_shifted(module, child, depth) for child in ast.iter_child_nodes(node)
                   if isinstance(child, ast.expr))
    return False


def maximum(module: Module, node: ast.AST | None) -> bool:
    """Whether ``node`` is a maximum, or a log-sum-exp (which bounds its terms from above): ``x.max(1)[0]``,
    ``amax``, ``reduce_max``, ``maximum(a, b)``, ``where(a >= b, a, b)``, ``m`` of ``m, _ = x.max(1)``, through
    ``detach``/``stop_gradient``, casts, shape ops, names and the file's own functions. Where it is replaced by
    a constant in some case (``where(isfinite(m), m, 0)``, ``return -inf`` for an empty input) it still counts."""
    return _maximum(module, node, 6) is True


def _maximum(module: Module, node: ast.AST | None, depth: int) -> bool | None:
    """True: a maximum; False: a constant (a fallback beside a maximum); None: anything else."""
    if node is None or depth <= 0:
        return None
    value = module.facts.value(node)
    if value.lo is not None and value.lo == value.hi:
        return False
    if isinstance(node, ast.Name):
        return _either([_maximum_def(module, d, depth - 1) for d in module.facts.definitions(node)])
    inner = module.facts.unwrapped(node)
    if inner is not None:
        return _maximum(module, inner, depth - 1)
    call = module.op(node)
    if call is not None and call.op == "where" and not _picks_larger(module, call):
        branches = (call.arg(1, "x", "input", "self"), call.arg(2, "y", "other"))
        return _either([_maximum(module, branch, depth - 1) for branch in branches])
    if call is not None:
        return True if call.op in _MAXIMA or call.op == "where" else None
    function = module.facts.callee(node) if isinstance(node, ast.Call) else None
    if function is None:
        return None
    return _either([_maximum(module, r, depth - 1) for r in module.facts.returns(function)])


def _maximum_def(module: Module, d: Def, depth: int) -> bool | None:
    if d.kind == "assign":
        return _maximum(module, d.value, depth)
    if d.kind == "unpack" and d.index == 0:
        call = module.op(d.value)
        return True if call is not None and call.op == "max" else None  # m, _ = x.max(1): the values
    value = module.facts.of_def(d)
    return False if value.lo is not None and value.lo == value.hi else None  # a parameter with a constant value


def _either(results: list[bool | None]) -> bool | None:
    """A maximum where every case is a maximum or a constant and one is a maximum."""
    if not results or None in results:
        return None
    return any(results)


def _picks_larger(module: Module, where: OpCall) -> bool:
    """``where(a >= b, a, b)`` (or ``a > b``, ``b < a``, the condition through a name): the larger of a and b."""
    cond, chosen, other = where.arg(0, "condition", "cond"), where.arg(1, "x", "input", "self"), where.arg(
        2, "y", "other")
    cond = module.resolve(cond)
    if not (isinstance(cond, ast.Compare) and len(cond.ops) == 1 and chosen is not None and other is not None):
        return False
    op, left, right = cond.ops[0], cond.left, cond.comparators[0]
    if isinstance(op, (ast.Lt, ast.LtE)):
        left, right = right, left
    elif not isinstance(op, (ast.Gt, ast.GtE)):
        return False
    return ast.dump(left) == ast.dump(chosen) and ast.dump(right) == ast.dump(other)


def unstable_softmax(module: Module, top: ast.AST | None, bottom: ast.AST | None) -> tuple[OpCall, OpCall] | None:
    """``(exp, sum)`` when ``top / bottom`` is a softmax written by hand whose exp can overflow or underflow:
    ``exp(x) / sum(exp(x), d)`` (through names) with no maximum subtracted, over no coordinate grid, and an
    argument the value analysis does not bound (LOSS110's; a log of it is LOSS102's once that is fixed)."""
    exp = module.op_of(top, "exp")
    total = module.op_of(bottom, "sum")
    if exp is None or total is None or not unary(exp) or exp.input is None:
        return None
    again = module.op_of(total.input, "exp")
    if again is None or not same_value(module, exp, again) or not tensor_operand(module, exp, exp.input):
        return None
    if max_shifted(module, exp.input) or from_grid(module, exp.input) or not (
            overflows(module, exp) or underflows(module, exp)):
        return None
    return exp, total


def selected_below(module: Module, node: ast.AST | None) -> bool:
    """Whether ``node`` takes its tensor through a mask that bounds it above: ``b * x[m]`` with ``m = x * b <= t``
    (``x[x < t]``). The author kept the large values out; an exp of it does not overflow."""
    node = module.resolve(node)
    for sub in ast.walk(node) if node is not None else ():
        if not (isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name)):
            continue
        mask = module.resolve(sub.slice)
        if isinstance(mask, ast.Compare) and len(mask.ops) == 1 and isinstance(mask.ops[0], (ast.Lt, ast.LtE)) and (
                any(isinstance(n, ast.Name) and n.id == sub.value.id for n in ast.walk(mask.left))):
            return True
    return False


def sign_scaled(module: Module, node: ast.AST) -> bool:
    """Whether ``node`` is multiplied by a sign (``sign(x) * log(1 + |x|)``, ``sign(y) * (exp(|y|) - 1)``): a
    magnitude compressed or expanded with its sign, whose small values carry no digits worth keeping."""
    parent = module.parent(node)
    if not (isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mult)):
        return False
    other = parent.right if parent.left is node else parent.left
    return module.op_of(other, "sign") is not None


def overflows(module: Module, call: OpCall) -> bool:
    """Whether the exp or cosh ``call`` can overflow to inf: the value analysis bounds it in its dtype only when
    its argument is bounded above (clamped, ``-abs(x)``, ``tanh``, a ``where`` branch of the non-positive side)."""
    return module.facts.value(call.node).hi is None


def underflows(module: Module, call: OpCall) -> bool:
    """Whether the exp ``call`` can underflow to 0 (its argument is not bounded below above about -103)."""
    return module.facts.value(call.node).zero is not Zero.NEVER


_GRID = {"arange", "range", "linspace", "logspace", "meshgrid", "mgrid", "ogrid"}  # tf.range, range()


def from_grid(module: Module, node: ast.AST | None, budget: int = 40) -> bool:
    """Whether ``node`` is computed from a coordinate grid (``torch.arange``, ``linspace``, ``meshgrid``): a
    Gaussian kernel ``exp(-x**2 / s) / sum(...)`` over a grid holds no logits and cannot overflow."""
    seen: set[int] = set()
    stack = [node]
    while stack and budget:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        budget -= 1
        if isinstance(current, ast.Call) and callee_name(current.func) in _GRID:
            return True
        if isinstance(current, ast.Name):
            stack.append(module.resolve(current))
        elif isinstance(current, (ast.expr, ast.AugAssign)):
            stack.extend(ast.iter_child_nodes(current))
    return False


def difference(module: Module, node: ast.AST | None) -> bool:
    """Whether ``node`` is ``a - b`` (through a name)."""
    node = module.resolve(node)
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub)


def square_base(module: Module, node: ast.AST | None) -> ast.expr | None:
    """``x`` when ``node`` is ``x ** 2``, ``x * x``, ``square(x)`` or ``x.pow(2)`` (through a name)."""
    node = module.resolve(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and module.const(node.right) == 2.0:
        return node.left
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and ast.dump(node.left) == ast.dump(node.right):
        return node.left
    call = module.op(node)
    if call is not None and call.op == "square":
        return call.input
    if call is not None and call.op == "pow" and module.const(call.arg(1, "exponent", "y", "x2")) == 2.0:
        return call.input
    return None


def same_value(module: Module, a: OpCall, b: OpCall) -> bool:
    """Whether two op calls compute the same thing: one call, or two calls written identically."""
    return a.node is b.node or ast.dump(a.node) == ast.dump(b.node)


def pure(module: Module, node: ast.AST) -> bool:
    """Whether evaluating ``node`` twice is harmless: it calls nothing but framework operations."""
    for child in ast.walk(node):
        if isinstance(child, (ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom, ast.Lambda)):
            return False
        if isinstance(child, ast.Call) and module.op(child) is None:
            return False
    return True


def unary(call: OpCall) -> bool:
    """Whether ``call`` passes its input and nothing else: ``torch.log(x)``, ``x.log()``."""
    count = len(call.node.args) + len(call.node.keywords)
    return count == (0 if call.kind == "method" else 1) and not any(
        isinstance(a, ast.Starred) for a in call.node.args) and all(k.arg for k in call.node.keywords)


def reduction_rest(module: Module, call: OpCall, positional: int) -> list[str] | None:
    """The arguments of a reduction after its input, as written (``["1", "keepdim=True"]``), when they are only
    an axis and a keep-dims flag (at most ``positional`` of them by position); else None."""
    node = call.node
    args = list(node.args)
    if call.kind != "method":
        if args:
            args = args[1:]
        elif not any(k.arg in INPUT_KEYWORDS for k in node.keywords):
            return None
    if len(args) > positional or any(isinstance(a, ast.Starred) for a in args):
        return None
    parts = [module.text(a) for a in args]
    for keyword in node.keywords:
        if call.kind != "method" and keyword.arg in INPUT_KEYWORDS:
            continue
        if keyword.arg not in AXIS_KEYWORDS + KEEPDIM_KEYWORDS:
            return None
        parts.append(f"{keyword.arg}={module.text(keyword.value)}")
    return parts


def reduction_axis(call: OpCall) -> ast.expr | None:
    """The axis a reduction reduces over (None when it reduces everything)."""
    axis = call.arg(1, *AXIS_KEYWORDS)
    return None if isinstance(axis, ast.Constant) and axis.value is None else axis


def softmax_axis(call: OpCall) -> ast.expr | None:
    """The axis a softmax normalises over as written: its ``dim``/``axis``, or the constructor's for an
    ``nn.Softmax(dim)`` instance; None when left to the default."""
    if call.ctor is not None:
        return call.ctor.args[0] if call.ctor.args else call.keyword("dim")
    return call.arg(1, "dim", "axis")


def keeps_dims(call: OpCall) -> bool:
    """Whether a reduction keeps the reduced axes (``keepdim=True``, ``keepdims=True``, positional in torch/TF)."""
    flag = call.arg(2, *KEEPDIM_KEYWORDS) if call.framework in ("torch", "tf", "tf1", "keras") else next(
        (k.value for k in call.node.keywords if k.arg in KEEPDIM_KEYWORDS), None)
    return isinstance(flag, ast.Constant) and flag.value is True

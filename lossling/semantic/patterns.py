"""Expression shapes the log/exp rules share: ``1 + t``, an exp shifted by a maximum, a reduction's axis arguments.

Each helper answers one question about the ``ast`` a rule holds, through the ``Module``'s name resolution, so the
rules read as the formula they match.
"""

from __future__ import annotations

import ast
import re

from .module import Module, OpCall

# Reductions whose result shifts an exp into the stable range: ``exp(x - x.max(1))``, ``exp(x - lse)``.
_SHIFT_OPS = {"max", "amax", "logsumexp", "log_softmax"}
_SHIFT_NAME = re.compile(r"max|(^|_)lse(_|$)|logsumexp|logz|log_?norm", re.I)
_STOP_GRADIENT = {"detach", "stop_gradient", "clone"}
# Keywords of a reduction a logsumexp-style replacement takes over unchanged.
AXIS_KEYWORDS = ("dim", "axis", "reduction_indices")
KEEPDIM_KEYWORDS = ("keepdim", "keepdims", "keep_dims")
_INPUT_KEYWORDS = ("input", "input_tensor", "x", "a")


def plus_one(module: Module, node: ast.AST | None) -> ast.expr | None:
    """``t`` when ``node`` is ``1 + t`` or ``t + 1`` in any spelling (``t.add(1)``, ``torch.add(t, 1)``; 1 a
    numeric constant, ``t`` not constant; not the in-place ``t.add_(1)``), else None."""
    found = module.arith(node)
    if found is None or found.op is not ast.Add or found.inplace or found.right is None:
        return None
    left, right = module.const(found.left), module.const(found.right)
    if left == 1.0 and right is None:
        return found.right
    if right == 1.0 and left is None:
        return found.left
    return None


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


def max_shifted(module: Module, node: ast.AST | None) -> bool:
    """Whether ``node`` (an exp's argument) subtracts a maximum or a log-normaliser somewhere inside:
    ``x - x.max(1, keepdim=True)[0]``, ``r * (x - x_max)``, ``logits - lse``. That is the stable form."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ast.BinOp) and isinstance(current.op, ast.Sub) and _is_shift(module, current.right):
            return True
        if isinstance(current, ast.Name):
            stack.append(module.resolve(current, depth=1))
        elif isinstance(current, (ast.BinOp, ast.UnaryOp, ast.Call, ast.Subscript, ast.Attribute, ast.Starred)):
            stack.extend(ast.iter_child_nodes(current))
    return False


def _is_shift(module: Module, node: ast.AST) -> bool:
    if isinstance(node, (ast.Name, ast.Attribute)) and _SHIFT_NAME.search(_callee(node) or ""):
        return True  # max_ = where(a >= b, a, b): the name says what the value is
    node = _strip(module, node)
    if isinstance(node, ast.Call):
        found = module.op(node)
        if found is not None and found.op in _SHIFT_OPS:
            return True
        node = node.func
    name = _callee(node)
    return name is not None and bool(_SHIFT_NAME.search(name))


def _strip(module: Module, node: ast.AST) -> ast.AST:
    """Peel names, indexing, ``.values`` and detach/stop_gradient off a value: ``x.max(1)[0].detach()`` -> the max."""
    for _ in range(8):
        node = module.resolve(node, depth=1)
        if isinstance(node, ast.Subscript) or (isinstance(node, ast.Attribute) and node.attr in ("values", "data")):
            node = node.value
        elif isinstance(node, ast.Call) and _callee(node.func) in _STOP_GRADIENT:
            if node.args:  # tf.stop_gradient(m)
                node = node.args[0]
            elif isinstance(node.func, ast.Attribute):  # m.detach()
                node = node.func.value
            else:
                break
        else:
            break
    return node


def nonpositive(module: Module, node: ast.AST | None) -> bool:
    """``-abs(x)``, ``-relu(x)``, ``-x ** 2``, ``where(x >= 0, -x, x)``, and those scaled by a non-negative factor
    (``-0.5 * (x / s) ** 2``): the value analysis bounds it by 0 from above, so an exp of it cannot overflow."""
    hi = module.facts.value(node).hi if node is not None else None
    return hi is not None and hi <= 0


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


def clamped(module: Module, node: ast.AST | None) -> bool:
    """Whether ``node`` (an exp's or cosh's argument) is clamped, or the negation of a clamped value:
    ``exp(torch.clamp(t, -50, 50))``. The author bounded it; whatever overflow is left is not this rule's."""
    node = module.resolve(node)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = module.resolve(node.operand)
    return module.op_of(node, "clamp", "clip", "clamp_max", "clamp_min", "minimum", "maximum", "tanh",
                        follow=False) is not None


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
        if isinstance(current, ast.Call) and _callee(current.func) in _GRID:
            return True
        if isinstance(current, ast.Name):
            stack.append(module.resolve(current))
        elif isinstance(current, (ast.expr, ast.AugAssign)):
            stack.extend(ast.iter_child_nodes(current))
    return False


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
        elif not any(k.arg in _INPUT_KEYWORDS for k in node.keywords):
            return None
    if len(args) > positional or any(isinstance(a, ast.Starred) for a in args):
        return None
    parts = [module.text(a) for a in args]
    for keyword in node.keywords:
        if call.kind != "method" and keyword.arg in _INPUT_KEYWORDS:
            continue
        if keyword.arg not in AXIS_KEYWORDS + KEEPDIM_KEYWORDS:
            return None
        parts.append(f"{keyword.arg}={module.text(keyword.value)}")
    return parts


def reduction_axis(call: OpCall) -> ast.expr | None:
    """The axis a reduction reduces over (None when it reduces everything)."""
    axis = call.arg(1, *AXIS_KEYWORDS)
    return None if isinstance(axis, ast.Constant) and axis.value is None else axis


def keeps_dims(call: OpCall) -> bool:
    """Whether a reduction keeps the reduced axes (``keepdim=True``, ``keepdims=True``, positional in torch/TF)."""
    flag = call.arg(2, *KEEPDIM_KEYWORDS) if call.framework in ("torch", "tf", "tf1", "keras") else next(
        (k.value for k in call.node.keywords if k.arg in KEEPDIM_KEYWORDS), None)
    return isinstance(flag, ast.Constant) and flag.value is True


def _callee(func: ast.AST) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None

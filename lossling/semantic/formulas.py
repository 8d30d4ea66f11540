"""The algebra of hand-written loss formulas: sums of signed products, and what wraps them.

``-(y * log(p) + (1 - y) * log(1 - p)).mean()`` reads as: the terms ``+y*log(p)`` and ``+(1-y)*log(1-p)``
(``terms``), each a sign and a list of factors (``factors``), inside a negation and a mean (``wrappers``). The
rules that recognise cross-entropies and entropies match on these lists, so every sign placement and factor order
is one case.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .module import Arith, Module, OpCall

REDUCTIONS = ("sum", "mean")


def terms(node: ast.expr, sign: int = 1, module: Module | None = None) -> list[tuple[int, ast.expr]]:
    """``a - b + -c`` -> [(1, a), (-1, b), (-1, c)]: the signed summands of a chain of + and - (with ``module``, in
    any spelling: ``a.add(b)``, ``torch.sub(a, b)``, ``x.neg()``)."""
    found = _arith(module, node)
    if found is not None and found.op in (ast.Add, ast.Sub) and found.right is not None:
        right = -sign if found.op is ast.Sub else sign
        return terms(found.left, sign, module) + terms(found.right, right, module)
    if found is not None and found.op is ast.USub:
        return terms(found.left, -sign, module)
    return [(sign, node)]


def factors(node: ast.expr, module: Module | None = None) -> tuple[int, list[ast.expr]]:
    """``-y * log(p) * w`` -> (-1, [y, log(p), w]): the sign and factors of a product (unary minus pulled out;
    with ``module``, in any spelling: ``y.mul(p.log())``, ``torch.mul(y, w)``, ``x.neg()``)."""
    found = _arith(module, node)
    if found is not None and found.op is ast.Mult and found.right is not None:
        left_sign, left = factors(found.left, module)
        right_sign, right = factors(found.right, module)
        return left_sign * right_sign, left + right
    if found is not None and found.op is ast.USub:
        sign, inner = factors(found.left, module)
        return -sign, inner
    return 1, [node]


def _arith(module: Module | None, node: ast.AST | None) -> Arith | None:
    """``node`` as arithmetic: any spelling with ``module``, else only the operators themselves. In-place forms
    (``x.add_(b)``) are not formulas: they change ``x`` too."""
    if module is not None:
        found = module.arith(node)
        return found if found is not None and not found.inplace else None
    if isinstance(node, ast.BinOp):
        return Arith(type(node.op), node.left, node.right, node)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return Arith(ast.USub, node.operand, None, node)
    return None


def operand_of(module: Module, node: ast.AST) -> tuple[Arith, ast.expr] | None:
    """The arithmetic ``node`` is an operand of, and that operation's node: for ``b`` in ``a * b``, ``a.mul(b)``
    or ``torch.mul(a, b)``, the multiplication."""
    parent = module.parent(node)
    if isinstance(parent, ast.Attribute) and parent.value is node:  # the receiver of a.mul(b)
        parent = module.parent(parent)
    elif isinstance(parent, ast.keyword):
        parent = module.parent(parent)
    found = _arith(module, parent)
    if found is None or not (found.left is node or found.right is node):
        return None
    return found, found.node


def product(module: Module, node: ast.expr) -> ast.expr:
    """The outermost product ``node`` is a factor of, through ``*`` and unary minus in any spelling (``node``
    itself when it is in none): for ``log(p)`` in ``-y * log(p) * w``, the whole product."""
    while True:
        around = operand_of(module, node)
        if around is None or around[0].op not in (ast.Mult, ast.USub):
            return node
        node = around[1]


@dataclass
class Wrapped:
    """``node`` seen from outside: ``top`` is the outermost of the negations and sum/mean reductions around it,
    ``sign`` the product of those negations, ``reductions`` the reductions from the inside out."""

    top: ast.expr
    sign: int = 1
    reductions: list[OpCall] = field(default_factory=list)


def wrappers(module: Module, node: ast.expr, limit: int = 2, terms: bool = False) -> Wrapped:
    """Walk out of ``node`` through unary minus, multiplication by -1 and up to ``limit`` sum/mean reductions
    (function ``torch.mean(x)`` or method ``x.mean()``) whose input it is; with ``terms``, also out of a sum it
    is a term of and through a name it is assigned to and used once (``t = y * log(p)`` ... ``-mean(t)``)."""
    found = Wrapped(node)
    current = node
    while True:
        parent = module.parent(current)
        around = operand_of(module, current)
        arith, outer = around if around is not None else (None, current)
        op = arith.op if arith is not None else None
        if op is ast.USub:
            found.sign, current = -found.sign, outer
        elif arith is not None and op is ast.Mult and module.const(
                arith.right if arith.left is current else arith.left) == -1.0:
            found.sign, current = -found.sign, outer
        elif terms and arith is not None and op in (ast.Add, ast.Sub):
            if op is ast.Sub and arith.right is current:
                found.sign = -found.sign  # a term of a sum: a - term
            current = outer
        elif terms and isinstance(parent, ast.Assign) and parent.value is current and (
                use := _only_use(module, parent)):
            current = use  # terms = y * log(p) ... -mean(terms)
        else:
            call = reduction_of(module, current)
            if call is None or len(found.reductions) >= limit:
                break
            found.reductions.append(call)
            current = call.node
        found.top = current
    return found


def _only_use(module: Module, assign: ast.Assign) -> ast.Name | None:
    """The one load of the name ``assign`` defines, when it has exactly one."""
    if len(assign.targets) != 1 or not isinstance(assign.targets[0], ast.Name):
        return None
    flow = module.facts.flow_of(assign)
    if flow is None:
        return None
    d = next((d for d in flow.defs.get(assign.targets[0].id, ()) if d.node is assign), None)
    uses = list(flow.uses.get(id(d), {}).values()) if d is not None else []
    return uses[0] if len(uses) == 1 else None


def reduction_of(module: Module, node: ast.expr) -> OpCall | None:
    """The sum/mean call whose input ``node`` is (``torch.sum(node, 1)``, ``node.mean()``), if any."""
    parent = module.parent(node)
    if isinstance(parent, ast.Attribute) and parent.value is node:
        parent = module.parent(parent)
    call = module.op(parent) if isinstance(parent, ast.Call) else None
    if call is not None and call.op in REDUCTIONS and call.input is node:
        return call
    return None


def bare(call: OpCall) -> bool:
    """A reduction over everything: ``x.mean()``, ``torch.sum(x)``, ``tf.reduce_mean(x)`` (no axis, no flags)."""
    count = len(call.node.args) + len(call.node.keywords)
    return count == (0 if call.kind == "method" else 1)


def outermost_sum(module: Module, node: ast.expr) -> ast.expr:
    """The outermost + / - chain that ``node`` is a factor of a summand of (``node`` itself when it is in none):
    for ``log(p)`` in ``-(y * log(p) + (1 - y) * log(1 - p))``, the ``+``."""
    current, chain = node, node
    while True:
        around = operand_of(module, current)
        op = around[0].op if around is not None else None
        if around is not None and op in (ast.Add, ast.Sub):
            current = chain = around[1]
        elif around is not None and op in (ast.Mult, ast.USub):
            current = around[1]
        else:
            return chain


def same(module: Module, a: ast.AST | None, b: ast.AST | None) -> bool:
    """Whether two expressions are written identically (``ast.dump``, so spacing and parentheses don't matter)."""
    return a is not None and b is not None and ast.dump(a) == ast.dump(b)

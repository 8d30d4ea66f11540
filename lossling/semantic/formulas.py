"""The algebra of hand-written loss formulas: sums of signed products, and what wraps them.

``-(y * log(p) + (1 - y) * log(1 - p)).mean()`` reads as: the terms ``+y*log(p)`` and ``+(1-y)*log(1-p)``
(``terms``), each a sign and a list of factors (``factors``), inside a negation and a mean (``wrappers``). The
rules that recognise cross-entropies and entropies match on these lists, so every sign placement and factor order
is one case.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .module import Module, OpCall

REDUCTIONS = ("sum", "mean")


def terms(node: ast.AST, sign: int = 1) -> list[tuple[int, ast.expr]]:
    """``a - b + -c`` -> [(1, a), (-1, b), (-1, c)]: the signed summands of a chain of + and -."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        right = -sign if isinstance(node.op, ast.Sub) else sign
        return terms(node.left, sign) + terms(node.right, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return terms(node.operand, -sign)
    return [(sign, node)]


def factors(node: ast.AST) -> tuple[int, list[ast.expr]]:
    """``-y * log(p) * w`` -> (-1, [y, log(p), w]): the sign and factors of a product (unary minus pulled out)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        left_sign, left = factors(node.left)
        right_sign, right = factors(node.right)
        return left_sign * right_sign, left + right
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, inner = factors(node.operand)
        return -sign, inner
    return 1, [node]


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
        if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub):
            found.sign, current = -found.sign, parent
        elif isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mult) and module.const(
                parent.right if parent.left is current else parent.left) == -1.0:
            found.sign, current = -found.sign, parent
        elif terms and isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Add, ast.Sub)):
            if isinstance(parent.op, ast.Sub) and parent.right is current:
                found.sign = -found.sign  # a term of a sum: a - term
            current = parent
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
        parent = module.parent(current)
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Add, ast.Sub)):
            current = chain = parent
        elif (isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mult)) or (
                isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub)):
            current = parent
        else:
            return chain


def same(module: Module, a: ast.AST | None, b: ast.AST | None) -> bool:
    """Whether two expressions are written identically (``ast.dump``, so spacing and parentheses don't matter)."""
    return a is not None and b is not None and ast.dump(a) == ast.dump(b)

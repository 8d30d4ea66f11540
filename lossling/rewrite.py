"""Helpers rules use to write replacement expressions from the file's own source text."""

from __future__ import annotations

import ast

from .finding import Import
from .semantic import apis
from .semantic.module import Module, OpCall

_ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set)


def atom(module: Module, node: ast.AST) -> str:
    """``node``'s text, parenthesised unless it binds tighter than any operator."""
    text = module.text(node)
    if isinstance(node, _ATOMS) and not (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
                                         and text.startswith("-")):
        return text
    return f"({text})"


def negated(module: Module, node: ast.AST) -> str:
    """The text of ``-node``: ``-x``, ``-(a + b)``, and ``x`` for ``-x``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return atom(module, node.operand)
    return "-" + atom(module, node)


def call_args(module: Module, call: ast.Call) -> str:
    """The parenthesised argument list of ``call`` exactly as written, comments and line breaks included."""
    return module.text(call)[len(module.text(call.func)):]


def sibling(module: Module, call: OpCall, name: str) -> tuple[str, Import | None] | None:
    """Spell ``name`` from the same namespace as ``call`` (``F.softmax`` -> ``F.log_softmax``), if it exists."""
    if call.kind == "method":
        return None
    if call.qualname is None:
        return None
    qualname = call.qualname.rpartition(".")[0] + "." + name
    if qualname not in apis.FUNCTIONS:
        return None
    func = call.node.func
    if isinstance(func, ast.Attribute) and module.qualname(func.value) == qualname.rpartition(".")[0]:
        return module.text(func.value) + "." + name, None
    return module.spell(qualname)


def stable_call(module: Module, op: str, framework: str) -> tuple[str, Import | None] | None:
    """Spell the framework's stable ``op`` (see ``apis.STABLE``), or None where the framework has none."""
    qualname = apis.stable(op, framework)
    return module.spell(qualname) if qualname else None


def movable(module: Module, node: ast.AST, to: ast.AST) -> bool:
    """Whether ``node`` (an expression assigned earlier) evaluates to the same value at ``to``: every name in it
    is bound at most once in its scope and it calls nothing but framework operations. An expression already
    inside ``to`` stays where it is, so it always qualifies."""
    if any(ancestor is to for ancestor in module.ancestors(node)):
        return True
    if module.scope_node(node) is not module.scope_node(to):
        return False
    scope = module.scope(module.scope_node(node))
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and len(scope.bindings.get(child.id, ())) > 1:
            return False
        if isinstance(child, ast.Call) and module.op(child) is None:
            return False
        if isinstance(child, ast.NamedExpr):
            return False
    return True

"""Scopes and bindings: which names a function or module binds, and where.

A scope records every binding of every name in it (assignments, parameters, loop targets, imports, defs), without
looking into nested functions, classes, lambdas or comprehensions, which are scopes of their own. Data flow in the
rules is deliberately simple: a name is followed to its value only when the scope binds it exactly once.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

SCOPE_NODES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp, ast.DictComp,
           ast.GeneratorExp)


@dataclass
class Binding:
    """One binding of a name: ``value`` is the assigned expression for a plain ``name = value``, else None."""

    node: ast.AST
    value: ast.expr | None
    line: int


@dataclass
class Scope:
    node: ast.AST
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    params: frozenset[str] = frozenset()

    def single(self, name: str) -> Binding | None:
        found = self.bindings.get(name)
        return found[0] if found is not None and len(found) == 1 else None


def _bind_target(scope: Scope, target: ast.expr, stmt: ast.AST, value: ast.expr | None) -> None:
    if isinstance(target, ast.Name):
        scope.bindings.setdefault(target.id, []).append(Binding(stmt, value, stmt.lineno))
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _bind_target(scope, element, stmt, None)
    elif isinstance(target, ast.Starred):
        _bind_target(scope, target.value, stmt, None)


def build_scope(node: ast.AST) -> Scope:
    """Collect the bindings of the scope opened by ``node`` (module, function, lambda or class)."""
    scope = Scope(node)
    body: list[ast.AST]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        args = node.args
        names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
        scope.params = frozenset(names)
        for name in names:
            scope.bindings.setdefault(name, []).append(Binding(node, None, node.lineno))
        body = [node.body] if isinstance(node, ast.Lambda) else list(node.body)
    else:
        body = list(getattr(node, "body", []))
    stack = body[::-1]
    while stack:
        child = stack.pop()
        if isinstance(child, ast.Assign):
            value = child.value if len(child.targets) == 1 else None
            for target in child.targets:
                _bind_target(scope, target, child, value)
        elif isinstance(child, ast.AnnAssign) and child.value is not None:
            _bind_target(scope, child.target, child, child.value)
        elif isinstance(child, ast.AugAssign):
            _bind_target(scope, child.target, child, None)
        elif isinstance(child, ast.NamedExpr):
            _bind_target(scope, child.target, child, child.value)
        elif isinstance(child, (ast.For, ast.AsyncFor)):
            _bind_target(scope, child.target, child, None)
        elif isinstance(child, ast.withitem) and child.optional_vars is not None:
            _bind_target(scope, child.optional_vars, child.context_expr, None)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            for alias in child.names:
                name = alias.asname or alias.name.partition(".")[0]
                scope.bindings.setdefault(name, []).append(Binding(child, None, child.lineno))
        elif isinstance(child, ast.ExceptHandler) and child.name:
            scope.bindings.setdefault(child.name, []).append(Binding(child, None, child.lineno))
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope.bindings.setdefault(child.name, []).append(Binding(child, None, child.lineno))
            stack.extend(child.decorator_list)
            continue
        if isinstance(child, _NESTED):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(child))))
    return scope

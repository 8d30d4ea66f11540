"""One walk over a module that indexes what the semantic view needs: nodes by type, parents, calls by the name
they call, and the bindings of every scope.

A scope records every binding of every name in it (assignments, parameters, loop targets, imports, defs).
Functions, lambdas, classes and comprehensions open scopes of their own, as in Python. Data flow in the rules is
deliberately simple: a name is followed to its value only when its scope binds it exactly once.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

PARENT = "_lossling_parent"  # the parent of a node made outside the tree (a probe); tree nodes: Index.parents
SCOPE_NODES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_VALUED = (ast.Assign, ast.AnnAssign, ast.NamedExpr)


class Binding:
    """One binding of a name: ``value`` is the assigned expression for a plain ``name = value``, else None."""

    __slots__ = ("node", "value", "line")

    def __init__(self, node: ast.AST, value: ast.expr | None, line: int) -> None:
        self.node, self.value, self.line = node, value, line

    def __repr__(self) -> str:
        return f"Binding({type(self.node).__name__}, line {self.line})"


@dataclass
class Scope:
    node: ast.AST
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    params: frozenset[str] = frozenset()

    def bind(self, name: str, node: ast.AST, value: ast.expr | None) -> None:
        self.bindings.setdefault(name, []).append(Binding(node, value, getattr(node, "lineno", 0)))

    def single(self, name: str) -> Binding | None:
        found = self.bindings.get(name)
        return found[0] if found is not None and len(found) == 1 else None


@dataclass
class Index:
    nodes: dict[type, list[ast.AST]]
    scopes: dict[int, Scope]
    calls: dict[str, list[ast.Call]]  # by the last name of the callee: "log" for torch.log(x) and x.log()
    # id(node) -> its parent. A dict, not an attribute on the node: the tree (flake8's, in the plugin) stays free of
    # reference cycles and is freed the moment its owner drops it, without waiting for the cyclic collector.
    parents: dict[int, ast.AST]


def callee_name(func: ast.expr) -> str:
    """The last name of what is called: ``torch.log`` -> "log", ``f`` -> "f"."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return "()"  # a call of a call's result: nn.BCELoss()(p, y)


def call_argument(call: ast.Call, positional: list[str], name: str) -> ast.expr | None:
    """What ``call`` passes for the parameter ``name`` (``positional``: the parameters that can be passed by
    position, in order), by keyword or by position; None when not passed or hidden behind a ``*args``."""
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    if name in positional:
        index = positional.index(name)
        if index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[:index + 1]):
            return call.args[index]
    return None


def _bind_name(scope: Scope, name: ast.Name, parent: ast.AST) -> None:
    value = None
    if isinstance(parent, ast.Assign):
        value = parent.value if len(parent.targets) == 1 and parent.targets[0] is name else None
    elif isinstance(parent, (ast.AnnAssign, ast.NamedExpr)):
        value = parent.value
    scope.bind(name.id, parent if isinstance(parent, ast.stmt) else name, value)


# Fields that never hold a child worth indexing: names and flags, and the shared singleton contexts and operators
# (ast.Load(), ast.Add(), ...), which have no single parent.
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "id", "attr", "name", "arg", "asname", "module", "level", "is_async",
                          "simple", "kind", "conversion", "type_comment", "type_ignores"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
# The nodes that bind names or open scopes (everything else only passes its scope on to its children).
_BINDING_NODES = frozenset({*_FUNCTIONS, ast.ClassDef, *_COMPREHENSIONS, ast.Import, ast.ImportFrom,
                            ast.ExceptHandler})


_LAST_FIRST: dict[type, tuple[str, ...]] = {}  # the same fields, last first: pushed so, they pop in source order


def _child_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        fields = _CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f not in _LEAF_FIELDS)
        _LAST_FIRST[kind] = fields[::-1]
    return fields


def build_index(tree: ast.Module) -> Index:
    """Walk ``tree`` once, in source order (pre-order), recording each node's parent (``Index.parents``).

    Context and operator nodes (``ast.Load``, ``ast.Add``, ...) are shared singletons: they are not indexed and get
    no parent. This is the one walk every checked file pays for, so it avoids generic helpers in its loop."""
    nodes: dict[type, list[ast.AST]] = defaultdict(list)
    root = Scope(tree)
    scopes: dict[int, Scope] = {id(tree): root}
    calls: dict[str, list[ast.Call]] = defaultdict(list)
    parents: dict[int, ast.AST] = {}
    stack: list[tuple[Any, Scope]] = [(tree, root)]  # Any: the loop narrows by type(node), which mypy cannot follow
    pop, push, AST, Name, Call, Load, Constant = (stack.pop, stack.append, ast.AST, ast.Name, ast.Call, ast.Load,
                                                  ast.Constant)
    last_first = _LAST_FIRST
    while stack:
        node, scope = pop()
        kind = type(node)
        nodes[kind].append(node)
        if kind is Name:
            if type(node.ctx) is not Load:
                _bind_name(scope, node, parents[id(node)])
            continue
        if kind is Constant:
            continue
        inner = scope
        outer_fields: tuple[str, ...] = ()
        if kind is Call:
            func = node.func
            calls[func.id if type(func) is Name else callee_name(func)].append(node)
        elif kind not in _BINDING_NODES:
            pass
        elif kind in _FUNCTIONS:
            if kind is not ast.Lambda:
                scope.bind(node.name, node, None)
            inner = scopes[id(node)] = Scope(node)
            args = node.args
            params = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
            params += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
            for name in params:
                inner.bind(name, node, None)
            inner.params = frozenset(params)
            outer_fields = ("decorator_list", "returns")
        elif kind is ast.ClassDef:
            scope.bind(node.name, node, None)
            inner = scopes[id(node)] = Scope(node)
            outer_fields = ("decorator_list", "bases", "keywords")
        elif kind in _COMPREHENSIONS:
            inner = scopes[id(node)] = Scope(node)
        elif kind is ast.Import or kind is ast.ImportFrom:
            for alias in node.names:
                scope.bind(alias.asname or alias.name.partition(".")[0], node, None)
        elif kind is ast.ExceptHandler and node.name:
            scope.bind(node.name, node, None)
        fields = last_first.get(kind)
        if fields is None:
            _child_fields(kind)
            fields = last_first[kind]
        for name in fields:  # children pushed last first, so they are visited (and bindings listed) in source order
            value = getattr(node, name)
            if type(value) is list:
                child_scope = scope if name in outer_fields else inner
                for item in reversed(value):
                    if isinstance(item, AST):
                        parents[id(item)] = node
                        push((item, child_scope))
            elif value is not None and isinstance(value, AST):
                parents[id(value)] = node
                push((value, scope if name in outer_fields else inner))
    return Index(nodes, scopes, calls, parents)

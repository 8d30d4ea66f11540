"""Reaching definitions: for every name a function (or the module body) reads, the definitions that can reach it.

One walk per scope, in execution order, computed the first time a rule asks about a name in that scope. Branches
join (``if``/``else``, ``try``, ``match``), loops iterate until nothing changes (twice is enough in practice; a bound
stops pathological nesting), and ``return``/``raise``/``break``/``continue`` end a path. A definition is any way a
name gets a new value:

* ``x = v``, ``x: T = v``, ``(x := v)``, tuple unpacking (element-wise where the value is a tuple literal),
  ``for x in it``, ``with e as x``, ``except E as x``, imports, ``def``/``class``, parameters;
* ``x op= v`` (its previous definitions are kept on the ``Def``);
* in-place mutation: ``x[i] = v``, ``x[i] op= v``, a method ending in ``_`` (``x.mul_(2)``, ``x.clamp_(min=1)``,
  ``x.masked_fill_(m, 0)``), ``.copy_``, ``.zero_``, ``out=x``, a part of ``x`` (``x[a:b]``) handed to a function
  held in a local name or to a kernel launch (a buffer filled in place). Facts about the old value die there, and no
  fix may move an expression across it. The mutation also reaches names the mutated one was copied from without a copy
  (``v = w`` or a view ``v = w.view(-1)``): mutating ``v`` mutates ``w``.

Each walk also records the conditions known to hold at every statement (``if``/``while`` tests, ``assert``, and the
negation of a test whose branch ended the path: ``if n == 0: return``), so guards are one lookup away.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from .scopes import _CHILD_FIELDS, _child_fields

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_SCOPES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_NESTED = frozenset({*_COMPREHENSIONS, ast.Lambda})  # expressions with names of their own
_AST, _Name, _Load, _Constant, _Call = ast.AST, ast.Name, ast.Load, ast.Constant, ast.Call
# Methods whose name ends in "_" but that do not mutate their receiver.
_NOT_IN_PLACE = frozenset({"__call__", "_"})
# Methods that return a view of their receiver (mutating the view mutates the receiver).
VIEWS = frozenset({"view", "view_as", "reshape", "squeeze", "unsqueeze", "transpose", "permute", "t", "expand",
                   "expand_as", "flatten", "narrow", "select", "diagonal", "unflatten", "detach", "data", "T",
                   "mT", "real", "imag"})
_MAX_ROUNDS = 3  # loop iterations before giving up on a fixed point (the lattice is finite and shallow)


class Def:
    """One definition of a name. ``kind``: assign, unpack, aug, param, for, with, mutate, import, def, except,
    comp (a comprehension target), free (declared global/nonlocal, or anything not followed).

    ``value`` is the assigned expression (assign), the iterable (for, comp), the context manager (with), the
    whole unpacked value (unpack, element ``index``), the default (param), the written value (mutate through
    ``x[i] = v``). ``node`` is the statement or call that defines. ``prev`` holds the definitions an ``aug`` or
    ``mutate`` builds on."""

    __slots__ = ("name", "kind", "node", "value", "index", "prev", "scope")

    def __init__(self, name: str, kind: str, node: ast.AST, value: ast.expr | None = None, index: int | None = None,
                 prev: frozenset[Def] = frozenset(), scope: ast.AST | None = None) -> None:
        self.name, self.kind, self.node, self.value, self.index, self.prev = name, kind, node, value, index, prev
        self.scope = scope

    def __repr__(self) -> str:
        return f"Def({self.name!r}, {self.kind}, line {getattr(self.node, 'lineno', 0)})"


Env = dict  # name -> frozenset[Def]; treated as immutable (copied on write), so snapshots can be shared
Condition = tuple  # (test expression, polarity: True where the test holds, False where it does not)


@dataclass
class Flow:
    """The result of one scope's walk."""

    scope: ast.AST
    reach: dict[int, frozenset[Def]] = field(default_factory=dict)  # id(Name load) -> definitions
    before: dict[int, Env] = field(default_factory=dict)  # id(statement) -> definitions reaching its start
    conditions: dict[int, tuple[Condition, ...]] = field(default_factory=dict)  # id(statement) -> what holds
    defs: dict[str, list[Def]] = field(default_factory=dict)  # every definition made in the scope, by name
    uses: dict[int, dict[int, ast.Name]] = field(default_factory=dict)  # id(Def) -> the loads it reaches
    mutations: dict[int, Def] = field(default_factory=dict)  # id(call or statement) -> its mutation Def
    params: dict[str, Def] = field(default_factory=dict)


class _Stop(Exception):
    """A path ended (return, raise, break, continue)."""


def _join(a: Env | None, b: Env | None) -> Env | None:
    if a is None:
        return b
    if b is None or a is b:
        return a
    joined = dict(a)
    for name, defs in b.items():
        mine = joined.get(name)
        joined[name] = defs if mine is None else (mine | defs if mine is not defs else mine)
    return joined


class _Walker:
    def __init__(self, scope: ast.AST, outer_free: Iterable[str] = ()) -> None:
        self.flow = Flow(scope)
        self.loops: list[tuple[list[Env], list[Env]]] = []  # (continue envs, break envs)
        self.free = set(outer_free)  # global/nonlocal names: never followed
        self.made: dict[tuple, Def] = {}  # one Def per definition site, however often a loop walks it

    # ----- definitions -------------------------------------------------------------------------------------
    def define(self, env: Env, d: Def) -> Env:
        key = (id(d.node), d.name, d.kind, d.index)
        known = self.made.get(key)
        if known is None:
            self.made[key] = d
            self.flow.defs.setdefault(d.name, []).append(d)
            if d.name in self.free:
                d.kind = "free"
        else:
            known.prev = known.prev | d.prev  # a loop's second walk: more definitions reach an aug or mutation
            d = known
        return {**env, d.name: frozenset((d,))}

    def once(self, d: Def) -> Def:
        """The Def an earlier walk (of a loop) made at ``d``'s site, else ``d``: a site keeps one Def, so the uses
        recorded for it stay its own (a Def dropped for a new one left its uses to whatever Def reused its id)."""
        return self.made.setdefault((id(d.node), d.name, d.kind, d.index), d)

    def mutate(self, env: Env, name: str, node: ast.AST, value: ast.expr | None = None) -> Env:
        """``name`` changed in place at ``node``; so did every name it aliases (plain copies and views)."""
        seen: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            prev = env.get(current, frozenset())
            env = self.define(env, Def(current, "mutate", node, value, prev=prev, scope=self.flow.scope))
            if current == name:
                self.flow.mutations.setdefault(id(node), next(iter(env[current])))
            for old in prev:
                base = alias_base(old.value) if old.kind == "assign" else None
                if base is not None:
                    todo.append(base)
        return env

    # ----- expressions -------------------------------------------------------------------------------------
    def read(self, env: Env, node: ast.AST | None) -> Env:
        """Record the loads in expression ``node``; returns the environment after its walrus bindings and
        in-place method calls."""
        if node is None:
            return env
        mutated: list[tuple[str, ast.Call]] = []
        stack: list[ast.AST] = [node]
        pop, push = stack.pop, stack.append
        reach, uses, fields_of = self.flow.reach, self.flow.uses, _CHILD_FIELDS  # the loop runs once per node
        while stack:
            current = pop()
            kind = type(current)
            if kind is _Name:
                if type(current.ctx) is _Load:  # type: ignore[attr-defined]
                    defs = env.get(current.id)  # type: ignore[attr-defined]
                    if defs is not None:  # else not bound here: a global, a builtin, a closure's name (see Facts)
                        reach[id(current)] = defs
                        for d in defs:
                            uses.setdefault(id(d), {})[id(current)] = current  # type: ignore[assignment]
                continue
            if kind is _Constant:
                continue
            if kind in _NESTED:
                self.read_nested(env, current)
                continue
            if kind is ast.NamedExpr:
                env = self.read(env, current.value)  # type: ignore[attr-defined]
                target = current.target  # type: ignore[attr-defined]
                env = self.define(env, Def(target.id, "assign", current, current.value,  # type: ignore[attr-defined]
                                           scope=self.flow.scope))
                continue
            if kind is _Call:
                func = current.func  # type: ignore[attr-defined]
                if isinstance(func, ast.Attribute) and in_place(func.attr):
                    root = root_name(func.value)
                    base = _leftmost(func.value)
                    if base is not None and _is_import(env, base):  # torch.nn.init.zeros_(w): the argument
                        args = current.args  # type: ignore[attr-defined]
                        root = root_name(args[0]) if args else None
                    if root is not None:
                        mutated.append((root, current))  # type: ignore[arg-type]
                call: ast.Call = current  # type: ignore[assignment]
                mutated.extend((root, call) for root in _written_through(env, call))
            for field in fields_of.get(kind) or _child_fields(kind):
                value = getattr(current, field)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, _AST):
                            push(item)
                elif isinstance(value, _AST):
                    push(value)
        for name, call in mutated:
            env = self.mutate(env, name, call)
        return env

    def load(self, env: Env, name: ast.Name) -> None:
        defs = env.get(name.id)
        if defs is None:
            return  # not bound here: a global, a builtin, or a closure's name (see Facts)
        self.flow.reach[id(name)] = defs
        for d in defs:
            self.flow.uses.setdefault(id(d), {})[id(name)] = name

    def read_nested(self, env: Env, node: ast.AST) -> None:
        """A comprehension or lambda: its own targets shadow; other loads see ``env`` at this point."""
        inner = dict(env)
        if isinstance(node, ast.Lambda):
            for arg in _arguments(node.args):
                inner[arg.arg] = frozenset((self.once(Def(arg.arg, "param", arg, scope=node)),))
            self.read(inner, node.body)
            return
        for generator in node.generators:  # type: ignore[attr-defined]
            self.read(inner, generator.iter)
            for target in _targets(generator.target):
                inner[target.id] = frozenset((self.once(Def(target.id, "comp", generator, generator.iter,
                                                            scope=node)),))
            for test in generator.ifs:
                self.read(inner, test)
        for part in ("elt", "key", "value"):
            self.read(inner, getattr(node, part, None))

    # ----- targets -----------------------------------------------------------------------------------------
    def assign(self, env: Env, target: ast.AST, value: ast.expr | None, stmt: ast.AST, kind: str = "assign",
               index: int | None = None) -> Env:
        if isinstance(target, ast.Name):
            return self.define(env, Def(target.id, kind, stmt, value, index, scope=self.flow.scope))
        if isinstance(target, (ast.Tuple, ast.List)):
            literal = value if isinstance(value, (ast.Tuple, ast.List)) and kind == "assign" and len(
                value.elts) == len(target.elts) and not any(isinstance(e, ast.Starred) for e in value.elts) else None
            for i, element in enumerate(target.elts):
                if literal is not None:
                    env = self.assign(env, element, literal.elts[i], stmt)
                else:
                    env = self.assign(env, element, value, stmt, "unpack" if kind == "assign" else kind, i)
            return env
        if isinstance(target, ast.Starred):
            return self.assign(env, target.value, value, stmt, "unpack" if kind == "assign" else kind)
        if isinstance(target, ast.Subscript):
            env = self.read(env, target.value)
            env = self.read(env, target.slice)
            root = root_name(target.value)
            return self.mutate(env, root, stmt, value) if root is not None else env
        if isinstance(target, ast.Attribute):
            return self.read(env, target.value)
        return env

    # ----- statements --------------------------------------------------------------------------------------
    def block(self, env: Env | None, body: list[ast.stmt], conds: tuple[Condition, ...]) -> Env | None:
        """Walk statements; None when every path through them ended."""
        for stmt in body:
            if env is None:
                return None
            self.flow.before[id(stmt)] = env
            self.flow.conditions[id(stmt)] = conds
            try:
                env, conds = self.statement(env, stmt, conds)
            except _Stop:
                return None
        return env

    def statement(self, env: Env, stmt: ast.stmt, conds: tuple[Condition, ...]) -> tuple[Env | None, tuple]:
        kind = type(stmt)
        if kind is ast.Assign:
            env = self.read(env, stmt.value)  # type: ignore[attr-defined]
            for target in stmt.targets:  # type: ignore[attr-defined]
                env = self.assign(env, target, stmt.value, stmt)  # type: ignore[attr-defined]
        elif kind is ast.AnnAssign:
            env = self.read(env, stmt.value)  # type: ignore[attr-defined]
            if stmt.value is not None:  # type: ignore[attr-defined]
                env = self.assign(env, stmt.target, stmt.value, stmt)  # type: ignore[attr-defined]
        elif kind is ast.AugAssign:
            env = self.read(env, stmt.value)  # type: ignore[attr-defined]
            target = stmt.target  # type: ignore[attr-defined]
            if isinstance(target, ast.Name):
                prev = env.get(target.id, frozenset())
                self.load(env, target)
                env = self.define(env, Def(target.id, "aug", stmt, stmt.value, prev=prev,  # type: ignore[attr-defined]
                                           scope=self.flow.scope))
            else:
                env = self.assign(env, target, stmt.value, stmt)  # type: ignore[attr-defined]
        elif kind is ast.Expr:
            env = self.read(env, stmt.value)  # type: ignore[attr-defined]
        elif kind is ast.Return:
            self.read(env, stmt.value)  # type: ignore[attr-defined]
            raise _Stop
        elif kind is ast.Raise:
            self.read(env, stmt.exc)  # type: ignore[attr-defined]
            raise _Stop
        elif kind in (ast.Break, ast.Continue):
            if self.loops:
                self.loops[-1][1 if kind is ast.Break else 0].append(env)
            raise _Stop
        elif kind is ast.If:
            test = stmt.test  # type: ignore[attr-defined]
            env = self.read(env, test)
            then = self.block(env, stmt.body, conds + ((test, True),))  # type: ignore[attr-defined]
            orelse = self.block(env, stmt.orelse, conds + ((test, False),))  # type: ignore[attr-defined]
            if then is None and orelse is not None:
                conds = conds + ((test, False),)  # if bad: return ... -> the rest runs where the test failed
            elif orelse is None and then is not None and stmt.orelse:  # type: ignore[attr-defined]
                conds = conds + ((test, True),)
            env = _join(then, orelse)  # type: ignore[assignment]
        elif kind is ast.Assert:
            env = self.read(env, stmt.test)  # type: ignore[attr-defined]
            conds = conds + ((stmt.test, True),)  # type: ignore[attr-defined]
        elif kind in (ast.For, ast.AsyncFor):
            env = self.read(env, stmt.iter)  # type: ignore[attr-defined]
            env = self.loop(env, stmt, conds, lambda e: self.assign(e, stmt.target, stmt.iter,  # type: ignore
                                                                     stmt, "for"))
        elif kind is ast.While:
            env = self.read(env, stmt.test)  # type: ignore[attr-defined]
            env = self.loop(env, stmt, conds + ((stmt.test, True),), lambda e: self.read(e, stmt.test))  # type: ignore
        elif kind in (ast.With, ast.AsyncWith):
            for item in stmt.items:  # type: ignore[attr-defined]
                env = self.read(env, item.context_expr)
                if item.optional_vars is not None:
                    env = self.assign(env, item.optional_vars, item.context_expr, stmt, "with")
            env = self.block(env, stmt.body, conds)  # type: ignore[attr-defined,assignment]
            if env is None:
                raise _Stop
        elif kind in (ast.Try, getattr(ast, "TryStar", ast.Try)):
            env = self.try_(env, stmt, conds)  # type: ignore[assignment,arg-type]
        elif kind is ast.Match:
            env = self.read(env, stmt.subject)  # type: ignore[attr-defined]
            result: Env | None = env
            for case in stmt.cases:  # type: ignore[attr-defined]
                inner = env
                for capture in _pattern_names(case.pattern):
                    inner = self.define(inner, Def(capture, "free", case, scope=self.flow.scope))
                inner = self.read(inner, case.guard)
                result = _join(result, self.block(inner, case.body, conds))
            env = result  # type: ignore[assignment]
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            for decorator in stmt.decorator_list:  # type: ignore[attr-defined]
                env = self.read(env, decorator)
            if kind is ast.ClassDef:
                for base in (*stmt.bases, *(k.value for k in stmt.keywords)):  # type: ignore[attr-defined]
                    env = self.read(env, base)
            else:
                for default in (*stmt.args.defaults, *stmt.args.kw_defaults):  # type: ignore[attr-defined]
                    env = self.read(env, default)
            env = self.define(env, Def(stmt.name, "def", stmt, scope=self.flow.scope))  # type: ignore[attr-defined]
        elif kind in (ast.Import, ast.ImportFrom):
            for alias in stmt.names:  # type: ignore[attr-defined]
                if alias.name != "*":
                    name = alias.asname or alias.name.partition(".")[0]
                    env = self.define(env, Def(name, "import", stmt, scope=self.flow.scope))
        elif kind in (ast.Global, ast.Nonlocal):
            for name in stmt.names:  # type: ignore[attr-defined]
                self.free.add(name)
                env = self.define(env, Def(name, "free", stmt, scope=self.flow.scope))
        elif kind is ast.Delete:
            for target in stmt.targets:  # type: ignore[attr-defined]
                if isinstance(target, ast.Name):
                    env = {k: v for k, v in env.items() if k != target.id}
                else:
                    env = self.read(env, target)
        else:  # pass, type aliases, anything newer
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.expr):
                    env = self.read(env, child)
        return env, conds

    def loop(self, env: Env, stmt: ast.For | ast.AsyncFor | ast.While, conds: tuple, head) -> Env | None:
        """Iterate the body from the loop head until the definitions reaching the head stop growing."""
        entry = env
        breaks: list[Env] = []
        for _ in range(_MAX_ROUNDS):
            self.loops.append(([], breaks))
            start = head(entry)
            end = self.block(start, stmt.body, conds)
            continues, _ = self.loops.pop()
            back = entry
            for other in (end, *continues):
                back = _join(back, other)  # type: ignore[assignment]
            if _same(back, entry):
                break
            entry = back
        exit_env = self.block(entry, stmt.orelse, conds) if stmt.orelse else entry
        for other in breaks:
            exit_env = _join(exit_env, other)
        return exit_env

    def try_(self, env: Env, stmt: ast.Try, conds: tuple) -> Env | None:
        body = self.block(env, stmt.body, conds)
        handlers_in = _join(env, body)  # an exception can come from any point: before or after the body
        result = self.block(body, stmt.orelse, conds) if body is not None else None
        for handler in stmt.handlers:
            inner = self.read(handlers_in, handler.type) if handlers_in is not None else None
            if inner is not None and handler.name:
                inner = self.define(inner, Def(handler.name, "except", handler, scope=self.flow.scope))
            result = _join(result, self.block(inner, handler.body, conds))
        if stmt.finalbody:
            result = self.block(result if result is not None else handlers_in, stmt.finalbody, conds)
        return result


def _leftmost(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _written_through(env: Env, call: ast.Call) -> Iterator[str]:
    """The local names ``call`` can write into: the one passed as ``out=``, and the one a part of which
    (``x[a:b]``, ``x.view(-1)``) is handed to a function held in a local name or a kernel launch
    (``fold(acc[i:j])``, ``kernel[grid](out[i:j])``): that is how buffers are filled in place."""
    func = call.func
    local = isinstance(func, (ast.Subscript, ast.Call)) or (isinstance(func, ast.Name) and not _is_import(
        env, func.id))
    for keyword in call.keywords:
        if keyword.arg == "out" or (local and _part(keyword.value)):
            root = root_name(keyword.value)
            if root is not None:
                yield root
    if local:
        for arg in call.args:
            root = root_name(arg) if _part(arg) else None
            if root is not None:
                yield root


def _part(node: ast.AST) -> bool:
    """``x[i]``, ``x.view(-1)``: an expression that can share storage with a name, not the name itself."""
    return not isinstance(node, ast.Name) and root_name(node) is not None


def _is_import(env: Env, name: str) -> bool:
    defs = env.get(name)
    return defs is None or all(d.kind == "import" for d in defs)  # unbound here: a module-level import


def _same(a: Env | None, b: Env | None) -> bool:
    if a is b:
        return True
    if a is None or b is None or a.keys() != b.keys():
        return False
    return all(a[k] == b[k] for k in a)


def _arguments(args: ast.arguments) -> list[ast.arg]:
    found = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    found += [a for a in (args.vararg, args.kwarg) if a is not None]
    return found


def _targets(node: ast.AST) -> Iterator[ast.Name]:
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            yield child


def _pattern_names(pattern: ast.AST) -> Iterator[str]:
    for child in ast.walk(pattern):
        name = getattr(child, "name", None) if isinstance(child, (ast.MatchAs, ast.MatchStar)) else None
        if name:
            yield name
        if isinstance(child, ast.MatchMapping) and child.rest:
            yield child.rest


def in_place(method: str) -> bool:
    """``mul_``, ``clamp_``, ``copy_``, ``zero_``: PyTorch's in-place methods end in one underscore."""
    return method.endswith("_") and not method.startswith("_") and method not in _NOT_IN_PLACE


def root_name(node: ast.AST) -> str | None:
    """``x`` for ``x``, ``x[i]``, ``x.data``, ``x[i].view(-1)``: the local name whose value an expression is part
    of (attributes of other objects, ``self.w``, are not followed)."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Attribute) and node.attr in VIEWS:
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in VIEWS:
            node = node.func.value
        else:
            return None


def alias_base(value: ast.AST | None) -> str | None:
    """The name ``v`` shares storage with when assigned ``value``: ``w`` for ``w``, ``w.view(-1)``, ``w[0]``."""
    if isinstance(value, ast.Name):
        return value.id
    if isinstance(value, ast.Subscript) or (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                                            and value.func.attr in VIEWS) or (
            isinstance(value, ast.Attribute) and value.attr in VIEWS):
        return root_name(value)
    return None


def analyze(scope: ast.AST) -> Flow:
    """Walk one scope (a module, function or lambda body)."""
    walker = _Walker(scope)
    env: Env = {}
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        defaults = _defaults(scope.args)
        for arg in _arguments(scope.args):
            d = Def(arg.arg, "param", arg, defaults.get(id(arg)), scope=scope)
            walker.flow.params[arg.arg] = d
            walker.flow.defs.setdefault(arg.arg, []).append(d)
            env[arg.arg] = frozenset((d,))
        if not isinstance(scope, ast.Lambda):  # global/nonlocal declarations apply to the whole function (nested
            walker.free.update(_declared(scope.body))  # functions' ones too: they only stop following)
    body = scope.body if isinstance(scope.body, list) else [ast.Return(value=scope.body)]  # type: ignore[attr-defined]
    walker.block(env, body, ())
    return walker.flow


def _defaults(args: ast.arguments) -> dict[int, ast.expr | None]:
    """id(parameter) -> its default, for the parameters that have one."""
    positional = [*args.posonlyargs, *args.args]
    found: dict[int, ast.expr | None] = {id(a): d for a, d in zip(positional[len(positional) - len(args.defaults):],
                                                                   args.defaults)}
    found.update((id(a), d) for a, d in zip(args.kwonlyargs, args.kw_defaults))
    return found


# The fields of a statement that hold statements (a global/nonlocal declaration is a statement: expressions,
# which are most of a tree, need no search).
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _declared(body: list[ast.stmt]) -> Iterator[str]:
    """The names declared global or nonlocal anywhere in these statements, nested functions included."""
    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            yield from node.names
            continue
        for name in _BODIES:
            inner = getattr(node, name, None)
            if type(inner) is list:
                todo.extend(inner)

"""The semantic view of one parsed file: what every rule sees.

``Module`` wraps a stdlib ``ast`` tree (the one flake8 already holds, or the engine's own parse) and answers the
questions rules ask: which framework operation a call is (through any import alias, method form or module
instance), what a name was assigned, whether a value can be a tensor, what a constant evaluates to, and how to
spell a replacement with the file's own imports. Everything is computed lazily and cached, so a rule pays only
for what it asks.
"""

from __future__ import annotations

import ast
import math
import os
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterator, TypeVar, overload

from .. import collector
from ..finding import Import, Span
from . import apis
from .facts import TENSOR_ONLY, Facts, project_path
from .scopes import PARENT, SCOPE_NODES, Index, Scope, build_index, callee_name

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_Node = TypeVar("_Node", bound=ast.AST)
_Other = TypeVar("_Other", bound=ast.AST)
_Third = TypeVar("_Third", bound=ast.AST)
_Found = TypeVar("_Found", bound="ast.AST | None")
_LIST_METHODS = frozenset({"sort", "count", "index", "copy"})  # methods Python's own containers have too
# The keywords that pass an op its input (``torch.log(input=x)``, ``tf.reduce_sum(input_tensor=x)``).
INPUT_KEYWORDS = ("input", "input_tensor", "x", "logits", "features", "a", "tensor", "inputs")
_NEWLINE = re.compile(r"\r\n|\r|\n")
# Methods whose result is a tensor when their receiver is one (dtype, device and layout changes).
_INF_NAMES = {"math.inf", "numpy.inf", "numpy.infty", "torch.inf", "jax.numpy.inf"}


@dataclass(frozen=True)
class OpCall:
    """A call recognised as a framework operation.

    ``kind`` is "function" (``torch.log(x)``), "method" (``x.log()``, receiver in ``receiver``) or "module" (an
    instance of ``nn.Sigmoid()``/``nn.BCELoss()``/a Keras loss class called on tensors; its constructor call is
    ``ctor``).
    """

    op: str
    framework: str
    node: ast.Call
    kind: str
    qualname: str | None = None
    receiver: ast.expr | None = None
    ctor: ast.Call | None = None

    def arg(self, index: int, *names: str) -> ast.expr | None:
        """Argument by position in the function's signature (the receiver of a method is position 0) or keyword."""
        for keyword in self.node.keywords:
            if keyword.arg in names:
                return keyword.value
        if self.receiver is not None:
            if index == 0:
                return self.receiver
            index -= 1
        args = self.node.args
        if index < len(args) and not any(isinstance(a, ast.Starred) for a in args[: index + 1]):
            return args[index]
        return None

    @property
    def input(self) -> ast.expr | None:
        return self.arg(0, *INPUT_KEYWORDS)

    def keyword(self, name: str) -> ast.expr | None:
        """A keyword of the call, or of the constructor for module instances (``nn.Softmax(dim=1)``)."""
        for call in (self.node, self.ctor):
            if call is not None:
                for keyword in call.keywords:
                    if keyword.arg == name:
                        return keyword.value
        return None


@dataclass(frozen=True)
class Arith:
    """Arithmetic in any spelling (``apis.OPERATOR_METHODS``/``OPERATOR_FUNCTIONS``): ``a + b``, ``a.add(b)``,
    ``torch.add(a, b)``, ``-a``, ``a.neg()``. ``op`` is the ``ast`` operator class (``ast.Add``, ``ast.Sub``,
    ``ast.Mult``, ``ast.Div``, ``ast.Pow``; ``ast.USub`` for a negation, whose ``right`` is None); ``inplace`` marks
    ``x.add_(b)``, which also changes ``x``."""

    op: type
    left: ast.expr
    right: ast.expr | None
    node: ast.expr
    inplace: bool = False


_OPERATORS = {"add": ast.Add, "sub": ast.Sub, "mul": ast.Mult, "div": ast.Div, "pow": ast.Pow, "neg": ast.USub}
_FIRST = ("input", "x", "x1", "a", "self")
_SECOND = ("other", "y", "x2", "b", "exponent")


class Module:
    """One file, parsed once, with imports resolved and bindings indexed on demand."""

    def __init__(self, tree: ast.Module, source: str, path: str = "<stdin>") -> None:
        self.tree = tree
        self.source = source
        self.path = path
        self._imports: dict[str, str] | None = None
        self._imported_names: frozenset[str] | None = None
        self._qualnames: dict[int, str | None] = {}
        self._ops: dict[str, list[OpCall]] = {}
        self._opcalls: dict[int, OpCall | None] = {}
        self._ariths: dict[int, Arith | None] = {}
        self._built: Index | None = None
        self._module_calls: dict[str, set[str]] | None = None
        self._class_attrs: dict[int, dict[str, list[ast.expr | None]]] | None = None
        self._facts: Facts | None = None
        self.consulted: set[str] = set()  # project files a value was read from (the result cache keys on them)
        self._cached: dict[str, object] = {}

    @cached_property
    def lines(self) -> list[str]:
        """The source's lines (split when first asked: most files need no text of a node)."""
        return split_lines(self.source)

    def cached(self, key: str) -> Any:
        """A per-file result a semantic helper stored under ``key`` (None when not computed yet)."""
        return self._cached.get(key)

    def cache(self, key: str, value: Any) -> Any:
        self._cached[key] = value
        return value

    @property
    def facts(self) -> Facts:
        """The value analysis of this file (``facts.py``): every rule's questions about values go there."""
        if self._facts is None:
            self._facts = Facts(self)
        return self._facts

    def release(self) -> None:
        """Drop the value analysis, which refers back to this module: the file's objects are then freed by
        reference counting as soon as the module is dropped, not by a pass of the cyclic collector over them."""
        self._facts = None
        self._cached.clear()

    # ----- traversal -------------------------------------------------------------------------------------------
    def _index(self) -> Index:
        if self._built is None:
            self._built = build_index(self.tree)
        return self._built

    @overload
    def nodes(self, kind: type[_Node], /) -> list[_Node]: ...

    @overload
    def nodes(self, kind: type[_Node], other: type[_Other], /) -> list[_Node | _Other]: ...

    @overload
    def nodes(self, kind: type[_Node], other: type[_Other], third: type[_Third], /) -> list[_Node | _Other | _Third]:
        ...

    def nodes(self, *types: type[ast.AST]) -> list[Any]:
        """Every node of the given types, in source order."""
        index = self._index().nodes
        if len(types) == 1:
            return index.get(types[0], [])
        return sorted((n for t in types for n in index.get(t, [])), key=_position)

    def parent(self, node: ast.AST) -> ast.AST | None:
        found = self._index().parents.get(id(node))
        return found if found is not None else getattr(node, PARENT, None)  # a probe built outside the tree

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        parent = self.parent(node)
        get = self._index().parents.get
        while parent is not None:
            yield parent
            parent = get(id(parent))

    def scope_node(self, node: ast.AST) -> ast.AST:
        """The function, lambda or module whose local names ``node`` sees (class bodies are skipped, as in Python)."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Module)):
                return ancestor
        return self.tree

    def function(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return ancestor
        return None

    def enclosing_class(self, node: ast.AST) -> ast.ClassDef | None:
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, ast.ClassDef):
                return ancestor
        return None

    def scope(self, node: ast.AST) -> Scope:
        """The bindings of the scope ``node`` opens (module, function, lambda, class or comprehension)."""
        return self._index().scopes[id(node)]

    # ----- imports and qualified names ------------------------------------------------------------------------
    @property
    def imports(self) -> dict[str, str]:
        """Local name -> qualified name, for the imports at module level."""
        if self._imports is None:
            self._imports = {}
            for bindings in self.scope(self.tree).bindings.values():
                for binding in bindings:
                    _add_imports(binding.node, self._imports)
        return self._imports

    @property
    def frameworks(self) -> set[str]:
        """The framework roots this file imports (torch, tensorflow, keras, jax, flax)."""
        return {q.partition(".")[0] for q in self.imports.values()} & apis.FRAMEWORK_ROOTS

    @property
    def frameworks_and_numpy(self) -> set[str]:
        """The array libraries this file imports: the frameworks, and numpy."""
        return {q.partition(".")[0] for q in self.imports.values()} & (apis.FRAMEWORK_ROOTS | {"numpy"})

    def qualname(self, node: ast.expr) -> str | None:
        """``F.log_softmax`` -> ``torch.nn.functional.log_softmax`` through the file's imports, else None."""
        key = id(node)
        if key in self._qualnames:
            return self._qualnames[key]
        result = None
        if isinstance(node, ast.Name):
            result = self._import_of(node)
        elif isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            if base is not None:
                result = f"{base}.{node.attr}"
        self._qualnames[key] = result
        return result

    def _import_of(self, name: ast.Name) -> str | None:
        if name.id not in self._imported():
            return None  # most names: no import in the file binds them, so no scope need be looked up
        scope_node = self.scope_node(name)
        if not isinstance(scope_node, ast.Module):
            bindings = self.scope(scope_node).bindings.get(name.id)
            if bindings:
                local: dict[str, str] = {}
                for binding in bindings:
                    if not isinstance(binding.node, (ast.Import, ast.ImportFrom)):
                        return None
                    _add_imports(binding.node, local)
                return local.get(name.id)
        if self._comprehension_binds(name):
            return None
        qualname = self.imports.get(name.id)
        if qualname is not None:
            for binding in self.scope(self.tree).bindings.get(name.id, ()):
                if isinstance(binding.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    return None
        return qualname

    def _imported(self) -> frozenset[str]:
        """The names an import binds, in any scope of the file."""
        if self._imported_names is None:
            found = set()
            for scope in self._index().scopes.values():
                for name, bindings in scope.bindings.items():
                    for binding in bindings:
                        if isinstance(binding.node, (ast.Import, ast.ImportFrom)):
                            found.add(name)
                            break
            self._imported_names = frozenset(found)
        return self._imported_names

    def _comprehension_binds(self, name: ast.Name) -> bool:
        for ancestor in self.ancestors(name):
            if isinstance(ancestor, _COMPREHENSIONS):
                if name.id in self.scope(ancestor).bindings:
                    return True
            elif isinstance(ancestor, SCOPE_NODES):
                return False
        return False

    # ----- operations -----------------------------------------------------------------------------------------
    def op(self, node: ast.AST | None) -> OpCall | None:
        """The framework operation ``node`` calls, or None."""
        if not isinstance(node, ast.Call):
            return None
        key = id(node)
        if key not in self._opcalls:
            self._opcalls[key] = self._resolve_op(node)
        return self._opcalls[key]

    def _resolve_op(self, node: ast.Call, names: tuple[str, ...] = ()) -> OpCall | None:
        """The op ``node`` calls; with ``names``, only a method that is one of them is asked about its receiver
        (the others' answer is None here, not cached: ``op_of`` would drop them)."""
        func = node.func
        qualname = self.qualname(func)
        if qualname is not None:
            api = apis.FUNCTIONS.get(qualname)
            if api is not None and api.kind == "function":
                return OpCall(api.op, api.framework, node, "function", qualname)
            if api is not None:
                return None  # constructing a module (nn.Sigmoid()) is not applying it
        ctor = self.resolve(func)
        if isinstance(ctor, ast.Call):
            ctor_name = self.qualname(ctor.func)
            api = apis.FUNCTIONS.get(ctor_name) if ctor_name else None
            if api is not None and api.kind == "module":
                return OpCall(api.op, api.framework, node, "module", ctor_name, ctor=ctor)
        if isinstance(func, ast.Attribute) and qualname is None:
            op = apis.TENSOR_METHODS.get(func.attr)
            if op is not None and (not names or op in names) and self._array_receiver(func):
                return OpCall(op, self._method_framework(), node, "method", receiver=func.value)
        return None

    def _array_receiver(self, func: ast.Attribute) -> bool:
        """Whether ``x.op(...)`` is an array method: a method only tensors have, or a receiver that holds a tensor
        or array, or one of unknown kind (lists, numbers and strings have none of these methods)."""
        receiver = self.facts.value(func.value)
        if func.attr in TENSOR_ONLY and "torch" in self.frameworks and receiver.kind not in ("other", "number"):
            return True
        return receiver.tensor or (receiver.kind is None and func.attr not in _LIST_METHODS and bool(
            self.frameworks))

    def _method_framework(self) -> str:
        frameworks = self.frameworks
        for root, name in (("torch", "torch"), ("jax", "jax"), ("tensorflow", "tf")):
            if root in frameworks:
                return name
        return "numpy"

    def arith(self, node: ast.AST | None) -> Arith | None:
        """``node`` as arithmetic, whichever way it is spelled (see ``Arith``), or None."""
        if isinstance(node, ast.BinOp):
            return Arith(type(node.op), node.left, node.right, node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return Arith(ast.USub, node.operand, None, node)
        if not isinstance(node, ast.Call):
            return None
        key = id(node)
        if key not in self._ariths:
            self._ariths[key] = self._call_arith(node)
        return self._ariths[key]

    def _call_arith(self, node: ast.Call) -> Arith | None:
        func = node.func
        qualname = self.qualname(func)
        if qualname is not None:
            operator = apis.OPERATOR_FUNCTIONS.get(qualname)
            if operator is None:
                return None
            operands = _operands(node, 1 if operator == "neg" else 2, None)
            if operands is None:
                return None
            if operator == "rsub":  # torch.rsub(a, b) is b - a
                return Arith(ast.Sub, operands[1], operands[0], node)
            return Arith(_OPERATORS[operator], operands[0], operands[1] if len(operands) > 1 else None, node)
        if not isinstance(func, ast.Attribute):
            return None
        inplace = func.attr.endswith("_") and not func.attr.endswith("__")
        operator = apis.OPERATOR_METHODS.get(func.attr[:-1] if inplace else func.attr)
        if operator is None or not self.frameworks:
            return None
        operands = _operands(node, 0 if operator == "neg" else 1, func.value)
        if operands is None:
            return None  # known from the call's shape: its receiver's value is not needed
        receiver = self.facts.value(func.value)
        if receiver.kind in ("other", "number") or (
                operator == "add" and not inplace and not receiver.tensor and isinstance(self.parent(node), ast.Expr)):
            return None  # a set's s.add(x), used as a statement
        return Arith(_OPERATORS[operator], operands[0], operands[1] if len(operands) > 1 else None, node, inplace)

    def ops(self, *names: str) -> list[OpCall]:
        """Every call of the given ops in the file, in source order."""
        found: list[OpCall] = []
        for name in names:
            if name not in self._ops:
                self._ops[name] = [c for c in (self.op(call) for call in self._candidates(name))
                                   if c is not None and c.op == name]
            found.extend(self._ops[name])
        if len(names) > 1:
            found.sort(key=lambda c: _position(c.node))
        return found

    def calls_named(self, *names: str) -> list[ast.Call]:
        """Every call whose callee's last name is one of ``names`` (``compile`` for ``model.compile(...)``,
        ``KLDivLoss`` for ``nn.KLDivLoss()``), in source order: a cheap way to find constructors and methods."""
        calls = self._index().calls
        found = [call for name in names for call in calls.get(name, ())]
        if len(names) > 1:
            found.sort(key=_position)
        return found

    def _candidates(self, op: str) -> list[ast.Call]:
        """Calls that can be ``op``: by the name they call (``log``, ``reduce_sum``), or through a name bound
        to a module instance of that op (``self.act = nn.Sigmoid()`` ... ``self.act(x)``)."""
        calls = self._index().calls
        names = set(apis.SPELLINGS.get(op, ())) | {"()"}
        names |= {n for n, ops in self._module_instances().items() if op in ops}
        found = [call for name in names for call in calls.get(name, ())]
        found.sort(key=_position)
        return found

    def _module_instances(self) -> dict[str, set[str]]:
        """Names and attributes assigned a module instance (``nn.Sigmoid()``), with the ops they compute."""
        if self._module_calls is None:
            self._module_calls = {}
            for node in self.nodes(ast.Assign):
                value = node.value
                if isinstance(value, ast.Call) and callee_name(value.func) in apis.MODULE_CLASSES:
                    api = apis.FUNCTIONS.get(self.qualname(value.func) or "")
                    if api is not None and api.kind == "module":
                        for target in node.targets:
                            if isinstance(target, (ast.Name, ast.Attribute)):
                                self._module_calls.setdefault(callee_name(target), set()).add(api.op)
        return self._module_calls

    def op_of(self, node: ast.AST | None, *names: str, follow: bool = True) -> OpCall | None:
        """The op ``node`` computes if it is one of ``names``, following a name to its single assignment."""
        target = self.resolve(node) if follow else node
        if names and isinstance(target, ast.Call) and id(target) not in self._opcalls:
            found = self._resolve_op(target, names)  # a method of another op: its receiver's value is not needed
            if found is not None:
                self._opcalls[id(target)] = found  # an op found is the whole answer
        else:
            found = self.op(target)
        if found is not None and (not names or found.op in names):
            return found
        return None

    # ----- data flow ------------------------------------------------------------------------------------------
    def binding_value(self, name: ast.Name) -> ast.expr | None:
        """The value assigned by the one definition that reaches this use of ``name`` (None when several
        reach it, or it was bound otherwise: a parameter, a loop target, an in-place change)."""
        if isinstance(getattr(name, "ctx", None), ast.Store):  # the target itself: the value it is given here
            parent = self.parent(name)
            if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and getattr(
                    parent, "targets", [getattr(parent, "target", None)]) == [name]:
                return parent.value
            return None
        found = self.facts.unique(name)
        if found is None or found.kind != "assign" or found.value is None or found.value is name:
            return None
        return found.value

    def attribute_value(self, node: ast.Attribute) -> ast.expr | None:
        """``self.act`` -> the value of the one ``self.act = ...`` in the class's methods."""
        if not self.facts.is_receiver(node.value):
            return None
        cls = self.enclosing_class(node)
        if cls is None:
            return None
        values = self.instance_assignments(cls, node.attr)
        return values[0] if len(values) == 1 else None

    def instance_assignments(self, cls: ast.ClassDef, attr: str, depth: int = 4) -> list[ast.expr | None]:
        """The values the methods of ``cls`` and of its base classes in this file assign ``self.attr`` (None for
        one that is not a plain assignment): a subclass reads what its base's ``__init__`` set."""
        found = list(self._self_assignments().get(id(cls), {}).get(attr, ()))
        if depth > 0:
            for base in cls.bases:
                local = self.facts.unique(base) if isinstance(base, ast.Name) else None
                if local is not None and isinstance(local.node, ast.ClassDef) and local.node is not cls:
                    found += self.instance_assignments(local.node, attr, depth - 1)
        return found

    def _self_assignments(self) -> dict[int, dict[str, list[ast.expr | None]]]:
        """Per class: every ``self.x = ...`` (and ``self.x += ...``) in its methods, with the assigned value when it
        is a plain single-target assignment. One pass over the file's assignments, for all classes at once."""
        if self._class_attrs is None:
            self._class_attrs = {}
            for stmt in self.nodes(ast.Assign, ast.AnnAssign, ast.AugAssign):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and self.facts.is_receiver(target.value):
                        cls = self.enclosing_class(stmt)
                        if cls is not None:
                            value = stmt.value if isinstance(stmt, ast.Assign) and len(targets) == 1 else None
                            self._class_attrs.setdefault(id(cls), {}).setdefault(target.attr, []).append(value)
        return self._class_attrs

    def resolve(self, node: _Found, depth: int = 8) -> _Found | ast.expr:
        """Follow names and ``self`` attributes to the single expression they were assigned."""
        found: _Found | ast.expr = node
        while depth > 0:
            if isinstance(found, ast.Name):
                value = self.binding_value(found)
            elif isinstance(found, ast.Attribute):
                value = self.attribute_value(found)
            else:
                return found
            if value is None:
                return found
            found, depth = value, depth - 1
        return found

    # ----- tensors --------------------------------------------------------------------------------------------
    def is_tensor(self, node: ast.AST | None) -> bool:
        """Whether ``node`` holds a framework tensor or an array, as the value analysis derives it."""
        return node is not None and self.facts.value(node).tensor

    def project_function(self, func: ast.expr) -> tuple[Facts, ast.AST] | None:
        """The module-level function a name imported from one of the project's own modules refers to
        (``from .ops import bce``, ``from model import *``), with that module's facts."""
        found = self._project_binding(func)
        if found is None:
            return None
        other, target = found
        for candidate in other.tree.body:
            if isinstance(candidate, (ast.FunctionDef, ast.AsyncFunctionDef)) and candidate.name == target:
                return other.facts, candidate
        return None

    def project_definitions(self, name: ast.expr) -> tuple[Facts, list] | None:
        """The module-level definitions of a name imported from one of the project's own modules
        (``from .config import EPS``), with that module's facts."""
        found = self._project_binding(name)
        if found is None:
            return None
        other, target = found
        flow = other.facts.flow_of(other.tree)
        defs = flow.defs.get(target) if flow is not None else None
        return (other.facts, defs) if defs else None

    def _project_binding(self, node: ast.expr) -> tuple[Module, str] | None:
        if not isinstance(node, ast.Name) or self.path in ("<stdin>", "-", ""):
            return None
        name = node.id
        for stmt in self.tree.body:
            if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" or (a.asname or a.name) == name
                                                        for a in stmt.names):
                target = next((a.name for a in stmt.names if (a.asname or a.name) == name), name)
                path = project_path(self.path, stmt, target)
                other = load_project_module(path) if path else None
                if other is not None and other is not self:
                    self.consulted.add(other.path)
                    return other, target
        return None

    # ----- values ---------------------------------------------------------------------------------------------
    def const(self, node: ast.AST | None, depth: int = 16) -> float | None:
        """The numeric value of a constant expression (literals, arithmetic, ``float('inf')``, constant names).
        ``depth`` bounds the recursion: names can cycle (``n = n + 1``, ``self.k = k; k = self.k + 1``)."""
        if depth <= 0:
            return None
        node = self.resolve(node, depth=3)
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return None
            try:
                return float(value)
            except OverflowError:  # an int beyond float range: 10**400
                return None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.const(node.operand, depth - 1)
            return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
        if isinstance(node, ast.BinOp):
            left, right = self.const(node.left, depth - 1), self.const(node.right, depth - 1)
            if left is None or right is None:
                return None
            try:
                return _ARITH[type(node.op)](left, right)
            except (KeyError, ZeroDivisionError, OverflowError, ValueError, TypeError):  # TypeError: (-1) ** 0.5
                return None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                try:
                    return float(arg.value)
                except ValueError:
                    return None
        if isinstance(node, ast.Attribute) and self.qualname(node) in _INF_NAMES:
            return math.inf
        return None

    # ----- source ---------------------------------------------------------------------------------------------
    def text(self, node: ast.AST) -> str:
        """The exact source text of ``node``."""
        start = self.span(node)
        if start.line == start.end_line:
            return self.lines[start.line - 1][start.col:start.end_col]
        parts = [self.lines[start.line - 1][start.col:]]
        parts += self.lines[start.line:start.end_line - 1]
        parts.append(self.lines[start.end_line - 1][:start.end_col])
        return "\n".join(parts)

    def span(self, node: ast.AST) -> Span:
        """``node``'s position with character (not byte) columns."""
        line, end = getattr(node, "lineno"), getattr(node, "end_lineno")
        return Span(line, self._char_col(line, getattr(node, "col_offset")),
                    end, self._char_col(end, getattr(node, "end_col_offset")))

    def _char_col(self, line: int, byte_col: int) -> int:
        text = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        if text.isascii():
            return byte_col
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    def spell(self, qualname: str) -> tuple[str, Import | None] | None:
        """How to write ``qualname`` here: through the longest imported prefix, or with an import to add (None
        when that import's name is already taken by something else in the file)."""
        best: tuple[int, str] | None = None
        for local, target in self.imports.items():
            if (qualname == target or qualname.startswith(target + ".")) and (best is None or len(target) > best[0]):
                best = (len(target), local + qualname[len(target):])
        if best is not None:
            return best[1], None
        root = qualname.partition(".")[0]
        short = {"tensorflow": "tf", "numpy": "np"}.get(root)
        if short:
            spelled, needed = short + qualname[len(root):], Import(root, None, short)
        elif root in apis.FRAMEWORK_ROOTS or qualname.count(".") == 1:
            spelled, needed = qualname, Import(root)
        else:
            spelled, needed = qualname, Import(qualname.rpartition(".")[0])
        bound = needed.alias or needed.module.partition(".")[0]
        if bound in self.scope(self.tree).bindings:
            return None
        return spelled, needed


def _operands(call: ast.Call, count: int, receiver: ast.expr | None) -> list[ast.expr] | None:
    """The operands of an operator call: the receiver (for a method) and ``count`` arguments, by position or by
    their keywords, and nothing else but TensorFlow's ``name=``. None for any other argument (``alpha=``,
    ``out=``, ``rounding_mode=``), which makes the call more than the operator."""
    if any(isinstance(a, ast.Starred) for a in call.args) or len(call.args) > count:
        return None
    found: list[ast.expr | None] = [*([receiver] if receiver is not None else []), *call.args]
    found += [None] * (count + (receiver is not None) - len(found))
    names = (_SECOND,) if receiver is not None else (_FIRST, _SECOND)[:count]
    for keyword in call.keywords:
        slot = next((i for i, spellings in enumerate(names) if keyword.arg in spellings), None)
        if keyword.arg == "name":
            continue
        if slot is None:
            return None
        slot += receiver is not None
        if found[slot] is not None:
            return None
        found[slot] = keyword.value
    operands = [operand for operand in found if operand is not None]
    return operands if len(operands) == len(found) else None


_ARITH = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: float(a ** b),
}


_PROJECT_MODULES: dict[str, tuple[tuple[int, int], Module | None]] = {}  # the most recently used last
# Project modules kept parsed (the most recently used): the modules a project's files import are mostly a few
# shared ones (on the benchmark's corpus 8 kept parse 52 times, all of them 47), and each is ~10^4 objects.
# They are frozen (``collector``); one dropped is released first, so reference counting frees it.
_KEEP = 8


def load_project_module(path: str) -> Module | None:
    """A project module read for a function summary: parsed again only when its size or mtime changed or it is no
    longer among the last ``_KEEP`` used."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    stamp = (stat.st_size, stat.st_mtime_ns)
    cached = _PROJECT_MODULES.pop(path, None)
    if cached is not None and cached[0] == stamp:
        _PROJECT_MODULES[path] = cached
        return cached[1]
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
        module: Module | None = Module(ast.parse(text), text, path)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
        module = None
    _PROJECT_MODULES[path] = (stamp, module)
    collector.keep()
    if len(_PROJECT_MODULES) > _KEEP:
        _, dropped = _PROJECT_MODULES.pop(next(iter(_PROJECT_MODULES)))
        if dropped is not None:
            dropped.release()  # freed by reference counting, not left to a full pass of the collector
    return module


def split_lines(source: str) -> list[str]:
    """Lines as Python counts them (only \\n, \\r\\n and \\r end a line; str.splitlines also splits at \\f)."""
    return _NEWLINE.split(source)


def _add_imports(node: ast.AST, into: dict[str, str]) -> None:
    """Record what an import statement binds: ``import a.b as c`` -> c: a.b; ``import a.b`` -> a: a."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            root = alias.name.partition(".")[0]
            into.setdefault(alias.asname or root, alias.name if alias.asname else root)
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
        for alias in node.names:
            if alias.name != "*":
                into.setdefault(alias.asname or alias.name, f"{node.module}.{alias.name}")


def _position(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)

"""The value analysis every rule asks: facts about an expression's value, derived from the code alone.

``Facts(module).value(node)`` gives a ``Value`` (kind, dtype, bounds, can-it-be-0, role, gradient, origin) for
any expression, computed on demand and cached per file. It reads:

* data flow (``dataflow``): a name's value is the join of every definition that reaches the use, refined by the
  conditions that hold there (``if n > 0:``, ``assert``, an early ``return``, a ``where``/conditional branch);
* transfer rules per framework operation (``apis`` names every spelling of an op once): ``softmax`` gives
  probabilities in [0, 1] that rounding can make 0, a comparison gives a mask, the sum of a mask a count that an
  empty mask makes 0, ``x + eps`` with ``x >= 0`` something never 0 as long as eps survives the dtype;
* evidence for parameters and unknown calls: annotations, defaults, methods only tensors have and framework ops
  the value is handed to (``x.sigmoid()``, ``torch.log(x)``: ``x`` is a tensor), and the values passed at the
  call sites of the function in the same file;
* summaries: a call of a function defined in the file, or imported from one of the project's own modules, has
  the value of its returns with the arguments bound to its parameters (two calls deep).

Names are never evidence. Besides ``value``, the queries rules need: ``tested`` (a condition on the value or its
ingredients dominates the node), ``repaired`` (the result is cleaned of NaN/inf right after), ``gradient`` (a
gradient can flow here), ``definitions``/``unique`` (data flow for fixes) and ``same_at`` (no name of an
expression changed between two points: the precondition of moving it).
"""

from __future__ import annotations

import ast
import math
import os
from typing import Callable, Iterable, Iterator

from . import apis, dataflow, objectives
from .dataflow import Def, Flow
from .scopes import call_argument, callee_name
from .values import (BOTTOM, FLOATS, TENSORS, UNKNOWN, Value, Zero, constant, float_dtype, join_all, promote,
                     rounded, survives, widen)

_MAX_DEPTH = 40  # nested evaluation (a long chain of names); deeper is unknown
_CALL_DEPTH = 2  # function summaries followed through this many calls
_FRAMEWORK_KIND = {"torch": "torch", "tf": "tf", "tf1": "tf", "keras": "keras", "jax": "jax", "numpy": "numpy",
                   "scipy": "numpy"}
# Methods only framework tensors have (NumPy arrays and Python numbers do not): calling one makes the receiver a
# tensor of the file's framework.
TENSOR_ONLY = frozenset({
    "sigmoid", "softmax", "log_softmax", "logsumexp", "backward", "detach", "unsqueeze", "numel", "clamp",
    "clamp_min", "clamp_max", "masked_fill", "log", "exp", "log1p", "expm1", "sqrt", "rsqrt", "relu", "float",
    "double", "half", "bfloat16", "long", "bool", "cuda", "to", "type_as", "new_zeros", "new_ones", "new_full",
    "new_tensor", "isnan", "isinf", "isfinite", "abs", "pow", "div", "mul", "sub", "true_divide",
    "logical_not", "gather", "index_select", "masked_select", "permute", "contiguous", "requires_grad_", "dim",
    "size", "norm", "square", "neg", "reciprocal", "sign", "nan_to_num", "topk", "softplus", "tanh", "cosh",
    "xlogy", "nansum", "nanmean", "count_nonzero", "amax", "amin", "log2", "log10", "view_as", "expand_as",
    "expand", "flip", "roll", "cumsum", "masked_fill_", "clamp_", "zero_", "mul_", "add_", "div_", "sub_",
    "copy_", "fill_", "clamp_min_", "exp_", "log_", "sqrt_",
})
_CASTS = {"float": "f32", "double": "f64", "half": "f16", "bfloat16": "bf16", "long": "int", "int": "int",
          "short": "int", "bool": "bool", "byte": "int", "char": "int"}
_DTYPES = {"float16": "f16", "half": "f16", "bfloat16": "bf16", "float32": "f32", "float": "f32", "float64": "f64",
           "double": "f64", "int64": "int", "int32": "int", "int16": "int", "int8": "int", "uint8": "int",
           "long": "int", "int": "int", "bool": "bool", "bool_": "bool"}
_FINFO = {"f16": (9.765625e-04, 6.103515625e-05, 65504.0), "bf16": (7.8125e-3, 1.1754943508222875e-38, 3.39e38),
          "f32": (1.1920928955078125e-07, 1.1754943508222875e-38, 3.4028234663852886e38),
          "f64": (2.220446049250313e-16, 2.2250738585072014e-308, 1.7976931348623157e308)}
# exp underflows to 0 below this argument, and sigmoid saturates to 1 above the second (float32: e**-103.97 is
# below the smallest subnormal; 1 - sigmoid(16.7) rounds to 0).
_EXP_UNDERFLOW = {"f16": -17.3, "bf16": -92.0, "f32": -103.9, "f64": -745.0}
# exp overflows to inf above this argument (the log of the dtype's largest finite value), cosh above the second.
_EXP_OVERFLOW = {"f16": 11.08, "bf16": 88.7, "f32": 88.72, "f64": 709.78}
_COSH_OVERFLOW = {"f16": 11.77, "bf16": 89.4, "f32": 89.41, "f64": 710.47}
_SIGMOID_ONE = {"f16": 7.6, "bf16": 5.5, "f32": 16.6, "f64": 36.7}
_ANNOTATIONS = {"torch.Tensor": "torch", "torch.nn.Parameter": "torch", "tensorflow.Tensor": "tf",
                "tensorflow.Variable": "tf", "jax.Array": "jax", "jax.numpy.ndarray": "jax", "numpy.ndarray": "numpy",
                "keras.KerasTensor": "keras"}
_NUMBER_TYPES = {"float": "f64", "int": "int", "bool": "bool"}
_NO_GRAD = frozenset({"no_grad", "inference_mode", "stop_gradient"})
# Framework functions that make trainable state from a name and a shape (a gradient flows out of what they make).
_TRAINABLE = frozenset({"get_variable", "get_local_variable", "model_variable", "variable"})
_NO_GRAD_LIBRARIES = frozenset({"torch", "tensorflow", "keras", "torchmetrics", "ignite", "optax", "flax"})
_NO_GRAD_BASES = frozenset({"Metric", "Constraint", "Optimizer", "MetricCollection"})
_REPAIRS = frozenset({"nan_to_num", "nansum", "nanmean"})
_NAN_TESTS = frozenset({"isnan", "isinf", "isfinite"})
# Tests of these say nothing about a value (``x.dim() == 2``, ``x.dtype == ...``); sizes (len, shape, numel) do:
# ``if len(sel) > 0`` guards a mean of ``sel``.
_STRUCTURE = frozenset({"dtype", "device", "ndim", "dim", "is_cuda", "requires_grad", "layout", "names"})
_MODEL_BASES = ("torch.nn.Module", "torch.nn.modules.module.Module", "keras.Model", "keras.layers.Layer",
                "tensorflow.keras.Model", "tensorflow.keras.layers.Layer", "keras.Layer", "flax.linen.Module",
                "tensorflow.Module")


class Frame:
    """Parameter values bound at one call of a function (a summary's context)."""

    __slots__ = ("function", "values", "depth")

    def __init__(self, function: ast.AST, values: dict[str, Value], depth: int) -> None:
        self.function, self.values, self.depth = function, values, depth


class Facts:
    """Lazily computed value facts for one ``Module`` (see the module docstring)."""

    def __init__(self, module: "Module") -> None:  # type: ignore[name-defined]  # noqa: F821
        self.module = module
        self._flows: dict[int, Flow] = {}
        self._values: dict[tuple[int, int], Value] = {}
        self._defs: dict[tuple[int, int], Value] = {}
        self._params: dict[int, Value] = {}
        self._evidence: dict[int, str | None] = {}
        self._depth = 0
        self._frames: dict[tuple[int, int], Frame] = {}
        self._calls_of: dict[int, list[ast.Call]] | None = None
        self._assumed: dict[tuple[int, int], Value] = {}
        self._scopes: dict[int, ast.AST | None] = {}
        self._fed: set[tuple[int, int]] = set()  # pending definitions read while pending (a loop feeds them)

    # ===== data flow ==========================================================================================
    def flow_of(self, node: ast.AST) -> Flow | None:
        """The walk that records ``node``'s loads: its function's, or the module's (class bodies have none)."""
        scope = self._flow_scope(node)
        if scope is None:
            return None
        key = id(scope)
        flow = self._flows.get(key)
        if flow is None:
            flow = self._flows[key] = dataflow.analyze(scope)
        return flow

    def _flow_scope(self, node: ast.AST) -> ast.AST | None:
        """The function (or module) whose walk covers ``node``; None inside a class body. Cached for the
        ancestors passed on the way, so a file pays about one walk up per statement."""
        cache = self._scopes
        found = cache.get(id(node), _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        passed = [node]
        result: ast.AST | None = self.module.tree
        for ancestor in self.module.ancestors(node):
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                result = ancestor
                break
            if isinstance(ancestor, ast.ClassDef):
                result = None
                break
            known = cache.get(id(ancestor), _MISSING)
            if known is not _MISSING:
                result = known  # type: ignore[assignment]
                break
            passed.append(ancestor)
        for seen in passed:
            cache[id(seen)] = result
        return result

    def definitions(self, name: ast.Name) -> frozenset[Def]:
        """The definitions that can reach this load of ``name`` (empty: a builtin, a global not assigned in the
        file, or a class-body name). A closure's or a global's name reaches with every definition it has in its
        own scope."""
        flow = self.flow_of(name)
        if flow is not None:
            found = flow.reach.get(id(name))
            if found is not None:
                return found
        # not bound in its own scope: look outwards, flow-insensitively
        scope = self._flow_scope(name)
        while scope is not None and not isinstance(scope, ast.Module):
            scope = self._flow_scope(scope)
            outer = self.flow_of(scope) if scope is not None and not isinstance(scope, ast.Module) else None
            if outer is not None and name.id in outer.defs:
                return frozenset(outer.defs[name.id])
        top = self.flow_of(self.module.tree)
        return frozenset(top.defs.get(name.id, ())) if top is not None else frozenset()

    def uses(self, node: ast.AST) -> list[ast.AST] | None:
        """Where the value of ``node`` is read: ``node`` itself, read by its parent, or the loads its definition
        reaches when it is assigned to a plain name (``p = x.clamp(...)``); None when it is stored where the data
        flow does not follow (an attribute, a subscript, an unpacking)."""
        parent = self.module.parent(node)
        if not (isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and parent.value is node):
            return [node]
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        flow = self.flow_of(parent)
        if isinstance(parent, ast.NamedExpr) or len(targets) != 1 or not isinstance(targets[0], ast.Name) or (
                flow is None):
            return None
        made = [d for d in flow.defs.get(targets[0].id, ()) if d.node is parent]
        return [use for d in made for use in flow.uses.get(id(d), {}).values()] if made else None

    def unique(self, name: ast.Name) -> Def | None:
        defs = self.definitions(name)
        return next(iter(defs)) if len(defs) == 1 else None

    def statement(self, node: ast.AST) -> ast.stmt | None:
        for candidate in (node, *self.module.ancestors(node)):
            if isinstance(candidate, ast.stmt):
                return candidate
        return None

    def reaching_at(self, name: str, at: ast.AST) -> frozenset[Def] | None:
        """The definitions of ``name`` that reach the start of the statement holding ``at`` (None: not known)."""
        stmt = self.statement(at)
        flow = self.flow_of(at)
        if stmt is None or flow is None:
            return None
        env = flow.before.get(id(stmt))
        return None if env is None else env.get(name, frozenset())

    def same_at(self, expression: ast.AST, at: ast.AST) -> bool:
        """Whether ``expression`` (written at an earlier statement) still has the same value at ``at``, the
        precondition of a fix that moves it there: it calls nothing that could have side effects (only framework
        ops, casts and views), and no name in it, nor a name one of them aliases (``w = z``, ``w = z.view(-1)``),
        nor an attribute it reads (``self.w``), is reassigned or changed in place (``w.mul_(2)``, ``w[m] = 0``)
        on a path from it to ``at``."""
        return self.changed(expression, at) is None

    def changed(self, expression: ast.AST, at: ast.AST) -> str | None:
        """What makes ``expression`` differ at ``at`` (see ``same_at``), as words for a message ("`w` is
        reassigned or changed in place"), or None where it has the same value there."""
        flow = self.flow_of(expression)
        start, end = self.statement(expression), self.statement(at)
        if flow is None or flow is not self.flow_of(at) or start is None or end is None:
            return "it is computed in another scope"
        names: dict[str, frozenset[Def]] = {}
        for child in ast.walk(expression):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
                if self.module.qualname(child) is None:  # not a module: torch, F
                    names[child.id] = names.get(child.id, frozenset()) | flow.reach.get(id(child), frozenset())
            elif isinstance(child, ast.Call) and (self.module.op(child) is None and not self._pure_method(child) or (
                    isinstance(child.func, ast.Attribute) and dataflow.in_place(child.func.attr))):
                return f"`{self.module.text(child.func)}` may change something"  # or would run twice
            elif isinstance(child, ast.NamedExpr):
                return "it assigns a name"
            elif isinstance(child, ast.Attribute) and self.module.qualname(child) is None and _changed_attribute(
                    flow.scope, child):
                return f"`{self.module.text(child)}` is reassigned or changed in place"
        todo = list(names)
        while todo:  # w = z: an in-place change of z changes w
            for d in names[todo.pop()]:
                base = _alias_of(d.value) if d.kind == "assign" else None
                if base is not None and base not in names:
                    names[base] = self.reaching_at(base, d.node) or frozenset()
                    todo.append(base)
        for name, here in names.items():
            there = self.reaching_at(name, at)
            if there is None or there != here or not all(self._before_in_loop(d, start, end) for d in there):
                return f"`{name}` is reassigned or changed in place"
        return None

    def _before_in_loop(self, d: Def, start: ast.stmt, end: ast.stmt) -> bool:
        """Whether definition ``d``, which reaches both ``start`` and ``end``, cannot run between them. Equal
        definitions at both ends prove that except in a loop around ``start``: a definition in the loop may run
        after ``start`` and come round to ``end`` (``for ...: use(p); p = f(z); z = g()``). It cannot when it is
        written before ``start`` and ``end`` follows ``start`` in the same block (every path from ``start`` to
        ``end`` then runs the statements between them, and only them)."""
        loops = []
        for ancestor in self.module.ancestors(start):
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Module)):
                break
            if isinstance(ancestor, (ast.For, ast.AsyncFor, ast.While)):
                loops.append(ancestor)
        if not loops:
            return True
        inside = {id(d.node), *(id(a) for a in self.module.ancestors(d.node))}
        if not any(id(loop) in inside for loop in loops):
            return True
        written_before = (getattr(d.node, "lineno", 0), getattr(d.node, "col_offset", 0)) < (
            start.lineno, start.col_offset)
        return written_before and _follows(self.module, start, end)

    def _pure_method(self, call: ast.Call) -> bool:
        func = call.func
        return isinstance(func, ast.Attribute) and (func.attr in _CASTS or func.attr in dataflow.VIEWS)

    # ===== values =============================================================================================
    def value(self, node: ast.AST | None, frame: Frame | None = None) -> Value:
        """What is known about ``node``'s value (``frame``: inside a function summary)."""
        if node is None:
            return UNKNOWN
        key = (id(node), id(frame))
        found = self._values.get(key)
        if found is not None:
            return found
        if self._depth > _MAX_DEPTH:
            return UNKNOWN
        self._values[key] = UNKNOWN  # a cycle through names answers "unknown"
        self._depth += 1
        try:
            result = self._value(node, frame)
        finally:
            self._depth -= 1
        self._values[key] = result
        return result

    def _value(self, node: ast.AST, frame: Frame | None) -> Value:
        kind = type(node)
        if kind is ast.Constant:
            v = node.value  # type: ignore[attr-defined]
            if isinstance(v, bool):
                return Value("number", "bool", float(v), float(v), Zero.EXACT if not v else Zero.NEVER, Zero.EXACT,
                             None, False)
            if isinstance(v, (int, float)):
                try:
                    return constant(v)
                except OverflowError:
                    return Value("number", "int", grad=False)
            return Value("other", grad=False)
        if kind is ast.Name:
            return self._name(node, frame)  # type: ignore[arg-type]
        if kind is ast.Attribute:
            return self._attribute(node, frame)  # type: ignore[arg-type]
        if kind is ast.Subscript:
            return self._subscript(node, frame)  # type: ignore[arg-type]
        if kind is ast.BinOp:
            return self._binop(node, frame)  # type: ignore[arg-type]
        if kind is ast.UnaryOp:
            return self._unary(node, frame)  # type: ignore[arg-type]
        if kind is ast.Compare:
            sides = [self.value(n, frame) for n in (node.left, *node.comparators)]  # type: ignore[attr-defined]
            tensor = next((s.kind for s in sides if s.tensor), None)
            mask = _mask(tensor or ("number" if all(s.kind == "number" for s in sides) else None), None)
            return mask.but(role="hits") if _includes_extreme(self, node) else mask  # type: ignore[arg-type]
        if kind is ast.BoolOp:
            parts = [self.value(n, frame) for n in node.values]  # type: ignore[attr-defined]
            return join_all(parts)
        if kind is ast.IfExp:
            body = self._refined(node.body, self.value(node.body, frame), node.test, True, frame)  # type: ignore
            orelse = self._refined(node.orelse, self.value(node.orelse, frame), node.test, False,  # type: ignore
                                   frame)
            return body.join(orelse)
        if kind is ast.Call:
            return self._call(node, frame)  # type: ignore[arg-type]
        if kind is ast.NamedExpr:
            return self.value(node.value, frame)  # type: ignore[attr-defined]
        if kind is ast.Starred:
            return self.value(node.value, frame)  # type: ignore[attr-defined]
        if kind in (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.SetComp, ast.DictComp,
                    ast.GeneratorExp, ast.Lambda, ast.JoinedStr):
            return Value("other")
        return UNKNOWN

    # ----- names ----------------------------------------------------------------------------------------------
    def _name(self, node: ast.Name, frame: Frame | None) -> Value:
        module = self.module
        defs = self.definitions(node)
        if defs and all(d.kind == "import" for d in defs):  # from .config import EPS: the project module says
            found = module.project_definitions(node)
            if found is not None and (frame is None or frame.depth < _CALL_DEPTH):
                other, elsewhere = found
                return join_all([other.of_def(d) for d in elsewhere]).but(origin=None)
        qualname = module.qualname(node)
        if qualname is not None:
            return _qualified_constant(qualname)
        if not defs:
            return UNKNOWN
        if all(d.kind == "import" for d in defs):
            return Value("other", grad=False)
        joined = join_all([self.of_def(d, frame) for d in sorted(defs, key=_def_order)])
        return self._conditioned(node, joined, frame)

    def of_def(self, d: Def, frame: Frame | None = None) -> Value:
        """The value a definition gives its name."""
        if frame is not None and d.kind == "param" and d.scope is frame.function:
            bound = frame.values.get(d.name)
            if bound is not None:
                return bound
        key = (id(d), id(frame))
        found = self._defs.get(key)
        if found is _PENDING:  # a loop: the definition feeds itself; start from nothing and iterate
            self._fed.add(key)
            return self._assumed.get(key, BOTTOM)
        if found is not None:
            return found
        self._defs[key] = _PENDING
        marks = (len(self._values), len(self._defs))
        assumed = BOTTOM
        for round in range(3):
            self._assumed[key] = assumed
            result = self._of_def(d, frame)
            # Only a definition that fed itself is iterated: one that read another's assumption is redone when
            # that one iterates (its answer is forgotten with the others), and redoing it here would repeat every
            # inner round once per enclosing definition.
            if key not in self._fed or result == assumed:
                break
            self._fed.discard(key)
            assumed = result if round == 0 else widen(assumed, result)
            _forget(self._values, marks[0])  # answers computed from the assumption are redone next round
            _forget(self._defs, marks[1])
            self._defs[key] = _PENDING
        self._fed.discard(key)
        self._assumed.pop(key, None)
        if result.kind is None and d.kind in ("assign", "unpack", "param", "for", "with", "aug"):
            evidence = self._usage_kind(d)
            if evidence is not None:
                result = result.but(kind=evidence)
        self._defs[key] = result
        return result

    def _of_def(self, d: Def, frame: Frame | None) -> Value:
        kind = d.kind
        if kind == "assign":
            return self.value(d.value, frame)
        if kind == "param":
            return self._param(d)
        if kind == "aug":
            before = join_all([self.of_def(p, frame) for p in sorted(d.prev, key=_def_order)])
            return self._arith(d.node.op, before, self.value(d.value, frame), d.node, frame)  # type: ignore
        if kind == "mutate":
            return self._mutated(d, frame)
        if kind == "unpack":
            return self._element(d.value, d.index, frame)
        if kind == "for":
            return self._iterated(d.value, frame)
        if kind in ("def", "import"):
            return Value("other", grad=False)
        return UNKNOWN

    def _conditioned(self, node: ast.expr, value: Value, frame: Frame | None) -> Value:
        """``value`` refined by the conditions that hold where ``node`` is read."""
        for test, polarity in self.conditions(node):
            value = self._refined(node, value, test, polarity, frame)
        return value

    def conditions(self, node: ast.AST) -> Iterator[tuple[ast.expr, bool]]:
        """The tests known to hold (polarity True) or fail (False) at ``node``: enclosing ``if``/``while``
        tests, earlier ``assert``s and early exits, conditional-expression and ``where`` branches, ``and``/``or``
        operands before it."""
        child = node
        module = self.module
        for ancestor in module.ancestors(node):
            if isinstance(ancestor, ast.stmt):
                flow = self.flow_of(ancestor)
                if flow is not None:
                    yield from flow.conditions.get(id(ancestor), ())
                return
            if isinstance(ancestor, ast.IfExp) and child is not ancestor.test:
                yield ancestor.test, child is ancestor.body
            elif isinstance(ancestor, ast.BoolOp):
                for operand in ancestor.values:
                    if operand is child:
                        break
                    yield operand, isinstance(ancestor.op, ast.And)
            elif isinstance(ancestor, ast.Call) and callee_name(ancestor.func) in apis.SPELLINGS["where"]:
                call = module.op(ancestor)  # only a call spelled where: resolving a method asks its receiver's value
                if call is not None and call.op == "where":
                    cond, chosen, other = _where_args(call)
                    if cond is not None and child is chosen:
                        yield cond, True
                    elif cond is not None and child is other:
                        yield cond, False
            elif isinstance(ancestor, ast.comprehension):
                pass
            child = ancestor

    def _refined(self, node: ast.expr, value: Value, test: ast.expr, polarity: bool, frame: Frame | None) -> Value:
        """``value`` of ``node`` where ``test`` has truth value ``polarity``: ``x > 0``, ``x != 0``, ``not x``..."""
        if isinstance(test, ast.Name):
            d = self.unique(test)
            if d is not None and d.kind == "assign" and isinstance(d.value, ast.expr):
                test = d.value  # cond = x >= 0 ... where(cond, ...)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, (ast.Not, ast.Invert)):
            return self._refined(node, value, test.operand, not polarity, frame)
        if isinstance(test, ast.BoolOp) or isinstance(test, ast.BinOp) and isinstance(test.op, (ast.BitAnd, ast.BitOr)):
            conjunction = isinstance(test.op, (ast.And, ast.BitAnd))  # a & b: elementwise, as a and b
            if conjunction == polarity:  # every operand has this polarity
                for operand in (test.values if isinstance(test, ast.BoolOp) else (test.left, test.right)):
                    value = self._refined(node, value, operand, polarity, frame)
            return value
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            op, left, right = test.ops[0], test.left, test.comparators[0]
            if _same_value(self, right, node):
                op, left, right = _MIRROR.get(type(op), type(op))(), right, left
            if not _same_value(self, left, node):
                return value
            bound = self.value(right, frame)
            if bound.lo is None or bound.lo != bound.hi:
                return value
            return _bounded(value, type(op) if polarity else _NEGATED.get(type(op)), bound.lo)
        if polarity and _same_value(self, test, node) and not value.tensor:
            return value.but(zero=Zero.NEVER)  # if n: ... (a Python number)
        return value

    # ----- parameters -----------------------------------------------------------------------------------------
    def _param(self, d: Def) -> Value:
        """A parameter: its annotation, its default, and the values its call sites in this file pass."""
        arg = d.node
        function = d.scope
        if _receiver_param(self.module, function, arg):
            return Value("other", grad=False)  # self / cls
        found = UNKNOWN
        annotation = getattr(arg, "annotation", None)
        if annotation is not None:
            found = self._annotated(annotation)
        if found.kind in (None, "number") and d.value is not None:
            default = self.value(d.value)
            if default.kind == "number":  # the default says what the author expects (eps: float = 1e-8)
                found = default
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and (found.kind is None or (
                d.value is not None and found.kind == "number")):
            passed = self._passed(function, d.name)
            if passed is not None:
                found = passed if found.kind is None else found.join(passed)
        elif isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and found.tensor and d.value is None and (
                self._only_called(function)):
            passed = self._passed(function, d.name)  # x: np.ndarray: the annotation gives the kind, calls the values
            if passed is not None and passed.kind in (found.kind, None):
                found = passed.but(kind=found.kind)
        return found

    def _only_called(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """A function defined in another one whose name is only ever called there: its calls are all in view."""
        flow = self.flow_of(function)
        if flow is None or function.decorator_list or flow.scope is self.module.tree:
            return False
        uses = [use for d in flow.defs.get(function.name, ()) if d.node is function
                for use in flow.uses.get(id(d), {}).values()]
        return bool(uses) and all(_called(self.module, use) for use in uses)

    def _annotated(self, annotation: ast.expr) -> Value:
        module = self.module
        for node in ast.walk(annotation):
            if isinstance(node, (ast.Name, ast.Attribute)):
                qualname = module.qualname(node) or ""
                if qualname in _ANNOTATIONS or qualname.endswith(".Tensor") and qualname.startswith("torch"):
                    return Value(_ANNOTATIONS.get(qualname, "torch"))
                if isinstance(node, ast.Name) and node.id in _NUMBER_TYPES and annotation is node:
                    return Value("number", _NUMBER_TYPES[node.id], grad=False)
        return UNKNOWN

    def _passed(self, function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> Value | None:
        """The join of what the file's calls of ``function`` pass as parameter ``name`` (None: no call site)."""
        calls = self.calls_of(function)
        if not calls:
            return None
        positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        if positional and _bound_method(self.module, function):
            positional = positional[1:]  # self / cls (a method's; not a function nested in one)
        values = []
        for call in calls:
            argument = call_argument(call, positional, name)
            if argument is None:
                return None
            values.append(self.value(argument))
        joined = join_all(values)
        kinds = {v.kind for v in values if v.kind is not None}
        return joined.but(kind=kinds.pop()) if len(kinds) == 1 else joined

    def calls_of(self, function: ast.AST) -> list[ast.Call]:
        """The calls in this file that call ``function`` (by its name, or ``self.method`` in its class)."""
        if self._calls_of is None:
            self._calls_of = {}
        found = self._calls_of.get(id(function))
        if found is None:
            found = []
            name = getattr(function, "name", None)
            if name is not None:
                for call in self.module.calls_named(name):
                    if self.callee(call) is function:
                        found.append(call)
            self._calls_of[id(function)] = found
        return found

    def is_receiver(self, node: ast.AST) -> bool:
        """Whether ``node`` reads a method's first parameter (``self``, whatever it is called): the instance."""
        if not isinstance(node, ast.Name):
            return False
        defs = self.definitions(node)
        return bool(defs) and all(d.kind == "param" and _receiver_param(self.module, d.scope, d.node) for d in defs)

    def callee(self, call: ast.Call) -> ast.AST | None:
        """The function definition ``call`` calls in this file, if it can be told."""
        func = call.func
        module = self.module
        if isinstance(func, ast.Name):
            d = self.unique(func)
            return d.node if d is not None and d.kind == "def" and not isinstance(d.node, ast.ClassDef) else None
        if isinstance(func, ast.Attribute) and self.is_receiver(func.value):
            cls = module.enclosing_class(call)
            if cls is not None:
                for stmt in cls.body:
                    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == func.attr:
                        return stmt
        return None

    def _usage_kind(self, d: Def) -> str | None:
        """A kind shown by how the value is used: a tensor-only method called on it, or a framework op it is
        handed to as its input (``torch.log(x)``)."""
        key = id(d)
        if key in self._evidence:
            return self._evidence[key]
        self._evidence[key] = None
        flow = self.flow_of(d.node) if d.kind != "param" else self._flows.get(id(d.scope))
        found = None
        if flow is not None:
            module = self.module
            for use in flow.uses.get(id(d), {}).values():
                parent = module.parent(use)
                argument: ast.AST = use
                method = parent.attr if isinstance(parent, ast.Attribute) and isinstance(
                    module.parent(parent), ast.Call) and module.parent(parent).func is parent else None
                if method in TENSOR_ONLY:
                    found = self._file_tensor_kind()
                elif method in apis.TENSOR_METHODS and "numpy" not in module.frameworks_and_numpy:
                    found = self._file_tensor_kind()  # x.std(), x.sum(dim=1): an array, and NumPy is not in use
                else:
                    parent, argument = _through_constants(self, use)
                if found is None and isinstance(parent, ast.Call) and argument in parent.args[:1]:
                    call = module.op(parent)
                    if call is not None and call.kind == "function" and call.op not in _CONSTRUCTORS and (
                            call.framework not in ("numpy", "scipy")) and (
                            argument is use or call.framework == "torch"):  # NumPy takes Python floats as well
                        found = _FRAMEWORK_KIND.get(call.framework)
                if found is not None:
                    break
        self._evidence[key] = found
        return found

    def _file_tensor_kind(self) -> str | None:
        frameworks = self.module.frameworks
        for root, kind in (("torch", "torch"), ("tensorflow", "tf"), ("jax", "jax"), ("keras", "keras")):
            if root in frameworks:
                return kind
        return None

    # ----- structure ------------------------------------------------------------------------------------------
    def _attribute(self, node: ast.Attribute, frame: Frame | None) -> Value:
        module = self.module
        qualname = module.qualname(node)
        if qualname is not None:
            return _qualified_constant(qualname)
        attr = node.attr
        if attr in ("T", "mT", "H", "real", "imag", "values"):
            return self.value(node.value, frame)
        made = module.op(module.resolve(node.value)) if attr == "eigenvectors" else None
        if made is not None and made.op == "eigh":  # torch.linalg.eigh(a).eigenvectors
            return self._eigenvectors(made, frame)
        if attr == "data":
            return self.value(node.value, frame).but(grad=False)
        if attr in ("shape", "dtype", "device"):
            return Value("other", grad=False)
        if attr in ("eps", "tiny", "smallest_normal", "max", "min") and _finfo_call(module, node.value):
            dtype = self._finfo_dtype(node.value, frame)  # type: ignore[arg-type]
            if dtype is None:  # finfo(x.dtype) of a dtype lossling cannot see: positive, whatever it is
                options = [{"eps": e, "tiny": t, "smallest_normal": t, "max": b, "min": -b}[attr]
                           for e, t, b in _FINFO.values()]
                return Value("number", None, min(options), max(options), Zero.NEVER, Zero.EXACT, None, False)
            eps, tiny, biggest = _FINFO[dtype]
            number = {"eps": eps, "tiny": tiny, "smallest_normal": tiny, "max": biggest, "min": -biggest}[attr]
            return constant(number, dtype)
        if self.is_receiver(node.value):
            return self._self_attribute(node, frame)
        cls = self._local_class(node.value) if isinstance(node.value, ast.Name) else None
        if cls is not None:  # Config.lr, with class Config: lr = 0.05 in this file
            values = [stmt.value for stmt in cls.body if isinstance(stmt, (ast.Assign, ast.AnnAssign))
                      and stmt.value is not None and any(isinstance(t, ast.Name) and t.id == attr for t in (
                          stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]))]
            if values:
                return join_all([self.value(v) for v in values])
        return UNKNOWN

    def _finfo_dtype(self, call: ast.Call, frame: Frame | None) -> str | None:
        if not call.args:
            return None
        arg = call.args[0]
        if isinstance(arg, ast.Attribute) and arg.attr == "dtype":
            return self.value(arg.value, frame).dtype
        return _dtype_literal(self.module, arg)

    def _self_attribute(self, node: ast.Attribute, frame: Frame | None) -> Value:
        """``self.x``: the join of every value the methods of the class and of its bases in the file assign it."""
        module = self.module
        cls = module.enclosing_class(node)
        if cls is None:
            return UNKNOWN
        values = module.instance_assignments(cls, node.attr)
        if not values or any(v is None for v in values):
            return UNKNOWN
        return join_all([self.value(v) for v in values])

    def _subscript(self, node: ast.Subscript, frame: Frame | None) -> Value:
        module = self.module
        base = node.value
        if isinstance(base, ast.Attribute) and base.attr == "shape" or (
                isinstance(base, ast.Call) and (module.qualname(base.func) or "").endswith(".shape")) or (
                isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute) and base.func.attr == "size"):
            inner = base.value if isinstance(base, ast.Attribute) else (
                base.args[0] if isinstance(base.func, ast.Name) or module.qualname(base.func) else base.func.value)  # type: ignore
            return self._size(inner, frame, "tf" if isinstance(base, ast.Call) and module.qualname(base.func) else None)
        value = self.value(base, frame)
        index = node.slice
        call = module.op(module.resolve(base))
        if call is not None and call.op in ("max", "min", "topk", "sort") and _is_reduction(self, call, frame):
            position = module.const(index)
            if position == 1.0:
                return _indices(value.kind)
        if value.kind == "other" and not value.tensor:
            return UNKNOWN
        elements = index.elts if isinstance(index, ast.Tuple) else [index]
        for element in elements:
            if _excludes_zero(self, element, base):
                return value.but(zero=Zero.NEVER, lo=0.0 if value.nonnegative else value.lo)
        return value.but(origin=value.origin)

    # ----- arithmetic -----------------------------------------------------------------------------------------
    def _binop(self, node: ast.BinOp, frame: Frame | None) -> Value:
        return self._arith(node.op, self.value(node.left, frame), self.value(node.right, frame), node, frame)

    def _arith(self, op: ast.operator, a: Value, b: Value, node: ast.AST, frame: Frame | None) -> Value:
        kind = a.kind if a.tensor else (b.kind if b.tensor else (a.kind if a.kind == b.kind else None))
        dtype = promote(a, b)
        grad = _grad(a, b)
        a, b = _as_tensor_number(a, b), _as_tensor_number(b, a)
        op_type = type(op)
        if op_type is ast.Add:
            return _add(a, b, kind, dtype, grad)
        if op_type is ast.Sub:
            return _add(a, _negate(b), kind, dtype, grad, difference=(a, b))
        if op_type is ast.Mult:
            return _product(a, b, kind, dtype, grad)
        if op_type is ast.Div:
            found = self.module.arith(node)
            left, right = (found.left, found.right) if found is not None and not found.inplace else (None, None)
            return self._quotient(a, b, kind, "f32" if dtype in ("int", "bool") and kind in TENSORS else (
                "f64" if dtype in ("int", "bool") else dtype), grad, left, right, frame)
        if op_type is ast.Pow:
            return _power(a, b, kind, dtype, grad)
        if op_type in (ast.BitAnd, ast.BitOr, ast.BitXor):
            if a.dtype == "bool" or b.dtype == "bool" or a.role == "mask" or b.role == "mask":
                return _mask(kind, False)
            return Value(kind, dtype, grad=False)
        if op_type is ast.FloorDiv or op_type is ast.Mod:
            return Value(kind, dtype, grad=False)
        if op_type is ast.MatMult:
            return Value(kind, dtype, grad=grad)
        return Value(kind, dtype, grad=grad)

    def _quotient(self, a: Value, b: Value, kind: str | None, dtype: str | None, grad: bool | None,
                  left: ast.AST | None, right: ast.AST | None, frame: Frame | None) -> Value:
        lo = hi = None
        if b.lo is not None and b.lo == b.hi and b.lo != 0:
            lo, hi = _scaled(a, 1 / b.lo)  # a / c: a's bounds scaled
        elif a.nonnegative and b.nonnegative:
            lo = 0.0
            if a.hi is not None and b.lo is not None and b.lo > 0:
                hi = a.hi / b.lo
        elif a.nonnegative and b.hi is not None and b.hi < 0 or (a.hi is not None and a.hi <= 0 and b.nonnegative):
            hi = 0.0  # opposite signs: not positive (-inf or NaN where the divisor is 0, never +inf)
        zero = a.zero  # a positive over anything finite stays positive (underflow needs absurd ranges)
        role = None
        if left is not None and right is not None and _normalised(self, left, right, frame):
            return Value(kind, dtype, 0.0, 1.0, Zero.ROUNDING, Zero.ROUNDING, "probs", grad, right)
        return Value(kind, dtype, lo, hi, zero, Zero.UNKNOWN, role, grad, cause=a.cause)

    def _unary(self, node: ast.UnaryOp, frame: Frame | None) -> Value:
        operand = self.value(node.operand, frame)
        if isinstance(node.op, ast.USub):
            return _negate(operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Invert) and (operand.dtype == "bool" or operand.role == "mask"):
            return _mask(operand.kind, False)
        if isinstance(node.op, ast.Not):
            return Value("number", "bool", 0.0, 1.0, Zero.EXACT, Zero.EXACT, None, False)
        return Value(operand.kind, operand.dtype, grad=False)

    # ----- calls ----------------------------------------------------------------------------------------------
    def _call(self, node: ast.Call, frame: Frame | None) -> Value:
        module = self.module
        call = module.op(node)
        if call is not None:
            return self._op(call, frame)
        arith = module.arith(node)  # a.add(b), torch.mul(a, b), x.neg(): the operators' transfer rules
        if arith is not None:
            if arith.right is None:
                return _negate(self.value(arith.left, frame))
            return self._arith(arith.op(), self.value(arith.left, frame), self.value(arith.right, frame), node,
                               frame)
        func = node.func
        if isinstance(func, ast.Name) and module.qualname(func) is None and not self.definitions(func):
            return self._builtin(func.id, node, frame)
        if isinstance(func, ast.Attribute):
            receiver = self.value(func.value, frame)
            method = func.attr
            if method in _CASTS and not node.args and receiver.kind not in ("other",):
                return _cast(receiver.but(kind=receiver.kind if receiver.tensor else None), _CASTS[method],
                             self._file_tensor_kind())  # only tensors have .float(), .long(), .bool()
            if method in ("to", "type", "astype") and (node.args or node.keywords):
                target = next((k.value for k in node.keywords if k.arg == "dtype"), node.args[0] if node.args else None)
                dtype = _dtype_literal(module, target)
                if dtype is not None:
                    return _cast(receiver, dtype, self._file_tensor_kind())
                if method == "to" and receiver.tensor:
                    return receiver  # .to(device)
            if method in ("item", "tolist"):
                return receiver.but(kind="number" if method == "item" else "other", grad=False, origin=None)
            if method in ("numpy", "cpu", "cuda") and receiver.tensor:
                return receiver.but(kind="numpy", grad=False) if method == "numpy" else receiver
            if method == "type_as" and node.args:
                return _cast(receiver, self.value(node.args[0], frame).dtype, receiver.kind)
            if method in ("size",) and not node.args and receiver.tensor:
                return Value("other", grad=False)
            if method in ("dim", "ndimension", "numel", "nelement") and receiver.tensor:
                return self._size(func.value, frame) if method in ("numel", "nelement") else Value(
                    "number", "int", 0.0, None, Zero.UNKNOWN, grad=False)
            if method == "size" and node.args:
                return self._size(func.value, frame)
            if receiver.tensor and receiver.grad is False and self._no_gradient_in(node, frame):
                return Value(receiver.kind, grad=False)  # x.repeat_interleave(n): made from x and its arguments
        summary = self._summary(node, frame)
        if summary is not None:
            return summary
        return self._constructed(node, frame)

    def _constructed(self, node: ast.Call, frame: Frame | None) -> Value:
        """A call of an object: an instance of a framework class or of a model class (a tensor with a gradient),
        else unknown."""
        module = self.module
        callee = module.resolve(node.func)
        if isinstance(callee, ast.Call):
            qualname = module.qualname(callee.func)
            if qualname is not None and qualname.partition(".")[0] in apis.FRAMEWORK_ROOTS:
                return Value(_FRAMEWORK_KIND.get(apis.framework_of(qualname) or "", None), grad=True)
            cls = self._local_class(callee.func)
            if cls is not None and self._model_class(cls):
                return Value(self._file_tensor_kind(), grad=True)
        qualname = module.qualname(node.func)
        if qualname is not None:
            root = qualname.partition(".")[0]
            if root in apis.FRAMEWORK_ROOTS and qualname.rpartition(".")[2][:1].islower():
                grad = False if qualname.rpartition(".")[2] not in _TRAINABLE and self._no_gradient_in(
                    node, frame) else None  # torch.meshgrid(xs, ys)
                return Value(_FRAMEWORK_KIND.get(apis.framework_of(qualname) or "", None), grad=grad)
        return UNKNOWN

    def _no_gradient_in(self, call: ast.Call, frame: Frame | None) -> bool:
        """Whether no gradient flows into ``call``: every argument (each element of a list or tuple) carries none,
        and it asks for none (``requires_grad``). A framework function or a tensor's method computes its result
        from these alone."""
        if any(k.arg in ("requires_grad", "trainable") for k in call.keywords) or (
                isinstance(call.func, ast.Attribute) and call.func.attr == "requires_grad_"):
            return False
        todo = [*call.args, *(k.value for k in call.keywords)]
        while todo:
            argument = todo.pop()
            if isinstance(argument, (ast.List, ast.Tuple)):
                todo.extend(argument.elts)
            elif self.value(argument, frame).grad is not False:
                return False
        return True

    def _local_class(self, func: ast.expr) -> ast.ClassDef | None:
        if isinstance(func, ast.Name):
            d = self.unique(func)
            if d is not None and isinstance(d.node, ast.ClassDef):
                return d.node
        return None

    def _model_class(self, cls: ast.ClassDef, depth: int = 3) -> bool:
        """A subclass (directly, through classes of this file or of the project's own modules) of a framework's
        module, layer or loss class: ``nn.Module``, ``torch.nn.modules.loss._Loss``, ``keras.Model``,
        ``keras.layers.Layer``, ``keras.losses.Loss``, ``flax.linen.Module``."""
        for base in cls.bases:
            qualname = self.module.qualname(base) or ""
            if qualname in _MODEL_BASES or qualname.endswith((".Module", ".Model", ".Layer", ".Loss", "._Loss",
                                                             "._WeightedLoss")) and (
                    qualname.partition(".")[0] in apis.FRAMEWORK_ROOTS):
                return True
            if not depth:
                continue
            local = self._local_class(base)
            if local is not None and local is not cls and self._model_class(local, depth - 1):
                return True
            found = self.module.project_definitions(base) if local is None else None
            if found is not None:  # from .base import BaseLoss
                other, defs = found
                if any(isinstance(d.node, ast.ClassDef) and other._model_class(d.node, depth - 1) for d in defs):
                    return True
        return False

    def model_code(self, node: ast.AST) -> bool:
        """Whether ``node`` sits in a class whose instances are models, layers or losses (see ``_model_class``)."""
        cls = self.module.enclosing_class(node)
        return cls is not None and self._model_class(cls)

    def defines_models(self) -> bool:
        """Whether the file defines a model, layer or loss class."""
        found = self.module.cached("defines_models")
        if found is None:
            found = self.module.cache("defines_models", any(
                self._model_class(cls) for cls in self.module.nodes(ast.ClassDef)))
        return bool(found)

    def _builtin(self, name: str, node: ast.Call, frame: Frame | None) -> Value:
        args = node.args
        if name == "len" and len(args) == 1:
            return self._size(args[0], frame, "number")
        if name in ("float", "int") and len(args) == 1:
            inner = self.value(args[0], frame)
            if isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                try:
                    return constant(float(args[0].value), "f64")
                except ValueError:
                    return UNKNOWN
            return inner.but(kind="number", dtype="f64" if name == "float" else "int", grad=False, origin=None)
        if name in ("max", "min") and len(args) >= 2 and not node.keywords:
            values = [self.value(a, frame) for a in args]
            return _extreme(values, name == "max")
        if name == "abs" and len(args) == 1:
            inner = self.value(args[0], frame)
            return inner.but(lo=0.0, hi=None, top=Zero.UNKNOWN, role=None)
        if name == "sum" and len(args) >= 1:
            return self._reduced("sum", self._iterated(args[0], frame), None, frame)
        if name in ("range", "enumerate", "zip"):
            return Value("other", grad=False)
        return UNKNOWN

    def _size(self, node: ast.AST, frame: Frame | None, kind: str | None = "number") -> Value:
        """``len(x)``, ``x.numel()``, ``x.shape[i]``, ``tf.shape(x)[i]``: a count, never 0 for an ordinary tensor
        (a batch of no elements has nothing to divide), exactly 0 for a data-dependent selection."""
        if self.selection(node, frame):
            return Value(kind, "int", 0.0, None, Zero.EXACT, Zero.UNKNOWN, "count", False, cause="count")
        return Value(kind, "int", 1.0, None, Zero.NEVER, Zero.UNKNOWN, "count", False)

    def selection(self, node: ast.AST | None, frame: Frame | None = None, depth: int = 4) -> bool:
        """A data-dependent selection that an empty mask makes empty: ``x[mask]``, ``masked_select``,
        ``boolean_mask``, ``nonzero()``, a one-argument ``where``."""
        module = self.module
        if node is None or depth <= 0:
            return False
        resolved = module.resolve(node)
        if resolved is not node:
            return self.selection(resolved, frame, depth - 1)
        if isinstance(node, ast.Subscript):
            elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if self.value(node.value, frame).kind in ("number", "other"):
                return False
            return any(self.value(e, frame).dtype == "bool" and self.value(e, frame).kind != "number"
                       for e in elements)  # a boolean mask (an integer index tensor may be a gather)
        call = module.op(node)
        if call is not None:
            if call.op in ("masked_select", "boolean_mask", "nonzero"):
                return True
            return call.op == "where" and len(node.args) == 1 and not node.keywords
        if isinstance(node, ast.Call):
            qualname = module.qualname(node.func) or ""
            return qualname.rpartition(".")[2] == "boolean_mask"
        return False

    def _eigenvectors(self, call, frame: Frame | None) -> Value:
        """The eigenvectors of a symmetric matrix (``eigh``): an orthogonal matrix, each row and column of unit
        norm."""
        x = self.value(call.input, frame)
        return Value(_FRAMEWORK_KIND.get(call.framework) or x.kind, x.dtype, -1.0, 1.0, Zero.UNKNOWN, Zero.EXACT,
                     "orthonormal", x.grad)

    def _element(self, value: ast.AST | None, index: int | None, frame: Frame | None) -> Value:
        """An element unpacked from ``value``: ``vals, idx = x.max(1)``, ``a, b = t`` (a tensor's rows)."""
        if value is None:
            return UNKNOWN
        call = self.module.op(value)
        if call is not None and call.op in ("max", "min", "topk", "sort") and _is_reduction(self, call, frame):
            whole = self._op(call, frame)
            return whole if index == 0 else _indices(whole.kind)
        if call is not None and call.op == "eigh" and index == 1:
            return self._eigenvectors(call, frame)
        if call is not None and call.op == "unique" and index is not None and index == _counts_position(call):
            kind = self._op(call, frame).kind  # how often each distinct value occurs: at least once
            return Value(kind, "int", 1.0, None, Zero.NEVER, Zero.UNKNOWN, "count", False)
        whole = self.value(value, frame)
        return whole.but(origin=None) if whole.tensor else UNKNOWN

    def _iterated(self, iterable: ast.AST | None, frame: Frame | None) -> Value:
        """An element of ``for x in iterable``: a model's parameters are tensors with a gradient; a range gives
        integers; a tensor's rows keep its facts."""
        if iterable is None:
            return UNKNOWN
        if isinstance(iterable, ast.Call):
            func = iterable.func
            if isinstance(func, ast.Attribute) and func.attr in ("parameters", "trainable_variables", "weights"):
                return Value(self._file_tensor_kind(), grad=True)
            if isinstance(func, ast.Name) and func.id == "range" and self.module.qualname(func) is None:
                args = [self.value(a, frame) for a in iterable.args]
                lo = args[0].lo if len(args) >= 2 else 0.0
                return Value("number", "int", lo, None, Zero.NEVER if lo is not None and lo > 0 else Zero.UNKNOWN,
                             grad=False)
        whole = self.value(iterable, frame)
        return whole.but(origin=None) if whole.tensor else UNKNOWN

    def _mutated(self, d: Def, frame: Frame | None) -> Value:
        """The value after an in-place change: ``x[m] = v`` joins the old value and ``v`` (refined where the mask
        picks out the zeros: ``d[d == 0] = 1``); ``x.clamp_(min=1)``, ``x.add_(eps)`` are the ops they apply."""
        before = join_all([self.of_def(p, frame) for p in sorted(d.prev, key=_def_order)])
        node = d.node
        module = self.module
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr[:-1]
            if method == "zero":
                return constant(0.0).but(kind=before.kind, dtype=before.dtype, grad=before.grad)
            arith = module.arith(node)  # x.add_(eps), x.mul_(2), x.neg_()
            if arith is not None and arith.inplace and root_matches(node.func.value, d.name):
                if arith.right is None:
                    return _negate(before)
                return self._arith(arith.op(), before, self.value(arith.right, frame), node, frame)
            op = apis.TENSOR_METHODS.get(method)
            if op is not None and root_matches(node.func.value, d.name):
                probe = _Probe(op, node, before)
                return self._transfer(probe, frame)
            return before.but(lo=None, hi=None, zero=Zero.UNKNOWN, top=Zero.UNKNOWN, role=None, origin=None)
        if isinstance(node, ast.Call):  # written by the function it was handed to (fold(acc[i:j]), out=acc)
            return before.but(lo=None, hi=None, zero=Zero.UNKNOWN, top=Zero.UNKNOWN, role=None, origin=None)
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            target = next((t for t in targets if isinstance(t, ast.Subscript)), None)
            written = self.value(node.value, frame) if isinstance(node, ast.Assign) else UNKNOWN
            if target is not None and isinstance(node, ast.Assign):
                if written.positive and _picks_zeros(self, target.slice, target.value):
                    return before.but(zero=Zero.NEVER, origin=None)
                if not (isinstance(target.value, ast.Name) and target.value.id == d.name):
                    return before.but(origin=None)  # x.view(-1)[i] = ...: a part of x changed; keep the kind
                return before.join(written.but(kind=before.kind, dtype=before.dtype)).but(origin=None)
            return before.but(lo=None, hi=None, zero=Zero.UNKNOWN, top=Zero.UNKNOWN, role=None, origin=None)
        del module
        return before.but(origin=None)

    # ----- function summaries ---------------------------------------------------------------------------------
    def _summary(self, node: ast.Call, frame: Frame | None) -> Value | None:
        """A call of a function of this file or of the project: the join of its returns, parameters bound."""
        depth = frame.depth if frame is not None else 0
        if depth >= _CALL_DEPTH:
            return None
        function = self.callee(node)
        facts = self
        if function is None:
            imported = self.module.project_function(node.func)
            if imported is None:
                return None
            facts, function = imported
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        key = (id(node), id(frame))
        bound = self._frames.get(key)
        if bound is None:
            bound = self._frames[key] = facts._frame(function, node, self, frame, depth + 1)
        returns = facts.returns(function)
        if not returns:
            return None
        result = join_all([facts.value(r, bound) for r in returns])
        return result if facts is self else result.but(origin=None)

    def _frame(self, function: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call, caller: Facts,
               caller_frame: Frame | None, depth: int) -> Frame:
        positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        if isinstance(call.func, ast.Attribute) and positional and _bound_method(self.module, function):
            positional = positional[1:]
        values: dict[str, Value] = {}
        for name in (*positional, *(a.arg for a in function.args.kwonlyargs)):
            argument = call_argument(call, positional, name)
            if argument is not None:
                values[name] = caller.value(argument, caller_frame)
        return Frame(function, values, depth)

    def returns(self, function: ast.AST) -> list[ast.expr]:
        """The expressions ``function`` returns (its own ``return`` statements, not nested functions')."""
        found: list[ast.expr] = []
        stack = list(getattr(function, "body", []))
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Return) and node.value is not None:
                found.append(node.value)
            elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.extend(n for n in ast.iter_child_nodes(node) if isinstance(n, ast.stmt))
        return found

    # ----- operations -----------------------------------------------------------------------------------------
    def _op(self, call: "OpCall", frame: Frame | None) -> Value:  # type: ignore[name-defined]  # noqa: F821
        return self._transfer(call, frame)

    def _transfer(self, call, frame: Frame | None) -> Value:  # noqa: C901 - one table of transfer rules
        op = call.op
        module = self.module
        x = call.input_value if isinstance(call, _Probe) else self.value(call.input, frame)
        kind = _FRAMEWORK_KIND.get(call.framework) if call.kind == "function" else (x.kind or self._file_tensor_kind())
        if kind == "numpy" and call.kind == "function" and not x.tensor and call.op not in _CONSTRUCTORS:
            kind = "number" if x.kind == "number" else None  # NumPy maps Python floats to scalars (np.arange: arrays)
        if call.kind == "method" and x.kind is not None:
            kind = x.kind
        grad = x.grad if x.tensor or x.kind is None else False
        dtype = x.dtype if x.dtype in FLOATS else (None if x.dtype is None else "f32")
        fdtype = float_dtype(x) or "f32"
        origin = call.node
        if op in _PASS:
            if op == "gather" or op == "clone":
                return x.but(kind=kind or x.kind)
            return x.but(kind=kind or x.kind)
        if op == "numel":
            return self._size(call.input, frame)
        if op in ("detach", "stop_gradient"):
            return x.but(grad=False)
        if op == "epsilon":  # keras.config.epsilon(): Keras's fuzz factor, 1e-7 unless set_epsilon changes it
            return constant(1e-7, "f64")
        if op == "cast":
            target = call.arg(1, "dtype", "DstT")
            return _cast(x, _dtype_literal(module, target), kind)
        if op in ("sigmoid",):
            zero = Zero.NEVER if x.lo is not None and x.lo > -88.0 else Zero.ROUNDING
            top = Zero.NEVER if x.hi is not None and x.hi < _SIGMOID_ONE.get(fdtype, 16.6) else Zero.ROUNDING
            return Value(kind, dtype, 0.0, 1.0, zero, top, "probs", grad, origin)
        if op in ("softmax", "gumbel_softmax", "softmin"):
            return Value(kind, dtype, 0.0, 1.0, Zero.ROUNDING, Zero.ROUNDING, "probs", grad, origin)
        if op in ("log_softmax", "logsigmoid"):
            return Value(kind, dtype, None, 0.0, Zero.ROUNDING, Zero.ROUNDING, "logprobs", grad, origin)
        if op in ("log", "log2", "log10", "log1p"):
            shift = 1.0 if op == "log1p" else 0.0
            lo = 0.0 if x.lo is not None and x.lo + shift >= 1 else None
            hi = 0.0 if x.hi is not None and x.hi + shift <= 1 else None
            role = "logprobs" if x.role == "probs" else None
            return Value(kind, dtype, lo, hi, Zero.UNKNOWN, Zero.UNKNOWN, role, grad, origin)
        if op == "exp":
            threshold = _EXP_UNDERFLOW.get(fdtype, -103.9)
            zero = Zero.NEVER if x.lo is not None and x.lo > threshold else Zero.ROUNDING
            hi = math.exp(x.hi) if x.hi is not None and x.hi < _EXP_OVERFLOW.get(fdtype, 88.72) else None
            lo = math.exp(x.lo) if x.lo is not None and zero is Zero.NEVER and x.lo > -80 else 0.0
            role = "probs" if x.role == "logprobs" else None
            top = Zero.ROUNDING if role else Zero.UNKNOWN
            return Value(kind, dtype, lo, 1.0 if role else hi, zero, top, role, grad, origin if role else None)
        if op == "expm1":
            return Value(kind, dtype, -1.0 if x.lo is None or x.lo < 0 else 0.0, None, x.zero, grad=grad)
        if op in ("softplus",):
            return Value(kind, dtype, 0.0, None, Zero.ROUNDING, grad=grad)
        if op in ("sqrt",):
            lo = math.sqrt(x.lo) if x.lo is not None and x.lo >= 0 else (0.0 if x.nonnegative else None)
            return Value(kind, dtype, lo, math.sqrt(x.hi) if x.hi is not None and x.hi >= 0 else None, x.zero,
                         x.top, None, grad, cause="norm" if x.cause == "sum" else x.cause)
        if op in ("rsqrt", "reciprocal"):
            return Value(kind, dtype, 0.0 if x.nonnegative else None, None, Zero.NEVER, grad=grad)
        if op in ("square", "abs", "norm", "std", "var"):
            zero = x.zero if op in ("square", "abs") else _degenerate(x, self, call)
            lo = 0.0
            if op in ("square", "abs") and x.lo is not None and x.lo > 0:
                lo = x.lo ** (2 if op == "square" else 1)
            cause = x.cause if op in ("square", "abs") else ("norm" if op == "norm" else "std")
            return Value(kind, dtype, lo, None, zero, Zero.UNKNOWN, None, grad, cause=cause)
        if op == "pow":
            exponent = self.value(call.arg(1, "exponent", "y", "x2"), frame)
            return _power(x, exponent, kind, dtype, grad)
        if op == "relu":
            return Value(kind, dtype, 0.0, None if x.hi is None else max(x.hi, 0.0), Zero.EXACT, x.top, None, grad)
        if op in ("tanh", "erf", "sign", "cosine_similarity"):
            zero = Zero.EXACT if op == "sign" else (x.zero if op != "cosine_similarity" else Zero.UNKNOWN)
            return Value(kind, dtype, -1.0, 1.0, zero, Zero.ROUNDING, None, grad)
        if op == "cosh":
            far = None if x.lo is None or x.hi is None else max(-x.lo, x.hi)
            hi = math.cosh(far) if far is not None and far < _COSH_OVERFLOW.get(fdtype, 89.41) else None
            return Value(kind, dtype, 1.0, hi, Zero.NEVER, grad=grad)
        if op in ("sum", "mean", "prod", "nansum", "nanmean", "count_nonzero", "any", "all"):
            return self._reduced(op, x, call, frame).but(kind=kind)
        if op in ("max", "min", "amax", "amin"):
            return self._extreme_op(call, x, kind, frame)
        if op in ("clamp", "clip", "clamp_min", "clamp_max"):
            return self._clamped(call, x, kind, frame)
        if op in ("maximum", "minimum"):
            second = self.value(call.arg(1, "other", "y", "x2"), frame)
            return _extreme([x, second], op == "maximum").but(kind=kind)
        if op == "where":
            cond, chosen, other = _where_args(call)
            if chosen is None or other is None:
                return _indices(kind)
            a = self._refined(chosen, self.value(chosen, frame), cond, True, frame) if cond is not None else (
                self.value(chosen, frame))
            b = self._refined(other, self.value(other, frame), cond, False, frame) if cond is not None else (
                self.value(other, frame))
            joined = a.join(b)
            return joined.but(kind=kind or joined.kind)
        if op in ("divide", "divide_no_nan"):
            numerator, divisor = call.arg(0, "input", "x", "x1"), call.arg(1, "other", "y", "x2")
            result = self._quotient(self.value(numerator, frame), self.value(divisor, frame), kind, dtype, grad,
                                    numerator, divisor, frame)
            return result.but(zero=Zero.EXACT) if op == "divide_no_nan" and result.zero > Zero.UNKNOWN else result
        if op == "masked_fill":
            filler = self.value(call.arg(2, "value"), frame)
            return x.join(filler.but(kind=x.kind, dtype=x.dtype)).but(kind=kind)
        if op in ("logsumexp", "logaddexp"):
            return Value(kind, dtype, x.lo, None, Zero.UNKNOWN, grad=grad)
        if op in _MASKS:
            return _mask(kind, False)
        if op in ("argmax", "nonzero", "unique", "randint"):
            return _indices(kind)
        if op == "one_hot":
            return Value(kind, "int", 0.0, 1.0, Zero.EXACT, Zero.EXACT, "onehot", False)
        if op in ("topk", "sort"):
            return self._extreme_op(call, x, kind, frame) if op == "topk" else x.but(kind=kind)
        if op in ("cumsum", "cumprod"):
            lo = x.lo if x.lo is not None and x.lo >= 0 else None
            return Value(kind, dtype or x.dtype, lo, None, Zero.NEVER if x.positive else x.zero, grad=grad)
        if op in _CONSTRUCTORS:
            return self._made(op, call, kind, frame)
        if op in ("nan_to_num",):
            return x.but(kind=kind)
        if op in ("stack", "concat"):
            items = call.arg(0, "tensors", "values", "arrays")
            if isinstance(items, (ast.List, ast.Tuple)) and items.elts:
                joined = join_all([self.value(e, frame) for e in items.elts])
                return joined.but(kind=kind, origin=None)
            return Value(kind, grad=self.value(items, frame).grad if items is not None else None)
        if op in _LOSSES:  # nll_loss and kl_div of arbitrary inputs take either sign
            lo = None if op in ("nll", "kl_div") else 0.0
            return Value(kind, dtype, lo, None, Zero.EXACT if lo == 0.0 else Zero.UNKNOWN, Zero.UNKNOWN, "loss", grad)
        if op == "det":
            return Value(kind, dtype, None, None, Zero.ROUNDING, grad=grad)
        if op == "normalize" or op == "standardize":
            return Value(kind, dtype, -1.0, 1.0, Zero.UNKNOWN, Zero.UNKNOWN, None, grad)
        if op in ("acos",):
            return Value(kind, dtype, 0.0, math.pi, Zero.UNKNOWN, grad=grad)
        if op in ("asin", "atanh", "erf"):
            return Value(kind, dtype, grad=grad)
        if op == "clamp_probs":
            return Value(kind, dtype, 0.0, 1.0, Zero.NEVER, Zero.NEVER, "probs", grad, origin)
        if op in ("matmul", "conv"):  # a sum of products: non-negative when both factors are
            factor = self.value(call.arg(1, "factor", "mat2", "b", "x2", "weight", "filters", "kernel"), frame)
            result = Value(kind, promote(x, factor) if x.dtype and factor.dtype else dtype, grad=_grad(x, factor))
            if x.nonnegative and factor.nonnegative:
                zero = Zero.NEVER if x.positive and factor.positive else Zero.DEGENERATE
                return result.but(lo=0.0, zero=zero, cause="sum" if zero is Zero.DEGENERATE else None)
            return result
        if op in ("avg_pool", "max_pool"):  # a mean or max over windows: the input's bounds
            zero = x.zero if x.zero <= Zero.ROUNDING or not x.nonnegative else Zero.DEGENERATE
            return x.but(kind=kind, zero=zero, origin=None, role=None,
                         cause=("sum" if op == "avg_pool" else "max") if zero is Zero.DEGENERATE else None)
        if op in ("xlogy", "entr", "logit", "lgamma", "digamma", "logdet", "slogdet"):
            return Value(kind, dtype, grad=grad)
        return Value(kind, dtype, grad=grad)

    def _reduced(self, op: str, x: Value, call, frame: Frame | None) -> Value:
        """``sum``/``mean``/``prod`` of a value: a sum of a mask is a count that an empty mask makes 0; of
        positive terms, positive; of non-negative terms, 0 only when all are (degenerate)."""
        kind, grad = x.kind, x.grad
        if op in ("any", "all"):
            return _mask(kind, False)
        if op == "count_nonzero" or (op in ("sum", "nansum") and (x.dtype == "bool" or x.role in ("mask", "hits"))):
            if x.role == "hits":  # a mask that is true somewhere by construction (x >= x.max())
                return Value(kind, "int" if x.dtype == "bool" or op == "count_nonzero" else x.dtype, 1.0, None,
                             Zero.NEVER, Zero.UNKNOWN, "count", False)
            return Value(kind, "int" if x.dtype == "bool" or op == "count_nonzero" else x.dtype, 0.0, None,
                         Zero.EXACT, Zero.UNKNOWN, "count", grad if x.dtype != "bool" else False, cause="count")
        dtype = "int" if x.dtype == "bool" else x.dtype
        if op in ("sum", "nansum") and call is not None and self._kept_positive(call, frame):
            return Value(kind, dtype, 0.0, None, Zero.NEVER, Zero.UNKNOWN, None, grad)
        if op in ("mean", "nanmean"):
            mask = x.role == "mask" or x.dtype == "bool"
            zero = Zero.NEVER if x.positive else (Zero.EXACT if mask else (
                Zero.DEGENERATE if x.nonnegative else Zero.UNKNOWN))
            cause = "count" if mask else (x.cause if zero >= Zero.DEGENERATE else None)
            return Value(kind, "f32" if dtype == "int" else dtype, x.lo, x.hi, zero, x.top, None, grad, cause=cause)
        if op == "prod":
            zero = Zero.ROUNDING if x.zero is Zero.NEVER else x.zero
            return Value(kind, dtype, 0.0 if x.nonnegative else None, None, zero, grad=grad)
        if x.positive:
            if x.role == "probs" and x.origin is not None:  # a softmax summed over a part of its axis
                return Value(kind, dtype, 0.0, 1.0, Zero.ROUNDING, Zero.EXACT, None, grad)
            return Value(kind, dtype, x.lo, None, Zero.NEVER, Zero.UNKNOWN, x.role if x.role == "count" else None,
                         grad)
        if x.nonnegative and x.zero <= Zero.ROUNDING:  # 0 only where every term rounds to 0
            return Value(kind, dtype, 0.0, None, x.zero, Zero.UNKNOWN, None, grad)
        if x.nonnegative:
            if x.role == "count" and x.zero is Zero.EXACT:
                return Value(kind, dtype, 0.0, None, Zero.EXACT, Zero.UNKNOWN, "count", grad, cause="count")
            if x.role == "probs" and x.zero is Zero.ROUNDING:
                return Value(kind, dtype, 0.0, None, Zero.ROUNDING, Zero.UNKNOWN, None, grad)
            exact = x.zero is Zero.EXACT and x.role in ("mask", "count")
            return Value(kind, dtype, 0.0, None, Zero.EXACT if exact else Zero.DEGENERATE, Zero.UNKNOWN,
                         "count" if exact else None, grad, cause="count" if exact else "sum")
        return Value(kind, dtype, None, None, Zero.UNKNOWN, Zero.UNKNOWN, None, grad)

    def _kept_positive(self, call, frame: Frame | None) -> bool:
        """``where(w.sum(d) > 0, w, ones).sum(d)`` with ``w >= 0``: every row sums to its own positive total or
        to the positive stand-in's (a where whose test implies the sum is > 0)."""
        module = self.module
        where = module.op(module.resolve(call.input)) if isinstance(getattr(call, "node", None), ast.Call) else None
        if where is None or where.op != "where":
            return False
        test, kept, other = _where_args(where)
        test = module.resolve(test) if test is not None else None
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and kept is not None and other is not None):
            return False
        total = module.op(module.resolve(test.left))
        bound, relation = module.const(test.comparators[0]), type(test.ops[0])
        if total is None or total.op != "sum" or total.input is None or bound is None or not (
                relation is ast.Gt and bound >= 0 or relation is ast.GtE and bound > 0 or
                relation is ast.NotEq and bound == 0):
            return False
        axes = [module.text(c.arg(1, "dim", "axis")) if c.arg(1, "dim", "axis") is not None else None
                for c in (total, call)]
        return axes[0] == axes[1] and _same_value(self, total.input, kept) and self.value(
            kept, frame).nonnegative and self.value(other, frame).positive

    def _extreme_op(self, call, x: Value, kind: str | None, frame: Frame | None) -> Value:
        """``max``/``min`` as a reduction, or elementwise between two tensors (``torch.max(a, b)``)."""
        if not _is_reduction(self, call, frame):
            other = self.value(call.arg(1, "other"), frame)
            return _extreme([x, other], call.op in ("max", "amax")).but(kind=kind)
        if call.op in ("max", "amax", "topk") and x.role == "probs" and x.origin is not None:
            origin = self.module.op(x.origin)
            if origin is not None and origin.op in ("softmax", "softmin") and call.op != "topk" or (
                    call.op == "topk" and self.module.const(call.arg(1, "k")) == 1.0):
                return x.but(zero=Zero.NEVER, lo=0.0, role=None, origin=None, kind=kind)  # >= 1/n
        zero = x.zero if x.nonnegative and x.zero <= Zero.ROUNDING else (
            Zero.DEGENERATE if x.nonnegative else x.zero if x.zero is Zero.EXACT else Zero.UNKNOWN)
        largest = self.module.resolve(call.arg(3, "largest")) if call.op == "topk" else None
        smallest = call.op in ("min", "amin") or isinstance(largest, ast.Constant) and largest.value is False
        extreme = "min" if smallest else "max"  # the smallest of them is 0 as soon as one is
        cause = (x.cause or extreme) if zero is Zero.EXACT else (extreme if zero is Zero.DEGENERATE else None)
        return x.but(zero=zero, kind=kind, origin=None, role=x.role if x.role == "count" else None, cause=cause)

    def _clamped(self, call, x: Value, kind: str | None, frame: Frame | None) -> Value:
        lower, upper = clip_bounds(call)
        dtype = float_dtype(x) if x.tensor or x.kind is None else "f64"
        lo, hi, zero, top = x.lo, x.hi, x.zero, x.top
        if lower is not None:
            bound = self.value(lower, frame)
            if bound.lo is not None:
                value = bound.lo if _own_finfo(self, lower, call.input) else rounded(bound.lo, dtype)
                lo = value if lo is None else max(lo, value)
                if value > 0:
                    zero = Zero.NEVER
                elif value == 0 and (x.lo is None or x.lo < 0):
                    zero = Zero.EXACT
        if upper is not None:
            bound = self.value(upper, frame)
            if bound.hi is not None:
                value = rounded(bound.hi, dtype)
                if hi is None or value <= hi:
                    hi, top = value, Zero.EXACT
                if value < 0:
                    zero = Zero.NEVER
        return Value(kind, x.dtype, lo, hi, zero, top, x.role, x.grad, x.origin)

    def _made(self, op: str, call, kind: str | None, frame: Frame | None) -> Value:
        """Fresh values: constructors carry no gradient (unless asked to), and their contents' bounds."""
        node = call.node
        requires = any(k.arg == "requires_grad" and self.module.const(k.value) for k in node.keywords)
        dtype = _dtype_literal(self.module, next((k.value for k in node.keywords if k.arg == "dtype"), None))
        grad = True if requires else False
        if op == "ones":
            return Value(kind, dtype, 1.0, 1.0, Zero.NEVER, Zero.EXACT, None, grad)
        if op == "zeros":
            return Value(kind, dtype, 0.0, 0.0, Zero.EXACT, Zero.EXACT, None, grad)
        if op == "full":
            fill = self.value(call.arg(1, "fill_value", "value"), frame)
            return Value(kind, dtype or fill.dtype, fill.lo, fill.hi, fill.zero, fill.top, None, grad)
        if op == "arange":
            args = [self.value(a, frame) for a in node.args]
            start = args[0].lo if len(args) >= 2 else 0.0
            integral = all(a.dtype == "int" for a in args)
            return Value(kind, dtype or ("int" if integral else "f32"), start, None,
                         Zero.NEVER if start is not None and start > 0 else Zero.EXACT, Zero.UNKNOWN, None, grad)
        if op == "rand":  # a draw, not a probability: log(u) is an inverse-CDF transform, -inf at u = 0 its limit
            return Value(kind, dtype, 0.0, 1.0, Zero.ROUNDING, Zero.NEVER, "sample", grad, node)
        if op == "randn":
            return Value(kind, dtype, None, None, Zero.ROUNDING, Zero.UNKNOWN, None, grad, node)
        if op == "eye":
            return Value(kind, dtype, 0.0, 1.0, Zero.EXACT, Zero.EXACT, None, grad)
        if op == "linspace":
            args = [self.value(a, frame) for a in node.args[:2]]
            if len(args) == 2 and args[0].lo is not None and args[1].lo is not None:
                lo, hi = min(args[0].lo, args[1].lo), max(args[0].hi or 0, args[1].hi or 0)
                return Value(kind, dtype, lo, hi, Zero.NEVER if lo > 0 or hi < 0 else Zero.EXACT, Zero.EXACT,
                             None, grad)
            return Value(kind, dtype, grad=grad)
        data = call.arg(0, "data", "value")  # tensor, constant, array
        inner = self.value(data, frame)
        if isinstance(data, (ast.List, ast.Tuple)) and data.elts:
            inner = join_all([self.value(e, frame) for e in data.elts])
        elif isinstance(data, ast.ListComp):
            inner = self.value(data.elt, frame)
        if inner.tensor:
            return inner.but(kind=kind, dtype=dtype or inner.dtype, grad=grad if requires else inner.grad)
        element = "f32" if inner.dtype == "f64" and kind in ("torch", "tf", "jax", "keras") else inner.dtype
        return inner.but(kind=kind, dtype=dtype or element, grad=grad, origin=None)

    # ===== questions rules ask ================================================================================
    def tested(self, node: ast.AST) -> bool:
        """Whether a condition on the value of ``node`` (or on a name it is built from) holds wherever ``node``
        runs: an enclosing ``if``/``while``, an earlier ``assert`` or early exit, a conditional expression, a
        ``where`` branch, an ``and``/``or`` before it (``if n > 0:``, ``if mask.any():``). Tests of structure
        (``x.dim() == 2``, ``x is None``, ``isinstance``) do not count."""
        names = self.ingredients(node)
        if not names:
            return False
        return any(self._value_names(test, aliases=True) & names for test, _ in self.conditions(node))

    def ingredients(self, node: ast.AST, depth: int = 3) -> set[str]:
        """The local names ``node``'s value is computed from, following definitions ``depth`` steps."""
        found: set[str] = set()
        todo: list[tuple[ast.AST, int]] = [(node, depth)]
        while todo:
            current, left = todo.pop()
            for child in ast.walk(current):
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load) and child.id not in found and (
                        self.module.qualname(child) is None):
                    found.add(child.id)
                    if left:
                        for d in self.definitions(child):
                            if d.kind == "assign" and d.value is not None:
                                todo.append((d.value, left - 1))
                elif isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name):
                    found.add(f"{child.value.id}.{child.attr}")  # self.n, cfg.n
        return found

    def _value_names(self, test: ast.AST, aliases: bool = False) -> set[str]:
        """The names whose values ``test`` tests (``aliases``: also the names those are the same data as: a
        negation ``n = ~m``, a cast ``n = m.float()``, a part or view ``n = x[:, 0]`` tests ``m`` and ``x``)."""
        found: set[str] = set()
        stack = [test]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Attribute) and node.attr in _STRUCTURE:
                continue
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr in _STRUCTURE or isinstance(
                        func, ast.Name) and func.id in ("isinstance", "hasattr", "callable", "type"):
                    continue
            if isinstance(node, ast.Compare) and any(isinstance(o, (ast.Is, ast.IsNot)) for o in node.ops):
                continue
            if isinstance(node, ast.Compare) and all(_size_of(side) for side in (node.left, *node.comparators)):
                continue  # x.shape[:-1] != y.shape[:-1]: shapes against shapes (len(x) > 0 does count)
            if isinstance(node, ast.Name):
                found.add(node.id)
                if aliases:
                    for d in self.definitions(node):
                        base = self._same_data(d.value) if d.kind == "assign" else None
                        if base is not None and base.id not in found:
                            stack.append(base)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                found.add(f"{node.value.id}.{node.attr}")
            stack.extend(ast.iter_child_nodes(node))
        return found

    def _same_data(self, value: ast.AST | None) -> ast.Name | None:
        """The name whose data ``value`` is, negated, cast, viewed or in part: ``~m``, ``m.float()``, ``x[:, 0]``."""
        for _ in range(4):
            if isinstance(value, ast.Name):
                return value
            if isinstance(value, ast.UnaryOp) and isinstance(value.op, (ast.Invert, ast.Not)):
                value = value.operand
                continue
            call = self.module.op(value) if isinstance(value, ast.Call) else None
            if call is not None and call.op == "logical_not":
                value = call.input
                continue
            inner = self.unwrapped(value)
            if inner is None and isinstance(value, ast.Subscript) and _constant_index(value.slice):
                inner = value.value  # x[0, :, 5]: a fixed part (a mask or index picks data, not a part)
            if inner is None:
                return None
            value = inner
        return None

    def repaired(self, node: ast.AST) -> bool:
        """Whether non-finite results of ``node`` are cleaned up: inside ``nan_to_num``/``nansum``/``nanmean``,
        a ``where`` on ``isnan``/``isfinite``, or assigned to a name that is then repaired (``r[r != r] = 0``,
        ``r[isnan(r)] = 0``, ``r = nan_to_num(r)``, ``r.masked_fill_(isnan(r), 0)``)."""
        module = self.module
        current: ast.AST = node
        for ancestor in module.ancestors(node):
            if self._repairs(ancestor, current):
                return True
            if isinstance(ancestor, ast.Assign) and len(ancestor.targets) == 1 and isinstance(
                    ancestor.targets[0], ast.Name):
                flow = self.flow_of(ancestor)
                d = next((d for d in (flow.defs.get(ancestor.targets[0].id, ()) if flow else ())
                          if d.node is ancestor), None)
                return d is not None and flow is not None and self._def_repaired(flow, d)
            if isinstance(ancestor, (ast.stmt, ast.Lambda)):
                return False
            current = ancestor
        return False

    def _def_repaired(self, flow: Flow, d: Def, depth: int = 2) -> bool:
        """Whether a use of ``d`` cleans it: a repair around it, ``r[isnan(r)] = 0``, ``masked_fill_``, a test
        of it that leaves the function or the iteration where it is not finite (``if not isfinite(r).all():
        return``), or the same through the name's next value (``r = r * s``, then one of these)."""
        module = self.module
        for use in flow.uses.get(id(d), {}).values():
            parent = module.parent(use)
            for ancestor in (parent, *module.ancestors(parent)) if parent is not None else ():
                if self._repairs(ancestor, use):
                    return True
                if isinstance(ancestor, ast.stmt):
                    if isinstance(ancestor, ast.If) and ancestor.body and isinstance(
                            ancestor.body[-1], (ast.Return, ast.Raise, ast.Continue)) and _nan_test(
                            self, ancestor.test, use):
                        return True
                    if depth and isinstance(ancestor, ast.Assign) and len(ancestor.targets) == 1 and isinstance(
                            ancestor.targets[0], ast.Name) and ancestor.targets[0].id == d.name:
                        after = next((n for n in flow.defs.get(d.name, ()) if n.node is ancestor), None)
                        if after is not None and after is not d and self._def_repaired(flow, after, depth - 1):
                            return True
                    break
            if isinstance(parent, ast.Subscript) and isinstance(module.parent(parent), ast.Assign) and (
                    parent in module.parent(parent).targets) and _nan_test(self, parent.slice, use):
                return True
            if isinstance(parent, ast.Attribute) and parent.attr in ("masked_fill_", "nan_to_num_"):
                call = module.parent(parent)
                if parent.attr == "nan_to_num_" or isinstance(call, ast.Call) and call.args and _nan_test(
                        self, call.args[0], use):
                    return True
        for later in flow.defs.get(d.name, ()):
            if later.kind == "mutate" and d in later.prev and isinstance(later.node, ast.Assign):
                target = later.node.targets[0]
                if isinstance(target, ast.Subscript) and _nan_test(self, target.slice, None):
                    return True
        return False

    def _repairs(self, node: ast.AST, child: ast.AST) -> bool:
        call = self.module.op(node) if isinstance(node, ast.Call) else None
        if call is None:
            return False
        if call.op in _REPAIRS:
            return True
        if call.op == "where":
            cond = _where_args(call)[0]
            return cond is not None and cond is not child and _nan_test(self, cond, None)
        return call.op in ("minimum", "clamp", "clip", "clamp_max") and self.value(node).hi is not None and (
            call.input is not child or clip_bounds(call)[1] is not None)

    def gradient(self, node: ast.AST) -> bool:
        """Whether a gradient can flow through ``node``: its value may carry one (not an integer, bool, NumPy
        array, Python number or detached value) and no ``no_grad``/``inference_mode`` block or decorator
        encloses it."""
        value = self.value(node)
        if value.grad is False or value.kind in ("numpy", "number", "other") or value.integral:
            return False
        return not self.no_grad_context(node)

    def minimised(self, node: ast.AST) -> bool:
        """Whether ``node``'s value is minimised, whole or as a positive part: it flows forward into
        ``.backward()``, ``tape.gradient``, an optimizer's ``minimize``, or out of a function handed to a minimiser
        (``jax.grad``, ``compile(loss=...)``) or whose calls' results are minimised (``objectives``)."""
        return objectives.minimised(self.module, node)

    def ascended(self, holder: ast.AST) -> bool:
        """Whether the parameter ``holder`` makes (``nn.Parameter(...)``, ``tf.Variable(...)``) is trained by
        gradient ascent: an optimizer with ``maximize=True`` or a negated gradient (``objectives``)."""
        return objectives.ascended(self.module, holder)

    def no_grad_context(self, node: ast.AST) -> bool:
        """Code no gradient flows through: under ``torch.no_grad()``/``inference_mode``, in a function decorated
        with them, or in a class that is never differentiated: a metric (``torchmetrics.Metric``,
        ``keras.metrics.Metric``, ``ignite.metrics.Metric``, or ``is_differentiable = False``), an optimizer
        (its update runs on gradients, it does not make them), a Keras weight constraint."""
        module = self.module
        for ancestor in module.ancestors(node):
            if isinstance(ancestor, (ast.With, ast.AsyncWith)) and any(
                    _no_grad_call(module, item.context_expr) for item in ancestor.items):
                return True
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    _no_grad_call(module, d) for d in ancestor.decorator_list):
                return True
            if isinstance(ancestor, ast.ClassDef) and self._undifferentiated_class(ancestor):
                return True
        return False

    def _undifferentiated_class(self, cls: ast.ClassDef, depth: int = 3) -> bool:
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "is_differentiable"
                                                    for t in stmt.targets):
                return self.module.const(stmt.value) == 0.0 or (
                    isinstance(stmt.value, ast.Constant) and stmt.value.value is False)
        for base in cls.bases:
            qualname = self.module.qualname(base) or ""
            last = qualname.rpartition(".")[2]
            if qualname.partition(".")[0] in _NO_GRAD_LIBRARIES and last in _NO_GRAD_BASES:
                return True
            local = self._local_class(base) if depth else None
            if local is not None and local is not cls and self._undifferentiated_class(local, depth - 1):
                return True
        return False

    def guarded(self, node: ast.AST | None, depth: int = 4) -> bool:
        """Whether ``node`` is kept away from 0: its value is never 0, or a positive constant is visibly added
        to it (``x + 1e-8`` with ``x`` of unknown sign), followed through the definitions that reach it; so is
        a square of a guarded value and a sum of non-negative terms one of which is guarded (``a ** 2 + b ** 2``
        with ``a = dx + eps``: 0 only where ``dx`` is exactly ``-eps``, not where two points coincide)."""
        if node is None:
            return False
        if self.value(node).zero is Zero.NEVER:
            return True
        if depth <= 0:
            return False
        added = self.module.arith(node)  # x + 1e-8, x.add(eps), x.add_(eps)
        if added is not None and added.op is ast.Add and added.right is not None:
            if any(self._positive_constant(side) for side in (added.left, added.right)):
                return True
            sides = (added.left, added.right)
            return all(self.value(side).nonnegative for side in sides) and any(
                self.guarded(side, depth - 1) for side in sides)
        if added is not None and added.op is ast.Pow and added.right is not None and (
                self.module.const(added.right) or 0) > 0:
            return self.guarded(added.left, depth - 1)
        squared = self.module.op(node)
        if squared is not None and squared.op == "square":
            return self.guarded(squared.input, depth - 1)
        if isinstance(node, ast.Name):
            defs = self.definitions(node)
            return bool(defs) and all(self._guarding(d, depth - 1) for d in defs)
        inner = self.unwrapped(node)
        return inner is not None and self.guarded(inner, depth - 1)

    def _positive_constant(self, node: ast.AST) -> bool:
        value = self.value(node)
        return value.positive and (value.kind == "number" or value.lo == value.hi)

    def _guarding(self, d: Def, depth: int) -> bool:
        """A definition that keeps its name away from 0: ``x = v + eps``, ``x += eps``, ``x.add_(eps)``."""
        if d.kind == "assign":
            return self.guarded(d.value, depth)
        if d.kind == "aug":
            return isinstance(d.node, ast.AugAssign) and isinstance(d.node.op, ast.Add) and d.value is not None and (
                self._positive_constant(d.value))
        return d.kind == "mutate" and self.guarded(d.node, depth)

    # ----- shapes ---------------------------------------------------------------------------------------------
    def same_shape(self, a: ast.AST, b: ast.AST, at: ast.AST | None = None) -> bool:
        """Whether ``a`` and ``b`` have the same shape by construction (the precondition of a loss that, unlike
        the formula it replaces, does not broadcast): one value, or one made from the other by an elementwise op,
        a cast, ``view_as``/``expand_as``, ``reshape(o.shape)``, ``zeros_like(o)``; or an ``assert a.shape ==
        b.shape`` (``if ... != ...: raise``) holds at ``at`` (default: ``b``)."""
        left, right = self._shape(a), self._shape(b)
        if left is None or right is None:
            return False
        if left == right:
            return True
        for test, holds in self.conditions(at if at is not None else b):
            if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.NotEq)) \
                    and holds is isinstance(test.ops[0], ast.Eq):
                sides = [self._shape_of_size(n) for n in (test.left, test.comparators[0])]
                if None not in sides and {sides[0], sides[1]} == {left, right}:
                    return True
        return False

    def _shape(self, node: ast.AST | None, depth: int = 8) -> tuple | None:
        """A token equal for expressions of one shape: the definition or attribute the shape comes from."""
        if node is None or depth <= 0:
            return None
        if isinstance(node, ast.Name):
            defs = self.definitions(node)
            tokens = {self._shape(d.value, depth - 1) if d.kind == "assign" else ("def", id(d)) for d in defs}
            return tokens.pop() if len(tokens) == 1 else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and self.module.qualname(node) is None:
            return ("attr", ast.dump(node))  # self.target
        if isinstance(node, ast.UnaryOp):
            return self._shape(node.operand, depth - 1)
        if isinstance(node, (ast.BinOp, ast.Compare)):
            sides = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.left, *node.comparators]
            tensors = [n for n in sides if not _scalar(self.module, n)]
            return self._shape(tensors[0], depth - 1) if len(tensors) == 1 else None
        if not isinstance(node, ast.Call):
            return None
        func, args = node.func, node.args
        method = isinstance(func, ast.Attribute) and self.module.qualname(func) is None
        name = func.attr if isinstance(func, ast.Attribute) and method else (
            self.module.qualname(func) or "").rpartition(".")[2]
        if method and name in ("view_as", "reshape_as", "expand_as") and len(args) == 1:
            return self._shape(args[0], depth - 1)
        if name in ("view", "reshape", "expand", "broadcast_to") and len(args) == 1 + (not method):
            return self._shape_of_size(args[-1], depth - 1)
        if name.endswith("_like") and args:
            return self._shape(args[0], depth - 1)
        receiver = func.value if isinstance(func, ast.Attribute) and method else (args[0] if args else None)
        rest = args if method else args[1:]
        call = self.module.op(node)
        keeps = name in _CASTS or name in _SHAPE_KEEPING or (call is not None and call.op in _SHAPE_KEEPING)
        if keeps and receiver is not None and (name in ("to", "type_as") or all(_scalar(self.module, n) for n in (
                *rest, *(k.value for k in node.keywords)))):  # x.to(other), x.type_as(other): only its dtype
            return self._shape(receiver, depth - 1)
        return None

    def same_dtype(self, a: ast.AST, b: ast.AST) -> bool:
        """Whether ``a`` and ``b`` have the same dtype: both known and equal, or one made from the other by a
        view, a copy or a cast to the other's dtype (``y.type_as(z)``, ``y.to(z.dtype)``, ``zeros_like(z)``)."""
        left, right = self._dtype(a), self._dtype(b)
        return left is not None and left == right

    def _dtype(self, node: ast.AST | None, depth: int = 8) -> tuple | None:
        """A token equal for expressions of one dtype: the dtype itself where known, else where it comes from."""
        if node is None or depth <= 0:
            return None
        known = self.value(node).dtype
        if known is not None:
            return ("dtype", known)
        if isinstance(node, ast.Name):
            defs = self.definitions(node)
            tokens = {self._dtype(d.value, depth - 1) if d.kind == "assign" else ("def", id(d)) for d in defs}
            return tokens.pop() if len(tokens) == 1 else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and self.module.qualname(node) is None:
            return ("attr", ast.dump(node))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self._dtype(node.operand, depth - 1)
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            return None
        func, args = node.func, node.args
        if self.module.qualname(func) is not None:  # torch.zeros_like(z) (no dtype= of its own)
            like = func.attr.endswith("_like") and args and not any(k.arg == "dtype" for k in node.keywords)
            return self._dtype(args[0], depth - 1) if like else None
        other = args[0] if len(args) == 1 and not node.keywords else next(
            (k.value for k in node.keywords if k.arg == "dtype"), None) if not args else None
        if func.attr in ("type_as", "to") and other is not None:  # y.type_as(z), y.to(z), y.to(z.dtype)
            if isinstance(other, ast.Attribute) and other.attr == "dtype":
                return self._dtype(other.value, depth - 1)
            return self._dtype(other, depth - 1) if self.value(other).tensor or func.attr == "type_as" else None
        if func.attr in dataflow.VIEWS or func.attr in ("clone", "contiguous", "view_as", "reshape_as", "expand_as"):
            return self._dtype(func.value, depth - 1)
        return None

    def _shape_of_size(self, node: ast.AST, depth: int = 8) -> tuple | None:
        """The shape token of ``o`` for ``o.shape``, ``o.size()``, ``tf.shape(o)``."""
        if isinstance(node, ast.Attribute) and node.attr == "shape":
            return self._shape(node.value, depth)
        if isinstance(node, ast.Call) and not node.args and isinstance(node.func, ast.Attribute) and (
                node.func.attr == "size"):
            return self._shape(node.func.value, depth)
        if isinstance(node, ast.Call) and len(node.args) == 1 and (self.module.qualname(node.func) or "").endswith(
                ".shape"):
            return self._shape(node.args[0], depth)
        return None

    def unwrapped(self, node: ast.AST | None) -> ast.expr | None:
        """The operand of an op that keeps its input's values (a dtype, device or layout change: ``d.float()``,
        ``float(d)``, ``d.item()``, ``tf.cast(d, ..)``, ``d[:, None]``, ``x.max(dim)[0]``, ``.values``), else None."""
        module = self.module
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("float", "int") and len(node.args) == 1 and (
                    module.qualname(func) is None):
                return node.args[0]
            call = module.op(node)
            if call is not None and (call.op in _PASS or call.op in ("cast", "detach", "stop_gradient")):
                return call.input
            if isinstance(func, ast.Attribute) and module.qualname(func) is None and (
                    func.attr in _CASTS or func.attr in ("to", "type", "type_as", "item", "cpu", "cuda", "detach",
                                                         "contiguous", "clone")):
                return func.value
        if isinstance(node, ast.Attribute) and node.attr in ("values", "data", "T", "mT"):
            return node.value
        if isinstance(node, ast.Subscript):
            index = node.slice
            elements = index.elts if isinstance(index, ast.Tuple) else [index]
            if all(isinstance(e, ast.Slice) or (isinstance(e, ast.Constant) and e.value in (None, Ellipsis))
                   for e in elements):
                return node.value  # d[:, None], d[..., None]
            call = module.op(module.resolve(node.value))
            if call is not None and call.op in ("max", "min") and module.const(index) == 0.0:
                return node.value  # x.max(dim)[0]
        return None

    def dtype(self, node: ast.AST) -> str | None:
        """The value's dtype where the code says it (a cast, a constructor's ``dtype=``, a mask)."""
        return self.value(node).dtype

    def scalar(self, node: ast.AST | None, depth: int = 4) -> bool:
        """Whether ``node`` holds one number: a Python number, a tensor made of one (``torch.tensor(0.5)``,
        ``tf.constant([1.0])``, ``jnp.array(x.item())``), a constructor of shape ``()`` or ``(1,)``
        (``torch.zeros(())``, ``torch.ones(1)``, ``torch.full([], v)``), or an ``nn.Parameter``/``tf.Variable``
        holding one, followed through names and ``self`` attributes."""
        module = self.module
        if node is None or depth <= 0:
            return False
        if self.value(node).kind == "number":
            return True
        found = module.resolve(node)
        if found is not node:
            return self.scalar(found, depth - 1)
        if isinstance(node, (ast.List, ast.Tuple)):
            return len(node.elts) == 1 and self.scalar(node.elts[0], depth - 1)
        if not isinstance(node, ast.Call):
            return False
        if module.qualname(node.func) in _HOLDERS:
            return self.scalar(node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg in ("data", "initial_value")), None), depth - 1)
        call = module.op(node)
        if call is None:
            return False
        if call.op == "tensor":
            return self.scalar(call.arg(0, "data", "value"), depth - 1)
        if call.op in ("zeros", "ones", "full", "rand", "randn") and call.kind == "function":
            size = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in ("size", "shape")),
                                                       None)
            if size is None or len(node.args) > (2 if call.op == "full" else 1):
                return False  # torch.zeros(2, 3): the shape given as separate sizes
            if isinstance(size, (ast.Tuple, ast.List)):
                return not size.elts or len(size.elts) == 1 and module.const(size.elts[0]) == 1.0
            return module.const(size) == 1.0
        return False


# ===== helpers (pure functions of values and nodes) ===========================================================
_PENDING = Value(kind="<pending>")
_MISSING = object()


def _def_order(d: Def) -> tuple[int, int]:
    return getattr(d.node, "lineno", 0), getattr(d.node, "col_offset", 0)


def _forget(cache: dict, size: int) -> None:
    """Drop the entries added to ``cache`` after it held ``size`` of them."""
    for _ in range(len(cache) - size):
        cache.popitem()  # the newest first


class _Probe:
    """An op applied in place (``x.clamp_(min=1)``): an OpCall-like record whose input value is known."""

    kind = "method"

    def __init__(self, op: str, node: ast.Call, before: Value) -> None:
        self.op, self.node, self.input_value = op, node, before
        self.framework = before.kind or "torch"
        self.receiver = node.func.value  # type: ignore[attr-defined]
        self.input = self.receiver

    def arg(self, index: int, *names: str) -> ast.expr | None:
        for keyword in self.node.keywords:
            if keyword.arg in names:
                return keyword.value
        if index == 0:
            return self.receiver
        index -= 1
        return self.node.args[index] if 0 <= index < len(self.node.args) else None


# Wrappers that hold their first argument as a trainable tensor of the same shape.
_HOLDERS = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter", "tensorflow.Variable"})
_PASS = frozenset({"reshape", "transpose", "permute", "squeeze", "unsqueeze", "broadcast_to", "tile", "flatten",
                   "flip", "roll", "gather", "narrow", "clone", "masked_select", "boolean_mask"})
# Ops and methods whose result has their input's shape when every other argument is a number, a dtype or a
# string (an axis, a bound, a dtype): elementwise math, activations along an axis, casts, copies.
_SHAPE_KEEPING = frozenset({
    "log", "log1p", "log2", "log10", "exp", "expm1", "sqrt", "rsqrt", "square", "abs", "sigmoid", "softplus",
    "relu", "tanh", "cosh", "sign", "reciprocal", "erf", "clamp", "clamp_min", "clamp_max", "clip", "nan_to_num",
    "logsigmoid", "softmax", "log_softmax", "neg", "cast", "detach", "stop_gradient", "clone", "contiguous", "to",
    "type", "type_as", "cpu", "cuda", "pow", "round", "floor", "ceil", "requires_grad_",
})
_LOSSES = frozenset({"bce", "bce_logits", "cross_entropy", "nll", "mse", "mae", "smooth_l1", "huber", "log_loss",
                     "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
                     "sigmoid_ce_logits", "softmax_ce_logits", "sparse_softmax_ce_logits", "log_cosh", "ctc",
                     "weighted_ce_logits", "kl_div", "keras_kl_div"})
_MASKS = frozenset({"eq", "ne", "gt", "lt", "ge", "le", "logical", "logical_not", "isfinite", "isinf", "isnan"})
_CONSTRUCTORS = frozenset({"tensor", "zeros", "ones", "full", "arange", "linspace", "eye", "rand", "randn"})
_MIRROR = {ast.Gt: ast.Lt, ast.Lt: ast.Gt, ast.GtE: ast.LtE, ast.LtE: ast.GtE, ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}
_NEGATED = {ast.Gt: ast.LtE, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.LtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
# Where a clip-like op takes its bounds (position in the signature, then keyword spellings).
_LOWER = (1, "min", "clip_value_min", "a_min", "x_min", "min_value")
_UPPER = (2, "max", "clip_value_max", "a_max", "x_max", "max_value")


def clip_bounds(call) -> tuple[ast.expr | None, ast.expr | None]:
    """The (lower, upper) bound expressions of a clamp/clip/clamp_min/clamp_max/maximum/minimum call."""
    if call.op in ("clamp_min", "maximum"):
        return call.arg(1, "min", "other", "y", "x2"), None
    if call.op in ("clamp_max", "minimum"):
        return None, call.arg(1, "max", "other", "y", "x2")
    return call.arg(*_LOWER), call.arg(*_UPPER)


def _where_args(call) -> tuple[ast.expr | None, ast.expr | None, ast.expr | None]:
    return call.arg(0, "condition", "cond"), call.arg(1, "x", "input", "x1", "self"), call.arg(2, "y", "other", "x2")


def _bounded(value: Value, op: type | None, c: float) -> Value:
    """``value`` known to satisfy ``value <op> c``."""
    lo, hi, zero = value.lo, value.hi, value.zero
    if op is ast.Gt or op is ast.GtE:
        lo = c if lo is None else max(lo, c)
        if c > 0 or (c == 0 and op is ast.Gt):
            zero = Zero.NEVER
    elif op is ast.Lt or op is ast.LtE:
        hi = c if hi is None else min(hi, c)
        if c < 0 or (c == 0 and op is ast.Lt):
            zero = Zero.NEVER
    elif op is ast.NotEq and c == 0:
        zero = Zero.NEVER
    elif op is ast.Eq:
        return value.but(lo=c, hi=c, zero=Zero.EXACT if c == 0 else Zero.NEVER)
    else:
        return value
    return value.but(lo=lo, hi=hi, zero=zero)


def _through_constants(facts: Facts, use: ast.Name) -> tuple[ast.AST | None, ast.AST]:
    """The parent of the expression ``use`` is part of when only constants join it (``1 - p``, ``-p``, ``2 * p``):
    a torch function given ``torch.log(1 - p)`` needs ``p`` to be a tensor, since ``1 - p`` must be one."""
    module = facts.module
    current: ast.AST = use
    parent = module.parent(use)
    while isinstance(parent, (ast.BinOp, ast.UnaryOp)):
        if isinstance(parent, ast.BinOp):
            other = parent.right if parent.left is current else parent.left
            if facts.value(other).kind != "number":
                break
        current, parent = parent, module.parent(parent)
    return parent, current


def _counts_position(call) -> int | None:
    """Where ``unique`` returns the counts: after the values and each output asked for before them (PyTorch:
    inverse; NumPy/JAX: index, inverse); ``tf.unique_with_counts`` gives (values, indices, counts)."""
    func = call.node.func
    if call.framework in ("tf", "tf1"):
        return 2 if isinstance(func, ast.Attribute) and func.attr == "unique_with_counts" else None
    if len(call.node.args) > (0 if call.kind == "method" else 1):
        return None  # flags passed by position
    flags = {k.arg: isinstance(k.value, ast.Constant) and k.value.value is True for k in call.node.keywords}
    if not flags.get("return_counts"):
        return None
    before = ("return_inverse",) if call.framework == "torch" or call.kind == "method" else (
        "return_index", "return_inverse")
    return 1 + sum(flags.get(name, False) for name in before)


def _constant_index(index: ast.AST) -> bool:
    """``0``, ``:``, ``...``, ``None``, ``0, :, 5``: an index that picks the same part whatever the data."""
    elements = index.elts if isinstance(index, ast.Tuple) else [index]
    return all(isinstance(e, ast.Constant) and (e.value is None or e.value is Ellipsis or isinstance(e.value, int))
               or isinstance(e, ast.Slice) and all(b is None or isinstance(b, ast.Constant) or (
                   isinstance(b, ast.UnaryOp) and isinstance(b.operand, ast.Constant))
                   for b in (e.lower, e.upper, e.step)) for e in elements)


def _size_of(node: ast.AST) -> bool:
    """``x.shape``, ``x.shape[0]``, ``x.size(1)``, ``len(x)``, ``x.numel()``: the size of something."""
    while isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr in ("shape", "size")
    if isinstance(node, ast.Call):
        func = node.func
        return isinstance(func, ast.Name) and func.id == "len" or isinstance(func, ast.Attribute) and (
            func.attr in ("size", "numel", "dim"))
    return False


def _includes_extreme(facts: Facts, node: ast.Compare) -> bool:
    """``x >= x.max(...)``, ``x == x.amax(...)``, ``x <= x.min(...)``: a mask true at the extreme, so somewhere."""
    if len(node.ops) != 1:
        return False
    op, left, right = node.ops[0], node.left, node.comparators[0]
    module = facts.module
    call = module.op(module.resolve(right))
    if call is None or call.input is None:
        return False
    wanted = {"max": (ast.GtE, ast.Eq), "amax": (ast.GtE, ast.Eq), "min": (ast.LtE, ast.Eq),
              "amin": (ast.LtE, ast.Eq)}.get(call.op, ())
    return isinstance(op, wanted) and (_same_value(facts, left, call.input) or module.text(left) == module.text(
        call.input))


def _same_value(facts: Facts, a: ast.AST, b: ast.AST) -> bool:
    """Two expressions that read the same value: the same name with the same definitions, the same fixed part of
    one (``v[..., 1]``), or equal text of a name-free expression (``self.n``)."""
    if isinstance(a, ast.Name) and isinstance(b, ast.Name):
        return a.id == b.id and facts.definitions(a) == facts.definitions(b)
    if isinstance(a, ast.Attribute) and isinstance(b, ast.Attribute):
        return ast.dump(a) == ast.dump(b)
    if isinstance(a, ast.Subscript) and isinstance(b, ast.Subscript) and _constant_index(a.slice):
        return ast.dump(a.slice) == ast.dump(b.slice) and _same_value(facts, a.value, b.value)  # v[..., 1]
    return False


def _excludes_zero(facts: Facts, index: ast.AST, base: ast.AST) -> bool:
    """An index that keeps only the nonzero entries of ``base``: ``x[x != 0]``, ``x[x > 0]``, ``x[m]`` with
    ``m = x > 0``."""
    module = facts.module
    cond = module.resolve(index)
    if not (isinstance(cond, ast.Compare) and len(cond.ops) == 1):
        return False
    op, left, right = cond.ops[0], cond.left, cond.comparators[0]
    if not _same_value(facts, left, base) and not (module.text(left) == module.text(base)):
        return False
    c = facts.value(right)
    if c.lo is None or c.lo != c.hi:
        return False
    return (isinstance(op, ast.Gt) and c.lo >= 0) or (isinstance(op, ast.NotEq) and c.lo == 0) or (
        isinstance(op, ast.GtE) and c.lo > 0)


def _picks_zeros(facts: Facts, index: ast.AST, base: ast.AST) -> bool:
    """``x[x == 0]``, ``x[x <= c]``/``x[x < c]`` (c > 0 small): an index that selects the zero entries."""
    cond = facts.module.resolve(index)
    if not (isinstance(cond, ast.Compare) and len(cond.ops) == 1):
        return False
    if facts.module.text(cond.left) != facts.module.text(base):
        return False
    c = facts.value(cond.comparators[0])
    op = cond.ops[0]
    return c.lo is not None and c.lo == c.hi and (
        (isinstance(op, ast.Eq) and c.lo == 0) or (isinstance(op, (ast.Lt, ast.LtE)) and c.lo >= 0))


def _nan_test(facts: Facts, cond: ast.AST, value: ast.AST | None) -> bool:
    """``isnan(r)``, ``~isfinite(r)``, ``isinf(r)``, ``r != r`` (of ``value`` when given)."""
    module = facts.module
    cond = module.resolve(cond)
    for _ in range(4):  # bool(isfinite(r).all()), isnan(r).flatten(1).any(1): the test of every element
        call = module.op(cond) if isinstance(cond, ast.Call) else None
        if call is not None and (call.op in ("any", "all", "reshape", "flatten") or call.op in _PASS):
            cond = module.resolve(call.input)
        elif isinstance(cond, ast.Call) and isinstance(cond.func, ast.Name) and cond.func.id == "bool" and (
                len(cond.args) == 1 and module.qualname(cond.func) is None):
            cond = module.resolve(cond.args[0])
        elif isinstance(cond, ast.Call) and isinstance(cond.func, ast.Attribute) and cond.func.attr in (
                "flatten", "view", "reshape", "item") and module.op(cond) is None:
            cond = module.resolve(cond.func.value)
        else:
            break
    if isinstance(cond, ast.UnaryOp) and isinstance(cond.op, (ast.Invert, ast.Not)):
        return _nan_test(facts, cond.operand, value)
    if isinstance(cond, ast.BinOp) and isinstance(cond.op, (ast.BitOr, ast.BitAnd)):
        return _nan_test(facts, cond.left, value) or _nan_test(facts, cond.right, value)
    if isinstance(cond, ast.Compare) and len(cond.ops) == 1 and isinstance(cond.ops[0], ast.NotEq):
        return module.text(cond.left) == module.text(cond.comparators[0])
    call = module.op(cond)
    if call is not None and call.op in _NAN_TESTS:
        return value is None or module.text(call.input) == module.text(value) if call.input is not None else True
    if isinstance(cond, ast.Call) and isinstance(cond.func, ast.Attribute) and cond.func.attr in _NAN_TESTS:
        return True
    return False


def _normalised(facts: Facts, numerator: ast.AST, divisor: ast.AST, frame: Frame | None) -> bool:
    """``e / e.sum(dim)`` with ``e`` non-negative (a softmax by hand, ``exp(x) / exp(x).sum()``): probabilities."""
    module = facts.module
    reduction = module.op(module.resolve(divisor))
    if reduction is None or reduction.op != "sum" or reduction.input is None:
        return False
    if module.text(reduction.input) != module.text(numerator) and not (
            isinstance(reduction.input, ast.Name) and isinstance(numerator, ast.Name) and _same_value(
                facts, reduction.input, numerator)):
        return False
    top = facts.value(numerator, frame)
    return top.nonnegative and top.zero <= Zero.ROUNDING


def _is_reduction(facts: Facts, call, frame: Frame | None) -> bool:
    """``max``/``min`` reduce unless a second tensor is given (``torch.max(a, b)``, ``a.max(b)``)."""
    if call.op in ("topk", "sort", "amax", "amin"):
        return True
    positional = len(call.node.args) + (call.receiver is not None)
    other = call.arg(1, "other")
    if positional < 2 or other is None:
        return True
    value = facts.value(other, frame)
    return value.kind == "number" and value.dtype == "int" or isinstance(other, ast.Constant)


def _degenerate(x: Value, facts: Facts, call) -> Zero:
    """A norm or std: 0 for a zero vector or a constant input; never for a random draw (probability 0)."""
    if x.origin is not None:
        made = facts.module.op(x.origin)
        if made is not None and made.op in ("rand", "randn"):
            return Zero.NEVER
    inner = facts.module.op(facts.module.resolve(call.input)) if call.input is not None else None
    if inner is not None and inner.op == "where" and any(
            facts.value(branch).positive for branch in _where_args(inner)[1:]):
        return Zero.UNKNOWN  # sanitized first: where(small, ones, v).norm(), the double-where idiom
    if call.op == "norm" and (x.positive or x.role == "orthonormal"):
        return Zero.NEVER  # an eigenvector (a row or column of an orthogonal matrix) has norm 1
    return Zero.DEGENERATE


def root_matches(node: ast.AST, name: str) -> bool:
    return dataflow.root_name(node) == name


def _receiver_param(module, function: ast.AST | None, arg: ast.AST) -> bool:
    """The first parameter of a method (``self``, ``cls``), which holds the instance or the class."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or not _bound_method(module, function):
        return False
    positional = [*function.args.posonlyargs, *function.args.args]
    return bool(positional) and positional[0] is arg


def _called(module, name: ast.Name) -> bool:
    parent = module.parent(name)
    return isinstance(parent, ast.Call) and parent.func is name


def _bound_method(module, function: ast.AST) -> bool:
    """A function defined in a class body and not a staticmethod: its first parameter is the instance or class
    (a function nested in a method is not one)."""
    return isinstance(module.parent(function), ast.ClassDef) and not _is_static(function)


def _is_static(function: ast.AST) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in getattr(function, "decorator_list", ()))


def _no_grad_call(module, node: ast.AST) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return (module.qualname(target) or "").rpartition(".")[2] in _NO_GRAD


def _own_finfo(facts: Facts, bound: ast.AST, x: ast.AST | None) -> bool:
    """``finfo(x.dtype).tiny`` (``eps``, ``smallest_normal``) as a bound of ``x``: positive in x's own dtype,
    whatever dtype that is."""
    bound = facts.module.resolve(bound)
    if not (isinstance(bound, ast.Attribute) and bound.attr in ("eps", "tiny", "smallest_normal") and
            _finfo_call(facts.module, bound.value) and x is not None):
        return False
    args = bound.value.args  # type: ignore[attr-defined]
    return bool(args) and isinstance(args[0], ast.Attribute) and args[0].attr == "dtype" and _same_value(
        facts, args[0].value, x)


def _finfo_call(module, node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and (module.qualname(node.func) or "").rpartition(".")[2] == "finfo"


def _dtype_literal(module, node: ast.AST | None) -> str | None:
    """``torch.float16``, ``tf.float32``, ``"float16"``, ``jnp.bfloat16`` -> the dtype."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _DTYPES.get(node.value)
    qualname = module.qualname(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
    if qualname is not None:
        last = qualname.rpartition(".")[2]
        if qualname.partition(".")[0] in ("torch", "tensorflow", "jax", "numpy", "keras") or last in _DTYPES:
            return _DTYPES.get(last)
    if isinstance(node, ast.Name) and node.id in ("float", "int", "bool"):
        return {"float": "f64", "int": "int", "bool": "bool"}[node.id]
    return None


def _qualified_constant(qualname: str) -> Value:
    last = qualname.rpartition(".")[2]
    if last in ("inf", "infty", "Inf"):
        return Value("number", "f64", math.inf, math.inf, Zero.NEVER, Zero.EXACT, None, False)
    if last in ("pi", "e", "tau"):
        number = {"pi": math.pi, "e": math.e, "tau": math.tau}[last]
        return constant(number, "f64")
    if last in ("nan", "NaN"):
        return Value("number", "f64", grad=False)
    return Value("other", grad=False)


def _mask(kind: str | None, grad: bool | None) -> Value:
    return Value(kind, "bool", 0.0, 1.0, Zero.EXACT, Zero.EXACT, "mask", False, cause="count")


def _indices(kind: str | None) -> Value:
    return Value(kind, "int", 0.0, None, Zero.EXACT, Zero.UNKNOWN, "index", False)


def _grad_none() -> bool | None:
    return None


def _grad(a: Value, b: Value) -> bool | None:
    if a.grad or b.grad:
        return True
    if a.grad is False and b.grad is False:
        return False
    return None


def _cast(x: Value, dtype: str | None, kind: str | None) -> Value:
    if dtype is None:
        return x.but(dtype=None)
    grad = False if dtype in ("int", "bool") else x.grad
    role = x.role if dtype not in ("int", "bool") or x.role in ("mask", "count", "index") else x.role
    if x.dtype == "bool" and dtype not in ("bool",):
        role = "hits" if x.role == "hits" else "mask"
    return x.but(kind=x.kind or kind, dtype=dtype, grad=grad, role=role)


def _as_tensor_number(a: Value, other: Value) -> Value:
    """A Python number combined with a tensor is stored in the tensor's float dtype (``1 - 1e-8`` is 1.0 beside
    a float32 tensor)."""
    if a.kind == "number" and other.tensor and a.lo is not None and a.lo == a.hi:
        dtype = float_dtype(other)
        value = rounded(a.lo, dtype)
        return a.but(lo=value, hi=value, zero=Zero.EXACT if value == 0 else Zero.NEVER)
    return a


def _negate(v: Value) -> Value:
    lo = None if v.hi is None else -v.hi
    hi = None if v.lo is None else -v.lo
    return Value(v.kind, v.dtype, lo, hi, v.zero, Zero.UNKNOWN, None, v.grad)


def _add(a: Value, b: Value, kind: str | None, dtype: str | None, grad: bool | None,
         difference: tuple[Value, Value] | None = None) -> Value:
    lo = None if a.lo is None or b.lo is None else a.lo + b.lo
    hi = None if a.hi is None or b.hi is None else a.hi + b.hi
    fdtype = dtype if dtype in FLOATS else ("f32" if kind in TENSORS else "f64")
    if lo is not None:
        lo = rounded(lo, fdtype) if kind in TENSORS else lo
    if hi is not None:
        hi = rounded(hi, fdtype) if kind in TENSORS else hi
    top = Zero.UNKNOWN
    if difference is not None:  # a - b
        first, second = difference
        if first.lo is not None and first.lo == first.hi and second.hi is not None and (
                rounded(second.hi, fdtype) == first.lo):
            zero = second.top  # c - p where p reaches c: 0 exactly there
        elif lo is not None and lo > 0 or hi is not None and hi < 0:
            zero = Zero.NEVER
        elif first.lo is not None and first.lo == first.hi and second.zero is Zero.EXACT and first.lo == 0:
            zero = Zero.EXACT
        else:
            zero = Zero.UNKNOWN
        if second.lo is not None and second.lo == second.hi and first.hi is not None:
            top = first.top
        complement = first.lo == first.hi == 1.0 and second.role == "probs"  # 1 - p: the other outcome's
        if first.lo is not None and first.lo == first.hi and second.lo == 0.0:
            top = second.zero  # c - p reaches c where p reaches 0
        return Value(kind, dtype, lo, hi, zero, top, "probs" if complement else None, grad)
    if lo is not None and lo > 0 or hi is not None and hi < 0:
        zero = Zero.NEVER
    elif a.nonnegative and b.nonnegative:
        zero = min(a.zero, b.zero)  # 0 only when both are
        if zero is Zero.UNKNOWN:
            zero = Zero.DEGENERATE  # dx ** 2 + dy ** 2: 0 where both terms are, as a sum of squares is
        if a.positive or b.positive:
            zero = Zero.NEVER if (a.positive and survives(a.lo or 0, fdtype)) or (
                b.positive and survives(b.lo or 0, fdtype)) else Zero.ROUNDING
    else:
        zero = Zero.UNKNOWN
    role = a.role if a.role == b.role and a.role in ("count",) else None
    if a.lo is not None and a.lo == a.hi and b.hi is not None:
        top = b.top
    elif b.lo is not None and b.lo == b.hi and a.hi is not None:
        top = a.top
    cause = (a.cause if a.cause == b.cause else "sum") if zero >= Zero.DEGENERATE else None
    if cause is None and zero >= Zero.DEGENERATE and any(v.tensor and v.lo == v.hi == 0 for v in (a, b)):
        cause = "sum"  # zeros(n) + x: an accumulation from an empty sum
    return Value(kind, dtype, lo, hi, zero, top, role, grad, cause=cause)


def _product(a: Value, b: Value, kind: str | None, dtype: str | None, grad: bool | None) -> Value:
    lo = hi = None
    if a.nonnegative and b.nonnegative:
        lo = (a.lo or 0.0) * (b.lo or 0.0)
        hi = a.hi * b.hi if a.hi is not None and b.hi is not None else None
    elif a.lo is not None and a.lo == a.hi:
        lo, hi = _scaled(b, a.lo)
    elif b.lo is not None and b.lo == b.hi:
        lo, hi = _scaled(a, b.lo)
    elif a.hi is not None and a.hi <= 0 and b.nonnegative or b.hi is not None and b.hi <= 0 and a.nonnegative:
        hi = 0.0  # a non-positive times a non-negative value
    zero = max(a.zero, b.zero)
    if a.role == "mask" or b.role == "mask":
        zero = max(zero, Zero.EXACT)
    role = "mask" if a.role == "mask" and b.role == "mask" else (
        "probs" if a.role == "probs" and b.role == "probs" else None)
    top = Zero.UNKNOWN
    if a.hi == 1.0 and b.hi == 1.0 and a.nonnegative and b.nonnegative:
        top = max(a.top, b.top)
    cause = (a.cause if a.zero >= b.zero else b.cause) if zero >= Zero.DEGENERATE else None
    if zero >= Zero.DEGENERATE and cause is None:
        cause = "count" if (a.role == "mask" or b.role == "mask") else None
    return Value(kind, dtype, lo, hi, zero, top, role, grad, cause=cause)


def _scaled(v: Value, c: float) -> tuple[float | None, float | None]:
    """The bounds of ``c * v``."""
    lo = None if v.lo is None else v.lo * c
    hi = None if v.hi is None else v.hi * c
    return (lo, hi) if c >= 0 else (hi, lo)


def _power(a: Value, b: Value, kind: str | None, dtype: str | None, grad: bool | None) -> Value:
    exponent = b.lo if b.lo is not None and b.lo == b.hi else None
    if exponent is None:
        return Value(kind, dtype, 0.0 if a.positive else None, None, Zero.UNKNOWN, grad=grad)
    if exponent == 0:
        return Value(kind, dtype, 1.0, 1.0, Zero.NEVER, Zero.EXACT, None, False)
    even = float(exponent).is_integer() and int(exponent) % 2 == 0
    if exponent < 0:
        return Value(kind, dtype, 0.0 if a.nonnegative or even else None, None, Zero.NEVER, grad=grad)
    lo = 0.0 if a.nonnegative or even else None
    if a.lo is not None and a.lo > 0:
        lo = a.lo ** exponent
    hi = a.hi ** exponent if a.hi is not None and a.nonnegative else None
    zero = a.zero if a.zero is not Zero.NEVER else (
        Zero.ROUNDING if exponent > 1 and not (a.lo and a.lo >= 1) else Zero.NEVER)
    cause = ("norm" if a.cause == "sum" and exponent < 1 else a.cause) if zero >= Zero.DEGENERATE else None
    return Value(kind, dtype, lo, hi, zero, a.top, None, grad, cause=cause)


def _extreme(values: list[Value], maximum: bool) -> Value:
    """``max(a, b)``/``maximum``: the bounds of the larger (a positive operand makes it positive)."""
    known_lo = [v.lo for v in values if v.lo is not None]
    lo = (max(known_lo) if known_lo else None) if maximum else (
        min(v.lo for v in values) if all(v.lo is not None for v in values) else None)  # type: ignore[type-var]
    his = [v.hi for v in values]
    hi = (max(his) if all(h is not None for h in his) else None) if maximum else (  # type: ignore[type-var]
        min(h for h in his if h is not None) if any(h is not None for h in his) else None)
    if lo is not None and lo > 0 or hi is not None and hi < 0:
        zero = Zero.NEVER
    elif maximum and any(v.positive for v in values):
        zero = Zero.NEVER
    else:
        zero = max(v.zero for v in values)
    kind = next((v.kind for v in values if v.tensor), values[0].kind)
    dtype = values[0].dtype if all(v.dtype == values[0].dtype for v in values) else None
    grad = True if any(v.grad for v in values) else (False if all(v.grad is False for v in values) else None)
    return Value(kind, dtype, lo, hi, zero, Zero.UNKNOWN, None, grad)


def framework_roots(names: Iterable[str]) -> set[str]:
    return {n.partition(".")[0] for n in names} & apis.FRAMEWORK_ROOTS


def project_path(module_path: str, statement: ast.ImportFrom | ast.Import, name: str) -> str | None:
    """The file of a project module an import names (relative, or a top package beside the file or at its
    package root), or None."""
    path = os.path.abspath(module_path)
    folder = os.path.dirname(path)
    if isinstance(statement, ast.ImportFrom):
        if statement.level:
            base = folder
            for _ in range(statement.level - 1):
                base = os.path.dirname(base)
            parts = (statement.module or "").split(".") if statement.module else []
        else:
            parts = (statement.module or "").split(".")
            found = _root_holding(folder, parts[0])
            if found is None:
                return None
            base = found
        candidate = os.path.join(base, *parts)
        for option in (candidate + ".py", os.path.join(candidate, "__init__.py")):
            if parts and os.path.isfile(option):
                return option
        return None
    return None


def _root_holding(folder: str, top: str) -> str | None:
    if not top or top in apis.LIBRARY_ROOTS:
        return None
    root = folder
    while os.path.isfile(os.path.join(root, "__init__.py")):
        root = os.path.dirname(root)
    for base in (folder, root):
        if os.path.isfile(os.path.join(base, top + ".py")) or os.path.isdir(os.path.join(base, top)):
            return base
    return None


Transfer = Callable[..., Value]


def _alias_of(value: ast.AST | None) -> str | None:
    """The name a value shares storage with: a plain copy or view (``dataflow.alias_base``), or a cast, which
    returns its receiver itself when the dtype already matches (``z.float()`` of a float32 ``z``)."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and (
            value.func.attr in _CASTS or value.func.attr in ("to", "type_as", "contiguous")):
        return dataflow.root_name(value.func.value)
    return dataflow.alias_base(value)


def _changed_attribute(scope: ast.AST, attribute: ast.Attribute) -> bool:
    """Whether ``scope`` assigns, or changes in place, the attribute read by ``attribute`` (``self.w = ...``,
    ``self.w[i] = 0``, ``self.w.mul_(2)``): data flow follows local names only, so this is asked of the whole
    function."""
    key = ast.dump(attribute.value), attribute.attr
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and dataflow.in_place(node.func.attr):
            target: ast.AST = node.func.value
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            target = node
        else:
            continue
        while True:  # x[i], x.view(-1), x.data: x itself
            if isinstance(target, ast.Attribute) and (ast.dump(target.value), target.attr) == key:
                return True
            if isinstance(target, ast.Subscript) or (isinstance(target, ast.Attribute) and
                                                     target.attr in dataflow.VIEWS):
                target = target.value
            elif isinstance(target, ast.Call) and isinstance(target.func, ast.Attribute) and (
                    target.func.attr in dataflow.VIEWS):
                target = target.func.value
            else:
                break
    return False


def _follows(module: "Module", start: ast.stmt, end: ast.stmt) -> bool:  # type: ignore[name-defined]  # noqa: F821
    """Whether ``end`` is, or is inside, a statement after ``start`` in the block that holds ``start``."""
    if end is start:
        return True
    parent = module.parent(start)
    for node in (end, *module.ancestors(end)):
        if module.parent(node) is parent:
            for field in ("body", "orelse", "finalbody", "handlers"):
                block = getattr(parent, field, None)
                if isinstance(block, list) and any(s is start for s in block):
                    return any(s is node for s in block[block.index(start) + 1:])
            return False
    return False


def _scalar(module: "Module", node: ast.AST) -> bool:  # type: ignore[name-defined]  # noqa: F821
    """A number, a string, a dtype or other module constant (``torch.float32``), ``None``: no shape to broadcast."""
    return isinstance(node, ast.Constant) or module.const(node) is not None or module.qualname(node) is not None or (
        module.facts.value(node).kind == "number")

"""LOSS601 tf1-math-api: TensorFlow 1 top-level math names that TensorFlow 2 removed (``tf.log``, ``tf.div`` ...)."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rule import Rule, Safety
from ..semantic.module import Module

# TF1 name -> its TF2 home; None: a cast (``tf.to_float(x)`` -> ``tf.cast(x, tf.float32)``).
_RENAMED = {name: f"tensorflow.math.{name}" for name in (
    "log", "log1p", "log_sigmoid", "reciprocal", "squared_difference", "rsqrt", "expm1", "erf", "lgamma",
    "digamma", "floordiv", "is_nan", "is_inf", "is_finite")}
_RENAMED["div_no_nan"] = "tensorflow.math.divide_no_nan"
_CASTS = {"to_float": "float32", "to_double": "float64", "to_int32": "int32", "to_int64": "int64"}
# Ops whose results are floats (so TF1's ``tf.div`` divided them truly) and ones whose results are integers.
_FLOAT_OPS = frozenset({"log", "log1p", "exp", "sqrt", "sigmoid", "softmax", "log_softmax", "tanh", "mean",
                        "divide", "softplus", "norm"})
_INT_CALLS = frozenset({"shape", "size", "rank", "argmax", "argmin", "count_nonzero", "where"})
_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8")


class Tf1MathApi(Rule):
    code = "LOSS601"
    name = "tf1-math-api"
    summary = "a TensorFlow 1 math name (tf.log, tf.div, tf.to_float ...) that TensorFlow 2 removed"
    severity = "error"
    fix_safety = Safety.SAFE
    frameworks = ("tensorflow",)
    triggers = ("tensorflow",)

    def check(self, module: Module) -> Iterator[Finding]:
        names = {*_RENAMED, *_CASTS, "div"}
        found: list[tuple[ast.AST, ast.Attribute, Fix | None, str]] = []
        for node in module.nodes(ast.Attribute):
            if node.attr not in names or module.qualname(node) != f"tensorflow.{node.attr}":
                continue
            call = module.parent(node)
            call = call if isinstance(call, ast.Call) and call.func is node else None
            fix, replacement = self._fix(module, node, call)
            found.append((call or node, node, fix, replacement))
        # A statement is migrated whole or not at all: a half-migrated line still fails under TensorFlow 2.
        statements: dict[int, list[Fix | None]] = {}
        for at, _, fix, _ in found:
            statements.setdefault(id(module.facts.statement(at)), []).append(fix)
        for at, node, fix, replacement in found:
            fixes = statements[id(module.facts.statement(at))]
            note = ""
            if fix is not None and any(f is None for f in fixes):
                fix, note = None, " (no fix: another TensorFlow 1 name in this statement has none)"
            elif fix is not None and fix.safety is Safety.SAFE and any(f.safety is not Safety.SAFE for f in fixes
                                                                        if f is not None):
                fix = Fix(fix.edits, Safety.UNSAFE, fix.imports, fix.title)
                note = " (the fix is unsafe: another TensorFlow 1 name in this statement has only an unsafe one)"
            yield self.finding(module, at, f"tf.{node.attr} does not exist in TensorFlow 2 (only in "
                               f"tf.compat.v1), so this line raises AttributeError there; use {replacement}{note}",
                               fix)

    def _fix(self, module: Module, node: ast.Attribute, call: ast.Call | None) -> tuple[Fix | None, str]:
        name = node.attr
        if name in _RENAMED:
            spelled = module.spell(_RENAMED[name])
            text = spelled[0] if spelled else _RENAMED[name].replace("tensorflow", "tf", 1)
            return (self.replace(module, node, text, spelled[1], title=f"Use `{text}`") if spelled else None), text
        if name in _CASTS:
            cast, dtype = module.spell("tensorflow.cast"), module.spell(f"tensorflow.{_CASTS[name]}")
            if call is None or len(call.args) != 1 or call.keywords or cast is None or dtype is None:
                return None, f"tf.cast(x, tf.{_CASTS[name]})"
            text = f"{cast[0]}({module.text(call.args[0])}, {dtype[0]})"
            return self.replace(module, call, text, cast[1], dtype[1], title="Use `tf.cast`"), text
        # tf.div: Python 2 division, floor division on integers
        operands = call.args[:2] if call is not None else []
        if any(_integer(module, o) for o in operands):
            spelled = module.spell("tensorflow.math.floordiv")
            text = spelled[0] if spelled else "tf.math.floordiv"
            message = f"{text} (TF1's tf.div floored integers; tf.math.divide if true division was meant)"
            fix = self.replace(module, node, text, spelled[1], safety=Safety.UNSAFE,
                               title=f"Use `{text}` (floor division, as TF1 did on integers)") if spelled else None
            return fix, message
        spelled = module.spell("tensorflow.math.divide")
        text = spelled[0] if spelled else "tf.math.divide"
        safe = len(operands) == 2 and any(_floating(module, o) for o in operands)
        fix = self.replace(module, node, text, spelled[1], safety=Safety.SAFE if safe else Safety.UNSAFE,
                           title=f"Use `{text}`") if spelled else None
        return fix, text if safe else f"{text} (or tf.math.floordiv if the operands are integers)"


def _integer(module: Module, node: ast.AST) -> bool:
    node = module.resolve(node)
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int) and not isinstance(node.value, bool)
    if isinstance(node, ast.Subscript):
        return _integer(module, node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)):
        return _integer(module, node.left) and _integer(module, node.right)
    if not isinstance(node, ast.Call):
        return False
    qualname = module.qualname(node.func) or ""
    last = qualname.rpartition(".")[2]
    if qualname.startswith("tensorflow") and last in _INT_CALLS:
        return True
    if qualname.startswith("tensorflow") and last == "cast" and len(node.args) > 1:
        return (module.qualname(node.args[1]) or "").rpartition(".")[2] in _INT_DTYPES
    call = module.op(node)
    return call is not None and call.op in ("sum", "count_nonzero") and call.input is not None and _integer(
        module, call.input)


def _floating(module: Module, node: ast.AST) -> bool:
    node = module.resolve(node)
    if isinstance(node, ast.Constant):
        return isinstance(node.value, float)
    call = module.op(node)
    return call is not None and call.op in _FLOAT_OPS

"""LOSS405 masked-softmax-nan: scores masked with -inf (or -1e9 in float16) and then softmaxed: a row with every
entry masked is NaN."""

from __future__ import annotations

import ast
import math
import re
from typing import Iterator

from ..finding import Finding
from ..rule import Rule, Safety
from ..semantic import inference
from ..semantic.module import Module, OpCall

_FLOAT16_MIN = -65504.0
# Masks whose every row keeps at least one entry (the diagonal): causal / look-ahead masks.
_CAUSAL = re.compile(r"causal|tril|triu|subsequent|future|look_?ahead|autoregressive", re.I)
_PASS_METHODS = ("float", "to", "type_as", "contiguous", "view", "reshape", "transpose", "permute")
_DEPTH = 6


class MaskedSoftmaxNan(Rule):
    code = "LOSS405"
    name = "masked-softmax-nan"
    summary = "masking with -inf before a softmax: a fully masked row is NaN (and -1e9 is -inf in float16)"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax")
    triggers = ("-inf", ".inf", "inf'", 'inf"', "e9", "e10", "e12", "e30")

    def check(self, module: Module) -> Iterator[Finding]:
        if "softmax" not in module.source:
            return
        reported: set[int] = set()
        for node, op, scores in _softmaxes(module):
            function = module.function(node)
            if function is not None and _sanitized(module, function):
                continue
            found = self._fill(module, scores, _DEPTH)
            if found is None or id(found[0]) in reported:
                continue
            call, fill, mask, tensor = found
            number = inference.value(module, fill)
            if number is None or _causal(module, mask):
                continue
            if number == -math.inf:
                why = f"masking with -inf before {op} makes a row whose every entry is masked NaN"
            elif number <= _FLOAT16_MIN and inference.dtype(module, node) == "float16":
                why = f"{module.text(fill)} is -inf in float16, so a fully masked row is NaN after {op}"
            else:
                continue
            reported.add(id(call))
            spelled = inference.dtype_eps(module, tensor, _framework(module, call), "min")
            fix = self.replace(module, fill, spelled[0], spelled[1]) if spelled else None
            if tensor is None:
                advice = "mask with masked_fill/where and finfo(dtype).min, or an additive -1e4"
            else:
                advice = f"fill with {spelled[0] if spelled else 'finfo(dtype).min'}"
            yield self.finding(module, call, f"{why}; {advice}, and zero fully masked rows after it", fix)

    def _fill(self, module: Module, node: ast.AST | None, depth: int):
        """(fill call, fill value, mask, filled tensor) of the masking that feeds ``node``, if any."""
        if node is None or depth <= 0:
            return None
        if isinstance(node, ast.Name):
            in_place = _in_place_fill(module, node)
            if in_place is not None:
                return _parts(in_place)
            value = _last_value(module, node)
            return None if value is None else self._fill(module, value, depth - 1)
        if isinstance(node, ast.BinOp):
            additive = _additive_mask(module, node)
            if additive is not None:
                return additive
            return self._fill(module, node.left, depth - 1) or self._fill(module, node.right, depth - 1)
        if isinstance(node, ast.Call):
            call = module.op(node)
            if call is not None and call.op in ("masked_fill", "where"):
                return _parts(call)
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("masked_fill", "masked_fill_"):
                # a method on a reassigned name (``attn = attn.masked_fill(...)``): masking is evidence enough
                return _parts(OpCall("masked_fill", "torch", node, "method", receiver=node.func.value))
            if isinstance(node.func, ast.Attribute) and node.func.attr in _PASS_METHODS:
                return self._fill(module, node.func.value, depth - 1)
        return None


def _softmaxes(module: Module) -> Iterator[tuple[ast.Call, str, ast.expr | None]]:
    """(call, op, scores) for every softmax: the ops lossling knows, and in PyTorch files also ``x.softmax(d)``
    on names that are reassigned (``attn = attn.softmax(-1)``), which only the masking before it shows are
    tensors."""
    torch = "torch" in module.frameworks
    for node in module.nodes(ast.Call):
        func = node.func
        if "softmax" not in (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")).lower():
            continue  # a cheap test first: only calls spelled ...softmax can be one
        call = module.op(node)
        if call is not None and call.op in ("softmax", "log_softmax"):
            yield node, call.op, call.input
        elif (call is None and torch and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("softmax", "log_softmax") and module.qualname(node.func) is None):
            yield node, node.func.attr, node.func.value


def _additive_mask(module: Module, node: ast.BinOp):
    """``scores + mask * -1e9`` / ``scores + (1 - mask) * -inf``: (the sum, the big negative factor, the mask,
    None). There is no fix: a finfo.min added to a negative score overflows, so the mask must be rebuilt."""
    if not isinstance(node.op, ast.Add):
        return None
    for term in (node.right, node.left):
        if isinstance(term, ast.BinOp) and isinstance(term.op, ast.Mult):
            for factor, mask in ((term.right, term.left), (term.left, term.right)):
                number = module.const(factor)
                if number is not None and number <= _FLOAT16_MIN:
                    return node, factor, mask, None
    return None


def _parts(call: OpCall):
    if call.op == "masked_fill":
        fill, mask, tensor = call.arg(2, "value"), call.arg(1, "mask"), call.arg(0, "input")
    else:  # where(mask, scores, fill) or where(mask, fill, scores)
        mask, first, second = call.arg(0, "condition"), call.arg(1, "input", "x"), call.arg(2, "other", "y")
        fill, tensor = (second, first) if not _minus_literal(first) else (first, second)
    return (call.node, fill, mask, tensor) if fill is not None else None


def _minus_literal(node: ast.AST | None) -> bool:
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)


def _in_place_fill(module: Module, name: ast.Name) -> OpCall | None:
    """``name.masked_fill_(mask, value)`` as a statement of the same scope, before ``name`` is read."""
    scope = module.scope_node(name)
    found = None
    for statement in module.nodes(ast.Expr):
        call = statement.value
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "masked_fill_"
                and isinstance(call.func.value, ast.Name) and call.func.value.id == name.id
                and call.lineno < name.lineno and module.scope_node(call) is scope):
            found = OpCall("masked_fill", "torch", call, "method", receiver=call.func.value)
    return found


def _last_value(module: Module, name: ast.Name) -> ast.AST | None:
    """The value of ``name``'s last plain assignment on an earlier line of its scope."""
    bindings = module.scope(module.scope_node(name)).bindings.get(name.id, ())
    before = [b for b in bindings if 0 < b.line < name.lineno]
    if not before:
        return None
    return max(before, key=lambda b: b.line).value


def _causal(module: Module, mask: ast.AST | None) -> bool:
    """Whether the mask reads as causal (its text, or the expression a name in it was assigned)."""
    if mask is None:
        return False
    if _CAUSAL.search(module.text(mask)):
        return True
    for child in ast.walk(mask):
        if isinstance(child, ast.Name):
            value = _last_value(module, child)
            if value is not None and _CAUSAL.search(module.text(value)):
                return True
    return False


def _sanitized(module: Module, function: ast.AST) -> bool:
    """The function repairs NaN itself (``nan_to_num``, ``isnan``)."""
    return any(isinstance(n, ast.Attribute) and n.attr in ("nan_to_num", "isnan", "nan_to_num_")
               for n in ast.walk(function))


def _framework(module: Module, call: ast.Call) -> str:
    found = module.op(call)
    if found is not None and found.kind != "method":
        return found.framework
    return "torch" if "torch" in module.frameworks else found.framework if found else "torch"

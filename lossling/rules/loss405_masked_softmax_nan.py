"""LOSS405 masked-softmax-nan: scores masked with -inf (or -1e9 in float16) and then softmaxed: a row with every
entry masked is NaN."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Iterator

from ..finding import Finding, Fix
from ..rule import Rule, Safety
from ..semantic import inference
from ..semantic.dataflow import Def
from ..semantic.module import Module, OpCall
from ..semantic.scopes import callee_name

_FLOAT16_MIN = -65504.0
# Ops that build a triangular mask: every row keeps its diagonal, so no row is ever fully masked.
_TRIANGULAR = frozenset({"tril", "triu", "band_part", "tril_", "triu_"})
_PASS_METHODS = ("float", "to", "type_as", "contiguous", "view", "reshape", "transpose", "permute")
_DEPTH = 6


@dataclass(frozen=True)
class Masking:
    """A fill that feeds a softmax: the call (or assignment) that masks, the fill value, the mask, the filled
    tensor (None for an additive mask), and whether the scores are scaled between the fill and the softmax."""

    at: ast.AST
    fill: ast.expr
    mask: ast.AST | None
    tensor: ast.expr | None
    scaled: bool = False

    def scaled_by(self) -> Masking:
        return Masking(self.at, self.fill, self.mask, self.tensor, True)


class MaskedSoftmaxNan(Rule):
    code = "LOSS405"
    default = False  # opt-in: below the default set\'s precision bar on unseen code (README, "Default rules")
    name = "masked-softmax-nan"
    summary = "masking with -inf before a softmax: a fully masked row is NaN (and -1e9 is -inf in float16)"
    severity = "warning"
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
            for found in _maskings(module, scores, _DEPTH):
                if id(found.at) in reported or _causal(module, found.mask) or _keeps_maximum(module, found):
                    continue
                number = inference.value(module, found.fill)
                if number == -math.inf:
                    why = f"masking with -inf before {op}: a row whose every entry is masked is NaN"
                elif number is not None and number <= _FLOAT16_MIN and _dtype(module, found, node) == "float16":
                    why = (f"{module.text(found.fill)} is -inf in float16, so a row whose every entry is masked is "
                           f"NaN after {op}")
                else:
                    continue
                reported.add(id(found.at))
                fix, why_not = self._fix(module, found)
                advice = ("fill with the dtype's lowest finite value (finfo(dtype).min), which makes such a row "
                          "uniform, and zero those rows after the softmax if they must not count")
                yield self.finding(module, found.at, f"{why}; {advice}{why_not}", fix)

    def _fix(self, module: Module, found: Masking) -> tuple[Fix | None, str]:
        """The fill replaced by ``finfo(dtype).min``, or (None, the reason there is none)."""
        if found.tensor is None:
            return None, " (no fix: adding finfo.min to a negative score overflows; mask by a fill instead)"
        if found.scaled:
            return None, (" (no fix: the scores are scaled after the fill, and finfo.min / t is -inf again for a "
                          "temperature t < 1)")
        if not _literal(found.fill):
            return None, " (no fix: the fill value is set elsewhere; change it where it is set)"
        spelled = inference.dtype_eps(module, found.tensor, _framework(module, found.at), "min")
        if spelled is None:
            return None, ""
        return self.replace(module, found.fill, spelled[0], spelled[1],
                            title="Fill with the dtype's lowest finite value"), ""


def _softmaxes(module: Module) -> Iterator[tuple[ast.Call, str, ast.expr | None]]:
    """(call, op, scores) for every softmax: the ops lossling knows, and in PyTorch files also ``x.softmax(d)``
    on names that are reassigned (``attn = attn.softmax(-1)``), which only the masking before it shows are
    tensors."""
    torch = "torch" in module.frameworks
    for node in module.nodes(ast.Call):
        func = node.func
        if "softmax" not in callee_name(func).lower():
            continue  # a cheap test first: only calls spelled ...softmax can be one
        call = module.op(node)
        if call is not None and call.op in ("softmax", "log_softmax"):
            yield node, call.op, call.input
        elif (call is None and torch and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("softmax", "log_softmax") and module.qualname(node.func) is None):
            yield node, node.func.attr, node.func.value


def _maskings(module: Module, node: ast.AST | None, depth: int) -> Iterator[Masking]:
    """Every masking that feeds ``node`` on some path: followed through every definition that reaches a name (a
    fill in one branch of an ``if`` reaches the softmax on that path), in-place fills included."""
    if node is None or depth <= 0:
        return
    if isinstance(node, ast.Name):
        for d in sorted(module.facts.definitions(node), key=lambda d: (getattr(d.node, "lineno", 0),
                                                                       getattr(d.node, "col_offset", 0))):
            yield from _from_definition(module, d, depth - 1)
    elif isinstance(node, ast.Attribute):
        target = module.resolve(node)
        if target is not node:
            yield from _maskings(module, target, depth - 1)
    elif isinstance(node, ast.BinOp):
        additive = _additive_mask(module, node)
        if additive is not None:
            yield additive
            return
        scaling = isinstance(node.op, (ast.Mult, ast.Div))
        for side, other in ((node.left, node.right), (node.right, node.left)):
            for found in _maskings(module, side, depth - 1):
                yield found.scaled_by() if scaling and not _shrinks(module, node, other) else found
    elif isinstance(node, ast.Call):
        call = module.op(node)
        func = node.func
        if call is not None and call.op in ("masked_fill", "where"):
            parts = _parts(call)
        elif isinstance(func, ast.Attribute) and func.attr in ("masked_fill", "masked_fill_"):
            # a method on a reassigned name (``attn = attn.masked_fill(...)``): masking is evidence enough
            parts = _parts(OpCall("masked_fill", "torch", node, "method", receiver=func.value))
        elif isinstance(func, ast.Attribute) and func.attr in _PASS_METHODS:
            yield from _maskings(module, func.value, depth - 1)
            return
        elif isinstance(func, ast.Attribute) and func.attr in ("div", "mul", "div_", "mul_"):
            yield from (f.scaled_by() for f in _maskings(module, func.value, depth - 1))
            return
        else:
            return
        if parts is not None:
            yield parts


def _from_definition(module: Module, d: Def, depth: int) -> Iterator[Masking]:
    if d.kind == "assign":
        yield from _maskings(module, d.value, depth)
        return
    node = d.node
    if d.kind == "mutate":
        func = node.func if isinstance(node, ast.Call) else None
        method = func.attr if isinstance(func, ast.Attribute) else None
        if isinstance(node, ast.Call) and isinstance(func, ast.Attribute) and method == "masked_fill_":
            parts = _parts(OpCall("masked_fill", "torch", node, "method", receiver=func.value))
            if parts is not None:
                yield parts
        elif isinstance(node, ast.Assign) and d.value is not None and isinstance(node.targets[0], ast.Subscript):
            target = node.targets[0]  # scores[~mask] = float("-inf")
            yield Masking(node, d.value, target.slice, target.value)
        scaling = method in ("div_", "mul_")
    elif d.kind == "aug" and isinstance(node, ast.AugAssign):
        scaling = isinstance(node.op, (ast.Mult, ast.Div))
    else:
        return
    for before in d.prev:
        for found in _from_definition(module, before, depth - 1):
            yield found.scaled_by() if scaling else found


def _shrinks(module: Module, node: ast.BinOp, factor: ast.expr) -> bool:
    """``scores * c`` with ``|c| <= 1`` or ``scores / c`` with ``c >= 1``: a finfo.min fill stays finite."""
    if not isinstance(node.op, (ast.Mult, ast.Div)):
        return True
    value = module.facts.value(factor)
    if value.lo is None or value.hi is None:
        return False
    if isinstance(node.op, ast.Div):
        return factor is node.right and value.lo >= 1
    return -1 <= value.lo and value.hi <= 1


def _additive_mask(module: Module, node: ast.BinOp) -> Masking | None:
    """``scores + mask * -1e9`` / ``scores + (1 - mask) * -inf``: there is no fix: a finfo.min added to a negative
    score overflows, so the mask must be rebuilt."""
    if not isinstance(node.op, ast.Add):
        return None
    for term in (node.right, node.left):
        if isinstance(term, ast.BinOp) and isinstance(term.op, ast.Mult):
            for factor, mask in ((term.right, term.left), (term.left, term.right)):
                number = module.const(factor)
                if number is not None and number <= _FLOAT16_MIN:
                    return Masking(node, factor, mask, None)
    return None


def _parts(call: OpCall) -> Masking | None:
    if call.op == "masked_fill":
        fill, mask, tensor = call.arg(2, "value"), call.arg(1, "mask"), call.arg(0, "input")
    else:  # where(mask, scores, fill) or where(mask, fill, scores)
        mask, first, second = call.arg(0, "condition"), call.arg(1, "input", "x"), call.arg(2, "other", "y")
        fill, tensor = (second, first) if not _minus_literal(first) else (first, second)
    return Masking(call.node, fill, mask, tensor) if fill is not None else None


def _minus_literal(node: ast.AST | None) -> bool:
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)


def _literal(node: ast.AST) -> bool:
    """A fill written out here (``float("-inf")``, ``-math.inf``, ``-1e9``), not a name or attribute that a
    configuration sets."""
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float":
        return all(isinstance(a, ast.Constant) for a in node.args)
    return isinstance(node, ast.Attribute) and node.attr in ("inf", "infty", "Inf")


def _causal(module: Module, mask: ast.AST | None, depth: int = 4) -> bool:
    """Whether the mask is built by a triangular op (``tril``, ``triu``, ``band_part``), directly or through
    the definitions of the names and attributes it reads: such a mask keeps every row's diagonal."""
    if mask is None or depth <= 0:
        return False
    for child in ast.walk(mask):
        if isinstance(child, ast.Call) and _triangular(module, child):
            return True
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
            defs = module.facts.definitions(child)
            if defs and all(d.kind == "assign" and _causal(module, d.value, depth - 1) for d in defs):
                return True
        elif isinstance(child, ast.Attribute):
            target = module.resolve(child)
            if target is not child and _causal(module, target, depth - 1) or any(
                    _causal(module, v, depth - 1) for v in _buffers(module, child)):
                return True
    return False


def _buffers(module: Module, node: ast.Attribute) -> Iterator[ast.expr]:
    """The values ``self.register_buffer("name", value)`` gives ``self.name`` in the class (torch's way of
    defining an attribute that is not a parameter)."""
    cls = module.enclosing_class(node) if module.facts.is_receiver(node.value) else None
    if cls is None:
        return
    for call in ast.walk(cls):
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "register_buffer"
                and module.facts.is_receiver(call.func.value) and len(call.args) >= 2
                and isinstance(call.args[0], ast.Constant) and call.args[0].value == node.attr):
            yield call.args[1]


def _keeps_maximum(module: Module, found: Masking) -> bool:
    """Top-k filtering: ``x[x < v[..., -1]] = -inf`` or ``masked_fill(x < kth, -inf)`` with ``v`` from
    ``topk(x)``/``sort(x)``/``max(x)``: every row keeps its largest entries, so none is fully masked."""
    mask = found.mask
    if not isinstance(mask, ast.Compare) or len(mask.ops) != 1:
        return False
    low, high = (mask.left, mask.comparators[0]) if isinstance(mask.ops[0], (ast.Lt, ast.LtE)) else (
        (mask.comparators[0], mask.left) if isinstance(mask.ops[0], (ast.Gt, ast.GtE)) else (None, None))
    if low is None or high is None:
        return False
    for _ in range(4):  # kth = topk(x, k).values[..., -1:]; values, _ = topk(x, k)
        if isinstance(high, ast.Subscript) or isinstance(high, ast.Attribute) and high.attr == "values":
            high = high.value
            continue
        d = module.facts.unique(high) if isinstance(high, ast.Name) else None
        if d is not None and d.kind in ("assign", "unpack") and d.value is not None and (
                d.kind == "assign" or d.index == 0):
            high = d.value
            continue
        break
    source = module.op(high)
    if source is None or source.op not in ("topk", "sort", "max", "amax") or source.input is None:
        return False
    return module.text(module.resolve(source.input)) == module.text(module.resolve(low))


def _triangular(module: Module, call: ast.Call) -> bool:
    func = call.func
    if callee_name(func) not in _TRIANGULAR:
        return False
    qualname = module.qualname(func)
    if qualname is not None:
        return qualname.partition(".")[0] in ("torch", "tensorflow", "jax", "numpy", "keras")
    return isinstance(func, ast.Attribute)  # a tensor method: x.tril()


def _dtype(module: Module, found: Masking, softmax: ast.AST) -> str:
    """The dtype the masked scores are in: their own when the facts know it, else the code's (autocast...)."""
    own = module.facts.value(found.tensor).dtype if found.tensor is not None else None
    return inference.NAMES.get(own or "", None) or inference.dtype(module, softmax)


def _sanitized(module: Module, function: ast.AST) -> bool:
    """The function repairs NaN itself (``nan_to_num``, ``isnan``)."""
    return any(isinstance(n, ast.Attribute) and n.attr in ("nan_to_num", "isnan", "nan_to_num_")
               for n in ast.walk(function))


def _framework(module: Module, call: ast.AST) -> str:
    found = module.op(call) if isinstance(call, ast.Call) else None
    if found is not None and found.kind != "method":
        return found.framework
    return "torch" if "torch" in module.frameworks else found.framework if found else "torch"

"""LOSS204 acos-domain: acos/asin/atanh of a computed cosine; rounding leaves [-1, 1] and gives NaN."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix, Import
from ..rewrite import atom, rewritten
from ..semantic.inference import dtype_eps, float_source
from ..rule import Rule, Safety
from ..semantic.module import Module, OpCall

_CLAMPS = ("clamp", "clip", "clamp_min", "clamp_max", "minimum", "maximum", "tanh")


class AcosDomain(Rule):
    code = "LOSS204"
    name = "acos-domain"
    summary = "acos/asin/atanh of a cosine similarity or normalized dot product, unclamped: NaN just outside [-1, 1]"
    severity = "error"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("acos", "asin", "atanh", "arccos", "arcsin", "arctanh")

    def check(self, module: Module) -> Iterator[Finding]:
        for call in module.ops("acos", "asin", "atanh"):
            value = call.input
            if value is None or not _cosine(module, value):
                continue
            fix = self._fix(module, call, value)
            name = {"acos": "acos", "asin": "asin", "atanh": "atanh"}[call.op]
            yield self.finding(module, call.node, f"{name} of a cosine: rounding gives 1.0000001 and NaN, and the "
                               "gradient at ±1 is inf; clamp it first into [-1 + eps, 1 - eps]",
                               fix)

    def _fix(self, module: Module, call: OpCall, value: ast.expr) -> Fix | None:
        framework = "torch" if call.kind == "method" and "torch" in module.frameworks else call.framework
        if framework not in ("torch", "tf", "tf1", "keras", "jax", "numpy"):
            return None
        eps, imports = _eps(module, value, framework)
        bounds = f"-1 + {eps}, 1 - {eps}"
        if framework == "torch":
            clamped = f"{atom(module, value)}.clamp({bounds})"
        else:
            qualname = {"tf": "tensorflow.clip_by_value", "tf1": "tensorflow.compat.v1.clip_by_value",
                        "keras": "keras.ops.clip", "jax": "jax.numpy.clip", "numpy": "numpy.clip"}[framework]
            spelled = module.spell(qualname)
            if spelled is None:
                return None
            clamped = f"{spelled[0]}({module.text(value)}, {bounds})"
            imports = imports + (spelled[1],)
        text = rewritten(module, call.node, {value: clamped})
        return self.replace(module, call.node, text, *imports, title=CLAMP_TITLE) if text else None


CLAMP_TITLE = "Clamp the argument into [-1 + eps, 1 - eps]"


def _eps(module: Module, value: ast.expr, framework: str) -> tuple[str, tuple[Import | None, ...]]:
    """The eps of the cosine's own dtype where the framework spells one (``torch.finfo(c.dtype).eps``: 1e-7 is
    below 1 only in float32 and float64, so ``1 - 1e-7`` is 1 in float16 and bfloat16), else 1e-7."""
    source = float_source(module, value)
    spelled = dtype_eps(module, source, framework) if source is not None else None
    return (spelled[0], (spelled[1],)) if spelled is not None else ("1e-7", ())


def _cosine(module: Module, node: ast.AST, depth: int = 4) -> bool:
    """A cosine that rounding can push past ±1: a cosine similarity, a dot of normalized vectors, a division by
    norms, and no clamp on the way (a name is followed to the definition that reaches it; its spelling says
    nothing)."""
    if depth <= 0:
        return False
    resolved = module.resolve(node)
    if resolved is not node:
        return _cosine(module, resolved, depth - 1)
    call = module.op(node)
    if call is not None:
        if call.op in _CLAMPS:
            return False
        if call.op == "cosine_similarity":
            return True
        if call.op == "sum":
            return _normalized_product(module, call.input)
        if call.op in ("divide", "mean"):
            return False
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Div):
            return _has_norm(module, node.right)
        if isinstance(node.op, ast.MatMult):
            return _normalized(module, node.left) and _normalized(module, node.right)
        return False
    if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
        inner = module.facts.unwrapped(node)
        if inner is not None:
            return _cosine(module, inner, depth - 1)
        return False
    return False


def _normalized(module: Module, node: ast.AST | None) -> bool:
    node = module.resolve(node)
    if isinstance(node, ast.Attribute) and node.attr in ("T", "mT"):
        return _normalized(module, node.value)
    inner = module.facts.unwrapped(node) if node is not None else None
    if inner is not None and inner is not node:
        return _normalized(module, inner)
    call = module.op(node)
    return call is not None and call.op == "normalize"


def _normalized_product(module: Module, node: ast.AST | None) -> bool:
    node = module.resolve(node)
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and _normalized(
        module, node.left) and _normalized(module, node.right)


def _has_norm(module: Module, node: ast.AST) -> bool:
    """A divisor built from norms (guarded or not: an eps does not keep the quotient inside [-1, 1])."""
    for child in ast.walk(module.resolve(node) or node):
        call = module.op(child)
        if call is not None and call.op in ("norm", "sqrt"):
            return True
        if isinstance(child, ast.Name) and child is not node and _has_norm(module, child) if module.resolve(
                child) is not child else False:
            return True
    return False

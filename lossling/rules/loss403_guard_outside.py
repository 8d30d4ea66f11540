"""LOSS403 guard-outside: an eps added to the result of the op it should guard: ``log(x) + eps``, ``(a / b) + eps``."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix, Import
from ..rewrite import atom
from ..rule import Rule, Safety
from ..semantic import inference
from ..semantic.divisions import Division, weighted_mean
from ..semantic.values import Zero, rounded
from ..semantic.module import Module, OpCall

_LOGS = ("log", "log2", "log10")


class GuardOutside(Rule):
    code = "LOSS403"
    name = "guard-outside"
    summary = "eps added after log(x) or a / b instead of inside: -inf + eps is still -inf, inf + eps still inf"
    severity = "error"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("log", "/")
    # The misplaced eps is the root cause of the unguarded log/division found inside the same expression.
    supersedes = ("LOSS101", "LOSS201", "LOSS206")

    def check(self, module: Module) -> Iterator[Finding]:
        if not module.frameworks:
            return
        logged: set[int] | None = None
        for node in module.nodes(ast.BinOp):
            if not isinstance(node.op, ast.Add):
                continue
            for inner, eps in ((node.left, node.right), (node.right, node.left)):
                if not _candidate(eps):
                    continue
                log = module.op_of(inner, *_LOGS, follow=False)
                if log is not None and log.input is not None:
                    if not _eps(module, eps) or module.facts.guarded(log.input):
                        continue
                    fix = self._log_fix(module, node, log, eps)
                    yield self.finding(module, node, f"eps added after the {log.op}: where the input is 0, "
                                       f"{log.op}(0) + eps is still -inf; add the eps to the input instead", fix)
                    break
                if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Div) and _eps(module, eps):
                    if logged is None:
                        logged = {id(module.resolve(call.input)) for call in module.ops(*_LOGS)}
                    divisor = module.facts.value(inner.right)
                    site = Division(inner, inner.left, inner.right)
                    risky = divisor.zero >= Zero.DEGENERATE or (weighted_mean(module, site) and not (
                        module.facts.guarded(inner.right)))
                    if id(node) in logged or _inside_log(module, node) or not risky or divisor.cause == "norm":
                        continue  # x / norm: LOSS202
                    added = _fitting(module, eps, inner.right, inference.file_framework(module), "tiny")
                    fix = None if added is None else self.replace(
                        module, node, f"{atom(module, inner.left)} / ({module.text(inner.right)} + {added[0]})",
                        added[1], title="Add the eps to the divisor")
                    yield self.finding(module, node, "eps added after the division: where the divisor is 0, "
                                       "x / 0 + eps is still inf or NaN; add the eps to the divisor instead", fix)
                    break

    def _log_fix(self, module: Module, node: ast.BinOp, log: OpCall, eps: ast.expr) -> Fix | None:
        call, x = log.node, log.input
        if x is None:
            return None
        added = _fitting(module, eps, x, log.framework, "eps")
        if added is None:
            return None
        guarded = f"{module.text(x)} + {added[0]}"
        title = "Add the eps inside the log"
        if log.kind == "method" and isinstance(call.func, ast.Attribute) and not call.args and not call.keywords:
            return self.replace(module, node, f"({guarded}).{call.func.attr}()", added[1], title=title)
        if log.kind == "function" and len(call.args) == 1 and not call.keywords:
            return self.replace(module, node, f"{module.text(call.func)}({guarded})", added[1], title=title)
        return None


def _fitting(module: Module, eps: ast.expr, guarded: ast.expr, framework: str,
             attribute: str) -> tuple[str, Import | None] | None:
    """The eps to add to ``guarded``: the written one when it is a normal number in the dtype ``guarded`` is
    computed in (``1e-12`` is 0 in float16, and adding it changes nothing), else the dtype's own ``finfo``
    value (``attribute``), else None (no fix)."""
    dtype = module.facts.value(guarded).dtype
    if dtype in ("int", "bool"):
        dtype = "f32"  # an integer tensor plus a Python float is float32
    name = inference.NAMES.get(dtype or "", None) or inference.dtype(module, guarded)
    number = inference.value(module, eps)
    if number is not None and name in inference.TINY and rounded(number, inference.CODES[name]) >= (
            inference.TINY[name]):
        return module.text(eps), None
    return inference.dtype_eps(module, guarded, framework, attribute)


def _candidate(node: ast.AST) -> bool:
    """Cheap syntactic test before any lookup: a float literal, or a name or attribute that may hold one."""
    return isinstance(node, ast.Constant) and isinstance(node.value, float) or isinstance(node, (ast.Name,
                                                                                               ast.Attribute))


def _eps(module: Module, node: ast.AST) -> bool:
    """A small positive guard constant: a number in (0, 1e-2], as the file (or the project) defines it."""
    value = inference.value(module, node)
    return value is not None and 0 < value <= 1e-2


def _inside_log(module: Module, node: ast.AST) -> bool:
    for ancestor in module.ancestors(node):
        if module.op_of(ancestor, *_LOGS, follow=False) is not None:
            return True
        if isinstance(ancestor, ast.stmt):
            return False
    return False

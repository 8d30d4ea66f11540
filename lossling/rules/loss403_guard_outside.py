"""LOSS403 guard-outside: an eps added to the result of the op it should guard: ``log(x) + eps``, ``(a / b) + eps``."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import atom
from ..rule import Rule, Safety
from ..semantic import inference
from ..semantic.divisions import Division, weighted_mean
from ..semantic.values import Zero
from ..semantic.module import Module, OpCall

_LOGS = ("log", "log2", "log10")


class GuardOutside(Rule):
    code = "LOSS403"
    name = "guard-outside"
    summary = "eps added after log(x) or a / b instead of inside: -inf + eps is still -inf, inf + eps still inf"
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
                log = module.op(inner) if isinstance(inner, ast.Call) else None
                if log is not None and log.op in _LOGS and log.input is not None:
                    if not _eps(module, eps) or module.facts.guarded(log.input):
                        continue
                    fix = self._log_fix(module, node, log, eps)
                    yield self.finding(module, node, f"eps added after the {log.op}: {log.op}(0) + eps is still "
                                       f"-inf; move it inside ({fix.edits[0].text if fix else 'log(x + eps)'})",
                                       fix)
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
                    text = f"{atom(module, inner.left)} / ({module.text(inner.right)} + {module.text(eps)})"
                    fix = self.replace(module, node, text)
                    yield self.finding(module, node, "eps added after the division: x / 0 + eps is still inf or "
                                       f"NaN; add it to the divisor ({text})", fix)
                    break

    def _log_fix(self, module: Module, node: ast.BinOp, log: OpCall, eps: ast.expr) -> Fix | None:
        call = log.node
        guarded = f"{module.text(log.input)} + {module.text(eps)}"
        if log.kind == "method" and not call.args and not call.keywords:
            return self.replace(module, node, f"({guarded}).{call.func.attr}()")
        if log.kind == "function" and len(call.args) == 1 and not call.keywords:
            return self.replace(module, node, f"{module.text(call.func)}({guarded})")
        return None


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
        call = module.op(ancestor) if isinstance(ancestor, ast.Call) else None
        if call is not None and call.op in _LOGS:
            return True
        if isinstance(ancestor, ast.stmt):
            return False
    return False

"""LOSS111 xlogx: ``p * log(p)`` and ``y * log(y / q)`` are ``0 * -inf = NaN`` at 0; ``xlogy`` defines them as 0."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import atom, stable_call
from ..rule import Rule, Safety
from ..semantic.formulas import factors, same
from ..semantic.module import Module, OpCall


class Xlogx(Rule):
    code = "LOSS111"
    default = False  # opt-in: below the default set\'s precision bar on unseen code (README, "Default rules")
    name = "xlogx"
    summary = "x * log(x) (entropy, KL by hand): 0 * log(0) is 0 * -inf = NaN where x is 0"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "jax", "numpy")
    triggers = ("log",)
    supersedes = ("LOSS101",)

    def check(self, module: Module) -> Iterator[Finding]:
        for log in module.ops("log"):
            v = log.input
            if v is None or module.facts.guarded(v) or module.op_of(v, "softmax", "sigmoid"):
                continue
            if log.framework in ("numpy", "scipy") and not module.is_tensor(v):
                continue
            product: ast.expr = log.node
            while isinstance(parent := module.parent(product), (ast.BinOp, ast.UnaryOp)) and isinstance(
                    parent.op, (ast.Mult, ast.USub)):
                product = parent
            sign, parts = factors(product)
            others = [p for p in parts if p is not log.node]
            ratio = v if isinstance(v, ast.BinOp) and isinstance(v.op, ast.Div) else None
            x = next((p for p in others if same(module, p, ratio.left if ratio else v)), None)
            if x is None or module.facts.value(x).positive:  # where(x > 0, x * log(x), 0): the branch
                continue
            fix = self._fix(module, log, product, sign, others, x, ratio)
            what = "y * log(y / q)" if ratio else "x * log(x)"
            name = fix.edits[0].text.lstrip("-(").partition("(")[0] if fix else "xlogy"
            yield self.finding(module, product, f"{what} is 0 * -inf = NaN where x is 0; use {name}, which "
                                                f"defines 0 * log(0) as 0", fix)

    def _fix(self, module: Module, log: OpCall, product: ast.expr, sign: int, others: list[ast.expr],
             x: ast.expr, ratio: ast.BinOp | None) -> Fix | None:
        framework = "torch" if log.kind == "method" else log.framework
        spelled = stable_call(module, "xlogy", framework)
        if spelled is None or (log.kind == "function" and len(log.node.args) + len(log.node.keywords) != 1):
            return None
        f, text = spelled[0], module.text(x)
        if ratio is None:
            core = f"{f}({text}, {text})"
        else:
            core = f"({f}({text}, {text}) - {f}({text}, {module.text(ratio.right)}))"
        rest = [atom(module, p) for p in others if p is not x]
        body = " * ".join(rest + [core])
        if ratio is not None and not rest and sign > 0:
            body = core[1:-1]
        return self.replace(module, product, ("-" + body) if sign < 0 else body, spelled[1])

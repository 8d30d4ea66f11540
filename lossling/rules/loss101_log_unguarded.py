"""LOSS101 log-unguarded: the log of a value that reaches 0 in ordinary training, with nothing keeping it away.

Only the shapes where the zero is expected fire: any log in a cross-entropy-shaped expression (negated and
reduced or weighted), ``log(1 - p)``, ``log(a / b)`` there, the log of a value the analysis knows is a
probability, of a variance or standard deviation, of a product (it underflows) or of a determinant (it under/
overflows). Everything the value analysis shows is kept away from 0 (``x + eps``, clamps, ``exp``/``softplus``,
positive constants, counts, a ``where`` branch taken only where it is positive) is quiet, and so are logs that a
more specific rule owns (softmax, sigmoid, exp, sums of exps). Names play no part.
"""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import atom, call_args, rewritten, sibling, stable_call
from ..rule import Rule, Safety
from ..semantic import formulas
from ..semantic.formulas import factors, wrappers
from ..semantic.inference import dtype_eps, one_minus, repeatable
from ..semantic.module import Module, OpCall
from ..semantic.patterns import unstable_softmax
from ..semantic.values import Zero

# Logs of these belong to other rules (LOSS102/103/108/109/112) or are positive by construction.
_OWNED = ("softmax", "sigmoid", "exp", "logsumexp", "softplus", "cosh", "log_softmax")
TF_EPSILON = "1e-7"  # keras.config.epsilon(); TensorFlow has no finfo spelling for a tensor's dtype
_MAXIMUM = {"tf": "tensorflow.maximum", "tf1": "tensorflow.compat.v1.maximum", "keras": "keras.ops.maximum",
            "jax": "jax.numpy.maximum", "numpy": "numpy.maximum"}


class LogUnguarded(Rule):
    code = "LOSS101"
    default = False  # opt-in: below the default set\'s precision bar on unseen code (README, "Default rules")
    name = "log-unguarded"
    summary = "log of a probability, 1 - p, a ratio, a variance, a product or a determinant that can reach 0"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("log",)

    def check(self, module: Module) -> Iterator[Finding]:
        for log in module.ops("log"):
            v = log.input
            if v is None or module.const(v) is not None:
                continue
            if log.framework in ("numpy", "scipy") and not module.is_tensor(v):
                continue
            if module.facts.guarded(v):
                continue
            kind = _kind(module, log, v)
            if kind is None:
                continue
            fix = self._fix(module, log, v, kind)
            yield self.finding(module, log.node, _MESSAGES[kind], fix)

    def _fix(self, module: Module, log: OpCall, v: ast.expr, kind: str) -> Fix | None:
        if log.kind == "function" and len(log.node.args) + len(log.node.keywords) != 1:
            return None
        if kind in ("det", "prod"):
            value = module.resolve(v)
            call = module.op(value)
            if call is None:
                return None
            if kind == "det":
                return self._logdet(module, log, call, value is v)
            return self._sum_of_logs(module, log, call, value is v)
        return self._clamped(module, log, v)

    def _logdet(self, module: Module, log: OpCall, det: OpCall, inline: bool) -> Fix | None:
        """torch: ``log(det(A))`` -> ``torch.logdet(A)`` (same NaN/-inf for det <= 0, so safe)."""
        framework = "torch" if det.kind == "method" else det.framework
        if not inline or framework != "torch" or det.input is None or len(det.node.args) + len(
                det.node.keywords) != (0 if det.kind == "method" else 1):
            return None
        if det.kind == "method":
            return self.replace(module, log.node, f"{atom(module, det.input)}.logdet()", safety=Safety.SAFE)
        spelled = stable_call(module, "logdet", "torch")
        if spelled is None:
            return None
        return self.replace(module, log.node, f"{spelled[0]}({module.text(det.input)})", spelled[1],
                            safety=Safety.SAFE)

    def _sum_of_logs(self, module: Module, log: OpCall, prod: OpCall, inline: bool) -> Fix | None:
        """``log(prod(x, d))`` -> ``sum(log(x), d)``: no underflow, but differs where entries can be <= 0."""
        x = prod.input
        if not inline or x is None:
            return None
        if log.kind == "method":
            logged = f"{atom(module, x)}.log()"
        else:
            logged = f"{module.text(log.node.func)}({module.text(x)})"
        if prod.kind == "method":
            return self.replace(module, log.node, f"{logged}.sum{call_args(module, prod.node)}")
        if prod.kind != "function" or prod.qualname is None:
            return None
        spelled = sibling(module, prod, prod.qualname.rpartition(".")[2].replace("prod", "sum"))
        if spelled is None:
            return None
        text = rewritten(module, prod.node, {prod.node.func: spelled[0], x: logged})
        return self.replace(module, log.node, text, spelled[1]) if text is not None else None

    def _clamped(self, module: Module, log: OpCall, v: ast.expr) -> Fix | None:
        """``log(v)`` -> ``log(v.clamp_min(eps))`` (``tf.maximum(v, eps)``...), eps the dtype's machine eps."""
        framework = "torch" if log.kind == "method" else log.framework
        source = v if repeatable(v) else next((n for n in ast.walk(v) if isinstance(n, ast.Name)
                                               and module.is_tensor(n)), None)
        if source is None and framework in ("torch", "jax", "numpy"):
            return None
        if framework == "torch":
            eps = dtype_eps(module, source, "torch")
            if eps is None:
                return None
            return self.replace(module, v, f"{atom(module, v)}.clamp_min({eps[0]})", eps[1])
        qualname = _MAXIMUM.get(framework)
        spelled = module.spell(qualname) if qualname else None
        if spelled is None:
            return None
        eps = dtype_eps(module, source, framework) if framework in ("jax", "numpy") else None
        bound = eps[0] if eps is not None and eps[1] is None else TF_EPSILON
        return self.replace(module, v, f"{spelled[0]}({module.text(v)}, {bound})", spelled[1])


_MESSAGES = {
    "det": "log(det(A)) under- or overflows for larger matrices (det of 0.1*I of size 50 is 0 in float32); use "
           "logdet/slogdet",
    "prod": "log of a product underflows to -inf (a hundred factors of 0.01 give 0 in float32); sum the logs",
    "variance": "log of a variance or standard deviation is -inf when it reaches 0 (constant input); add an eps, "
                "or predict the log-variance",
    "probability": "log of a probability or prediction is -inf at 0 and its gradient NaN; clamp it (e.g. "
                   "clamp_min(eps)) or compute the loss in log space from the logits",
    "complement": "log(1 - p) is -inf at p = 1 and its gradient NaN; clamp 1 - p, or compute it in log space from "
                  "the logits",
    "ratio": "log(a / b) is -inf where a reaches 0; guard the ratio (clamp_min(eps)) or subtract logs computed in "
             "log space",
}


def _kind(module: Module, log: OpCall, v: ast.expr) -> str | None:
    """Which shape of unguarded log this is, or None when the log is not worth a finding: a determinant or
    product; a variance or std (its op, or a value the analysis traces to one); and, in a cross-entropy-shaped
    expression (the log negated or reduced beside another factor), ``log(1 - p)``, ``log(a / b)`` or any
    other log; outside one, the log of a value the analysis knows is a probability."""
    value = module.resolve(v)
    call = module.op(value)
    if call is not None:
        if call.op in _OWNED:
            return None
        if call.op in ("det", "prod"):
            return call.op
        if call.op in ("std", "var"):
            return "variance"
        if call.op in ("sum", "mean") and module.op_of(call.input, "exp", "softmax"):
            return None
    facts = module.facts
    found = facts.value(v)
    if found.cause == "std":
        return "variance"
    shape = _cross_entropy_shape(module, log)
    complement = one_minus(module, value)
    if complement is not None:
        return "complement" if shape or facts.value(complement).probability else None
    division = module.arith(value)
    if division is not None and division.op is ast.Div and not division.inplace:
        if unstable_softmax(module, division.left, division.right):
            return None  # LOSS110's softmax by hand; once it is a softmax, its log is LOSS102's
        if found.role != "probs":  # (a stable softmax by hand, e / e.sum(), is a probability)
            return "ratio" if shape and not facts.guarded(division.left) else None
    if shape or (found.probability and found.zero >= Zero.ROUNDING):
        return "probability"
    return None


def _cross_entropy_shape(module: Module, log: OpCall) -> bool:
    """Whether the log is a cross-entropy term: negated and reduced or weighted (``-mean(y * log(p))``,
    ``-log(pt).mean()``), or reduced beside another factor (``sum(t * log(p))``). A Python number is not a weight but a
    scale: ``log(a) - 2 * log(b)`` and ``-log(r) * scale`` are not cross-entropies."""
    product = formulas.product(module, log.node)
    sign, parts = factors(product, module)
    around = wrappers(module, product, terms=True)
    weighted = any(p is not log.node and module.facts.value(p).kind != "number" for p in parts)
    reduced = bool(around.reductions)
    return (sign * around.sign < 0 and (reduced or weighted)) or (reduced and weighted)

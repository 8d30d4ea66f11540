"""LOSS104 bce-by-hand: ``-(y*log(p) + (1-y)*log(1-p))`` turns inf/NaN when p saturates; use the with-logits loss."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator

from ..finding import Edit, Finding, Fix, Import
from ..rewrite import atom, integral, movable, negated, rewritten, stable_call, unmovable, with_logits_targets
from ..rule import Rule, Safety
from ..semantic import formulas
from ..semantic.formulas import factors, same, terms, wrappers
from ..semantic.inference import dtype_eps, one_minus
from ..semantic.module import Module, OpCall

# The elementwise with-logits (or, for probabilities, clamping) loss per framework: (op in apis.STABLE, template).
_WITH_LOGITS = {
    "torch": ("bce_logits", "{f}({x}, {y}, reduction={r})"),
    "tf": ("sigmoid_ce_logits", "{f}(labels={y}, logits={x})"),
    "tf1": ("sigmoid_ce_logits", "{f}(labels={y}, logits={x})"),
    "keras": ("binary_crossentropy", "{f}({y}, {x}, from_logits=True)"),
}
_ON_PROBS = {
    "torch": ("bce", "{f}({x}, {y}, reduction={r})"),
    "keras": ("binary_crossentropy", "{f}({y}, {x})"),
}
_CLIP = {"tf": "tensorflow.clip_by_value", "tf1": "tensorflow.compat.v1.clip_by_value", "keras": "keras.ops.clip",
         "jax": "jax.numpy.clip", "numpy": "numpy.clip"}
KERAS_EPSILON = "1e-7"  # keras.config.epsilon(), what Keras' own BCE clips to


@dataclass
class Bce:
    chain: ast.expr  # the + / - chain holding both terms
    log_p: OpCall
    log_q: OpCall  # the log of 1 - p
    p: ast.expr
    y: ast.expr
    sign: int  # chain == sign * (y*log(p) + (1-y)*log(1-p)) when exact
    exact: bool  # exactly the two terms, no weights


class BceByHand(Rule):
    code = "LOSS104"
    name = "bce-by-hand"
    summary = "binary cross-entropy by hand: log(p) or log(1 - p) is -inf once p saturates to 0 or 1"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("log",)
    supersedes = ("LOSS101", "LOSS103", "LOSS111")

    def check(self, module: Module) -> Iterator[Finding]:
        seen: set[int] = set()
        for log in module.ops("log"):
            chain = formulas.outermost_sum(module, log.node)
            if id(chain) in seen or chain is log.node:
                continue
            seen.add(id(chain))
            bce = _match(module, chain)
            if bce is None:
                continue
            sigmoid, clamped = _sigmoid_origin(module, bce.p)
            if sigmoid is None and (module.facts.guarded(bce.log_p.input) or module.facts.guarded(bce.log_q.input)
                                    or not _tensor_log(module, bce.log_p)):
                continue
            top = wrappers(module, chain).top
            if sigmoid is not None:
                fix, why = self._logits_fix(module, bce, top, sigmoid, Safety.UNSAFE if clamped else Safety.SAFE)
                if fix is not None and len(fix.edits) == 1:
                    hint = f"use {fix.title.removeprefix('Use ').strip('`')} on the logits"
                else:
                    why = why if fix else unmovable(module, sigmoid.node, top)
                    hint = f"compute it from the logits (log-sigmoid){why}"
                message = f"binary cross-entropy by hand on a sigmoid is inf/NaN once it saturates; {hint}"
            else:
                fix = self._probs_fix(module, bce, top)
                message = ("binary cross-entropy by hand: log(p) and log(1 - p) are -inf at p = 0 or 1; clamp p "
                           "or use a BCE that clamps (better: keep the logits and use the with-logits loss)")
            yield self.finding(module, top, message, fix)

    # ----- fixes ------------------------------------------------------------------------------------------------
    def _logits_fix(self, module: Module, bce: Bce, top: ast.expr, sigmoid: OpCall,
                    safety: Safety) -> tuple[Fix | None, str]:
        """The with-logits loss for the whole expression, else logsigmoid in both logs and why not the loss."""
        z = sigmoid.input
        if z is None or not movable(module, sigmoid.node, top) or not _unary_activation(sigmoid) or integral(module, z):
            return None, ""
        framework = "torch" if sigmoid.kind in ("method", "module") else sigmoid.framework
        why = ""
        if bce.exact and framework in _WITH_LOGITS:
            y, why = _targets(module, z, bce.y, top, framework)
            fixed = _whole(module, bce, top, framework, _WITH_LOGITS[framework], module.text(z), y) if y else None
            spelled = stable_call(module, _WITH_LOGITS[framework][0], framework)
            if fixed is not None and spelled is not None:
                return Fix((Edit(module.span(top), fixed[0]),), safety, tuple(i for i in fixed[1:] if i),
                           f"Use `{spelled[0]}`"), ""
        spelled = stable_call(module, "logsigmoid", framework)
        if spelled is None:
            return None, ""
        edits = (Edit(module.span(bce.log_p.node), f"{spelled[0]}({module.text(z)})"),
                 Edit(module.span(bce.log_q.node), f"{spelled[0]}({negated(module, z)})"))
        return Fix(edits, safety, (spelled[1],) if spelled[1] else (), f"Use `{spelled[0]}` in both logs{why}"), why

    def _probs_fix(self, module: Module, bce: Bce, top: ast.expr) -> Fix | None:
        framework = bce.log_p.framework if bce.log_p.kind == "function" else "torch"
        if bce.exact and framework in _ON_PROBS and _probability_targets(module, bce, top, framework):
            fixed = _whole(module, bce, top, framework, _ON_PROBS[framework], module.text(bce.p), module.text(bce.y))
            if fixed is not None:
                return Fix((Edit(module.span(top), fixed[0]),), Safety.UNSAFE, tuple(i for i in fixed[1:] if i))
        clipped = _clipped(module, bce.p, framework)
        inner = one_minus(module, bce.log_q.input)
        if clipped is None or inner is None:
            return None
        edits = (Edit(module.span(bce.p), clipped[0]), Edit(module.span(inner), clipped[0]))
        return Fix(edits, Safety.UNSAFE, (clipped[1],) if clipped[1] else ())


def _match(module: Module, chain: ast.expr) -> Bce | None:
    """The two BCE terms in a + / - chain: ``y*log(p)`` and ``(1-y)*log(1-p)`` with the same sign."""
    found = []
    for sign, term in terms(chain, module=module):
        factor_sign, parts = factors(term, module)
        logs = [(i, op) for i, op in enumerate(module.op(f) for f in parts) if op is not None and op.op == "log"]
        if len(logs) != 1:
            continue
        index, log = logs[0]
        if log.input is None:
            continue
        found.append((sign * factor_sign, log, log.input, parts[:index] + parts[index + 1:]))
    for sign_p, log_p, input_p, rest_p in found:
        for sign_q, log_q, input_q, rest_q in found:
            p = one_minus(module, input_q)
            if log_p is log_q or sign_p != sign_q or p is None or not same(module, p, input_p):
                continue
            for y in rest_p:
                for other in rest_q:
                    if same(module, one_minus(module, other), y):
                        exact = len(found) == 2 == len(terms(chain, module=module)) and len(rest_p) == 1 == len(rest_q)
                        return Bce(chain, log_p, log_q, input_p, y, sign_p, exact)
    return None


def _sigmoid_origin(module: Module, p: ast.expr) -> tuple[OpCall | None, bool]:
    """The sigmoid ``p`` comes from (through names and clamps), and whether it was clamped on the way."""
    node, clamped = module.resolve(p), False
    for _ in range(4):
        call = module.op(node)
        if call is None:
            return None, False
        if call.op == "sigmoid":
            return call, clamped
        if call.op not in ("clamp", "clip", "clamp_min", "clamp_max") or call.input is None:
            return None, False
        node, clamped = module.resolve(call.input), True
    return None, False


def _tensor_log(module: Module, log: OpCall) -> bool:
    return log.framework not in ("numpy", "scipy") or module.is_tensor(log.input)


def _unary_activation(call: OpCall) -> bool:
    args = len(call.node.args) + len(call.node.keywords)
    return args == {"method": 0, "function": 1, "module": 1}[call.kind] and not call.node.keywords


def _whole(module: Module, bce: Bce, top: ast.expr, framework: str, api: tuple[str, str], x: str,
           y: str) -> tuple[str, Import | None] | None:
    """``top`` rewritten around the framework's elementwise loss, reductions kept as written (a bare torch
    mean/sum folded into ``reduction=``) and the signs multiplied out. None when a minus sits between two
    reductions."""
    spelled = stable_call(module, api[0], framework)
    if spelled is None:
        return None
    outer = wrappers(module, bce.chain)
    sign = -bce.sign * outer.sign  # top == sign * reductions(loss)
    reductions = outer.reductions
    folded = framework == "torch" and len(reductions) == 1 and formulas.bare(reductions[0])
    reduction = ('"sum"' if reductions[0].op == "sum" else None) if folded else '"none"'
    text = api[1].format(f=spelled[0], x=x, y=y, r=reduction)
    if reduction is None:
        text = text.replace(", reduction=None", "")
    if reductions and not folded:
        inner = wrappers(module, bce.chain, limit=0)
        after = wrappers(module, reductions[-1].node, limit=0)
        if inner.sign * after.sign != outer.sign:
            return None
        loss = text
        wrapped = rewritten(module, reductions[-1].node, {inner.top: loss})
        if wrapped is None:
            return None
        text = wrapped
        if reductions[-1].kind == "method":  # (-(y*log(p) + ...)).mean(1): the grouping parentheses go too
            text = text.replace(f"({loss})", loss, 1)
    return ("-" + text if sign < 0 else text), spelled[1]


def _targets(module: Module, z: ast.expr, y: ast.expr, at: ast.expr, framework: str) -> tuple[str | None, str]:
    """The targets' text for the with-logits loss on logits ``z``, or None and why not. The hand-written
    formula broadcasts (logits (4, 1), targets (4,) give a (4, 4) loss) and PyTorch's promotes dtypes; the
    with-logits losses raise on other shapes, and PyTorch's on integer targets, and return the targets' dtype."""
    if not module.facts.same_shape(z, y, at):
        return None, " (not the with-logits loss: the targets are not known to have the logits' shape)"
    if framework != "torch":
        return module.text(y), ""  # TensorFlow refuses mixed dtypes in the formula as in the loss
    targets = with_logits_targets(module, z, y, promotes=False)
    why = " (not the with-logits loss: the targets are not known to be floating, of the formula's dtype)"
    return targets, "" if targets else why


def _probability_targets(module: Module, bce: Bce, top: ast.expr, framework: str) -> bool:
    """Whether the probability BCE accepts the targets where the formula did: the same shape, and in PyTorch
    the same dtype as ``p`` (``binary_cross_entropy`` raises "Found dtype Half but expected Float")."""
    if not module.facts.same_shape(bce.p, bce.y, top):
        return False
    dtype = module.facts.value(bce.p).dtype
    return framework != "torch" or (dtype is not None and dtype == module.facts.value(bce.y).dtype)


def _clipped(module: Module, p: ast.expr, framework: str) -> tuple[str, Import | None] | None:
    """``p`` clipped to [eps, 1 - eps]: the dtype's eps where the framework spells it, Keras' 1e-7 in TF/Keras."""
    text = module.text(p)
    eps = dtype_eps(module, p, framework)
    if framework == "torch":
        if eps is None:
            return None
        return f"{atom(module, p)}.clamp({eps[0]}, 1 - {eps[0]})", eps[1]
    qualname = _CLIP.get(framework)
    spelled = module.spell(qualname) if qualname else None
    if spelled is None:
        return None
    bound = eps[0] if eps is not None and eps[1] is None else KERAS_EPSILON
    return f"{spelled[0]}({text}, {bound}, 1 - {bound})", spelled[1]

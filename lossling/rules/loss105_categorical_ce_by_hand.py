"""LOSS105 categorical-ce-by-hand: ``-sum(y * log(softmax(z)), d)`` is NaN/inf once a class probability
underflows; the with-logits cross-entropy (or ``log_softmax``) is exact."""

from __future__ import annotations

import ast
import math
from typing import Iterator

from ..finding import Edit, Finding, Fix
from ..rewrite import movable, respelled, rewritten, stable_call, unmovable, with_logits_targets
from ..rule import Rule, Safety
from ..semantic import formulas
from ..semantic.formulas import factors, wrappers
from ..semantic.module import Module, OpCall
from ..semantic.patterns import softmax_axis

# The with-logits cross-entropy over the class axis, per framework: (op in apis.STABLE, template, class axis it
# takes: None for "the softmax's own, the last", 1 for torch's class dim).
_WITH_LOGITS = {
    "torch": ("cross_entropy", "{f}({z}, {y}, reduction={r})", 1),
    "tf": ("softmax_ce_logits", "{f}(labels={y}, logits={z})", -1),
    "tf1": ("softmax_ce_logits", "{f}(labels={y}, logits={z})", -1),
    "keras": ("categorical_crossentropy", "{f}({y}, {z}, from_logits=True)", -1),
}
_AXIS = ("dim", "axis", "reduction_indices")


class CategoricalCeByHand(Rule):
    code = "LOSS105"
    name = "categorical-ce-by-hand"
    summary = "categorical cross-entropy by hand on a softmax: a class probability underflows to 0, so inf/NaN"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("softmax", "Softmax")
    supersedes = ("LOSS101", "LOSS102", "LOSS111")

    def check(self, module: Module) -> Iterator[Finding]:
        for log in module.ops("log"):
            found = _dense(module, log) or _sparse(module, log)
            if found is None:
                continue
            top, softmax, fix, why = found
            if fix is None:
                fix = self._log_softmax_fix(module, log, softmax, why)
            name = _named(fix) if fix else "log_softmax"
            why = why if fix else unmovable(module, softmax.node, log.node)
            yield self.finding(module, top, f"cross-entropy by hand on a softmax is inf/NaN once a probability "
                                            f"underflows; use {name}{why}", fix)

    def _log_softmax_fix(self, module: Module, log: OpCall, softmax: OpCall, why: str = "") -> Fix | None:
        """``log(softmax(z))`` -> ``log_softmax(z)`` in place: exact, whatever the reduction and label form
        (``why``: why not the with-logits loss, for the title)."""
        arg = module.resolve(log.input)
        if not movable(module, softmax.node, log.node):
            return None
        spelled = respelled(module, softmax, "log_softmax")
        if spelled is None:
            return None
        title = f"Use `{spelled[0].partition('(')[0]}`{why}"
        if arg is softmax.node:
            return Fix((Edit(module.span(log.node), spelled[0]),), Safety.SAFE, (spelled[1],) if spelled[1] else (),
                       title)
        picked = _picked(module, arg)  # log(p[i, t]) / log(p.gather(1, t)) with p the softmax
        if picked is None or arg is None or arg is not log.input:
            return None
        text = rewritten(module, arg, {picked: spelled[0]})
        if text is None:
            return None
        return Fix((Edit(module.span(log.node), text),), Safety.SAFE, (spelled[1],) if spelled[1] else (), title)


def _named(fix: Fix) -> str:
    """The stable API a fix calls (the with-logits loss or log_softmax), for the message."""
    text = fix.edits[0].text
    for word in ("cross_entropy", "crossentropy", "log_softmax"):
        end = text.find(word)
        if end >= 0:
            start = end
            while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "._"):
                start -= 1
            return text[start:text.find("(", end)]
    return "log_softmax"


def _dense(module: Module, log: OpCall):
    """``y * log(softmax(z))`` summed or averaged (any signs): (top, softmax, with-logits fix or None, why not
    the with-logits loss)."""
    softmax = module.op_of(log.input, "softmax")
    if softmax is None:
        return None
    product = formulas.product(module, log.node)
    sign, parts = factors(product, module)
    if len(parts) < 2 or not any(p is log.node for p in parts):
        return None
    outer = wrappers(module, product)
    if not outer.reductions:
        return None
    labels = [p for p in parts if p is not log.node]
    if all(module.const(p) is not None for p in labels):  # 2 * log(p): a scale, not a label
        return None
    if any(formulas.same(module, p, log.input) for p in labels):  # p * log(p): an entropy, LOSS102's fix
        return None
    fix, why = _with_logits(module, softmax, product, sign, labels, outer) if len(labels) == 1 else (None, "")
    return outer.top, softmax, fix, why


def _sparse(module: Module, log: OpCall):
    """``-log(softmax(z))[i, t]``, ``log(softmax(z)).gather(1, t)``, ``-log(p[i, t])`` with p a softmax."""
    arg = module.resolve(log.input)
    softmax = module.op_of(arg, "softmax")
    if softmax is None:
        picked = _picked(module, arg)
        softmax = module.op_of(picked, "softmax") if picked is not None else None
        if softmax is None:
            return None
        node: ast.expr = log.node
    else:
        parent = module.parent(log.node)
        if isinstance(parent, ast.Subscript) and parent.value is log.node:
            node = parent
        elif isinstance(parent, ast.Attribute) and parent.attr == "gather" and isinstance(
                gather := module.parent(parent), ast.Call):
            node = gather
        else:
            return None
    outer = wrappers(module, node)
    if outer.sign > 0 and not outer.reductions:
        return None
    return outer.top, softmax, None, ""


def _picked(module: Module, node: ast.AST | None) -> ast.expr | None:
    """``p`` in ``p[i, t]`` and in a gather of it in any spelling: ``p.gather(1, t)``, ``torch.gather(p, 1, t)``,
    ``tf.gather(p, t, batch_dims=1)``, ``tf.gather_nd``, ``jnp.take_along_axis(p, t, -1)``, ``index_select``."""
    if isinstance(node, ast.Subscript):
        return node.value
    call = module.op(node)
    return call.input if call is not None and call.op == "gather" else None


def _with_logits(module: Module, softmax: OpCall, product: ast.expr, sign: int, labels: list[ast.expr],
                 outer: formulas.Wrapped) -> tuple[Fix | None, str]:
    """The class-axis sum replaced by the framework's with-logits cross-entropy, when the axes provably agree and
    the labels fit it; else None and why not (for the message, where it is the labels)."""
    framework = "torch" if softmax.kind in ("method", "module") else softmax.framework
    api = _WITH_LOGITS.get(framework)
    z = softmax.input
    if api is None or z is None or not movable(module, softmax.node, product) or not _unary(softmax):
        return None, ""
    first = outer.reductions[0]
    axis = _axis(module, softmax, framework)
    reduced = _axis_of(module, first)
    if first.op != "sum" or _keeps(first) or axis is None:
        return None, ""
    if framework == "torch" and axis != api[2]:
        return None, ""
    if framework != "torch" and axis != -1:
        return None, ""
    spelled = stable_call(module, api[0], framework)
    if spelled is None:
        return None, ""
    everything = formulas.bare(first)
    if not everything and reduced != axis:
        return None, ""
    y, why = _targets(module, z, labels[0], product, framework)
    if y is None:
        return None, why  # log_softmax in place of the log instead: it broadcasts and promotes as the formula did
    text = api[1].format(f=spelled[0], z=module.text(z), y=y, r='"none"')
    if everything and framework != "torch":  # a sum over everything: sum the per-example losses instead
        target = _negations_up(module, first.node)
        inner = _inner_top(module, product, first)
        body = rewritten(module, first.node, {inner: text}) if inner is not None else None
        if body is None:
            return None, ""
        text = body if sign * _negations(module, product, target) < 0 else "-" + body
        return Fix((Edit(module.span(target), text),), Safety.SAFE, (spelled[1],) if spelled[1] else ()), ""
    target = first.node
    if framework == "torch":
        later = outer.reductions[1] if len(outer.reductions) > 1 else None
        if everything:
            text = text.replace('reduction="none"', 'reduction="sum"')
        elif later is not None and formulas.bare(later):
            target = later.node
            text = text.replace(', reduction="none"', "" if later.op == "mean" else ', reduction="sum"')
    target = _negations_up(module, target)
    if sign * _negations(module, product, target) > 0:  # the replaced node is +sum(y * log p), i.e. -loss
        text = "-" + text
    return Fix((Edit(module.span(target), text),), Safety.SAFE, (spelled[1],) if spelled[1] else ()), ""


def _targets(module: Module, z: ast.expr, y: ast.expr, at: ast.expr, framework: str) -> tuple[str | None, str]:
    """The labels' text for the with-logits cross-entropy where it computes what the formula did, or None and why
    not. The formula broadcasts (one soft label of shape (5,) for logits (4, 5)) and PyTorch's promotes integer
    labels; the losses raise on other shapes ("Expected input batch_size (4) to match target batch_size (5)") and
    PyTorch's on integer labels ("Expected floating point type for target with class probabilities")."""
    if not module.facts.same_shape(z, y, at):
        return None, " (not cross_entropy: the labels are not known to have the logits' shape)"
    if framework != "torch":
        return module.text(y), ""
    labels = with_logits_targets(module, z, y, promotes=True)
    return labels, "" if labels else " (not cross_entropy: the labels are not known to be floating)"


def _inner_top(module: Module, product: ast.expr, reduction: OpCall) -> ast.expr | None:
    """The argument of ``reduction`` that holds ``product`` (``product`` with the negations right around it)."""
    node: ast.AST | None = product
    while isinstance(node, ast.expr):
        if formulas.reduction_of(module, node) is reduction:
            return node
        node = module.parent(node)
    return None


def _negations_up(module: Module, node: ast.expr) -> ast.expr:
    while isinstance(parent := module.parent(node), ast.UnaryOp) and isinstance(parent.op, ast.USub):
        node = parent
    return node


def _negations(module: Module, inner: ast.AST, outer: ast.AST) -> int:
    """The product of the unary minuses (and ``* -1``) on the way from ``inner`` up to ``outer`` (inclusive)."""
    sign = 1
    node: ast.AST | None = inner
    while node is not outer and node is not None:
        node = module.parent(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign = -sign
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and (
                module.const(node.left) == -1.0 or module.const(node.right) == -1.0):
            sign = -sign
    return sign


def _unary(call: OpCall) -> bool:
    """The softmax takes its input and at most an axis."""
    node = call.node
    extra = [k.arg for k in node.keywords if k.arg not in ("dim", "axis", "input", "x", "logits")]
    return not extra and len(node.args) <= (1 if call.kind == "method" else 2)


def _axis(module: Module, softmax: OpCall, framework: str) -> int | None:
    node = softmax_axis(softmax)
    if node is None:
        return None if framework == "torch" else -1
    return _int(module, node)


def _axis_of(module: Module, call: OpCall) -> int | None:
    return _int(module, call.arg(1, *_AXIS))


def _int(module: Module, node: ast.AST | None) -> int | None:
    if isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) == 1:
        node = node.elts[0]
    value = module.const(node)
    return int(value) if value is not None and math.isfinite(value) and value == int(value) else None


def _keeps(call: OpCall) -> bool:
    return any(k.arg in ("keepdim", "keepdims", "keep_dims") for k in call.node.keywords) or len(call.node.args) > (
        1 if call.kind == "method" else 2)

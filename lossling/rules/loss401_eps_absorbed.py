"""LOSS401 eps-absorbed: an eps that float32 absorbs into 1 before it can guard: ``clamp(p, eps, 1 - eps)`` with
``1 - eps`` exactly 1.0, or ``eps + 1 - p`` / ``(1 + eps) - p`` with ``1 + eps`` exactly 1.0."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Edit, Finding, Fix
from ..rewrite import atom
from ..rule import Rule, Safety
from ..semantic import inference
from ..semantic.losses import SELF_BOUNDED
from ..semantic.module import Module

_DEPTH = 6  # products and powers followed from one clamp


class EpsAbsorbed(Rule):
    code = "LOSS401"
    name = "eps-absorbed"
    summary = ("an eps that float32 absorbs into 1: 1 - eps is 1.0 for eps <= 2**-25 (2.98e-8), so clamp(p, eps, "
               "1 - eps) does not keep p below 1; 1 + eps is 1.0 for eps <= 2**-24, so log(eps + 1 - p) is -inf "
               "at p = 1")
    severity = "error"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("clamp", "clip", "log", "/")
    # eps + 1 - p under a log or as a divisor: the absorbed eps is the root cause of the unguarded log/division.
    supersedes = ("LOSS101", "LOSS201")

    def check(self, module: Module) -> Iterator[Finding]:
        for guard in inference.guards(module, additive=False):
            eps = inference.eps_value(module, guard.eps)
            if eps is None or not inference.absorbed(eps, "float32", guard.kind):
                continue
            if module.facts.value(guard.tensor).dtype == "f64":
                continue  # float64 keeps 1 - eps below 1
            if guard.kind == "one_minus" and not _exposed(module, guard.at):
                continue  # every reader is fine at p = 1: the clamp's upper bound protects nothing
            fix = self._fix(module, guard, eps)
            if guard.kind == "one_minus":
                clip = module.op(guard.at)
                message = (f"1 - {eps:g} rounds to 1.0 in float32, so this {clip.op if clip else 'clamp'} lets p "
                           "reach 1 and log(1 - p) is -inf there; use an eps of at least float32's machine epsilon "
                           "(1.19e-07)")
            else:
                message = (f"{eps:g} + 1 rounds to 1.0 in float32 before p is subtracted, so at p = 1 this is 0 "
                           "again (-inf after a log, inf as a divisor); add the eps after the subtraction: "
                           "1 - p + eps")
            yield self.finding(module, guard.at, message, fix)

    def _fix(self, module: Module, guard: inference.Guard, eps: float) -> Fix | None:
        if guard.tensor is None:
            return None
        if guard.kind == "one_plus":
            if not (isinstance(guard.node, ast.BinOp) and isinstance(guard.node.left, ast.BinOp)):
                return None  # the 1 + eps is a name defined elsewhere: leave its definition alone
            return self.replace(module, guard.node, f"1 - {atom(module, guard.tensor)} + {module.text(guard.eps)}",
                                title="Add the eps after subtracting p")
        literals = inference.guard_literals(module, guard, eps)
        if not literals:
            return None
        spelled = inference.dtype_eps(module, guard.tensor, guard.framework)
        if spelled is None:
            if inference.guard_dtype(module, guard) != "float32":
                return None
            spelled = ("1e-7", None)
        edits = tuple(Edit(module.span(n), spelled[0]) for n in literals)
        return Fix(edits, Safety.UNSAFE, tuple(i for i in (spelled[1],) if i), "Use the dtype's machine epsilon")


def _exposed(module: Module, node: ast.AST, depth: int = _DEPTH) -> bool:
    """Whether the clamp's value, exactly 1 where p saturates, reaches code that may take 1 - p of it: anything but
    the prediction of a crossentropy that bounds its own logs (``F.binary_cross_entropy``, Keras's
    ``binary_crossentropy``), a log, a comparison, a question about its shape or dtype, or a product or power,
    followed on while it can still be exactly 1."""
    facts = module.facts
    uses = facts.uses(node)
    if uses is None or depth <= 0:
        return True
    for use in uses:
        parent = module.parent(use)
        if isinstance(parent, ast.Compare) or isinstance(parent, ast.Attribute) and parent.attr in _ASKED:
            continue
        reader = module.parent(parent) if isinstance(parent, ast.Attribute) else parent  # p.log(): the call
        call = module.op(reader) if isinstance(reader, ast.Call) else None
        if call is not None and (call.op in SELF_BOUNDED and _prediction(call) is use or call.input is use and (
                call.op == "log" or call.op in ("zeros", "ones", "full") and call.kind == "function")):
            continue  # log(1) is 0; zeros_like(p) takes only its shape
        wrapper = next((w for w in (parent, reader) if w is not None and facts.unwrapped(w) is use), None)
        if wrapper is not None:
            if _exposed(module, wrapper, depth - 1):  # a cast, a reshape, a detach, an index
                return True
            continue
        product = _arith(module, use)
        if product is None or not (product.op is ast.Pow and product.left is use or product.op is ast.Mult or
                                   product.op is ast.Div and product.left is use):
            return True
        if (product.op is ast.Pow or facts.value(product.node).hi == 1.0) and _exposed(module, product.node,
                                                                                      depth - 1):
            return True  # 1 ** g is 1, and p * q can be 1 when q can: follow it
    return False


_ASKED = frozenset({"shape", "dtype", "device", "ndim", "size", "dim", "numel"})


def _prediction(call) -> ast.expr | None:
    """The probabilities a crossentropy takes: torch's first argument, Keras's second (``y_pred``)."""
    return call.arg(0, "input") if call.framework == "torch" else call.arg(1, "y_pred", "output")


def _arith(module: Module, node: ast.AST):
    """The arithmetic ``node`` is an operand of, in any spelling (``node * q``, ``node.pow(g)``, ``torch.mul(q,
    node)``), or None."""
    parent = module.parent(node)
    candidate = module.parent(parent) if isinstance(parent, ast.Attribute) and parent.value is node else parent
    found = module.arith(candidate) if candidate is not None else None
    return found if found is not None and node in (found.left, found.right) else None

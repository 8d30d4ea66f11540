"""LOSS202 normalize-by-hand: ``x / norm(x)`` and cosine similarity by hand are NaN at a zero vector."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import movable, stable_call
from ..rule import Rule, Safety
from ..semantic.divisions import Division, divisions
from ..semantic.inference import dtype_eps, float_source
from ..semantic.module import Module, OpCall
from ..semantic.values import Zero
from ..semantic.patterns import keeps_dims, reduction_axis, square_base

_ORDER_TWO = (None, 2.0)


# The stable spelling each framework ships (JAX has none: the message says what to compute)
_NORMALIZE = {"torch": "F.normalize", "tf": "tf.math.l2_normalize", "keras": "keras.ops.normalize"}
_COSINE = {"torch": "F.cosine_similarity", "tf": "a sum of tf.math.l2_normalize products",
           "keras": "a sum of keras.ops.normalize products"}


class NormalizeByHand(Rule):
    code = "LOSS202"
    default = False  # opt-in: below the default set\'s precision bar on unseen code (README, "Default rules")
    name = "normalize-by-hand"
    summary = "x / norm(x) or a hand-written cosine similarity: NaN (value and gradient) at a zero vector"
    severity = "warning"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("norm", "sqrt")
    supersedes = ("LOSS201", "LOSS203")

    def check(self, module: Module) -> Iterator[Finding]:
        if not module.frameworks:
            return
        facts = module.facts
        for site in divisions(module):
            if isinstance(site.node, ast.AugAssign) or facts.tested(site.divisor) or facts.repaired(site.node):
                continue
            kind = facts.value(site.divisor).kind or ""
            if kind == "numpy":
                continue  # no gradient, no normalize to name: a NumPy zero vector is a plain 0 / 0
            cosine = self._cosine(module, site)
            if cosine is not None:
                fix = self._cosine_fix(module, site, *cosine)
                stable = _COSINE.get(kind, "a product of vectors divided by max(norm, eps)")
                yield self.finding(module, site.node, "cosine similarity by hand is 0 / 0 = NaN (value and "
                                   f"gradient) when either vector is 0; use {stable}", fix)
                continue
            norm = _norm_of(module, site.divisor)
            if norm is None or not _same(module, norm[0], site.numerator) or norm[1].framework in ("numpy", "scipy"):
                continue
            fix = self._normalize_fix(module, site, norm[1], norm[2])
            stable = _NORMALIZE.get(kind, "x / max(norm(x), eps)")
            yield self.finding(module, site.node, f"x / norm(x) is 0 / 0 = NaN (value and gradient) for a zero "
                               f"vector; use {stable}, which divides by max(norm, eps)", fix)

    # ----- x / norm(x) ------------------------------------------------------------------------------------------
    def _normalize_fix(self, module: Module, site: Division, norm: OpCall, top: ast.expr) -> Fix | None:
        if module.resolve(site.divisor) is not top:
            return None  # a reshaped norm (n[:, None]): report only
        if not movable(module, top, site.node):
            return None  # the x the norm was taken of changed before the division
        axis, keep = _norm_axis(norm)
        framework = norm.framework  # a method's is the file's (x.sum() is a JAX array's too)
        x = module.text(site.numerator)
        # the default eps (1e-12 in F.normalize and tf.math.l2_normalize) is 0 in float16: a zero row stays 0 / 0
        source = float_source(module, site.numerator)
        tiny = dtype_eps(module, source, framework, "tiny") if source is not None else None
        if framework == "torch":
            spelled = stable_call(module, "normalize", "torch")
            if axis is None or not keep or spelled is None:
                return None
            eps = f", eps={tiny[0]}" if tiny is not None else ""
            return self.replace(module, site.node, f"{spelled[0]}({x}, dim={module.text(axis)}{eps})", spelled[1],
                                tiny[1] if tiny is not None else None, title=f"Use `{spelled[0]}`")
        if framework in ("tf", "tf1", "keras"):
            spelled = stable_call(module, "normalize", framework)
            if spelled is None or (axis is not None and not keep) or (framework == "keras" and axis is None):
                return None
            where = f", axis={module.text(axis)}" if axis is not None else ""
            eps = f", epsilon={tiny[0]}" if tiny is not None else ""
            return self.replace(module, site.node, f"{spelled[0]}({x}{where}{eps})", spelled[1],
                                tiny[1] if tiny is not None else None, title=f"Use `{spelled[0]}`")
        return None

    # ----- cosine by hand ---------------------------------------------------------------------------------------
    @staticmethod
    def _cosine(module: Module, site: Division) -> tuple[OpCall, ast.expr, ast.expr, OpCall, OpCall] | None:
        """``sum(a * b, d) / (norm(a, d) * norm(b, d))``: the dot, its two operands and the two norms."""
        divisor = module.resolve(site.divisor)
        if not (isinstance(divisor, ast.BinOp) and isinstance(divisor.op, ast.Mult)):
            return None
        left, right = _norm_of(module, divisor.left), _norm_of(module, divisor.right)
        if left is None or right is None:
            return None
        dot = module.op_of(site.numerator, "sum")
        product = module.resolve(dot.input) if dot is not None else None
        if dot is None or not (isinstance(product, ast.BinOp) and isinstance(product.op, ast.Mult)):
            return None
        a, b = product.left, product.right
        if _same(module, left[0], a) and _same(module, right[0], b):
            return dot, a, b, left[1], right[1]
        if _same(module, left[0], b) and _same(module, right[0], a):
            return dot, b, a, left[1], right[1]
        return None

    def _cosine_fix(self, module: Module, site: Division, dot: OpCall, a: ast.expr, b: ast.expr,
                    norm_a: OpCall, norm_b: OpCall) -> Fix | None:
        if not all(movable(module, n, site.node) for n in (a, b, norm_a.node, norm_b.node)):
            return None  # a or b changed between the dot product or a norm and the division
        axis = reduction_axis(dot)
        if axis is None or keeps_dims(dot) or any(_norm_axis(n)[1] for n in (norm_a, norm_b)):
            return None
        axes = {ast.dump(x) for x in (axis, _norm_axis(norm_a)[0], _norm_axis(norm_b)[0]) if x is not None}
        if len(axes) != 1 or any(_norm_axis(n)[0] is None for n in (norm_a, norm_b)):
            return None
        framework = dot.framework
        if framework == "torch":
            spelled = stable_call(module, "cosine_similarity", "torch")
            if spelled is None:
                return None
            text = f"{spelled[0]}({module.text(a)}, {module.text(b)}, dim={module.text(axis)})"
            return self.replace(module, site.node, text, spelled[1], title=f"Use `{spelled[0]}`")
        if framework in ("tf", "tf1") and dot.kind == "function":
            spelled = stable_call(module, "normalize", framework)
            if spelled is None:
                return None
            ax = module.text(axis)
            text = (f"{module.text(dot.node.func)}({spelled[0]}({module.text(a)}, axis={ax}) * "
                    f"{spelled[0]}({module.text(b)}, axis={ax}), axis={ax})")
            return self.replace(module, site.node, text, spelled[1], title=f"Use `{spelled[0]}`")
        return None


def _norm_of(module: Module, node: ast.expr | None) -> tuple[ast.expr, OpCall, ast.expr] | None:
    """``(x, call, top)`` when ``node`` is the 2-norm of ``x`` (also ``sqrt(sum(x**2))``, and a reshaped norm such as
    ``n[:, None]``/``n.unsqueeze(1)``), unguarded."""
    for _ in range(4):
        if node is None or module.facts.guarded(node):
            return None
        resolved = module.resolve(node)
        call = module.op(resolved)
        if call is not None and call.op == "norm" and call.input is not None:
            order = call.arg(1, "p", "ord")
            if order is not None and module.const(order) not in _ORDER_TWO and not (
                    isinstance(order, ast.Constant) and order.value in ("fro", "euclidean")):
                return None
            return call.input, call, resolved
        if call is not None and call.op == "sqrt":
            total = module.op_of(call.input, "sum")
            squared = square_base(module, total.input) if total is not None else None
            return (squared, total, resolved) if squared is not None and total is not None else None
        node = module.facts.unwrapped(resolved) if resolved is not None else None
    return None


def _norm_axis(call: OpCall) -> tuple[ast.expr | None, bool]:
    """The axis a norm (or a sum of squares) reduces over, and whether it keeps it."""
    if call.op == "sum":
        return reduction_axis(call), keeps_dims(call)
    axis = call.arg(2, "dim", "axis")
    keep = call.arg(3, "keepdim", "keepdims")
    if isinstance(axis, ast.Constant) and axis.value is None:
        axis = None
    return axis, isinstance(keep, ast.Constant) and keep.value is True


def _same(module: Module, a: ast.AST | None, b: ast.AST | None) -> bool:
    if a is None or b is None:
        return False
    return ast.dump(a) == ast.dump(b) or ast.dump(module.resolve(a)) == ast.dump(module.resolve(b))

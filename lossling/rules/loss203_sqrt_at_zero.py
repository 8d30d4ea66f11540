"""LOSS203 sqrt-at-zero: the square root of a sum of squares is fine at 0, its gradient is not."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix, Import
from ..rewrite import rewritten
from ..rule import Rule, Safety
from ..semantic import context, inference
from ..semantic.module import Module, OpCall
from ..semantic.values import Zero
from ..semantic.patterns import difference, keeps_dims, reduction_axis, square_base

_DIFFERENTIABLE = ("torch", "tf", "tf1", "keras", "jax")


class SqrtAtZero(Rule):
    code = "LOSS203"
    default = False  # opt-in: below the default set\'s precision bar on unseen code (README, "Default rules")
    name = "sqrt-at-zero"
    summary = "sqrt (or a fractional power) of a sum of squares, a squared distance or a variance: NaN gradient at 0"
    severity = "warning"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax")
    triggers = ("sqrt", "**", "pow", "power", "norm")

    def check(self, module: Module) -> Iterator[Finding]:
        if not module.frameworks:
            return
        for root, radicand, framework in self._roots(module):
            if not _zero_at_rest(module, radicand) or module.facts.guarded(radicand) or (
                    not context.differentiated(module, root)):
                continue
            if not _data_dependent(module, radicand) or not _differentiated_use(module, root):
                continue
            fix = self._fix(module, root, radicand, framework)
            yield self.finding(module, root, _message(module, radicand), fix)
        for norm in module.ops("norm"):
            vector = norm.input
            if norm.framework in ("tf", "tf1", "jax") and norm.kind == "function" and vector is not None and (
                    difference(module, vector)):
                if module.facts.guarded(vector) or not context.differentiated(module, norm.node):
                    continue
                fix = self._norm_fix(module, norm, vector)
                yield self.finding(module, norm.node, f"the {norm.framework} norm of a difference has a NaN "
                                   "gradient where the two are equal (distance 0); add an eps under its square root",
                                   fix)

    @staticmethod
    def _roots(module: Module) -> Iterator[tuple[ast.expr, ast.expr, str]]:
        """``(node, radicand, framework)`` for every square root and fractional power in differentiable code."""
        found: list[tuple[ast.expr, ast.expr, str]] = []
        for call in module.ops("sqrt", "pow"):
            framework = "torch" if call.kind == "method" and "torch" in module.frameworks else call.framework
            if framework not in _DIFFERENTIABLE or call.input is None:
                continue
            if call.op == "pow" and not _fractional(module, call.arg(1, "exponent", "y", "x2")):
                continue
            found.append((call.node, call.input, framework))
        for node in module.nodes(ast.BinOp):
            if isinstance(node.op, ast.Pow) and _fractional(module, node.right) and module.is_tensor(node.left):
                kind = {"tf": "tf", "keras": "keras", "torch": "torch", "jax": "jax"}.get(
                    module.facts.value(node.left).kind or "")
                if kind in _DIFFERENTIABLE:
                    found.append((node, node.left, kind))
        found.sort(key=lambda f: (f[0].lineno, f[0].col_offset))
        return iter(found)

    def _fix(self, module: Module, root: ast.expr, radicand: ast.expr, framework: str) -> Fix | None:
        total = module.op_of(radicand, "sum")
        squared = square_base(module, total.input) if total is not None else None
        call = module.op(root)
        plain = (call is not None and (call.op == "sqrt" and len(call.node.args) + len(call.node.keywords) <= 1 or (
            call.op == "pow" and module.const(call.arg(1, "exponent")) == 0.5))) or (
            isinstance(root, ast.BinOp) and module.const(root.right) == 0.5)
        if framework == "torch" and total is not None and squared is not None and plain and (
                radicand is total.node or module.resolve(radicand) is total.node) and (
                radicand is total.node or module.facts.same_at(total.node, root)):
            spelled = module.spell("torch.linalg.vector_norm")
            axis = reduction_axis(total)
            if spelled is not None and len(total.node.args) + len(total.node.keywords) <= (
                    2 if total.kind == "method" else 3):
                args = module.text(squared)
                if axis is not None:
                    args += f", dim={module.text(axis)}"
                if keeps_dims(total):
                    args += ", keepdim=True"
                return self.replace(module, root, f"{spelled[0]}({args})", spelled[1],
                                    title=f"Use `{spelled[0]}`, whose gradient at 0 is 0")
        eps = _eps(module, radicand, framework)
        if eps is None:
            return None
        inside_call = isinstance(root, ast.Call) and not _is_receiver(root, radicand)
        guarded = f"{module.text(radicand)} + {eps[0]}"
        text = rewritten(module, root, {radicand: guarded if inside_call else f"({guarded})"})
        return self.replace(module, root, text, eps[1], safety=Safety.UNSAFE,
                            title=f"Add {eps[0]} under the square root") if text else None

    def _norm_fix(self, module: Module, norm: OpCall, vector: ast.expr) -> Fix | None:
        order = norm.arg(1, "ord")
        if order is not None and module.const(order) != 2.0 and not (
                isinstance(order, ast.Constant) and order.value == "euclidean"):
            return None
        namespace = "jax.numpy" if norm.framework == "jax" else "tensorflow"
        names = ("sum", "sqrt", "square") if norm.framework == "jax" else ("reduce_sum", "sqrt", "square")
        spelled = [s for s in (module.spell(f"{namespace}.{n}") for n in names) if s is not None]
        if len(spelled) < len(names):
            return None
        axis = norm.arg(2, "axis")
        keep = norm.arg(3, "keepdims")
        rest = (f", axis={module.text(axis)}" if axis is not None else "") + (
            f", keepdims={module.text(keep)}" if keep is not None else "")
        text = f"{spelled[1][0]}({spelled[0][0]}({spelled[2][0]}({module.text(vector)}){rest}) + 1e-12)"
        return self.replace(module, norm.node, text, *(s[1] for s in spelled), safety=Safety.UNSAFE,
                            title="Write the norm out with an eps under the square root")


_WHEN = {"sum": "every term is 0 (two equal points, a perfect prediction)", "std": "the input is constant",
         "norm": "the vector is 0", "max": "every value is 0", "min": "one of the values is 0",
         "count": "the mask is empty"}


def _message(module: Module, radicand: ast.expr) -> str:
    """Why this square root breaks, from what the value analysis knows about its argument."""
    if module.op_of(radicand, "exp") is not None:
        return ("sqrt of exp(z): exp underflows to 0 for z below about -104 (float32), where the square root's "
                "gradient is inf, NaN downstream; use exp(z / 2)")
    when = _WHEN.get(module.facts.value(radicand).cause or "", "it reaches 0")
    return (f"sqrt of a non-negative value (distance, RMSE, std) has an infinite gradient where {when}, NaN "
            "downstream; add an eps under the root or use a norm op")


def _eps(module: Module, radicand: ast.expr, framework: str) -> tuple[str, Import | None] | None:
    """An eps the radicand's dtype can hold: that dtype's smallest normal number where the framework spells it
    (``torch.finfo(v.dtype).tiny``, ``jnp.finfo``: 1e-12 is 0 in float16, whatever dtype the code shows), else
    1e-12 where the dtype is float32 or float64 (as in code that shows none); None for half precision there."""
    source = inference.float_source(module, radicand)
    spelled = inference.dtype_eps(module, source, framework, "tiny") if source is not None else None
    if spelled is not None:
        return spelled
    dtype = module.facts.value(radicand).dtype
    if dtype in ("f32", "f64") or (dtype not in ("f16", "bf16") and inference.dtype(module, radicand) == "float32"):
        return "1e-12", None
    return None


def _is_receiver(call: ast.Call, node: ast.AST) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.value is node


def _fractional(module: Module, exponent: ast.AST | None) -> bool:
    value = module.const(exponent)
    return value is not None and 0 < value < 1


def _zero_at_rest(module: Module, node: ast.AST | None) -> bool:
    """A non-negative quantity that the value analysis shows can be exactly 0: a sum or mean of squares, an MSE,
    a variance, pooled squares, a sum of squared terms (``dx ** 2 + dy ** 2``), an exp of an unbounded value. A
    bare square (``sqrt(x ** 2)`` is ``|x|``) is not: its zero is a single point of unknown data."""
    if node is None:
        return False
    value = module.facts.value(node)
    if not value.nonnegative:
        return False
    if value.zero >= Zero.DEGENERATE:
        return True
    exp = module.op_of(node, "exp")
    return exp is not None and value.zero is Zero.ROUNDING


def _data_dependent(module: Module, node: ast.AST) -> bool:
    """Whether the radicand is computed from values flowing in (a constant grid has no gradient to break)."""
    facts = module.facts
    return any(isinstance(n, (ast.Name, ast.Attribute)) and isinstance(getattr(n, "ctx", None), ast.Load) and (
        module.qualname(n) is None) and facts.value(n).kind not in ("number", "other") and facts.value(n).grad
        is not False for n in ast.walk(node))


def _differentiated_use(module: Module, root: ast.expr) -> bool:
    """False when the root's value is only detached, compared, or used as an index (its gradient is never taken):
    ``sqrt(s).detach()``, ``d = sqrt(s)`` with ``d`` only in ``d < r`` / ``x[d < r]`` / ``if d ** 2 < tol``."""
    parent = module.parent(root)
    if isinstance(parent, ast.Attribute) and parent.attr in ("detach", "item", "tolist", "numpy"):
        return False
    if isinstance(parent, ast.Compare):
        return False
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)):
        return True
    name = parent.targets[0].id
    scope = module.scope_node(root)
    uses = [n for n in ast.walk(scope) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
            and n.lineno > root.lineno]
    return not uses or any(not _decision_only(module, use) for use in uses)


def _decision_only(module: Module, use: ast.AST) -> bool:
    for ancestor in module.ancestors(use):
        if isinstance(ancestor, ast.Compare):
            return True
        if isinstance(ancestor, ast.Attribute) and ancestor.attr in ("detach", "item", "tolist", "numpy"):
            return True
        if isinstance(ancestor, ast.stmt):
            return False
    return False

"""LOSS406 optimizer-eps-in-half: an adaptive optimizer stepping float16 parameters with an eps float16 cannot
hold (torch's default 1e-8 is 0 there), without float32 master weights."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding
from ..rule import Rule
from ..semantic import apis, context, inference
from ..semantic.module import Module
from ..semantic.scopes import callee_name

# torch's default eps per adaptive optimizer (its keyword is ``eps``).
_DEFAULT_EPS = {"adam": 1e-8, "adamw": 1e-8, "adamax": 1e-8, "nadam": 1e-8, "radam": 1e-8, "rmsprop": 1e-8,
                "adagrad": 1e-10}
_FLOAT16 = inference.TINY["float16"]  # float16's smallest normal number, 6.1e-5
_HALF_METHODS = frozenset({"half", "to", "type"})


class OptimizerEpsInHalf(Rule):
    code = "LOSS406"
    name = "optimizer-eps-in-half"
    summary = ("an adaptive optimizer (Adam, RMSprop, Adagrad...) over float16 parameters with an eps below float16's "
               "smallest normal number (torch's default 1e-8 is 0): the update divides by 0 and the weights turn inf")
    severity = "error"
    frameworks = ("torch",)
    triggers = ("half", "float16")

    def check(self, module: Module) -> Iterator[Finding]:
        if not context.trains(module):
            return
        for call in module.nodes(ast.Call):
            func = call.func
            if callee_name(func) not in _NAMES:
                continue
            qualname = module.qualname(func) or ""
            found = apis.OPTIMIZERS.get(qualname)
            if found is None or not qualname.startswith("torch.optim.") or found[0] not in _DEFAULT_EPS:
                continue
            model = _parameters_of(call)
            if model is None or context.in_test(module, call) or not _half_model(module, model):
                continue
            written = next((k.value for k in call.keywords if k.arg == "eps"), None)
            eps = _DEFAULT_EPS[found[0]] if written is None else inference.value(module, written)
            if eps is None or eps >= _FLOAT16:
                continue
            name = qualname.rpartition(".")[2]
            what = f"its default eps {eps:g}" if written is None else f"eps={eps:g}"
            state = "0" if eps < 2.0 ** -25 else "subnormal"
            yield self.finding(module, call, f"{name} steps float16 parameters with {what}, which is {state} in "
                               "float16: small gradients make its squared average underflow to 0 (for Adam any |g| below "
                               "about 5e-3), the update divides by 0 and the weights become inf; keep float32 master "
                               "weights "
                               "(autocast with a GradScaler) or pass an eps of at least 1e-4")


_NAMES = frozenset(q.rpartition(".")[2] for q in apis.OPTIMIZERS if q.startswith("torch.optim."))


def _parameters_of(call: ast.Call) -> ast.expr | None:
    """``model`` in ``Adam(model.parameters(), ...)``."""
    first = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "params"), None)
    if (isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute) and first.func.attr == "parameters"
            and not first.args):
        return first.func.value
    return None


def _half_model(module: Module, model: ast.expr) -> bool:
    """The model's parameters are float16: its value's dtype says so (``Net().half()``, ``model.to(torch.float16)``
    assigned), or a statement converts the same object in place (``model.half()``: a module converts its own
    parameters, before or after the optimizer takes them), or the file sets float16 as the default dtype."""
    if module.facts.value(model).dtype == "f16":
        return True
    if isinstance(model, ast.Name):
        reaching = module.facts.definitions(model)
        for statement in module.nodes(ast.Expr):
            call = statement.value
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr in _HALF_METHODS and isinstance(call.func.value, ast.Name)
                    and call.func.value.id == model.id and module.facts.definitions(call.func.value) == reaching
                    and _to_float16(module, call)):
                return True
    return any(_to_float16(module, c) and (module.qualname(c.func) or "") == "torch.set_default_dtype"
               for c in module.nodes(ast.Call))


def _to_float16(module: Module, call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "half" and not call.args:
        return True
    targets = [*call.args[:1], *(k.value for k in call.keywords if k.arg == "dtype")]
    return any((module.qualname(t) or "") in ("torch.float16", "torch.half") for t in targets
               if isinstance(t, (ast.Name, ast.Attribute)))

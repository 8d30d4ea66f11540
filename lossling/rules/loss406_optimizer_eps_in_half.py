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
    frameworks = ("torch", "tensorflow")
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
            if found is None or context.in_test(module, call):
                continue
            if qualname.startswith("torch.optim.") and found[0] in _DEFAULT_EPS:
                model = _parameters_of(call)
                if model is None or not _half_model(module, model):
                    continue
                written = next((k.value for k in call.keywords if k.arg == "eps"), None)
                default, keyword = _DEFAULT_EPS[found[0]], "eps"
            elif qualname.startswith(_TF1_TRAIN) and found[0] == "adam" and _half_variables(module, call):
                # AdamOptimizer(learning_rate, beta1, beta2, epsilon=1e-8, ...)
                written = next((k.value for k in call.keywords if k.arg == "epsilon"), None) or (
                    call.args[3] if len(call.args) > 3 else None)
                default, keyword = 1e-8, "epsilon"
            else:
                continue
            eps = default if written is None else inference.value(module, written)
            if eps is None or eps >= _FLOAT16:
                continue
            name = qualname.rpartition(".")[2]
            what = f"its default {keyword} {eps:g}" if written is None else f"{keyword}={eps:g}"
            state = "0" if eps < 2.0 ** -25 else "subnormal"
            remedy = ("float32 master weights (autocast with a GradScaler)" if keyword == "eps" else
                       "float32 variables (cast to float16 inside the model, with loss scaling)")
            yield self.finding(module, call, f"{name} steps float16 parameters with {what}, which is {state} in "
                               "float16: small gradients make its squared average underflow to 0 (for Adam any |g| "
                               "below about 5e-3), the update divides by 0 and the weights become inf or NaN; keep "
                               f"{remedy} or pass an {keyword} of at least 1e-4")


_TF1_TRAIN = ("tensorflow.compat.v1.train.", "tensorflow.train.")
_NAMES = frozenset(q.rpartition(".")[2] for q in apis.OPTIMIZERS if q.startswith(("torch.optim.", *_TF1_TRAIN)))
_TF_VARIABLES = frozenset(f"{ns}.{name}" for ns in ("tensorflow", "tensorflow.compat.v1")
                          for name in ("Variable", "get_variable"))


def _half_variables(module: Module, optimizer: ast.Call) -> bool:
    """The function that builds ``optimizer`` (or the module, at its level) creates a float16 TensorFlow variable
    (``tf.Variable(..., dtype=tf.float16)``, ``get_variable`` with ``dtype=tf.float16``, or an initial value the
    analysis shows is float16): a TF1 optimizer's ``minimize`` steps every trainable variable of its graph."""
    scope = module.scope_node(optimizer)
    for call in module.calls_named("Variable", "get_variable"):
        if module.qualname(call.func) not in _TF_VARIABLES or module.scope_node(call) is not scope:
            continue
        dtype = next((k.value for k in call.keywords if k.arg == "dtype"), None)
        if dtype is not None and module.facts.value(call).dtype == "f16" or (
                dtype is None and call.args and module.facts.value(call.args[0]).dtype == "f16"):
            return True
        if dtype is not None and (module.qualname(dtype) or "").rpartition(".")[2] in ("float16", "half"):
            return True
    return False


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

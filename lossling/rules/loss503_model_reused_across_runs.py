"""LOSS503 model-reused-across-runs: a hyperparameter loop that trains one model object built before the loop."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding
from ..rule import Rule
from ..semantic import apis, context
from ..semantic.module import Module
from ..semantic.scopes import callee_name

# Calls in the loop that give the model fresh weights for each run (``model.apply(init_fn)`` included).
_RESET = frozenset({"clone_model", "reset_parameters", "load_state_dict", "set_weights", "deepcopy", "reset_states",
                    "load_weights", "apply", "copy"})
_GRIDS = frozenset({"itertools.product", "zip", "enumerate", "sklearn.model_selection.ParameterGrid"})


class ModelReusedAcrossRuns(Rule):
    code = "LOSS503"
    name = "model-reused-across-runs"
    default = False  # a training heuristic: opt-in (select LOSS5 or its code)
    summary = "a loop over hyperparameters trains the same model object: each run starts from the last one's weights"
    severity = "warning"
    frameworks = ("torch", "tensorflow", "keras")
    triggers = (".fit(", ".compile(", ".parameters()")

    def check(self, module: Module) -> Iterator[Finding]:
        for loop in module.nodes(ast.For):
            names = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
            if not names or context.in_test(module, loop) or _resets(module, loop):
                continue
            grid = _grid(module, loop.iter) or _splits(module, loop.iter)
            for call, model in _trainings(module, loop):
                if not (grid or _optimizer(module, call)):
                    continue  # a loop over epochs or batches trains one run: only a grid or a new optimizer per
                    # iteration makes each iteration a run
                if _uses(call, names) and _built_before(module, model, loop):
                    yield self.finding(module, call, f"{model.id} is built once, before this loop over "
                                       f"{', '.join(sorted(names))}, and trained in every iteration: each run "
                                       "starts from the previous run's weights; build the model inside the loop")
                    break


def _trainings(module: Module, loop: ast.For) -> Iterator[tuple[ast.Call, ast.Name]]:
    """(call, model) for ``model.compile(...)``/``model.fit(...)`` and optimizers over ``model.parameters()``."""
    for node in ast.walk(loop):
        if not isinstance(node, ast.Call) or node is loop.iter:
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("compile", "fit") and isinstance(func.value, ast.Name):
            yield node, func.value
        elif node.args and isinstance(func, (ast.Name, ast.Attribute)) and module.qualname(func) in apis.OPTIMIZERS:
            first = node.args[0]
            if (isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute)
                    and first.func.attr == "parameters" and isinstance(first.func.value, ast.Name)):
                yield node, first.func.value


def _grid(module: Module, iterable: ast.AST, depth: int = 3) -> bool:
    """A literal collection of settings (``[1e-3, 1e-2]``, ``(16, 32)``, ``{"a": 1}.items()``), directly,
    through a name, or combined by ``zip``/``enumerate``/``itertools.product``/``ParameterGrid``."""
    if depth <= 0:
        return False
    iterable = module.resolve(iterable)
    if isinstance(iterable, (ast.List, ast.Tuple, ast.Set)):
        return bool(iterable.elts) and all(isinstance(e, (ast.Constant, ast.Tuple, ast.Dict, ast.UnaryOp))
                                           for e in iterable.elts)
    if isinstance(iterable, ast.Dict):
        return bool(iterable.keys)
    if isinstance(iterable, ast.Call):
        func = iterable.func
        if isinstance(func, ast.Attribute) and func.attr in ("items", "values", "keys") and not iterable.args:
            return _grid(module, func.value, depth - 1)
        name = module.qualname(func) or (func.id if isinstance(func, ast.Name) and not module.facts.definitions(
            func) else None)
        if name in _GRIDS:
            return bool(iterable.args) and all(_grid(module, a, depth - 1) for a in iterable.args)
    return False


def _splits(module: Module, iterable: ast.AST) -> bool:
    """Cross-validation folds: ``KFold(5).split(x)`` and the other scikit-learn splitters."""
    if not (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute)
            and iterable.func.attr == "split"):
        return False
    splitter = module.resolve(iterable.func.value)
    return isinstance(splitter, ast.Call) and (module.qualname(splitter.func) or "").startswith(
        "sklearn.model_selection.")


def _optimizer(module: Module, call: ast.Call) -> bool:
    return isinstance(call.func, (ast.Name, ast.Attribute)) and module.qualname(call.func) in apis.OPTIMIZERS or (
        isinstance(call.func, ast.Attribute) and call.func.attr == "compile" and any(
            k.arg == "optimizer" and isinstance(k.value, ast.Call) for k in call.keywords))


def _resets(module: Module, loop: ast.For) -> bool:
    """A call in the loop that gives the model fresh weights (``set_weights``, ``load_state_dict``,
    ``copy.deepcopy``, ``clone_model``, ``model.apply(init)``)."""
    for node in ast.walk(loop):
        if isinstance(node, ast.Call):
            if callee_name(node.func) in _RESET:
                return True
    return False


def _uses(call: ast.Call, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(call))


def _built_before(module: Module, model: ast.Name, loop: ast.For) -> bool:
    """``model`` is assigned a constructor call before the loop in the same scope, and never inside it."""
    bindings = module.scope(module.scope_node(loop)).bindings.get(model.id, ())
    inside = [b for b in bindings if loop.lineno <= b.line <= (loop.end_lineno or loop.lineno)]
    before = [b for b in bindings if b.line < loop.lineno]
    return not inside and bool(before) and all(isinstance(b.value, ast.Call) for b in before)

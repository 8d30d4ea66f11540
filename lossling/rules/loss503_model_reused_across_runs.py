"""LOSS503 model-reused-across-runs: a hyperparameter loop that trains one model object built before the loop."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from ..finding import Finding
from ..rule import Rule
from ..semantic import apis
from ..semantic.module import Module

# Loop variables that count training progress, not runs.
_PROGRESS = re.compile(r"^(_|i|it|epoch\w*|\w*_epoch|step\w*|\w*_step|iter\w*|batch(_idx|_index|_num)?|batch_i)$",
                       re.I)
# Calls in the loop that give the model fresh weights for each run.
_RESET = re.compile(r"clone_model|reset_parameters|load_state_dict|set_weights|deepcopy|reset_states|"
                    r"load_weights|\.apply\(\s*\w*(init|reset)", re.I)


class ModelReusedAcrossRuns(Rule):
    code = "LOSS503"
    name = "model-reused-across-runs"
    summary = "a loop over hyperparameters trains the same model object: each run starts from the last one's weights"
    frameworks = ("torch", "tensorflow", "keras")
    triggers = (".fit(", ".compile(", ".parameters()")

    def check(self, module: Module) -> Iterator[Finding]:
        for loop in module.nodes(ast.For):
            names = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
            if not names or all(_PROGRESS.search(n) for n in names):
                continue
            for call, model in _trainings(module, loop):
                if _uses(call, names) and _built_before(module, model, loop) and not _RESET.search(module.text(loop)):
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


def _uses(call: ast.Call, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(call))


def _built_before(module: Module, model: ast.Name, loop: ast.For) -> bool:
    """``model`` is assigned a constructor call before the loop in the same scope, and never inside it."""
    bindings = module.scope(module.scope_node(loop)).bindings.get(model.id, ())
    inside = [b for b in bindings if loop.lineno <= b.line <= loop.end_lineno]
    before = [b for b in bindings if b.line < loop.lineno]
    return not inside and bool(before) and all(isinstance(b.value, ast.Call) for b in before)

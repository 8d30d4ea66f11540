"""LOSS310 softmax-implicit-dim: ``F.softmax(x)`` / ``nn.Softmax()`` without ``dim`` picks a dim by rank."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding
from ..rule import Rule
from ..semantic.module import Module

# Qualified name -> the position of ``dim`` when passed positionally.
_IMPLICIT = {
    "torch.nn.functional.softmax": 1, "torch.nn.functional.log_softmax": 1, "torch.nn.functional.softmin": 1,
    "torch.nn.Softmax": 0, "torch.nn.LogSoftmax": 0, "torch.nn.Softmin": 0,
}

_NAMES = tuple({q.rpartition(".")[2] for q in _IMPLICIT})


class SoftmaxImplicitDim(Rule):
    code = "LOSS310"
    name = "softmax-implicit-dim"
    summary = "softmax without dim: PyTorch picks dim 0 for 0/1/3-D inputs and 1 for 2-D ones"
    frameworks = ("torch",)
    triggers = ("softmax", "Softmax", "softmin", "Softmin")

    def check(self, module: Module) -> Iterator[Finding]:
        for call in module.calls_named(*_NAMES):
            qualname = module.qualname(call.func)
            position = _IMPLICIT.get(qualname) if qualname else None
            if position is None or any(isinstance(a, ast.Starred) for a in call.args):
                continue
            if any(k.arg is None for k in call.keywords):
                continue  # **kwargs may carry dim
            dim = next((k.value for k in call.keywords if k.arg == "dim"), None)
            if dim is None and len(call.args) > position:
                dim = call.args[position]
            if dim is not None and not (isinstance(dim, ast.Constant) and dim.value is None):
                continue
            name = module.text(call.func)
            yield self.finding(module, call, f"{name} without dim normalises over dim 0 for 0-, 1- and 3-D inputs "
                                             "and dim 1 for 2-D ones (on a batch of sequences, across the batch); "
                                             "pass dim explicitly")

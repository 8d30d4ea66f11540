"""LOSS502 recurrent-without-clipping: an RNN/LSTM/GRU trained in a file that clips gradients nowhere."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from ..finding import Finding
from ..rule import Rule
from ..semantic import apis
from ..semantic.module import Module

_RECURRENT = re.compile(r"^(torch\.nn\.(RNN|LSTM|GRU)|(tensorflow\.)?keras\.layers\.(SimpleRNN|LSTM|GRU|RNN))$")
# Any of these in the file means gradients are clipped somewhere (torch, Keras, TF, optax, Lightning, HF Trainer).
_CLIPPING = re.compile(r"clip_grad|clipnorm|clipvalue|clip_by_global_norm|clip_by_norm|gradient_clip|optax\.clip|"
                       r"max_grad_norm|clip_gradients")
# Calls that show the file trains a model (not only defines one).
_TRAINING = frozenset({"backward", "fit", "apply_gradients", "train_on_batch", "minimize"})


class RecurrentWithoutClipping(Rule):
    code = "LOSS502"
    name = "recurrent-without-clipping"
    summary = "a recurrent layer trained with no gradient clipping anywhere in the file: exploding gradients"
    frameworks = ("torch", "tensorflow", "keras")
    triggers = ("RNN", "LSTM", "GRU")

    def check(self, module: Module) -> Iterator[Finding]:
        if _CLIPPING.search(module.source):
            return
        layers = [c for c in module.nodes(ast.Call) if _RECURRENT.match(module.qualname(c.func) or "")]
        if not layers or not _trains(module):
            return
        name = module.text(layers[0].func).rpartition(".")[2]
        yield self.finding(module, layers[0], f"{name} trained without gradient clipping: recurrent gradients can "
                           "explode to inf/NaN over long sequences; clip them (torch.nn.utils.clip_grad_norm_, "
                           "Keras clipnorm=)")


def _trains(module: Module) -> bool:
    for call in module.nodes(ast.Call):
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _TRAINING:
            return True
        qualname = module.qualname(func)
        if qualname is not None and qualname in apis.OPTIMIZERS:
            return True
    return False

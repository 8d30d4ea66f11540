"""LOSS502 recurrent-without-clipping: an RNN/LSTM/GRU trained in a file that clips gradients nowhere."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from ..finding import Finding
from ..rule import Rule
from ..semantic import context
from ..semantic.module import Module
from ..semantic.scopes import callee_name

_RECURRENT = re.compile(r"^(torch\.nn\.(RNN|LSTM|GRU)|(tensorflow\.)?keras\.layers\.(SimpleRNN|LSTM|GRU|RNN))$")
# Calls that clip gradients (torch, TF, Accelerate, Lightning), and arguments that make an optimizer, a trainer or
# a training configuration clip them (Keras, Lightning, Hugging Face, optax's chain).
_CLIPPING_CALLS = frozenset({"clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "clip_by_global_norm",
                             "clip_by_norm", "clip_gradients", "clip_by_block_rms", "adaptive_grad_clip"})
_CLIPPING_ARGUMENTS = frozenset({"clipnorm", "clipvalue", "global_clipnorm", "gradient_clip_val", "max_grad_norm",
                                 "gradient_clipping", "clip_grad_norm", "grad_clip"})


class RecurrentWithoutClipping(Rule):
    code = "LOSS502"
    name = "recurrent-without-clipping"
    default = False  # a training heuristic: opt-in (select LOSS5 or its code)
    summary = "a recurrent layer trained with no gradient clipping anywhere in the file: exploding gradients"
    severity = "warning"
    frameworks = ("torch", "tensorflow", "keras")
    triggers = ("RNN", "LSTM", "GRU")

    def check(self, module: Module) -> Iterator[Finding]:
        layers = [c for c in module.nodes(ast.Call) if _RECURRENT.match(module.qualname(c.func) or "")
                  and not context.in_test(module, c)]
        if not layers or not context.trains(module) or _clips(module):
            return
        name = module.text(layers[0].func).rpartition(".")[2]
        yield self.finding(module, layers[0], f"{name} trained without gradient clipping: recurrent gradients can "
                           "explode to inf/NaN over long sequences; clip them (torch.nn.utils.clip_grad_norm_, "
                           "Keras clipnorm=)")


def _clips(module: Module) -> bool:
    """The file clips gradients somewhere: a clipping call (``clip_grad_norm_``, ``tf.clip_by_global_norm``,
    ``optax.clip_by_global_norm``, ``accelerator.clip_grad_norm_``) or a clipping argument (``clipnorm=``,
    ``gradient_clip_val=``, ``max_grad_norm=``)."""
    for call in module.nodes(ast.Call):
        func = call.func
        if callee_name(func) in _CLIPPING_CALLS or (module.qualname(func) or "").startswith("optax.clip"):
            return True
        if any(k.arg in _CLIPPING_ARGUMENTS for k in call.keywords):
            return True
    return False

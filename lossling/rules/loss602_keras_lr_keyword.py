"""LOSS602 keras-lr-keyword: ``lr=`` to a Keras optimizer, which Keras 3 (and tf.keras in TF 2.16+) rejects."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding
from ..rewrite import rewritten
from ..rule import Rule, Safety
from ..semantic.module import Module

_NAMESPACES = ("keras.optimizers.", "tensorflow.keras.optimizers.", "keras.optimizers.legacy.",
               "tensorflow.keras.optimizers.legacy.", "tensorflow.keras.optimizers.experimental.",
               "tensorflow.optimizers.")


class KerasLrKeyword(Rule):
    code = "LOSS602"
    name = "keras-lr-keyword"
    summary = "lr= passed to a Keras optimizer: deprecated in TF 2 Keras, rejected by Keras 3; use learning_rate="
    severity = "error"
    fix_safety = Safety.SAFE
    frameworks = ("tensorflow", "keras")
    triggers = ("lr=", "lr =")

    def check(self, module: Module) -> Iterator[Finding]:
        for call in module.nodes(ast.Call):
            keyword = next((k for k in call.keywords if k.arg == "lr"), None)
            if keyword is None or any(k.arg == "learning_rate" for k in call.keywords):
                continue
            qualname = module.qualname(call.func) or ""
            namespace, _, name = qualname.rpartition(".")
            if not (namespace + ".").startswith(_NAMESPACES) or not name[:1].isupper():
                continue
            text = rewritten(module, call, {keyword: f"learning_rate={module.text(keyword.value)}"})
            fix = self.replace(module, call, text, title="Use `learning_rate=`") if text else None
            yield self.finding(module, call, f"Keras 3 rejects lr= ({name} raises 'Argument(s) not recognized' "
                               "when it is built); use learning_rate=", fix)

"""LOSS307 keras-from-logits-mismatch: ``from_logits`` that contradicts the model's last layer."""

from __future__ import annotations

from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import rewritten
from ..rule import Rule, Safety
from ..semantic import losses, models
from ..semantic.module import Module

_CLASSES = {"binary_crossentropy": "BinaryCrossentropy", "categorical_crossentropy": "CategoricalCrossentropy",
            "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
            "binary_focal_crossentropy": "BinaryFocalCrossentropy",
            "categorical_focal_crossentropy": "CategoricalFocalCrossentropy"}


class KerasFromLogitsMismatch(Rule):
    code = "LOSS307"
    name = "keras-from-logits-mismatch"
    summary = "a Keras crossentropy whose from_logits contradicts the model's last layer"
    fix_safety = Safety.UNSAFE
    frameworks = ("keras", "tensorflow")
    triggers = ("compile",)

    def check(self, module: Module) -> Iterator[Finding]:
        backend = models.keras_backend(module)
        for compiled in models.compiles(module):
            head = compiled.head
            loss = losses.keras_crossentropy(module, compiled.loss)
            if head is None or loss is None or loss.logits is None:
                continue
            layer = module.text(head.node)
            if head.activation in ("sigmoid", "softmax") and loss.logits:
                if backend in ("torch", "jax"):
                    effect = f"on the {backend} backend {head.activation} is applied twice"
                elif head.tagged:
                    effect = ("Keras recovers the logits on the TensorFlow backend (with a warning), but on torch "
                              f"and jax {head.activation} is applied twice")
                else:
                    effect = f"{head.activation} is applied twice (Keras recovers logits only from its own activations)"
                fix = self.replace(module, loss.flag, "False") if loss.flag is not None else None
                yield self.finding(module, compiled.loss, f"from_logits=True but the last layer `{layer}` already "
                                                          f"applies {head.activation}: {effect}; set "
                                                          "from_logits=False or make the last layer linear", fix)
            elif head.activation == "linear" and not loss.logits:
                fix = self._to_logits(module, loss, head)
                yield self.finding(module, compiled.loss, f"the last layer `{layer}` outputs logits but the loss "
                                                          "takes probabilities (from_logits=False): it clips them to "
                                                          "[1e-7, 1 - 1e-7], so the loss is wrong and its gradients "
                                                          "vanish; use from_logits=True", fix)

    def _to_logits(self, module: Module, loss: losses.KerasLoss, head: models.Head) -> Fix | None:
        if loss.flag is not None:
            return self.replace(module, loss.flag, "True")
        if loss.ctor is not None:
            text = rewritten(module, loss.ctor, {}, "from_logits=True")
            return self.replace(module, loss.ctor, text) if text else None
        qualname = module.qualname(head.node.func) or ""
        namespace = "tensorflow.keras.losses" if qualname.startswith("tensorflow") else "keras.losses"
        spelled = module.spell(f"{namespace}.{_CLASSES[loss.kind]}")
        if spelled is None:
            return None
        return self.replace(module, loss.node, f"{spelled[0]}(from_logits=True)", spelled[1])

"""LOSS404 zero-floor-before-log: ``log(clamp(x, min=0))`` / ``log(relu(x))``: the floor is 0, and log(0) is -inf."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rule import Rule, Safety
from ..semantic import inference
from ..semantic.module import Module, OpCall

_FLOORS = ("clamp", "clamp_min", "clip", "maximum", "relu")


class ZeroFloorBeforeLog(Rule):
    code = "LOSS404"
    name = "zero-floor-before-log"
    summary = "log of a value floored at 0 (clamp(min=0), relu, maximum(x, 0)): -inf and an infinite gradient at 0"
    severity = "error"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("clamp", "clip", "maximum", "relu")
    supersedes = ("LOSS101",)

    def check(self, module: Module) -> Iterator[Finding]:
        for log in module.ops("log", "log2", "log10"):
            floor = module.op_of(log.input, *_FLOORS)
            if floor is None:
                continue
            zero, tensor = self._zero_floor(module, floor)
            if tensor is None:
                continue
            fix = self._fix(module, floor, zero, tensor)
            name = "relu" if floor.op == "relu" else f"{floor.op}(..., 0)"
            yield self.finding(module, log.node, f"log of {name} is -inf (with an infinite gradient) wherever the "
                               "input is <= 0; floor at a positive eps of the dtype instead (finfo(dtype).eps)", fix)

    @staticmethod
    def _zero_floor(module: Module, floor: OpCall) -> tuple[ast.expr | None, ast.expr | None]:
        """(the literal 0 bound, the floored tensor), or (None, None) when the floor is not 0."""
        if floor.op == "relu":
            return None, floor.input
        if floor.op == "maximum":
            first, second = floor.arg(0, "input", "x", "x1"), floor.arg(1, "other", "y", "x2")
            for zero, tensor in ((second, first), (first, second)):
                if module.const(zero) == 0 and module.const(tensor) is None:
                    return zero, tensor
            return None, None
        lower = inference.clip_bounds(floor)[0]
        return (lower, floor.input) if lower is not None and module.const(lower) == 0 else (None, None)

    def _fix(self, module: Module, floor: OpCall, zero: ast.expr | None, tensor: ast.expr) -> Fix | None:
        framework = floor.framework
        spelled = inference.dtype_eps(module, tensor, framework)
        own = inference.NAMES.get(module.facts.value(tensor).dtype or "", None)
        if spelled is None and framework not in ("torch", "jax", "numpy") and (
                (own or inference.dtype(module, floor.node)) == "float32"):
            spelled = ("1e-7", None)
        if spelled is None:
            return None
        title = "Floor at the dtype's machine epsilon"
        if zero is not None:
            return self.replace(module, zero, spelled[0], spelled[1], title=title)
        # relu(x) -> the framework's clamp at eps
        if floor.kind == "method":
            return self.replace(module, floor.node, f"{module.text(tensor)}.clamp(min={spelled[0]})", spelled[1],
                                title=title)
        name = {"torch": "torch.clamp_min", "tf": "tensorflow.maximum", "tf1": "tensorflow.compat.v1.maximum",
                "keras": "keras.ops.maximum", "jax": "jax.numpy.maximum"}.get(framework)
        callee = module.spell(name) if name else None
        if callee is None:
            return None
        imports = tuple(i for i in (spelled[1], callee[1]) if i)
        fix = self.replace(module, floor.node, f"{callee[0]}({module.text(tensor)}, {spelled[0]})")
        return Fix(fix.edits, fix.safety, imports, title)

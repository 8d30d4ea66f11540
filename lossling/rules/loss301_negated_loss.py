"""LOSS301 negated-loss: a loss that is never negative, negated as a whole and then minimised."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding
from ..rule import Rule
from ..semantic import losses, models
from ..semantic.module import Module

_REDUCTIONS = ("mean", "sum")


class NegatedLoss(Rule):
    code = "LOSS301"
    name = "negated-loss"
    summary = "a non-negative loss negated as a whole: minimising it maximises the error"
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("-",)

    def check(self, module: Module) -> Iterator[Finding]:
        for node in module.nodes(ast.UnaryOp):
            if not isinstance(node.op, ast.USub):
                continue
            what = self._nonnegative(module, node.operand)
            if what is None or not self._minimised(module, node):
                continue
            yield self.finding(module, node, f"negating {what}, which is never negative, makes training maximise "
                                             "the error; remove the minus")

    def _nonnegative(self, module: Module, operand: ast.expr) -> str | None:
        """How to name ``operand`` if it is a loss that cannot be negative, else None."""
        value = module.resolve(operand)
        while isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):  # k * loss with k > 0
            if (module.const(value.left) or 0) > 0:
                value = module.resolve(value.right)
            elif (module.const(value.right) or 0) > 0:
                value = module.resolve(value.left)
            else:
                break
        call = module.op(value)
        if call is None:
            return None
        if call.op in losses.NONNEGATIVE and call.op != "kl_div":
            what = f"`{module.text(call.node.func)}(...)`"
        elif call.op in _REDUCTIONS and _squared_or_absolute_error(module, call.input):
            what = f"`{module.text(value)}`" if len(module.text(value)) <= 60 else "a squared/absolute error"
        else:
            return None
        return f"`{operand.id}` = {what}" if isinstance(operand, ast.Name) else what

    @staticmethod
    def _minimised(module: Module, node: ast.UnaryOp) -> bool:
        """Whether the negated value is the loss being minimised: assigned to a loss name, returned from a loss
        function (or one passed to ``compile(loss=...)``), or ``.backward()``-ed."""
        parent = module.parent(node)
        if isinstance(parent, ast.Attribute) and parent.attr == "backward":
            return True
        if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
            target = parent.targets[0]
            name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)
            if name is None or losses.not_loss_name(name):
                return False
            if losses.loss_name(name):
                return True
            return isinstance(target, ast.Name) and _backward_or_returned(module, target, parent)
        if isinstance(parent, ast.Return):
            return _loss_function(module, module.function(node))
        return False


def _squared_or_absolute_error(module: Module, value: ast.AST | None) -> bool:
    """``(a - b) ** 2``, ``square(a - b)``, ``abs(a - b)``, possibly times a positive constant."""
    value = module.resolve(value)
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
        if (module.const(value.left) or 0) > 0:
            return _squared_or_absolute_error(module, value.right)
        if (module.const(value.right) or 0) > 0:
            return _squared_or_absolute_error(module, value.left)
        return False
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Pow) and module.const(value.right) == 2.0:
        return _difference(module, value.left)
    call = module.op(value)
    if call is not None and call.op in ("square", "abs"):
        return _difference(module, call.input)
    if call is not None and call.op == "pow" and module.const(call.arg(1, "exponent", "y")) == 2.0:
        return _difference(module, call.input)
    return False


def _difference(module: Module, value: ast.AST | None) -> bool:
    value = module.resolve(value)
    return isinstance(value, ast.BinOp) and isinstance(value.op, ast.Sub)


def _backward_or_returned(module: Module, name: ast.Name, stmt: ast.Assign) -> bool:
    scope = module.scope_node(stmt)
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and node.id == name.id and node is not name:
            parent = module.parent(node)
            if isinstance(parent, ast.Attribute) and parent.attr == "backward":
                return True
            if isinstance(parent, ast.Return) and _loss_function(module, module.function(node)):
                return True
    return False


def _loss_function(module: Module, function: ast.FunctionDef | ast.AsyncFunctionDef | None) -> bool:
    """A function whose return value is minimised: named like a loss, the ``forward``/``call`` of a loss class,
    or passed to a Keras ``compile(loss=...)``."""
    if function is None:
        return False
    if losses.loss_name(function.name):
        return True
    cls = module.enclosing_class(function)
    if (function.name in ("forward", "call", "__call__") and cls is not None and losses.loss_name(cls.name)
            and not losses.not_loss_name(cls.name)):
        return True
    return any(isinstance(c.loss, ast.Name) and c.loss.id == function.name for c in models.compiles(module))

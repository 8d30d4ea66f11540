"""LOSS107 expm1: ``exp(x) - 1`` cancels to 0 for small x; ``expm1(x)`` keeps x."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import atom, call_args, hint, movable, spell_beside
from ..rule import Rule, Safety
from ..semantic.module import Module, OpCall
from ..semantic.patterns import from_grid, sign_scaled, tensor_operand, unary


class Expm1(Rule):
    code = "LOSS107"
    default = False  # opt-in: below the default set\'s precision bar on unseen code (README, "Default rules")
    name = "expm1"
    summary = "exp(x) - 1 cancels: float32 gives 0 for |x| below 6e-8 and few correct digits near 0"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("exp",)

    def check(self, module: Module) -> Iterator[Finding]:
        for node in module.nodes(ast.BinOp, ast.Call):
            exp = self._match(module, node)
            if exp is None or not isinstance(node, ast.expr) or not tensor_operand(module, exp, exp.input) or (
                    self._not_small(module, node, exp)):
                continue
            fix = self._fix(module, node, exp)
            use = hint(fix, "expm1(x)")
            yield self.finding(module, node, f"exp(x) - 1 cancels to 0 for small x; use {use}", fix)

    @staticmethod
    def _match(module: Module, node: ast.AST) -> OpCall | None:
        """The exp in ``exp(x) - 1``, ``-1 + exp(x)`` or ``exp(x) + (-1)`` in any spelling (``x.exp().sub(1)``,
        ``torch.sub(torch.exp(x), 1)``, ``tf.subtract``; the 1 written as a literal, not the in-place ``sub_``)."""
        if not any(_literal(operand) for operand in _operand_candidates(node)):
            return None  # no literal to be the 1: the arithmetic need not be resolved
        found = module.arith(node)
        if found is None or found.inplace or found.right is None or not (
                _literal(found.left) or _literal(found.right)):
            return None
        if found.op is ast.Sub and module.const(found.right) == 1.0:
            return module.op_of(found.left, "exp")
        if found.op is ast.Add:
            if module.const(found.left) == -1.0:
                return module.op_of(found.right, "exp")
            if module.const(found.right) == -1.0:
                return module.op_of(found.left, "exp")
        return None

    @staticmethod
    def _not_small(module: Module, node: ast.expr, exp: OpCall) -> bool:
        """Where the digits expm1 would keep are not there or are lost anyway: x is integer-valued (0 or at
        least 1 in magnitude: nothing cancels), from a grid, or a magnitude expanded with its sign
        (``sign(y) * (exp(|y|) - 1)``); or the result only reaches order-1 arithmetic (``_absorbed``)."""
        x = exp.input
        return module.facts.value(x).integral or from_grid(module, x) or sign_scaled(module, node) or _absorbed(
            module, node)

    def _fix(self, module: Module, node: ast.expr, exp: OpCall) -> Fix | None:
        x = exp.input
        if not unary(exp) or x is None or not movable(module, exp.node, node):
            return None
        if exp.kind == "method":
            return self.replace(module, node, f"{atom(module, x)}.expm1()")
        spelled = spell_beside(module, exp, "expm1")
        if spelled is None:
            return None
        return self.replace(module, node, spelled[0] + call_args(module, exp.node), spelled[1])


def _operand_candidates(node: ast.AST) -> list[ast.expr]:
    """Where ``arith`` can take ``node``'s operands from: the two sides, or a call's receiver and arguments."""
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.Call):
        receiver = [node.func.value] if isinstance(node.func, ast.Attribute) else []
        return [*receiver, *node.args, *(k.value for k in node.keywords)]
    return []


def _literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant)


# Ops that are of order 1 near 0, so an argument's absolute error of one ulp of 1 is one ulp of their result.
_ORDER_ONE_AT_ZERO = frozenset({"sigmoid", "exp", "cos", "cosh", "softplus"})


def _absorbed(module: Module, node: ast.expr, depth: int = 2) -> bool:
    """Whether ``exp(x) - 1`` (negated, scaled, divided or taken ``abs`` of) only reaches arithmetic whose own
    rounding is an ulp of 1, the absolute error of ``exp(x) - 1`` itself: it is added to a Python number or to a
    value of magnitude at least 1 (``(a + 1) - (a - 1) * c``), handed to an op that is of order 1 at 0
    (``sigmoid(t * (r - 1))``), or compared with a threshold not known to be small (``abs(r - 1) > clip``);
    through a name, at every use."""
    child, parent = node, module.parent(node)
    while True:
        call = module.op(parent) if isinstance(parent, ast.Call) else None
        if isinstance(parent, ast.Attribute) and parent.value is child:  # the receiver of r.abs()
            call = module.op(module.parent(parent))
        if isinstance(parent, ast.UnaryOp) or (isinstance(parent, ast.BinOp) and (
                isinstance(parent.op, ast.Mult) or isinstance(parent.op, ast.Div) and parent.left is child)):
            child, parent = parent, module.parent(parent)
        elif call is not None and call.op == "abs" and call.input is child:
            child, parent = call.node, module.parent(call.node)
        else:
            break
    facts = module.facts
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Add, ast.Sub)):
        other = parent.right if parent.left is child else parent.left
        if not module.is_tensor(other):
            return module.const(other) != 0.0
        value = facts.value(other)
        return (value.lo is not None and value.lo >= 1) or (value.hi is not None and value.hi <= -1)
    if isinstance(parent, ast.Compare) and len(parent.comparators) == 1:
        other = parent.comparators[0] if parent.left is child else parent.left
        threshold = module.const(other)
        return threshold is None or abs(threshold) >= _SMALL_THRESHOLD
    if call is not None and call.op in _ORDER_ONE_AT_ZERO and call.input is child:
        return True
    if isinstance(parent, ast.Assign) and parent.value is child and depth:
        uses = facts.uses(child) or []
        return bool(uses) and all(isinstance(use, ast.expr) and _absorbed(module, use, depth - 1) for use in uses)
    return False


_SMALL_THRESHOLD = 1e-3  # a comparison this far from 0 resolves far coarser than float32's 6e-8 near 1

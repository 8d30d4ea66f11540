"""LOSS205 where-nan-gradient: ``where(cond, f(x), c)`` with ``f`` singular where ``cond`` is false."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix, Import
from ..rewrite import rewritten, stable_call
from ..rule import Rule, Safety
from ..semantic import context
from ..semantic.module import Module, OpCall
from ..semantic.patterns import pure
from ..semantic.scopes import callee_name
from ..semantic.values import Zero

# Ops singular at some input, and an input value where each is finite with a finite derivative.
_SAFE_INPUT = {"log": "1.0", "log2": "1.0", "log10": "1.0", "sqrt": "1.0", "rsqrt": "1.0", "acos": "0.0",
               "asin": "0.0", "atanh": "0.0", "reciprocal": "1.0", "pow": "1.0", "divide": "1.0"}
# Tests for NaN/inf: a where on them selects by the input's finiteness, not around a singular value.
_NONFINITE_TESTS = frozenset({"isnan", "isinf", "isfinite", "is_nan", "is_inf", "is_finite", "isposinf", "isneginf"})


class WhereNanGradient(Rule):
    code = "LOSS205"
    name = "where-nan-gradient"
    summary = "where(cond, f(x), c) with f undefined where cond is false: right value, NaN gradient"
    severity = "error"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax")
    triggers = ("where",)
    supersedes = ("LOSS201", "LOSS203")

    def check(self, module: Module) -> Iterator[Finding]:
        for where in module.ops("where"):
            if where.kind != "function" or where.framework == "numpy":
                continue
            cond, taken = where.arg(0, "condition", "cond"), where.arg(1, "input", "x")
            other = where.arg(2, "other", "y")
            if cond is None or taken is None or other is None:
                continue
            for branch, negate in ((taken, False), (other, True)):
                found = _singular(module, branch, cond, where.framework, not negate)
                if found is None:
                    continue
                if not context.differentiated(module, where.node):
                    break  # a gradient hazard: only where the code takes gradients
                fix = self._fix(module, where, cond, branch, negate, *found)
                what = "division" if found[2] == "divide" else found[2]
                yield self.finding(module, where.node, f"where() hides the {what}'s value but not its gradient: the "
                                   "untaken branch is NaN/inf and its gradient NaN; make the input safe first: "
                                   "where(cond, f(where(cond, x, safe)), c)", fix)
                break

    def _fix(self, module: Module, where: OpCall, cond: ast.expr, branch: ast.expr, negate: bool, node: ast.expr,
             operand: ast.expr, op: str) -> Fix | None:
        """Double where: the singular operand becomes ``where(cond, operand, safe)`` (safe first when negated);
        a TensorFlow division becomes ``divide_no_nan``."""
        if not pure(module, cond) or not any(n is node for n in ast.walk(branch)):
            return None
        if op == "divide" and where.framework in ("tf", "tf1", "keras"):
            spelled = stable_call(module, "divide_no_nan", where.framework)
            division = module.op(node)
            numerator = node.left if isinstance(node, ast.BinOp) else (
                division.arg(0, "x") if division is not None else None)
            if spelled is None or numerator is None:
                return None
            replacement = f"{spelled[0]}({module.text(numerator)}, {module.text(operand)})"
            text = rewritten(module, where.node, {node: replacement})
            return self.replace(module, where.node, text, spelled[1], title=f"Use `{spelled[0]}`") if text else None
        safe = _SAFE_INPUT[op]
        func = module.text(where.node.func)
        value, fallback = module.text(operand), safe
        imports: list[Import | None] = []
        if where.framework in ("tf", "tf1", "keras"):
            ones = module.spell({"keras": "keras.ops.ones_like"}.get(where.framework, "tensorflow.ones_like"))
            if ones is None:
                return None
            imports.append(ones[1])
            fallback = f"{ones[0]}({value})" if safe == "1.0" else f"{ones[0]}({value}) * 0"
        first, second = (fallback, value) if negate else (value, fallback)
        inner = f"{func}({module.text(cond)}, {first}, {second})"
        text = rewritten(module, where.node, {operand: inner})
        if text is None:
            return None
        return self.replace(module, where.node, text, *imports, title="Make the input safe with a second where")


def _singular(module: Module, branch: ast.expr, cond: ast.expr, framework: str,
              taken: bool) -> tuple[ast.expr, ast.expr, str] | None:
    """``(node, operand, op)``: the singular operation in ``branch`` whose operand ``cond`` tests and excludes
    (``taken``: the branch is selected where ``cond`` is true). TensorFlow's sqrt/rsqrt gradients are computed from
    the output and come out 0 under a where (measured), so not those."""
    taken_is_false = not taken
    kinds = (ast.Name, ast.Attribute, ast.Subscript, ast.Call)
    tested = {ast.dump(n) for n in ast.walk(cond) if isinstance(n, kinds)}
    resolved = module.resolve(branch)
    for node in ast.walk(resolved):
        if not isinstance(node, ast.expr):
            continue
        operand, op = None, ""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            operand, op = node.right, "divide"
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            value = module.const(node.right)
            if value is not None and (value < 0 or 0 < value < 1):
                operand, op = node.left, "pow"
        else:
            call = module.op_of(node, *_SAFE_INPUT, follow=False)
            if call is not None and not (
                    call.op in ("sqrt", "rsqrt") and framework in ("tf", "tf1")):
                if call.op == "divide":
                    operand = call.arg(1, "other", "y")
                elif call.op == "pow":
                    value = module.const(call.arg(1, "exponent", "y"))
                    operand = call.input if value is not None and (value < 0 or 0 < value < 1) else None
                else:
                    operand = call.input
                op = call.op
        if operand is None or not (ast.dump(operand) in tested or ast.dump(module.resolve(operand)) in tested):
            continue
        if module.const(operand) is not None or module.facts.value(operand).kind == "number":
            continue
        if op not in ("acos", "asin", "atanh") and _defined_nonzero(module, operand):
            continue  # the branch is finite anyway: every definition keeps it from 0 (clamp(x, min=1), x + eps)
        excluded = _holds_at_singularity(module, cond, operand, op)
        if excluded is None or excluded is taken_is_false:
            return node, operand, op
    return None


def _defined_nonzero(module: Module, operand: ast.expr) -> bool:
    """Whether every definition of the name ``operand`` is nonzero, before the where's own test refines it."""
    facts = module.facts
    definitions = facts.definitions(operand) if isinstance(operand, ast.Name) else frozenset()
    return bool(definitions) and all(facts.of_def(d).zero is Zero.NEVER for d in definitions)


def _holds_at_singularity(module: Module, cond: ast.expr, operand: ast.expr, op: str) -> bool | None:
    """Whether ``cond`` is true where ``operand`` is at its singular value (0; ±1 for the inverse trig functions),
    for a simple comparison of the operand (or its ``abs``) with a constant, or a NaN/inf test of it (false at
    the finite singular value: ``where(isnan(b), nan, log(b))`` hides nothing); None when lossling cannot tell."""
    negated = isinstance(cond, ast.UnaryOp) and isinstance(cond.op, (ast.Invert, ast.Not))
    test = cond.operand if isinstance(cond, ast.UnaryOp) and negated else cond
    if isinstance(test, ast.Call) and test.args and callee_name(test.func) in _NONFINITE_TESTS:
        subject = module.resolve(test.args[0])
        if ast.dump(test.args[0]) == ast.dump(operand) or ast.dump(subject) == ast.dump(module.resolve(operand)):
            return (callee_name(test.func) in ("isfinite", "is_finite")) != negated
        return None
    if not (isinstance(cond, ast.Compare) and len(cond.ops) == 1):
        return None
    left, right = cond.left, cond.comparators[0]
    compare = cond.ops[0]
    if module.const(left) is not None and module.const(right) is None:
        left, right = right, left
        compare = {ast.Lt: ast.Gt(), ast.Gt: ast.Lt(), ast.LtE: ast.GtE(), ast.GtE: ast.LtE()}.get(
            type(compare), compare)
    bound = module.const(right)
    call = module.op(left)
    inner = call.input if call is not None and call.op == "abs" else None
    absolute = inner is not None
    subject = inner if inner is not None else left
    if bound is None or ast.dump(subject) != ast.dump(operand):
        return None
    points = [1.0, -1.0] if op in ("acos", "asin", "atanh") else [0.0]
    results = {_compare(abs(p) if absolute else p, compare, bound) for p in points}
    return results.pop() if len(results) == 1 else None


def _compare(value: float, compare: ast.cmpop, bound: float) -> bool | None:
    return {ast.Eq: value == bound, ast.NotEq: value != bound, ast.Lt: value < bound, ast.LtE: value <= bound,
            ast.Gt: value > bound, ast.GtE: value >= bound}.get(type(compare))

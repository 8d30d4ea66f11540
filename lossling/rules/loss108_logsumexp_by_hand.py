"""LOSS108 logsumexp-by-hand: ``log(sum(exp(x)))``, ``log(mean(exp(x)))``, ``log(exp(a) + exp(b))`` and
``log(exp(x))`` overflow or underflow in exp; logsumexp, logaddexp (and plain ``x``) do not."""

from __future__ import annotations

import ast
from typing import Iterator

from ..finding import Finding, Fix, Import, Safety
from ..rewrite import atom, call_args, hint, integral, movable, rewritten, spell_beside, stable_call, unmovable
from ..rule import Rule
from ..semantic.formulas import factors
from ..semantic.module import Module, OpCall
from ..semantic.patterns import (
    from_grid,
    max_shifted,
    overflows,
    pure,
    reduction_axis,
    reduction_rest,
    tensor_operand,
    underflows,
    unary,
)

# Frameworks whose reductions take (input, axis, keepdims) positionally, like their logsumexp.
_KEEPDIMS_POSITIONAL = ("torch", "tf", "tf1", "keras")


class LogSumExpByHand(Rule):
    code = "LOSS108"
    name = "logsumexp-by-hand"
    summary = "log of a sum of exps: exp overflows above 88.7 (float32) and underflows below -103"
    fix_safety = Safety.SAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("exp",)
    supersedes = ("LOSS101",)

    def check(self, module: Module) -> Iterator[Finding]:
        for log in module.ops("log"):
            if not unary(log):
                continue
            inner = module.resolve(log.input)
            found = self._roundtrip(module, log, inner) or self._reduction(module, log, inner) or self._addexp(
                module, log, inner)
            if found is not None:
                yield found

    # ----- log(exp(x)) ---------------------------------------------------------------------------------------
    def _roundtrip(self, module: Module, log: OpCall, inner: ast.AST | None) -> Finding | None:
        exp = module.op_of(inner, "exp", follow=False)
        if exp is None or not unary(exp) or exp.input is None or not tensor_operand(module, exp, exp.input):
            return None
        fix = None
        if movable(module, exp.node, log.node):
            fix = self.replace(module, log.node, module.text(exp.input))
        why = "" if fix else unmovable(module, exp.node, log.node)
        return self.finding(module, log.node, "log(exp(x)) overflows to inf above 88.7 and to -inf below -103; "
                                              f"it is x{why}", fix)

    # ----- log(sum(exp(x), d)), log(mean(exp(x), d)) and log(sum(w * exp(x), d)) ------------------------------
    def _reduction(self, module: Module, log: OpCall, inner: ast.AST | None) -> Finding | None:
        reduction = module.op_of(inner, "sum", "mean", "matmul", follow=False)
        if reduction is not None and reduction.op == "matmul" or (
                isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.MatMult)):
            # log(exp(lp) @ w): a weighted sum whose axis a rewrite cannot name
            operands = (inner.left, inner.right) if isinstance(inner, ast.BinOp) else (
                reduction.input, reduction.arg(1, "other", "mat2", "b", "x2"))  # type: ignore[union-attr]
            if not any(_unstable(module, module.op_of(o, "exp")) for o in operands):
                return None
            return self.finding(module, log.node, "log of a matrix product of exps overflows to inf or underflows "
                                                  "to -inf; use logsumexp(x + log(w), dim)")
        if reduction is None:
            return None
        exp, weights = _weighted_exp(module, reduction.input)
        if exp is None or exp.input is None or not _unstable(module, exp):
            return None
        fix = None
        product = module.resolve(reduction.input)
        if movable(module, reduction.node, log.node) and movable(module, exp.node, log.node) and (
                not weights or (reduction.op == "sum" and product is not None and movable(module, product, log.node))):
            fix = self._reduction_fix(module, log, reduction, exp.input, weights)
        if weights:
            what, default = f"log({reduction.op}(w * exp(x)))", "logsumexp(x + log(w), dim)"
        else:
            what = "log(sum(exp(x)))" if reduction.op == "sum" else "log(mean(exp(x)))"
            default = "logsumexp(x, dim)" if reduction.op == "sum" else "logsumexp(x, dim) - log(n)"
        if reduction.op == "mean" and weights:
            default += " - log(n)"
        why = "" if fix else unmovable(module, reduction.node, log.node) or unmovable(module, exp.node, log.node) or (
            unmovable(module, product, log.node) if weights and product is not None else "")
        return self.finding(module, log.node, f"{what} overflows to inf or underflows to -inf; use "
                                              f"{hint(fix, default)}{why}", fix)

    def _reduction_fix(self, module: Module, log: OpCall, reduction: OpCall, x: ast.expr,
                       weights: list[ast.expr] | None = None) -> Fix | None:
        """The reduction rewritten as the framework's logsumexp of ``x`` (of ``x + log(w)`` for weights ``w``:
        safe where every weight is known non-negative and, when a gradient can reach it, never 0)."""
        safety = Safety.SAFE
        if weights:
            term = self._log_weighted(module, log, x, weights)
            if term is None:
                return None
            text, safety = term
            return self._logsumexp(module, log, reduction, text, f"({text})", None, safety)
        return self._logsumexp(module, log, reduction, module.text(x), atom(module, x), x, safety)

    @staticmethod
    def _log_weighted(module: Module, log: OpCall, x: ast.expr, weights: list[ast.expr]
                      ) -> tuple[str, Safety] | None:
        """``x + log(w1) + ...`` spelled with the file's own log, and whether that is safe."""
        facts = module.facts
        parts, safety = [module.text(x)], Safety.SAFE
        for weight in weights:
            value = facts.value(weight)
            if not value.tensor or value.integral or not pure(module, weight):
                return None  # log of a Python number, an integer or bool tensor, or a call with effects
            if not (value.nonnegative and (value.positive or not facts.gradient(weight))):
                safety = Safety.UNSAFE  # log(w) is NaN for w < 0, and its gradient 1/w is inf at w = 0
            if log.kind == "method":
                parts.append(f"{atom(module, weight)}.log()")
            else:
                parts.append(f"{module.text(log.node.func)}({module.text(weight)})")
        return " + ".join(parts), safety

    def _logsumexp(self, module: Module, log: OpCall, reduction: OpCall, term: str, term_atom: str,
                   x: ast.expr | None, safety: Safety) -> Fix | None:
        framework = reduction.framework
        rest = reduction_rest(module, reduction, 2 if framework in _KEEPDIMS_POSITIONAL else 1)
        if rest is None or reduction.input is None:
            return None
        axis = reduction_axis(reduction)
        imports: list[Import | None] = []
        method = reduction.kind == "method" and framework == "torch"
        spelled = None if method else spell_beside(
            module, reduction, "reduce_logsumexp" if framework in ("tf", "tf1") else "logsumexp", "logsumexp")
        if not method and spelled is None:
            return None
        if framework == "torch" and axis is None:  # torch.logsumexp needs a dim: reduce the flattened tensor
            if rest:
                return None
            flat = f"{term_atom}.flatten()"
            text = f"{flat}.logsumexp(0)" if spelled is None else f"{spelled[0]}({flat}, 0)"
        elif spelled is None:  # a torch method: keep the reduction's arguments as written, comments included
            text = f"{term_atom}.logsumexp{call_args(module, reduction.node)}"
        elif reduction.kind == "method":  # arr.sum(axis) on a NumPy/JAX array
            text = f"{spelled[0]}({', '.join([term] + rest)})"
        else:
            call = rewritten(module, reduction.node, {reduction.input: term})
            if call is None:
                return None
            text = spelled[0] + call[len(module.text(reduction.node.func)):]
        if spelled is not None:
            imports.append(spelled[1])
        if reduction.op == "mean":
            count = self._log_count(module, framework, x, axis) if x is not None else None
            if count is None:
                return None
            text = f"{text} - {count[0]}"
            imports.extend(count[1])
        return self.replace(module, log.node, text, *imports, safety=safety)

    @staticmethod
    def _log_count(module: Module, framework: str, x: ast.expr, axis: ast.expr | None
                   ) -> tuple[str, list[Import | None]] | None:
        """``log(n)`` for the number of elements a mean over ``axis`` averages, written with ``x`` again."""
        if not isinstance(x, (ast.Name, ast.Attribute)) or not pure(module, x):
            return None
        value = None if axis is None else module.const(axis)
        if axis is not None and (value is None or not value.is_integer()):
            return None
        name = module.text(x)
        axis_text = None if axis is None else module.text(axis)
        if framework in ("tf", "tf1"):
            tf = module.spell("tensorflow.math.log" if framework == "tf" else "tensorflow.compat.v1.math.log")
            root = module.spell("tensorflow" if framework == "tf" else "tensorflow.compat.v1")
            if tf is None or root is None:
                return None
            size = f"{root[0]}.size({name})" if axis is None else f"{root[0]}.shape({name})[{axis_text}]"
            return f"{tf[0]}({root[0]}.cast({size}, {name}.dtype))", [tf[1], root[1]]
        if framework not in ("torch", "jax", "numpy"):
            return None
        log = module.spell("math.log")
        if log is None:
            return None
        if axis is None:
            size = f"{name}.numel()" if framework == "torch" else f"{name}.size"
        else:
            size = f"{name}.shape[{axis_text}]"
        return f"{log[0]}({size})", [log[1]]

    # ----- log(exp(a) + exp(b)) ------------------------------------------------------------------------------
    def _addexp(self, module: Module, log: OpCall, inner: ast.AST | None) -> Finding | None:
        if not (isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Add)):
            return None
        a, b = module.op_of(inner.left, "exp"), module.op_of(inner.right, "exp")
        if a is None or b is None or not unary(a) or not unary(b):
            return None
        if not (tensor_operand(module, a, a.input) or tensor_operand(module, b, b.input)):
            return None
        if _stable(module, a) or _stable(module, b):
            return None
        fix = None
        if all(movable(module, n, log.node) for n in (inner, a.node, b.node)):
            fix = self._addexp_fix(module, log, a, b)
        return self.finding(module, log.node, f"log(exp(a) + exp(b)) overflows to inf or underflows to -inf; "
                                              f"use {hint(fix, 'logaddexp(a, b)')}", fix)

    def _addexp_fix(self, module: Module, log: OpCall, a: OpCall, b: OpCall) -> Fix | None:
        framework = "torch" if a.kind == "method" else a.framework
        if framework != ("torch" if b.kind == "method" else b.framework) or a.input is None or b.input is None:
            return None
        if integral(module, a.input) and integral(module, b.input):
            return None  # logaddexp of two integer tensors raises
        args = f"{module.text(a.input)}, {module.text(b.input)}"
        if framework in ("tf", "tf1"):  # TensorFlow has no logaddexp; stacking needs equal shapes (no broadcast)
            root = "tensorflow" if framework == "tf" else "tensorflow.compat.v1"
            lse, stack = stable_call(module, "logsumexp", framework), module.spell(f"{root}.stack")
            if lse is None or stack is None:
                return None
            return self.replace(module, log.node, f"{lse[0]}({stack[0]}([{args}]), 0)", lse[1], stack[1],
                                safety=Safety.UNSAFE)
        spelled = stable_call(module, "logaddexp", framework)
        if spelled is None:
            return None
        return self.replace(module, log.node, f"{spelled[0]}({args})", spelled[1])


def _weighted_exp(module: Module, node: ast.expr | None) -> tuple[OpCall | None, list[ast.expr]]:
    """The exp a reduction's input is, alone or as the one exp factor of a positive product (``exp(lp) * w``,
    ``lp.exp().mul(w)``, through names), with the other factors: the weights."""
    exp = module.op_of(node, "exp")
    if exp is not None or node is None:
        return exp, []
    sign, parts = factors(module.resolve(node), module)
    exps = [module.op_of(part, "exp") for part in parts]
    found = [e for e in exps if e is not None]
    if sign < 0 or len(parts) < 2 or len(found) != 1:
        return None, []
    return found[0], [part for part, e in zip(parts, exps) if e is None]


def _unstable(module: Module, exp: OpCall | None) -> bool:
    """An exp of a tensor that can overflow or underflow (see ``_stable``)."""
    return exp is not None and unary(exp) and exp.input is not None and tensor_operand(module, exp, exp.input) and (
        not _stable(module, exp))


def _stable(module: Module, exp: OpCall) -> bool:
    """An exp that neither overflows nor underflows: shifted by a maximum, over a coordinate grid, or of an
    argument the value analysis bounds on both sides (clamped, ``tanh``)."""
    return max_shifted(module, exp.input) or from_grid(module, exp.input) or not (
        overflows(module, exp) or underflows(module, exp))

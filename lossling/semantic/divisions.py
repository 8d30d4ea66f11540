"""Every division site of a file, whatever its spelling: ``/``, ``/=``, ``torch.div``/``true_divide``, ``x.div(d)``,
``x.div_(d)``, ``tf.math.divide``/``truediv``/``realdiv``, TF1 ``tf.div``, ``jnp.divide``, ``keras.ops.divide``,
``np.divide``. ``divide_no_nan`` is a guarded division and is not listed."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator

from .module import Module, OpCall


@dataclass(frozen=True)
class Division:
    """One division site: ``node`` is what a finding reports (the ``/``, the call, the ``/=`` statement)."""

    node: ast.expr | ast.AugAssign
    numerator: ast.expr
    divisor: ast.expr
    call: OpCall | None = None  # the divide call, when the division is spelled as one


def divisions(module: Module) -> Iterator[Division]:
    """Every true division in the file, in source order (computed once per file)."""
    cached = module.cached("divisions")
    if cached is None:
        sites: list[Division] = []
        for node in module.nodes(ast.BinOp):
            if isinstance(node.op, ast.Div):
                sites.append(Division(node, node.left, node.right))
        for statement in module.nodes(ast.AugAssign):
            if isinstance(statement.op, ast.Div):
                sites.append(Division(statement, statement.target, statement.value))
        for call in module.ops("divide"):
            numerator, divisor = call.arg(0, "input", "x", "x1"), call.arg(1, "other", "y", "x2")
            if numerator is not None and divisor is not None:
                sites.append(Division(call.node, numerator, divisor, call))
        sites.sort(key=lambda d: (d.node.lineno, d.node.col_offset))
        cached = module.cache("divisions", sites)
    return iter(cached)


def weighted_mean(module: Module, site: Division) -> bool:
    """``sum(x * w) / sum(w)``: the numerator sums a product one of whose factors is what the divisor sums (a
    masked or weighted mean, 0 / 0 when every weight is 0)."""
    top = module.op_of(site.numerator, "sum")
    bottom = module.op_of(site.divisor, "sum")
    if top is None or bottom is None or top.input is None or bottom.input is None:
        return False
    product = module.resolve(top.input)
    if not (isinstance(product, ast.BinOp) and isinstance(product.op, ast.Mult)):
        return False
    weight = _uncast(module, bottom.input)
    return any(_uncast(module, factor) == weight for factor in (product.left, product.right))


def _uncast(module: Module, node: ast.AST) -> str:
    """The text of a value with dtype changes peeled off (``valid.float()`` -> ``valid``), through names."""
    for _ in range(4):
        node = module.resolve(node)
        inner = module.facts.unwrapped(node)
        if inner is None:
            break
        node = inner
    return ast.dump(node)

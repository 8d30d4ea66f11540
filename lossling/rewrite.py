"""Helpers rules use to write replacement expressions from the file's own source text."""

from __future__ import annotations

import ast

from .finding import Fix, Import
from .semantic import apis
from .semantic.divisions import Division
from .semantic.module import Module, OpCall
from .semantic.inference import dtype_eps
from .semantic.patterns import softmax_axis
from .semantic.values import FLOATS, promote

_ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set)


def atom(module: Module, node: ast.AST) -> str:
    """``node``'s text, parenthesised unless it binds tighter than any operator."""
    text = module.text(node)
    if isinstance(node, _ATOMS) and not (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
                                         and text.startswith("-")):
        return text
    return f"({text})"


def negated(module: Module, node: ast.AST) -> str:
    """The text of ``-node``: ``-x``, ``-(a + b)``, and ``x`` for ``-x`` or ``x.neg()``."""
    found = module.arith(node)
    if found is not None and found.op is ast.USub and not found.inplace:
        return atom(module, found.left)
    return "-" + atom(module, node)


def call_args(module: Module, call: ast.Call) -> str:
    """The parenthesised argument list of ``call`` exactly as written, comments and line breaks included."""
    return module.text(call)[len(module.text(call.func)):]


def sibling(module: Module, call: OpCall, name: str) -> tuple[str, Import | None] | None:
    """Spell ``name`` from the same namespace as ``call`` (``F.softmax`` -> ``F.log_softmax``), if it exists."""
    if call.kind == "method":
        return None
    if call.qualname is None:
        return None
    qualname = call.qualname.rpartition(".")[0] + "." + name
    if qualname not in apis.FUNCTIONS:
        return None
    func = call.node.func
    if isinstance(func, ast.Attribute) and module.qualname(func.value) == qualname.rpartition(".")[0]:
        return module.text(func.value) + "." + name, None
    return module.spell(qualname)


def stable_call(module: Module, op: str, framework: str) -> tuple[str, Import | None] | None:
    """Spell the framework's stable ``op`` (see ``apis.STABLE``), or None where the framework has none."""
    qualname = apis.stable(op, framework)
    return module.spell(qualname) if qualname else None


def hint(fix: Fix | None, default: str, limit: int = 72) -> str:
    """What a message names as the replacement: the fix's text when it is one short line, else ``default``."""
    text = fix.edits[0].text if fix is not None and len(fix.edits) == 1 else ""
    return text if text and "\n" not in text and len(text) <= limit else default


def spell_beside(module: Module, call: OpCall, name: str, op: str | None = None) -> tuple[str, Import | None] | None:
    """Spell ``name`` from ``call``'s own namespace (``torch.log`` -> ``torch.log1p``), else the framework's stable
    ``op`` (default: ``name``). TF1-only names are never reused: ``tf.log`` gives ``tf.math.log1p``."""
    spelled = sibling(module, call, name)
    if spelled is not None and call.qualname is not None and (
            call.qualname.rpartition(".")[0] + "." + name not in apis.TF1_ONLY):
        return spelled
    return stable_call(module, op or name, call.framework)


def movable(module: Module, node: ast.AST, to: ast.AST) -> bool:
    """Whether ``node`` (an expression assigned earlier) can be written again at ``to`` with the same value
    (``Facts.same_at``: nothing in it reassigned or changed in place on the way, no call with side effects). An
    expression already inside ``to`` stays where it is, so it always qualifies."""
    return any(ancestor is to for ancestor in module.ancestors(node)) or module.facts.same_at(node, to)


def integral(module: Module, node: ast.AST | None) -> bool:
    """Whether ``node`` is known to hold integers or bools: ``exp``, ``sigmoid`` and ``log`` promote them to float,
    but ``softplus``, ``logsigmoid``, ``softmax`` and ``logaddexp`` raise ("not implemented for 'Long'"), so a fix
    that swaps one for the other needs a floating input."""
    return node is not None and module.facts.value(node).integral


def unmovable(module: Module, node: ast.AST, to: ast.AST) -> str:
    """Why ``node`` cannot be written again at ``to``, for a message without a fix: " (no fix: `w` is
    reassigned or changed in place on the way)"; "" where it can."""
    if movable(module, node, to):
        return ""
    return f" (no fix: {module.facts.changed(node, to)} on the way)"


_CASTS = {"f16": "half", "bf16": "bfloat16", "f32": "float", "f64": "double"}


def with_logits_targets(module: Module, logits: ast.expr, targets: ast.expr, promotes: bool) -> str | None:
    """The targets' text for a PyTorch with-logits loss that replaces a formula on ``logits`` and ``targets``,
    such that the loss has the dtype the formula had (``logits * targets`` promotes); None where the dtypes are
    not known. ``cross_entropy`` promotes like the formula (``promotes``): floating targets stay as written.
    ``binary_cross_entropy_with_logits`` returns the targets' dtype (float16 targets, float32 logits: float16),
    so the targets must have the promoted dtype already. Integer or bool targets, which both losses reject
    ("result type Float can't be cast to Long"), and narrower floats are cast to it (``y.float()``, or
    ``y.to(z.dtype)`` for integer targets where the logits' dtype is not known). Targets of
    the logits' own dtype (``y.type_as(z)``) stay as written; the logits are taken to be floating unless known
    not to be."""
    facts = module.facts
    z, y = facts.value(logits), facts.value(targets)
    if facts.same_dtype(logits, targets) and not z.integral:
        return module.text(targets)
    if y.dtype in FLOATS and (promotes or y.dtype == "f64"):
        return module.text(targets)
    if y.integral and z.dtype is None and isinstance(logits, ast.Name):
        return f"{atom(module, targets)}.to({logits.id}.dtype)"  # an integer times floating logits: their dtype
    if z.dtype not in FLOATS or y.dtype is None:
        return None
    wanted = promote(z, y)
    if wanted == y.dtype:
        return module.text(targets)
    return f"{atom(module, targets)}.{_CASTS[wanted]}()" if wanted in _CASTS else None


def respelled(module: Module, call: OpCall, name: str) -> tuple[str, Import | None] | None:
    """``call`` with its op swapped for ``name`` and its arguments kept: ``F.softmax(z, 1)`` ->
    ``F.log_softmax(z, 1)``, ``z.softmax(1)`` -> ``z.log_softmax(1)``, and an ``nn.Softmax(dim=1)`` instance
    applied to ``z`` -> ``F.log_softmax(z, dim=1)`` (torch modules only)."""
    node = call.node
    if call.kind == "method" and call.receiver is not None:
        return f"{atom(module, call.receiver)}.{name}{call_args(module, node)}", None
    if call.kind == "function":
        spelled = sibling(module, call, name) or stable_call(module, name, call.framework)
        return (spelled[0] + call_args(module, node), spelled[1]) if spelled else None
    if call.framework != "torch" or call.input is None or len(node.args) != 1 or node.keywords:
        return None
    spelled = stable_call(module, name, "torch")
    if spelled is None or call.ctor is None or (call.ctor.args[1:] or any(k.arg != "dim" for k in call.ctor.keywords)):
        return None
    dim = softmax_axis(call)
    args = module.text(call.input) + (f", dim={module.text(dim)}" if dim is not None else "")
    return f"{spelled[0]}({args})", spelled[1]


def rewritten(module: Module, node: ast.AST, replace: dict[ast.expr | ast.keyword, str],
              append: str = "") -> str | None:
    """The text of ``node`` with the sub-nodes in ``replace`` (expressions, keywords) swapped for new text, and,
    for a call, ``append`` added as its last argument. None when a comment sits where ``append`` would go."""
    text = module.text(node)
    start = module.span(node)
    offsets = [0]
    for line in module.lines[start.line - 1:start.end_line - 1]:
        offsets.append(offsets[-1] + len(line) + 1)

    def offset(line: int, col: int) -> int:
        return offsets[line - start.line] + col - start.col  # the text's first line starts at start.col

    for child in sorted(replace, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        span = module.span(child)
        text = text[:offset(span.line, span.col)] + replace[child] + text[offset(span.end_line, span.end_col):]
    if append:
        if not (isinstance(node, ast.Call) and text.endswith(")")):
            return None
        inner = text[:-1].rstrip()
        tail = text[len(inner):-1]
        last = inner.rpartition("\n")[2]
        if "#" in last:
            return None
        if "\n" in tail and inner.endswith(","):  # one argument per line: add another line like the last
            indent = last[:len(last) - len(last.lstrip())]
            return f"{inner}\n{indent}{append},{tail})"
        if inner.endswith(","):
            inner = inner[:-1]
        separator = "" if inner.endswith("(") else ", "
        text = f"{inner}{separator}{append})"
    return text


GUARD_TITLE = "Guard the divisor"


def guarded_division(module: Module, site: Division) -> tuple[ast.AST, str, Import | None] | None:
    """A division whose divisor can be 0, rewritten so it cannot give NaN: ``(node, text, import)``, chosen by the
    divisor's dtype so the guard itself cannot fail. TensorFlow/Keras: ``divide_no_nan(n, d)``. PyTorch: a count
    (an integer or bool dtype, or the count of a mask) becomes ``d.clamp_min(1)`` (``max(d, 1)`` for a Python
    number); a float divisor ``d.clamp_min(torch.finfo(d.dtype).eps)``, the dtype's own resolution. None where
    the dtype is not known (``finfo`` of an integer tensor raises)."""
    facts = module.facts
    value = facts.value(site.divisor)
    divisor = site.divisor
    if value.kind in ("tf", "keras"):
        framework = "keras" if value.kind == "keras" else ("tf1" if site.call is not None and
                                                           site.call.framework == "tf1" else "tf")
        spelled = stable_call(module, "divide_no_nan", framework)
        if spelled is None or isinstance(site.node, ast.AugAssign):
            return None
        if site.call is not None and site.call.kind == "function" and site.call.framework == framework:
            return site.call.node.func, spelled[0], spelled[1]  # keep the arguments
        return site.node, f"{spelled[0]}({module.text(site.numerator)}, {module.text(divisor)})", spelled[1]
    count = value.integral or value.cause == "count"
    if value.kind == "number":
        return (divisor, f"max({module.text(divisor)}, 1)", None) if count else None
    if value.kind != "torch":
        return None
    if count:
        return divisor, f"{atom(module, divisor)}.clamp_min(1)", None
    if value.dtype not in ("f16", "bf16", "f32", "f64") and value.cause not in ("norm", "std"):
        return None  # a sum or max of a tensor whose dtype lossling cannot see: finfo would raise on integers
    tensors = [n for n in ast.walk(divisor) if isinstance(n, ast.Name) and facts.value(n).tensor]
    eps = dtype_eps(module, divisor if not tensors or divisor is tensors[0] else tensors[0], "torch")
    if eps is None:
        return None
    return divisor, f"{atom(module, divisor)}.clamp_min({eps[0]})", eps[1]

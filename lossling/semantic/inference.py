"""Value and dtype inference for the rules that judge a number: an eps, a learning rate, the dtype code runs in.

``value(module, node)`` answers "what number is this?". It starts from ``Module.const`` (literals, arithmetic and
names assigned once in the file), follows a parameter to its default (``def f(p, eps=1e-8)``, also through
``self.eps = eps`` in ``__init__``), and only then asks astroid, for what one file's ``ast`` cannot see: a
name imported from another module of the checked project (``from .config import EPS``), a class or instance
attribute (``cfg.lr`` with ``class cfg: lr = 0.1``, a dataclass default). astroid is imported and the file is
built with it only on that last step, so files whose rules never ask about such a value never pay for it.

``dtype(module, node)`` answers "does this code run in half precision?": inside ``torch.autocast(...)``, in a
function that converts to half precision (``.half()``, ``dtype=torch.float16``, ``.to(torch.bfloat16)``,
``tf.cast(x, tf.float16)``), or in a file that does so at module level, sets a Keras ``mixed_float16`` policy or
builds a ``GradScaler``.

``guards(module)`` lists the eps guards the LOSS4xx rules judge (``clamp(p, eps, 1 - eps)``, ``log(x + eps)``,
``a / (b + eps)``), and ``dtype_eps`` spells a dtype-aware replacement (``torch.finfo(p.dtype).eps``).
"""

from __future__ import annotations

import ast
import operator
import os
import re
import sys
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from .. import collector
from . import apis
from .facts import clip_bounds
from .project_only import project_only
from .scopes import callee_name
from .values import rounded

# Smallest normal number: an additive eps below it is 0 or subnormal, and 1/eps overflows float16.
TINY = {"float32": 1.1754943508222875e-38, "float16": 6.103515625e-05, "bfloat16": 1.1754943508222875e-38,
        "float64": 2.2250738585072014e-308}

_HALF_NAMES = {
    "torch.float16": "float16", "torch.half": "float16", "torch.bfloat16": "bfloat16",
    "tensorflow.float16": "float16", "tensorflow.bfloat16": "bfloat16", "tensorflow.dtypes.float16": "float16",
    "tensorflow.compat.v1.float16": "float16", "tensorflow.compat.v1.bfloat16": "bfloat16",
    "jax.numpy.float16": "float16", "jax.numpy.bfloat16": "bfloat16", "numpy.float16": "float16",
}
_HALF_STRINGS = {"float16": "float16", "half": "float16", "mixed_float16": "float16", "fp16": "float16",
                 "bfloat16": "bfloat16", "mixed_bfloat16": "bfloat16", "bf16": "bfloat16"}
_HALF_METHODS = {"half": "float16", "bfloat16": "bfloat16"}
_CONVERTERS = ("to", "type", "astype")
_AUTOCAST = re.compile(r"^torch\.(?:(cuda|cpu)\.amp\.autocast|amp\.autocast|autocast)$")
_POLICY = re.compile(r"mixed_precision\.(set_global_policy|set_policy|Policy|set_dtype_policy)$|"
                     r"\.set_default_dtype$|\.set_floatx$|dtype_policies\.DTypePolicy$")
_SCALER = re.compile(r"^torch\.(cuda\.amp|amp)\.GradScaler$")
# Last names of the calls whose qualified name _half_in needs.
_CALL_MARKERS = frozenset({"autocast", "GradScaler", "set_global_policy", "set_policy", "Policy", "set_dtype_policy",
                           "set_default_dtype", "set_floatx", "DTypePolicy"})
if TYPE_CHECKING:
    from typing import TypeGuard

    from .module import Module


# ----- values ---------------------------------------------------------------------------------------------------
def value(module: Module, node: ast.AST | None, depth: int = 12) -> float | None:
    """The number ``node`` evaluates to, if the file (or the project's modules it imports) says so. ``depth``
    bounds the walk: names can cycle (``global lr; lr = lr * 0.5``)."""
    if node is None or depth <= 0:
        return None
    found = module.const(node)
    if found is not None:
        return found
    known = module.facts.value(node)  # a parameter's default, a project module's constant
    if known.kind == "number" and known.lo is not None and known.lo == known.hi:
        return known.lo
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = value(module, node.operand, depth - 1)
        return None if operand is None else (-operand if isinstance(node.op, ast.USub) else operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
        left, right = value(module, node.left, depth - 1), value(module, node.right, depth - 1)
        if left is None or right is None:
            return None
        try:
            result = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
                      ast.Pow: operator.pow}[type(node.op)](left, right)
            return float(result)
        except (ZeroDivisionError, OverflowError, TypeError):  # TypeError: (-8) ** (1 / 3) is complex
            return None
    target = module.resolve(node, depth=3)
    if target is not node and not isinstance(target, (ast.Name, ast.Attribute)):
        return value(module, target, depth - 1) if isinstance(target, (ast.BinOp, ast.UnaryOp)) else None
    default = parameter_default(module, target)
    if default is not None:
        return module.const(default)
    if isinstance(target, (ast.Name, ast.Attribute)) and _worth_astroid(module, target):
        return _astroid_value(module, target)
    return None


def parameter_default(module: Module, node: ast.AST | None) -> ast.expr | None:
    """``eps`` -> its default ``1e-8`` when ``eps`` is a parameter of the enclosing function, never rebound."""
    if not isinstance(node, ast.Name):
        return None
    function = module.function(node)
    if function is None or module.scope_node(node) is not function:
        return None
    scope = module.scope(function)
    if node.id not in scope.params or len(scope.bindings.get(node.id, ())) != 1:
        return None
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
        if arg.arg == node.id:
            return default
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults):
        if arg.arg == node.id:
            return kw_default
    return None


def _worth_astroid(module: Module, node: ast.Name | ast.Attribute) -> bool:
    """Only what the file alone cannot answer, and only inside the checked project: a name imported from one of
    its modules, or an attribute chain of names (``cfg.lr``, ``self.eps``, ``config.EPS``) rooted at ``self``,
    at a name the file defines, or at such an import. Installed packages (torch's own modules) are never read."""
    root: ast.expr = node
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name):
        return False
    if module.facts.is_receiver(root):
        return True
    scope_node = module.scope_node(root)
    for scope in {id(scope_node): scope_node, id(module.tree): module.tree}.values():
        bindings = module.scope(scope).bindings.get(root.id)
        if bindings:
            return all(_project_import(module, b.node) if isinstance(b.node, (ast.Import, ast.ImportFrom))
                       else not isinstance(b.node, (ast.FunctionDef, ast.AsyncFunctionDef)) for b in bindings)
    return False


def _project_import(module: Module, statement: ast.Import | ast.ImportFrom) -> bool:
    """A relative import, or one whose top package sits beside the file or at its package root."""
    if isinstance(statement, ast.ImportFrom) and statement.level:
        return True
    if module.path in ("<stdin>", "-"):
        return False
    names = [statement.module or ""] if isinstance(statement, ast.ImportFrom) else [a.name for a in statement.names]
    path = os.path.abspath(module.path)
    for name in names:
        top = name.partition(".")[0]
        if top and not top.startswith(tuple(apis.LIBRARY_ROOTS)) and any(
                os.path.exists(os.path.join(root, top)) or os.path.exists(os.path.join(root, top + ".py"))
                for root in (_package_root(path), os.path.dirname(path))):
            return True
    return False


# ----- astroid, built lazily once per file --------------------------------------------------------------------
_BUILT: "weakref.WeakKeyDictionary[Module, Any]" = weakref.WeakKeyDictionary()
_PROJECT: list[str] = []  # the project root whose modules astroid's cache holds


def _switch_project(root: str | None) -> None:
    """astroid caches modules (and where it found them) by dotted name for the whole process: when files of
    another project are checked (two projects, each with a ``config`` module), start from a clean cache."""
    if root is None or _PROJECT == [root]:
        return
    if _PROJECT:
        from astroid import MANAGER

        collector.thaw()  # astroid's trees hold cycles (each node its parent): let the collector free them
        MANAGER.clear_cache()
    _PROJECT[:] = [root]


def _astroid_value(module: Module, node: ast.Name | ast.Attribute) -> float | None:
    tree = _astroid_module(module)
    if tree is None:
        return None
    found = _astroid_node(tree, node)
    if found is None:
        return None
    root = _package_root(tree.file) if tree.file else None
    added = root if root is not None and root not in sys.path else None
    if added:  # the checked project's own modules are importable from its root while astroid infers
        sys.path.insert(0, added)
    try:
        with project_only(root, module, module.consulted):
            inferred = list(_limited(found.infer(), 16))
    except Exception:  # astroid raises many kinds of inference errors; all mean "unknown"
        inferred = []
    finally:
        if added:
            sys.path.remove(added)
    for item in inferred:  # the files the values came from: the result cache keys on them too
        location = getattr(getattr(item, "root", lambda: None)(), "file", None)
        if location:
            module.consulted.add(location)
    return _numbers(inferred)


def _numbers(inferred: list[Any]) -> float | None:
    """The one number the inferred values agree on; Uninferable and bare ``float`` instances say nothing."""
    from astroid import bases, nodes, util

    values = set()
    for item in inferred:
        if item is util.Uninferable or (isinstance(item, bases.Instance) and not isinstance(item, nodes.Const)
                                        and item.pytype() in ("builtins.float", "builtins.int")):
            continue
        if isinstance(item, nodes.Const) and isinstance(item.value, (int, float)) and not isinstance(item.value, bool):
            values.add(float(item.value))
        else:
            return None
    return values.pop() if len(values) == 1 else None


def _limited(iterator: Iterator[Any], count: int) -> Iterator[Any]:
    for index, item in enumerate(iterator):
        if index >= count:
            return
        yield item


def _astroid_module(module: Module) -> Any:
    if module in _BUILT:
        return _BUILT[module]
    built = None
    try:
        from astroid import MANAGER
        from astroid.builder import AstroidBuilder

        path = os.path.abspath(module.path) if module.path not in ("<stdin>", "-") else None
        _switch_project(_package_root(path) if path else None)
        root = _package_root(path) if path else None
        with project_only(root, module, module.consulted):  # building infers self.x = ... assignments
            built = AstroidBuilder(MANAGER).string_build(module.source, _module_name(path), path)
    except Exception:  # a file astroid cannot build is a file without inferred values
        built = None
    _BUILT[module] = built
    collector.keep()  # astroid's builtins, and the modules it read, stay for later files
    return built


def _module_name(path: str | None) -> str:
    """The dotted name of ``path`` inside its package (walking up while folders have ``__init__.py``)."""
    if path is None:
        return "__lossling_stdin__"
    folder, stem = os.path.split(path)
    parts = [os.path.splitext(stem)[0]]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, package = os.path.split(folder)
        parts.insert(0, package)
    return ".".join(parts)


def _package_root(path: str) -> str:
    folder = os.path.dirname(path)
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder = os.path.dirname(folder)
    return folder


def _astroid_node(tree: Any, node: ast.Name | ast.Attribute) -> Any:
    """The astroid node at ``node``'s exact position."""
    from astroid import nodes

    kind = nodes.Name if isinstance(node, ast.Name) else nodes.Attribute
    for candidate in tree.nodes_of_class(kind):
        if (candidate.lineno, candidate.col_offset, candidate.end_lineno, candidate.end_col_offset) == (
                node.lineno, node.col_offset, node.end_lineno, node.end_col_offset):
            return candidate
    return None


# ----- dtypes ---------------------------------------------------------------------------------------------------
_FILE_DTYPE: "weakref.WeakKeyDictionary[Module, str | None]" = weakref.WeakKeyDictionary()
_FILE_HALF: "weakref.WeakKeyDictionary[Module, bool]" = weakref.WeakKeyDictionary()


def dtype(module: Module, node: ast.AST) -> str:
    """The floating dtype the code at ``node`` runs in: "float16", "bfloat16", or "float32" when nothing in the
    enclosing ``with``, function or file says half precision."""
    for ancestor in module.ancestors(node):
        if isinstance(ancestor, (ast.With, ast.AsyncWith)):
            for item in ancestor.items:
                found = _autocast_dtype(module, item.context_expr)
                if found:
                    return found
    function = module.function(node)
    found = _half_in(module, _calls_in(module, function)) if function is not None else None
    if found is None:
        if module not in _FILE_DTYPE:
            _FILE_DTYPE[module] = _file_dtype(module)
        found = _FILE_DTYPE[module]
    return found or "float32"


def half_anywhere(module: Module) -> bool:
    """Whether anything in the file converts to half precision (a cheap test before judging guards one by one)."""
    if module not in _FILE_HALF:
        _FILE_HALF[module] = _half_in(module, module.nodes(ast.Call)) is not None
    return _FILE_HALF[module]


def _autocast_dtype(module: Module, call: ast.AST) -> str | None:
    if not isinstance(call, ast.Call):
        return None
    match = _AUTOCAST.match(module.qualname(call.func) or "")
    if match is None:
        return None
    for keyword in call.keywords:
        if keyword.arg == "enabled" and isinstance(keyword.value, ast.Constant) and keyword.value.value is False:
            return None
        if keyword.arg == "dtype":
            return _half_value(module, keyword.value) or "float32"
    device = match.group(1)
    if device is None:
        first = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "device_type"), None)
        device = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else "cuda"
        if len(call.args) > 1:
            return _half_value(module, call.args[1]) or "float32"
    return "bfloat16" if device == "cpu" else "float16"


def _half_value(module: Module, node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _HALF_STRINGS.get(node.value)
    if callee_name(node) not in ("float16", "half", "bfloat16"):
        return None
    return _HALF_NAMES.get(module.qualname(node) or "")


def _calls_in(module: Module, root: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Call]:
    """The calls inside ``root`` (the file's call index, cut to ``root``'s lines: no second walk of the tree)."""
    calls = module.nodes(ast.Call)
    if isinstance(root, ast.Module):
        return calls
    return [c for c in calls if root.lineno <= c.lineno <= (root.end_lineno or root.lineno)]


def _half_in(module: Module, calls: list[ast.Call]) -> str | None:
    """A half dtype that ``calls`` convert to: ``x.half()``, ``dtype=torch.float16``, ``x.to(torch.bfloat16)``,
    ``tf.cast(x, tf.float16)``, an autocast or mixed-precision policy. Mentions in tests
    (``if x.dtype == torch.float16``) do not count. float16 wins over bfloat16 (it is the stricter)."""
    found: set[str] = set()
    for child in calls:
        func = child.func
        name = callee_name(func)
        if name in _HALF_METHODS and isinstance(func, ast.Attribute) and not child.args and not child.keywords:
            found.add(_HALF_METHODS[name])
            continue
        targets = [k.value for k in child.keywords if k.arg == "dtype"]
        if name in _CONVERTERS and isinstance(func, ast.Attribute):
            targets += child.args[:1]
        elif name == "cast":
            targets += child.args[1:2]
        for target in targets:
            half = _half_value(module, target)
            if half:
                found.add(half)
        if name not in _CALL_MARKERS:
            continue  # resolving names is the costly part: only for calls that can be a marker
        qualname = module.qualname(func) or ""
        if _POLICY.search(qualname) and child.args:
            half = _half_value(module, child.args[0])
            if half:
                found.add(half)
        elif _AUTOCAST.match(qualname):
            half = _autocast_dtype(module, child)
            if half and half != "float32":
                found.add(half)
        elif _SCALER.match(qualname):
            found.add("float16")
    if "float16" in found:
        return "float16"
    return "bfloat16" if found else None


def _file_dtype(module: Module) -> str | None:
    """Half precision set for the whole file: a conversion in module-level code, a global mixed-precision policy
    or a GradScaler anywhere."""
    calls = module.nodes(ast.Call)
    top = [c for c in calls if module.function(c) is None and module.enclosing_class(c) is None]
    found = _half_in(module, top)
    for call in calls:
        name = callee_name(call.func)
        if name not in _CALL_MARKERS:
            continue
        qualname = module.qualname(call.func) or ""
        if _SCALER.match(qualname):
            return "float16"
        if _POLICY.search(qualname) and call.args:
            found = _half_value(module, call.args[0]) or found
    return found


# The dtype names this module speaks, and the value analysis's codes for them.
CODES = {"float16": "f16", "bfloat16": "bf16", "float32": "f32", "float64": "f64"}
NAMES = {code: name for name, code in CODES.items()}
EPS_MAX = 1e-2  # the largest number read as an eps guard


def absorbed(eps: float, dtype_name: str, kind: str = "one_minus") -> bool:
    """Whether ``1 - eps`` (kind "one_minus") or ``1 + eps`` (kind "one_plus") rounds to exactly 1 in
    ``dtype_name``: the sum is computed first (in Python, in float64) and then stored in the tensor's dtype."""
    one = 1.0 - eps if kind == "one_minus" else 1.0 + eps
    return 0 < eps and rounded(one, CODES[dtype_name]) == 1.0


def eps_value(module: Module, node: ast.AST | None) -> float | None:
    """The largest value of an eps guard: a number the facts show to be positive and at most 1e-2 (a literal, a
    parameter default or the values passed for it, a project constant, ``finfo(...).eps``, ``K.epsilon()``,
    ``self.eps`` set from one of those); astroid answers for a project's attribute (``cfg.eps``). None for
    anything else: a name is never evidence."""
    if node is None:
        return None
    known = module.facts.value(node)
    if known.kind == "number" and known.positive and known.hi is not None:
        return known.hi if known.hi <= EPS_MAX else None
    if known.kind not in (None, "number"):
        return None
    number = value(module, node)
    return number if number is not None and 0 < number <= EPS_MAX else None


# ----- eps guards ---------------------------------------------------------------------------------------------
def one_minus(module: Module, node: ast.AST | None) -> ast.expr | None:
    """``p`` in ``1 - p`` in any spelling (``1. - p``, ``torch.sub(1, p)``, ``torch.rsub(p, 1)``, ``-p + 1``,
    ``p.neg().add(1)``), else None."""
    found = module.arith(node)
    if found is None or found.inplace or found.right is None:
        return None
    if found.op is ast.Sub and module.const(found.left) == 1.0:
        return found.right
    if found.op is ast.Add:
        for one, other in ((found.left, found.right), (found.right, found.left)):
            negation = module.arith(other)
            if module.const(one) == 1.0 and negation is not None and negation.op is ast.USub:
                return negation.left
    return None


def repeatable(node: ast.AST | None) -> TypeGuard[ast.Name | ast.Attribute]:
    """A name or attribute chain, safe to write twice (``p``, ``self.p``)."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def float_source(module: Module, node: ast.AST) -> ast.Name | ast.Attribute | None:
    """What to read the float dtype of ``node``'s value from when a guard spells it: ``node`` itself when it can
    be written twice, else the first tensor name inside it not known to hold integers or bools
    (``F.cosine_similarity(a, b)`` is in ``a``'s dtype)."""
    if repeatable(node):
        return node
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name):
            value = module.facts.value(inner)
            if value.tensor and value.dtype not in ("int", "bool"):
                return inner
    return None


def dtype_eps(module: Module, tensor: ast.AST | None, framework: str,
              attribute: str = "eps") -> tuple[str, Any] | None:
    """How to write the machine epsilon (or ``min``/``tiny``) of ``tensor``'s dtype, so the guard fits float16
    and bfloat16 as well as float32: ``torch.finfo(p.dtype).eps``, ``jnp.finfo(p.dtype).eps``,
    ``tf.experimental.numpy.finfo(p.dtype).eps``; TensorFlow spells a dtype's ``min`` as ``p.dtype.min``. None when
    the framework has no such spelling here (Keras, TF1 code)."""
    if not repeatable(tensor):
        return None
    text = module.text(tensor)
    namespace = {"torch": "torch", "jax": "jax.numpy", "numpy": "numpy"}.get(framework)
    if namespace is not None:
        spelled = module.spell(f"{namespace}.finfo")
        if spelled is None:
            return None
        return f"{spelled[0]}({text}.dtype).{attribute}", spelled[1]
    if framework in ("tf", "tf1") and attribute == "min":
        return f"{text}.dtype.min", None
    if framework == "tf":  # TensorFlow 2's NumPy API has the finfo its DTypes lack (bfloat16 too)
        spelled = module.spell("tensorflow.experimental.numpy.finfo")
        return (f"{spelled[0]}({text}.dtype).{attribute}", spelled[1]) if spelled is not None else None
    return None


@dataclass(frozen=True)
class Guard:
    """An eps guarding an op: ``kind`` "one_minus" (an upper bound ``1 - eps`` of a clamp/clip), "one_plus"
    (``eps + 1 - p`` / ``(1 + eps) - p`` under a log or as a divisor: the eps meets the 1 before ``p`` is
    subtracted) or "additive" (``log(x + eps)``, ``sqrt(x + eps)``, ``a / (b + eps)``, a lower bound
    ``clamp(x, min=eps)`` under a log)."""

    eps: ast.expr
    kind: str
    at: ast.expr  # where the finding is reported: the clamp call, or the guarded op
    tensor: ast.expr | None  # the guarded value
    framework: str
    node: ast.AST | None = None  # the guarded expression (``eps + 1 - p``), for a fix that regroups it


def guards(module: Module, additive: bool = True) -> list[Guard]:
    """Every eps guard in the file whose eps the facts show to be a small positive number (``eps_value``), in
    source order; without the "additive" ones when ``additive`` is False."""
    found: list[Guard] = []
    for clip in module.ops("clamp", "clip", "clamp_max"):
        eps = one_minus(module, clip_bounds(clip)[1])
        if eps is not None and eps_value(module, eps) is not None:
            found.append(Guard(eps, "one_minus", clip.node, clip.input, clip.framework))
    sites: list[tuple[ast.AST | None, ast.expr, str]] = [
        (module.resolve(op.input), op.node, op.framework) for op in module.ops("log", "log2", "log10", "sqrt",
                                                                             "rsqrt")]
    sites += [(module.resolve(div.right), div, file_framework(module)) for div in module.nodes(ast.BinOp)
              if isinstance(div.op, ast.Div)]
    for node, at, framework in sites:
        guard = _one_plus(module, node, at, framework)
        if guard is None and additive:
            guard = _additive(module, node, at, framework)
        if guard is not None and (not isinstance(at, ast.BinOp) or module.is_tensor(at)):
            found.append(guard)
    return sorted(found, key=lambda g: (g.at.lineno, g.at.col_offset))


def guard_dtype(module: Module, guard: Guard) -> str:
    """The float dtype the guarded value is computed in: its own when the facts know it (a cast to float32 ends
    an autocast or a policy's effect), else the dtype the code runs in (``dtype``)."""
    own = module.facts.value(guard.tensor).dtype if guard.tensor is not None else None
    return NAMES.get(own or "", None) or dtype(module, guard.at)


def guard_literals(module: Module, guard: Guard, eps: float) -> list[ast.expr]:
    """The literals to replace to change a guard's eps: the eps itself, and for ``clamp(p, eps, 1 - eps)`` the
    lower bound too when it is the same literal (so the clamp stays symmetric). Empty when eps is not written
    as a literal here (a name's definition is left alone)."""
    if not isinstance(guard.eps, ast.Constant):
        return []
    clip = module.op(guard.at) if guard.kind == "one_minus" else None
    lower = clip_bounds(clip)[0] if clip is not None else None
    if isinstance(lower, ast.Constant) and lower.value == eps:
        return [lower, guard.eps]
    return [guard.eps]


def _one_plus(module: Module, node: ast.AST | None, at: ast.expr, framework: str) -> Guard | None:
    """``eps + 1 - p``, ``(1 + eps) - p`` (Python groups the first as the second), in any spelling
    (``torch.sub(1 + eps, p)``): (the eps, ``p``)."""
    difference = module.arith(node)
    if difference is None or difference.op is not ast.Sub or difference.inplace or difference.right is None:
        return None
    first = module.arith(module.resolve(difference.left))
    if first is not None and first.op is ast.Add and not first.inplace and first.right is not None:
        for one, eps in ((first.left, first.right), (first.right, first.left)):
            if module.const(one) == 1.0 and eps_value(module, eps) is not None:
                return Guard(eps, "one_plus", at, difference.right, framework, node)
    return None


def _additive(module: Module, node: ast.AST | None, at: ast.expr, framework: str) -> Guard | None:
    total = module.arith(node)
    if total is not None and total.op is ast.Add and total.right is not None:
        for eps, other in ((total.right, total.left), (total.left, total.right)):
            if eps_value(module, eps) is not None and eps_value(module, other) is None:
                return Guard(eps, "additive", at, other, framework, node)
    clip = module.op(node)
    if clip is not None and clip.op in ("clamp", "clip", "clamp_min", "maximum"):
        lower = clip_bounds(clip)[0]
        if lower is not None and eps_value(module, lower) is not None:
            return Guard(lower, "additive", at, clip.input, framework, node)
    return None


def file_framework(module: Module) -> str:
    for root, name in (("torch", "torch"), ("jax", "jax"), ("tensorflow", "tf"), ("keras", "keras")):
        if root in module.frameworks:
            return name
    return "numpy"

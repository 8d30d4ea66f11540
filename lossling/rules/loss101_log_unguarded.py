"""LOSS101 log-unguarded: the log of a value that reaches 0 in ordinary training, with nothing keeping it away.

Only the shapes where the zero is expected fire: a probability or prediction inside a cross-entropy-shaped
expression or a loss function, ``log(1 - p)``, ``log(a / b)`` in a loss, the log of a variance or standard
deviation, of a product (it underflows) or of a determinant (it under/overflows). Everything
``guards.positive`` accepts (``x + eps``, clamps, ``exp``/``softplus``, positive constants, counts) is quiet, and
so are logs that a more specific rule owns (softmax, sigmoid, exp, sums of exps).
"""

from __future__ import annotations

import ast
import re
from typing import Iterator

from ..finding import Finding, Fix
from ..rewrite import atom, call_args, rewritten, sibling, stable_call
from ..rule import Rule, Safety
from ..semantic.formulas import factors, wrappers
from ..semantic.guards import last_value, positive
from ..semantic.inference import dtype_eps, one_minus, repeatable
from ..semantic.module import Module, OpCall

# Not "rate": an exponential/gamma rate or a learning rate is a positive parameter, not a probability.
_PROBABILITY = re.compile(
    r"^(p|pt|p_t|probs?|probas?|probabilit(y|ies)|preds?|predictions?|predicted|y_?pred|y_?hat|yhat|y_?conv|"
    r"outputs?|conf|confidences?|y_?probs?|pred_\w+|\w+_preds?|prob_\w+|\w+_probs?|\w+_prob(abilities)?)$",
    re.I)
_TARGET = re.compile(r"^(y|y_|y_?true|t|targets?|labels?|gts?|ground_truth|truth|one_?hot|y_?one_?hot|"
                     r"\w+_targets?|targets?_\w+|\w+_labels?|labels?_\w+|y_?gt)$", re.I)
_VARIANCE = re.compile(r"^(var|variance|sigma|sigmas|std|stddev|sd|sigma_?sq|sigma2|var_\w+|\w+_var|\w+_variance|"
                       r"\w+_sigma|sigma_\w+|\w+_std|std_\w+)$", re.I)
_LOSS_CODE = re.compile(r"loss|criterion|objective|nll|(^|_)ce($|_)|entropy|likelihood", re.I)
# Logs of these belong to other rules (LOSS102/103/108/109/112) or are positive by construction.
_OWNED = ("softmax", "sigmoid", "exp", "logsumexp", "softplus", "cosh", "log_softmax")
TF_EPSILON = "1e-7"  # keras.config.epsilon(); TensorFlow has no finfo spelling for a tensor's dtype
_MAXIMUM = {"tf": "tensorflow.maximum", "tf1": "tensorflow.compat.v1.maximum", "keras": "keras.ops.maximum",
            "jax": "jax.numpy.maximum", "numpy": "numpy.maximum"}


class LogUnguarded(Rule):
    code = "LOSS101"
    name = "log-unguarded"
    summary = "log of a probability, 1 - p, a ratio, a variance, a product or a determinant that can reach 0"
    fix_safety = Safety.UNSAFE
    frameworks = ("torch", "tensorflow", "keras", "jax", "numpy")
    triggers = ("log",)

    def check(self, module: Module) -> Iterator[Finding]:
        for log in module.ops("log"):
            v = log.input
            if v is None or module.const(v) is not None:
                continue
            if log.framework in ("numpy", "scipy") and not module.is_tensor(v):
                continue
            if positive(module, v):
                continue
            kind = _kind(module, log, v)
            if kind is None:
                continue
            fix = self._fix(module, log, v, kind)
            yield self.finding(module, log.node, _MESSAGES[kind], fix)

    def _fix(self, module: Module, log: OpCall, v: ast.expr, kind: str) -> Fix | None:
        if log.kind == "function" and len(log.node.args) + len(log.node.keywords) != 1:
            return None
        value = last_value(module, v)
        if kind == "det":
            return self._logdet(module, log, module.op(value), value is v)
        if kind == "prod":
            return self._sum_of_logs(module, log, module.op(value), value is v)
        return self._clamped(module, log, v)

    def _logdet(self, module: Module, log: OpCall, det: OpCall, inline: bool) -> Fix | None:
        """torch: ``log(det(A))`` -> ``torch.logdet(A)`` (same NaN/-inf for det <= 0, so safe)."""
        framework = "torch" if det.kind == "method" else det.framework
        if not inline or framework != "torch" or det.input is None or len(det.node.args) + len(
                det.node.keywords) != (0 if det.kind == "method" else 1):
            return None
        if det.kind == "method":
            return self.replace(module, log.node, f"{atom(module, det.input)}.logdet()", safety=Safety.SAFE)
        spelled = stable_call(module, "logdet", "torch")
        if spelled is None:
            return None
        return self.replace(module, log.node, f"{spelled[0]}({module.text(det.input)})", spelled[1],
                            safety=Safety.SAFE)

    def _sum_of_logs(self, module: Module, log: OpCall, prod: OpCall, inline: bool) -> Fix | None:
        """``log(prod(x, d))`` -> ``sum(log(x), d)``: no underflow, but differs where entries can be <= 0."""
        x = prod.input
        if not inline or x is None:
            return None
        if log.kind == "method":
            logged = f"{atom(module, x)}.log()"
        else:
            logged = f"{module.text(log.node.func)}({module.text(x)})"
        if prod.kind == "method":
            return self.replace(module, log.node, f"{logged}.sum{call_args(module, prod.node)}")
        if prod.kind != "function":
            return None
        spelled = sibling(module, prod, prod.qualname.rpartition(".")[2].replace("prod", "sum"))
        text = rewritten(module, prod.node, {prod.node.func: spelled[0], x: logged}) if spelled else None
        return self.replace(module, log.node, text, spelled[1]) if text is not None else None

    def _clamped(self, module: Module, log: OpCall, v: ast.expr) -> Fix | None:
        """``log(v)`` -> ``log(v.clamp_min(eps))`` (``tf.maximum(v, eps)``...), eps the dtype's machine eps."""
        framework = "torch" if log.kind == "method" else log.framework
        source = v if repeatable(v) else next((n for n in ast.walk(v) if isinstance(n, ast.Name)
                                               and module.is_tensor(n)), None)
        if source is None and framework in ("torch", "jax", "numpy"):
            return None
        if framework == "torch":
            eps = dtype_eps(module, source, "torch")
            if eps is None:
                return None
            return self.replace(module, v, f"{atom(module, v)}.clamp_min({eps[0]})", eps[1])
        qualname = _MAXIMUM.get(framework)
        spelled = module.spell(qualname) if qualname else None
        if spelled is None:
            return None
        eps = dtype_eps(module, source, framework) if framework in ("jax", "numpy") else None
        bound = eps[0] if eps is not None and eps[1] is None else TF_EPSILON
        return self.replace(module, v, f"{spelled[0]}({module.text(v)}, {bound})", spelled[1])


_MESSAGES = {
    "det": "log(det(A)) under- or overflows for larger matrices (det of 0.1*I of size 50 is 0 in float32); use "
           "logdet/slogdet",
    "prod": "log of a product underflows to -inf (a hundred factors of 0.01 give 0 in float32); sum the logs",
    "variance": "log of a variance or standard deviation is -inf when it reaches 0 (constant input); add an eps, "
                "or predict the log-variance",
    "probability": "log of a probability or prediction is -inf at 0 and its gradient NaN; clamp it (e.g. "
                   "clamp_min(eps)) or compute the loss in log space from the logits",
    "complement": "log(1 - p) is -inf at p = 1 and its gradient NaN; clamp 1 - p, or compute it in log space from "
                  "the logits",
    "ratio": "log(a / b) is -inf where a reaches 0; guard the ratio (clamp_min(eps)) or subtract logs computed in "
             "log space",
}


def _kind(module: Module, log: OpCall, v: ast.expr) -> str | None:
    """Which shape of unguarded log this is, or None when the log is not worth a finding."""
    value = last_value(module, v)
    call = module.op(value)
    if call is not None:
        if call.op in _OWNED:
            return None
        if call.op in ("det", "prod"):
            return call.op
        if call.op in ("std", "var"):
            return "variance"
        if call.op in ("sum", "mean") and module.op_of(call.input, "exp", "softmax"):
            return None
    if _variance_named(module, v, value):
        return "variance"
    complement = one_minus(module, value)
    shape, target = _cross_entropy_shape(module, log)
    in_loss = target or _in_loss_code(module, log.node)
    if complement is not None:
        return "complement" if (shape or in_loss) and (target or _probability(module, complement)) else None
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Div):
        return "ratio" if in_loss and not positive(module, value.left) else None
    if target or ((shape or in_loss) and _probability(module, v)):
        return "probability"
    return None


def _variance_named(module: Module, v: ast.expr, value: ast.AST | None) -> bool:
    """A variance-named parameter or model output (``log(sigma)``, ``log(var)``), also squared (``sigma ** 2``)."""
    base = v
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Pow) and module.const(value.right) == 2.0:
        base = value.left
    elif module.op_of(value, "square") is not None:
        base = module.op(value).input
    name = _name(base)
    if name is None or not _VARIANCE.match(name):
        return False
    origin = last_value(module, base)
    return origin is base and module.is_tensor(base) or (
        isinstance(origin, ast.Call) and module.op(origin) is None and module.is_tensor(origin))


def _cross_entropy_shape(module: Module, log: OpCall) -> tuple[bool, bool]:
    """(the log is negated, multiplied or reduced like a cross-entropy term; a factor beside it is a target)."""
    product = log.node
    while isinstance(module.parent(product), (ast.BinOp, ast.UnaryOp)) and isinstance(
            module.parent(product).op, (ast.Mult, ast.USub)):
        product = module.parent(product)
    sign, parts = factors(product)
    target = any(_target(module, p) for p in parts if p is not log.node)
    around = wrappers(module, product)
    negated = sign * around.sign < 0
    return negated or bool(around.reductions) and len(parts) > 1, target


def _target(module: Module, node: ast.expr) -> bool:
    inner = one_minus(module, node)
    name = _name(inner if inner is not None else node)
    return name is not None and bool(_TARGET.match(name))


def _probability(module: Module, node: ast.expr) -> bool:
    name = _name(node)
    return name is not None and bool(_PROBABILITY.match(name))


def _name(node: ast.AST | None) -> str | None:
    """The name a value is known by: ``p``, ``self.probs``, ``p[:, 1]``, ``out.float()``."""
    for _ in range(4):
        if isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args and (
                node.func.attr in ("float", "double", "detach", "clone", "squeeze", "contiguous")):
            node = node.func.value
        else:
            break
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _in_loss_code(module: Module, node: ast.AST) -> bool:
    """Inside a function or class whose name says loss (``loss``, ``criterion``, ``nll``, ``entropy``...)."""
    function = module.function(node)
    if function is not None and _LOSS_CODE.search(function.name):
        return True
    cls = module.enclosing_class(node)
    return cls is not None and bool(_LOSS_CODE.search(cls.name))

"""Loss functions generated from the catalog's patterns, in many spellings, for the differential test.

A ``Program`` is the text of a module defining ``loss_fn``, the arguments it takes (what each holds, its shape and
dtype) and the features of its spelling that a fix's preconditions depend on ("inplace", "broadcast",
"int-target", "target-dtype", ...). ``programs(framework)`` is the hypothesis strategy; ``draw_inputs`` makes the
benign and edge inputs a program runs on. The spellings vary everything the rules must see through: module
aliases (``import torch as th``, ``from torch.nn import functional as Fn``, ``from torch import log``), method
and function forms, keyword and positional dims, intermediate names and reassignment, reductions, broadcasting
shapes, integer and float targets, float16/bfloat16/float32/float64.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

FRAMEWORKS = ("torch", "tensorflow", "keras", "jax")
FLOATS = ("float32", "float64", "float16", "bfloat16")


@dataclass(frozen=True)
class Arg:
    """An argument of ``loss_fn``: ``role`` says how its values are drawn (see ``draw_value``), ``param`` is the
    class axis (one-hot and soft labels) or the number of classes (class indices)."""

    name: str
    role: str
    shape: tuple[int, ...]
    dtype: str
    grad: bool = False
    param: int = -1


@dataclass(frozen=True)
class Program:
    pattern: str
    framework: str
    source: str
    args: tuple[Arg, ...]
    features: frozenset[str] = frozenset()
    reference: str | None = None  # a loss_fn computing the exact loss, run in float64 instead of the original
    repair: str = "safe"  # which fixes must be finite where the original broke: "safe" ones, or only "unsafe" ones


PRECISION = {"bfloat16": 0, "float16": 1, "float32": 2, "float64": 3}


def precision(program: Program) -> str:
    """The least precise float dtype among the arguments: what the program computes in, whatever it returns."""
    return min((a.dtype for a in program.args if a.dtype in FLOATS), key=PRECISION.__getitem__, default="float64")


def atom(expr: str) -> str:
    """``expr`` as an operand of an operator or a method call: parenthesised unless it is a name, attribute,
    call, subscript or non-negative number."""
    node = ast.parse(expr, mode="eval").body
    if isinstance(node, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
        return expr
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and node.value >= 0:
        return expr
    return f"({expr})"


# ----- spellings -------------------------------------------------------------------------------------------------
# Per framework and op, the ways to write it: {0}, {1} are operands (a receiver `{0}.` is parenthesised as needed),
# {d} a dim, {T} {F} {nn} {ops} the module aliases the program drew. `!name(...)` is a name imported from the
# framework (`from torch import log`). Softmax spellings marked LAST are only right when the axis is the last one.
LAST = "@last:"
SPELLINGS: dict[str, dict[str, list[str]]] = {
    "torch": {
        "log": ["{T}.log({0})", "{0}.log()", "!log({0})"],
        "exp": ["{T}.exp({0})", "{0}.exp()", "!exp({0})"],
        "sigmoid": ["{T}.sigmoid({0})", "{F}.sigmoid({0})", "{0}.sigmoid()", "{T}.special.expit({0})",
                    "!sigmoid({0})", "{nn}.Sigmoid()({0})"],
        "softmax": ["{T}.softmax({0}, dim={d})", "{T}.softmax({0}, {d})", "{F}.softmax({0}, dim={d})",
                    "{F}.softmax({0}, {d})", "{0}.softmax({d})", "{0}.softmax(dim={d})",
                    "{T}.special.softmax({0}, {d})", "{nn}.Softmax(dim={d})({0})", "!softmax({0}, {d})"],
        "log1p": ["{T}.log1p({0})", "{0}.log1p()", "{T}.special.log1p({0})"],
        "cosh": ["{T}.cosh({0})", "{0}.cosh()"],
        "sqrt": ["{T}.sqrt({0})", "{0}.sqrt()", "{0} ** 0.5", "{0}.pow(0.5)"],
        "where": ["{T}.where({0}, {1}, {2})"],
        "acos": ["{T}.acos({0})", "{0}.acos()", "{T}.arccos({0})"],
    },
    "tensorflow": {
        "log": ["tf.math.log({0})", "tf.compat.v1.log({0})", "tfm.log({0})"],
        "exp": ["tf.exp({0})", "tf.math.exp({0})"],
        "sigmoid": ["tf.sigmoid({0})", "tf.math.sigmoid({0})", "tf.nn.sigmoid({0})"],
        "softmax": ["tf.nn.softmax({0}, axis={d})", "tf.nn.softmax({0}, {d})", "tf.math.softmax({0}, axis={d})",
                    LAST + "tf.nn.softmax({0})"],
        "log1p": ["tf.math.log1p({0})", "tfm.log1p({0})"],
        "cosh": ["tf.math.cosh({0})", "tf.cosh({0})"],
        "sqrt": ["tf.sqrt({0})", "tf.math.sqrt({0})"],
        "where": ["tf.where({0}, {1}, {2})"],
        "acos": ["tf.math.acos({0})", "tf.acos({0})"],
    },
    "keras": {
        "log": ["{ops}.log({0})"],
        "exp": ["{ops}.exp({0})"],
        "sigmoid": ["{ops}.sigmoid({0})", "keras.activations.sigmoid({0})"],
        "softmax": ["{ops}.softmax({0}, axis={d})", "{ops}.softmax({0}, {d})", LAST + "{ops}.softmax({0})"],
        "log1p": ["{ops}.log1p({0})"],
        "cosh": ["{ops}.cosh({0})"],
        "sqrt": ["{ops}.sqrt({0})"],
        "where": ["{ops}.where({0}, {1}, {2})"],
        "acos": ["{ops}.arccos({0})"],
    },
    "jax": {
        "log": ["jnp.log({0})", "!log({0})"],
        "exp": ["jnp.exp({0})", "!exp({0})"],
        "sigmoid": ["jax.nn.sigmoid({0})", "jnn.sigmoid({0})"],
        "softmax": ["jax.nn.softmax({0}, axis={d})", "jnn.softmax({0}, axis={d})", LAST + "jax.nn.softmax({0})"],
        "log1p": ["jnp.log1p({0})"],
        "cosh": ["jnp.cosh({0})"],
        "sqrt": ["jnp.sqrt({0})", "{0} ** 0.5"],
        "where": ["jnp.where({0}, {1}, {2})"],
        "acos": ["jnp.arccos({0})"],
    },
}
# Reductions: {k} is sum or mean, {kd} the keepdim argument when asked for.
REDUCTIONS = {
    "torch": (["{T}.{k}({0}, dim={d}{kd})", "{T}.{k}({0}, {d}{kd})", "{0}.{k}({d}{kd})", "{0}.{k}(dim={d}{kd})"],
              ["{T}.{k}({0})", "{0}.{k}()"]),
    "tensorflow": (["tf.reduce_{k}({0}, axis={d}{kd})", "tf.math.reduce_{k}({0}, {d}{kd})"], ["tf.reduce_{k}({0})"]),
    "keras": (["{ops}.{k}({0}, axis={d}{kd})", "{ops}.{k}({0}, {d}{kd})"], ["{ops}.{k}({0})"]),
    "jax": (["jnp.{k}({0}, axis={d}{kd})", "{0}.{k}(axis={d}{kd})"], ["jnp.{k}({0})", "{0}.{k}()"]),
}
KEEPDIM = {"torch": ", keepdim=True", "tensorflow": ", keepdims=True", "keras": ", keepdims=True",
           "jax": ", keepdims=True"}
IMPORTED_FROM = {"torch": "torch", "jax": "jax.numpy"}
# Module aliases: each choice is (spelling, the import lines it needs).
ALIASES: dict[str, dict[str, list[tuple[str, tuple[str, ...]]]]] = {
    "torch": {
        "T": [("torch", ("import torch",)), ("th", ("import torch as th",))],
        "F": [("F", ("import torch.nn.functional as F",)), ("Fn", ("from torch.nn import functional as Fn",)),
              ("nn.functional", ("from torch import nn",)), ("torch.nn.functional", ("import torch",))],
        "nn": [("nn", ("from torch import nn",)), ("nn", ("import torch.nn as nn",)),
               ("torch.nn", ("import torch",))],
    },
    "tensorflow": {},
    "keras": {"ops": [("ops", ("from keras import ops",)), ("keras.ops", ("import keras",)),
                      ("K", ("from keras import ops as K",))]},
    "jax": {},
}
HEADERS = {
    "torch": ("import torch",),
    "tensorflow": ("import tensorflow as tf", "from tensorflow import math as tfm"),
    "keras": ("import keras", "import tensorflow as tf"),
    "jax": ("import jax", "import jax.numpy as jnp", "from jax import nn as jnn"),
}
TRAINS = {
    "torch": "\n\ndef train_step(*batch):\n    loss_fn(*batch).backward()\n",
    "tensorflow": "\n\ndef train_step(*batch):\n    with tf.GradientTape() as tape:\n        loss = loss_fn(*batch)\n"
                  "    return tape, loss\n",
    "jax": "\n\ntrain_step = jax.grad(loss_fn)\n",
}
TRAINS["keras"] = TRAINS["tensorflow"]
# Argument names by role, and the names of intermediate values (disjoint, and no op is called like either).
ARG_NAMES = {
    "logits": ["logits", "z", "scores", "x", "pred", "outputs"],
    "target": ["target", "y", "labels", "y_true", "gt"],
    "probs": ["probs", "y_pred", "prob", "q_in"],
    "real": ["a", "residual", "delta", "diff_in"],
    "other": ["b", "ref", "other"],
    "weight": ["weight", "w_in", "alpha"],
    "mask": ["mask", "valid", "keep"],
    "count": ["n", "count", "num_valid"],
}
LOCAL_NAMES = ["p", "q", "h", "e", "s", "lp", "u", "v", "act", "logp", "val", "res", "acc", "tmp", "r2", "sel", "nrm"]
TF_MODULE = {"tensorflow": "tf", "keras": "tf"}


class Writer:
    """One program being written: spellings drawn per use, the imports they need, arguments and body lines."""

    def __init__(self, draw: Callable[[st.SearchStrategy], Any], framework: str) -> None:
        self.draw = draw
        self.framework = framework
        self.imports: list[str] = list(HEADERS[framework])
        self.imported: set[str] = set()
        self.alias = {}
        for key, choices in ALIASES[framework].items():
            spelling, lines = draw(st.sampled_from(choices))
            self.alias[key] = spelling
            self.imports += lines
        self.args: list[Arg] = []
        self.lines: list[str] = []
        self.features: set[str] = set()
        self.dtype: str = draw(st.sampled_from(FLOATS))
        self.reference: str | None = None  # an exact expression of the loss, where the original is not exact
        self.repair = "safe"
        self.names = list(LOCAL_NAMES)
        draw(st.randoms(use_true_random=False)).shuffle(self.names)

    # --- arguments and names ---
    def arg(self, kind: str, role: str, shape: tuple[int, ...], dtype: str | None = None, grad: bool = False,
            param: int = -1) -> str:
        taken = {a.name for a in self.args}
        name = self.draw(st.sampled_from([n for n in ARG_NAMES[kind] if n not in taken]))
        self.args.append(Arg(name, role, shape, dtype or self.dtype, grad, param))
        return name

    def fresh(self) -> str:
        return self.names.pop()

    def emit(self, line: str) -> None:
        self.lines.append(line)

    def bind(self, expr: str, reuse: str | None = None) -> str:
        """Maybe name ``expr`` (an intermediate value); with ``reuse``, maybe by reassigning that name (its old
        value must not be read afterwards)."""
        choice = self.draw(st.sampled_from(["inline", "name", "reuse"] if reuse else ["inline", "name"]))
        if choice == "inline":
            return expr
        name = reuse if choice == "reuse" and reuse else self.fresh()
        self.emit(f"{name} = {expr}")
        return name

    # --- spellings ---
    def fill(self, template: str, *operands: str, **holes: str) -> str:
        if template.startswith("!"):
            template = template[1:]
            name = template.partition("(")[0]
            self.imports.append(f"from {IMPORTED_FROM[self.framework]} import {name}")
        values = [atom(o) if "{%d}." % i in template else o for i, o in enumerate(operands)]
        return template.format(*values, **self.alias, **holes)

    def call(self, op: str, *operands: str, dim: int | None = None, last: bool = False) -> str:
        choices = [t[len(LAST):] if t.startswith(LAST) else t for t in SPELLINGS[self.framework][op]
                   if last or not t.startswith(LAST)]
        return self.fill(self.draw(st.sampled_from(choices)), *operands, d=str(dim))

    def reduce(self, kind: str, expr: str, dim: int | None = None, keepdim: bool = False) -> str:
        with_dim, whole = REDUCTIONS[self.framework]
        if dim is None:
            return self.fill(self.draw(st.sampled_from(whole)), expr, k=kind)
        kd = KEEPDIM[self.framework] if keepdim else ""
        return self.fill(self.draw(st.sampled_from(with_dim)), expr, k=kind, d=str(dim), kd=kd)

    def dim(self, axis: int, ndim: int) -> int:
        """``axis`` spelled positive or negative."""
        return self.draw(st.sampled_from([axis, axis - ndim]))

    def finish(self, expr: str, ndim: int) -> str:
        """The loss from an elementwise term: as it is, reduced whole or over one axis, negated or scaled."""
        how = self.draw(st.sampled_from(["none", "mean", "sum", "axis", "neg-mean", "scaled"]))
        if how == "none" or (how == "axis" and ndim == 0):
            return expr
        if how == "axis":
            return self.reduce(self.draw(st.sampled_from(["sum", "mean"])), expr,
                               self.dim(self.draw(st.integers(0, ndim - 1)), ndim))
        if how == "neg-mean":
            return "-" + atom(self.reduce("mean", expr))
        if how == "scaled":
            return f"0.5 * {atom(expr)}"
        return self.reduce(how, expr)

    # --- hazards between a value's definition and its use ---
    def activation(self, name: str, make: Callable[[str], str]) -> str:
        """``make(name)`` (an activation of the argument ``name``), maybe named, with a hazard maybe drawn between
        it and its use: in torch a copy of ``name`` changed in place after the activation ("inplace") or before it
        (harmless); anywhere, ``name`` rebound after the activation ("rebind")."""
        hazards = ["none"] * 4 + ["rebind"]
        if self.framework == "torch":
            hazards += ["inplace"] * 3 + ["inplace-before"]
        hazard = self.draw(st.sampled_from(hazards))
        if hazard == "none":
            return self.bind(make(name))
        source = name
        if hazard.startswith("inplace"):
            source = self.fresh()
            self.emit(f"{source} = {self.draw(st.sampled_from([f'{name}.clone()', f'{name} * 1.0', f'{name} + 0']))}")
            if hazard == "inplace-before":
                self.emit(self.mutation(source))
        defined = self.fresh()
        self.emit(f"{defined} = {make(source)}")
        if hazard == "inplace":
            self.emit(self.mutation(source))
            self.features.add("inplace")
        elif hazard == "rebind":
            self.emit(f"{name} = {atom(name)} * 2.0")
            self.features.add("rebind")
        return defined

    def mutation(self, name: str) -> str:
        return self.draw(st.sampled_from([f"{name}.mul_(2.0)", f"{name}.add_(1.0)", f"{name} *= 2.0",
                                          f"{name} += 1.0", f"{name}[0] = 0.0", f"{name}.zero_()"]))

    # --- targets ---
    def target(self, shape: tuple[int, ...], roles: tuple[str, ...] = ("binary", "soft01"), mixed: bool = True) -> str:
        """A target for elementwise binary losses: float in the program's dtype, or (features) integer, another
        float dtype (where ``mixed`` dtypes work), or a shape that broadcasts against ``shape``."""
        variants = ["same"] * 4 + ["broadcast"]
        if mixed and self.framework in ("torch", "jax"):  # TF and Keras refuse mixed dtypes in arithmetic
            variants += ["int", "dtype"]
        variant = self.draw(st.sampled_from(variants))
        role, dtype, tshape = self.draw(st.sampled_from(roles)), self.dtype, shape
        if variant == "int":
            role, dtype = "binary", "int64"
            self.features.add("int-target")
        elif variant == "dtype":
            dtype = self.draw(st.sampled_from([d for d in FLOATS if d != self.dtype]))
            self.features.add("target-dtype")
        elif variant == "broadcast":
            tshape = broadcast_partner(shape, self.draw)
            if tshape != shape:
                self.features.add("broadcast")
        return self.arg("target", role, tshape, dtype)

    def program(self, pattern: str, result: str) -> Program:
        signature = ", ".join(a.name for a in self.args)
        imports = "\n".join(dict.fromkeys(self.imports))

        def module(returned: str) -> str:
            body = "\n".join(f"    {line}" for line in self.lines + [f"return {returned}"])
            return f"{imports}\n\n\ndef loss_fn({signature}):\n{body}\n"

        if any(a.dtype in ("float16", "bfloat16") for a in self.args):
            self.features.add("half")
        # most loss code shows that it is differentiated (the gradient rules report only there)
        trains = self.draw(st.sampled_from(["", *[TRAINS[self.framework]] * 3]))
        reference = module(self.reference) if self.reference else None
        return Program(pattern, self.framework, module(result) + trains, tuple(self.args), frozenset(self.features),
                       reference, self.repair)


def broadcast_partner(shape: tuple[int, ...], draw: Callable) -> tuple[int, ...]:
    """A shape that broadcasts against ``shape`` without being it: a trailing axis of 1 added or taken away, or the
    batch axis dropped."""
    choices = []
    if shape and shape[-1] == 1:
        choices.append(shape[:-1])
    choices.append(shape + (1,) if len(shape) < 3 else shape[:-1] + (1,))
    if len(shape) >= 2:
        choices.append(shape[1:])
    return draw(st.sampled_from(choices))


def class_layout(w: Writer) -> tuple[tuple[int, ...], int]:
    """A shape of class scores and its class axis."""
    b, c, t = w.draw(st.integers(1, 4)), w.draw(st.integers(2, 5)), w.draw(st.integers(1, 3))
    return w.draw(st.sampled_from([((c,), 0), ((b, c), 1), ((b, c), 1), ((b, t, c), 2), ((b, c, t), 1)]))


def any_shape(w: Writer) -> tuple[int, ...]:
    return w.draw(st.sampled_from([(w.draw(st.integers(1, 5)),), (w.draw(st.integers(1, 4)), w.draw(
        st.integers(1, 4))), (2, 1), (3, 2, 2)]))


def softmax_of(w: Writer, name: str, axis: int, ndim: int) -> str:
    dim = w.dim(axis, ndim)
    return w.call("softmax", name, dim=dim, last=axis == ndim - 1)


# ----- patterns --------------------------------------------------------------------------------------------------
def log_softmax(w: Writer) -> str:
    shape, axis = class_layout(w)
    z = w.arg("logits", "logits", shape, grad=True)
    p = w.activation(z, lambda src: softmax_of(w, src, axis, len(shape)))
    lp = w.bind(w.call("log", p), reuse=p if p.isidentifier() else None)
    return w.finish(lp, len(shape))


def log_sigmoid(w: Writer) -> str:
    shape = any_shape(w)
    z = w.arg("logits", "logits", shape, grad=True)
    p = w.activation(z, lambda src: w.call("sigmoid", src))
    form = w.draw(st.sampled_from(["pos", "neg", "neg", "log1p"]))
    if form == "pos":
        term = w.call("log", p)
    elif form == "neg":
        one = w.draw(st.sampled_from(["1", "1.0", "1."]))
        term = w.call("log", f"{one} - {atom(p)}")
    else:
        term = w.call("log1p", f"-{atom(p)}")
    return w.finish(w.bind(term), len(shape))


def bce_terms(w: Writer, p: str, y: str) -> str:
    """-(y log p + (1 - y) log(1 - p)) in one of its arrangements."""
    pos, neg = w.call("log", p), w.call("log", f"1 - {atom(p)}")
    form = w.draw(st.sampled_from(["sum", "diff", "swapped", "mul"]))
    if form == "sum":
        return f"-({y} * {pos} + (1 - {y}) * {neg})"
    if form == "diff":
        return f"-{atom(y)} * {pos} - (1 - {y}) * {neg}"
    if form == "swapped":
        return f"-((1 - {y}) * {neg} + {y} * {pos})"
    if w.framework == "torch":
        return f"-({y}.mul({pos}) + (1 - {y}).mul({neg}))"
    return f"-({pos} * {y} + {neg} * (1 - {y}))"


def bce_on_sigmoid(w: Writer) -> str:
    shape = any_shape(w)
    z = w.arg("logits", "logits", shape, grad=True)
    y = w.target(shape)
    p = w.activation(z, lambda src: w.call("sigmoid", src))
    return w.finish(bce_terms(w, p, y), len(shape))


def bce_on_probabilities(w: Writer) -> str:
    shape = any_shape(w)
    p = w.arg("probs", "probs", shape, grad=True)
    y = w.target(shape)
    return w.finish(bce_terms(w, p, y), len(shape))


def categorical_ce(w: Writer) -> str:
    shape, axis = class_layout(w)
    ndim = len(shape)
    z = w.arg("logits", "logits", shape, grad=True)
    variant = w.draw(st.sampled_from(["same"] * 4 + ["broadcast", "dtype", "int"]))
    role, dtype, tshape = w.draw(st.sampled_from(["onehot", "softlabel"])), w.dtype, shape
    if variant == "broadcast" and ndim > 1:
        tshape = shape[axis:]  # one soft label shared by every row
        w.features.add("broadcast")
    elif variant == "dtype" and w.framework in ("torch", "jax"):
        dtype = w.draw(st.sampled_from([d for d in FLOATS if d != w.dtype]))
        w.features.add("target-dtype")
    elif variant == "int" and w.framework in ("torch", "jax"):
        role, dtype = "onehot", "int64"
        w.features.add("int-target")
    y = w.arg("target", role, tshape, dtype, param=axis - ndim)
    p = w.activation(z, lambda src: softmax_of(w, src, axis, ndim))
    dim = w.dim(axis, ndim)
    form = w.draw(st.sampled_from(["neg-outside", "neg-inside", "all"]))
    if form == "neg-outside":
        term = "-" + atom(w.reduce("sum", f"{y} * {w.call('log', p)}", dim))
    elif form == "neg-inside":
        term = w.reduce("sum", f"-{atom(y)} * {w.call('log', p)}", dim)
    else:
        return "-" + atom(w.reduce("sum", f"{y} * {w.call('log', p)}"))
    return w.draw(st.sampled_from([term, w.reduce("mean", term)]))


def sparse_ce(w: Writer) -> str:
    """Class indices picked out of log(softmax) (torch): indexing, gather, nll_loss."""
    b, c = w.draw(st.integers(1, 4)), w.draw(st.integers(2, 5))
    z = w.arg("logits", "logits", (b, c), grad=True)
    t = w.arg("target", "index", (b,), "int64", param=c)
    p = w.bind(softmax_of(w, z, 1, 2))
    lp = w.call("log", p)
    form = w.draw(st.sampled_from(["index", "gather", "nll"]))
    if form == "index":
        return f"-{atom(lp)}[{w.alias['T']}.arange({t}.shape[0]), {t}].mean()"
    if form == "gather":
        return f"-{w.call('log', f'{atom(p)}.gather(1, {t}.unsqueeze(1))')}.mean()"
    reduction = w.draw(st.sampled_from(["", ', reduction="sum"', ', reduction="none"']))
    return f"{w.alias['F']}.nll_loss({lp}, {t}{reduction})"


def small_nonnegative(w: Writer, shape: tuple[int, ...]) -> str:
    """A non-negative value built from the arguments, small on the edge inputs."""
    form = w.draw(st.sampled_from(["arg", "square", "abs", "relu"]))
    if form in ("arg", "relu"):
        x = w.arg("real", "small", shape, grad=True)
        if form == "relu" and w.framework == "torch":
            return f"{w.alias['F']}.relu({x})"
        return x
    a = w.arg("real", "tiny-diff", shape, grad=True)
    b = w.arg("other", "tiny-diff", shape)
    if form == "square":
        return f"({a} - {b}) ** 2"
    return f"abs({a} - {b})"


def log1p(w: Writer) -> str:
    shape = any_shape(w)
    x = w.bind(small_nonnegative(w, shape))
    one = w.draw(st.sampled_from(["1", "1.0", "1."]))
    form = w.draw(st.sampled_from(["left", "right"] + (["add", "torch.add"] if w.framework == "torch" else [])))

    def spell(v: str) -> str:
        return {"left": f"{one} + {atom(v)}", "right": f"{atom(v)} + {one}", "add": f"{atom(v)}.add(1)",
                "torch.add": f"{w.alias.get('T')}.add({v}, 1)"}[form]

    t = w.activation(x, spell) if x.isidentifier() else w.bind(spell(x))
    return w.finish(w.call("log", t), len(shape))


def expm1(w: Writer) -> str:
    shape = any_shape(w)
    x = w.arg("real", "small-real", shape, grad=True)
    e = w.bind(w.call("exp", x))
    one = w.draw(st.sampled_from(["1", "1.0"]))
    return w.finish(w.draw(st.sampled_from([f"{atom(e)} - {one}", f"-{one} + {atom(e)}"])), len(shape))


def logsumexp(w: Writer) -> str:
    shape, axis = class_layout(w)
    ndim = len(shape)
    z = w.arg("logits", "logits", shape, grad=True)
    form = w.draw(st.sampled_from(["sum", "sum", "keepdim", "whole", "mean", "pair"]))
    if form == "pair":
        b = w.arg("other", "logits", shape, grad=True)
        return w.finish(w.call("log", f"{w.call('exp', z)} + {w.call('exp', b)}"), ndim)
    e = w.activation(z, lambda src: w.call("exp", src))
    dim = w.dim(axis, ndim)
    if form == "whole":
        s = w.reduce("sum", e)
    else:
        s = w.reduce("mean" if form == "mean" else "sum", e, dim, keepdim=form == "keepdim")
    s = w.bind(s)
    out = w.call("log", s)
    return w.draw(st.sampled_from([out, f"-{atom(out)}", w.reduce("mean", out)]))


def softplus(w: Writer) -> str:
    shape = any_shape(w)
    z = w.arg("logits", "logits", shape, grad=True)
    x = w.draw(st.sampled_from([z, f"-{z}"]))
    e = w.bind(w.call("exp", x))
    one = w.draw(st.sampled_from(["1", "1.0"]))
    form = w.draw(st.sampled_from(["log1", "log2", "log1p"]))
    if form == "log1p":
        out = w.call("log1p", e)
    else:
        out = w.call("log", f"{one} + {atom(e)}" if form == "log1" else f"{atom(e)} + {one}")
    return w.finish(out, len(shape))


def softmax_by_hand(w: Writer) -> str:
    shape, axis = class_layout(w)
    ndim = len(shape)
    z = w.arg("logits", "logits", shape, grad=True)
    if w.draw(st.booleans()):
        e = w.activation(z, lambda src: w.call("exp", src))
        total = w.reduce("sum", e, w.dim(axis, ndim), keepdim=True)
    else:
        e = w.call("exp", z)
        total = w.reduce("sum", w.call("exp", z), w.dim(axis, ndim), keepdim=True)
    if ndim == 1 and w.draw(st.booleans()):
        total = w.reduce("sum", e)
    return w.finish(f"{atom(e)} / {atom(total)}", ndim)


def sigmoid_by_hand(w: Writer) -> str:
    shape = any_shape(w)
    z = w.arg("logits", "logits", shape, grad=True)
    form = w.draw(st.sampled_from(["neg", "pos", "ratio"]))
    one = w.draw(st.sampled_from(["1", "1.0"]))
    if form == "neg":
        out = f"{one} / ({one} + {w.call('exp', f'-{z}')})"
    elif form == "pos":
        out = f"{one} / ({w.call('exp', z)} + {one})"
    else:
        out = f"{w.call('exp', z)} / ({one} + {w.call('exp', z)})"
    return w.finish(out, len(shape))


def entropy(w: Writer) -> str:
    shape, axis = class_layout(w)
    ndim = len(shape)
    # p * log(p) has the derivative -inf at p = 0: exact zeros only where no gradient is taken (LOSS111's page)
    grad = w.draw(st.booleans())
    p = w.arg("probs", "dist-positive" if grad else "dist", shape, grad=grad, param=axis - ndim)
    form = w.draw(st.sampled_from(["plogp", "neg", "kl"]))
    if form == "kl":
        q = w.arg("other", "dist-positive", shape, grad=True, param=axis - ndim)
        term = f"{p} * {w.call('log', f'{p} / {q}')}"
    elif form == "neg":
        term = f"-{p} * {w.call('log', p)}"
    else:
        term = f"{p} * {w.call('log', p)}"
    out = w.reduce("sum", term, w.dim(axis, ndim))
    return w.draw(st.sampled_from([out, f"-{atom(out)}", w.reduce("mean", out)]))


def log_cosh(w: Writer) -> str:
    shape = any_shape(w)
    a = w.arg("real", "logits", shape, grad=True)
    b = w.arg("other", "logits", shape)
    d = w.bind(f"{a} - {b}")
    c = w.activation(d, lambda src: w.call("cosh", src)) if d.isidentifier() else w.bind(w.call("cosh", d))
    return w.finish(w.call("log", c), len(shape))


def bce_after_sigmoid(w: Writer) -> str:
    """A probability loss handed sigmoid output: torch's binary_cross_entropy and BCELoss, Keras's losses."""
    shape = any_shape(w)
    z = w.arg("logits", "logits", shape, grad=True)
    y = w.target(shape, mixed=False)  # binary_cross_entropy and Keras's losses refuse mixed dtypes
    p = w.bind(w.call("sigmoid", z))
    if w.framework == "torch":
        reduction = w.draw(st.sampled_from(["", ', reduction="sum"', ', reduction="none"', ', reduction="mean"']))
        form = w.draw(st.sampled_from(["functional", "module"]))
        exact = f"{w.alias['F']}.softplus({z}, threshold=50) - {y} * {z}"  # BCELoss clamps its logs at -100
        w.reference = {"": f"{atom(exact)}.mean()", ', reduction="mean"': f"{atom(exact)}.mean()",
                       ', reduction="sum"': f"{atom(exact)}.sum()"}.get(reduction, exact)
        if form == "functional":
            return f"{w.alias['F']}.binary_cross_entropy({p}, {y}{reduction})"
        return f"{w.alias['nn']}.BCELoss({reduction.lstrip(', ')})({p}, {y})"
    w.imports.append("import keras")
    form = w.draw(st.sampled_from(["losses", "class"]))
    if form == "losses":
        return f"keras.losses.binary_crossentropy({y}, {p})"
    return f"keras.losses.BinaryCrossentropy()({y}, {p})"


def log_unguarded(w: Writer) -> str:
    """log of a value that may be 0: an argument, its sum, one minus it (unsafe fixes add a guard)."""
    shape = any_shape(w)
    p = w.arg("probs", "probs", shape, grad=True)
    form = w.draw(st.sampled_from(["log", "complement", "sum"]))
    if form == "complement":
        return w.finish(w.call("log", f"1 - {atom(p)}"), len(shape))
    if form == "sum":
        return w.call("log", w.reduce("sum", p, w.dim(len(shape) - 1, len(shape))))
    y = w.arg("target", "soft01", shape)
    return w.finish(f"{y} * {w.call('log', p)}", len(shape))


def log_det(w: Writer) -> str:
    n = w.draw(st.integers(2, 4))
    m = w.arg("real", "spd", (w.draw(st.integers(1, 3)), n, n), grad=True)
    det = w.draw(st.sampled_from([f"{w.alias['T']}.det({m})", f"{m}.det()", f"{w.alias['T']}.linalg.det({m})"]))
    return w.finish(w.call("log", w.bind(det)), 1)


def division(w: Writer) -> str:
    """x divided by a reduction or a statistic that can be 0 (unsafe fixes guard the divisor)."""
    shape = any_shape(w)
    ndim = len(shape)
    x = w.arg("real", "real", shape, grad=True)  # the divisor is at its edge; x / eps of a logit overflows float16
    form = w.draw(st.sampled_from(["sum", "std", "norm", "count"]))
    if form == "count":
        dtypes = ["int64", w.dtype] if w.framework in ("torch", "jax") else [w.dtype]  # TF refuses int / float
        n = w.arg("count", "count", (), w.draw(st.sampled_from(dtypes)))
        return f"{w.reduce('sum', x)} / {n}"
    d = w.arg("other", "nonzero", shape, grad=True)
    if form == "sum":
        total = w.reduce("sum", f"abs({d})", w.dim(ndim - 1, ndim), keepdim=True)
    elif form == "std" and w.framework in ("torch", "tensorflow") and np.prod(shape) > 1:  # torch: std of 1 is NaN
        total = f"{atom(d)}.std()" if w.framework == "torch" else f"tf.math.reduce_std({d})"
    elif w.framework == "torch":
        total = f"{atom(d)}.norm()"
    else:
        total = w.reduce("sum", f"{atom(d)} * {atom(d)}")
    return w.finish(f"{atom(x)} / {atom(w.bind(total))}", ndim)


def mean_of_selection(w: Writer) -> str:
    """The mean of the elements a mask selects, empty on the edge inputs (torch and TF)."""
    size = w.draw(st.sampled_from([(w.draw(st.integers(1, 6)),), (2000,)]))  # 2000 float16 values sum past 65504
    loss = w.arg("real", "hundreds" if size == (2000,) else "logits", size, grad=True)
    mask = w.arg("mask", "mask", size, "bool")
    if w.framework == "torch":
        selected = w.draw(st.sampled_from([f"{loss}[{mask}]", f"{w.alias['T']}.masked_select({loss}, {mask})"]))
        sel = w.bind(selected)
        return w.draw(st.sampled_from([f"{atom(sel)}.mean()", f"{w.alias['T']}.mean({sel})"]))
    sel = w.bind(f"tf.boolean_mask({loss}, {mask})")
    return w.draw(st.sampled_from([f"tf.reduce_mean({sel})", f"tf.math.reduce_mean({sel})"]))


def normalize(w: Writer) -> str:
    shape = (w.draw(st.integers(1, 4)), w.draw(st.integers(2, 4)))
    x = w.arg("real", "rows-with-zeros", shape, grad=True)
    dim = w.dim(1, 2)
    if w.framework == "torch":
        n = w.draw(st.sampled_from([f"{atom(x)}.norm(dim={dim}, keepdim=True)",
                                    f"{w.alias['T']}.linalg.norm({x}, dim={dim}, keepdim=True)",
                                    f"{w.alias['T']}.sqrt(({x} ** 2).sum({dim}, keepdim=True))"]))
    elif w.framework == "tensorflow":
        n = f"tf.norm({x}, axis={dim}, keepdims=True)"
    elif w.framework == "keras":
        n = f"keras.ops.norm({x}, axis={dim}, keepdims=True)"
    else:
        n = f"jnp.linalg.norm({x}, axis={dim}, keepdims=True)"
    return w.finish(f"{atom(x)} / {atom(w.bind(n))}", 2)


def sqrt_at_zero(w: Writer) -> str:
    """A distance as the sqrt of a sum of squares, at a = b on the edge inputs."""
    shape = (w.draw(st.integers(1, 4)), w.draw(st.integers(1, 4)))
    a = w.arg("real", "logits", shape, grad=True)
    b = w.arg("other", f"like:{a}", shape)
    d = w.bind(f"{a} - {b}")
    sq = w.draw(st.sampled_from([f"{atom(d)} ** 2", f"{atom(d)} * {atom(d)}"]))
    total = w.bind(w.reduce(w.draw(st.sampled_from(["sum", "mean"])), sq, w.dim(1, 2)))
    return w.finish(w.call("sqrt", total), 1)


def where_nan_gradient(w: Writer) -> str:
    """A where that selects log, sqrt or a division away from their singular point."""
    shape = any_shape(w)
    x = w.arg("real", "nonzero-or-zero", shape, grad=True)
    form = w.draw(st.sampled_from(["log", "sqrt", "div"]))
    zero = w.draw(st.sampled_from(["0.0", "zeros"]))
    zeros = {"torch": f"{w.alias.get('T')}.zeros_like({x})", "tensorflow": f"tf.zeros_like({x})",
             "keras": f"{w.alias.get('ops')}.zeros_like({x})", "jax": f"jnp.zeros_like({x})"}[w.framework]
    other = zeros if zero == "zeros" or w.framework in ("tensorflow", "keras") else "0.0"
    if form == "div":
        a = w.arg("other", "logits", shape, grad=True)
        return w.finish(w.call("where", f"{x} != 0", f"{a} / {atom(x)}", other), len(shape))
    inner = w.call("log", x) if form == "log" else w.call("sqrt", x)
    return w.finish(w.call("where", f"{x} > 0", inner, other), len(shape))


def acos_domain(w: Writer) -> str:
    shape = (w.draw(st.integers(1, 4)), w.draw(st.integers(2, 4)))
    a = w.arg("real", "logits", shape, grad=True)
    b = w.arg("other", f"like:{a}", shape, grad=True)
    if w.framework == "torch":
        cos = f"{w.alias['F']}.cosine_similarity({a}, {b}, dim=-1)"
    else:
        na = f"{a} / {atom(w.call('sqrt', w.reduce('sum', f'{a} * {a}', -1, keepdim=True)))}"
        nb = f"{b} / {atom(w.call('sqrt', w.reduce('sum', f'{b} * {b}', -1, keepdim=True)))}"
        cos = w.reduce("sum", f"({na}) * ({nb})", -1)
    return w.finish(w.call("acos", w.bind(cos)), 1)


def eps_guard(w: Writer) -> str:
    """An eps or clamp that the dtype absorbs (1e-8 is 0 in float16), a guard outside the log, a zero floor."""
    shape = any_shape(w)
    p = w.arg("probs", "probs", shape, grad=True)
    form = w.draw(st.sampled_from(["add", "clamp", "outside", "floor"]))
    # LOSS403 moves the eps the code chose inside the log, so here that eps fits the dtype (1e-8 is 0 in float16;
    # an absorbed eps is LOSS402's, reported where the code shows its half dtype)
    fits = form == "outside" and w.dtype == "float16"
    eps = w.draw(st.sampled_from(["1e-4", "1e-3"] if fits else ["1e-8", "1e-10", "1e-12"]))
    if form == "add":
        out = w.call("log", f"{atom(p)} + {eps}")
    elif form == "outside":
        out = f"{w.call('log', p)} + {eps}"
    elif w.framework == "torch":
        out = w.call("log", f"{w.alias['T']}.clamp({p}, {'min=0' if form == 'floor' else f'{eps}, 1 - {eps}'})")
    elif w.framework in ("tensorflow", "keras"):
        clip = "tf.clip_by_value" if w.framework == "tensorflow" else f"{w.alias['ops']}.clip"
        out = w.call("log", f"{clip}({p}, {'0.0, 1.0' if form == 'floor' else f'{eps}, 1 - {eps}'})")
    else:
        out = w.call("log", f"jnp.clip({p}, {'0.0, 1.0' if form == 'floor' else f'{eps}, 1 - {eps}'})")
    return w.finish(out, len(shape))


def masked_softmax(w: Writer) -> str:
    """Scores masked with -inf before a softmax, whole rows masked on the edge inputs; maybe a temperature after."""
    shape = (w.draw(st.integers(1, 3)), w.draw(st.integers(2, 4)))
    s = w.arg("logits", "logits", shape, grad=True)
    m = w.arg("mask", "rowmask", shape, "bool")
    inf = w.draw(st.sampled_from(['float("-inf")', "-math.inf", "-1e9"]))
    if "math" in inf:
        w.imports.append("import math")
    if w.framework == "torch":
        filled = w.draw(st.sampled_from([f"{s}.masked_fill(~{m}, {inf})", f"{w.alias['T']}.where({m}, {s}, {inf})"]))
    elif w.framework == "tensorflow":
        filled = f"tf.where({m}, {s}, {inf})"
    elif w.framework == "keras":
        filled = f"{w.alias['ops']}.where({m}, {s}, {inf})"
    else:
        filled = f"jnp.where({m}, {s}, {inf})"
    filled = w.bind(filled)
    if w.draw(st.booleans()):
        filled = f"{atom(filled)} / 0.05"
    return w.call("softmax", filled, dim=-1, last=True)


def probability_losses(w: Writer) -> str:
    """torch losses handed the wrong kind of input: nll_loss or cross_entropy on softmax output, kl_div on
    probabilities or with reduction="mean"."""
    b, c = w.draw(st.integers(1, 4)), w.draw(st.integers(2, 5))
    z = w.arg("logits", "logits", (b, c), grad=True)
    p = w.bind(softmax_of(w, z, 1, 2))
    form = w.draw(st.sampled_from(["nll", "ce", "kl", "kl-log"]))
    reduction = w.draw(st.sampled_from(["", ', reduction="sum"', ', reduction="mean"']))
    if form in ("nll", "ce"):
        t = w.arg("target", "index", (b,), "int64", param=c)
        name = "nll_loss" if form == "nll" else "cross_entropy"
        return f"{w.alias['F']}.{name}({p}, {t}{reduction})"
    q = w.arg("target", "dist", (b, c), param=-1)
    lp = p if form == "kl" else w.bind(f"{w.alias['F']}.log_softmax({z}, dim=1)")
    return f"{w.alias['F']}.kl_div({lp}, {q}{reduction})"


PATTERNS: dict[str, tuple[Callable[[Writer], str], tuple[str, ...]]] = {
    "log_softmax": (log_softmax, FRAMEWORKS),
    "log_sigmoid": (log_sigmoid, FRAMEWORKS),
    "bce_manual_on_sigmoid": (bce_on_sigmoid, FRAMEWORKS),
    "bce_manual_probs": (bce_on_probabilities, FRAMEWORKS),
    "categorical_ce_manual": (categorical_ce, FRAMEWORKS),
    "sparse_ce_manual": (sparse_ce, ("torch",)),
    "log1p": (log1p, FRAMEWORKS),
    "expm1": (expm1, FRAMEWORKS),
    "logsumexp_manual": (logsumexp, FRAMEWORKS),
    "softplus_manual": (softplus, FRAMEWORKS),
    "softmax_manual": (softmax_by_hand, FRAMEWORKS),
    "sigmoid_manual": (sigmoid_by_hand, FRAMEWORKS),
    "entropy_plogp": (entropy, ("torch", "tensorflow", "jax")),
    "log_cosh": (log_cosh, FRAMEWORKS),
    "bce_after_sigmoid": (bce_after_sigmoid, ("torch", "keras")),
    "log_unguarded": (log_unguarded, FRAMEWORKS),
    "log_det": (log_det, ("torch",)),
    "div_by_reduction": (division, FRAMEWORKS),
    "mean_of_empty_selection": (mean_of_selection, ("torch", "tensorflow")),
    "div_by_norm": (normalize, FRAMEWORKS),
    "sqrt_grad_at_zero": (sqrt_at_zero, FRAMEWORKS),
    "where_nan_grad": (where_nan_gradient, FRAMEWORKS),
    "inverse_trig_domain": (acos_domain, FRAMEWORKS),
    "eps_too_small_for_dtype": (eps_guard, FRAMEWORKS),
    "mask_fill_inf_softmax": (masked_softmax, FRAMEWORKS),
    "nll_on_probabilities": (probability_losses, ("torch",)),
}


def patterns(framework: str) -> list[str]:
    return [key for key, (_, frameworks) in PATTERNS.items() if framework in frameworks]


# The patterns whose hazard at the edge inputs only an unsafe fix (an eps, a clamp, a semantic change) repairs; a
# safe fix of another part of them (sqrt(sum(x ** 2)) -> vector_norm in x / norm) need not make them finite.
UNSAFE_REPAIR = {"bce_manual_probs", "log_unguarded", "div_by_reduction", "div_by_norm", "sqrt_grad_at_zero",
                 "inverse_trig_domain", "eps_too_small_for_dtype", "mask_fill_inf_softmax", "nll_on_probabilities"}


@st.composite
def programs(draw: Callable, framework: str, pattern: str) -> Program:
    writer = Writer(draw, framework)
    writer.repair = "unsafe" if pattern in UNSAFE_REPAIR else "safe"
    result = PATTERNS[pattern][0](writer)
    return writer.program(pattern, result)


# ----- inputs ----------------------------------------------------------------------------------------------------
def draw_value(arg: Arg, rng: np.random.Generator, edge: bool) -> np.ndarray:
    """Values for ``arg`` (float64 or int64; the runner casts them to the argument's dtype). Edge inputs put some
    elements where a naive formula breaks: large logits, exact 0 and 1 probabilities, tiny values."""
    shape, role = arg.shape, arg.role
    if role == "logits":
        x = rng.normal(0.0, 2.0, shape)
        if edge:
            hit = rng.random(shape) < 0.5
            hit.flat[rng.integers(x.size)] = True
            x = np.where(hit, rng.choice([-1.0, 1.0], shape) * rng.uniform(30.0, 100.0, shape), x)
        return x
    if role == "probs":
        x = rng.uniform(0.05, 0.95, shape)
        if edge:
            hit = rng.random(shape) < 0.5
            hit.flat[rng.integers(x.size)] = True
            x = np.where(hit, rng.choice([0.0, 1.0], shape), x)
        return x
    if role in ("small", "small-real", "tiny-diff"):
        scale = 10.0 ** rng.uniform(-12, -5, shape) if edge else rng.uniform(0.1, 2.0, shape)
        sign = rng.choice([-1.0, 1.0], shape) if role != "small" else 1.0
        return scale * sign
    if role == "real":
        return rng.normal(0.0, 1.5, shape)
    if role == "binary":
        return rng.integers(0, 2, shape).astype(np.float64)
    if role == "soft01":
        return rng.uniform(0.0, 1.0, shape)
    if role in ("onehot", "softlabel", "dist", "dist-positive"):
        axis = arg.param % len(shape)
        if role == "onehot" or (role == "dist" and edge):
            logits = rng.normal(0.0, 1.0, shape)
            hot = (logits == logits.max(axis=axis, keepdims=True)).astype(np.float64)
            if role == "onehot":
                return hot
            return np.where(rng.random(shape[:axis] + (1,) + shape[axis + 1:]) < 0.5, hot,
                            softmax(rng.normal(0.0, 1.0, shape), axis))
        return softmax(rng.normal(0.0, 1.0, shape), axis)
    if role == "index":
        return rng.integers(0, arg.param, shape)
    if role == "spd":  # symmetric positive definite; on the edge, scaled until float32's det underflows
        a = rng.normal(0.0, 1.0, shape)
        m = a @ np.swapaxes(a, -1, -2) + np.eye(shape[-1])
        return m * (1e-15 if edge else 1.0)
    if role in ("nonzero", "nonzero-or-zero"):
        x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
        return _zero_some(x, rng) if edge else x
    if role == "rows-with-zeros":
        x = rng.normal(0.0, 1.0, shape)
        return np.where(rng.random(shape[:-1] + (1,)) < 0.5, 0.0, x) if edge else x
    if role == "count":
        return np.asarray(0 if edge else rng.integers(1, 6))
    if role in ("mask", "rowmask"):
        keep = rng.random(shape) < 0.6
        keep.flat[rng.integers(keep.size)] = True
        if role == "rowmask":
            keep[..., rng.integers(shape[-1])] = True  # every row keeps one
            if edge:
                keep[rng.integers(shape[0])] = False
        return np.zeros(shape, bool) if edge and role == "mask" else keep
    if role == "hundreds":
        return rng.uniform(50.0, 150.0, shape)
    raise AssertionError(f"no values for role {role}")


def _zero_some(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    hit = rng.random(x.shape) < 0.4
    hit.flat[rng.integers(x.size)] = True
    return np.where(hit, 0.0, x)


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def draw_inputs(program: Program, seed: int, benign: int, edge: int) -> list[tuple[str, dict[str, np.ndarray]]]:
    """``benign`` ordinary inputs and ``edge`` inputs, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    inputs = []
    for kind in ["benign"] * benign + ["edge"] * edge:
        values: dict[str, np.ndarray] = {}
        for arg in program.args:
            if arg.role.startswith("like:"):  # another argument's values, equal to them in some rows at the edge
                like = values[arg.role.partition(":")[2]]
                x = rng.normal(0.0, 1.0, arg.shape)
                if kind == "edge":
                    rows = rng.random(arg.shape[:1] + (1,) * (len(arg.shape) - 1)) < 0.5
                    rows.flat[rng.integers(rows.size)] = True
                    x = np.where(rows, like, x)
                values[arg.name] = x
            else:
                values[arg.name] = draw_value(arg, rng, kind == "edge")
        inputs.append((kind, values))
    return inputs

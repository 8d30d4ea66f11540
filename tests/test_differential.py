"""Differential test: generated loss functions, fixed by lossling, run against their originals.

Programs come from ``generated_losses`` (the catalog's patterns in many spellings). Each is fixed with the safe
fixes and with the unsafe fixes (in-process), and original and fixed versions run in their framework on benign
and edge inputs. Required of a safe fix: the same shape and dtype; values and gradients equal to the original's
within the dtype's rounding, or closer to the float64 original (the reference); finite, and equal to a finite
reference, wherever the original was not finite. Required of an unsafe fix: it runs, keeps shape and dtype, and is
finite. Of both: the fixed text parses, a second fix changes nothing, nothing raises that did not raise before.

Example counts are bounded and derandomized for CI (EXAMPLES programs per pattern and framework, BENIGN + EDGE
inputs each); ``LOSSLING_DIFF_EXAMPLES=N`` runs N programs per pattern and framework (the larger run in
benchmarks/README.md), ``LOSSLING_DIFF_REPORT=file.json`` writes the counts (``file.json.gwN`` per xdist worker).

Fixes known to be wrong whose repair is still open are ``KNOWN_WRONG``: each a concrete generated
program with its reason, run as a strict expected failure (it fails once the fix is right, so the entry is
dropped then); while listed, the generated programs of its class (the rule's fix applied to a program with that
feature) may fail the same way.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generated_losses import (FLOATS, FRAMEWORKS, TRAINS, Arg, Program, draw_inputs, patterns, precision,
                              programs)
from helpers import check, fix

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# programs per pattern and framework in CI (JAX compiles every program: slowest); the variable sets all of them
EXAMPLES = {"torch": 10, "tensorflow": 5, "keras": 5, "jax": 2}
LARGER = int(os.environ.get("LOSSLING_DIFF_EXAMPLES", "0"))
BENIGN, EDGE = 2, 2  # inputs per program
# "equal" per dtype: (rtol, atol)
TOLERANCE = {"float64": (1e-7, 1e-9), "float32": (2e-4, 1e-5), "float16": (2e-2, 1e-2), "bfloat16": (1e-1, 5e-2)}
STATS: Counter = Counter()


@dataclass
class Outcome:
    value: np.ndarray
    dtype: str
    grads: list[np.ndarray] | None  # None: the backward pass raised


def _leaf_dtypes(arg: Arg, f64: bool) -> tuple[str, ...]:
    """The dtypes an argument's values are cast through: its own, then float64 for the reference (which so sees
    the same rounded inputs)."""
    return (arg.dtype, "float64") if f64 and arg.dtype in FLOATS else (arg.dtype,)


def run_torch(fn: Callable, args: tuple[Arg, ...], values: dict[str, np.ndarray], f64: bool) -> Outcome:
    import torch

    made, leaves = [], []
    for arg in args:
        tensor = torch.tensor(values[arg.name])
        for dtype in _leaf_dtypes(arg, f64):
            tensor = tensor.to(getattr(torch, dtype))
        if arg.grad:
            leaves.append(tensor.requires_grad_())
        made.append(tensor)
    out = torch.as_tensor(fn(*made))
    value = out.detach().to(torch.float64).numpy()
    try:
        grads = (torch.autograd.grad(out.to(torch.float64).sum(), leaves, allow_unused=True)
                 if out.requires_grad else [None] * len(leaves))
        grads_np = [np.zeros(l.shape) if g is None else g.to(torch.float64).numpy() for g, l in zip(grads, leaves)]
    except RuntimeError:
        return Outcome(value, str(out.dtype).removeprefix("torch."), None)
    return Outcome(value, str(out.dtype).removeprefix("torch."), grads_np)


def run_tensorflow(fn: Callable, args: tuple[Arg, ...], values: dict[str, np.ndarray], f64: bool) -> Outcome:
    import tensorflow as tf

    made = []
    for arg in args:
        tensor = tf.constant(values[arg.name])
        for dtype in _leaf_dtypes(arg, f64):
            tensor = tf.cast(tensor, getattr(tf, dtype))
        made.append(tensor)
    leaves = [t for t, a in zip(made, args) if a.grad]
    with tf.GradientTape() as tape:
        for leaf in leaves:
            tape.watch(leaf)
        out = tf.convert_to_tensor(fn(*made))
        total = tf.reduce_sum(tf.cast(out, tf.float64))
    value = np.asarray(tf.cast(out, tf.float64))
    try:
        grads = tape.gradient(total, leaves)
    except (ValueError, TypeError, LookupError, tf.errors.OpError):
        return Outcome(value, out.dtype.name, None)
    return Outcome(value, out.dtype.name, [np.zeros(l.shape) if g is None else np.asarray(tf.cast(g, tf.float64))
                                           for g, l in zip(grads, leaves)])


def run_jax(fn: Callable, args: tuple[Arg, ...], values: dict[str, np.ndarray], f64: bool) -> Outcome:
    """Compiled with ``jax.jit`` as JAX losses usually are (op-by-op dispatch compiles every op of every new shape
    and dtype, 20 times slower here)."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    made = []
    for arg in args:
        array = jnp.asarray(values[arg.name])
        for dtype in _leaf_dtypes(arg, f64):
            array = array.astype(dtype)
        made.append(array)
    wrt = [i for i, a in enumerate(args) if a.grad]

    def with_gradients(*full: Any) -> tuple[Any, Any]:
        def of_leaves(*leaves: Any) -> Any:
            called = list(full)
            for index, leaf in zip(wrt, leaves):
                called[index] = leaf
            return jnp.asarray(fn(*called))

        out, pullback = jax.vjp(of_leaves, *[full[i] for i in wrt])
        return out, pullback(jnp.ones_like(out))

    try:
        out, grads = _jitted(fn, tuple(wrt), with_gradients)(*made)
    except (TypeError, ValueError):  # the backward pass (the forward pass alone is then run by itself)
        out = jax.jit(fn)(*made)
        return Outcome(np.asarray(jnp.asarray(out).astype(jnp.float64)), str(out.dtype), None)
    return Outcome(np.asarray(out.astype(jnp.float64)), str(out.dtype),
                   [np.asarray(g.astype(jnp.float64)) for g in grads])


_JITTED: dict[tuple[int, tuple[int, ...]], tuple[Callable, Callable]] = {}


def _jitted(fn: Callable, wrt: tuple[int, ...], wrapped: Callable) -> Callable:
    """One compiled function per loss function and set of differentiated arguments (the same text can come with
    other arguments to differentiate), so each compiles once for the inputs of a program."""
    import jax

    key = (id(fn), wrt)
    if key not in _JITTED or _JITTED[key][0] is not fn:
        _JITTED[key] = (fn, jax.jit(wrapped))
    return _JITTED[key][1]


RUNNERS = {"torch": run_torch, "tensorflow": run_tensorflow, "keras": run_tensorflow, "jax": run_jax}


@functools.lru_cache(maxsize=64)
def load(source: str) -> Callable:
    """``loss_fn`` of ``source`` (one function per text, so JAX compiles the same fixed text once)."""
    scope: dict[str, Any] = {"__name__": "generated"}
    exec(compile(source, "<generated>", "exec"), scope)
    return scope["loss_fn"]


def attempt(program: Program, fn: Callable, values: dict[str, np.ndarray], f64: bool = False) -> Outcome | Exception:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return RUNNERS[program.framework](fn, program.args, values, f64)
        except Exception as error:  # what the original raises is allowed; the fix must not add any
            return error


# ----- the requirements ------------------------------------------------------------------------------------------
def _components(outcome: Outcome) -> list[np.ndarray]:
    return [outcome.value] + (outcome.grads or [])


def safe_mismatch(fixed: Outcome, original: Outcome, reference: Outcome | Exception, edge: bool, dtype: str,
                  repairs: bool) -> str | None:
    """Why ``fixed`` is not a safe replacement of ``original`` on one input, or None. ``dtype`` is what the program
    computes in; where it is float64 there is no better reference, so at edge inputs the original is only held to
    1e-2 (where its own rounding is amplified, as in 1 - sigmoid(30)). ``repairs``: the fix must be finite where the
    original was not (else another, unsafe, fix is what repairs that)."""
    if fixed.value.shape != original.value.shape or fixed.dtype != original.dtype:
        return f"shape/dtype {fixed.value.shape} {fixed.dtype}, original {original.value.shape} {original.dtype}"
    if original.grads is not None and fixed.grads is None:
        return "the backward pass raises"
    rtol, atol = TOLERANCE[dtype]
    if edge and dtype == "float64":
        rtol = 1e-2
    half_edge = edge and dtype in ("float16", "bfloat16")
    refs = _components(reference) if isinstance(reference, Outcome) and reference.grads is not None else None
    names = ["value"] + [f"gradient {i}" for i in range(len(original.grads or []))]
    for index, (name, f, o) in enumerate(zip(names, _components(fixed), _components(original))):
        r = refs[index] if refs is not None and refs[index].shape == o.shape else np.full(o.shape, np.nan)
        finite = np.isfinite(o)
        with np.errstate(all="ignore"):
            if half_edge:
                # half precision has no digits to spare at the edges: ulp(98) is 0.5 in bfloat16, so
                # exp(x - logsumexp(x)) is 20% off while exp(x) / sum(exp(x)) was not yet overflowing. There the
                # fix must be finite and roughly right.
                rough = ~np.isfinite(r) | np.isclose(f, r, rtol=0.5, atol=0.5)
                same = better = repaired = np.isfinite(f) & rough
            else:
                same = np.isclose(f, o, rtol=rtol, atol=atol)
                better = np.isfinite(r) & (np.abs(f - r) <= np.abs(o - r) + atol)
                # where the original broke: finite and near the reference (5e-2: there the float64 original is
                # itself off by an ulp of a larger number, 1 - sigmoid(37.3) gives -36.74 for -37.32)
                repaired = np.isfinite(f) & (~np.isfinite(r) | np.isclose(f, r, rtol=max(rtol, 5e-2), atol=atol))
        ok = np.where(finite, same | better, repaired if repairs else True)
        if not ok.all():
            at = np.argwhere(~ok)[0] if ok.ndim else ()
            return (f"{name} at {tuple(at)}: fixed {f[tuple(at)]!r}, original {o[tuple(at)]!r}, "
                    f"float64 original {r[tuple(at)]!r}")
    return None


def unsafe_mismatch(fixed: Outcome, original: Outcome) -> str | None:
    if fixed.value.shape != original.value.shape or fixed.dtype != original.dtype:
        return f"shape/dtype {fixed.value.shape} {fixed.dtype}, original {original.value.shape} {original.dtype}"
    if original.grads is not None and fixed.grads is None:
        return "the backward pass raises"
    for name, component in zip(["value", "gradient"], [fixed.value] + [np.concatenate(
            [g.ravel() for g in fixed.grads or []] or [np.zeros(0)])]):
        if not np.isfinite(component).all():
            return f"{name} not finite: {component!r}"
    return None


PATH = "/generated/losses.py"  # not a test file, wherever the tests run (the gradient rules skip test code)


def fixed_rules(source: str, unsafe: bool) -> set[str]:
    """The rules whose fixes a fix of ``source`` applies (first pass)."""
    allowed = ("safe", "unsafe") if unsafe else ("safe",)
    return {f.code for f in check(source, PATH) if f.fix is not None and f.fix.safety.value in allowed}


def failures(program: Program, seed: int) -> list[tuple[str, str]]:
    """Every requirement ``program``'s fixes break, as (what, detail); counts land in STATS."""
    found: list[tuple[str, str]] = []
    STATS["programs"] += 1
    STATS[f"{program.framework} {program.pattern}: programs"] += 1
    original = load(program.source)
    reference = load(program.reference) if program.reference else original
    STATS.update(f"programs with feature {f}" for f in program.features)
    inputs = draw_inputs(program, seed, BENIGN, EDGE)
    for unsafe in (False, True):
        mode = "unsafe" if unsafe else "safe"
        try:
            text = fix(program.source, unsafe=unsafe, path=PATH)
        except Exception as error:
            found.append((f"{mode} fix raises", repr(error)))
            continue
        if text == program.source:
            continue
        STATS[f"programs changed by the {mode} fixes"] += 1
        STATS[f"{program.framework} {program.pattern}: changed by the {mode} fixes"] += 1
        try:
            ast.parse(text)
            fn = load(text)
        except Exception as error:
            found.append((f"{mode} fix does not load", f"{error!r}\n{text}"))
            continue
        if fix(text, unsafe=unsafe, path=PATH) != text:
            found.append((f"{mode} fix is not idempotent", text))
        for kind, values in inputs:
            before = attempt(program, original, values)
            if isinstance(before, Exception):
                STATS["inputs the original raises on"] += 1
                continue
            if kind == "benign" and not all(np.isfinite(c).all() for c in _components(before)):
                STATS["benign inputs the original is not finite on"] += 1  # torch.std of one element
                continue
            STATS[f"inputs run ({mode} fixes)"] += 1
            after = attempt(program, fn, values)
            if isinstance(after, Exception):
                found.append((f"{mode} fix raises", f"{kind} input: {after!r}"))
                continue
            if unsafe:
                problem = unsafe_mismatch(after, before)
            else:
                problem = safe_mismatch(after, before, attempt(program, reference, values, f64=True),
                                        kind == "edge", precision(program), program.repair == "safe")
            if problem:
                found.append((f"{mode} fix differs", f"{kind} input {values}: {problem}"))
    return found


# ----- fixes known to be wrong, being repaired elsewhere ---------------------------------------------------------
@dataclass(frozen=True)
class Known:
    reason: str
    rule: str
    feature: str
    program: Program


def _program(framework: str, body: str, *args: Arg) -> Program:
    """A generated program as the generator writes it, kept as text: ``body`` is statements separated by "; "."""
    header = {"torch": "import torch\nimport torch.nn.functional as F", "tensorflow": "import tensorflow as tf",
              "keras": "import keras\nimport tensorflow as tf\nfrom keras import ops",
              "jax": "import jax\nimport jax.numpy as jnp"}
    lines = "\n".join(f"    {line}" for line in body.split("; "))
    source = (f"{header[framework]}\n\n\ndef loss_fn({', '.join(a.name for a in args)}):\n{lines}\n"
              + TRAINS[framework])
    return Program("known", framework, source, args)


def _y(*shape: int, dtype: str = "float32", role: str = "binary") -> Arg:
    return Arg("y", role, shape, dtype, param=-1)


KNOWN_WRONG: dict[str, Known] = {
    # Open: where lossling has no spelling of the value's dtype eps (Keras; tf.compat.v1 code; a call on arguments
    # not known to be tensors), the unsafe fixes keep a float32 eps, which float16 absorbs. torch, JAX and
    # TensorFlow 2 spell finfo(x.dtype) of a tensor they can name.
    "LOSS104 half, Keras": Known(
        "float16 probabilities: keras.ops.binary_crossentropy clips to [1e-7, 1 - 1e-7], [0, 1] in float16",
        "LOSS104", "half", _program("keras", "return ops.mean(-(y * ops.log(q) + (1 - y) * ops.log(1 - q)))",
                                    Arg("q", "probs", (4,), "float16", True), _y(4, dtype="float16"))),
    "LOSS203 half, TF": Known(
        "float16 a = b: the radicand is a call on arguments the value analysis does not know to be tensors, so "
        "there is no tensor to read a dtype from and the guard is + 1e-12, which float16 rounds away",
        "LOSS203", "half", _program("tensorflow", "return tf.sqrt(tf.reduce_sum((a - b) ** 2, axis=1))",
                                    Arg("a", "logits", (1, 1), "float16", True),
                                    Arg("b", "like:a", (1, 1), "float16"))),
    "LOSS203 half, Keras": Known(
        "float16 a = b: Keras has no dtype eps here, the guard is + 1e-12, which float16 rounds away", "LOSS203",
        "half", _program("keras", "return ops.sqrt(ops.sum((a - b) ** 2, axis=1))",
                         Arg("a", "logits", (1, 1), "float16", True), Arg("b", "like:a", (1, 1), "float16"))),
    "LOSS203 half, JAX": Known(
        "float16 a = b: as in TF, no tensor to read a dtype from in jnp.sum((a - b) ** 2), so + 1e-12", "LOSS203",
        "half", _program("jax", "return jnp.sqrt(jnp.sum((a - b) ** 2, axis=1))",
                         Arg("a", "logits", (1, 1), "float16", True), Arg("b", "like:a", (1, 1), "float16"))),
    "LOSS104 half, TF1 spelling": Known(
        "float16 probabilities in tf.compat.v1 code: no dtype eps spelled there, the clip to [1e-7, 1 - 1e-7] is "
        "[0, 1] in float16 and 0 * log(0) is NaN", "LOSS104", "half", _program(
            "tensorflow", "return -(y * tf.compat.v1.log(q) + (1 - y) * tf.math.log(1 - q))",
            Arg("q", "probs", (4,), "float16", True), _y(4, dtype="float16"))),
    "LOSS202 half, Keras": Known(
        "float16 zero row: keras.ops.normalize's epsilon is 0 in float16", "LOSS202", "half",
        _program("keras", "return x / keras.ops.norm(x, axis=1, keepdims=True)",
                 Arg("x", "rows-with-zeros", (3, 4), "float16", True))),
}


def tolerated(program: Program, found: list[tuple[str, str]]) -> bool:
    """Whether every failure of ``program`` is explained by an open KNOWN_WRONG class (its rule fixed a program
    of its framework with its feature)."""
    if not found:
        return True
    rules = fixed_rules(program.source, unsafe=True)
    return any(k.rule in rules and k.feature in program.features and k.program.framework == program.framework
               for k in KNOWN_WRONG.values())


def describe(program: Program, found: list[tuple[str, str]]) -> str:
    lines = [f"{program.framework} {program.pattern} {sorted(program.features)} args {program.args}",
             program.source, "safe fix:", fix(program.source, path=PATH), "unsafe fix:",
             fix(program.source, unsafe=True, path=PATH)]
    return "\n".join(lines + [f"{what}: {detail}" for what, detail in found])


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    path = os.environ.get("LOSSLING_DIFF_REPORT")
    if path:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        path = f"{path}.{worker}" if worker else path  # one file per pytest-xdist worker
        with open(path, "w", encoding="utf-8") as out:
            json.dump(dict(STATS), out, indent=1, sort_keys=True)


@pytest.mark.parametrize("framework, pattern", [(f, p) for f in FRAMEWORKS for p in patterns(f)])
def test_fixes_of_generated_programs_keep_their_promises(framework, pattern):
    @settings(max_examples=LARGER or EXAMPLES[framework], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(program=programs(framework, pattern), seed=st.integers(0, 2**32 - 1))
    def holds(program: Program, seed: int) -> None:
        found = failures(program, seed)
        if found and tolerated(program, found):
            STATS["programs failing in a known class"] += 1
            return
        assert not found, describe(program, found)

    holds()


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=known.reason))
                                  for name, known in sorted(KNOWN_WRONG.items())])
def test_known_wrong_fixes(name):
    known = KNOWN_WRONG[name]
    found = failures(known.program, seed=0)
    assert not found, describe(known.program, found)

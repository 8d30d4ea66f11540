"""The numerical proof harness: a fix is run through lossling itself, then both versions run in the framework.

A proof file is ``fixtures/<CODE>/proof_<name>.py``: functions named ``case_*`` taking tensors, and a ``PROOF``
dict literal::

    PROOF = {
        "framework": "torch",            # torch | tensorflow | keras | jax | numpy
        "unsafe": False,                 # fix with --unsafe-fixes (the rule's fix changes values)
        "dtype": "float32",              # the dtype the cases run in (float16/bfloat16 for dtype rules)
        "benign": [[arg, ...], ...],     # inputs where original and fix must agree (values and gradients)
        "edge": [[arg, ...], ...],       # inputs where the original breaks and the fix must hold
        "rtol": 1e-5, "atol": 1e-6,      # tolerances for "agree" (optional)
        "cases": {"case_x": {"edge": ...}},  # per-case overrides of any key above (optional)
    }

A safe fix whose point is an exact singularity (0/0, a where branch excluded at 0, sqrt at 0) cannot match a
float64 run of the original there, which breaks too: such a proof says ``"singular": True``, and at its edge
inputs the float64 reference must be non-finite, the fix finite, and equal to the reference wherever the
reference is finite (the catalog's definition of SAFE: same values and gradients wherever the original had them).

An ``arg`` is a nested list of numbers (a float tensor that gets a gradient), or a dict: ``{"float": [...],
"grad": False}``, ``{"int": [...]}``, ``{"bool": [...]}``, ``{"value": python_object}``.

Benign inputs: the fixed case gives the original's values and gradients within tolerance. Edge inputs: the
fixed case is finite; the original is not finite or differs from the float64 reference (the original run in
float64), so a proof cannot pass vacuously; and for a safe fix the fixed case matches that reference.

Semantic fixes (a bug fix that changes values on purpose: ``nll_loss`` of softmax output, swapped arguments)
cannot agree with the original anywhere, so their proofs name a reference: ``"reference": "reference_ce"`` is a
function in the proof file (never named ``case_*``, so lossling's fix is not what defines it) that computes the
correct loss, and it runs in float64. Such a proof must be ``"unsafe": True``. Benign inputs: the original is
finite and the fixed case gives the reference's values and gradients within tolerance. Edge inputs: the fixed
case is finite; the original is not finite or differs from the reference; and the fixed case matches the
reference. Every other check stays as above.

Removed APIs (``tf.log`` in TensorFlow 2, ``lr=`` in Keras 3) cannot run at all, so their proofs add
``"raises": "AttributeError"`` (the exception's class name) to a ``"reference"`` computing what the removed API
did (``tf.compat.v1.log``): on every input, benign and edge, the original must raise that exception and the
fixed case must give the reference's values and gradients, run in the same dtype. Such a fix may be safe.
"""

from __future__ import annotations

import ast
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from helpers import fix

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# What each framework's proofs import (Keras runs on the TensorFlow backend, set above).
FRAMEWORK_MODULES = {"torch": ("torch",), "tensorflow": ("tensorflow",), "keras": ("keras", "tensorflow"),
                     "jax": ("jax",), "numpy": ("numpy",)}
# Set by .ci/run: a proof that cannot run fails instead of being skipped, so CI proves every fix.
REQUIRE = "LOSSLING_REQUIRE_PROOFS"

DEFAULTS = {"unsafe": False, "dtype": "float32", "rtol": 1e-5, "atol": 1e-6, "benign": [], "edge": []}


@dataclass
class Outcome:
    value: np.ndarray
    grads: list[np.ndarray]

    def finite(self) -> bool:
        return bool(np.all(np.isfinite(self.value)) and all(np.all(np.isfinite(g)) for g in self.grads))


def load_proof(path: Path) -> tuple[str, dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PROOF" for t in node.targets):
            return text, {**DEFAULTS, **ast.literal_eval(node.value)}
    raise AssertionError(f"{path.name} has no PROOF = {{...}} literal")


def missing_modules(text: str, framework: str) -> list[str]:
    """The modules a proof file needs (its framework's and its own top-level imports) that are not installed."""
    roots = set(FRAMEWORK_MODULES.get(framework, ()))
    for node in ast.parse(text).body:
        if isinstance(node, ast.Import):
            roots.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            roots.add(node.module.partition(".")[0])
    return sorted(root for root in roots if importlib.util.find_spec(root) is None)


def require_framework(text: str, framework: str) -> None:
    """Skip a proof whose framework is not installed, saying which; with ``LOSSLING_REQUIRE_PROOFS=1``, fail it."""
    missing = missing_modules(text, framework)
    if not missing:
        return
    reason = f"{framework} proof: {', '.join(missing)} not installed"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{reason} ({REQUIRE}=1: every proof must run)")
    pytest.skip(reason)


def case_names(text: str) -> list[str]:
    return [n.name for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name.startswith("case_")]


def function_source(text: str, name: str) -> str:
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.unparse(node)
    raise AssertionError(f"{name} is missing")


def namespace(text: str, path: Path) -> dict[str, Any]:
    scope: dict[str, Any] = {"__name__": f"proof_{path.stem}"}
    exec(compile(text, str(path), "exec"), scope)
    return scope


def fixed_text(text: str, path: Path, unsafe: bool) -> str:
    return fix(text, unsafe=unsafe, path=str(path))


# ----- running a case in a framework ----------------------------------------------------------------------------
def _as_array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().to(dtype=__import__("torch").float64).numpy()
    return np.asarray(value, dtype=np.float64)


def _arguments(args: list, make: Callable[[Any, str], Any]) -> tuple[list, list[int]]:
    """The case's arguments, each made by ``make(values, kind)`` with kind "grad" (a float tensor that gets a
    gradient), "float", "int" or "bool"; ``{"value": ...}`` passes through. Also the positions of the "grad" ones."""
    made, wrt = [], []
    for arg in args:
        if not isinstance(arg, dict):
            wrt.append(len(made))
            made.append(make(arg, "grad"))
        elif "value" in arg:
            made.append(arg["value"])
        else:
            kind = next(k for k in ("int", "bool", "float") if k in arg)
            made.append(make(arg[kind], kind))
    return made, wrt


def run_torch(fn: Callable, args: list, dtype: str) -> Outcome:
    import torch

    kinds = {"grad": getattr(torch, dtype), "float": getattr(torch, dtype), "int": torch.int64, "bool": torch.bool}
    made, wrt = _arguments(args, lambda v, kind: torch.tensor(v, dtype=kinds[kind], requires_grad=kind == "grad"))
    out = fn(*made)
    leaves = [made[i] for i in wrt]
    grads = torch.autograd.grad(out.float().sum(), leaves, allow_unused=True) if leaves and out.requires_grad else []
    grads = [np.zeros(w.shape) if g is None else _as_array(g) for g, w in zip(grads, leaves)]
    return Outcome(_as_array(out), grads)


def run_tensorflow(fn: Callable, args: list, dtype: str) -> Outcome:
    import tensorflow as tf

    kinds = {"grad": getattr(tf, dtype), "float": getattr(tf, dtype), "int": tf.int64, "bool": tf.bool}
    made, wrt = _arguments(args, lambda v, kind: tf.constant(v, dtype=kinds[kind]))
    leaves = [made[i] for i in wrt]
    with tf.GradientTape() as tape:
        for leaf in leaves:
            tape.watch(leaf)
        out = fn(*made)
        total = tf.reduce_sum(tf.cast(out, tf.float64))
    grads = tape.gradient(total, leaves) if leaves else []
    grads = [np.zeros(w.shape) if g is None else np.asarray(tf.cast(g, tf.float64)) for g, w in zip(grads, leaves)]
    return Outcome(np.asarray(tf.cast(out, tf.float64)), grads)


def run_jax(fn: Callable, args: list, dtype: str) -> Outcome:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    kinds = {"grad": getattr(jnp, dtype), "float": getattr(jnp, dtype), "int": jnp.int64, "bool": jnp.bool_}
    made, wrt = _arguments(args, lambda v, kind: jnp.asarray(v, dtype=kinds[kind]))
    value = fn(*made)
    grads = []
    if wrt:
        def total(*free):
            full = list(made)
            for index, item in zip(wrt, free):
                full[index] = item
            return jnp.sum(fn(*full).astype(jnp.float64))

        grads = jax.grad(total, argnums=tuple(range(len(wrt))))(*[made[i] for i in wrt])
    return Outcome(np.asarray(value, dtype=np.float64), [np.asarray(g, dtype=np.float64) for g in grads])


def run_numpy(fn: Callable, args: list, dtype: str) -> Outcome:
    made, _ = _arguments(args, lambda v, kind: np.asarray(v, dtype=dtype if kind in ("grad", "float") else None))
    with np.errstate(all="ignore"):
        return Outcome(np.asarray(fn(*made), dtype=np.float64), [])


RUNNERS = {"torch": run_torch, "tensorflow": run_tensorflow, "keras": run_tensorflow, "jax": run_jax,
           "numpy": run_numpy}


def close(a: Outcome, b: Outcome, rtol: float, atol: float, where_finite: bool = False) -> bool:
    """Values and gradients agree; with ``where_finite``, only where ``b`` (a reference) is finite."""
    if a.value.shape != b.value.shape or len(a.grads) != len(b.grads):
        return False
    pairs = [(a.value, b.value)] + list(zip(a.grads, b.grads))
    if where_finite:
        pairs = [(x[np.isfinite(y)], y[np.isfinite(y)]) for x, y in pairs]
    return all(np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=False) for x, y in pairs)


def describe(outcome: Outcome) -> str:
    grads = ", ".join(np.array2string(g, precision=4) for g in outcome.grads)
    return f"value {np.array2string(outcome.value, precision=4)} grads [{grads}]"


def prove_case(original: Callable, fixed: Callable, settings: dict[str, Any],
               correct: Callable | None = None) -> None:
    """Assert both halves of the proof for one case; the message says which input failed and how. ``correct``
    is the proof's reference function (semantic fixes, see the module docstring), else None."""
    run = RUNNERS[settings["framework"]]
    dtype, rtol, atol = settings["dtype"], settings["rtol"], settings["atol"]
    if settings.get("raises"):
        prove_replacement(original, fixed, settings, correct)
        return
    assert settings["benign"] and settings["edge"], "a proof needs benign and edge inputs"
    assert correct is None or settings["unsafe"], "a fix proven against a reference changes values: mark it unsafe"
    for args in settings["benign"]:
        before, after = run(original, args, dtype), run(fixed, args, dtype)
        assert before.finite(), f"benign input {args} is not benign: original gives {describe(before)}"
        expected = before if correct is None else run(correct, args, "float64")
        assert close(expected, after, rtol, atol), (
            f"benign input {args}: {'original' if correct is None else 'reference'} {describe(expected)} "
            f"but fixed {describe(after)}")
    for args in settings["edge"]:
        before, after = run(original, args, dtype), run(fixed, args, dtype)
        reference = run(original if correct is None else correct, args, "float64")
        assert after.finite(), f"edge input {args}: the fix is not finite: {describe(after)}"
        broken = not before.finite() or not close(before, reference, max(rtol, 1e-3), max(atol, 1e-3))
        assert broken, f"edge input {args}: the original is fine there ({describe(before)}); the proof is vacuous"
        edge_rtol, edge_atol = max(rtol, 1e-4), max(atol, 1e-4)
        if settings.get("singular") and not settings["unsafe"]:
            assert not reference.finite(), (
                f"edge input {args}: a singular edge breaks the float64 reference too, but it is finite there")
            assert close(after, reference, edge_rtol, edge_atol, where_finite=True), (
                f"edge input {args}: fixed {describe(after)} differs from the float64 reference "
                f"{describe(reference)} where that is finite")
        elif not settings["unsafe"] or correct is not None:
            assert reference.finite(), f"edge input {args}: the float64 reference is not finite; pick another edge"
            assert close(after, reference, edge_rtol, edge_atol), (
                f"edge input {args}: fixed {describe(after)} but float64 reference {describe(reference)}")


def prove_replacement(original: Callable, fixed: Callable, settings: dict[str, Any], correct: Callable | None) -> None:
    """A removed API: the original raises ``settings["raises"]`` on every input, the fix computes the reference."""
    run = RUNNERS[settings["framework"]]
    dtype, rtol, atol = settings["dtype"], settings["rtol"], settings["atol"]
    assert correct is not None, "a proof with raises needs a reference computing what the removed API did"
    assert settings["benign"], "a proof needs benign inputs"
    for args in settings["benign"] + settings["edge"]:
        try:
            run(original, args, dtype)
        except Exception as error:  # the exception's class is checked by name, as the proof states it
            assert type(error).__name__ == settings["raises"], f"input {args}: the original raises {error!r}"
        else:
            raise AssertionError(f"input {args}: the original runs, so it does not need this fix")
        after, expected = run(fixed, args, dtype), run(correct, args, dtype)
        assert after.finite(), f"input {args}: the fix is not finite: {describe(after)}"
        assert close(expected, after, rtol, atol), (
            f"input {args}: reference {describe(expected)} but fixed {describe(after)}")


def proof_files(root: Path) -> list[Path]:
    return sorted(root.glob("LOSS*/proof_*.py"))


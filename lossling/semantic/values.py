"""The abstract value: what lossling knows about one expression's value, as a small record of lattices.

Every field has "unknown" on top, and ``join`` (two definitions reach one use) takes the weaker claim, so a fact
holds at a use only when it holds for every definition that reaches it. Bounds are float-aware: they are kept in
the value's dtype (float32 when a tensor's dtype is not known), so ``clamp(p, 1e-8, 1 - 1e-8)`` has an upper
bound of exactly 1.0 in float32, which is what the code computes.
"""

from __future__ import annotations

import ast
import math
import struct
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

TENSORS = frozenset({"torch", "tf", "jax", "keras", "numpy"})
FLOATS = ("f16", "bf16", "f32", "f64")
HALF = frozenset({"f16", "bf16"})


class Zero(IntEnum):
    """Can the value be exactly 0 in floating point? Ordered from safe to certain; join takes the larger."""

    NEVER = 0  # kept away from 0 (a positive constant, + eps, a clamp, a count that includes the maximum)
    ROUNDING = 1  # positive in exact arithmetic, 0 where float rounding or underflow reaches it (softmax, exp)
    UNKNOWN = 2  # nothing known, or 0 only at isolated points (a signed sum, a difference)
    DEGENERATE = 3  # 0 for degenerate inputs: a zero vector's norm, a constant input's std, an all-zero sum
    EXACT = 4  # 0 on ordinary inputs: the count of an empty mask, a mask's sum


@dataclass(frozen=True)
class Value:
    """Facts about one value. ``kind``: torch, tf, jax, keras, numpy (arrays), number (Python scalar), other, or
    None. ``dtype``: f16, bf16, f32, f64, int, bool or None. ``lo``/``hi``: bounds (None: unbounded) in the
    value's dtype; ``top`` says how ``hi`` is reached (NEVER: not reached; ROUNDING: only by rounding, as a
    sigmoid reaches 1; EXACT: reached on ordinary inputs). ``role``: probs, logprobs, logits, count, mask,
    index (class indices), onehot, loss, sample (a uniform random draw: in [0, 1], not a probability),
    orthonormal (eigenvectors: rows and columns of unit norm), or None.
    ``grad``: a gradient can flow (True), cannot (False), unknown (None). ``origin``: the call that made the value,
    kept through shape ops (for messages and fixes). ``cause``: what makes it 0 when ``zero`` is DEGENERATE or
    EXACT (count, sum, max, norm, std)."""

    kind: str | None = None
    dtype: str | None = None
    lo: float | None = None
    hi: float | None = None
    zero: Zero = Zero.UNKNOWN
    top: Zero = Zero.UNKNOWN
    role: str | None = None
    grad: bool | None = None
    origin: ast.AST | None = None
    cause: str | None = None  # why it can be 0: count, sum, max, norm, std (for messages)

    # ----- questions ---------------------------------------------------------------------------------------
    @property
    def tensor(self) -> bool:
        return self.kind in TENSORS

    @property
    def nonnegative(self) -> bool:
        return self.lo is not None and self.lo >= 0

    @property
    def positive(self) -> bool:
        """> 0 on every input, in floating point too."""
        return self.zero is Zero.NEVER and self.nonnegative

    @property
    def half(self) -> bool:
        return self.dtype in HALF

    @property
    def integral(self) -> bool:
        return self.dtype in ("int", "bool")

    @property
    def probability(self) -> bool:
        return self.role == "probs" or (self.nonnegative and self.hi is not None and self.hi <= 1 and
                                        self.role not in ("mask", "onehot", "count", "index", "sample"))

    def but(self, **changes: Any) -> Value:
        return replace(self, **changes)

    # ----- lattice -----------------------------------------------------------------------------------------
    def join(self, other: Value) -> Value:
        if self is other or other is BOTTOM:
            return self
        if self is BOTTOM:
            return other
        return Value(
            kind=self.kind if self.kind == other.kind else None,
            dtype=self.dtype if self.dtype == other.dtype else None,
            lo=None if self.lo is None or other.lo is None else min(self.lo, other.lo),
            hi=None if self.hi is None or other.hi is None else max(self.hi, other.hi),
            zero=max(self.zero, other.zero),
            top=_top_join(self, other),
            role=self.role if self.role == other.role else None,
            grad=True if self.grad or other.grad else (False if self.grad is False and other.grad is False
                                                          else None),
            origin=self.origin if self.origin is other.origin else None,
            cause=_cause_join(self, other),
        )


def _cause_join(a: Value, b: Value) -> str | None:
    """Why the join can be 0. A constant 0 gives no reason of its own: joined with an accumulation that starts
    from it (``s = zeros(n)``, then ``s = s + x ** 2`` in a loop) it is the empty case of that sum, and joined
    with the other branch of a ``where`` it is that value's 0."""
    if a.cause == b.cause:
        return a.cause
    for first, second in ((a, b), (b, a)):
        if first.lo == first.hi == 0 and first.cause is None:
            return second.cause
    if a.zero != b.zero:
        return a.cause if a.zero > b.zero else b.cause
    return min(c for c in (a.cause, b.cause) if c) if a.cause or b.cause else None  # the same either way


def _top_join(a: Value, b: Value) -> Zero:
    if a.hi is None or b.hi is None:
        return Zero.UNKNOWN
    if a.hi == b.hi:
        return max(a.top, b.top)
    return a.top if a.hi > b.hi else b.top


UNKNOWN = Value()
BOTTOM = Value(zero=Zero.NEVER, top=Zero.NEVER)  # "no definition evaluated yet": the identity of join (loops)


def widen(old: Value, new: Value) -> Value:
    """The join of two rounds of a loop, with every bound that moved dropped, so iteration ends."""
    joined = old.join(new)
    return joined.but(lo=joined.lo if old.lo == joined.lo else None, hi=joined.hi if old.hi == joined.hi else None)


def join_all(values: list[Value]) -> Value:
    if not values:
        return UNKNOWN
    result = values[0]
    for other in values[1:]:
        result = result.join(other)
    return result


def constant(number: float, dtype: str | None = None) -> Value:
    """A Python number (or a constant tensor's element)."""
    kind = "number"
    if dtype is None:
        dtype = "int" if float(number).is_integer() and not isinstance(number, float) else "f64"
    zero = Zero.EXACT if number == 0 else Zero.NEVER
    return Value(kind, dtype, float(number), float(number), zero, Zero.EXACT, None, False)


# ----- float-aware arithmetic -----------------------------------------------------------------------------
def rounded(number: float, dtype: str | None) -> float:
    """``number`` as the dtype stores it (float32 for an unknown tensor dtype)."""
    if math.isinf(number) or math.isnan(number) or dtype in ("f64", "int", "bool"):
        return number
    try:
        if dtype == "f16":
            return struct.unpack("e", struct.pack("e", number))[0]
        single = struct.unpack("f", struct.pack("f", number))[0]
    except (OverflowError, struct.error):
        return math.copysign(math.inf, number)
    if dtype != "bf16":
        return single
    bits = struct.unpack("I", struct.pack("f", single))[0]
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000  # round to nearest even on the top 16 bits
    return struct.unpack("f", struct.pack("I", bits))[0]


def survives(eps: float, dtype: str | None) -> bool:
    """Whether a positive ``eps`` is still positive once stored in ``dtype``."""
    return rounded(eps, dtype) > 0


def float_dtype(value: Value) -> str | None:
    """The dtype its floating-point arithmetic runs in: its own, float32 for a tensor of unknown dtype."""
    if value.dtype in FLOATS:
        return value.dtype
    if value.kind == "number":
        return "f64"
    return "f32" if value.tensor or value.kind is None else None


def promote(a: Value, b: Value) -> str | None:
    """The dtype of ``a op b`` (PyTorch's rules, close enough for TF/JAX, which refuse most mixes): a Python
    number does not widen a tensor; floats beat integers; the wider float wins; unknown taints."""
    if a.kind == "number" and b.tensor:
        return b.dtype if b.dtype != "bool" and b.dtype != "int" or a.dtype == "int" else (
            "f32" if b.dtype is not None else None)
    if b.kind == "number" and a.tensor:
        return promote(b, a)
    if a.dtype is None or b.dtype is None:
        return None
    order = ("bool", "int", "bf16", "f16", "f32", "f64")
    if {a.dtype, b.dtype} == {"bf16", "f16"}:
        return "f32"
    return max(a.dtype, b.dtype, key=order.index)

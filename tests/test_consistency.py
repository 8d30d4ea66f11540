"""One code per root cause (issue 15): every framework's spelling of a pattern gives the same finding, identical
lines give identical findings, and a division by a masked count is LOSS206 in every spelling."""

from __future__ import annotations

import pytest

from helpers import check

HEADERS = {
    "torch": ("import torch\n", "torch.Tensor"),
    "tf": ("import tensorflow as tf\n", "tf.Tensor"),
    "keras": ("import keras\nfrom keras import ops\n", "keras.KerasTensor"),
    "jax": ("import jax\nimport jax.numpy as jnp\n", "jnp.ndarray"),
}

# pattern -> (code, spelling per framework); every spelling computes the same thing
PATTERNS = {
    "masked-mean": ("LOSS206", {
        "torch": "(x * m).sum() / m.sum()", "tf": "tf.reduce_sum(x * m) / tf.reduce_sum(m)",
        "keras": "ops.sum(x * m) / ops.sum(m)", "jax": "jnp.sum(x * m) / jnp.sum(m)"}),
    "masked-mean-functions": ("LOSS206", {
        "torch": "torch.div(torch.sum(x * m), torch.sum(m))",
        "tf": "tf.math.divide(tf.math.reduce_sum(x * m), tf.math.reduce_sum(m))",
        "keras": "ops.divide(ops.sum(x * m), ops.sum(m))", "jax": "jnp.divide(jnp.sum(x * m), jnp.sum(m))"}),
    "log-of-softmax": ("LOSS102", {
        "torch": "torch.log(torch.softmax(x, -1))", "tf": "tf.math.log(tf.nn.softmax(x))",
        "keras": "ops.log(ops.softmax(x))", "jax": "jnp.log(jax.nn.softmax(x))"}),
    "log-of-sigmoid": ("LOSS103", {
        "torch": "torch.log(torch.sigmoid(x))", "tf": "tf.math.log(tf.sigmoid(x))",
        "keras": "ops.log(ops.sigmoid(x))", "jax": "jnp.log(jax.nn.sigmoid(x))"}),
    "bce-by-hand": ("LOSS104", {
        "torch": "-torch.mean(y * torch.log(p) + (1 - y) * torch.log(1 - p))",
        "tf": "-tf.reduce_mean(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))",
        "keras": "-ops.mean(y * ops.log(p) + (1 - y) * ops.log(1 - p))",
        "jax": "-jnp.mean(y * jnp.log(p) + (1 - y) * jnp.log(1 - p))"}),
    "cross-entropy-term": ("LOSS101", {
        "torch": "-torch.sum(y * torch.log(p), -1).mean()",
        "tf": "-tf.reduce_mean(tf.reduce_sum(y * tf.math.log(p), -1))",
        "keras": "-ops.mean(ops.sum(y * ops.log(p), -1))", "jax": "-jnp.mean(jnp.sum(y * jnp.log(p), -1))"}),
    "log1p": ("LOSS106", {
        "torch": "torch.log(1 + x)", "tf": "tf.math.log(1 + x)", "keras": "ops.log(1 + x)",
        "jax": "jnp.log(1 + x)"}),
    "expm1": ("LOSS107", {
        "torch": "torch.exp(x) - 1", "tf": "tf.exp(x) - 1", "keras": "ops.exp(x) - 1", "jax": "jnp.exp(x) - 1"}),
    "logsumexp": ("LOSS108", {
        "torch": "torch.log(torch.sum(torch.exp(x), -1))", "tf": "tf.math.log(tf.reduce_sum(tf.exp(x), -1))",
        "keras": "ops.log(ops.sum(ops.exp(x), -1))", "jax": "jnp.log(jnp.sum(jnp.exp(x), -1))"}),
    "softplus": ("LOSS109", {
        "torch": "torch.log(1 + torch.exp(x))", "tf": "tf.math.log(1 + tf.exp(x))",
        "keras": "ops.log(1 + ops.exp(x))", "jax": "jnp.log(1 + jnp.exp(x))"}),
    "xlogx": ("LOSS111", {
        "torch": "torch.sum(p * torch.log(p))", "tf": "tf.reduce_sum(p * tf.math.log(p))",
        "keras": "ops.sum(p * ops.log(p))", "jax": "jnp.sum(p * jnp.log(p))"}),
    "log-cosh": ("LOSS112", {
        "torch": "torch.log(torch.cosh(x - y))", "tf": "tf.math.log(tf.cosh(x - y))",
        "keras": "ops.log(ops.cosh(x - y))", "jax": "jnp.log(jnp.cosh(x - y))"}),
    "normalize-by-hand": ("LOSS202", {
        "torch": "x / torch.norm(x, dim=-1, keepdim=True)", "tf": "x / tf.norm(x, axis=-1, keepdims=True)",
        "keras": "x / ops.norm(x, axis=-1, keepdims=True)",
        "jax": "x / jnp.linalg.norm(x, axis=-1, keepdims=True)"}),
}


def _source(framework: str, *bodies: str) -> str:
    header, annotation = HEADERS[framework]
    functions = "".join(f"\n\ndef f{i}(x: {annotation}, y: {annotation}, m: {annotation}, p: {annotation}):\n"
                        f"    return {body}\n" for i, body in enumerate(bodies))
    return header + functions


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_spelling_gives_the_same_code(pattern):
    code, spellings = PATTERNS[pattern]
    found = {framework: sorted({f.code for f in check(_source(framework, expr), "x.py")})
             for framework, expr in spellings.items()}
    assert found == {framework: [code] for framework in spellings}


@pytest.mark.parametrize("pattern", PATTERNS)
def test_identical_lines_give_identical_findings(pattern):
    """The same line in two functions of a file, and twice in one function, is reported at each place."""
    code, spellings = PATTERNS[pattern]
    for framework, expr in spellings.items():
        header, annotation = HEADERS[framework]
        twice = (f"\n\ndef g(x: {annotation}, y: {annotation}, m: {annotation}, p: {annotation}):\n"
                 f"    a = {expr}\n    b = {expr}\n    return a, b\n")
        source = _source(framework, expr, expr) + twice
        lines = [line for line, text in enumerate(source.splitlines(), 1) if expr in text]
        assert sorted(f.line for f in check(source, "x.py") if f.code == code) == lines, framework


@pytest.mark.parametrize("divisor", [
    "m.sum()", "torch.sum(m)", "m.float().sum()", "(y > 0).sum()", "m.sum(-1)", "torch.count_nonzero(m)"])
def test_a_masked_count_is_one_code(divisor):
    """A division of a masked sum by the mask's count is LOSS206 however the count is spelled or named, in a return
    or through an intermediate name, never LOSS201 beside it."""
    numerator = "(x * m).sum()" if "y" not in divisor else "(x * (y > 0)).sum()"
    direct = f"import torch\n\n\ndef f(x: torch.Tensor, y: torch.Tensor, m: torch.Tensor):\n    return {numerator} / {divisor}\n"
    named = (f"import torch\n\n\ndef f(x: torch.Tensor, y: torch.Tensor, m: torch.Tensor):\n    n = {divisor}\n"
             f"    s = {numerator}\n    return s / n\n")
    assert [f.code for f in check(direct, "x.py")] == ["LOSS206"]
    assert [f.code for f in check(named, "x.py")] == ["LOSS206"]

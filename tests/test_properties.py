"""Property tests: the fixer cannot break code.

Two sources of programs: hypothesmith's grammar-generated Python (mostly code no rule matches, which must come
back byte for byte) and a generator of loss code built from framework calls in every spelling, wrapped in random
layout (parentheses, line breaks, comments), which exercises the fixes. For both: ``check`` never raises anything
but a SourceError, ``fix`` (safe and unsafe) leaves code that parses, and a second ``fix`` changes nothing.
Example counts are bounded (see MAX_EXAMPLES) so the suite stays fast in CI.
"""

from __future__ import annotations

import ast
import re

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import check, fix
from lossling.engine import SourceError

MAX_EXAMPLES = 150
SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

HEADERS = {
    "torch": "import torch\nimport torch.nn.functional as F\n",
    "tf": "import tensorflow as tf\n",
    "tf1": "import tensorflow.compat.v1 as tf\n",
    "keras": "import keras\nfrom keras import ops\n",
    "jax": "import jax\nimport jax.numpy as jnp\n",
}
UNARY = {
    "torch": ["torch.log({})", "torch.exp({})", "torch.sigmoid({})", "torch.softmax({}, dim=-1)",
              "F.softmax({}, dim=1)", "{}.log()", "{}.exp()", "{}.sigmoid()", "{}.softmax(-1)", "{}.sum(-1)",
              "torch.sqrt({})", "{}.mean()", "torch.log1p({})", "F.logsigmoid({})", "{}.clamp(min=1e-7)",
              "torch.cosh({})", "{}.norm(dim=-1)", "torch.acos({})"],
    "tf": ["tf.math.log({})", "tf.exp({})", "tf.sigmoid({})", "tf.nn.softmax({})", "tf.reduce_sum({}, axis=-1)",
           "tf.reduce_mean({})", "tf.sqrt({})", "tf.math.log1p({})", "tf.clip_by_value({}, 1e-7, 1.0)"],
    "tf1": ["tf.log({})", "tf.exp({})", "tf.nn.sigmoid({})", "tf.nn.softmax({})", "tf.reduce_sum({})"],
    "keras": ["ops.log({})", "ops.exp({})", "ops.sigmoid({})", "keras.ops.softmax({}, axis=-1)", "ops.sum({})"],
    "jax": ["jnp.log({})", "jnp.exp({})", "jax.nn.sigmoid({})", "jax.nn.softmax({})", "jnp.sum({}, axis=-1)"],
}
# Shapes the rules look for, with a hole: half of the generated expressions start from one of these.
PATTERNS = {
    "torch": ["torch.log(torch.softmax({}, dim=1))", "{}.softmax(-1).log()", "torch.log(1 - torch.sigmoid({}))",
              "torch.log(1 + torch.exp({}))", "torch.log(torch.exp({}).sum(-1))", "torch.exp({}) - 1",
              "y * torch.log({}) + (1 - y) * torch.log(1 - {})", "{} / {}.sum()", "torch.sqrt(({}) ** 2)"],
    "tf": ["tf.math.log(tf.nn.softmax({}))", "tf.math.log(1.0 - tf.sigmoid({}))", "tf.math.log(1 + {})",
           "-tf.reduce_sum(y * tf.math.log({}))", "tf.math.log(tf.reduce_sum(tf.exp({}), axis=-1))"],
    "tf1": ["tf.log(tf.nn.softmax({}))", "-tf.reduce_sum(y * tf.log({}))", "tf.log(1 + {})"],
    "keras": ["ops.log(ops.softmax({}))", "ops.log(ops.sigmoid({}))", "ops.log(1 + ops.exp({}))"],
    "jax": ["jnp.log(jax.nn.softmax({}))", "jnp.log(1 - jax.nn.sigmoid({}))", "jnp.exp({}) - 1"],
}
BINARY = ["{} + {}", "{} - {}", "{} * {}", "{} / {}", "1 - {}", "1 + {}", "{} ** 0.5", "-{}", "({})"]
LEAVES = ["logits", "p", "y", "target", "1e-8", "2.0", "x[0]"]


def _wrap(expression: str) -> str:
    """Parenthesise anything but a name, attribute, call or subscript, so ``{}.log()`` stays valid."""
    return expression if re.fullmatch(r"[A-Za-z_][\w.]*(\(.*\)|\[.*\])?", expression) else f"({expression})"


@st.composite
def expressions(draw, framework: str, depth: int = 0) -> str:
    if depth > 3 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(LEAVES))
    inner = _wrap(draw(expressions(framework, depth + 1)))
    if draw(st.booleans()):
        return draw(st.sampled_from(PATTERNS[framework])).replace("{}", inner)
    if draw(st.booleans()):
        return draw(st.sampled_from(UNARY[framework])).format(inner)
    template = draw(st.sampled_from(BINARY))
    other = _wrap(draw(expressions(framework, depth + 1)))
    return template.format(inner, other) if template.count("{}") == 2 else template.format(inner)


def _layout(draw, expression: str) -> str:
    """Wrap an expression in parentheses over several lines with a comment, or leave it on one line."""
    if draw(st.booleans()):
        return f"(\n        {expression}  # keep me\n    )"
    return expression


@st.composite
def loss_modules(draw) -> str:
    framework = draw(st.sampled_from(sorted(HEADERS)))
    body = []
    for index in range(draw(st.integers(1, 4))):
        expression = draw(expressions(framework))
        target = draw(st.sampled_from(["p", "loss", f"t{index}"]))
        body.append(f"    {target} = {_layout(draw, expression)}")
    body.append("    return loss if 'loss' in dir() else p")
    return HEADERS[framework] + "\n\ndef loss_fn(logits, y, target, p, x):\n" + "\n".join(body) + "\n"


def _assert_fix_holds(source: str) -> None:
    try:
        check(source)
    except SourceError:
        return
    for unsafe in (False, True):
        once = fix(source, unsafe=unsafe)
        ast.parse(once)
        compile(once, "<fixed>", "exec")
        assert fix(once, unsafe=unsafe) == once, "a second fix changed the file"


@SETTINGS
@given(loss_modules())
def test_fix_of_generated_loss_code_parses_and_is_idempotent(source):
    _assert_fix_holds(source)


# grammar-generated programs may call a literal (`None()`): Python warns while compiling them, harmlessly
@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@SETTINGS
@given(hypothesmith.from_grammar())
def test_fix_of_arbitrary_python_never_breaks_it(source):
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    try:
        findings = check(source)
    except SourceError:
        return
    if not findings:
        assert fix(source) == source, "code no rule matched must come back byte for byte"
    _assert_fix_holds(source)

"""Regression tests for fixes that broke working code (issue 13, items 1 and 6), run with real torch: each case
quotes the numbers the old fix got wrong, requires the finding to stay, and requires what ``lossling fix`` (safe
and unsafe) writes to compute what the original computed."""

from __future__ import annotations

import pytest

from helpers import check, fix

torch = pytest.importorskip("torch")
F = torch.nn.functional

HEADER = "import math\nimport torch\nimport torch.nn.functional as F\n\n\n"


def _run(source: str, *args):
    namespace: dict = {}
    exec(compile(source, "<fixed>", "exec"), namespace)  # noqa: S102 - the test's own code
    return namespace["f"](*(a.clone() for a in args))  # fresh inputs: the functions change them in place


def _same(source: str, *args) -> None:
    """Safe and unsafe fixes of ``source`` compute what it computes (values, shape, dtype) on ``args``."""
    want = _run(source, *args)
    for unsafe in (False, True):
        got = _run(fix(source, unsafe=unsafe), *args)
        assert got.shape == want.shape and got.dtype == want.dtype
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6, equal_nan=True)


Z = torch.tensor([[1.0, 2.0, 3.0]])
# (rule, body of f, inputs, what the original returns, what the old fix returned)
MUTATED = [
    ("LOSS102", "w = z.clone()\np = F.softmax(w, dim=1)\nw.mul_(2.0)  # the change\nreturn torch.log(p)",
     (Z,), [[-2.408, -1.408, -0.408]], [[-4.143, -2.143, -0.143]]),  # old fix: F.log_softmax(w, dim=1)
    ("LOSS106", "t = 1 + z\nz.zero_()  # the change\nreturn torch.log(t)",
     (torch.tensor([1e-3, 0.5]),), [1e-3, 0.4055], [0.0, 0.0]),  # old fix: torch.log1p(z)
    ("LOSS103", "w = z.clone()\np = torch.sigmoid(w)\nw.mul_(2.0)  # the change\nreturn torch.log(p)",
     (torch.tensor([-1.0, 0.0, 2.0]),), [-1.3133, -0.6931, -0.1269], [-2.1269, -0.6931, -0.0181]),
    ("LOSS104", "w = z.clone()\np = torch.sigmoid(w)\nw.add_(1.0)  # the change\n"
                "return -(y * torch.log(p) + (1 - y) * torch.log(1 - p))",
     (torch.tensor([-1.0, 0.0, 2.0]), torch.tensor([0.0, 1.0, 1.0])), [0.3133, 0.6931, 0.1269],
     [0.6931, 0.3133, 0.0486]),  # old fix: F.binary_cross_entropy_with_logits(w, y, reduction="none")
    ("LOSS108", "w = z.clone()\ne = torch.exp(w)\nw.zero_()  # the change\nreturn torch.log(e.sum(1))",
     (torch.tensor([[0.0, 1.0, 2.0]]),), [2.4076], [1.0986]),  # old fix: w.logsumexp(1)
    ("LOSS112", "w = z.clone()\nc = torch.cosh(w)\nw.zero_()  # the change\nreturn torch.log(c)",
     (torch.tensor([[0.0, 1.0, 2.0]]),), [[0.0, 0.4338, 1.3250]], [[0.0, 0.0, 0.0]]),
    # x / norm(x) and the cosine by hand (unsafe fixes, but they must still compute the same on a nonzero x)
    ("LOSS202", "n = z.norm(dim=1, keepdim=True)\nz = z * 2  # the change\nreturn z / n",
     (torch.tensor([[3.0, 4.0]]),), [[1.2, 1.6]], [[0.6, 0.8]]),  # old fix: F.normalize(z, dim=1)
    ("LOSS202", "dot = (z * y).sum(1)\nnz = z.norm(dim=1)\nny = y.norm(dim=1)\nz.add_(1)  # the change\n"
                "return dot / (nz * ny)",
     (torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 1.0]])), [0.7071], [0.9487]),  # F.cosine_similarity(z, y)
    # the change reaches the name through an alias: v is z, so v.mul_ changes the z the softmax read
    ("LOSS102", "p = F.softmax(z, dim=1)\nv = z\nv.mul_(2.0)\nreturn torch.log(p)",
     (Z,), [[-2.408, -1.408, -0.408]], [[-4.143, -2.143, -0.143]]),
    # ... and the other way round: w is z (a view), so z.mul_ changes w
    ("LOSS102", "w = z.view(1, 3)\np = F.softmax(w, dim=1)\nz.mul_(2.0)\nreturn torch.log(p)",
     (Z,), [[-2.408, -1.408, -0.408]], [[-4.143, -2.143, -0.143]]),
    # a loop: the softmax of the previous round is logged after z changed
    ("LOSS102", "out = []\nfor i in range(2):\n    if i:\n        out.append(torch.log(p))\n"
                "    p = F.softmax(z, dim=1)\n    z = z * 2\nreturn out[0]",
     (Z,), [[-2.408, -1.408, -0.408]], [[-4.143, -2.143, -0.143]]),
]


def _source(body: str, params: str) -> str:
    return HEADER + f"def f({params}):\n" + "".join(f"    {line}\n" for line in body.splitlines())


@pytest.mark.parametrize("code, body, args, original, old_fix", MUTATED, ids=lambda v: v if isinstance(
    v, str) and v.startswith("LOSS") else "")
def test_no_fix_moves_an_expression_across_a_change_of_its_inputs(code, body, args, original, old_fix):
    source = _source(body, "z, y" if len(args) == 2 else "z")
    finding = next(f for f in check(source) if f.code == code)  # the finding stays, and says why it has no fix
    assert finding.fix is None and (code == "LOSS202" or "(no fix: `" in finding.message)
    torch.testing.assert_close(_run(source, *args), torch.tensor(original), atol=1e-3, rtol=0)
    _same(source, *args)  # the old fix gave old_fix instead
    assert not torch.allclose(torch.tensor(original), torch.tensor(old_fix), atol=1e-3)


@pytest.mark.parametrize("code, body, args, original, old_fix", MUTATED[:8], ids=lambda v: v if isinstance(
    v, str) and v.startswith("LOSS") else "")
def test_without_the_change_the_fix_is_offered_and_exact(code, body, args, original, old_fix):
    lines = [line for line in body.splitlines() if "# the change" not in line]
    source = _source("\n".join(lines), "z, y" if len(args) == 2 else "z")
    assert fix(source, unsafe=code == "LOSS202") != source
    _same(source, *args)


# ----- shapes and dtypes: the with-logits losses do not broadcast or promote as the formulas do ---------------
BCE = "p = torch.sigmoid(z)\nreturn -(y * torch.log(p) + (1 - y) * torch.log(1 - p))"
CE = "p = F.softmax(z, dim=1)\nreturn -(y * torch.log(p)).sum(1)"
LOGITS = torch.tensor([[-1.0, 0.5, 2.0, 0.0, 1.0], [0.3, -2.0, 1.0, 0.5, -0.5], [1.0, 1.0, 0.0, -1.0, 2.0],
                       [0.0, 0.1, 0.2, 0.3, 0.4]])
LABELS = torch.tensor([[0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 1]])


@pytest.mark.parametrize("formula, z, y, loss, error", [
    # logits (4, 1), targets (4,): the formula gives a (4, 4) loss
    (BCE, LOGITS[:, :1], LABELS[0, :4].float(), F.binary_cross_entropy_with_logits, "Target size"),
    # one soft label of shape (5,) shared by logits (4, 5)
    (CE, LOGITS, LABELS[0].float().softmax(0), F.cross_entropy, "batch_size"),
    # int64 targets: the formula promotes them
    (BCE, LOGITS, LABELS, F.binary_cross_entropy_with_logits, "result type Float can't be cast to"),
    (CE, LOGITS, LABELS, F.cross_entropy, "Expected floating point type for target with class probabilities"),
], ids=["bce-broadcast", "ce-shared-label", "bce-int64", "ce-int64"])
def test_the_fix_broadcasts_and_promotes_as_the_formula(formula, z, y, loss, error):
    source = _source(formula, "z, y")
    with pytest.raises((RuntimeError, ValueError), match=error):  # what the old fix called, on these inputs
        loss(z, y, reduction="none")
    assert "with_logits" not in fix(source) and "cross_entropy" not in fix(source)
    _same(source, z, y)


def test_float16_targets_keep_the_float32_loss():
    z, y = LOGITS, LABELS.half()
    assert F.binary_cross_entropy_with_logits(z, y, reduction="none").dtype == torch.float16  # the old fix
    source = _source(BCE, "z, y")
    assert _run(source, z, y).dtype == torch.float32
    _same(source, z, y)
    known = _source("z = z.float()\ny = y.half().view_as(z)\n" + BCE, "z, y")  # dtypes and shapes in the code
    assert "binary_cross_entropy_with_logits(z, y.float()" in fix(known)
    _same(known, z, y)


@pytest.mark.parametrize("formula, preamble, z, y, written", [
    (BCE, "y = y.type_as(z).view_as(z)", LOGITS, LABELS.float(), "F.binary_cross_entropy_with_logits(z, y,"),
    (BCE, "y = y.long().view_as(z)", LOGITS, LABELS, "F.binary_cross_entropy_with_logits(z, y.to(z.dtype),"),
    (BCE, "assert z.shape == y.shape\ny = y.double()", LOGITS, LABELS, "F.binary_cross_entropy_with_logits(z, y,"),
    (CE, "y = y.type_as(z).view_as(z)", LOGITS, LABELS.float(), "F.cross_entropy(z, y,"),
    (CE, "y = y.long().view_as(z)", LOGITS, LABELS, "F.cross_entropy(z, y.to(z.dtype),"),
    (CE, "z = z.double()\ny = y.long().view_as(z)", LOGITS, LABELS, "F.cross_entropy(z, y.double(),"),
], ids=["bce-type-as", "bce-int64", "bce-asserted-float64", "ce-type-as", "ce-int64", "ce-int64-float64-logits"])
def test_the_with_logits_loss_where_the_code_shows_shapes_and_dtypes(formula, preamble, z, y, written):
    source = _source(preamble + "\n" + formula, "z, y")
    assert written in fix(source)
    _same(source, z, y)


def test_tensorflow_labels_that_broadcast_keep_the_formula():
    tf = pytest.importorskip("tensorflow")
    source = ("import tensorflow as tf\n\n\ndef f(z, y):\n    p = tf.sigmoid(z)\n"
              "    return -(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))\n")
    z, y = tf.constant([[-1.0], [0.5], [2.0], [0.0]]), tf.constant([0.0, 1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="must have the same shape"):  # the old fix
        tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z)
    fixed = fix(source)
    assert "log_sigmoid" in fixed
    namespace: dict = {}
    exec(compile(source, "<original>", "exec"), namespace)  # noqa: S102 - the test's own code
    want = namespace["f"](z, y)
    exec(compile(fixed, "<fixed>", "exec"), namespace)  # noqa: S102
    got = namespace["f"](z, y)
    assert got.shape == want.shape == (4, 4) and got.dtype == want.dtype
    assert float(tf.reduce_max(tf.abs(got - want))) < 1e-6


# ----- integer inputs: exp, sigmoid and log promote them to float; softplus, logsigmoid, softmax raise --------
@pytest.mark.parametrize("code, body", [
    ("LOSS103", "return torch.log(torch.sigmoid(z))"),  # F.logsigmoid: "log_sigmoid_cpu" not implemented for 'Long'
    ("LOSS104", "p = torch.sigmoid(z)\nreturn -(y * torch.log(p) + (1 - y) * torch.log(1 - p))"),
    ("LOSS108", "return torch.log(torch.exp(z) + torch.exp(2 * z))"),  # torch.logaddexp of two int64 tensors
    ("LOSS109", "return torch.log(1 + torch.exp(z))"),  # F.softplus: "softplus_cpu" not implemented for 'Long'
    ("LOSS110", "e = torch.exp(z)\nreturn e / e.sum(1, keepdim=True)"),  # torch.softmax of int64 raises
    ("LOSS112", "return torch.log(torch.cosh(z))"),
], ids=lambda v: v if isinstance(v, str) and v.startswith("LOSS") else "")
def test_integer_inputs_get_no_fix_that_raises_on_them(code, body):
    source = _source("z = z.long()\n" + body, "z, y")
    args = (torch.tensor([[1, 2, 3]]), torch.tensor([[0.0, 1.0, 1.0]]))
    assert code in {f.code for f in check(source)}
    _same(source, *args)
    floating = source.replace("z = z.long()", "z = z.float()")
    assert fix(floating) != floating  # the same code on floats is fixed

"""Regression tests for the division and root fixes (issue 13), run with real torch: each quotes the numbers the
old fix got wrong."""

from __future__ import annotations

import pytest

from helpers import fix

torch = pytest.importorskip("torch")


def _run(source: str, name: str, *args):
    namespace: dict = {}
    exec(compile(source, "<fixed>", "exec"), namespace)  # noqa: S102 - the fixture is our own code
    return namespace[name](*args)


def test_mean_of_a_selection_does_not_overflow_in_float16():
    source = "import torch\n\ndef f(x, m):\n    return x[m > 0].mean()\n"
    fixed = fix(source)
    assert fixed != source
    x = torch.full((1000,), 100.0, dtype=torch.float16)
    m = torch.ones(1000, dtype=torch.bool)
    assert float(_run(source, "f", x, m)) == 100.0
    assert float(_run(fixed, "f", x, m)) == 100.0  # x[m].sum() / max(x[m].numel(), 1) gave inf here
    assert float(_run(fixed, "f", x, torch.zeros(1000, dtype=torch.bool))) == 0.0  # and 0, not NaN, when empty


@pytest.mark.parametrize("divisor", ["lengths.sum()", "(mask > 0).sum()", "attention.bool().sum()"])
def test_integer_and_bool_divisors_are_clamped_to_one(divisor):
    source = f"import torch\n\ndef f(x, lengths, mask, attention):\n    return x.sum() / {divisor}\n"
    fixed = fix(source, unsafe=True)
    assert "finfo" not in fixed  # torch.finfo() of an integer or bool dtype raises TypeError
    ints = torch.tensor([0, 0, 0])
    if "clamp_min(1)" in fixed:
        assert torch.isfinite(_run(fixed, "f", torch.ones(3), ints, ints, ints))


def test_a_sum_of_unknown_dtype_gets_no_finfo_guard():
    source = "import torch\n\ndef f(x, w):\n    return x / w.abs().sum()\n"
    assert "finfo" not in fix(source, unsafe=True)  # w may be an integer tensor
    source = "import torch\n\ndef f(x, w):\n    return x / w.float().abs().sum()\n"
    fixed = fix(source, unsafe=True)
    assert "clamp_min(torch.finfo(" in fixed
    assert torch.isfinite(_run(fixed, "f", torch.ones(3), torch.zeros(3))).all()


def test_the_eps_under_a_square_root_survives_float16():
    source = ("import torch\n\ndef f(x):\n    v = x.half().var(dim=0)\n    return torch.sqrt(v)\n\n"
              "def step(x):\n    f(x).sum().backward()\n")  # the file takes gradients
    fixed = fix(source, unsafe=True)
    assert "1e-12" not in fixed  # 1e-12 is 0 in float16: sqrt(0 + 1e-12) still has an infinite gradient
    x = torch.ones(4, 3, requires_grad=True)
    _run(fixed, "f", x).sum().backward()
    assert torch.isfinite(x.grad).all()

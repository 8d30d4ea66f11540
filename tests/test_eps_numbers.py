"""The numbers behind the eps, masking and TensorFlow 1 rules: regression tests for fixes that broke working code
(issue 13) and for the failures the findings describe, run in the real framework where that makes the point."""

from __future__ import annotations

import os

import pytest

from helpers import check, fix

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _run(source: str, name: str, *args):
    namespace: dict = {}
    exec(compile(source, "<fixed>", "exec"), namespace)
    return namespace[name](*args)


def test_an_eps_moved_into_a_float16_log_is_one_float16_can_hold():
    torch = pytest.importorskip("torch")
    # 1e-12 is 0 in float16: log(p + 1e-12) is still -inf at p = 0, so the fix must not write it there.
    assert (torch.tensor(0.0, dtype=torch.float16) + 1e-12).item() == 0.0
    source = ("import torch\n\n\ndef nll(probs):\n    probs = probs.half()\n"
              "    return -(torch.log(probs) + 1e-12)\n")
    fixed = fix(source, unsafe=True)
    assert "torch.log(probs + torch.finfo(probs.dtype).eps)" in fixed
    value = _run(fixed, "nll", torch.tensor([0.0, 0.5]))
    assert torch.isfinite(value).all() and abs(value[1].item() - 0.693) < 1e-2
    # in float32 the written eps is kept: it is a normal number there
    assert "torch.log(probs + 1e-12)" in fix(source.replace("    probs = probs.half()\n", ""), unsafe=True)


def test_no_finfo_min_fill_where_a_temperature_divides_the_scores_after_it():
    torch = pytest.importorskip("torch")
    assert torch.isinf(torch.tensor(torch.finfo(torch.float32).min) / 0.05)  # the fill becomes -inf again
    source = ("import torch\nimport torch.nn.functional as F\n\n\n"
              "def attend(scores, mask, temperature=0.05):\n"
              "    scores = scores.masked_fill(mask, float('-inf'))\n"
              "    return F.softmax(scores / temperature, dim=-1)\n")
    (finding,) = [f for f in check(source) if f.code == "LOSS405"]
    assert finding.fix is None and "temperature" in finding.message
    assert fix(source, unsafe=True) == source


def test_a_configurable_fill_value_is_left_where_it_is_set():
    source = ("import torch\n\n\nclass Attention(torch.nn.Module):\n"
              "    def __init__(self, mask_value=float('-inf')):\n        super().__init__()\n"
              "        self.mask_value = mask_value\n\n    def forward(self, scores, mask):\n"
              "        return scores.masked_fill(mask, self.mask_value).softmax(-1)\n")
    (finding,) = [f for f in check(source) if f.code == "LOSS405"]
    assert finding.fix is None and "zero fully masked rows after it" not in finding.message
    assert fix(source, unsafe=True) == source


def test_the_finfo_min_fill_makes_a_fully_masked_row_uniform_not_zero():
    torch = pytest.importorskip("torch")
    source = ("import torch\nimport torch.nn.functional as F\n\n\n"
              "def attend(scores, mask):\n"
              "    return F.softmax(scores.masked_fill(mask, float('-inf')), dim=-1)\n")
    fixed = fix(source, unsafe=True)
    (finding,) = [f for f in check(source) if f.code == "LOSS405"]
    assert "uniform" in finding.message  # what the fix does, said as it is
    row = _run(fixed, "attend", torch.zeros(1, 4), torch.ones(1, 4, dtype=torch.bool))
    assert torch.allclose(row, torch.full((1, 4), 0.25))


def test_tf1_statement_is_migrated_whole_or_not_at_all():
    tf = pytest.importorskip("tensorflow")
    source = ("import tensorflow as tf\n\n\ndef rate(n, total):\n"
              "    return tf.div(tf.to_float(n), total)\n")
    assert not hasattr(tf, "div") and not hasattr(tf, "to_float")
    # the safe pass used to write tf.cast(n, tf.float32) beside tf.div, which still raises AttributeError
    assert fix(source) == source
    fixed = fix(source, unsafe=True)
    assert "tf.div" not in fixed and "tf.to_float" not in fixed
    assert float(_run(fixed, "rate", tf.constant(3), tf.constant(4.0))) == 0.75


def test_float16_adam_with_its_default_eps_turns_a_weight_inf():
    torch = pytest.importorskip("torch")

    def stepped(dtype, **options):
        weight = torch.nn.Parameter(torch.ones(3, dtype=dtype))
        optimizer = torch.optim.Adam([weight], lr=1e-3, **options)
        weight.grad = torch.full((3,), 1e-4, dtype=dtype)
        optimizer.step()
        return weight.detach()

    assert torch.isinf(stepped(torch.float16)).all()  # v = 0.001 * 1e-8 and eps = 1e-8 are both 0 in float16
    assert torch.allclose(stepped(torch.float16, eps=1e-4).float(), stepped(torch.float32), atol=1e-3)
    source = ("import torch\n\n\ndef train(model, loader):\n    model = model.half()\n"
              "    optimizer = torch.optim.Adam(model.parameters())\n    for x in loader:\n"
              "        model(x).sum().backward()\n        optimizer.step()\n")
    assert [f.code for f in check(source) if f.code == "LOSS406"] == ["LOSS406"]
    assert not [f for f in check(source.replace("model.parameters())", "model.parameters(), eps=1e-4)"))
                if f.code == "LOSS406"]

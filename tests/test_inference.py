"""Value and dtype inference: one file alone, and across two modules of a project (through astroid)."""

from __future__ import annotations

import ast
import sys

import pytest

from lossling.semantic import inference
from lossling.semantic.module import Module


def _module(text: str, path: str = "<stdin>") -> Module:
    return Module(ast.parse(text), text, path)


def _values(module: Module) -> dict[str, float | None]:
    """The inferred value of every returned expression, keyed by its source text."""
    return {module.text(n.value): inference.value(module, n.value) for n in module.nodes(ast.Return)}


def test_values_in_one_file():
    module = _module(
        "EPS = 1e-8\n"
        "class cfg:\n"
        "    lr = 0.1\n"
        "class Loss:\n"
        "    def __init__(self, eps=1e-9):\n"
        "        self.eps = eps\n"
        "    def forward(self):\n"
        "        return 1 - self.eps\n"
        "def positional(eps=1e-10):\n"
        "    return eps\n"
        "def keyword_only(*, tiny=2e-12):\n"
        "    return tiny\n"
        "def arithmetic():\n"
        "    return EPS * 2\n"
        "def class_attribute():\n"
        "    return cfg.lr\n"
        "def rebound(eps=1e-8):\n"
        "    eps = eps * 10\n"
        "    return eps\n"
        "def unknown(x):\n"
        "    return x.eps\n"
    )
    values = [inference.value(module, n.value) for n in module.nodes(ast.Return)]
    # rebound: data flow follows eps to its new value, 1e-8 * 10
    assert values == [1 - 1e-9, 1e-10, 2e-12, 2e-8, 0.1, pytest.approx(1e-7), None]


@pytest.fixture
def project(tmp_path):
    package = tmp_path / "proj"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "config.py").write_text("EPS = 1e-8\nLR = 0.1\nclass Train:\n    lr = 3e-4\n")
    source = (
        "from .config import EPS\n"
        "from proj.config import LR\n"
        "from . import config\n"
        "from .config import Train as cfg\n"
        "def a():\n    return EPS\n"
        "def b():\n    return LR\n"
        "def c():\n    return config.EPS\n"
        "def d():\n    return cfg.lr\n"
        "def e():\n    return 1 - EPS\n"
    )
    loss = package / "loss.py"
    loss.write_text(source)
    return loss


def test_values_across_two_modules(project):
    assert str(project.parent.parent) not in sys.path  # astroid must find the sibling module by itself
    module = _module(project.read_text(), str(project))
    assert _values(module) == {"EPS": 1e-8, "LR": 0.1, "config.EPS": 1e-8, "cfg.lr": 3e-4, "1 - EPS": 1 - 1e-8}


def test_astroid_is_lazy(project):
    module = _module("import torch\nEPS = 1e-8\ndef f(p, eps=1e-8):\n    return p.clamp(eps, 1 - EPS)\n",
                     str(project))
    for node in module.nodes(ast.Name):
        inference.value(module, node)
    assert module not in inference._BUILT  # same-file values never build an astroid tree


@pytest.mark.parametrize("source,expected", [
    ("import torch\ndef f(p):\n    with torch.autocast('cuda'):\n        return p\n", "float16"),
    ("import torch\ndef f(p):\n    with torch.autocast('cpu'):\n        return p\n", "bfloat16"),
    ("import torch\ndef f(p):\n    with torch.autocast(device_type='cuda', dtype=torch.bfloat16):\n        return p\n",
     "bfloat16"),
    ("import torch\ndef f(p):\n    with torch.cuda.amp.autocast():\n        return p\n", "float16"),
    ("import torch\ndef f(p):\n    with torch.autocast('cuda', enabled=False):\n        return p\n", "float32"),
    ("import torch\ndef f(p):\n    q = p.half()\n    return p\n", "float16"),
    ("import torch\ndef f(p):\n    q = p.to(dtype=torch.bfloat16)\n    return p\n", "bfloat16"),
    ("import torch\ndef f(p):\n    return p\ndef g(p):\n    return p.half()\n", "float32"),
    ("import torch\nscaler = torch.cuda.amp.GradScaler()\ndef f(p):\n    return p\n", "float16"),
    ("import tensorflow as tf\ntf.keras.mixed_precision.set_global_policy('mixed_float16')\n"
     "def f(p):\n    return p\n", "float16"),
    ("from keras import mixed_precision\nmixed_precision.set_global_policy('mixed_bfloat16')\n"
     "def f(p):\n    return p\n", "bfloat16"),
    ("import torch\ndef f(p):\n    return p\n", "float32"),
])
def test_dtype(source, expected):
    module = _module(source)
    first_return = module.nodes(ast.Return)[0]
    assert inference.dtype(module, first_return.value) == expected


def test_two_projects_with_the_same_module_names(tmp_path):
    values = []
    for name, eps in (("one", "1e-8"), ("two", "1e-6")):
        package = tmp_path / name / "proj"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "config.py").write_text(f"EPS = {eps}\n")
        loss = package / "loss.py"
        loss.write_text("from proj.config import EPS\ndef f():\n    return EPS\n")
        values.append(_values(_module(loss.read_text(), str(loss)))["EPS"])
    assert values == [1e-8, 1e-6]


def test_eps_value_comes_from_facts_not_names():
    module = _module(
        "import torch\n"
        "from tensorflow import keras\n"
        "def default(p, smooth=1e-9):\n    return smooth\n"
        "def passed(p, anything):\n    return anything\n"
        "def caller(p):\n    return passed(p, 1e-10)\n"
        "def finfo(p):\n    return torch.finfo(torch.float16).eps\n"
        "def keras_fuzz():\n    return keras.backend.epsilon()\n"
        "def named_but_unknown(p, eps):\n    return eps\n"
        "def named_but_large(p, eps=0.5):\n    return eps\n"
        "def unnamed(p, v0=1e-12):\n    return v0\n"
    )
    found = {module.text(n.value): inference.eps_value(module, n.value) for n in module.nodes(ast.Return)
             if module.function(n).name != "caller"}
    assert found == {"smooth": 1e-9, "anything": 1e-10, "torch.finfo(torch.float16).eps": 2.0 ** -10,
                     "keras.backend.epsilon()": 1e-7, "eps": None, "v0": 1e-12}


@pytest.mark.parametrize("eps, kind, dtype, expected", [
    (2.0 ** -25, "one_minus", "float32", True), (1e-7, "one_minus", "float32", False),
    (5e-8, "one_plus", "float32", True),  # 1 + eps is exactly 1.0 below 2**-24 (5.96e-8), 1 - eps below 2**-25
    (6.1e-8, "one_plus", "float32", False), (1e-4, "one_plus", "float16", True), (1e-3, "one_plus", "float16", False),
    (1e-3, "one_minus", "bfloat16", True),
])
def test_absorbed_by_the_dtype(eps, kind, dtype, expected):
    assert inference.absorbed(eps, dtype, kind) is expected


def test_absorbed_matches_torch():
    torch = pytest.importorskip("torch")
    for eps in (1e-8, 5e-8, 6.1e-8, 1e-7):
        one = torch.tensor(1.0)
        assert bool((eps + 1) - one == 0) is inference.absorbed(eps, "float32", "one_plus")
        assert bool(torch.clamp(one, max=1 - eps) == 1) is inference.absorbed(eps, "float32", "one_minus")

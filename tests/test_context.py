"""Where code runs: test code by the runners' layouts and classes, and files that train."""

from __future__ import annotations

import ast

import pytest

from lossling.semantic import context
from lossling.semantic.module import Module


def _module(text: str, path: str = "lib/code.py") -> Module:
    return Module(ast.parse(text), text, path)


@pytest.mark.parametrize("path, expected", [
    ("pkg/test_losses.py", True), ("pkg/losses_test.py", True), ("conftest.py", True), ("tests/helpers.py", True),
    ("pkg/losses.py", False), ("pkg/testing_utils.py", False), ("<stdin>", False),
])
def test_test_files_by_layout(path, expected):
    assert context.test_file(path) is expected


def test_where_a_checkout_lies_says_nothing(tmp_path):
    project = tmp_path / "tests" / "project"
    project.mkdir(parents=True)
    assert not context.test_file(str(project / "losses.py"))  # "tests" is above the project, not a package of it
    package = project / "pkg" / "tests"
    package.mkdir(parents=True)
    for folder in (project / "pkg", package):
        (folder / "__init__.py").write_text("")
    assert context.test_file(str(package / "helpers.py"))


def test_test_classes_and_pytest_functions():
    module = _module("import unittest\nimport pytest\n"
                     "class T(unittest.TestCase):\n    def check(self):\n        a = 1\n"
                     "@pytest.mark.parametrize('x', [1])\ndef f(x):\n    b = 2\n"
                     "def g():\n    c = 3\n")
    found = {n.targets[0].id: context.in_test(module, n) for n in module.nodes(ast.Assign)}
    assert found == {"a": True, "b": True, "c": False}


@pytest.mark.parametrize("source, expected", [
    ("import torch\ndef f(loss):\n    loss.backward()\n", True),
    ("import torch\ndef f(m):\n    opt = torch.optim.Adam(m.parameters())\n    opt.step()\n", True),
    ("from tensorflow import keras\ndef f(x, y):\n    m = keras.Sequential([])\n    m.fit(x, y)\n", True),
    ("import tensorflow as tf\ndef f():\n    with tf.GradientTape() as tape:\n        pass\n", True),
    ("import jax\ndef f(loss):\n    return jax.grad(loss)\n", True),
    ("import optax\nOPTIMIZERS = {'adam': optax.adam(1.0)}\n", False),
    ("import torch\ndef f(vectorizer, texts):\n    vectorizer.fit(texts)\n", False),
    ("import torch\ndef make(m):\n    return torch.optim.Adam(m.parameters(), lr=0.1)\n", False),
    ("import unittest\nclass T(unittest.TestCase):\n    def test(self):\n        self.loss.backward()\n", False),
])
def test_a_file_trains(source, expected):
    assert context.trains(_module(source)) is expected

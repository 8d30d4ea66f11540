"""Where code runs: test code, and code that trains. Rules whose findings only matter in one of these ask here.

* ``in_test(module, node)``: the file is a test file by the layouts test runners collect (``test_*.py``,
  ``*_test.py``, ``conftest.py``, a ``tests``/``test`` folder), or ``node`` sits in a ``unittest``/``absltest``
  ``TestCase`` class or in a function that uses pytest's decorators (``@pytest.mark...``, ``@pytest.fixture``).
  The layouts are the runners' own rules for finding tests, not guesses from names.
* ``differentiated(module, node)``: a gradient is taken through ``node``'s value: it carries one (a model's
  parameters or output, ``requires_grad``), it sits in a model, layer or loss class, the file defines one, or the
  file trains. Gradient hazards (LOSS203, LOSS205) report only there: a free function in a file with none of
  these (a metric, a geometry or signal-processing utility) shows no sign of being differentiated.
* ``trains(module)``: the file trains something outside its test code: a backward pass (``loss.backward()``),
  an optimizer step (``optimizer.step()``, ``apply_gradients``, ``minimize``, ``optax.apply_updates``), Keras
  ``fit``/``train_on_batch`` or ``compile(optimizer=...)`` on a framework model, a ``tf.GradientTape``, or
  ``jax.grad``/``jax.value_and_grad``. The training heuristics (LOSS5xx, LOSS406) report only there.
"""

from __future__ import annotations

import ast
import os
import weakref

from . import apis
from .module import Module

_TEST_FOLDERS = frozenset({"tests", "test"})
_TEST_CASES = ("unittest.TestCase", "unittest.case.TestCase", "absl.testing.absltest.TestCase",
               "absl.testing.parameterized.TestCase", "tensorflow.test.TestCase", "torch.testing._internal")
_STEPS = frozenset({"backward", "apply_gradients", "minimize", "train_on_batch"})
_KERAS_TRAINING = frozenset({"fit", "fit_generator", "compile"})
_TRAINING_CALLS = frozenset({"tensorflow.GradientTape", "jax.grad", "jax.value_and_grad", "optax.apply_updates",
                             "tensorflow.keras.Model.fit"})
_TRAINS: "weakref.WeakKeyDictionary[Module, bool]" = weakref.WeakKeyDictionary()


def test_file(path: str) -> bool:
    """A file the test runners collect as tests (pytest's and unittest's default patterns) or keep beside them
    (``conftest.py``, a file in a ``tests``/``test`` folder, directly or through the packages it is in: where
    a checkout lies says nothing)."""
    if path in ("<stdin>", "-", ""):
        return False
    folder, name = os.path.split(os.path.abspath(path))
    if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
        return True
    while True:
        folder, part = os.path.split(folder)
        if part in _TEST_FOLDERS:
            return True
        if not part or not os.path.isfile(os.path.join(folder, part, "__init__.py")):
            return False


def in_test(module: Module, node: ast.AST) -> bool:
    """Whether ``node`` is test code: in a test file, a ``TestCase`` class or a pytest-decorated function."""
    if test_file(module.path):
        return True
    for ancestor in module.ancestors(node):
        if isinstance(ancestor, ast.ClassDef) and any(
                (module.qualname(base) or "").startswith(_TEST_CASES) for base in ancestor.bases):
            return True
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                (module.qualname(d.func if isinstance(d, ast.Call) else d) or "").startswith("pytest.")
                for d in ancestor.decorator_list):
            return True
    return False


def differentiated(module: Module, node: ast.AST) -> bool:
    """Whether the code shows that a gradient is taken through ``node`` (see the module docstring)."""
    facts = module.facts
    if not facts.gradient(node) or in_test(module, node):
        return False
    return bool(facts.value(node).grad) or facts.model_code(node) or facts.defines_models() or trains(module)


def trains(module: Module) -> bool:
    """Whether the file trains a model in code that is not a test (see the module docstring)."""
    if module not in _TRAINS:
        _TRAINS[module] = not test_file(module.path) and any(
            _training_call(module, call) and not in_test(module, call) for call in module.nodes(ast.Call))
    return _TRAINS[module]


def _training_call(module: Module, call: ast.Call) -> bool:
    func = call.func
    qualname = module.qualname(func)
    if qualname is not None:
        return qualname in _TRAINING_CALLS
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr in _STEPS:
        return True
    if func.attr == "step" and not call.args:
        return _optimizer(module, func.value)
    if func.attr == "update" and len(call.args) >= 2:
        return _optimizer(module, func.value)  # optax: updates, state = opt.update(grads, state)
    if func.attr in _KERAS_TRAINING:
        if func.attr == "compile" and not any(k.arg == "optimizer" for k in call.keywords):
            return False
        return module.facts.value(func.value).kind in ("keras", "tf") or _framework_model(module, func.value)
    return False


def _optimizer(module: Module, node: ast.AST) -> bool:
    """``node`` holds an optimizer the file builds (``torch.optim.Adam(...)``, ``optax.adam(...)``)."""
    target = module.resolve(node)
    if isinstance(target, ast.Call):
        qualname = module.qualname(target.func) or ""
        return qualname in apis.OPTIMIZERS or qualname.startswith(("torch.optim.", "optax."))
    return False


def _framework_model(module: Module, node: ast.AST) -> bool:
    """``node`` holds a Keras model the file builds (``keras.Sequential(...)``, ``keras.Model(...)``, an
    instance of a ``keras.Model`` subclass), or a Lightning trainer."""
    target = module.resolve(node)
    if not isinstance(target, ast.Call):
        return False
    qualname = module.qualname(target.func) or ""
    if qualname.partition(".")[0] in ("keras", "tensorflow", "pytorch_lightning", "lightning"):
        return True
    if isinstance(target.func, ast.Name):
        d = module.facts.unique(target.func)
        if d is not None and isinstance(d.node, ast.ClassDef):
            return any((module.qualname(b) or "").partition(".")[0] in ("keras", "tensorflow")
                       for b in d.node.bases)
    return False

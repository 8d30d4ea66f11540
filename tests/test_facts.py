"""The value analysis (lossling/semantic/facts.py) and the helpers it shares with the rules, one test per fact."""

from __future__ import annotations

import ast
import textwrap

import pytest

from lossling.semantic import dataflow
from lossling.semantic.module import Module
from lossling.semantic.values import Zero, rounded


def module_of(text: str) -> Module:
    return Module(ast.parse(text), text)


def returned(module: Module, function: str = "f") -> ast.expr:
    """The expression the last ``return`` of ``function`` returns."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return [n for n in ast.walk(node) if isinstance(n, ast.Return)][-1].value  # type: ignore[return-value]
    raise AssertionError(function)


@pytest.mark.parametrize("expression, op, left, right", [
    ("a + b", ast.Add, "a", "b"),
    ("a.add(b)", ast.Add, "a", "b"),
    ("torch.add(a, b)", ast.Add, "a", "b"),
    ("torch.add(input=a, other=b)", ast.Add, "a", "b"),
    ("a.sub(b)", ast.Sub, "a", "b"),
    ("torch.rsub(a, b)", ast.Sub, "b", "a"),
    ("a.mul(b)", ast.Mult, "a", "b"),
    ("torch.multiply(a, b)", ast.Mult, "a", "b"),
    ("a.div(b)", ast.Div, "a", "b"),
    ("a.true_divide(b)", ast.Div, "a", "b"),
    ("a.pow(2)", ast.Pow, "a", "2"),
    ("a.neg()", ast.USub, "a", None),
    ("-a", ast.USub, "a", None),
    ("tf.math.subtract(a, b)", ast.Sub, "a", "b"),
    ("tf.add(a, b, name='s')", ast.Add, "a", "b"),
    ("keras.ops.multiply(a, b)", ast.Mult, "a", "b"),
    ("jnp.add(a, b)", ast.Add, "a", "b"),
])
def test_arithmetic_in_any_spelling(expression, op, left, right):
    module = module_of(f"import torch\nimport tensorflow as tf\nimport keras\nimport jax.numpy as jnp\n\n\n"
                       f"def f(a, b):\n    return {expression}\n")
    found = module.arith(returned(module))
    assert found is not None and found.op is op and not found.inplace
    assert module.text(found.left) == left
    assert (found.right is None and right is None) or module.text(found.right) == right


@pytest.mark.parametrize("expression", [
    "torch.add(a, b, alpha=2)", "a.div(b, rounding_mode='floor')", "torch.add(a, b, out=a)", "torch.log(a)",
    "a.add(*b)",
])
def test_calls_that_are_more_than_an_operator(expression):
    module = module_of(f"import torch\n\n\ndef f(a, b):\n    return {expression}\n")
    assert module.arith(returned(module)) is None


def test_in_place_arithmetic_is_marked():
    module = module_of("import torch\n\n\ndef f(a):\n    return a.add_(1)\n")
    found = module.arith(returned(module))
    assert found is not None and found.op is ast.Add and found.inplace


def test_a_sets_add_is_not_arithmetic():
    module = module_of("import torch\n\n\ndef f(xs):\n    seen = set()\n    for x in xs:\n        seen.add(x)\n"
                       "    return seen\n")
    call = next(n for n in ast.walk(module.tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "add")
    assert module.arith(call) is None
    assert not module.facts.value(returned(module)).tensor


def test_call_form_arithmetic_has_the_operators_value():
    module = module_of("import torch\n\n\ndef f(x):\n    p = torch.sigmoid(x)\n    return p.add(1e-3).mul(2)\n")
    value = module.facts.value(returned(module))
    assert value.zero is Zero.NEVER and value.lo == pytest.approx(2e-3) and value.hi == pytest.approx(2.002)


def test_in_place_add_of_a_positive_constant_guards():
    module = module_of("import torch\n\n\ndef f(p):\n    p = p.clone()\n    p.add_(1e-8)\n    return p\n")
    assert module.facts.guarded(returned(module))


def test_in_place_multiplication_does_not_guard():
    module = module_of("import torch\n\n\ndef f(p):\n    p = p.clone()\n    p.mul_(2.0)\n    return p\n")
    assert not module.facts.guarded(returned(module))


# ----- data flow, kinds, dtypes, ranges, roles, gradients (the lead's core tests) ------------------------------
def _module(source: str, path: str = "snippet.py") -> Module:
    text = textwrap.dedent(source)
    return Module(ast.parse(text), text, path)


def value_of(source: str, marker: str = "out"):
    """The value of the last ``return`` expression (or the last load of ``marker``) in the snippet."""
    module = _module(source)
    returns = module.nodes(ast.Return)
    return module.facts.value(returns[-1].value), module


# ----- data flow ----------------------------------------------------------------------------------------------
def _reaching(source: str, name: str, line: int) -> list[str]:
    module = _module(source)
    loads = [n for n in module.nodes(ast.Name) if n.id == name and n.lineno == line and isinstance(n.ctx, ast.Load)]
    return sorted(f"{d.kind}@{getattr(d.node, 'lineno', 0)}" for d in module.facts.definitions(loads[0]))


def test_reassignment_reaches_the_use():
    assert _reaching("def f(x):\n    y = x\n    y = y + 1\n    return y\n", "y", 4) == ["assign@3"]


def test_if_else_joins_both_branches():
    assert _reaching("def f(x, c):\n    if c:\n        y = 1\n    else:\n        y = 2\n    return y\n", "y", 6) == [
        "assign@3", "assign@5"]


def test_loop_back_edge_and_zero_iterations():
    source = "def f(xs):\n    t = 0\n    for x in xs:\n        t = t + x\n    return t\n"
    assert _reaching(source, "t", 5) == ["assign@2", "assign@4"]
    assert _reaching(source, "t", 4) == ["assign@2", "assign@4"]


def test_early_return_and_break():
    assert _reaching("def f(x):\n    y = 1\n    if x:\n        y = 2\n        return y\n    return y\n", "y", 6) == [
        "assign@2"]
    source = "def f(xs):\n    y = 0\n    for x in xs:\n        y = 1\n        break\n    return y\n"
    assert _reaching(source, "y", 6) == ["assign@2", "assign@4"]


def test_unpacking_with_walrus_and_augmented_assignment():
    source = "def f(t):\n    a, b = t\n    if (c := a):\n        c += 1\n    return b, c\n"
    assert _reaching(source, "b", 5) == ["unpack@2"]
    assert _reaching(source, "c", 5) == ["assign@3", "aug@4"]


def test_in_place_mutation_is_a_definition_and_reaches_aliases():
    source = "def f(z):\n    w = z\n    v = w.view(-1)\n    v.mul_(2)\n    return w\n"
    assert _reaching(source, "w", 5) == ["mutate@4"]
    source = "def f(z):\n    z[z == 0] = 1\n    torch.nn.init.zeros_(z)\n    return z\n"
    assert _reaching(source, "z", 4) == ["mutate@3"]


@pytest.mark.parametrize("call, mutated", [
    ("fill(acc[:n])", True),  # a function held in a local name fills a view of the buffer
    ("kernel[grid](acc[0:n], n)", True),  # a kernel launch
    ("torch.mm(a, b, out=acc)", True),
    ("fill(acc)", False),  # the name itself: a function of a local is not taken to write into its arguments
    ("torch.log(acc[:n])", False),  # a framework op
    ("acc[:n].sum()", False),
])
def test_a_view_handed_to_a_local_function_is_written_through(call, mutated):
    source = f"import torch\ndef f(fill, kernel, grid, a, b, n):\n    acc = torch.zeros(n)\n    {call}\n" \
             "    return acc\n"
    assert _reaching(source, "acc", 5) == (["mutate@4"] if mutated else ["assign@3"])
    module = _module(source)
    assert module.facts.value(returned(module)).zero is (Zero.UNKNOWN if mutated else Zero.EXACT)


def test_conditions_hold_after_an_early_exit_and_an_assert():
    module = _module("def f(n, m):\n    if n == 0:\n        return 0\n    assert m > 0\n    return n / m\n")
    ret = module.nodes(ast.Return)[-1]
    held = [(ast.unparse(t), p) for t, p in module.facts.conditions(ret.value)]
    assert held == [("n == 0", False), ("m > 0", True)]


def test_same_at_stops_at_in_place_change():
    module = _module("import torch\ndef f(z):\n    p = torch.softmax(z, 1)\n    z.mul_(2)\n    return torch.log(p)\n")
    softmax = module.nodes(ast.Assign)[0].value
    log = module.nodes(ast.Return)[0].value
    assert not module.facts.same_at(softmax, log)
    module = _module("import torch\ndef f(z):\n    p = torch.softmax(z, 1)\n    q = z * 2\n    return torch.log(p)\n")
    assert module.facts.same_at(module.nodes(ast.Assign)[0].value, module.nodes(ast.Return)[0].value)


@pytest.mark.parametrize("body, same", [
    # a loop: the softmax of the previous round is logged after z changed (equal definitions at both ends)
    ("out = []\nfor i in range(2):\n    if i:\n        out.append(torch.log(p))\n    p = torch.softmax(z, 1)\n"
     "    z = z * 2", False),
    ("for x in z:\n    w = x * 2\n    p = torch.softmax(w, 1)\n    out = torch.log(p)", True),  # same round
    ("for x in z:\n    w = x * 2\n    if c:\n        p = torch.softmax(w, 1)\n    out = torch.log(p)", False),
    ("p = torch.softmax(self.w, 1)\nself.w = self.w * 2\nout = torch.log(p)", False),  # an attribute
    ("p = torch.softmax(self.w, 1)\nself.w.data.mul_(2)\nout = torch.log(p)", False),
    ("p = torch.softmax(self.w, 1)\nself.v = 2\nout = torch.log(p)", True),
    ("w = z.view(-1)\np = torch.softmax(w, 0)\nz.mul_(2)\nout = torch.log(p)", False),  # w is z
    ("w = z.float()\np = torch.softmax(w, 0)\nz.mul_(2)\nout = torch.log(p)", False),  # float() may be z
    ("w = z.clone()\np = torch.softmax(w, 0)\nz.mul_(2)\nout = torch.log(p)", True),
    ("w = z if c else -z\np = torch.softmax(w / G, 0)\nout = torch.log(p)", True),  # a global, a join
    ("p = torch.softmax(w.add_(1), 0)\nout = torch.log(p)", False),  # would run the in-place add twice
])
def test_same_at_follows_loops_aliases_and_attributes(body, same):
    source = "import torch\nG = 2\ndef f(self, z, c, w):\n" + textwrap.indent(body, "    ") + "\n"
    module = _module(source)
    softmax = next(n for n in module.nodes(ast.Call) if ast.unparse(n.func) == "torch.softmax")
    log = next(n for n in module.nodes(ast.Call) if ast.unparse(n.func) == "torch.log")
    assert module.facts.same_at(softmax, log) is same


@pytest.mark.parametrize("body, same", [
    ("pass", False),  # two parameters: shapes unknown
    ("y = z", True),
    ("y = torch.zeros_like(z)", True),
    ("y = t.float().view_as(z)", True),
    ("y = t.reshape(z.shape)", True),
    ("y = t.view(z.size())", True),
    ("y = tf.reshape(t, tf.shape(z))", True),
    ("y = 1 - torch.sigmoid(z * 2)", True),  # elementwise, with numbers
    ("y = (z > 0).float()", True),
    ("y = F.softmax(z, dim=1).to(torch.float16)", True),
    ("assert z.shape == y.shape", True),
    ("if z.size() != y.size():\n    raise ValueError", True),
    ("if c:\n    y = z\nelse:\n    y = z * 2", True),
    ("if c:\n    y = z\nelse:\n    y = t", False),
    ("y = t.type_as(z)", False),  # only the dtype of z
    ("y = z + t", False),  # broadcasts
    ("y = z.clamp(t, 1)", False),
    ("y = z.sum(1)", False),
    ("y = z[0]", False),
    ("assert z.shape[0] == y.shape[0]", False),
])
def test_same_shape_by_construction_or_by_an_assert(body, same):
    source = ("import torch\nimport torch.nn.functional as F\nimport tensorflow as tf\ndef f(z, y, t, c):\n"
              + textwrap.indent(body, "    ") + "\n    return probe(z, y)\n")
    module = _module(source)
    probe = next(n for n in module.nodes(ast.Call) if ast.unparse(n.func) == "probe")
    assert module.facts.same_shape(*probe.args) is same


@pytest.mark.parametrize("body, same", [
    ("pass", False),
    ("y = t.type_as(z)", True),
    ("y = t.to(z.dtype).view_as(z)", True),
    ("y = torch.zeros_like(z)", True),
    ("y = torch.zeros_like(z, dtype=torch.long)", False),
    ("z = z.float()\ny = t.float()", True),  # both known
    ("z = z.float()\ny = t.half()", False),
    ("y = t.to(device)", False),  # a device, not a dtype
    ("y = torch.sigmoid(z)", False),  # float32 for an integer z
])
def test_same_dtype_known_or_by_construction(body, same):
    source = "import torch\ndef f(z, y, t, device):\n" + textwrap.indent(body, "    ") + "\n    return probe(z, y)\n"
    module = _module(source)
    probe = next(n for n in module.nodes(ast.Call) if ast.unparse(n.func) == "probe")
    assert module.facts.same_dtype(*probe.args) is same


def test_a_mutating_library_function_mutates_its_argument():
    assert dataflow.in_place("zeros_") and not dataflow.in_place("_private") and not dataflow.in_place("__call__")


# ----- kind ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("source,kind", [
    ("import torch\ndef f(x: torch.Tensor):\n    return x\n", "torch"),
    ("import torch\ndef f(s):\n    s.sigmoid()\n    return s\n", "torch"),  # a method only tensors have
    ("import torch\ndef f(s):\n    torch.log(1 - s)\n    return s\n", "torch"),  # torch ops take tensors only
    ("import numpy as np\ndef f(s):\n    np.log(s)\n    return s\n", None),  # NumPy takes floats too
    ("import numpy as np\ndef f(s: np.ndarray):\n    return s\n", "numpy"),
    ("import torch\ndef f(eps=1e-8):\n    return eps\n", "number"),
    ("import torch\ndef g(s):\n    return s\ndef h(z):\n    return g(torch.sigmoid(z))\n", "torch"),  # summary
    ("import torch\nclass M(torch.nn.Module):\n    def forward(self, x):\n        return self\n", "other"),
])
def test_kind(source, kind):
    assert value_of(source)[0].kind == kind


def test_call_site_evidence_reaches_a_parameter():
    module = _module("import torch\ndef g(s):\n    return s\ndef h(z):\n    return g(torch.sigmoid(z))\n")
    param = module.nodes(ast.Return)[0].value
    found = module.facts.value(param)
    assert found.kind == "torch" and found.role == "probs"


# ----- dtype --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("expression,dtype", [
    ("x.half()", "f16"), ("x.to(torch.bfloat16)", "bf16"), ("x.float()", "f32"), ("x > 0", "bool"),
    ("(x > 0).sum()", "int"), ("x.argmax(-1)", "int"), ("torch.randint(0, 3, (4,))", "int"),
    ("torch.zeros(3, dtype=torch.float64)", "f64"), ("x.long().float()", "f32"),
])
def test_dtype(expression, dtype):
    assert value_of(f"import torch\ndef f(x: torch.Tensor):\n    return {expression}\n")[0].dtype == dtype


# ----- range and zero ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("expression,zero", [
    ("torch.softmax(x, -1)", Zero.ROUNDING),  # positive in exact arithmetic, 0 in float32 for a gap of 104
    ("torch.exp(x)", Zero.ROUNDING),
    ("torch.exp(x.clamp(-10, 10))", Zero.NEVER),
    ("x.abs().sum()", Zero.DEGENERATE),
    ("(x > 0).sum()", Zero.EXACT),  # an empty mask
    ("(x >= x.max()).sum()", Zero.NEVER),  # the maximum is always counted
    ("x.norm()", Zero.DEGENERATE), ("x.std()", Zero.DEGENERATE),
    ("torch.rand(3, 4).norm()", Zero.NEVER),  # a random draw is 0 with probability 0
    ("x.abs().sum() + 1e-6", Zero.NEVER), ("x.clamp(min=1e-6)", Zero.NEVER),
    ("torch.ones_like(x).sum()", Zero.NEVER), ("x.shape[0]", Zero.NEVER), ("x[x > 0].numel()", Zero.EXACT),
    ("torch.softmax(x, -1).max(-1).values", Zero.NEVER),  # >= 1/n
    ("x.sum()", Zero.UNKNOWN),  # a signed sum: 0 only at special points
])
def test_zero(expression, zero):
    assert value_of(f"import torch\ndef f(x: torch.Tensor):\n    return {expression}\n")[0].zero is zero


def test_eps_absorbed_in_float32_bounds():
    found, _ = value_of("import torch\ndef f(p: torch.Tensor):\n    return 1 - p.clamp(1e-8, 1 - 1e-8)\n")
    assert found.lo == 0.0 and found.zero is Zero.EXACT  # 1 - 1e-8 is 1.0 in float32
    found, _ = value_of("import torch\ndef f(p: torch.Tensor):\n    return 1 - p.clamp(1e-6, 1 - 1e-6)\n")
    assert found.lo > 0 and found.zero is Zero.NEVER
    assert rounded(1e-8, "f16") == 0.0 and rounded(1 - 1e-8, "f32") == 1.0


def test_a_loop_accumulator_keeps_its_sign():
    found, _ = value_of("import torch\ndef f(hs):\n    t = torch.zeros(())\n    for h in hs:\n"
                        "        t = t + h.abs().sum()\n    return t\n")
    assert found.nonnegative and found.zero is Zero.EXACT  # no iteration: 0


@pytest.mark.parametrize("source,zero", [
    ("def f(n):\n    if n > 0:\n        return n\n    return 1\n", Zero.NEVER),
    ("def f(x):\n    return torch.where(x > 0, x, 1.0)\n", Zero.NEVER),
    ("def f(d):\n    d = d.abs().sum(-1)\n    d[d == 0] = 1\n    return d\n", Zero.NEVER),
    ("def f(p):\n    k = p != 0\n    return p[k]\n", Zero.NEVER),
])
def test_conditions_and_repairs_refine(source, zero):
    found, _ = value_of("import torch\n" + source)
    assert found.zero is zero


# ----- role and gradient --------------------------------------------------------------------------------------
@pytest.mark.parametrize("expression,role", [
    ("torch.softmax(x, -1)", "probs"), ("F.gumbel_softmax(x)", "probs"), ("torch.exp(F.log_softmax(x, -1))", "probs"),
    ("torch.exp(x) / torch.exp(x).sum(-1, keepdim=True)", "probs"), ("F.log_softmax(x, -1)", "logprobs"),
    ("x > 0", "mask"), ("(x > 0).sum()", "count"), ("x.argmax(-1)", "index"), ("F.one_hot(x.argmax(-1), 3)", "onehot"),
    ("F.cross_entropy(x, x.argmax(-1))", "loss"),
    # probabilities by any route: the complement, the observed class's, a selection, a hand-written softmax
    ("1 - x.sigmoid()", "probs"), ("torch.where(x > 0, x.sigmoid(), 1 - x.sigmoid())", "probs"),
    ("x.softmax(-1).gather(1, x.argmax(-1, keepdim=True))", "probs"), ("x.softmax(-1)[..., 0]", "probs"),
    ("x.exp().div(x.exp().sum(-1, keepdim=True))", "probs"), ("2 - x.sigmoid()", None),
])
def test_role(expression, role):
    source = f"import torch\nimport torch.nn.functional as F\ndef f(x: torch.Tensor):\n    return {expression}\n"
    assert value_of(source)[0].role == role


@pytest.mark.parametrize("source,flows", [
    ("def f(x: torch.Tensor):\n    return x.detach()\n", False),
    ("def f(x: torch.Tensor):\n    with torch.no_grad():\n        return x * 2\n", False),
    ("def f(x: torch.Tensor):\n    return x.long()\n", False),
    ("def f(x: torch.Tensor):\n    return torch.arange(3) * 1.0\n", False),
    ("class M(torchmetrics.Metric):\n    def update(self, x: torch.Tensor):\n        return x * 2\n", False),
    ("def f(x: torch.Tensor):\n    return x * 2\n", True),
])
def test_gradient(source, flows):
    module = _module("import torch\nimport torchmetrics\n" + source)
    assert module.facts.gradient(module.nodes(ast.Return)[-1].value) is flows


def test_repaired_and_tested():
    module = _module("import torch\ndef f(a, b: torch.Tensor):\n    r = a / b.norm()\n    r[r != r] = 0\n"
                     "    return r\n")
    division = next(n for n in module.nodes(ast.BinOp) if isinstance(n.op, ast.Div))
    assert module.facts.repaired(division)
    module = _module("import torch\ndef f(a, m: torch.Tensor):\n    n = m.sum()\n    if n.item() > 0:\n"
                     "        return a / n\n")
    division = next(n for n in module.nodes(ast.BinOp) if isinstance(n.op, ast.Div))
    assert module.facts.tested(division.right)
    module = _module("import torch\ndef f(a, m: torch.Tensor):\n    n = m.sum()\n    if m.dim() == 2:\n"
                     "        return a / n\n")
    division = next(n for n in module.nodes(ast.BinOp) if isinstance(n.op, ast.Div))
    assert not module.facts.tested(division.right)  # a test of the shape says nothing about the value
    module = _module("import torch\ndef f(a, m: torch.Tensor):\n    if m.shape[:-1] != a.shape[:-1]:\n"
                     "        raise ValueError\n    return a / m.sum()\n")
    division = next(n for n in module.nodes(ast.BinOp) if isinstance(n.op, ast.Div))
    assert not module.facts.tested(division.right)  # shapes compared with shapes
    module = _module("import torch\ndef f(a, m: torch.Tensor):\n    s = a[m > 0]\n    if len(s) > 0:\n"
                     "        return s.mean()\n")
    assert module.facts.tested(module.nodes(ast.Return)[0].value)  # a length against a number


def test_project_module_summaries(tmp_path):
    package = tmp_path / "proj"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "ops.py").write_text("import torch\nEPS = 1e-6\ndef act(z):\n    return torch.sigmoid(z)\n")
    source = "import torch\nfrom .ops import EPS, act\ndef f(x):\n    return act(x), EPS\n"
    (package / "loss.py").write_text(source)
    module = Module(ast.parse(source), source, str(package / "loss.py"))
    returned = module.nodes(ast.Return)[0].value
    assert module.facts.value(returned.elts[0]).role == "probs"
    assert module.facts.value(returned.elts[1]).lo == 1e-6
    assert str(package / "ops.py") in module.consulted


def _at(module: Module, line: int, kind: type = ast.BinOp) -> ast.AST:
    return next(n for n in module.nodes(kind) if n.lineno == line)


def test_a_value_does_not_depend_on_the_order_of_questions():
    # Reading ``probs`` asks which conditions hold at it; that walk passed ``(...).mean()`` and resolved the
    # method's receiver, the division still being evaluated, and cached the division as unknown.
    text = ("import torch\n"
            "def f(probs: torch.Tensor, target):\n"
            "    return (target / ((1 + 1e-10) - probs)).mean()\n")
    first = module_of(text)
    division = _at(first, 3)
    first.facts.value(division.right)
    fresh = module_of(text)
    assert first.facts.value(division).kind == fresh.facts.value(_at(fresh, 3)).kind == "torch"


def test_keras_epsilon_is_its_default_fuzz_factor():
    module = module_of("import keras\nfrom tensorflow.keras import backend as K\n"
                     "a = keras.config.epsilon()\nb = K.epsilon()\n")
    for line in (3, 4):
        value = module.facts.value(_at(module, line, ast.Call))
        assert (value.kind, value.lo, value.hi) == ("number", 1e-7, 1e-7)


# ----- exp, cosh and quotients: bounds that decide overflow ----------------------------------------------
@pytest.mark.parametrize("source, finite", [
    ("import torch\ndef f(x):\n    return torch.exp(torch.clamp(x, -50, 50))\n", True),
    ("import torch\ndef f(x):\n    return torch.exp(-torch.abs(x))\n", True),
    ("import torch\ndef f(x):\n    return torch.exp(torch.clamp(x, min=-50))\n", False),
    # float16 overflows above 11.09: a bound of 50 keeps float32's exp finite, not float16's
    ("import torch\ndef f(x):\n    return torch.exp(torch.clamp(x.half(), -50, 50))\n", False),
    ("import torch\ndef f(x):\n    return torch.exp(torch.clamp(x.half(), -50, 10))\n", True),
    ("import torch\ndef f(x):\n    return torch.exp(torch.clamp(x.double(), max=700))\n", True),
])
def test_exp_has_an_upper_bound_only_where_it_cannot_overflow_in_its_dtype(source, finite):
    assert (value_of(source)[0].hi is not None) is finite


@pytest.mark.parametrize("source, finite", [
    ("import torch\ndef f(x):\n    return torch.cosh(torch.clamp(x, -50, 50))\n", True),
    ("import torch\ndef f(x):\n    return torch.cosh(torch.tanh(x))\n", True),
    ("import torch\ndef f(x):\n    return torch.cosh(torch.clamp(x, max=50))\n", False),  # cosh(-1000) = inf
    ("import torch\ndef f(x):\n    return torch.cosh(x)\n", False),
])
def test_cosh_is_bounded_when_its_argument_is_bounded_on_both_sides(source, finite):
    value = value_of(source)[0]
    assert value.lo == 1.0 and (value.hi is not None) is finite


def test_a_nonpositive_value_over_a_nonnegative_one_is_nonpositive():
    # a Gaussian kernel's exponent: -0.5 * x**2 / sigma**2 is at most 0 whatever sigma is (or -inf/NaN at 0)
    value = value_of("import torch\ndef f(x, sigma):\n    return -0.5 * torch.square(x) / sigma ** 2\n")[0]
    assert value.hi == 0.0
    assert value_of("import torch\ndef f(x, s):\n    return -torch.abs(x) / s\n")[0].hi is None  # s may be < 0


# ----- minimised: a value that flows into a gradient step ------------------------------------------------------
def _marked(module: Module) -> ast.AST:
    """The expression of the line marked ``# <-``: an assignment's value, a return's value or an expression."""
    line = next(i for i, text in enumerate(module.lines, 1) if text.rstrip().endswith("# <-"))
    stmt = next(n for n in module.nodes(ast.Assign, ast.Return, ast.Expr, ast.AugAssign) if n.lineno == line)
    return stmt if isinstance(stmt, ast.AugAssign) else stmt.value  # type: ignore[attr-defined]


HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport tensorflow as tf\nimport jax\n\n"
MINIMISED = {
    "backward": "def f(a, b):\n    v = F.mse_loss(a, b)  # <-\n    v.backward()\n",
    "backward_of_a_sum": "def f(a, b, c):\n    v = F.mse_loss(a, b)  # <-\n    total = v + 0.5 * c\n"
                         "    total.mean().backward()\n",
    "augmented": "def f(a, b, c):\n    v = F.mse_loss(a, b)\n    v += c  # <-\n    v.backward()\n",
    "scaled": "def f(a, b, k=0.1):\n    v = F.mse_loss(a, b)  # <-\n    (k * v).backward()\n",
    "tape": "def f(model, x, y):\n    with tf.GradientTape() as tape:\n        v = tf.reduce_mean(model(x) - y)  # <-\n"
            "    return tape.gradient(v, model.trainable_variables)\n",
    "tf1_minimize": "def f(x, y):\n    v = tf.reduce_mean(tf.square(x - y))  # <-\n"
                    "    return tf.compat.v1.train.AdamOptimizer(0.1).minimize(v)\n",
    "returned_to_caller": "def g(a, b):\n    return F.mse_loss(a, b)  # <-\n\n\ndef f(a, b):\n    g(a, b).backward()\n",
    "passed_to_a_helper": "def step(v):\n    v.backward()\n\n\ndef f(a, b):\n    v = F.mse_loss(a, b)  # <-\n    step(v)\n",
    "jax_grad": "def g(p, x):\n    return (p * x).sum()  # <-\n\n\nstep = jax.grad(g)\n",
    "jax_has_aux": "def g(p, x):\n    v = (p * x).sum()  # <-\n    return v, x\n\n\n"
                   "step = jax.value_and_grad(g, has_aux=True)\n",
    "keras_compile": "def g(y_true, y_pred):\n    return tf.reduce_mean(y_true - y_pred)  # <-\n\n\n"
                     "def build(model):\n    model.compile(optimizer='adam', loss=g)\n",
    "loss_class": "class L(nn.Module):\n    def forward(self, a, b):\n        return (a - b).abs().mean()  # <-\n\n\n"
                  "def f(a, b):\n    crit = L()\n    v = crit(a, b)\n    v.backward()\n",
    "list_of_losses": "def f(a, b):\n    parts = []\n    v = F.mse_loss(a, b)  # <-\n    parts.append(v)\n"
                      "    torch.stack(parts).sum().backward()\n",
    "grad_scaler": "def f(a, b):\n    scaler = torch.amp.GradScaler()\n    v = F.mse_loss(a, b)  # <-\n"
                   "    scaler.scale(v).backward()\n",
}
NOT_MINIMISED = {
    "logged": "def f(a, b):\n    v = F.mse_loss(a, b)  # <-\n    print(v)\n",
    "named_like_a_loss": "def f(a, b):\n    loss = F.mse_loss(a, b)  # <-\n    return {'metric': loss}\n",
    "subtracted": "def f(a, b, c):\n    v = F.mse_loss(a, b)  # <-\n    (c - v).backward()\n",
    "negated": "def f(a, b):\n    v = F.mse_loss(a, b)  # <-\n    (-v).backward()\n",
    "factor_of_unknown_sign": "def f(a, b, w):\n    v = F.mse_loss(a, b)  # <-\n    (w * v).backward()\n",
    "returned_nowhere": "def g(a, b):\n    return F.mse_loss(a, b)  # <-\n",
    "under_a_reassignment": "def f(a, b):\n    v = F.mse_loss(a, b)  # <-\n    v = a.sum()\n    v.backward()\n",
    "aux_not_first": "def g(p, x):\n    v = (p * x).sum()  # <-\n    return x, v\n\n\n"
                     "step = jax.value_and_grad(g, has_aux=True)\n",
}


@pytest.mark.parametrize("text", MINIMISED.values(), ids=MINIMISED.keys())
def test_minimised(text):
    module = module_of(HEAD + text)
    assert module.facts.minimised(_marked(module))


@pytest.mark.parametrize("text", NOT_MINIMISED.values(), ids=NOT_MINIMISED.keys())
def test_not_minimised(text):
    module = module_of(HEAD + text)
    assert not module.facts.minimised(_marked(module))


def test_class_attribute_of_a_class_of_the_file():
    found, _ = value_of("class Config:\n    lr = 0.05\ndef f():\n    return Config.lr\n")
    assert found.lo == found.hi == 0.05


def test_instance_attribute_set_by_a_base_class_of_the_file():
    source = ("class A:\n    def __init__(self, eps: float = 1e-12):\n        self.eps = eps\n"
              "class B(A):\n    def f(self):\n        return self.eps\n")
    found, _ = value_of(source)
    assert found.lo == found.hi == 1e-12 and found.zero is Zero.NEVER
    found, _ = value_of(source.replace("class B(A)", "class B(object)"))
    assert found.lo is None


@pytest.mark.parametrize("bound, positive", [
    ("torch.finfo(p.dtype).tiny", True),  # positive in p's own dtype, whatever it is
    ("torch.finfo(p.dtype).eps", True),
    ("torch.finfo(q.dtype).tiny", False),  # another tensor's dtype may be wider: its tiny can round to 0 in p's
    ("torch.finfo(torch.float64).tiny", False),
])
def test_a_floor_of_the_values_own_finfo_is_positive(bound, positive):
    found, _ = value_of(f"import torch\ndef f(p, q):\n    return p.clamp_min({bound})\n")
    assert found.positive is positive


@pytest.mark.parametrize("divisor, lo, hi", [("4", -0.125, 0.125), ("-4", -0.125, 0.125), ("4.0 * w", None, None)])
def test_a_quotient_by_a_constant_scales_the_bounds(divisor, lo, hi):
    found, _ = value_of(f"import torch\ndef f(p, w):\n    return (p.clamp(0, 1) - 0.5) / {divisor}\n")
    assert (found.lo, found.hi) == (lo, hi)


def _inner_x(source: str):
    module = _module(source)
    inner = next(n for n in module.nodes(ast.FunctionDef) if n.name == "g")
    return module.facts.value(inner.body[-1].value)  # type: ignore[attr-defined]


def test_a_function_nested_in_a_method_takes_its_arguments_from_its_calls():
    source = "class A:\n    def m(self):\n        def g(x):\n            return x\n        return g(2.0)\n"
    assert _inner_x(source).lo == 2.0  # x is g's first parameter, not a receiver


@pytest.mark.parametrize("tail, bounded", [
    ("    return g(np.arange(n) + 1.0)\n", True),
    ("    g(np.arange(n) + 1.0)\n    return g\n", False),  # it escapes: callers elsewhere pass anything
])
def test_an_annotated_parameter_of_a_function_only_called_takes_the_values_of_its_calls(tail, bounded):
    source = "import numpy as np\ndef f(n):\n    def g(x: np.ndarray):\n        return x\n" + tail
    found = _inner_x(source)
    assert found.kind == "numpy" and (found.lo == 1.0 if bounded else found.lo is None)


@pytest.mark.parametrize("draw", ["torch.rand_like(x)", "torch.rand(3)", "jax.random.uniform(k, (3,))"])
def test_a_uniform_draw_is_in_the_unit_interval_but_not_a_probability(draw):
    found, _ = value_of(f"import torch\nimport jax\ndef f(x, k):\n    return {draw}\n")
    assert found.lo == 0 and found.hi == 1 and found.role == "sample" and not found.probability
    assert value_of("import torch\ndef f(x):\n    return torch.sigmoid(x)\n")[0].probability


@pytest.mark.parametrize("expression, scalar", [
    ("0.5", True),
    ("torch.tensor(0.0)", True),
    ("torch.tensor([1.0])", True),
    ("tf.constant(2.0)", True),
    ("torch.zeros(())", True),
    ("torch.ones([])", True),
    ("torch.ones(1)", True),
    ("torch.zeros((1,))", True),
    ("torch.full((), 0.07)", True),
    ("nn.Parameter(torch.tensor(0.0))", True),
    ("tf.Variable(0.0)", True),
    ("torch.ones(4)", False),
    ("torch.zeros(2, 3)", False),
    ("torch.tensor([1.0, 2.0])", False),
    ("torch.full((3,), 0.5)", False),
    ("nn.Parameter(torch.randn(8, 8))", False),
    ("x", False),
])
def test_scalar(expression, scalar):
    module = module_of(HEAD + f"def f(x):\n    v = {expression}\n    return v\n")
    assert module.facts.scalar(returned(module)) is scalar


@pytest.mark.parametrize("text, ascended", [
    ("w = nn.Parameter(torch.zeros(3))\nopt = torch.optim.SGD([w], lr=0.1, maximize=True)\n", True),
    ("w = nn.Parameter(torch.zeros(3))\ngroups = [{'params': [w]}]\nopt = torch.optim.Adam(groups, maximize=True)\n",
     True),
    ("w = nn.Parameter(torch.zeros(3))\nw.grad.neg_()\n", True),
    ("w = nn.Parameter(torch.zeros(3))\nw.grad *= -1\n", True),
    ("w = nn.Parameter(torch.zeros(3))\nw.grad = -w.grad\n", True),
    ("w = nn.Parameter(torch.zeros(3))\nopt = torch.optim.SGD([w], lr=0.1)\n", False),
    ("w = nn.Parameter(torch.zeros(3))\nv = nn.Parameter(torch.zeros(3))\n"
     "opt = torch.optim.SGD([v], lr=0.1, maximize=True)\n", False),
    ("w = nn.Parameter(torch.zeros(3))\nw.grad *= 2\n", False),
])
def test_ascended(text, ascended):
    module = module_of(HEAD + text)
    holder = next(n for n in module.nodes(ast.Call) if module.text(n) == "nn.Parameter(torch.zeros(3))")
    assert module.facts.ascended(holder) is ascended


def test_tested_through_the_same_data():
    module = _module("import torch\ndef f(v):\n    keep = v > 0\n    drop = ~keep\n    if drop.any():\n"
                     "        return v[~keep].mean()\n")
    assert module.facts.tested(module.nodes(ast.Return)[0].value)  # drop is keep negated
    module = _module("import torch\ndef f(t):\n    a = t[:, 0]\n    if (a > 0).any():\n"
                     "        return t[:, 1][t[:, 1] > 0].mean()\n")
    assert module.facts.tested(module.nodes(ast.Return)[0].value)  # a fixed part of the same tensor
    module = _module("import torch\ndef f(v):\n    keep = v > 0\n    kept = v[keep]\n    if kept.numel() > 0:\n"
                     "        return v[~keep].mean()\n")
    assert not module.facts.tested(module.nodes(ast.Return)[0].value)  # a selection is other data


@pytest.mark.parametrize("source, name, positive", [
    ("_, c = torch.unique(x, return_counts=True)", "c", True),
    ("_, i, c = x.unique(return_inverse=True, return_counts=True)", "c", True),
    ("_, i, c = x.unique(return_inverse=True, return_counts=True)", "i", False),
    ("_, c = torch.unique_consecutive(x, return_counts=True)", "c", True),
    ("_, i = torch.unique(x, return_inverse=True)", "i", False),
    ("_, i, c = tf.unique_with_counts(x)", "c", True),
    ("_, f, c = jnp.unique(x, return_index=True, return_counts=True)", "c", True),
    ("_, f, i, c = np.unique(x, return_index=True, return_inverse=True, return_counts=True)", "c", True),
    ("_, f, i, c = np.unique(x, return_index=True, return_inverse=True, return_counts=True)", "i", False),
])
def test_unique_counts_are_at_least_one(source, name, positive):
    module = _module(f"import torch\nimport tensorflow as tf\nimport numpy as np\nimport jax.numpy as jnp\n"
                     f"def f(x: torch.Tensor):\n    {source}\n    return {name}\n")
    assert module.facts.value(module.nodes(ast.Return)[0].value).positive is positive


@pytest.mark.parametrize("body, readers", [
    ("    p = x.clamp(0, 1)  # <-\n    a = p + 1\n    return p * 2\n", ["p", "p"]),
    ("    p = x.clamp(0, 1)  # <-\n    p = x\n    return p\n", []),
    ("    return x.clamp(0, 1)  # <-\n", ["x.clamp(0, 1)"]),
    ("    self.p = x.clamp(0, 1)  # <-\n", None),
    ("    a, b = x.clamp(0, 1)  # <-\n", None),
])
def test_uses(body, readers):
    module = module_of(HEAD + "def f(self, x):\n" + body)
    found = module.facts.uses(_marked(module))
    assert (None if found is None else [module.text(n) for n in found]) == readers


@pytest.mark.parametrize("expression, guarded", [
    ("a ** 2 + b ** 2", True),
    ("torch.square(a) + b.pow(2)", True),
    ("d ** 2 + b ** 2", True),
    ("d ** 2 + d ** 2", False),
    ("(a - b) ** 2", False),
])
def test_a_sum_of_squares_of_guarded_values_is_guarded(expression, guarded):
    module = _module("import torch\ndef f(x: torch.Tensor, y: torch.Tensor, eps=1e-6):\n    d = x - y\n"
                     f"    a = d * 0.5 + eps\n    b = (y - x) + eps\n    return {expression}\n")
    assert module.facts.guarded(module.nodes(ast.Return)[0].value) is guarded


@pytest.mark.parametrize("expression, grad", [
    ("g.repeat_interleave(n, dim=0)", False),
    ("torch.meshgrid(g, g, indexing='ij')[0]", False),
    ("torch.stack(torch.meshgrid([g, g], indexing='ij'), dim=-1)", False),
    ("g.repeat_interleave(x.shape[0]) * x", None),
    ("torch.cdist(g, x)", None),
    ("g.requires_grad_()", None),
    ("tf.compat.v1.get_variable('w', [3])", None),
])
def test_no_gradient_flows_out_of_what_none_flows_into(expression, grad):
    module = _module("import torch\nimport tensorflow as tf\ndef f(x, n: int):\n    g = torch.arange(n) * 1.0\n"
                     f"    return {expression}\n")
    assert module.facts.value(module.nodes(ast.Return)[0].value).grad is grad


@pytest.mark.parametrize("body, cause", [
    ("    s = torch.zeros(3)\n    for h in x:\n        s = s + h.abs()\n    return s\n", "sum"),
    ("    d = x.norm(dim=-1)\n    return torch.where(d > 1, d, torch.zeros_like(d))\n", "norm"),
    ("    s = torch.zeros(3)\n    s[:2] = 1\n    return s\n", None),  # 0 where nothing was written: not a sum
    ("    return x.abs().amax(-1)\n", "max"),
    ("    return x.abs().amin(-1)\n", "min"),
    ("    v, _ = x.norm(dim=-1).topk(2, largest=False)\n    return v\n", "min"),
    ("    v, _ = x.norm(dim=-1).topk(2)\n    return v\n", "max"),
])
def test_why_a_value_can_be_zero(body, cause):
    module = _module("import torch\ndef f(x: torch.Tensor):\n" + body)
    value = module.facts.value(module.nodes(ast.Return)[-1].value)
    assert value.cause == cause and (cause is None or value.zero >= Zero.DEGENERATE)


@pytest.mark.parametrize("body, repaired", [
    ("    r = a / b\n    if not bool(torch.isfinite(r).all()):\n        return None\n    return r\n", True),
    ("    r = a / b\n    r = r * 2\n    if torch.isnan(r).flatten(1).any():\n        raise ValueError\n", True),
    ("    r = a / b\n    bad = ~torch.isfinite(r).all()\n    return torch.where(bad, torch.zeros_like(r), r)\n", True),
    ("    r = a / b\n    if not bool(torch.isfinite(r).all()):\n        print(r)\n    return r\n", False),
    ("    r = a / b\n    s = r * 2\n    if not bool(torch.isfinite(s).all()):\n        return None\n    return r\n",
     False),
])
def test_repaired_by_a_finiteness_test(body, repaired):
    module = _module("import torch\ndef f(a, b: torch.Tensor):\n" + body)
    division = next(n for n in module.nodes(ast.BinOp) if isinstance(n.op, ast.Div))
    assert module.facts.repaired(division) is repaired


@pytest.mark.parametrize("source", [
    "_, v = torch.linalg.eigh(a)\n    return v[:, 0].norm()",
    "return torch.linalg.eigh(a).eigenvectors[:, -1].to(torch.float32).norm()",
    "w, v = jnp.linalg.eigh(a)\n    return jnp.linalg.norm(v[:, 0])",
    "e, v = tf.linalg.eigh(a)\n    return tf.norm(v[:, 0])",
])
def test_eigenvectors_have_unit_norm(source):
    module = _module(f"import torch\nimport tensorflow as tf\nimport jax.numpy as jnp\ndef f(a):\n    {source}\n")
    assert module.facts.value(module.nodes(ast.Return)[-1].value).zero is Zero.NEVER
    module = _module("import torch\ndef f(a):\n    w, v = torch.linalg.eigh(a)\n    return w.norm()\n")
    assert module.facts.value(module.nodes(ast.Return)[-1].value).zero is Zero.DEGENERATE  # the eigenvalues


@pytest.mark.parametrize("test, other, axis, positive", [
    ("t > 0", "torch.ones_like(k)", "1", True),
    ("t != 0", "torch.ones_like(k)", "1", True),
    ("t > 0", "torch.ones_like(k)", "0", False),  # the test is of another axis's sums
    ("t > 0", "torch.zeros_like(k)", "1", False),
    ("t < 0", "torch.ones_like(k)", "1", False),
])
def test_a_where_that_keeps_a_sum_positive(test, other, axis, positive):
    module = _module("import torch\ndef f(w: torch.Tensor):\n    k = w.abs()\n    t = k.sum(dim=1, keepdim=True)\n"
                     f"    s = torch.where({test}, k, {other})\n    return s.sum(dim={axis}, keepdim=True)\n")
    assert module.facts.value(module.nodes(ast.Return)[-1].value).positive is positive

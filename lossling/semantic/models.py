"""Model structure: what a network applies last, and how a Keras model is compiled.

Rules that judge a loss by what feeds it (a BCE after a sigmoid, an NLL after a softmax, ``from_logits`` against
the last layer) ask here instead of reading models themselves. The reading is deliberately shallow and exact:

* PyTorch: ``nn.Sequential(..., nn.Sigmoid())`` (its last positional layer), a ``nn.Module`` class of this file
  (what every ``return`` of its ``forward`` computes), a layer instance (``nn.Linear`` is linear).
* Keras: ``Sequential([...])`` and the last ``model.add(layer)``, the functional ``Model(inputs, outputs)`` (the
  layer that produced ``outputs``), a ``keras.Model`` subclass of this file (its ``call``), and layers:
  ``Dense``/``Conv*`` with their ``activation`` (none is linear), ``Activation(...)``, ``Softmax()``.

Public API:

* ``activation(module, value, *names)``: is ``value`` the output of one of the activations ``names`` (``"sigmoid"``,
  ``"softmax"``, ...), either a call in reach (``Activated.call``) or a model's last layer (``Activated.head``)?
* ``head(module, model)``: the ``Head`` of a model expression (``model``, ``self.net``, ``nn.Sequential(...)``).
* ``compiles(module)``: every Keras ``model.compile(loss=...)`` with the compiled model's ``Head``.
* ``keras_backend(module)``: the Keras backend the file selects (``"tensorflow"``, ``"torch"``, ``"jax"``) or None.
* ``RESHAPES``: tensor methods that reshape or cast a value without changing what it holds (``.view``, ``.float``).

Anything the file does not show (a model passed in as a parameter, a layer list built in a loop) is unknown
(None), and rules stay quiet on unknowns.
"""

from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass

from . import apis
from .module import Module, OpCall

_SEQUENTIAL = {"torch.nn.Sequential": "torch", "keras.Sequential": "keras", "keras.models.Sequential": "keras",
               "tensorflow.keras.Sequential": "keras", "tensorflow.keras.models.Sequential": "keras"}
_FUNCTIONAL = {"keras.Model", "keras.models.Model", "tensorflow.keras.Model", "tensorflow.keras.models.Model"}
_KERAS_LAYERS = ("keras.layers.", "tensorflow.keras.layers.")
# Keras layers with an ``activation`` argument (its position when passed positionally, if it has a usual one).
_ACTIVATED_LAYERS = {"Dense": 1, "EinsumDense": None, "Conv1D": None, "Conv2D": None, "Conv3D": None,
                     "Conv1DTranspose": None, "Conv2DTranspose": None, "Conv3DTranspose": None,
                     "SeparableConv1D": None, "SeparableConv2D": None, "DepthwiseConv2D": None}
_TORCH_LINEAR = {"torch.nn.Linear", "torch.nn.Bilinear", "torch.nn.LazyLinear", "torch.nn.Conv1d",
                 "torch.nn.Conv2d", "torch.nn.Conv3d", "torch.nn.ConvTranspose1d", "torch.nn.ConvTranspose2d",
                 "torch.nn.ConvTranspose3d"}
_HEAD_OPS = ("sigmoid", "softmax", "log_softmax", "logsigmoid", "softplus", "relu", "tanh")
_BACKENDS = {"tensorflow", "torch", "jax", "numpy", "openvino"}
# Tensor methods that change a value's shape, layout or dtype but not what it holds.
RESHAPES = frozenset({"view", "reshape", "squeeze", "unsqueeze", "flatten", "permute", "transpose", "contiguous",
                      "float", "double", "to", "view_as", "reshape_as"})


@dataclass(frozen=True)
class Head:
    """What a model applies last: ``activation`` is "linear" or an op name ("sigmoid", "softmax", ...);
    ``node`` is the layer or call that decides it (to name in messages); ``framework`` is "torch" or "keras"."""

    activation: str
    node: ast.Call
    framework: str
    tagged: bool = False  # a Keras activation (string, keras.activations, Softmax layer, keras.ops) whose output
    # the TensorFlow backend tags with its logits, so Keras losses recover them; tf.nn.softmax is not tagged


@dataclass(frozen=True)
class Activated:
    """A value that is an activation's output: ``call`` is the activation call when the value is its result
    (directly or through a name), ``head`` the model's last layer when a model applies it; both are None when
    the activation's output was reshaped or cast before it got here."""

    activation: str
    call: OpCall | None = None
    head: Head | None = None

    def describe(self, module: Module) -> str:
        """For messages: "softmax output" or "the output of a model ending in `nn.Softmax(dim=1)`"."""
        if self.head is None:
            return f"{self.activation} output"
        return f"the output of a model ending in `{module.text(self.head.node)}`"


@dataclass(frozen=True)
class Compile:
    """A Keras ``model.compile(...)``: its call, the ``loss`` argument and the compiled model's head."""

    call: ast.Call
    loss: ast.expr
    head: Head | None


def activation(module: Module, value: ast.AST | None, *names: str) -> Activated | None:
    """Whether ``value`` is the output of one of the activations ``names``: an op call (through a name assigned
    once) or the call of a model whose last layer applies it. Reshapes and casts after the activation
    (``torch.sigmoid(z).squeeze(1)``) keep it an activation's output, but then ``call`` is None: the activation is
    not the value itself, so a fix cannot simply swap it."""
    inner = module.resolve(value)
    reshaped = False
    while (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr in RESHAPES
           and (isinstance(inner.func.value, ast.Call) or module.is_tensor(inner.func.value))):
        inner, reshaped = module.resolve(inner.func.value), True
    found = module.op_of(inner, *names)
    if found is not None:
        return Activated(found.op) if reshaped else Activated(found.op, call=found)
    if isinstance(inner, ast.Call):
        func = inner.func
        model = func.value if isinstance(func, ast.Attribute) and func.attr in ("forward", "call") else func
        found_head = head(module, model)
        if found_head is not None and found_head.activation in names:
            return Activated(found_head.activation, head=found_head)
    return None


def head(module: Module, model: ast.AST | None) -> Head | None:
    """The last layer of the model ``model`` evaluates to, when the file shows it."""
    return _Reader(module).head(model, 4)


def compiles(module: Module) -> list[Compile]:
    """Every ``model.compile(..., loss=...)`` call, in source order."""
    found = []
    for call in module.calls_named("compile"):
        func = call.func
        if not isinstance(func, ast.Attribute):
            continue
        loss = next((k.value for k in call.keywords if k.arg == "loss"), None)
        if loss is None and len(call.args) >= 2:
            loss = call.args[1]
        if loss is None:
            continue
        model_head = head(module, func.value)
        if model_head is None or model_head.framework == "keras":
            found.append(Compile(call, loss, model_head))
    return found


_BACKEND_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def keras_backend(module: Module) -> str | None:
    """The backend the file selects: ``os.environ["KERAS_BACKEND"] = ...``, ``os.environ.setdefault(...)``,
    ``keras.config.set_backend(...)``; "tensorflow" for code that uses ``tf.keras``; else None (Keras then uses
    what the environment says, TensorFlow by default)."""
    if module not in _BACKEND_CACHE:
        _BACKEND_CACHE[module] = _keras_backend(module)
    return _BACKEND_CACHE[module]


def _keras_backend(module: Module) -> str | None:
    if "KERAS_BACKEND" in module.source or "set_backend" in module.source:
        for node in module.nodes(ast.Assign, ast.Call):
            name = None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if (isinstance(target, ast.Subscript) and module.qualname(target.value) == "os.environ"
                        and _string(target.slice) == "KERAS_BACKEND"):
                    name = _string(node.value)
            elif isinstance(node, ast.Call):
                qualname = module.qualname(node.func)
                if qualname == "os.environ.setdefault" and len(node.args) == 2 and _string(
                        node.args[0]) == "KERAS_BACKEND":
                    name = _string(node.args[1])
                elif qualname in ("keras.config.set_backend", "keras.backend.set_backend") and node.args:
                    name = _string(node.args[0])
            if name in _BACKENDS:
                return name
    if any(q.startswith("tensorflow.keras") or q == "tensorflow" for q in module.imports.values()) and (
            "keras" in module.source):
        return "tensorflow"
    return None


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Reader:
    """Reads one model expression; ``depth`` bounds the nesting it follows (models built from models)."""

    def __init__(self, module: Module) -> None:
        self.module = module

    def head(self, model: ast.AST | None, depth: int) -> Head | None:
        if model is None or depth <= 0:
            return None
        module = self.module
        if self.module.facts.is_receiver(model):  # self(x) inside the model's own class
            cls = module.enclosing_class(model)
            return self._class(cls, depth - 1) if cls is not None else None
        value = module.resolve(model)
        if isinstance(value, ast.Call):
            return self._constructed(value, model, depth)
        return None

    def _constructed(self, call: ast.Call, model: ast.AST, depth: int) -> Head | None:
        module = self.module
        qualname = module.qualname(call.func)
        if qualname in _SEQUENTIAL:
            return self._sequential(call, model, _SEQUENTIAL[qualname], depth)
        if qualname in _FUNCTIONAL:
            outputs = next((k.value for k in call.keywords if k.arg == "outputs"), None)
            if outputs is None and len(call.args) >= 2:
                outputs = call.args[1]
            return self._value(outputs, "keras", depth - 1)
        if qualname is not None:
            return self._layer(call, qualname)
        cls = self._local_class(call.func)
        return self._class(cls, depth - 1) if cls is not None else None

    def _sequential(self, call: ast.Call, model: ast.AST, framework: str, depth: int) -> Head | None:
        layers: list[ast.expr] = []
        if framework == "torch":
            layers = list(call.args)
        elif call.args and isinstance(call.args[0], (ast.List, ast.Tuple)):
            layers = list(call.args[0].elts)
        added = self._added(call, model)
        if added is not None:
            layers = [added]
        if not layers or any(isinstance(layer, ast.Starred) for layer in layers[-1:]):
            return None
        last = self.module.resolve(layers[-1])
        return self.head(last, depth - 1) if isinstance(last, ast.Call) else None

    def _added(self, call: ast.Call, model: ast.AST) -> ast.expr | None:
        """The layer of the last ``name.add(layer)`` on a Keras Sequential bound to ``name``."""
        module = self.module
        name = model if isinstance(model, ast.Name) else None
        if name is None:
            parent = module.parent(call)
            if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
                name = parent.targets[0]
        if name is None:
            return None
        scope = module.scope_node(call)
        last = None
        for node in module.calls_named("add"):
            func = node.func
            if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                    and func.value.id == name.id and len(node.args) == 1 and module.scope_node(node) is scope
                    and node.lineno > call.lineno):
                last = node.args[0]
        return last

    def _layer(self, call: ast.Call, qualname: str) -> Head | None:
        api = apis.FUNCTIONS.get(qualname)
        if api is not None and api.kind == "module" and api.op in _HEAD_OPS:
            keras = api.framework != "torch"
            return Head(api.op, call, "keras" if keras else "torch", tagged=keras)
        if qualname in _TORCH_LINEAR:
            return Head("linear", call, "torch")
        if not qualname.startswith(_KERAS_LAYERS):
            return None
        name = qualname.rpartition(".")[2]
        if name in _ACTIVATED_LAYERS:
            position = _ACTIVATED_LAYERS[name]
            spec = next((k.value for k in call.keywords if k.arg == "activation"), None)
            if spec is None and position is not None and len(call.args) > position:
                spec = call.args[position]
            return Head(self._activation(spec) or "other", call, "keras", self._tagged(spec))
        if name == "Activation":
            spec = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "activation"), None)
            return Head(self._activation(spec) or "other", call, "keras", self._tagged(spec))
        return None

    def _tagged(self, spec: ast.expr | None) -> bool:
        if _string(spec) is not None:
            return True
        qualname = self.module.qualname(spec) if spec is not None else None
        return qualname is not None and qualname.startswith(("keras.", "tensorflow.keras."))

    def _activation(self, spec: ast.expr | None) -> str | None:
        """``activation=`` of a Keras layer: None/"linear" is linear, else the op a string or function names."""
        if spec is None or (isinstance(spec, ast.Constant) and spec.value is None):
            return "linear"
        text = _string(spec)
        if text is not None:
            return text.lower()
        qualname = self.module.qualname(spec)
        api = apis.FUNCTIONS.get(qualname) if qualname else None
        return api.op if api is not None else None

    def _value(self, value: ast.AST | None, framework: str, depth: int) -> Head | None:
        """The head of the expression a model returns (``forward``'s return value, a functional ``outputs``)."""
        module = self.module
        if value is None or depth <= 0:
            return None
        found = module.op_of(value, *_HEAD_OPS)
        if found is not None:
            keras = found.framework == "keras"
            return Head(found.op, found.node, "torch" if found.framework == "torch" else "keras", tagged=keras)
        target = module.resolve(value)
        if isinstance(target, ast.Call):
            func = target.func
            callee = module.resolve(func)
            if isinstance(callee, ast.Call) or isinstance(func, (ast.Name, ast.Attribute)):
                return self.head(func, depth)
        return None

    def _local_class(self, func: ast.expr) -> ast.ClassDef | None:
        if not isinstance(func, ast.Name):
            return None
        for node in self.module.tree.body:
            if isinstance(node, ast.ClassDef) and node.name == func.id:
                return node
        return None

    def _class(self, cls: ast.ClassDef, depth: int) -> Head | None:
        """The head of a model class: what every return of its ``forward`` (torch) or ``call`` (Keras) computes."""
        method = next((item for item in cls.body if isinstance(item, ast.FunctionDef)
                       and item.name in ("forward", "call")), None)
        if method is None:
            return None
        framework = "torch" if method.name == "forward" else "keras"
        heads = set()
        for node in ast.walk(method):
            if isinstance(node, (ast.FunctionDef, ast.Lambda)) and node is not method:
                return None
            if isinstance(node, ast.Return):
                value = _last_assigned(method, node)
                found = self._value(value, framework, depth)
                if found is None:
                    return None
                heads.add((found.activation, found.framework))
                last = found
        return last if len(heads) == 1 else None


def _last_assigned(method: ast.FunctionDef, ret: ast.Return) -> ast.expr | None:
    """What a ``return name`` returns in straight-line code: the last top-level ``name = ...`` before it
    (``x = self.fc1(x); x = self.fc2(x); return x``). Gives up when the name is also bound inside a block."""
    value = ret.value
    if not isinstance(value, ast.Name) or ret not in method.body:
        return value
    last = None
    for stmt in method.body:
        if stmt is ret:
            break
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == value.id for t in stmt.targets):
            if len(stmt.targets) != 1:
                return None
            last = stmt.value
        elif any(isinstance(n, ast.Name) and n.id == value.id and isinstance(n.ctx, ast.Store)
                 for n in ast.walk(stmt)):
            return None
    return last if last is not None else value

"""What the code minimises: a value that flows into a gradient step, followed forward from where it is computed.

``minimised(module, node)`` answers whether ``node``'s value is minimised, as a whole or as a positive part of the
minimised value. The value is followed forward through assignments (the uses of the definition), sums, positive
scalings, reductions, casts and reshapes, conditional expressions, the parameters of the file's functions it is
passed to, and returns (to the calls of the function returning it). It is minimised where it reaches:

* ``v.backward()``, ``torch.autograd.backward(v)``, ``tape.gradient(v, ...)`` of a ``GradientTape``, an
  optimizer's ``minimize(v, ...)`` (TF1 and Keras optimizers);
* the return of a function that is minimised: one handed to ``jax.grad``/``value_and_grad`` (or decorated with
  them; with ``has_aux`` the first element of the returned pair), to Keras ``compile(loss=...)``, to an optimizer's,
  ``tfp.math``'s or SciPy's ``minimize``; the ``forward``/``call`` of a framework loss class (``keras.losses.Loss``,
  torch's ``_Loss``) or of a class whose instance is handed to ``compile(loss=...)`` or called where the result is
  minimised; the ``training_step`` of a Lightning module (its return, or its ``"loss"`` entry).

A minus (``-v``, ``a - v``) or a factor of unknown sign stops the walk: the value is then maximised or not known to
be minimised. Names are never evidence: a variable called ``loss`` that goes nowhere is not minimised.

``ascended(module, holder)`` answers the converse for a parameter: the file trains it by gradient ascent (an
optimizer with ``maximize=True``, or a negated gradient).
"""

from __future__ import annotations

import ast
from typing import Any

from . import apis
from .dataflow import Def

Module = Any  # the Module of the file (module.py imports facts, which imports this: no import back)

_MAX_STEPS = 24  # forward steps followed from one node (through calls and returns included)
# Functions that minimise (the gradient of) the callable given as their first argument.
_CALLABLE_MINIMISERS = frozenset({
    "jax.grad", "jax.value_and_grad", "equinox.filter_grad", "equinox.filter_value_and_grad",
    "tensorflow_probability.math.minimize", "scipy.optimize.minimize",
})
_PARTIAL = frozenset({"functools.partial"})
# Ops a minimised value keeps being minimised through when it is their input.
_KEEPS = frozenset({"sum", "mean", "nansum", "nanmean", "reshape", "squeeze", "unsqueeze", "flatten", "clone",
                    "cast"})
_CASTS = frozenset({"float", "double", "half", "bfloat16", "to", "type_as", "contiguous"})
_LOSS_BASES = frozenset({
    "keras.losses.Loss", "tensorflow.keras.losses.Loss", "keras.Loss", "tensorflow.losses.Loss",
    "torch.nn.modules.loss._Loss", "torch.nn.modules.loss._WeightedLoss",
})
_LIGHTNING = frozenset({"pytorch_lightning.LightningModule", "lightning.LightningModule",
                        "lightning.pytorch.LightningModule", "pytorch_lightning.core.LightningModule"})
_CALL_METHODS = ("forward", "call", "__call__")
_ACCELERATORS = frozenset({"accelerate.Accelerator"})
_SCALERS = frozenset({"torch.cuda.amp.GradScaler", "torch.amp.GradScaler", "torch.cpu.amp.GradScaler"})


def minimised(module: Module, node: ast.AST) -> bool:
    """Whether ``node``'s value is minimised (see the module docstring). ``node`` may also be an assignment
    statement (``loss -= r``): then its new value is meant. Cached per node."""
    cache = module.cached("minimised")
    if cache is None:
        cache = module.cache("minimised", {})
    key = id(node)
    if key not in cache:
        cache[key] = _Walk(module).value(node)
    return cache[key]


def minimised_function(module: Module, function: ast.AST) -> bool:
    """Whether what ``function`` returns is minimised."""
    return _Walk(module).returned(function, False)


def ascended(module: Module, holder: ast.AST) -> bool:
    """Whether the trainable tensor ``holder`` makes (an ``nn.Parameter(...)``/``tf.Variable(...)`` call) is trained
    by gradient ascent: handed to an optimizer built with ``maximize=True``, or its gradient negated before the step
    (``p.grad.neg_()``, ``p.grad.mul_(-1)``, ``p.grad *= -1``, ``p.grad = -p.grad``)."""
    found = module.cached("ascended")
    if found is None:
        found = module.cache("ascended", frozenset(id(module.resolve(n)) for n in _ascended(module)))
    return id(holder) in found


def _ascended(module: Module) -> list[ast.AST]:
    """The expressions whose gradient the file ascends (see ``ascended``)."""
    found: list[ast.AST] = []
    for call in module.nodes(ast.Call):
        if module.qualname(call.func) in apis.OPTIMIZERS and any(
                k.arg == "maximize" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in call.keywords):
            params = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "params"), None)
            found.extend(_parameter_list(module, params))
    for grad in module.nodes(ast.Attribute):
        if grad.attr != "grad":
            continue
        parent = module.parent(grad)
        method = parent.attr if isinstance(parent, ast.Attribute) else None
        call = module.parent(parent) if method else None
        flipped = (
            isinstance(call, ast.Call) and call.func is parent and (
                method == "neg_" or method == "mul_" and len(call.args) == 1 and module.const(call.args[0]) == -1.0)
            or isinstance(parent, ast.AugAssign) and parent.target is grad and isinstance(parent.op, ast.Mult)
            and module.const(parent.value) == -1.0
            or isinstance(parent, ast.Assign) and parent.targets == [grad] and isinstance(parent.value, ast.UnaryOp)
            and isinstance(parent.value.op, ast.USub) and module.text(parent.value.operand) == module.text(grad))
        if flipped:
            found.append(grad.value)
    return found


def _parameter_list(module: Module, params: ast.AST | None, depth: int = 3) -> list[ast.AST]:
    """The tensors an optimizer's ``params`` argument names: a list or tuple of them, parameter groups
    (``[{"params": [...]}]``), followed through names."""
    if params is None or depth <= 0:
        return []
    params = module.resolve(params)
    if isinstance(params, (ast.List, ast.Tuple)):
        return [p for e in params.elts for p in (_parameter_list(module, e, depth - 1) if isinstance(
            module.resolve(e), (ast.List, ast.Tuple, ast.Dict)) else [e])]
    if isinstance(params, ast.Dict):
        return [p for k, v in zip(params.keys, params.values)
                if isinstance(k, ast.Constant) and k.value == "params" for p in _parameter_list(module, v, depth - 1)]
    return [params]


class _Walk:
    """One forward walk; ``seen`` keeps it finite (a value reaches a node at most once)."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.facts = module.facts
        self.seen: set[tuple[int, bool]] = set()
        self.steps = 0

    def _visit(self, node: ast.AST, aux: bool = False) -> bool:
        key = (id(node), aux)
        if key in self.seen or self.steps >= _MAX_STEPS:
            return False
        self.seen.add(key)
        self.steps += 1
        return True

    # ----- values ---------------------------------------------------------------------------------------------
    def value(self, node: ast.AST) -> bool:
        """Whether the value of ``node`` flows into a minimisation."""
        if not self._visit(node):
            return False
        module = self.module
        if isinstance(node, (ast.AugAssign, ast.Assign, ast.AnnAssign)):
            return any(self.definition(d) for d in self._defs_made(node))
        if isinstance(node, ast.Call):
            flow = self.facts.flow_of(node)
            mutation = flow.mutations.get(id(node)) if flow is not None else None
            if mutation is not None and self.definition(mutation):  # loss.sub_(r): the new value of loss
                return True
        arith = self._arith(node)
        if arith is not None:
            return self._through(arith, node)
        parent = module.parent(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            call = module.parent(parent)
            if not (isinstance(call, ast.Call) and call.func is parent):
                return False
            if parent.attr == "backward":
                return True
            return (parent.attr in _CASTS or module.op_of(call, *_KEEPS, follow=False) is not None) and self.value(
                call)
        if isinstance(parent, ast.Call):
            return self._argument(parent, node)
        if isinstance(parent, ast.IfExp) and node is not parent.test:
            return self.value(parent)
        if isinstance(parent, (ast.List, ast.Tuple)) and isinstance(module.parent(parent), ast.Call):
            return self._summed(module.parent(parent), parent)
        if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and parent.value is node:
            if isinstance(parent, ast.NamedExpr):
                return self.value(parent) or any(self.definition(d) for d in self._defs_made(parent))
            return self.value(parent)
        if isinstance(parent, ast.AugAssign) and parent.value is node and isinstance(parent.op, ast.Add):
            return self.value(parent)
        if isinstance(parent, ast.Return):
            function = self._function(parent)
            return function is not None and self.returned(function, False)
        if isinstance(parent, ast.Lambda) and parent.body is node:
            return self.returned(parent, False)
        if isinstance(parent, ast.Tuple) and parent.elts and parent.elts[0] is node and isinstance(
                module.parent(parent), ast.Return):
            function = self._function(parent)
            return function is not None and self.returned(function, True)
        if isinstance(parent, ast.Dict) and isinstance(module.parent(parent), ast.Return):
            key = next((k for k, v in zip(parent.keys, parent.values) if v is node), None)
            function = self._function(parent)
            return isinstance(key, ast.Constant) and key.value == "loss" and function is not None and (
                self._lightning_step(function))
        return False

    def _arith(self, node: ast.AST):
        """The arithmetic ``node`` is an operand of, in any spelling (``a + node``, ``a.add(node)``,
        ``node.sub(b)``, ``torch.mul(k, node)``, ``-node``), or None."""
        module = self.module
        parent = module.parent(node)
        candidates = [parent]
        if isinstance(parent, ast.Attribute) and parent.value is node:
            candidates = [module.parent(parent)]
        for candidate in candidates:
            found = module.arith(candidate)
            if found is not None and (found.left is node or found.right is node):
                return found
        return None

    def _through(self, arith, node: ast.AST) -> bool:
        """A minimised sum carries its terms; a difference its left side; a product or quotient by a positive
        value its other operand; a negation nothing. ``total.add_(v)`` carries ``v`` into the new ``total``."""
        other = arith.right if arith.left is node else arith.left
        op = arith.op
        if op is ast.Add or op is ast.Sub and arith.left is node:
            return self.value(arith.node)
        if op is ast.Mult:
            factor = other
        elif op is ast.Div and arith.left is node:
            factor = arith.right
        else:
            return False
        # the walk forward first: it is cheaper than the factor's value, which most products never need
        return factor is not None and self.value(arith.node) and self._positive(factor)

    def definition(self, d: Def) -> bool:
        """Whether the value a definition gives its name reaches a minimisation through one of its uses."""
        flow = self.facts.flow_of(d.node)
        if flow is None:
            return False
        return any(self.value(use) for use in list(flow.uses.get(id(d), {}).values()))

    def _defs_made(self, stmt: ast.AST) -> list[Def]:
        flow = self.facts.flow_of(stmt)
        if flow is None:
            return []
        targets = getattr(stmt, "targets", None) or [getattr(stmt, "target", None)]
        names = {t.id for t in targets if isinstance(t, ast.Name)}
        return [d for name in names for d in flow.defs.get(name, ()) if d.node is stmt and d.kind in (
            "assign", "aug")]

    def _positive(self, node: ast.AST) -> bool:
        value = self.facts.value(node)
        return value.lo is not None and value.lo > 0

    def _argument(self, call: ast.Call, node: ast.AST) -> bool:
        """``node`` passed to ``call``: a sink, or a parameter of a function of this file that carries it on."""
        module = self.module
        func = call.func
        qualname = module.qualname(func) or ""
        first = bool(call.args) and call.args[0] is node
        if first and qualname == "torch.autograd.backward":
            return True
        if isinstance(func, ast.Attribute) and first and qualname == "":
            attr, receiver = func.attr, func.value
            if attr == "gradient" and self._tape(receiver) or attr == "minimize" and self._optimizer(receiver):
                return True
            if attr == "backward" and self._made_by(receiver, _ACCELERATORS) or attr == "manual_backward" and (
                    self._lightning_self(receiver)):
                return True
            if attr == "scale" and self._made_by(receiver, _SCALERS):
                return self.value(call)  # scaler.scale(loss).backward()
            if attr in ("append", "extend") and isinstance(receiver, ast.Name):
                return any(self.definition(d) for d in self.facts.definitions(receiver))  # losses.append(v)
        if self._summed(call, node):
            return True
        op = module.op_of(call, *_KEEPS, follow=False)  # other ops carry no loss on (nor are they functions here)
        if op is not None:
            return op.input is node and self.value(call)
        function = self.facts.callee(call)
        if function is None or not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        name = _parameter(function, call, node, isinstance(func, ast.Attribute))
        flow = self.facts.flow_of(function.args)
        d = flow.params.get(name) if flow is not None and name is not None else None
        return d is not None and self.definition(d)

    def _summed(self, call: ast.Call, part: ast.AST) -> bool:
        """``part`` (a value, or a list of values) summed by ``call``: ``sum(...)``, ``tf.add_n``, ``stack``/``cat``
        (whose result is then reduced)."""
        module = self.module
        if not call.args or call.args[0] is not part:
            return False
        func = call.func
        if isinstance(func, ast.Name) and func.id == "sum" and not self.facts.definitions(func):
            return self.value(call)
        qualname = module.qualname(func) or ""
        if qualname.rpartition(".")[2] == "add_n" or module.op_of(call, "stack", "concat", follow=False) is not None:
            return self.value(call)
        return False

    def _made_by(self, node: ast.AST, classes: frozenset[str]) -> bool:
        value = self.module.resolve(node)
        return isinstance(value, ast.Call) and self.module.qualname(value.func) in classes

    def _lightning_self(self, node: ast.AST) -> bool:
        cls = self.module.enclosing_class(node)
        return self.facts.is_receiver(node) and cls is not None and any(
            self.module.qualname(b) in _LIGHTNING for b in cls.bases)

    def _tape(self, node: ast.AST) -> bool:
        """A ``tf.GradientTape()``: ``with tf.GradientTape() as tape`` or ``tape = tf.GradientTape()``."""
        module = self.module
        value = module.resolve(node)
        if isinstance(node, ast.Name) and value is node:
            d = self.facts.unique(node)
            value = d.value if d is not None and d.kind == "with" else None
        return isinstance(value, ast.Call) and (module.qualname(value.func) or "").endswith(".GradientTape")

    def _optimizer(self, node: ast.AST) -> bool:
        """A framework optimizer: a constructor of ``apis.OPTIMIZERS`` or a TensorFlow ``...Optimizer`` class."""
        module = self.module
        value = module.resolve(node)
        qualname = module.qualname(value.func) if isinstance(value, ast.Call) else None
        return qualname is not None and (qualname in apis.OPTIMIZERS or qualname.startswith(
            ("tensorflow.", "keras.")) and "optimizers" in qualname or qualname.endswith("Optimizer"))

    # ----- functions ------------------------------------------------------------------------------------------
    def _function(self, node: ast.AST) -> ast.AST | None:
        for ancestor in self.module.ancestors(node):
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                return ancestor
            if isinstance(ancestor, ast.ClassDef):
                return None
        return None

    def returned(self, function: ast.AST, aux: bool) -> bool:
        """Whether what ``function`` returns (with ``aux``: the first element of the pair it returns) is
        minimised: it is handed to a minimiser, it is a loss class's ``forward``/``call``, or its calls' results
        are minimised."""
        if not self._visit(function, aux):
            return False
        if any(self._refers(target, function) and wants_aux == aux for target, wants_aux in self._handed()):
            return True
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in function.decorator_list:
                found = self._minimiser(decorator)
                if found is not None and found == aux:
                    return True
            if self._lightning_step(function) and not aux:
                return True
            cls = self.module.parent(function)
            if isinstance(cls, ast.ClassDef) and function.name in _CALL_METHODS and not aux:
                return self._loss_class(cls)
            if not aux:
                return any(self.value(call) for call in self.facts.calls_of(function))
        return False

    def _lightning_step(self, function: ast.AST) -> bool:
        cls = self.module.parent(function)
        return isinstance(function, ast.FunctionDef) and function.name == "training_step" and isinstance(
            cls, ast.ClassDef) and any(self.module.qualname(b) in _LIGHTNING for b in cls.bases)

    def _loss_class(self, cls: ast.ClassDef) -> bool:
        """A class whose instances' results are minimised: it derives from a framework loss class, an instance
        is handed to a minimiser, or an instance's call has its result minimised."""
        module = self.module
        if any(module.qualname(base) in _LOSS_BASES for base in cls.bases):
            return True
        for ctor in module.calls_named(cls.name):
            if self.facts._local_class(ctor.func) is not cls:
                continue
            if any(target is ctor for target, _ in self._handed()):
                return True
            for call in self._instance_calls(ctor):
                if self.value(call):
                    return True
        return False

    def _instance_calls(self, ctor: ast.Call) -> list[ast.Call]:
        """The calls of the instance ``ctor`` makes: ``C()(x)``, ``c = C(); c(x)``, ``self.c = C(); self.c(x)``."""
        module = self.module
        parent = module.parent(ctor)
        if isinstance(parent, ast.Call) and parent.func is ctor:
            return [parent]
        if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1):
            return []
        target = parent.targets[0]
        if isinstance(target, ast.Name):
            return [call for call in module.calls_named(target.id) if module.resolve(call.func) is ctor]
        if isinstance(target, ast.Attribute):
            return [call for call in module.calls_named(target.attr) if module.resolve(call.func) is ctor]
        return []

    def _handed(self) -> list[tuple[ast.AST, bool]]:
        """The callables (and loss instances) this file hands to a minimiser, with whether the minimiser takes a
        ``(value, aux)`` pair: computed once per file."""
        module = self.module
        found = module.cached("minimisers")
        if found is not None:
            return found
        found = []
        for call in module.calls_named("grad", "value_and_grad", "filter_grad", "filter_value_and_grad",
                                       "minimize", "compile"):
            func = call.func
            aux = self._minimiser(call)
            if aux is not None and call.args:
                found.append((call.args[0], aux))
            elif isinstance(func, ast.Attribute) and module.qualname(func) is None:
                if func.attr == "compile":
                    loss = next((k.value for k in call.keywords if k.arg == "loss"), None)
                    if loss is None and len(call.args) >= 2:
                        loss = call.args[1]
                    parts = loss.elts if isinstance(loss, (ast.List, ast.Tuple)) else (
                        loss.values if isinstance(loss, ast.Dict) else [loss])
                    found.extend((part, False) for part in parts if part is not None)
                elif func.attr == "minimize" and call.args and self._optimizer(func.value):
                    found.append((call.args[0], False))
        return module.cache("minimisers", found)

    def _minimiser(self, node: ast.AST) -> bool | None:
        """For ``jax.grad``, ``jax.value_and_grad(has_aux=True)``, ``partial(jax.grad, ...)`` and the other
        minimisers of a callable (a call or a decorator): whether it takes a ``(value, aux)`` pair; else None."""
        module = self.module
        call = node if isinstance(node, ast.Call) else None
        target = call.func if call is not None else node
        qualname = module.qualname(target) or ""
        if qualname in _PARTIAL and call is not None and call.args:
            inner = module.qualname(call.args[0]) or ""
            if inner not in _CALLABLE_MINIMISERS:
                return None
        elif qualname not in _CALLABLE_MINIMISERS:
            return None
        if call is None:
            return False
        flag = next((k.value for k in call.keywords if k.arg == "has_aux"), None)
        return isinstance(flag, ast.Constant) and flag.value is True

    def _refers(self, target: ast.AST, function: ast.AST) -> bool:
        """Whether the expression ``target`` (handed to a minimiser) is ``function``: the lambda itself, a name
        bound to it, ``self.method``, ``partial(function, ...)``, or an instance of the class ``function`` is the
        ``forward``/``call`` of."""
        module = self.module
        for _ in range(4):
            if target is function:
                return True
            if isinstance(target, ast.Call):
                qualname = module.qualname(target.func) or ""
                if qualname in _PARTIAL and target.args:
                    target = target.args[0]
                    continue
                cls = self.facts._local_class(target.func)
                return cls is not None and cls is module.parent(function) and getattr(
                    function, "name", None) in _CALL_METHODS
            if isinstance(target, ast.Name):
                defs = self.facts.definitions(target)
                if any(d.kind == "def" and d.node is function for d in defs):
                    return True
                resolved = module.resolve(target)
                if resolved is target:
                    return False
                target = resolved
                continue
            if isinstance(target, ast.Attribute) and self.facts.is_receiver(target.value):
                cls = module.enclosing_class(target)
                return cls is not None and module.parent(function) is cls and getattr(
                    function, "name", None) == target.attr
            return False
        return False


def _parameter(function: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call, node: ast.AST,
               method: bool) -> str | None:
    """The parameter of ``function`` that receives ``node`` at ``call`` (by position or keyword)."""
    for keyword in call.keywords:
        if keyword.value is node:
            return keyword.arg
    positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if method and positional:
        positional = positional[1:]
    for index, argument in enumerate(call.args):
        if argument is node:
            if any(isinstance(a, ast.Starred) for a in call.args[:index + 1]):
                return None
            return positional[index] if index < len(positional) else None
    return None

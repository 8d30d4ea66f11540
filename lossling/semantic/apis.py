"""Framework knowledge as data: which qualified name is which operation, and what the stable form is called.

Every spelling of an operation maps to one canonical op name (``"log"``, ``"softmax"``, ``"sum"`` ...) and the
framework family it belongs to. Rules match ops, never spellings, so adding a framework or a spelling is a change
to the tables below and nothing else.

Spec strings list names in a namespace: ``"log exp"`` maps each name to the op of the same name, and
``"reduce_sum>sum"`` maps the spelling ``reduce_sum`` to the op ``sum``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Api:
    op: str
    framework: str
    kind: str = "function"  # "function"; "module": a class whose instances are called (nn.Sigmoid(), BCELoss())


def _parse(spec: str) -> list[tuple[str, str]]:
    pairs = []
    for word in spec.split():
        spelled, _, op = word.partition(">")
        pairs.append((spelled, op or spelled))
    return pairs


_MATH = (
    "log log1p log2 log10 exp expm1 sqrt rsqrt square pow abs sigmoid softmax log_softmax softplus relu tanh cosh "
    "sum mean prod std var max min amax amin clamp clamp_min clamp_max clip maximum minimum where divide div>divide "
    "true_divide>divide floor_divide>floordiv norm det logdet slogdet logsumexp logaddexp xlogy acos asin atanh "
    "arccos>acos arcsin>asin arctanh>atanh count_nonzero masked_select masked_fill stack cat>concat cosine_similarity "
    "finfo sign isnan isinf nan_to_num reciprocal erf lgamma digamma"
)
_LOSSES_TORCH = (
    "binary_cross_entropy>bce binary_cross_entropy_with_logits>bce_logits cross_entropy nll_loss>nll kl_div "
    "mse_loss>mse l1_loss>mae smooth_l1_loss>smooth_l1 huber_loss>huber ctc_loss>ctc"
)
_TF_MATH = (
    "log log1p exp expm1 sqrt rsqrt square pow abs sigmoid softplus tanh cosh reduce_sum>sum reduce_mean>mean "
    "reduce_prod>prod reduce_std>std reduce_variance>var reduce_max>max reduce_min>min reduce_logsumexp>logsumexp "
    "maximum minimum divide truediv>divide realdiv>divide divide_no_nan floordiv xlogy acos asin atanh count_nonzero "
    "log_sigmoid>logsigmoid softmax log_softmax l2_normalize>normalize reciprocal erf lgamma digamma is_nan>isnan "
    "multiply_no_nan"
)
_TF_TOP = (
    "exp sqrt rsqrt square pow abs sigmoid tanh cosh reduce_sum>sum reduce_mean>mean reduce_prod>prod "
    "reduce_max>max reduce_min>min reduce_logsumexp>logsumexp maximum minimum divide truediv>divide realdiv>divide where norm "
    "clip_by_value>clip boolean_mask stack concat cast matmul acos asin atanh"
)
# Names TensorFlow 1 had at the top level and TensorFlow 2 removed (they live on in tf.compat.v1 and tf.math).
TF1_REMOVED = (
    "log log1p log_sigmoid>logsigmoid div>divide div_no_nan>divide_no_nan reciprocal squared_difference rsqrt "
    "expm1 erf lgamma digamma floordiv is_nan>isnan to_float"
)
_TF_NN = (
    "softmax log_softmax sigmoid softplus relu l2_normalize>normalize top_k>topk "
    "sigmoid_cross_entropy_with_logits>sigmoid_ce_logits softmax_cross_entropy_with_logits>softmax_ce_logits "
    "softmax_cross_entropy_with_logits_v2>softmax_ce_logits "
    "sparse_softmax_cross_entropy_with_logits>sparse_softmax_ce_logits "
    "weighted_cross_entropy_with_logits>weighted_ce_logits l2_loss"
)
_KERAS_OPS = (
    "log log1p exp expm1 sqrt square power>pow abs sigmoid softmax log_softmax log_sigmoid>logsigmoid softplus relu "
    "tanh cosh sum mean prod std var max min clip maximum minimum where divide true_divide>divide divide_no_nan "
    "norm logsumexp logaddexp arccos>acos arcsin>asin arctanh>atanh count_nonzero stack normalize "
    "binary_crossentropy categorical_crossentropy sparse_categorical_crossentropy"
)
_KERAS_BACKEND = (
    "log exp sqrt square pow abs sigmoid softmax softplus relu sum mean prod std var max min clip maximum minimum "
    "epsilon binary_crossentropy categorical_crossentropy sparse_categorical_crossentropy"
)
_KERAS_LOSS_FUNCTIONS = (
    "binary_crossentropy categorical_crossentropy sparse_categorical_crossentropy binary_focal_crossentropy "
    "categorical_focal_crossentropy mean_squared_error>mse mse mean_absolute_error>mae mae log_cosh huber "
    "kl_divergence>keras_kl_div kld>keras_kl_div cosine_similarity"
)
# TensorFlow 1's losses (tf.losses in TF1, tf.compat.v1.losses): (labels, logits or predictions, weights, ...),
# reduced to a scalar. TensorFlow 2's tf.losses is tf.keras.losses instead.
_TF1_LOSSES = (
    "softmax_cross_entropy>softmax_ce_logits sparse_softmax_cross_entropy>sparse_softmax_ce_logits "
    "sigmoid_cross_entropy>sigmoid_ce_logits log_loss mean_squared_error>mse absolute_difference>mae "
    "huber_loss>huber"
)
_ACTIVATIONS = "softmax sigmoid softplus relu log_softmax tanh"
_NUMPY = (
    "log log1p log2 log10 exp expm1 sqrt square power>pow abs tanh cosh sum mean prod std var max min amax amin clip "
    "maximum minimum where divide true_divide>divide norm det slogdet logaddexp arccos>acos arcsin>asin "
    "arctanh>atanh count_nonzero stack concatenate>concat isnan nan_to_num reciprocal"
)
_SCIPY_SPECIAL = "expit>sigmoid softmax log_softmax logsumexp xlogy entr log_expit>logsigmoid"
_JAX_NN = "softmax log_softmax sigmoid log_sigmoid>logsigmoid softplus relu logsumexp normalize>standardize"

_TORCH_MODULES = (
    "Sigmoid>sigmoid Softmax>softmax LogSoftmax>log_softmax LogSigmoid>logsigmoid Softplus>softplus ReLU>relu "
    "Softmin>softmin BCELoss>bce BCEWithLogitsLoss>bce_logits CrossEntropyLoss>cross_entropy NLLLoss>nll "
    "KLDivLoss>kl_div MSELoss>mse L1Loss>mae SmoothL1Loss>smooth_l1 HuberLoss>huber CTCLoss>ctc "
    "CosineSimilarity>cosine_similarity"
)
_KERAS_LOSS_CLASSES = (
    "BinaryCrossentropy>binary_crossentropy CategoricalCrossentropy>categorical_crossentropy "
    "SparseCategoricalCrossentropy>sparse_categorical_crossentropy BinaryFocalCrossentropy>binary_focal_crossentropy "
    "CategoricalFocalCrossentropy>categorical_focal_crossentropy MeanSquaredError>mse MeanAbsoluteError>mae "
    "LogCosh>log_cosh Huber>huber KLDivergence>keras_kl_div"
)

# Operations the value analysis follows (facts.py) besides the math above: shape and layout changes keep their
# input's facts, constructors make fresh values, comparisons make masks, index ops make integer indices.
_SHAPE = (
    "reshape transpose permute squeeze unsqueeze expand_dims>unsqueeze broadcast_to tile flatten flip "
    "reverse>flip roll gather gather_nd>gather index_select>gather take>gather take_along_axis>gather "
    "take_along_dim>gather narrow clone identity>clone swapaxes>transpose moveaxis>transpose"
)
_COMPARE = (
    "eq ne gt lt ge le greater>gt less>lt equal>eq not_equal>ne greater_equal>ge less_equal>le "
    "logical_and>logical logical_or>logical logical_xor>logical logical_not>logical_not isfinite is_finite>isfinite "
    "isinf is_inf>isinf isclose>eq"
)
_INDEX = "argmax argmin argsort>argmax nonzero argwhere>nonzero unique topk top_k>topk sort cumsum cumprod"
_MAKE = (
    "tensor as_tensor constant>tensor convert_to_tensor>tensor array>tensor asarray>tensor zeros zeros_like>zeros "
    "ones ones_like>ones full full_like>full fill>full arange range>arange linspace eye rand rand_like>rand "
    "randn randn_like>randn randint randint_like>randint randperm>randint"
)
_TF_RANDOM = "uniform>rand normal>randn truncated_normal>randn"
_POOL = ("avg_pool1d>avg_pool avg_pool2d>avg_pool avg_pool3d>avg_pool adaptive_avg_pool1d>avg_pool "
         "adaptive_avg_pool2d>avg_pool adaptive_avg_pool3d>avg_pool max_pool1d>max_pool max_pool2d>max_pool "
         "max_pool3d>max_pool adaptive_max_pool2d>max_pool conv1d>conv conv2d>conv conv3d>conv")
_MORE = _SHAPE + " " + _COMPARE + " " + _INDEX + " nansum nanmean matmul einsum>matmul"

# framework -> {namespace: spec}; every namespace is a fully qualified module path.
_FUNCTIONS: dict[str, dict[str, str]] = {
    "torch": {
        "torch": _MATH + " " + "logsigmoid>logsigmoid special_expit>sigmoid " + _MORE + " " + _MAKE +
        " detach bmm>matmul mm>matmul t>transpose unique_consecutive>unique",
        "torch.special": "expit>sigmoid logit log_softmax softmax logsumexp xlogy entr log1p expm1",
        "torch.nn.functional": "softmax log_softmax softmin sigmoid logsigmoid softplus relu normalize "
        "cosine_similarity gumbel_softmax one_hot linear>matmul " + _POOL + " " + _LOSSES_TORCH,
        "torch.linalg": "norm vector_norm>norm matrix_norm det slogdet eigh",
        "torch.distributions.utils": "clamp_probs",
    },
    "tf": {
        "tensorflow": _TF_TOP + " " + TF1_REMOVED + " " + _MORE + " " + _MAKE + " stop_gradient one_hot "
        "unique_with_counts>unique",
        "tensorflow.math": _TF_MATH + " " + _COMPARE + " " + _INDEX + " nansum>nansum",
        "tensorflow.random": _TF_RANDOM,
        "tensorflow.nn": _TF_NN + " avg_pool avg_pool1d>avg_pool avg_pool2d>avg_pool max_pool max_pool2d>max_pool "
        "conv2d>conv conv1d>conv",
        "tensorflow.linalg": "norm det logdet slogdet l2_normalize>normalize eigh",
        "tensorflow.keras.backend": _KERAS_BACKEND,
        "tensorflow.keras.activations": _ACTIVATIONS,
        "tensorflow.keras.losses": _KERAS_LOSS_FUNCTIONS,
        "tensorflow.losses": _KERAS_LOSS_FUNCTIONS,  # TensorFlow 2: tf.losses is tf.keras.losses
    },
    "tf1": {
        "tensorflow.compat.v1": _TF_TOP + " " + TF1_REMOVED + " " + _MORE + " " + _MAKE + " stop_gradient "
        "one_hot",
        "tensorflow.compat.v1.math": _TF_MATH,
        "tensorflow.compat.v1.nn": _TF_NN,
        "tensorflow.compat.v1.linalg": "norm det logdet slogdet l2_normalize>normalize",
        "tensorflow.compat.v1.losses": _TF1_LOSSES,
        "tensorflow.losses": _TF1_LOSSES,  # TensorFlow 1's own tf.losses
        "tensorflow.compat.v1.keras.losses": _KERAS_LOSS_FUNCTIONS,
    },
    "keras": {
        "keras.ops": _KERAS_OPS + " average_pool>avg_pool max_pool conv " + _MORE + " " + _MAKE + " stop_gradient one_hot cast",
        "tensorflow.keras.ops": _KERAS_OPS + " " + _MORE + " " + _MAKE + " stop_gradient one_hot cast",
        "keras.activations": _ACTIVATIONS,
        "keras.losses": _KERAS_LOSS_FUNCTIONS,
        "keras.backend": _KERAS_BACKEND,
        "keras.config": "epsilon",
        "tensorflow.keras.config": "epsilon",
    },
    "numpy": {"numpy": _NUMPY + " " + _MORE + " " + _MAKE, "numpy.linalg": "norm det slogdet eigh",
              "numpy.random": "rand randn uniform>rand normal>randn randint"},
    "scipy": {"scipy.special": _SCIPY_SPECIAL},
    "jax": {
        "jax.numpy": _NUMPY + " logaddexp " + _MORE + " " + _MAKE,
        "jax.lax": "stop_gradient",
        "jax.random": "uniform>rand normal>randn randint bernoulli>randint",
        "jax.numpy.linalg": "norm det slogdet eigh",
        "jax.nn": _JAX_NN + " one_hot",
        "jax.scipy.special": "xlogy entr logsumexp expit>sigmoid",
        "flax.linen": "softmax log_softmax sigmoid log_sigmoid>logsigmoid softplus relu",
        "optax": "adam adamw nadam adamax rmsprop adagrad sgd",
    },
}

_MODULES: dict[str, dict[str, str]] = {
    "torch": {"torch.nn": _TORCH_MODULES},
    "keras": {
        "keras.losses": _KERAS_LOSS_CLASSES,
        "tensorflow.keras.losses": _KERAS_LOSS_CLASSES,
        "tensorflow.losses": _KERAS_LOSS_CLASSES,
        "tensorflow.compat.v1.keras.losses": _KERAS_LOSS_CLASSES,
        "keras.layers": "Softmax>softmax",
        "tensorflow.keras.layers": "Softmax>softmax",
    },
}


def _build() -> dict[str, Api]:
    table: dict[str, Api] = {}
    for kind, source in (("function", _FUNCTIONS), ("module", _MODULES)):
        for framework, namespaces in source.items():
            for namespace, spec in namespaces.items():
                for spelled, op in _parse(spec):
                    table.setdefault(f"{namespace}.{spelled}", Api(op, framework, kind))
    return table


FUNCTIONS: dict[str, Api] = _build()
"""Qualified name -> Api, for every function and module class spelling the rules know."""

# Op -> the last names its calls can have ("sum": {"sum", "reduce_sum"}), to find candidate calls cheaply.
SPELLINGS: dict[str, set[str]] = {}
# Last names of the classes whose instances compute an op when called (Sigmoid, BCELoss, ...).
MODULE_CLASSES: frozenset[str] = frozenset(q.rpartition(".")[2] for q, a in FUNCTIONS.items() if a.kind == "module")

# Ops that PyTorch tensors (and, for reductions, NumPy/JAX arrays) have as methods: ``x.log()``, ``x.sum(1)``.
TENSOR_METHODS: dict[str, str] = dict(
    _parse(
        "log log1p log2 log10 exp expm1 sqrt rsqrt square pow abs sigmoid softmax log_softmax logsumexp relu tanh "
        "cosh sum mean prod std var max min amax amin clamp clamp_min clamp_max clip div>divide divide div_>divide "
        "true_divide_>divide "
        "true_divide>divide norm det logdet maximum minimum masked_fill masked_fill_>masked_fill xlogy acos asin "
        "atanh arccos>acos "
        "arcsin>asin arctanh>atanh count_nonzero reciprocal nan_to_num " + _MORE + " t>transpose view>reshape view_as>reshape "
        "reshape_as>reshape expand>broadcast_to expand_as>broadcast_to repeat>tile contiguous>clone detach numel "
        "nelement>numel masked_select nan_to_num any all unique_consecutive>unique"
    )
)

for _qualname, _api in FUNCTIONS.items():
    SPELLINGS.setdefault(_api.op, set()).add(_qualname.rpartition(".")[2])
for _method, _op in TENSOR_METHODS.items():
    SPELLINGS.setdefault(_op, set()).add(_method)

# Arithmetic in call form, one table for every rule and the value analysis: ``a.add(b)`` is ``a + b``,
# ``torch.mul(a, b)`` is ``a * b``, ``tf.math.subtract(a, b)`` is ``a - b``, ``x.neg()`` is ``-x``, ``torch.rsub(a,
# b)`` is ``b - a``; an in-place method (``x.add_(b)``) is the same operator applied to its receiver. Operators:
# add, sub, mul, div, pow, neg, rsub (``Module.arith`` turns them into ``ast`` operators).
_OPERATOR_METHODS = "add sub subtract>sub mul multiply>mul div divide>div true_divide>div pow neg negative>neg"
_OPERATOR_FUNCTIONS = {
    "torch": "add sub subtract>sub mul multiply>mul div divide>div true_divide>div pow neg negative>neg rsub",
    "tf": "add subtract>sub multiply>mul divide>div truediv>div realdiv>div pow negative>neg",
    "tf1": "add subtract>sub multiply>mul divide>div truediv>div realdiv>div div pow negative>neg",
    "keras": "add subtract>sub multiply>mul divide>div true_divide>div power>pow negative>neg",
    "jax": "add subtract>sub multiply>mul divide>div true_divide>div power>pow negative>neg",
    "numpy": "add subtract>sub multiply>mul divide>div true_divide>div power>pow negative>neg",
}
_OPERATOR_NAMESPACES = {
    "torch": ("torch",), "tf": ("tensorflow", "tensorflow.math"),
    "tf1": ("tensorflow.compat.v1", "tensorflow.compat.v1.math"), "keras": ("keras.ops", "tensorflow.keras.ops"),
    "jax": ("jax.numpy",), "numpy": ("numpy",),
}
OPERATOR_METHODS: dict[str, str] = dict(_parse(_OPERATOR_METHODS))
"""Tensor method name -> operator (add, sub, mul, div, pow, neg); ``name_`` is the in-place form."""
OPERATOR_FUNCTIONS: dict[str, str] = {
    f"{namespace}.{spelled}": operator
    for framework, spec in _OPERATOR_FUNCTIONS.items()
    for namespace in _OPERATOR_NAMESPACES[framework]
    for spelled, operator in _parse(spec)
}
"""Qualified function name -> operator (add, sub, mul, div, pow, neg, rsub)."""

# Roots whose import makes a file "framework code" (tensors flow through it).
FRAMEWORK_ROOTS = frozenset({"torch", "tensorflow", "keras", "jax", "flax"})
# Roots of the installed libraries lossling knows: never a module of the checked project.
LIBRARY_ROOTS = FRAMEWORK_ROOTS | {"numpy", "scipy", "optax"}

# Stable replacements: (op, framework) -> qualified name. Rules ask by the op they want to emit.
STABLE: dict[tuple[str, str], str] = {}
for _fw, _ns, _spec in (
    ("torch", "torch.nn.functional", "log_softmax logsigmoid softplus softmax normalize cosine_similarity "
     "binary_cross_entropy_with_logits>bce_logits binary_cross_entropy>bce cross_entropy"),
    ("torch", "torch", "logsumexp logaddexp log1p expm1 sigmoid logdet xlogy clamp vector_norm"),
    ("torch", "torch.special", "entr"),
    ("torch", "torch.linalg", "vector_norm>norm slogdet"),
    ("tf", "tensorflow.nn", "log_softmax softmax sigmoid_cross_entropy_with_logits>sigmoid_ce_logits "
     "softmax_cross_entropy_with_logits>softmax_ce_logits "
     "sparse_softmax_cross_entropy_with_logits>sparse_softmax_ce_logits"),
    ("tf", "tensorflow.math", "log_sigmoid>logsigmoid log1p expm1 softplus reduce_logsumexp>logsumexp xlogy "
     "sigmoid divide_no_nan l2_normalize>normalize"),
    ("tf", "tensorflow.linalg", "logdet slogdet"),
    ("tf1", "tensorflow.compat.v1.nn", "log_softmax softmax sigmoid_cross_entropy_with_logits>sigmoid_ce_logits "
     "softmax_cross_entropy_with_logits_v2>softmax_ce_logits "
     "sparse_softmax_cross_entropy_with_logits>sparse_softmax_ce_logits"),
    ("tf1", "tensorflow.compat.v1.math", "log_sigmoid>logsigmoid log1p expm1 softplus "
     "reduce_logsumexp>logsumexp xlogy sigmoid divide_no_nan l2_normalize>normalize"),
    ("keras", "keras.ops", "log_softmax log_sigmoid>logsigmoid log1p expm1 softplus logsumexp logaddexp softmax "
     "sigmoid divide_no_nan normalize binary_crossentropy categorical_crossentropy"),
    ("numpy", "numpy", "log1p expm1 logaddexp"),
    ("numpy", "scipy.special", "log_softmax log_expit>logsigmoid logsumexp softmax expit>sigmoid xlogy entr"),
    ("scipy", "scipy.special", "log_softmax log_expit>logsigmoid logsumexp softmax expit>sigmoid xlogy entr"),
    ("jax", "jax.nn", "log_softmax log_sigmoid>logsigmoid softplus logsumexp softmax sigmoid"),
    ("jax", "jax.numpy", "log1p expm1 logaddexp"),
    ("jax", "jax.scipy.special", "xlogy entr"),
):
    for _spelled, _op in _parse(_spec):
        STABLE.setdefault((_op, _fw), f"{_ns}.{_spelled}")

# Distributions with a probs/logits pair: qualified name -> (the activation whose output ``probs`` is when
# ``logits`` is its input, the position of ``probs`` when passed positionally, None where only keywords count).
_DISTRIBUTIONS = (
    "categorical.Categorical>softmax@0 one_hot_categorical.OneHotCategorical>softmax@0 "
    "relaxed_categorical.RelaxedOneHotCategorical>softmax@1 multinomial.Multinomial>softmax@1 "
    "bernoulli.Bernoulli>sigmoid@0 continuous_bernoulli.ContinuousBernoulli>sigmoid@0 geometric.Geometric>sigmoid@0 "
    "binomial.Binomial>sigmoid@1 negative_binomial.NegativeBinomial>sigmoid@1 "
    "relaxed_bernoulli.RelaxedBernoulli>sigmoid@1"
)
DISTRIBUTIONS: dict[str, tuple[str, int | None]] = {}
for _spelled, _op in _parse(_DISTRIBUTIONS):
    _activation, _, _position = _op.partition("@")
    _submodule, _, _cls = _spelled.partition(".")
    for _ns, _pos in (("torch.distributions", int(_position)), (f"torch.distributions.{_submodule}", int(_position)),
                      ("tensorflow_probability.distributions", None),
                      ("tensorflow_probability.substrates.jax.distributions", None)):
        DISTRIBUTIONS[f"{_ns}.{_cls}"] = (_activation, _pos)

# Optimizers: qualified name -> (kind, position of the learning rate). Kind "sgd" is plain gradient descent,
# any other is the adaptive method's name in lower case ("adam", "adagrad" ...).
OPTIMIZERS: dict[str, tuple[str, int]] = {}
_KERAS_OPTIMIZERS = "Adam AdamW Adamax Nadam RMSprop Adagrad SGD>sgd"
for _ns, _lr, _spec in (
    ("torch.optim", 1, "Adam AdamW Adamax NAdam RAdam RMSprop Adagrad SGD>sgd"),
    ("keras.optimizers", 0, _KERAS_OPTIMIZERS),
    ("tensorflow.keras.optimizers", 0, _KERAS_OPTIMIZERS),
    ("tensorflow.optimizers", 0, _KERAS_OPTIMIZERS),
    ("tensorflow.compat.v1.train", 0, "AdamOptimizer>adam RMSPropOptimizer>rmsprop AdagradOptimizer>adagrad "
     "GradientDescentOptimizer>sgd MomentumOptimizer>sgd"),
    ("tensorflow.train", 0, "AdamOptimizer>adam RMSPropOptimizer>rmsprop AdagradOptimizer>adagrad "
     "GradientDescentOptimizer>sgd MomentumOptimizer>sgd"),  # TensorFlow 1's own tf.train
    ("optax", 0, "adam adamw nadam adamax rmsprop adagrad sgd"),
):
    for _spelled, _kind in _parse(_spec):
        OPTIMIZERS[f"{_ns}.{_spelled}"] = (_kind.lower(), _lr)

# Where a framework names the reduction/activation axis.
AXIS_KEYWORD = {"torch": "dim"}


def axis_keyword(framework: str) -> str:
    return AXIS_KEYWORD.get(framework, "axis")


def stable(op: str, framework: str) -> str | None:
    """The qualified name of the stable ``op`` in ``framework``, if the framework has one."""
    return STABLE.get((op, framework))


TF1_ONLY: frozenset[str] = frozenset(f"tensorflow.{spelled}" for spelled, _ in _parse(TF1_REMOVED))
"""Qualified names that exist only in TensorFlow 1 (``tensorflow.log``): never emit them in a fix."""


def framework_of(qualname: str) -> str | None:
    """The framework family a qualified name lives in, for names the table does not list (e.g. a model class)."""
    root = qualname.partition(".")[0]
    if qualname.startswith("tensorflow.compat.v1"):
        return "tf1"
    return {"tensorflow": "tf", "jax": "jax", "flax": "jax", "scipy": "scipy"}.get(root, root)

"""Activation functions in NumPy (float64): the definition of correct for the C++ kernels.

    activation_forward(kind, x, alpha=0.0, beta=0.0) -> y
    activation_backward(kind, x, y, gy, alpha=0.0, beta=0.0) -> gx
    prelu_forward(x, weight) -> y
    prelu_backward(x, weight, gy, need_x=True, need_weight=True) -> (gx, gweight)

`kind` is one of ACTIVATION_KINDS; `alpha` and `beta` are its parameters:

    kind         y(x)                                         alpha           beta       backward reads
    relu         max(x, 0)                                    -               -          y (or x)
    relu6        min(max(x, 0), 6)                            -               -          y (or x)
    hardtanh     min(max(x, alpha), beta)                     min_val         max_val    y (or x)
    leaky_relu   x if x > 0 else alpha x                      negative_slope  -          y (or x); x if alpha < 0
    elu          x if x > 0 else alpha (e^x - 1)              alpha           -          y (or x); x if alpha < 0
    selu         scale elu(x, 1.6732632...), scale 1.0507...  -               -          y (or x)
    gelu         x Phi(x), Phi the standard normal CDF        -               -          x
    gelu_tanh    x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))/2  -             -          x
    silu         x sigmoid(x)                                 -               -          x
    sigmoid      1 / (1 + e^-x)                               -               -          y
    tanh         tanh(x)                                      -               -          y
    softplus     x if alpha x > beta else log1p(e^(alpha x))/alpha  beta      threshold  x
    hardswish    x min(max(x + 3, 0), 6) / 6                  -               -          x
    hardsigmoid  min(max(x + 3, 0), 6) / 6                    -               -          y

"Backward reads" is what the autograd Function keeps from the forward pass
(`activation_saves(kind, alpha)` says which, 'x' or 'y'): the output wherever it suffices,
so that the input can be freed. Where "or x" is listed, either may be passed (with both, x
is used). Derivatives at kinks and at NaN follow PyTorch's vectorized kernels: relu'(0) = 0,
hardtanh' = 0 at both ends, leaky_relu'(0) = alpha, elu'(0) = alpha, hardswish'(-3) = 0 and
hardswish'(3) = 1; at x = NaN relu passes the gradient, hardtanh, relu6 and hardsigmoid stop
it, leaky_relu scales it by alpha, the others give NaN.

Reading y costs elu and selu some accuracy far left: f'(x) = y + alpha cancels where e^x
is below the float rounding of alpha (absolute error about 1e-7 alpha in float32).

Every result is a new array in the dtype of the inputs (float32 or float64).
"""

import math

import numpy as np

__all__ = ["ACTIVATION_KINDS", "activation_saves", "activation_backward_input", "activation_forward",
           "activation_backward", "prelu_forward", "prelu_backward"]

ACTIVATION_KINDS = ("relu", "relu6", "hardtanh", "leaky_relu", "elu", "selu", "gelu", "gelu_tanh", "silu", "sigmoid",
                    "tanh", "softplus", "hardswish", "hardsigmoid")

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715

_EITHER = frozenset(("relu", "relu6", "hardtanh", "selu"))
_Y_ONLY = frozenset(("sigmoid", "tanh", "hardsigmoid"))


def activation_backward_input(kind, alpha=0.0):
    """What activation_backward reads for `kind`: 'x', 'y' or 'either'."""
    _check_kind(kind, "activation_backward_input")
    if kind in _EITHER or (kind in ("leaky_relu", "elu") and alpha >= 0):
        return "either"
    return "y" if kind in _Y_ONLY else "x"


def activation_saves(kind, alpha=0.0):
    """What an autograd Function keeps for the backward of `kind`: 'y' (the output) where it
    suffices, else 'x' (the input)."""
    return "x" if activation_backward_input(kind, alpha) == "x" else "y"


def _check_kind(kind, op):
    if kind not in ACTIVATION_KINDS:
        if not isinstance(kind, str):
            raise TypeError(f"{op}: argument 'kind' must be a str, got {type(kind).__name__}")
        raise ValueError(f"{op}: unknown activation kind {kind!r}; expected one of "
                         + ", ".join(repr(k) for k in ACTIVATION_KINDS))


def _float_array(a, op, arg):
    if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64):
        got = (f"a {a.dtype} array of shape {a.shape}" if isinstance(a, np.ndarray)
               else f"an object of type {type(a).__name__}")
        raise TypeError(f"{op}: argument '{arg}' must be a float32 or float64 numpy array, got {got}")
    return a


def _like(a, ref, op, arg, ref_name):
    _float_array(a, op, arg)
    if a.dtype != ref.dtype:
        raise TypeError(f"{op}: argument '{arg}' must be a {ref.dtype} numpy array (the dtype of '{ref_name}'), "
                        f"got a {a.dtype} array of shape {a.shape}")
    if a.shape != ref.shape:
        raise ValueError(f"{op}: argument '{arg}' must have the shape of '{ref_name}' {ref.shape}, got shape {a.shape}")
    return a


_erfc = np.frompyfunc(math.erfc, 1, 1)


def _normal_cdf(x):
    return 0.5 * np.asarray(_erfc(-x / math.sqrt(2.0)), dtype=np.float64)


def _normal_pdf(x):
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def activation_forward(kind, x, alpha=0.0, beta=0.0):
    _check_kind(kind, "activation_forward")
    _float_array(x, kind, "x")
    v = x.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        y = _FORWARD[kind](v, float(alpha), float(beta))
    return np.asarray(y, dtype=x.dtype).reshape(x.shape)


def _hardtanh(v, lo, hi):
    return np.where(v < lo, lo, np.where(v > hi, hi, v))


def _softplus(v, b, threshold):
    z = b * v
    sp = (np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))) / b
    return np.where(z > threshold, v, sp)


_FORWARD = {
    "relu": lambda v, a, b: np.where(v < 0, 0.0, v),
    "relu6": lambda v, a, b: _hardtanh(v, 0.0, 6.0),
    "hardtanh": lambda v, a, b: _hardtanh(v, a, b),
    "leaky_relu": lambda v, a, b: np.where(v > 0, v, v * a),
    "elu": lambda v, a, b: np.where(v > 0, v, a * np.expm1(v)),
    "selu": lambda v, a, b: SELU_SCALE * np.where(v > 0, v, SELU_ALPHA * np.expm1(v)),
    "gelu": lambda v, a, b: v * _normal_cdf(v),
    # x (1 + tanh u) / 2 = x sigmoid(2u): no cancellation for x < 0
    "gelu_tanh": lambda v, a, b: v * _sigmoid(2.0 * _GELU_K * (v + _GELU_C * v**3)),
    "silu": lambda v, a, b: v * _sigmoid(v),
    "sigmoid": lambda v, a, b: _sigmoid(v),
    "tanh": lambda v, a, b: np.tanh(v),
    "softplus": _softplus,
    "hardswish": lambda v, a, b: v * np.clip(v + 3.0, 0.0, 6.0) / 6.0,
    "hardsigmoid": lambda v, a, b: np.clip(v + 3.0, 0.0, 6.0) / 6.0,
}


def activation_backward(kind, x, y, gy, alpha=0.0, beta=0.0):
    _check_kind(kind, "activation_backward")
    op = f"{kind} backward"
    _float_array(gy, op, "gy")
    need = activation_backward_input(kind, alpha)
    if need == "x" and x is None:
        raise ValueError(f"{op}: needs the forward input 'x' (got None)"
                         + (" when alpha < 0" if kind in ("leaky_relu", "elu") else ""))
    if need == "y" and y is None:
        raise ValueError(f"{op}: needs the forward output 'y' (got None)")
    if need == "either" and x is None and y is None:
        raise ValueError(f"{op}: needs the forward output 'y' or input 'x' (both are None)")
    from_y = need == "y" or (need == "either" and x is None)
    v = _like(y if from_y else x, gy, op, "y" if from_y else "x", "gy").astype(np.float64)
    g = gy.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        d = _derivative(kind, v, from_y, float(alpha), float(beta))
        gx = g * d
    return np.asarray(gx, dtype=gy.dtype).reshape(gy.shape)


def _derivative(kind, v, from_y, a, b):
    """f'(x) from v = x, or from v = y when from_y."""
    # the comparisons are those of PyTorch's vectorized kernels, so that NaN in v gives the
    # same gradient (relu passes gy, hardtanh stops it, most others give NaN)
    if kind == "relu":
        return np.where(v <= 0, 0.0, 1.0)
    if kind in ("relu6", "hardtanh"):
        lo, hi = (0.0, 6.0) if kind == "relu6" else (a, b)
        return np.where((v > lo) & (v < hi), 1.0, 0.0)
    if kind == "leaky_relu":
        return np.where(v > 0, 1.0, a)
    if kind in ("elu", "selu"):
        scale, alpha = (1.0, a) if kind == "elu" else (SELU_SCALE, SELU_ALPHA)
        neg = v + scale * alpha if from_y else scale * alpha * np.exp(v)  # y = scale alpha (e^x - 1)
        return np.where(v > 0, scale, neg)
    if kind == "gelu":
        return _normal_cdf(v) + v * _normal_pdf(v)
    if kind == "gelu_tanh":
        two_u = 2.0 * _GELU_K * (v + _GELU_C * v**3)
        s, one_minus_s = _sigmoid(two_u), _sigmoid(-two_u)
        return s + v * s * one_minus_s * 2.0 * _GELU_K * (1.0 + 3.0 * _GELU_C * v * v)
    if kind == "silu":
        s = _sigmoid(v)
        return s + v * s * _sigmoid(-v)
    if kind == "sigmoid":
        return v * (1.0 - v)
    if kind == "tanh":
        return (1.0 - v) * (1.0 + v)
    if kind == "softplus":
        z = a * v
        return np.where(z > b, 1.0, _sigmoid(z))
    if kind == "hardswish":
        return np.where(v <= -3, 0.0, np.where(v >= 3, 1.0, v / 3.0 + 0.5))
    if kind == "hardsigmoid":
        return np.where((v > 0) & (v < 1), 1.0 / 6.0, 0.0)
    raise AssertionError(kind)


def _prelu_view(x, weight, op):
    _float_array(x, op, "x")
    _float_array(weight, op, "weight")
    if weight.dtype != x.dtype:
        raise TypeError(f"{op}: argument 'weight' must be a {x.dtype} numpy array (the dtype of 'x'), "
                        f"got a {weight.dtype} array of shape {weight.shape}")
    if weight.ndim > 1:
        raise ValueError(f"{op}: argument 'weight' must be 1-D (one slope per channel, or a single slope), "
                         f"got shape {weight.shape}")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.size not in (1, channels):
        raise ValueError(f"{op}: argument 'weight' has {weight.size} entries; expected 1 or the number of channels "
                         f"(dimension 1 of the input) {channels}, for input of shape {x.shape}")
    w = weight.astype(np.float64).reshape(-1)
    if weight.size == 1 or x.ndim < 2:
        return w.reshape(()), ()
    return w.reshape((channels,) + (1,) * (x.ndim - 2)), tuple(i for i in range(x.ndim) if i != 1)


def prelu_forward(x, weight):
    w, _ = _prelu_view(x, weight, "prelu")
    v = x.astype(np.float64)
    return np.where(v > 0, v, w * v).astype(x.dtype)


def prelu_backward(x, weight, gy, need_x=True, need_weight=True):
    w, reduce_axes = _prelu_view(x, weight, "prelu backward")
    _like(gy, x, "prelu backward", "gy", "x")
    v, g = x.astype(np.float64), gy.astype(np.float64)
    gx = np.where(v > 0, g, w * g).astype(x.dtype) if need_x else None
    gw = None
    if need_weight:
        contrib = np.where(v > 0, 0.0, v * g)
        gw = (contrib.sum() if weight.size == 1 or x.ndim < 2 else contrib.sum(axis=reduce_axes))
        gw = np.asarray(gw, dtype=weight.dtype).reshape(weight.shape)
    return gx, gw

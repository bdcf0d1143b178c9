"""Normalization ops, each one autograd node on the C++ kernels, with PyTorch's
torch.nn.functional names, arguments and defaults: batch_norm, layer_norm and
local_response_norm.

batch_norm keeps the batch statistics of its forward pass (float64 mean and 1/std per
channel) and computes dx, dweight and dbias in one fused backward pass per channel; in
training it updates the running statistics (arrays of the input's dtype) in place.
"""

import numbers

import numpy as np

from ..autograd.function import Function
from ..backends import for_array
from ..tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "local_response_norm"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _data(t):
    return t.data if isinstance(t, Tensor) else t


def _input(input, op, min_ndim):
    x = _data(input)
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{op}: expected a tensor or an array as input, got {type(input).__name__}")
    if x.dtype not in _FLOATS:
        raise TypeError(f"{op}: expected a floating point input (float32 or float64), got {x.dtype}")
    if x.ndim < min_ndim:
        raise ValueError(f"{op}: expected an input of at least {min_ndim} dimensions, got shape {tuple(x.shape)}")
    return x


def _float(v, name, op):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{op}: argument '{name}' must be a number, got {type(v).__name__}")
    return float(v)


class BatchNormFunction(Function):
    """y = (x - mean) * invstd * weight + bias per channel (dim 1); backward: (dx, dweight, dbias)."""

    def forward(self, x, weight=None, bias=None, running_mean=None, running_var=None, training=True, momentum=0.1,
                eps=1e-5):
        be = for_array(x)
        y, mean, invstd = be.batch_norm_forward(x, weight, bias, running_mean, running_var, training, momentum, eps)
        if any(self.needs_input_grad):
            self.be, self.x, self.weight, self.mean, self.invstd, self.training = be, x, weight, mean, invstd, training
        return y

    def backward(self, gy):
        nx, nw, nb = self.needs_input_grad
        return self.be.batch_norm_backward(gy, self.x, self.weight, self.mean, self.invstd, self.training, nx, nw, nb)

    def name(self):
        return "NativeBatchNormBackward"


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """PyTorch's F.batch_norm over dimension 1 of an (N, C), (N, C, L) or (N, C, H, W) input.

    training=True normalizes with the batch statistics (biased variance) and, when running_mean
    and running_var are given, updates them in place: r = (1 - momentum) r + momentum * stat
    with the unbiased variance. training=False uses the running statistics.
    """
    op = "batch_norm"
    x = _input(input, op, 2)
    momentum = 0.0 if momentum is None else _float(momentum, "momentum", op)
    eps = _float(eps, "eps", op)
    C = x.shape[1]
    rm, rv = _data(running_mean), _data(running_var)
    for name, v in (("running_mean", rm), ("running_var", rv), ("weight", _data(weight)), ("bias", _data(bias))):
        if v is not None and tuple(v.shape) != (C,):
            raise ValueError(f"{op}: expected {name} of shape ({C},) (the input's {C} channels in dimension 1), "
                             f"got shape {tuple(v.shape)} for an input of shape {tuple(x.shape)}")
    return BatchNormFunction.apply(input, weight, bias, running_mean=rm, running_var=rv, training=bool(training),
                                   momentum=momentum, eps=eps)


class LayerNormFunction(Function):
    def forward(self, x, weight=None, bias=None, normalized_shape=None, eps=1e-5):
        be = for_array(x)
        y, mean, rstd = be.layer_norm_forward(x, normalized_shape, weight, bias, eps)
        if any(self.needs_input_grad):
            self.be, self.x, self.weight, self.mean, self.rstd, self.ns = be, x, weight, mean, rstd, normalized_shape
        return y

    def backward(self, gy):
        nx, nw, nb = self.needs_input_grad
        return self.be.layer_norm_backward(gy, self.x, self.ns, self.weight, self.mean, self.rstd, nx, nw, nb)

    def name(self):
        return "NativeLayerNormBackward"


def normalized_shape_arg(normalized_shape, op):
    if isinstance(normalized_shape, (numbers.Integral, np.integer)) and not isinstance(normalized_shape, bool):
        return (int(normalized_shape),)
    try:
        ns = tuple(int(v) for v in normalized_shape)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}") from None
    if not ns:
        raise ValueError(f"{op}: normalized_shape must have at least one dimension")
    return ns


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """PyTorch's F.layer_norm: normalize over the trailing dimensions normalized_shape (mean and
    biased variance per row), then weight * xhat + bias elementwise (weight, bias of shape
    normalized_shape, or None)."""
    op = "layer_norm"
    x = _input(input, op, 1)
    ns = normalized_shape_arg(normalized_shape, op)
    if len(ns) > x.ndim or tuple(x.shape[x.ndim - len(ns):]) != ns:
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} does not end with normalized_shape {ns}")
    return LayerNormFunction.apply(input, weight, bias, normalized_shape=ns, eps=_float(eps, "eps", op))


class LocalResponseNormFunction(Function):
    def forward(self, x, size=1, alpha=1e-4, beta=0.75, k=1.0):
        be = for_array(x)
        if self.needs_input_grad[0]:
            self.be, self.x, self.args = be, x, (size, alpha, beta, k)
        return be.local_response_norm_forward(x, size, alpha, beta, k)

    def backward(self, gy):
        return self.be.local_response_norm_backward(gy, self.x, *self.args)

    def name(self):
        return "LocalResponseNormBackward"


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """PyTorch's F.local_response_norm over channels (dim 1) of an input of 3 or more dims:
    y = x / (k + alpha/size * sum of x^2 over channels c - size//2 .. c + (size-1)//2)^beta."""
    op = "local_response_norm"
    x = _data(input)
    if hasattr(x, "ndim") and x.ndim < 3:
        raise ValueError(f"{op}: expected 3D or higher dimensionality input (got {x.ndim} dimensions)")
    _input(input, op, 3)
    if isinstance(size, bool) or not isinstance(size, (numbers.Integral, np.integer)) or size < 1:
        raise ValueError(f"{op}: size must be a positive int, got {size!r}")
    return LocalResponseNormFunction.apply(input, size=int(size), alpha=_float(alpha, "alpha", op),
                                           beta=_float(beta, "beta", op), k=_float(k, "k", op))

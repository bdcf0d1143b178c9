"""Normalization layers: BatchNorm1d, BatchNorm2d, LayerNorm, LocalResponseNorm, with
PyTorch's arguments, defaults, reprs and state_dict keys (weight, bias, running_mean,
running_var, num_batches_tracked as an int64 scalar)."""

import numbers

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import get_default_dtype
from ..ops import norm as N
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "LocalResponseNorm"]


def _count(v, name, op):
    if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)) or v <= 0:
        raise ValueError(f"{op}: argument '{name}' must be a positive int, got {v!r}")
    return int(v)


def _number(v, name, op):
    """A real number, kept as given (reprs show it as PyTorch's do)."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{op}: argument '{name}' must be a number, got {type(v).__name__}")
    return v


class _BatchNorm(Module):
    """Batch normalization over dimension 1 (PyTorch's _BatchNorm).

    Training: normalize with the batch's mean and biased variance; with
    track_running_stats, running_mean / running_var follow r = (1 - momentum) r + momentum *
    stat (unbiased variance), or the cumulative average when momentum is None, and
    num_batches_tracked counts the batches. Eval: normalize with the running statistics (the
    batch's own when track_running_stats=False).
    """

    _ndims = ()  # accepted input dimensions
    _expect = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        op = type(self).__name__
        self.num_features = _count(num_features, "num_features", op)
        self.eps = _number(eps, "eps", op)
        self.momentum = None if momentum is None else _number(momentum, "momentum", op)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dt = np.dtype(dtype or get_default_dtype())
        C = self.num_features
        if self.affine:
            self.weight = Parameter(np.ones(C, dt))
            if bias:
                self.bias = Parameter(np.zeros(C, dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(C, dt))
            self.register_buffer("running_var", np.ones(C, dt))
            self.register_buffer("num_batches_tracked", np.array(0, np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        if device is not None and device != "cpu":
            self.to(device)

    def reset_running_stats(self):
        if self.track_running_stats:
            with no_grad():
                self.running_mean.data[...] = 0
                self.running_var.data[...] = 1
                self.num_batches_tracked.data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            with no_grad():
                self.weight.data[...] = 1
                if self.bias is not None:
                    self.bias.data[...] = 0

    def _check_input(self, x):
        op = type(self).__name__
        shape = tuple(getattr(x, "shape", ()))
        if len(shape) not in self._ndims:
            raise ValueError(f"{op}: expected {self._expect} input (got {len(shape)}D input of shape {shape})")
        if shape[1] != self.num_features:
            raise ValueError(f"{op}: expected {self.num_features} channels (num_features) in dimension 1, got input of "
                             f"shape {shape} (channels-last data must be permuted to channels-first)")

    def forward(self, x):
        self._check_input(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.data)
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_stats = not self.training or self.track_running_stats
        return N.batch_norm(x, self.running_mean if use_stats else None, self.running_var if use_stats else None,
                            self.weight, self.bias, bn_training, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) inputs, per channel C."""

    _ndims = (2, 3)
    _expect = "2D or 3D"


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) inputs, per channel C."""

    _ndims = (4,)
    _expect = "4D"


class LayerNorm(Module):
    """Normalizes over the trailing dimensions normalized_shape; elementwise weight (ones) and
    bias (zeros) of that shape when elementwise_affine (bias=False drops the bias)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = N.normalized_shape_arg(normalized_shape, "LayerNorm")
        self.eps = _number(eps, "eps", "LayerNorm")
        self.elementwise_affine = bool(elementwise_affine)
        dt = np.dtype(dtype or get_default_dtype())
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dt))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if device is not None and device != "cpu":
            self.to(device)

    def reset_parameters(self):
        with no_grad():
            if self.weight is not None:
                self.weight.data[...] = 1
            if self.bias is not None:
                self.bias.data[...] = 0

    def forward(self, x):
        return N.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """x / (k + alpha/size * sum of x^2 over `size` neighbouring channels)^beta (AlexNet's LRN)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = _count(size, "size", "LocalResponseNorm")
        op = "LocalResponseNorm"
        self.alpha, self.beta, self.k = _number(alpha, "alpha", op), _number(beta, "beta", op), _number(k, "k", op)

    def forward(self, x):
        return N.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"

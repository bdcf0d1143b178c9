"""softmax, log_softmax, softmin: one autograd Function each way, on the backend's row
kernels (the reduced dim is moved last when it is not already)."""

import numpy as np

from ..autograd.function import Function
from ..backends import for_array
from ..tensor import Tensor
from ._util import contiguous, norm_dim

__all__ = ["softmax", "log_softmax", "softmin"]


class SoftmaxFunction(Function):
    """softmax (log=False) or log_softmax (log=True) along `dim`. Keeps only its output."""

    def forward(self, x, dim, log):
        B = for_array(x)
        last = dim == x.ndim - 1 or x.ndim == 0
        xs = x if last else contiguous(np.moveaxis(x, dim, -1))
        y = B.log_softmax_forward(xs) if log else B.softmax_forward(xs)
        self.y, self.dim, self.log, self.last = y, dim, log, last
        return y if last else contiguous(np.moveaxis(y, -1, dim))

    def backward(self, g):
        B = for_array(g)
        gs = g if self.last else np.moveaxis(g, self.dim, -1)
        gx = B.log_softmax_backward(self.y, gs) if self.log else B.softmax_backward(self.y, gs)
        return gx if self.last else contiguous(np.moveaxis(gx, -1, self.dim))

    def name(self):
        return "LogSoftmaxBackward" if self.__dict__.get("log") else "SoftmaxBackward"


def _implicit_dim(ndim):
    """PyTorch's choice when dim is None: 0 for 0-, 1- and 3-D inputs, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


def _prepare(input, dim, dtype, op):
    if not isinstance(input, Tensor):
        if isinstance(input, np.ndarray) or hasattr(input, "__cuda_array_interface__"):
            input = Tensor._wrap(input)
        else:
            raise TypeError(f"{op}: argument 'input' must be a Tensor, got {type(input).__name__}")
    if dtype is not None and np.dtype(dtype) != input.dtype:
        input = input.to(np.dtype(dtype))
    if input.dtype != np.float32 and input.dtype != np.float64:
        raise TypeError(f"{op}: input must be a float32 or float64 tensor, got {input.dtype} (pass dtype=pf.float32 "
                        "to convert)")
    ndim = input.ndim
    if dim is None:
        dim = _implicit_dim(ndim)
    elif type(dim) is not int:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"{op}: argument 'dim' must be an int, got {type(dim).__name__}")
        dim = int(dim)
    if dim < 0 or dim >= ndim:
        dim = norm_dim(dim, ndim, op)
    return input, dim


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along `dim` (PyTorch's F.softmax; dim=None picks 0 for 0-, 1-
    and 3-D inputs and 1 otherwise, as PyTorch). `dtype` casts the input first."""
    x, d = _prepare(input, dim, dtype, "softmax")
    return SoftmaxFunction.apply(x, dim=d, log=False)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along `dim`, computed stably (PyTorch's F.log_softmax)."""
    x, d = _prepare(input, dim, dtype, "log_softmax")
    return SoftmaxFunction.apply(x, dim=d, log=True)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along `dim` (PyTorch's F.softmin)."""
    x, d = _prepare(input, dim, dtype, "softmin")
    return SoftmaxFunction.apply(-x, dim=d, log=False)

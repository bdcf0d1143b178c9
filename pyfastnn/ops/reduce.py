"""Reductions over dimensions."""

from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ._util import norm_dim

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _expand_back(g, shape, axes, keepdim):
    """g reduced over `axes` back to `shape` (a read-only broadcast view)."""
    if axes is not None and not keepdim:
        g = g.reshape(_kept_shape(shape, axes))
    return np.broadcast_to(g, shape)  # (numpy dispatches to CuPy for CuPy arrays)


def _kept_shape(shape, axes):
    axes = set(axes if isinstance(axes, tuple) else (axes,))
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _count(shape, axes):
    if axes is None:
        return int(np.prod(shape))
    axes = axes if isinstance(axes, tuple) else (axes,)
    return int(np.prod([shape[a] for a in axes]))


class Sum(Function):
    def forward(self, a, dim=None, keepdim=False):
        self.shape, self.axes, self.keepdim = a.shape, norm_dim(dim, a.ndim, "sum"), keepdim
        return a.sum(axis=self.axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(g, self.shape, self.axes, self.keepdim)


class Mean(Function):
    def forward(self, a, dim=None, keepdim=False):
        self.shape, self.axes, self.keepdim = a.shape, norm_dim(dim, a.ndim, "mean"), keepdim
        return a.mean(axis=self.axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(g / _count(self.shape, self.axes), self.shape, self.axes, self.keepdim)


class Var(Function):
    """Variance with Bessel's correction (correction=1, PyTorch's default) or any other."""

    def forward(self, a, dim=None, correction=1, keepdim=False):
        self.axes, self.keepdim = norm_dim(dim, a.ndim, "var"), keepdim
        self.centered = a - a.mean(axis=self.axes, keepdims=True)
        self.denom = max(_count(a.shape, self.axes) - correction, 0)
        return (self.centered**2).sum(axis=self.axes, keepdims=keepdim) / self.denom

    def backward(self, g):
        g = _expand_back(g, self.centered.shape, self.axes, self.keepdim)
        return g * (2 / self.denom) * self.centered


class Std(Var):
    """sqrt(var); where the std is 0 the gradient is 0 (as PyTorch), not nan."""

    def forward(self, a, dim=None, correction=1, keepdim=False):
        self.out = np.sqrt(super().forward(a, dim=dim, correction=correction, keepdim=keepdim))
        return self.out

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(self.out == 0, 0, g / (2 * self.out))
        return super().backward(g)


class MaxMin(Function):
    """max/min over one dim: (values, indices); the gradient goes to the chosen index."""

    def forward(self, a, dim, keepdim=False, take_max=True):
        self.dim, self.keepdim, self.shape = norm_dim(dim, a.ndim, "max" if take_max else "min"), keepdim, a.shape
        idx = a.argmax(axis=self.dim) if take_max else a.argmin(axis=self.dim)
        self.idx = np.expand_dims(idx, self.dim)
        values = np.take_along_axis(a, self.idx, axis=self.dim)
        if not keepdim:
            values = values.squeeze(self.dim)
            idx_out = idx
        else:
            idx_out = self.idx
        return values, idx_out.astype(np.int64)

    def backward(self, g, _g_idx):
        g = g if self.keepdim else np.expand_dims(g, self.dim)
        out = np.zeros_like(g, shape=self.shape)  # (on g's device)
        np.put_along_axis(out, self.idx, g, axis=self.dim)
        return out


class MaxMinAll(Function):
    """max/min of all elements; ties share the gradient equally (as PyTorch)."""

    def forward(self, a, take_max=True):
        self.a = a
        self.out = a.max() if take_max else a.min()
        return self.out if hasattr(self.out, "__cuda_array_interface__") else np.asarray(self.out)

    def backward(self, g):
        hit = self.a == self.out
        return hit * (g / int(hit.sum()))  # a Python int keeps g's dtype

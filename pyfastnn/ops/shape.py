"""Views and rearrangements: reshape, permute, squeeze, indexing, cat/stack, expand."""

import numpy as np

from ..autograd.function import Function
from ._util import norm_dim


class Reshape(Function):
    def forward(self, a, shape):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return g.reshape(self.shape)


class Permute(Function):
    def forward(self, a, dims):
        self.inverse = tuple(np.argsort(dims))
        return a.transpose(dims)

    def backward(self, g):
        return g.transpose(self.inverse)


class Expand(Function):
    def forward(self, a, shape):
        self.shape = a.shape
        return np.broadcast_to(a, shape)

    def backward(self, g):
        from ._util import unbroadcast

        return unbroadcast(g, self.shape)


def _is_basic_index(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


class Index(Function):
    def forward(self, a, index):
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, g):
        out = np.zeros_like(g, shape=self.shape)  # (on g's device)
        if _is_basic_index(self.index):
            out[self.index] = g
        else:
            np.add.at(out, self.index, g)  # repeated indices accumulate
        return out


class Cat(Function):
    def forward(self, *arrays, dim=0):
        self.dim = dim
        self.sizes = [a.shape[dim] for a in arrays]
        return np.concatenate(arrays, axis=dim)

    def backward(self, g):
        edges = np.cumsum(self.sizes)[:-1]
        return tuple(np.split(g, edges, axis=self.dim))


class Stack(Function):
    def forward(self, *arrays, dim=0):
        self.dim = dim
        return np.stack(arrays, axis=dim)

    def backward(self, g):
        return tuple(np.take(g, i, axis=self.dim) for i in range(g.shape[self.dim]))


def squeeze_shape(shape, dim, op="squeeze"):
    if dim is None:
        return tuple(s for s in shape if s != 1)
    dims = norm_dim(dim if isinstance(dim, (tuple, list)) else (dim,), len(shape), op)
    return tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))


def unsqueeze_shape(shape, dim):
    n = len(shape) + 1
    if not -n <= dim < n:
        raise IndexError(f"unsqueeze: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    dim %= n
    return shape[:dim] + (1,) + shape[dim:]

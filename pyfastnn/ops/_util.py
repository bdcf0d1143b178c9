"""Helpers shared by the op implementations."""

import numpy as np


def contiguous(a):
    """a as a C-contiguous array (itself when it already is): numpy or CuPy."""
    if a.flags.c_contiguous:
        return a
    return np.ascontiguousarray(a) if isinstance(a, np.ndarray) else a.copy(order="C")


def shape_of(x):
    return getattr(x, "shape", ())


def unbroadcast(g, shape):
    """Sum g over the dimensions that broadcasting added or stretched, to get `shape`."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, (s, gs) in enumerate(zip(shape, g.shape)) if s == 1 and gs != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g.reshape(shape)


def norm_dim(dim, ndim, op):
    """A dim (or tuple of dims) as non-negative ints, or an IndexError like PyTorch's."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(norm_dim(d, ndim, op) for d in dim)
    lo = -max(ndim, 1)
    hi = max(ndim, 1) - 1
    if not lo <= dim <= hi:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return dim % max(ndim, 1)

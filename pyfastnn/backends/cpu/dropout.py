"""Dropout on the C++ kernels: inverted dropout whose mask is a pure function of (seed,
flat index), regenerated in the backward pass (see backends/reference/dropout.py)."""

import numpy as np

from ... import _C

__all__ = ["dropout_forward", "dropout_backward", "dropout_mask"]


def dropout_forward(x, p, seed, out=None):
    """y = x * keep / (1 - p) (a new array, or `out`, which may be x itself)."""
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    return _C.dropout_forward(x, p, seed, out)


def dropout_backward(gy, p, seed, out=None):
    """gx = gy * keep / (1 - p) with the forward pass's mask (same seed, same shape)."""
    if not gy.flags.c_contiguous:
        gy = np.ascontiguousarray(gy)
    return _C.dropout_backward(gy, p, seed, out)


def dropout_mask(shape, p, seed):
    """keep(i) for every element of an array of `shape`, as bools."""
    n = int(np.prod(shape)) if not isinstance(shape, (int, np.integer)) else int(shape)
    return _C.dropout_mask(n, p, seed).view(np.bool_).reshape(shape)

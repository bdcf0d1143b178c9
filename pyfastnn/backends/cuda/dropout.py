"""Dropout on the GPU with the CPU kernels' counter-based mask: the same seed drops the same
elements on both devices (and in backends.reference.dropout)."""

import cupy as cp

from ..reference.dropout import _threshold
from ._common import _cuda, describe, float_array, ptr, stream

__all__ = ["dropout_forward", "dropout_backward", "dropout_mask"]


def dropout_forward(x, p, seed, out=None):
    """y = x * keep / (1 - p), a new array or written into `out` (C-contiguous, x's shape and
    dtype; may be x itself)."""
    _threshold(p)  # range check with the reference's message
    float_array(x, "dropout_forward", "x")
    x = cp.ascontiguousarray(x)
    if out is None:
        out = cp.empty(x.shape, x.dtype)
    elif not isinstance(out, cp.ndarray) or out.shape != x.shape or out.dtype != x.dtype or not out.flags.c_contiguous:
        raise ValueError(f"dropout_forward: argument 'out' must be a C-contiguous CUDA array of shape {x.shape} and "
                         f"dtype {x.dtype}, got {describe(out)}")
    _cuda.dropout_forward(x.dtype.name, ptr(x), ptr(out), x.size, float(p), int(seed) & (2**64 - 1), stream())
    return out


def dropout_backward(gy, p, seed, out=None):
    """gx = gy * keep / (1 - p), with the mask of the forward pass (same seed, same shape)."""
    return dropout_forward(gy, p, seed, out)


def dropout_mask(shape, p, seed):
    """keep(i) for every element of an array of `shape` (an int: a flat length), as bools."""
    _threshold(p)
    shape = (int(shape),) if isinstance(shape, int) else tuple(shape)
    mask = cp.empty(shape, cp.uint8)
    _cuda.dropout_mask(ptr(mask), mask.size, float(p), int(seed) & (2**64 - 1), stream())
    return mask.view(cp.bool_)

"""Reference of dropout's counter-based mask, bit for bit what the C++ kernels compute
(the definition is in csrc/include/pyfastnn/dropout.h):

    mix(z)  = splitmix64's finalizer (mod 2^64)
    key     = mix(seed + G),  G = 0x9E3779B97F4A7C15
    h(j)    = mix(key + j * G)                 one 64-bit hash per pair of elements
    u(i)    = low 32 bits of h(i // 2) for even i, high 32 bits for odd i
    keep(i) = u(i) >= floor(p * 2^32)          (p = 1: nothing kept)
    y[i]    = x[i] * T(1 / (1 - p)) if keep(i) else 0     (i: flat C-order index)
"""

import numpy as np

__all__ = ["dropout_forward", "dropout_backward", "dropout_mask"]

_MASK64 = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix_int(z):
    z &= _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _mix(z):
    """splitmix64's finalizer on a uint64 array (numpy wraps array products mod 2^64)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _threshold(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return 1 << 32 if p >= 1.0 else int(p * 4294967296.0)


def dropout_mask(shape, p, seed):
    """keep(i) for every element of an array of `shape` (an int: a flat length), as bools."""
    n = int(np.prod(shape)) if not isinstance(shape, (int, np.integer)) else int(shape)
    thr = _threshold(p)
    key = _mix_int(int(seed) + _GAMMA)
    j = np.arange((n + 1) // 2, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = _mix(np.uint64(key) + j * np.uint64(_GAMMA))
    u = np.empty(2 * j.size, dtype=np.uint64)
    u[0::2] = h & np.uint64(0xFFFFFFFF)
    u[1::2] = h >> np.uint64(32)
    keep = u[:n] >= np.uint64(min(thr, _MASK64))
    if thr >= 1 << 32:
        keep[:] = False
    return keep.reshape(shape)


def dropout_forward(x, p, seed, out=None):
    """y = x * keep / (1 - p): kept elements are x[i] times the scale rounded to x's dtype
    (one rounding, as the kernels); a new array, or written into `out`."""
    x = np.asarray(x)
    keep = dropout_mask(x.shape, p, seed)
    if p >= 1.0:
        y = np.zeros_like(x)
    else:
        scale = x.dtype.type(1.0 / (1.0 - p))
        y = np.where(keep, x * scale, x.dtype.type(0))
    if out is not None:
        out[...] = y
        return out
    return y


def dropout_backward(gy, p, seed, out=None):
    """gx = gy * keep / (1 - p), with the mask of the forward pass (same seed, same shape)."""
    return dropout_forward(gy, p, seed, out)

"""The NCHW plane ops on the C++ kernels (pyfastnn._C): max / average / adaptive pooling and
nearest upsampling (csrc/pool), and channel-wise dropout (the counter-based mask of dropout
over the (n, c) index, applied with one broadcast multiply). Same names and signatures as
backends.reference.pool; strided inputs are copied to C order first."""

import numpy as np

from ... import _C
from ..reference.pool import pool_output_size  # noqa: F401  (pure arithmetic)
from .dropout import dropout_mask

__all__ = [
    "pool_output_size", "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
    "adaptive_avg_pool2d_forward", "adaptive_avg_pool2d_backward", "adaptive_max_pool2d_forward",
    "upsample_nearest2d_forward", "upsample_nearest2d_backward", "channel_dropout_forward",
    "channel_dropout_backward",
]


def _c(a):
    """a in C order (a copy only when strided; non-arrays pass through for the kernel's TypeError)."""
    return np.ascontiguousarray(a) if isinstance(a, np.ndarray) and not a.flags.c_contiguous else a


def max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode, indices="int64"):
    """(y, idx): idx None for indices='none', else int64/int32 argmax positions ih * W + iw."""
    return _C.max_pool2d_forward(_c(x), kernel_size, stride, padding, dilation, ceil_mode, indices)


def max_pool2d_backward(gy, indices, input_shape, kernel_size=None, stride=None, padding=(0, 0), dilation=(1, 1)):
    """gx: gy scattered to the argmax positions; the window (when given) lets a tiling pooling
    write gx in one dense pass."""
    if kernel_size is None:
        return _C.max_pool2d_backward(_c(gy), _c(indices), tuple(input_shape))
    return _C.max_pool2d_backward(_c(gy), _c(indices), tuple(input_shape), kernel_size, stride, padding, dilation)


def avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override=None):
    return _C.avg_pool2d_forward(_c(x), kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool2d_backward(gy, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override=None):
    return _C.avg_pool2d_backward(_c(gy), tuple(input_shape), kernel_size, stride, padding, ceil_mode,
                                  count_include_pad, divisor_override)


def adaptive_avg_pool2d_forward(x, output_size):
    return _C.adaptive_avg_pool2d_forward(_c(x), tuple(output_size))


def adaptive_avg_pool2d_backward(gy, input_shape):
    return _C.adaptive_avg_pool2d_backward(_c(gy), tuple(input_shape))


def adaptive_max_pool2d_forward(x, output_size, indices="int64"):
    return _C.adaptive_max_pool2d_forward(_c(x), tuple(output_size), indices)


def upsample_nearest2d_forward(x, ih, iw):
    return _C.upsample_nearest2d_forward(_c(x), ih, iw)


def upsample_nearest2d_backward(gy, ih, iw, input_shape):
    return _C.upsample_nearest2d_backward(_c(gy), ih, iw, tuple(input_shape))


def _channel_scale(x, p, seed):
    keep = dropout_mask(x.shape[:2], p, seed)
    scale = x.dtype.type(0.0 if p >= 1.0 else 1.0 / (1.0 - p))
    return (keep * scale).astype(x.dtype, copy=False).reshape(x.shape[:2] + (1,) * (x.ndim - 2))


def channel_dropout_forward(x, p, seed):
    """Dropout2d: zero whole (n, c) planes of an (N, C, *) array, scale the rest by 1/(1-p)."""
    return np.multiply(x, _channel_scale(x, p, seed))


def channel_dropout_backward(gy, p, seed):
    return channel_dropout_forward(gy, p, seed)

"""Batch norm, layer norm and local response norm on the C++ kernels (csrc/norm): statistics
in double, one fused pass per channel for the batch-norm backward (dx, dweight, dbias). Same
names and signatures as backends.reference.norm; strided inputs are copied to C order."""

import numpy as np

from ... import _C

__all__ = [
    "batch_norm_forward", "batch_norm_backward", "layer_norm_forward", "layer_norm_backward",
    "local_response_norm_forward", "local_response_norm_backward",
]


def _c(a):
    """a in C order (a copy only when strided; None and non-arrays pass through)."""
    return np.ascontiguousarray(a) if isinstance(a, np.ndarray) and not a.flags.c_contiguous else a


def batch_norm_forward(x, weight, bias, running_mean, running_var, training, momentum, eps):
    """(y, save_mean, save_invstd) (float64 statistics); running_mean / running_var (C-contiguous,
    x's dtype) updated in place when training."""
    return _C.batch_norm_forward(_c(x), _c(weight), _c(bias), running_mean, running_var, training, momentum, eps)


def batch_norm_backward(gy, x, weight, save_mean, save_invstd, training, need_dx=True, need_dweight=True,
                        need_dbias=True):
    return _C.batch_norm_backward(_c(gy), _c(x), _c(weight), save_mean, save_invstd, training, need_dx, need_dweight,
                                  need_dbias)


def layer_norm_forward(x, normalized_shape, weight, bias, eps):
    return _C.layer_norm_forward(_c(x), tuple(normalized_shape), _c(weight), _c(bias), eps)


def layer_norm_backward(gy, x, normalized_shape, weight, mean, rstd, need_dx=True, need_dweight=True,
                        need_dbias=True):
    return _C.layer_norm_backward(_c(gy), _c(x), tuple(normalized_shape), _c(weight), mean, rstd, need_dx,
                                  need_dweight, need_dbias)


def local_response_norm_forward(x, size, alpha, beta, k):
    return _C.local_response_norm_forward(_c(x), size, alpha, beta, k)


def local_response_norm_backward(gy, x, size, alpha, beta, k):
    return _C.local_response_norm_backward(_c(gy), _c(x), size, alpha, beta, k)

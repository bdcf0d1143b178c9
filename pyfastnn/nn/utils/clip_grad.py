"""Gradient clipping (PyTorch's clip_grad_norm_ / clip_grad_value_)."""

import math

import numpy as np

from ...tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so their global norm is at most max_norm; returns the
    norm before clipping (as a Tensor). Scale = max_norm / (norm + 1e-6) when clipping."""
    grads = _grads(parameters)
    if not grads:
        return Tensor._wrap(np.asarray(0.0, np.float32))
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = max(float(np.abs(g.data).max()) for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g.data.astype(np.float64)) ** norm_type)) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is non-finite")
    coef = max_norm / (total + 1e-6)
    if coef < 1 or math.isnan(coef):  # a non-finite norm scales by 0 or nan, as PyTorch does
        with np.errstate(invalid="ignore"):
            for g in grads:
                g.data *= g.data.dtype.type(coef)
    return Tensor._wrap(np.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g.data, -clip_value, clip_value, out=g.data)

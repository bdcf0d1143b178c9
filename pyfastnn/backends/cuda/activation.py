"""Activation kernels on the GPU: one elementwise pass each way (float32 and float64), the
semantics of backends.reference.activation (see its docstring)."""

import cupy as cp

from ..reference.activation import (  # noqa: F401
    ACTIVATION_KINDS, _check_kind, activation_backward_input, activation_saves,
)
from ._common import _cuda, describe, float_array, ptr, same_dtype, stream

__all__ = ["ACTIVATION_KINDS", "activation_saves", "activation_backward_input", "activation_forward",
           "activation_backward", "prelu_forward", "prelu_backward"]


def activation_forward(kind, x, alpha=0.0, beta=0.0):
    _check_kind(kind, "activation_forward")
    float_array(x, kind, "x")
    x = cp.ascontiguousarray(x)
    y = cp.empty(x.shape, x.dtype)
    _cuda.activation_forward(kind, x.dtype.name, ptr(x), ptr(y), x.size, float(alpha), float(beta), stream())
    return y


def activation_backward(kind, x, y, gy, alpha=0.0, beta=0.0):
    _check_kind(kind, "activation_backward")
    op = f"{kind} backward"
    float_array(gy, op, "gy")
    need = activation_backward_input(kind, alpha)
    if need == "x" and x is None:
        raise ValueError(f"{op}: needs the forward input 'x' (got None)"
                         + (" when alpha < 0" if kind in ("leaky_relu", "elu") else ""))
    if need == "y" and y is None:
        raise ValueError(f"{op}: needs the forward output 'y' (got None)")
    if need == "either" and x is None and y is None:
        raise ValueError(f"{op}: needs the forward output 'y' or input 'x' (both are None)")
    from_y = need == "y" or (need == "either" and x is None)
    v = y if from_y else x
    name = "y" if from_y else "x"
    same_dtype(v, gy, op, name, "gy")
    if v.shape != gy.shape:
        raise ValueError(f"{op}: argument '{name}' must have the shape of 'gy' {gy.shape}, got shape {v.shape}")
    v = cp.ascontiguousarray(v)
    gy = cp.ascontiguousarray(gy)
    gx = cp.empty(gy.shape, gy.dtype)
    _cuda.activation_backward(kind, gy.dtype.name, ptr(v), from_y, ptr(gy), ptr(gx), gy.size, float(alpha),
                              float(beta), stream())
    return gx


def _prelu_weight(x, weight, op):
    float_array(x, op, "x")
    same_dtype(weight, x, op, "weight", "x")
    if weight.ndim > 1:
        raise ValueError(f"{op}: argument 'weight' must be 1-D (one slope per channel, or a single slope), got shape "
                         f"{weight.shape}")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.size not in (1, channels):
        raise ValueError(f"{op}: argument 'weight' has {weight.size} entries; expected 1 or the number of channels "
                         f"(dimension 1 of the input) {channels}, for input of shape {x.shape}")
    if weight.size == 1 or x.ndim < 2:
        return weight.reshape(()), None
    return weight.reshape((channels,) + (1,) * (x.ndim - 2)), tuple(i for i in range(x.ndim) if i != 1)


def prelu_forward(x, weight):
    """x if x > 0 else weight[c] x (CuPy elementwise: no kernel of its own yet)."""
    w, _ = _prelu_weight(x, weight, "prelu")
    return cp.where(x > 0, x, w * x)


def prelu_backward(x, weight, gy, need_x=True, need_weight=True):
    w, axes = _prelu_weight(x, weight, "prelu backward")
    same_dtype(gy, x, "prelu backward", "gy", "x")
    if gy.shape != x.shape:
        raise ValueError(f"prelu backward: argument 'gy' must have the shape of 'x' {x.shape}, got {describe(gy)}")
    gx = cp.where(x > 0, gy, w * gy) if need_x else None
    gw = None
    if need_weight:
        contrib = cp.where(x > 0, 0, x * gy)
        gw = (contrib.sum() if axes is None else contrib.sum(axis=axes)).astype(weight.dtype).reshape(weight.shape)
    return gx, gw

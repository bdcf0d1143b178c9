"""The fused linear layer on the GPU: y = act(x W^T + b) as one GEMM with a bias/activation
epilogue; the backward pass (gz = gy * act'(y) with db, then dx and dW on the GEMM) as one
call. float32 on our kernels, float64 on CuPy."""

import cupy as cp

from ..reference.linear import _activation
from ._common import F32, _cuda, float_array, precision, ptr, same_dtype, stream

__all__ = ["linear_forward", "linear_backward", "bias_act_backward"]


def _check(x, weight, bias, op):
    float_array(x, op, "x")
    same_dtype(weight, x, op, "weight", "x")
    if x.ndim != 2 or weight.ndim != 2 or x.shape[1] != weight.shape[1]:
        raise ValueError(f"{op}: expected x (batch, in_features) and weight (out_features, in_features), got shapes "
                         f"{x.shape} and {weight.shape}")
    if bias is not None:
        same_dtype(bias, x, op, "bias", "x")
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"{op}: bias must have shape ({weight.shape[0]},), got {bias.shape}")


def linear_forward(x, weight, bias=None, activation=None):
    """y = act(x @ weight.T + bias): x (batch, in), weight (out, in), bias (out,) or None,
    activation None or 'relu'. Returns a new array."""
    op = "linear_forward"
    act = _activation(activation, op)
    _check(x, weight, bias, op)
    if x.dtype != F32:
        y = x @ weight.T
        if bias is not None:
            y += bias
        return y.clip(0, None) if act == "relu" else y
    x = cp.ascontiguousarray(x)
    weight = cp.ascontiguousarray(weight)
    bias = None if bias is None else cp.ascontiguousarray(bias)
    rows, k = x.shape
    y = cp.empty((rows, weight.shape[0]), F32)
    _cuda.linear_forward(ptr(x), ptr(weight), ptr(bias), ptr(y), rows, k, weight.shape[0], act or "none",
                         precision(), stream())
    return y


def linear_backward(x, weight, y, gy, activation=None, need_dx=True, need_dw=True, need_db=True):
    """(dx, dw, db), each None unless asked for; y (the forward output) is read only for
    activation 'relu'."""
    op = "linear_backward"
    act = _activation(activation, op)
    _check(x, weight, None, op)
    same_dtype(gy, x, op, "gy", "x")
    rows, out = x.shape[0], weight.shape[0]
    if gy.shape != (rows, out):
        raise ValueError(f"{op}: gy must have shape {(rows, out)}, got {gy.shape}")
    if act == "relu":
        same_dtype(y, x, op, "y", "x")
        if y.shape != gy.shape:
            raise ValueError(f"{op}: y must have the shape of gy {gy.shape}, got {y.shape}")
    if x.dtype != F32:
        gz = gy * ~(y <= 0) if act == "relu" else gy  # NaN in y passes gy, as PyTorch
        return (gz @ weight if need_dx else None, gz.T @ x if need_dw else None,
                gz.sum(axis=0) if need_db else None)
    gy = cp.ascontiguousarray(gy)
    x = cp.ascontiguousarray(x) if need_dw else x
    weight = cp.ascontiguousarray(weight) if need_dx else weight
    y = cp.ascontiguousarray(y) if act == "relu" else None
    gz = cp.empty_like(gy) if act == "relu" else None
    dx = cp.empty(x.shape, F32) if need_dx else None
    dw = cp.empty(weight.shape, F32) if need_dw else None
    db = cp.empty((out,), F32) if need_db else None
    _cuda.linear_backward(ptr(x), ptr(weight), ptr(y), ptr(gy), ptr(gz), ptr(dx), ptr(dw), ptr(db), rows, x.shape[1],
                          out, act or "none", precision(), stream())
    return dx, dw, db


def bias_act_backward(y, gy, activation=None):
    """(gz, db): gz = gy * act'(y) and db = gz.sum(0) in one pass."""
    op = "bias_act_backward"
    act = _activation(activation, op)
    float_array(gy, op, "gy")
    if gy.ndim != 2:
        raise ValueError(f"{op}: gy must be 2-D, got shape {gy.shape}")
    if act == "relu":
        same_dtype(y, gy, op, "y", "gy")
        if y.shape != gy.shape:
            raise ValueError(f"{op}: y must have the shape of gy {gy.shape}, got {y.shape}")
        y = cp.ascontiguousarray(y)
    gy = cp.ascontiguousarray(gy)
    rows, cols = gy.shape
    gz = cp.empty_like(gy) if act == "relu" else gy
    db = cp.empty((cols,), gy.dtype)
    _cuda.bias_act_backward(act or "none", gy.dtype.name, ptr(y), max(cols, 1), ptr(gy), max(cols, 1), ptr(gz),
                            max(cols, 1), ptr(db), rows, cols, stream())
    return gz, db

"""The fused linear layer on the C++ kernels (pyfastnn._C): the GEMM with a bias/ReLU
epilogue, and the backward pass (gz and db in one pass, then the dx and dW GEMMs, with the
GIL released once)."""

import numpy as np

from ... import _C

__all__ = ["linear_forward", "linear_backward", "bias_act_backward"]


def _rows(a):
    """a as the kernels take it: 2-D with unit stride along rows (any leading dimension)."""
    s = a.strides
    if (s[1] == a.itemsize or a.shape[1] <= 1) and s[0] >= 0:
        return a
    return np.ascontiguousarray(a)


def _vec(a):
    return a if a is None or a.strides[0] == a.itemsize or a.shape[0] <= 1 else np.ascontiguousarray(a)


def _unit_stride(*arrays):
    return all(a is None or not isinstance(a, np.ndarray) or a.ndim != 2 or _rows(a) is a for a in arrays)


def linear_forward(x, weight, bias=None, activation=None):
    """y = act(x @ weight.T + bias): x (batch, in), weight (out, in), bias (out,) or None,
    activation None or 'relu' (fused into the GEMM's store). Returns a new array."""
    try:  # the kernels check everything: strided views are copied only when they refuse them
        return _C.linear_forward(x, weight, bias, activation)
    except ValueError:
        if _unit_stride(x, weight) and (bias is None or _vec(bias) is bias):
            raise
    return _C.linear_forward(_rows(x), _rows(weight), _vec(bias), activation)


def linear_backward(x, weight, y, gy, activation=None, need_dx=True, need_dw=True, need_db=True):
    """(dx, dw, db), each None unless asked for; y (the forward output) is read only for
    activation 'relu'."""
    try:
        return _C.linear_backward(x, weight, y, gy, activation, need_dx, need_dw, need_db)
    except ValueError:
        if _unit_stride(x, weight, y, gy):
            raise
    return _C.linear_backward(_rows(x), _rows(weight), None if y is None else _rows(y), _rows(gy), activation,
                              need_dx, need_dw, need_db)


def bias_act_backward(y, gy, activation=None):
    """(gz, db): gz = gy * act'(y) and db = gz.sum(0) in one pass."""
    return _C.bias_act_backward(None if y is None else _rows(y), _rows(gy), activation)

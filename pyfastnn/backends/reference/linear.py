"""Reference of the fused linear layer: y = act(x W^T + b) and its backward (float64)."""

import numpy as np

__all__ = ["linear_forward", "linear_backward", "bias_act_backward"]

_F64 = np.float64


def _activation(activation, op):
    if activation is None or activation in ("none", "linear", "identity"):
        return None
    if activation == "relu":
        return "relu"
    if isinstance(activation, str):
        raise ValueError(f"{op}: unknown activation '{activation}'; the fused kernels support 'relu' and 'none' (None)")
    raise TypeError(f"{op}: argument 'activation' must be None or a string ('relu' or 'none'), "
                    f"got {type(activation).__name__}")


def linear_forward(x, weight, bias=None, activation=None):
    """y = act(x @ weight.T + bias) for x (batch, in), weight (out, in), bias (out,) or None,
    activation None or 'relu'; computed in float64, returned in x's dtype."""
    act = _activation(activation, "linear_forward")
    y = x.astype(_F64) @ weight.astype(_F64).T
    if bias is not None:
        y += bias.astype(_F64)
    if act == "relu":
        y = np.maximum(y, 0.0)  # NaN stays NaN
    return y.astype(x.dtype)


def _gz(y, gy, act):
    gz = gy.astype(_F64)
    if act == "relu":
        gz = np.where(y <= 0, 0.0, gz)  # PyTorch's threshold_backward: NaN in y passes gy
    return gz


def linear_backward(x, weight, y, gy, activation=None, need_dx=True, need_dw=True, need_db=True):
    """(dx, dw, db) of y = act(x @ weight.T + b) given gy = dL/dy, each None unless needed:
    gz = gy * act'(y), db = gz.sum(0), dx = gz @ weight, dw = gz.T @ x."""
    act = _activation(activation, "linear_backward")
    gz = _gz(y, gy, act)
    dt = x.dtype
    dx = (gz @ weight.astype(_F64)).astype(dt) if need_dx else None
    dw = (gz.T @ x.astype(_F64)).astype(dt) if need_dw else None
    db = gz.sum(axis=0).astype(dt) if need_db else None
    return dx, dw, db


def bias_act_backward(y, gy, activation=None):
    """(gz, db): gz = gy * act'(y) and db = gz.sum(0), the fused pass of linear_backward."""
    act = _activation(activation, "bias_act_backward")
    gz = _gz(y, gy, act)
    return gz.astype(gy.dtype), gz.sum(axis=0).astype(gy.dtype)

"""linear(x, W, b): y = x W^T + b as one autograd node, optionally fused with ReLU.

The forward pass is one GEMM whose store adds the bias and applies the ReLU (no extra pass
over y); the backward pass computes gz = gy * relu'(y) and db together in one pass, then dx
and dW on the GEMM, in one call into C++.
"""

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..backends import for_array
from ..tensor import Tensor

__all__ = ["linear", "linear_relu"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_FUSED = {None: None, "relu": "relu", "none": None, "linear": None, "identity": None}


def _describe_shape(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _check(x, weight, bias, op):
    """PyTorch's F.linear contract, with messages that name the op and both shapes."""
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{op}: expected a tensor or an array as input, got {type(x).__name__}")
    if not hasattr(weight, "shape") or weight.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (out_features, in_features), got shape "
                         f"{_describe_shape(getattr(weight, 'shape', ()))}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        got = "a scalar" if x.ndim == 0 else f"shape {_describe_shape(x.shape)}"
        raise ValueError(f"{op}: expected input with last dimension {weight.shape[1]} (in_features), got {got}")
    if x.dtype not in _FLOATS:
        raise TypeError(f"{op}: expected a floating point input (float32 or float64), got {x.dtype}")
    if weight.dtype != x.dtype:
        raise TypeError(f"{op}: input and weight must have the same dtype, got {x.dtype} and {weight.dtype}")
    if bias is not None:
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"{op}: bias must have shape ({weight.shape[0]},) (out_features), "
                             f"got {_describe_shape(bias.shape)}")
        if bias.dtype != x.dtype:
            raise TypeError(f"{op}: input and bias must have the same dtype, got {x.dtype} and {bias.dtype}")


class LinearFunction(Function):
    """y = act(x W^T + b) over the last dimension of x (any leading dimensions), act None
    or 'relu'. Keeps x (for dW), W (for dx) and, with the ReLU, y (for its gradient)."""

    def forward(self, x, weight, bias=None, activation=None):
        lead = x.shape[:-1]
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        be = for_array(x2)
        y2 = be.linear_forward(x2, weight, bias, activation)
        nx, nw, nb = self.needs_input_grad
        if nx or nw or nb:
            self.be, self.activation, self.x_shape = be, activation, x.shape
            self.x2 = x2
            self.weight = weight
            self.y2 = y2 if activation is not None else None
            self.has_bias = bias is not None
        return y2 if x.ndim == 2 else y2.reshape(*lead, weight.shape[0])

    def backward(self, gy):
        nx, nw, nb = self.needs_input_grad
        gy2 = gy if gy.ndim == 2 else gy.reshape(-1, gy.shape[-1])
        dx, dw, db = self.be.linear_backward(self.x2, self.weight, self.y2, gy2, self.activation, nx, nw,
                                             nb and self.has_bias)
        if dx is not None and len(self.x_shape) != 2:
            dx = dx.reshape(self.x_shape)
        return dx, dw, db

    def name(self):
        return "LinearBackward"


class LinearReluFunction(LinearFunction):
    """LinearFunction with activation='relu' (its own class for the graph's node name)."""

    def name(self):
        return "LinearReluBackward"


def _forward(x, weight, bias, activation):
    """The forward pass alone, on arrays (no graph)."""
    x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
    y2 = for_array(x2).linear_forward(x2, weight, bias, activation)
    return y2 if x.ndim == 2 else y2.reshape(*x.shape[:-1], weight.shape[0])


def _data(t):
    return t.data if isinstance(t, Tensor) else t


def _apply(input, weight, bias, activation, op):
    """The node for activation None or 'relu'. The checks run only when the kernels refuse
    the arguments (they check everything themselves): the common case pays nothing for them,
    and a bad call still gets PyTorch-style messages naming `op` and the shapes."""
    try:
        if not is_grad_enabled() or not (
            getattr(input, "requires_grad", False)
            or getattr(weight, "requires_grad", False)
            or getattr(bias, "requires_grad", False)
        ):  # no graph to record (inference): what Function.apply would do, with less Python
            return Tensor._wrap(_forward(_data(input), _data(weight), None if bias is None else _data(bias),
                                         activation))
        if activation == "relu":
            return LinearReluFunction.apply(input, weight, bias, activation="relu")
        return LinearFunction.apply(input, weight, bias)
    except Exception:
        from .device import check_same_device

        check_same_device(op, [("input", _data(input)), ("weight", _data(weight)),
                               ("bias", None if bias is None else _data(bias))])
        _check(_data(input), _data(weight), None if bias is None else _data(bias), op)
        raise


def fused_linear(input, weight, bias=None, activation=None, op="linear"):
    """act(input @ weight.T + bias): activation None or 'relu' run fused in one node; any
    other name (see pyfastnn.ops.activation.get_activation) is applied after the product.
    `op` names the caller in error messages (nn.Linear passes "Linear")."""
    fused = _FUSED.get(activation, False) if activation is None or isinstance(activation, str) else False
    if fused is not False:
        return _apply(input, weight, bias, fused, op)
    from .activation import get_activation  # late: the activation module imports more

    fn = get_activation(activation)
    return fn(_apply(input, weight, bias, None, op))


def linear(input, weight, bias=None, *, activation=None):
    """y = input @ weight.T + bias: input (*, in_features) -> (*, out_features), PyTorch's
    F.linear, as one autograd node on the fused GEMM.

    `activation` (an extension): None, or 'relu' to fuse the ReLU into the same node (the
    GEMM applies it as it stores y); other names apply the functional activation of
    pyfastnn.ops.activation.get_activation after the product.
    """
    if activation is None:
        return _apply(input, weight, bias, None, "linear")
    return fused_linear(input, weight, bias, activation, "linear")


def linear_relu(input, weight, bias=None):
    """relu(input @ weight.T + bias) as one autograd node (bias add and ReLU fused into the
    GEMM's store; the backward pass fuses ReLU's gradient with the bias gradient)."""
    return _apply(input, weight, bias, "relu", "linear_relu")

"""conv2d and conv_transpose2d (NCHW, PyTorch's semantics) as one autograd node each.

The forward pass is one kernel call (the bias and an optional ReLU fused into the GEMM's
store); the backward pass computes the ReLU gradient, db, dW and dx in one call into C++.
conv_transpose2d is conv2d's input gradient (its forward) and backward.

padding: an int, a pair, 'valid' (none) or 'same'. 'same' follows Keras/TensorFlow: the
output has ceil(size / stride) pixels and any odd padding pixel goes after (bottom/right),
so it also works with stride > 1 (PyTorch refuses that); with stride 1 it is PyTorch's
'same'. Non-zero padding modes ('reflect', 'replicate', 'circular', as nn.Conv2d's
padding_mode) pad explicitly first (pad_nchw).
"""

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..backends import for_array
from ..tensor import Tensor

__all__ = ["conv2d", "conv_transpose2d"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_FUSED = {None: None, "relu": "relu", "none": None, "linear": None, "identity": None}
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def pair(v, name, op, lo=0):
    """An int or a pair of ints as a tuple of two ints, each >= lo."""
    if _is_int(v):
        t = (int(v), int(v))
    elif isinstance(v, (tuple, list)) and len(v) == 2 and all(_is_int(a) for a in v):
        t = (int(v[0]), int(v[1]))
    else:
        raise TypeError(f"{op}: argument '{name}' must be an int or a pair of ints, got {v!r}")
    if t[0] < lo or t[1] < lo:
        raise ValueError(f"{op}: argument '{name}' must be >= {lo}, got {v!r}")
    return t


def same_padding(size, kernel, stride, dilation):
    """(before, after) of Keras' 'same' along one axis: ceil(size / stride) outputs, the odd
    pixel after (stride 1: PyTorch's padding='same')."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def conv_padding(padding, op):
    """padding as 'same', 'valid' or an (pad_h, pad_w) pair (checked)."""
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{op}: argument 'padding' must be 'same', 'valid', an int or a pair of ints, "
                             f"got {padding!r}")
        return padding
    return pair(padding, "padding", op)


def resolve_padding(padding, hw, kernel, stride, dilation):
    """(top, bottom, left, right) for a conv_padding value and input size hw = (H, W)."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        return same_padding(hw[0], kernel[0], stride[0], dilation[0]) + same_padding(hw[1], kernel[1], stride[1],
                                                                                        dilation[1])
    return (padding[0], padding[0], padding[1], padding[1])


def output_size(size, kernel, stride=1, padding=0, dilation=1):
    """floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1 (padding an int
    or a (before, after) pair)."""
    lo, hi = (padding, padding) if _is_int(padding) else padding
    return (size + lo + hi - dilation * (kernel - 1) - 1) // stride + 1


# ---------------------------------------------------------------- checks (on failure only)


def _dims(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _check(x, weight, bias, stride, pad4, dilation, groups, op, transposed=False, output_padding=(0, 0)):
    """The contract of conv2d / conv_transpose2d, with messages naming `op` and both
    shapes (the kernels check the same things; this runs when they refuse)."""
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{op}: expected a tensor or an array as input, got {type(x).__name__}")
    if not hasattr(weight, "shape") or weight.ndim != 4:
        layout = "(in_channels, out_channels / groups, kH, kW)" if transposed else \
            "(out_channels, in_channels / groups, kH, kW)"
        raise ValueError(f"{op}: weight must be 4-D {layout}, got shape {tuple(getattr(weight, 'shape', ()))}")
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {tuple(x.shape)}")
    if x.dtype not in _FLOATS:
        raise TypeError(f"{op}: expected a floating point input (float32 or float64), got {x.dtype}")
    if weight.dtype != x.dtype:
        raise TypeError(f"{op}: input and weight must have the same dtype, got {x.dtype} and {weight.dtype}")
    if not _is_int(groups) or groups < 1:
        raise ValueError(f"{op}: argument 'groups' must be a positive int, got {groups!r}")
    if transposed:
        cin, cout = weight.shape[0], weight.shape[1] * groups
        if weight.shape[0] % groups:
            raise ValueError(f"{op}: in_channels (weight.shape[0] = {weight.shape[0]}) must be divisible by "
                             f"groups = {groups}")
    else:
        cin, cout = weight.shape[1] * groups, weight.shape[0]
        if weight.shape[0] % groups:
            raise ValueError(f"{op}: out_channels (weight.shape[0] = {weight.shape[0]}) must be divisible by "
                             f"groups = {groups}")
    if x.shape[1] != cin:
        msg = (f"{op}: expected input[N, C, H, W] with C = {cin} (weight {_dims(weight.shape)}, groups={groups}), "
               f"got {_dims(x.shape)} with C = {x.shape[1]}")
        if x.shape[3] == cin:
            msg += "; this looks like channels-last (NHWC) data: pass x.permute(0, 3, 1, 2) (NCHW)"
        raise ValueError(msg)
    if bias is not None:
        if tuple(bias.shape) != (cout,):
            raise ValueError(f"{op}: bias must have shape ({cout},) (out_channels), got {tuple(bias.shape)}")
        if bias.dtype != x.dtype:
            raise TypeError(f"{op}: input and bias must have the same dtype, got {x.dtype} and {bias.dtype}")
    kh, kw = weight.shape[2:]
    if not transposed:
        eh, ew = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
        ph, pw = x.shape[2] + pad4[0] + pad4[1], x.shape[3] + pad4[2] + pad4[3]
        if eh > ph or ew > pw:
            raise ValueError(f"{op}: kernel size ({eh}, {ew}) (dilated) can't be greater than the padded input size "
                             f"({ph}, {pw}) of input {_dims(x.shape)}")
    else:
        for i in range(2):
            if output_padding[i] >= stride[i] and output_padding[i] >= dilation[i]:
                raise ValueError(f"{op}: output padding must be smaller than either stride or dilation, got "
                                 f"output_padding={tuple(output_padding)}, stride={tuple(stride)}, "
                                 f"dilation={tuple(dilation)}")


def _data(t):
    return t.data if isinstance(t, Tensor) else t


def _needs_graph(*ts):
    return is_grad_enabled() and any(getattr(t, "requires_grad", False) for t in ts)


# ---------------------------------------------------------------- autograd nodes


class Conv2dFunction(Function):
    """y = act(conv2d(x, W) + b), act None or 'relu'. Keeps x (for dW), W (for dx) and, with
    the ReLU, y (for its gradient)."""

    def forward(self, x, weight, bias, stride, pad4, dilation, groups, activation):
        be = for_array(x)
        y = be.conv2d_forward(x, weight, bias, stride, pad4, dilation, groups, activation)
        if any(self.needs_input_grad):
            self.be, self.x, self.weight = be, x, weight
            self.y = y if activation is not None else None
            self.params = (stride, pad4, dilation, groups, activation)
            self.has_bias = bias is not None
        return y

    def backward(self, gy):
        nx, nw, nb = self.needs_input_grad[:3]
        stride, pad4, dilation, groups, act = self.params
        dx, dw, db = self.be.conv2d_backward(self.x, self.weight, self.y, gy, stride, pad4, dilation, groups, act,
                                             nx, nw, nb and self.has_bias)
        return dx, dw, db, None, None, None, None, None

    def name(self):
        return "ConvolutionBackward"


class Conv2dReluFunction(Conv2dFunction):
    def name(self):
        return "ConvolutionReluBackward"


class ConvTranspose2dFunction(Function):
    """y = conv_transpose2d(x, W) + b. Keeps x (for dW) and W (for dx)."""

    def forward(self, x, weight, bias, stride, pad4, output_padding, dilation, groups):
        be = for_array(x)
        y = be.conv_transpose2d_forward(x, weight, bias, stride, pad4, output_padding, dilation, groups)
        if any(self.needs_input_grad):
            self.be, self.x, self.weight = be, x, weight
            self.params = (stride, pad4, output_padding, dilation, groups)
            self.has_bias = bias is not None
        return y

    def backward(self, gy):
        nx, nw, nb = self.needs_input_grad[:3]
        dx, dw, db = self.be.conv_transpose2d_backward(self.x, self.weight, gy, *self.params, nx, nw,
                                                       nb and self.has_bias)
        return dx, dw, db, None, None, None, None, None

    def name(self):
        return "ConvolutionTransposeBackward"


class _PadFunction(Function):
    """Reflect / replicate / circular padding of the last two dims by index maps; the
    backward pass adds each padded pixel's gradient back to its source (two small matmuls
    with the 0/1 maps)."""

    def forward(self, x, pad4, mode):
        ih = _pad_index(x.shape[2], pad4[0], pad4[1], mode)
        iw = _pad_index(x.shape[3], pad4[2], pad4[3], mode)
        if self.needs_input_grad[0]:
            self.ih, self.iw, self.hw = ih, iw, x.shape[2:]
        return np.ascontiguousarray(x[:, :, ih[:, None], iw[None, :]])

    def backward(self, g):
        h, w = self.hw
        ph = (np.arange(h)[:, None] == self.ih[None, :]).astype(g.dtype)  # (H, Hp)
        pw = (np.arange(w)[None, :] == self.iw[:, None]).astype(g.dtype)  # (Wp, W)
        return np.ascontiguousarray(ph @ g @ pw)

    def name(self):
        return "PadBackward"


def _pad_index(n, lo, hi, mode):
    i = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    # reflect (no edge repeat): ... 2 1 | 0 1 2 ... n-1 | n-2 n-3 ...
    i = np.abs(i)
    return np.where(i >= n, 2 * (n - 1) - i, i)


def pad_nchw(input, pad4, mode, op="pad"):
    """Pads the last two dims of a 4-D tensor by (top, bottom, left, right) with mode
    'reflect', 'replicate' or 'circular' (PyTorch's limits: reflect needs padding < size,
    circular padding <= size)."""
    x = input if isinstance(input, Tensor) else Tensor._wrap(input)
    for (lo, hi), n, axis in (((pad4[0], pad4[1]), x.shape[2], "height"), ((pad4[2], pad4[3]), x.shape[3], "width")):
        if mode == "reflect" and max(lo, hi) >= n:
            raise ValueError(f"{op}: reflect padding ({lo}, {hi}) must be smaller than the input {axis} ({n})")
        if mode == "circular" and max(lo, hi) > n:
            raise ValueError(f"{op}: circular padding ({lo}, {hi}) must not exceed the input {axis} ({n})")
    if not any(pad4):
        return x
    return _PadFunction.apply(x, pad4=tuple(pad4), mode=mode)


# ---------------------------------------------------------------- functional API


def _unbatched(input, op):
    """(tensor, squeeze): a 3-D (C, H, W) input gets a batch dimension, as in PyTorch."""
    x = input if isinstance(input, Tensor) else (Tensor._wrap(input) if isinstance(input, np.ndarray) else input)
    if getattr(x, "ndim", None) == 3:
        return x.unsqueeze(0), True
    return x, False


def convolve(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, activation=None,
             padding_mode="zeros", op="conv2d"):
    """act(conv2d(input, weight) + bias): the implementation behind F.conv2d and nn.Conv2d.
    activation None or 'relu' runs fused in one node; another name (see
    pyfastnn.ops.activation.get_activation) is applied after it."""
    stride, dilation = pair(stride, "stride", op, 1), pair(dilation, "dilation", op, 1)
    padding = conv_padding(padding, op)
    fused = _FUSED.get(activation, False) if activation is None or isinstance(activation, str) else False
    x, squeeze = _unbatched(input, op)
    xd, wd = _data(x), _data(weight)
    bd = None if bias is None else _data(bias)
    try:
        kernel = wd.shape[2:]
        pad4 = resolve_padding(padding, xd.shape[2:], kernel, stride, dilation)
        if padding_mode != "zeros" and any(pad4):
            x = pad_nchw(x, pad4, padding_mode, op)
            xd, pad4 = x.data, (0, 0, 0, 0)
        act = fused if fused is not False else None
        if not _needs_graph(x, weight, bias):  # inference: no node to record
            y = Tensor._wrap(for_array(xd).conv2d_forward(xd, wd, bd, stride, pad4, dilation, groups, act))
        else:
            fn = Conv2dReluFunction if act == "relu" else Conv2dFunction
            y = fn.apply(x, weight, bias, stride, pad4, dilation, groups, act)
    except Exception:
        if hasattr(xd, "ndim") and hasattr(wd, "ndim") and wd.ndim == 4 and xd.ndim == 4:
            _check(xd, wd, bd, stride, resolve_padding(padding, xd.shape[2:], wd.shape[2:], stride, dilation),
                   dilation, groups, op)
        else:
            _check(xd, wd, bd, stride, (0, 0, 0, 0), dilation, groups, op)
        raise
    if fused is False:
        from .activation import get_activation  # late: the activation module imports more

        y = get_activation(activation)(y)
    return y[0] if squeeze else y


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, activation=None):
    """2-D cross-correlation of input (N, C, H, W) (or unbatched (C, H, W)) with weight
    (out_channels, C / groups, kH, kW), plus bias (out_channels,): PyTorch's F.conv2d.

    stride and dilation: an int or a pair; padding: an int, a pair, 'valid' or 'same'
    (Keras' 'same', so stride > 1 works too: the output is ceil(H / stride) rows, any odd
    padding row goes at the bottom). groups splits the channels (groups = C: depthwise).
    `activation` (an extension): 'relu' fuses the ReLU into the same node; another name
    applies that activation after the convolution.
    """
    return convolve(input, weight, bias, stride, padding, dilation, groups, activation, "zeros", "conv2d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
                     op="conv_transpose2d"):
    """The transposed convolution (the adjoint of conv2d in its input), PyTorch's
    F.conv_transpose2d: input (N, in_channels, H, W), weight (in_channels,
    out_channels / groups, kH, kW); the output has (H - 1) * stride - 2 * padding +
    dilation * (kH - 1) + output_padding + 1 rows (likewise columns)."""
    stride, dilation = pair(stride, "stride", op, 1), pair(dilation, "dilation", op, 1)
    padding, output_padding = pair(padding, "padding", op), pair(output_padding, "output_padding", op)
    pad4 = (padding[0], padding[0], padding[1], padding[1])
    x, squeeze = _unbatched(input, op)
    xd, wd = _data(x), _data(weight)
    bd = None if bias is None else _data(bias)
    try:
        if not _needs_graph(x, weight, bias):
            y = Tensor._wrap(for_array(xd).conv_transpose2d_forward(xd, wd, bd, stride, pad4, output_padding,
                                                                    dilation, groups))
        else:
            y = ConvTranspose2dFunction.apply(x, weight, bias, stride, pad4, output_padding, dilation, groups)
    except Exception:
        _check(xd, wd, bd, stride, pad4, dilation, groups, op, transposed=True, output_padding=output_padding)
        raise
    return y[0] if squeeze else y

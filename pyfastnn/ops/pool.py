"""Spatial ops on NCHW images, each one autograd node on the C++ kernels: max / average /
adaptive pooling, nearest-neighbour upsampling (F.interpolate) and channel-wise dropout
(F.dropout2d), with PyTorch's torch.nn.functional names, arguments and defaults.

Inputs are (N, C, H, W) or unbatched (C, H, W) (every leading dimension is a plane). Max
pooling keeps its argmax indices for the backward pass (int32 internally, int64 when
return_indices=True, as PyTorch returns them), so the backward pass is one scatter (one
dense pass when the windows tile the input: kernel == stride, no padding or dilation).
"""

import math
import numbers

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..backends import for_array
from ..random import next_seed
from ..tensor import Tensor
from .dropout import check_p

__all__ = [
    "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "interpolate", "upsample_nearest",
    "dropout2d",
]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_INT32_PLANE = 2**31 - 1


def _int(v):
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)


def pair(v, name, op, allow_none=False):
    """An int or a sequence of 1 or 2 ints as an (h, w) pair of ints (None kept if allowed)."""
    if v is None and allow_none:
        return None
    if _int(v):
        return (int(v), int(v))
    if isinstance(v, (tuple, list)) and len(v) in (1, 2) and all(_int(e) or (allow_none and e is None) for e in v):
        v = tuple(None if e is None else int(e) for e in v)
        return v * 2 if len(v) == 1 else v
    raise TypeError(f"{op}: argument '{name}' must be an int or a tuple of 2 ints, got {v!r}")


def image(input, op, min_ndim=3, max_ndim=4):
    """The input's array after PyTorch's checks: a float array of min_ndim..max_ndim dims."""
    data = input.data if isinstance(input, Tensor) else input
    if not hasattr(data, "shape") or not hasattr(data, "dtype"):
        raise TypeError(f"{op}: expected a tensor or an array as input, got {type(input).__name__}")
    if data.dtype not in _FLOATS:
        raise TypeError(f"{op}: expected a floating point input (float32 or float64), got {data.dtype}")
    if not min_ndim <= data.ndim <= max_ndim:
        want = {(3, 4): "a 3-D (C, H, W) or 4-D (N, C, H, W)", (2, 3): "a 2-D (C, L) or 3-D (N, C, L)"}.get(
            (min_ndim, max_ndim), f"a {min_ndim}-D to {max_ndim}-D")
        raise ValueError(f"{op}: expected {want} input, got shape {tuple(data.shape)}")
    return data


# ---------------------------------------------------------------- max pooling


class MaxPool2dFunction(Function):
    """y (and the int64 indices when asked for) of max pooling; backward: gy scattered to
    the argmax positions kept by the forward pass."""

    allow_none_grads = True  # the indices output gets no gradient

    def forward(self, x, window=None, ceil_mode=False, return_indices=False):
        be = for_array(x)
        need = self.needs_input_grad[0]
        if return_indices or (need and x.shape[-2] * x.shape[-1] > _INT32_PLANE):
            kind = "int64"
        else:
            kind = "int32" if need else "none"
        y, idx = be.max_pool2d_forward(x, *window, ceil_mode, kind)
        if need:
            self.be, self.idx, self.x_shape, self.window = be, idx, x.shape, window
        return (y, idx) if return_indices else y

    def backward(self, gy, g_indices=None):
        if gy is None:
            return None
        return self.be.max_pool2d_backward(gy, self.idx, self.x_shape, *self.window)

    def name(self):
        return "MaxPool2DWithIndicesBackward"


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """PyTorch's F.max_pool2d over the last two dimensions of a (N, C, H, W) or (C, H, W)
    input; returns (output, indices) with return_indices=True (int64 flat positions ih * W + iw
    in the input plane). Ties go to the first maximum in row-major window order; NaN propagates."""
    op = "max_pool2d"
    image(input, op)
    k = pair(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else pair(stride, "stride", op)
    window = (k, s, pair(padding, "padding", op), pair(dilation, "dilation", op))
    return MaxPool2dFunction.apply(input, window=window, ceil_mode=bool(ceil_mode),
                                   return_indices=bool(return_indices))


# ---------------------------------------------------------------- average pooling


class AvgPool2dFunction(Function):
    def forward(self, x, args=None):
        be = for_array(x)
        if self.needs_input_grad[0]:
            self.be, self.x_shape, self.args = be, x.shape, args
        return be.avg_pool2d_forward(x, *args)

    def backward(self, gy):
        return self.be.avg_pool2d_backward(gy, self.x_shape, *self.args)

    def name(self):
        return "AvgPool2DBackward"


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """PyTorch's F.avg_pool2d: the window mean, divided by divisor_override if given, else by the
    window clipped to the padded input (count_include_pad=True) or to the input itself."""
    op = "avg_pool2d"
    image(input, op)
    k = pair(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else pair(stride, "stride", op)
    if divisor_override is not None:
        if not _int(divisor_override):
            raise TypeError(f"{op}: divisor_override must be None or an int, got {divisor_override!r}")
        divisor_override = int(divisor_override)
    args = (k, s, pair(padding, "padding", op), bool(ceil_mode), bool(count_include_pad), divisor_override)
    return AvgPool2dFunction.apply(input, args=args)


# ---------------------------------------------------------------- adaptive pooling


def _adaptive_size(output_size, shape, op):
    """(OH, OW) from an int or a pair whose None entries keep the input's size."""
    o = pair(output_size, "output_size", op, allow_none=True)
    if o is None:
        raise TypeError(f"{op}: argument 'output_size' must be an int or a tuple of 2 ints, got None")
    o = (shape[-2] if o[0] is None else o[0], shape[-1] if o[1] is None else o[1])
    if o[0] < 0 or o[1] < 0:
        raise ValueError(f"{op}: output_size must be non-negative, got {o}")
    return o


class AdaptiveAvgPool2dFunction(Function):
    def forward(self, x, output_size=None):
        be = for_array(x)
        if self.needs_input_grad[0]:
            self.be, self.x_shape = be, x.shape
        return be.adaptive_avg_pool2d_forward(x, output_size)

    def backward(self, gy):
        return self.be.adaptive_avg_pool2d_backward(gy, self.x_shape)

    def name(self):
        return "AdaptiveAvgPool2DBackward"


def adaptive_avg_pool2d(input, output_size):
    """PyTorch's F.adaptive_avg_pool2d: output (oh, ow) averages rows floor(oh*H/OH) ..
    ceil((oh+1)*H/OH) - 1 and the same for columns; output_size (1, 1) is global average pooling."""
    op = "adaptive_avg_pool2d"
    x = image(input, op)
    return AdaptiveAvgPool2dFunction.apply(input, output_size=_adaptive_size(output_size, x.shape, op))


class AdaptiveMaxPool2dFunction(Function):
    allow_none_grads = True

    def forward(self, x, output_size=None, return_indices=False):
        be = for_array(x)
        need = self.needs_input_grad[0]
        kind = "int64" if return_indices or (need and x.shape[-2] * x.shape[-1] > _INT32_PLANE) else (
            "int32" if need else "none")
        y, idx = be.adaptive_max_pool2d_forward(x, output_size, kind)
        if need:
            self.be, self.idx, self.x_shape = be, idx, x.shape
        return (y, idx) if return_indices else y

    def backward(self, gy, g_indices=None):
        if gy is None:
            return None
        return self.be.max_pool2d_backward(gy, self.idx, self.x_shape)

    def name(self):
        return "AdaptiveMaxPool2DBackward"


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """PyTorch's F.adaptive_max_pool2d (windows as adaptive_avg_pool2d); (output, int64 indices)
    with return_indices=True."""
    op = "adaptive_max_pool2d"
    x = image(input, op)
    return AdaptiveMaxPool2dFunction.apply(input, output_size=_adaptive_size(output_size, x.shape, op),
                                           return_indices=bool(return_indices))


# ---------------------------------------------------------------- nearest upsampling


def nearest_source(in_size, out_size, scale=None):
    """PyTorch's 'nearest' source index of every output position (int64): the identity when the
    sizes match, o // 2 for an exact doubling, else min(floor(o * s), in - 1) in float32 with
    s = 1/scale (a given scale factor) or in/out."""
    o = np.arange(out_size, dtype=np.int64)
    if out_size == in_size:
        return o
    if out_size == 2 * in_size:
        return o >> 1
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(in_size) / np.float32(out_size)
    src = np.floor(o.astype(np.float32) * s).astype(np.int64)
    return np.minimum(src, in_size - 1)


class UpsampleNearestFunction(Function):
    def forward(self, x, ih=None, iw=None):
        be = for_array(x)
        if self.needs_input_grad[0]:
            self.be, self.ih, self.iw, self.x_shape = be, ih, iw, x.shape
        return be.upsample_nearest2d_forward(x, ih, iw)

    def backward(self, gy):
        return self.be.upsample_nearest2d_backward(gy, self.ih, self.iw, self.x_shape)

    def name(self):
        return "UpsampleNearest2DBackward"


def _spatial(v, n, name, op, kind):
    """size / scale_factor as a tuple of n values."""
    if isinstance(v, (tuple, list)):
        if len(v) != n:
            raise ValueError(f"{op}: argument '{name}' must have {n} elements for a {n + 2}-D input, got {tuple(v)}")
        return tuple(kind(e) for e in v)
    return (kind(v),) * n


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """PyTorch's F.interpolate for mode='nearest' on (N, C, L) and (N, C, H, W) inputs: exactly
    one of size (the output size) and scale_factor (output = floor(input * scale_factor))."""
    op = "interpolate"
    if mode != "nearest":
        raise ValueError(f"{op}: mode {mode!r} is not supported; pyfastnn implements 'nearest'")
    if align_corners is not None:
        raise ValueError(f"{op}: align_corners option can only be set with the interpolating modes: linear | bilinear "
                         "| bicubic | trilinear")
    if antialias:
        raise ValueError(f"{op}: anti-alias option is only supported for bilinear and bicubic modes")
    x = image(input, op, 3, 4)
    n = x.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: exactly one of size or scale_factor should be defined")
    in_sizes = x.shape[2:]
    if size is not None:
        out = _spatial(size, n, "size", op, int)
        scales = (None,) * n
    else:
        scales = _spatial(scale_factor, n, "scale_factor", op, float)
        out = tuple(int(math.floor(float(i) * s)) for i, s in zip(in_sizes, scales))
        if recompute_scale_factor:
            scales = (None,) * n
    if min(out) <= 0:
        raise ValueError(f"{op}: output size {out} must be positive (input spatial size {tuple(in_sizes)})")
    if n == 1:
        ih = np.zeros(1, np.int64)
        iw = nearest_source(in_sizes[0], out[0], scales[0])
        y = UpsampleNearestFunction.apply(input.unsqueeze(2) if isinstance(input, Tensor) else x[:, :, None], ih=ih,
                                          iw=iw)
        return y.squeeze(2)
    ih = nearest_source(in_sizes[0], out[0], scales[0])
    iw = nearest_source(in_sizes[1], out[1], scales[1])
    return UpsampleNearestFunction.apply(input, ih=ih, iw=iw)


def upsample_nearest(input, size=None, scale_factor=None):
    """PyTorch's F.upsample_nearest: interpolate(input, size, scale_factor, mode='nearest')."""
    return interpolate(input, size, scale_factor, mode="nearest")


# ---------------------------------------------------------------- channel dropout


class ChannelDropoutFunction(Function):
    def forward(self, x, p=0.5, seed=0):
        self.p, self.seed = p, seed
        self.be = for_array(x)
        return self.be.channel_dropout_forward(x, p, seed)

    def backward(self, g):
        return self.be.channel_dropout_backward(g, self.p, self.seed)

    def name(self):
        return "FeatureDropoutBackward"


def dropout2d(input, p=0.5, training=True, inplace=False):
    """PyTorch's F.dropout2d: zero whole channels (the (n, c) planes of an (N, C, H, W) input, or
    of (N, C, L) for a 3-D input, as PyTorch does today) with probability p and scale the rest
    by 1 / (1 - p) in training; the identity when not training or p == 0. The mask comes from
    pyfastnn.random (pf.manual_seed makes it reproducible), as F.dropout's."""
    p = check_p(p, "dropout2d")
    if not training or p == 0.0:
        return input
    x = image(input, "dropout2d", 2, 8)
    seed = next_seed()
    recording = isinstance(input, Tensor) and input.requires_grad and is_grad_enabled()
    if inplace and type(x) is np.ndarray and not recording and x.flags.writeable:
        x *= for_array(x).channel_dropout_forward(np.ones(x.shape[:2] + (1,) * (x.ndim - 2), x.dtype), p, seed)
        return input
    return ChannelDropoutFunction.apply(input, p=p, seed=seed)

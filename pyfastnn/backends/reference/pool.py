"""Reference of the NCHW plane ops: max / average / adaptive pooling, nearest upsampling and
channel-wise dropout, forward and backward, with PyTorch's CPU semantics (float64 inside).

Every function sees the image in the last two dimensions; all leading dimensions are planes.
Geometry arguments are (h, w) pairs. Max pooling scans each window in row-major order and
takes v when `v > max or isnan(v)` starting from -inf, so the first maximum wins a tie and a
NaN propagates; indices are flat positions ih * W + iw in the input plane.
"""

import numpy as np

from .dropout import dropout_mask

__all__ = [
    "pool_output_size", "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
    "adaptive_avg_pool2d_forward", "adaptive_avg_pool2d_backward", "adaptive_max_pool2d_forward",
    "upsample_nearest2d_forward", "upsample_nearest2d_backward", "channel_dropout_forward",
    "channel_dropout_backward",
]

_F64 = np.float64
_INDEX = {"int64": np.int64, "int32": np.int32, "none": None}


def pool_output_size(n, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape: floor((n + 2p - d(k-1) - 1)/s) + 1 (ceil in ceil mode,
    where the last window must start inside the input or its left padding)."""
    num = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _planes(x):
    return x.reshape(-1, x.shape[-2], x.shape[-1])


def _check_window(op, shape, k, s, p, d, ceil_mode):
    """The output size (OH, OW), or PyTorch's errors."""
    for name, v in (("kernel_size", k), ("stride", s), ("dilation", d)):
        if min(v) <= 0:
            raise ValueError(f"{op}: {name} should be greater than zero, but got {name} = {tuple(v)}")
    if min(p) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {tuple(p)}")
    eff = [(k[i] - 1) * d[i] + 1 for i in range(2)]
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:  # PyTorch: the undilated kernel, for max pooling too
        raise ValueError(f"{op}: pad should be at most half of kernel size, but got pad = {tuple(p)}, "
                         f"kernel_size = {tuple(k)}")
    H, W = shape[-2], shape[-1]
    if H <= 0 or W <= 0:
        raise ValueError(f"{op}: expected an input with non-zero height and width")
    o = tuple(pool_output_size(shape[-2 + i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(2))
    if o[0] < 1 or o[1] < 1:
        raise ValueError(f"{op}: kernel {tuple(eff)} is larger than the padded input "
                         f"{(H + 2 * p[0], W + 2 * p[1])}: input size {(H, W)}, calculated output size {o}. "
                         "Output size is too small")
    return o


def _axis_taps(n, out, k, s, p, d):
    """Per kernel tap t: (positions (out,), valid (out,)) of input index o*s - p + t*d; and the
    first valid position of each window (PyTorch's start after skipping the padding)."""
    starts = np.arange(out) * s - p
    first = np.where(starts < 0, starts + ((-starts + d - 1) // d) * d, starts)
    taps = []
    for t in range(k):
        pos = starts + t * d
        taps.append((np.clip(pos, 0, n - 1), (pos >= 0) & (pos < n)))
    return taps, first


def max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode, indices="int64"):
    """(y, idx): idx None for indices='none', else int64/int32 argmax positions."""
    OH, OW = _check_window("max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    if indices not in _INDEX:
        raise ValueError(f"max_pool2d: argument 'indices' must be 'none', 'int32' or 'int64', got {indices!r}")
    H, W = x.shape[-2:]
    xp = _planes(x).astype(_F64)
    th, fh = _axis_taps(H, OH, kernel_size[0], stride[0], padding[0], dilation[0])
    tw, fw = _axis_taps(W, OW, kernel_size[1], stride[1], padding[1], dilation[1])
    m = np.full((xp.shape[0], OH, OW), -np.inf)
    idx = np.broadcast_to(fh[:, None] * W + fw[None, :], m.shape).copy()
    for hpos, hok in th:
        rows = xp[:, hpos, :]
        for wpos, wok in tw:
            v = rows[:, :, wpos]
            ok = hok[:, None] & wok[None, :]
            take = ok & ((v > m) | np.isnan(v))
            m = np.where(take, v, m)
            idx = np.where(take, hpos[:, None] * W + wpos[None, :], idx)
    shape = x.shape[:-2] + (OH, OW)
    dt = _INDEX[indices]
    return m.astype(x.dtype).reshape(shape), None if dt is None else idx.astype(dt).reshape(shape)


def max_pool2d_backward(gy, indices, input_shape, kernel_size=None, stride=None, padding=(0, 0), dilation=(1, 1)):
    """gx of input_shape: gy added at the argmax positions; indices outside the plane are skipped
    (the window arguments are unused here)."""
    input_shape = tuple(int(v) for v in input_shape)
    H, W = input_shape[-2:]
    g = gy.reshape(-1, gy.shape[-2] * gy.shape[-1]).astype(_F64)
    ind = np.asarray(indices).reshape(g.shape).astype(np.int64)
    inside = (ind >= 0) & (ind < H * W)  # outside: an empty window's index (skipped)
    gx = np.zeros((g.shape[0], H * W))
    rows = np.broadcast_to(np.arange(g.shape[0])[:, None], ind.shape)
    np.add.at(gx, (rows[inside], ind[inside]), g[inside])
    return gx.astype(gy.dtype).reshape(input_shape)


def _avg_windows(shape, k, s, p, out, ceil_mode, count_include_pad, divisor_override):
    """Per axis the clipped window bounds, and the (OH, OW) divisors (0: empty window)."""
    bounds = []
    for i in range(2):
        n = shape[-2 + i]
        start = np.arange(out[i]) * s[i] - p[i]
        end = np.minimum(start + k[i], n + p[i])
        size = end - start
        bounds.append((np.maximum(start, 0), np.minimum(end, n), size))
    (h0, h1, hs), (w0, w1, ws) = bounds
    clipped = (h1 - h0)[:, None] * (w1 - w0)[None, :]
    empty = ((h1 <= h0)[:, None]) | ((w1 <= w0)[None, :])
    if divisor_override:
        div = np.full(clipped.shape, float(divisor_override))
    elif count_include_pad:
        div = (hs[:, None] * ws[None, :]).astype(_F64)
    else:
        div = clipped.astype(_F64)
    return (h0, h1, w0, w1), np.where(empty, 0.0, div)


def avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override=None):
    out = _check_window("avg_pool2d", x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    (h0, h1, w0, w1), div = _avg_windows(x.shape, kernel_size, stride, padding, out, ceil_mode, count_include_pad,
                                         divisor_override)
    xp = _planes(x).astype(_F64)
    # window sums from a 2-D prefix sum: S[a:b, c:d] = P[b, d] - P[a, d] - P[b, c] + P[a, c]
    P = np.zeros((xp.shape[0], xp.shape[1] + 1, xp.shape[2] + 1))
    P[:, 1:, 1:] = xp.cumsum(1).cumsum(2)
    hb, he = np.minimum(h0, h1), h1
    wb, we = np.minimum(w0, w1), w1
    s = (P[:, he][:, :, we] - P[:, hb][:, :, we] - P[:, he][:, :, wb] + P[:, hb][:, :, wb])
    y = np.where(div > 0, s / np.where(div > 0, div, 1.0), 0.0)
    return y.astype(x.dtype).reshape(x.shape[:-2] + out)


def avg_pool2d_backward(gy, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override=None):
    input_shape = tuple(int(v) for v in input_shape)
    out = _check_window("avg_pool2d_backward", input_shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    (h0, h1, w0, w1), div = _avg_windows(input_shape, kernel_size, stride, padding, out, ceil_mode,
                                         count_include_pad, divisor_override)
    H, W = input_shape[-2:]
    g = gy.reshape(-1, out[0], out[1]).astype(_F64)
    g = np.where(div > 0, g / np.where(div > 0, div, 1.0), 0.0)
    gx = np.zeros((g.shape[0], H, W))
    for oh in range(out[0]):
        for ow in range(out[1]):
            gx[:, h0[oh]:h1[oh], w0[ow]:w1[ow]] += g[:, oh, ow][:, None, None]
    return gx.astype(gy.dtype).reshape(input_shape)


def _adaptive_bounds(n, out):
    o = np.arange(out)
    return (o * n) // out, ((o + 1) * n + out - 1) // out


def _check_adaptive(op, shape, output_size):
    if min(output_size) < 0:
        raise ValueError(f"{op}: output_size must be non-negative, got {tuple(output_size)}")
    if shape[-2] == 0 or shape[-1] == 0:
        raise ValueError(f"{op}: expected an input with non-zero height and width, got shape {tuple(shape)}")


def adaptive_avg_pool2d_forward(x, output_size):
    _check_adaptive("adaptive_avg_pool2d", x.shape, output_size)
    OH, OW = output_size
    (h0, h1), (w0, w1) = _adaptive_bounds(x.shape[-2], OH), _adaptive_bounds(x.shape[-1], OW)
    xp = _planes(x).astype(_F64)
    y = np.empty((xp.shape[0], OH, OW))
    for oh in range(OH):
        for ow in range(OW):
            y[:, oh, ow] = xp[:, h0[oh]:h1[oh], w0[ow]:w1[ow]].mean(axis=(1, 2))
    return y.astype(x.dtype).reshape(x.shape[:-2] + (OH, OW))


def adaptive_avg_pool2d_backward(gy, input_shape):
    input_shape = tuple(int(v) for v in input_shape)
    _check_adaptive("adaptive_avg_pool2d_backward", input_shape, gy.shape[-2:])
    H, W = input_shape[-2:]
    OH, OW = gy.shape[-2:]
    (h0, h1), (w0, w1) = _adaptive_bounds(H, OH), _adaptive_bounds(W, OW)
    g = gy.reshape(-1, OH, OW).astype(_F64)
    gx = np.zeros((g.shape[0], H, W))
    for oh in range(OH):
        for ow in range(OW):
            area = (h1[oh] - h0[oh]) * (w1[ow] - w0[ow])
            gx[:, h0[oh]:h1[oh], w0[ow]:w1[ow]] += (g[:, oh, ow] / area)[:, None, None]
    return gx.astype(gy.dtype).reshape(input_shape)


def adaptive_max_pool2d_forward(x, output_size, indices="int64"):
    _check_adaptive("adaptive_max_pool2d", x.shape, output_size)
    if indices not in _INDEX:
        raise ValueError(f"adaptive_max_pool2d: argument 'indices' must be 'none', 'int32' or 'int64', got {indices!r}")
    OH, OW = output_size
    H, W = x.shape[-2:]
    (h0, h1), (w0, w1) = _adaptive_bounds(H, OH), _adaptive_bounds(W, OW)
    xp = _planes(x).astype(_F64)
    y = np.empty((xp.shape[0], OH, OW))
    idx = np.empty((xp.shape[0], OH, OW), np.int64)
    for oh in range(OH):
        for ow in range(OW):
            m = np.full(xp.shape[0], -np.inf)
            mi = np.full(xp.shape[0], h0[oh] * W + w0[ow])
            for ih in range(h0[oh], h1[oh]):
                for iw in range(w0[ow], w1[ow]):
                    v = xp[:, ih, iw]
                    take = (v > m) | np.isnan(v)
                    m = np.where(take, v, m)
                    mi = np.where(take, ih * W + iw, mi)
            y[:, oh, ow], idx[:, oh, ow] = m, mi
    shape = x.shape[:-2] + (OH, OW)
    dt = _INDEX[indices]
    return y.astype(x.dtype).reshape(shape), None if dt is None else idx.astype(dt).reshape(shape)


def upsample_nearest2d_forward(x, ih, iw):
    """y[..., oh, ow] = x[..., ih[oh], iw[ow]]."""
    return np.ascontiguousarray(x[..., ih, :][..., iw])


def upsample_nearest2d_backward(gy, ih, iw, input_shape):
    input_shape = tuple(int(v) for v in input_shape)
    H, W = input_shape[-2:]
    g = gy.reshape(-1, gy.shape[-2], gy.shape[-1]).astype(_F64)
    gx = np.zeros((g.shape[0], H, W))
    flat = (np.asarray(ih)[:, None] * W + np.asarray(iw)[None, :]).reshape(-1)
    gflat = gx.reshape(g.shape[0], -1)
    np.add.at(gflat, (np.arange(g.shape[0])[:, None], flat[None, :]), g.reshape(g.shape[0], -1))
    return gx.astype(gy.dtype).reshape(input_shape)


def _channel_scale(x, p, seed):
    """The (N, C, 1, ..., 1) multiplier of channel dropout: keep / (1 - p) per (n, c), from the
    counter-based mask of dropout over the flat (n, c) index."""
    keep = dropout_mask(x.shape[:2], p, seed)
    scale = x.dtype.type(0.0 if p >= 1.0 else 1.0 / (1.0 - p))
    m = np.where(keep, scale, x.dtype.type(0))
    return m.reshape(x.shape[:2] + (1,) * (x.ndim - 2))


def channel_dropout_forward(x, p, seed):
    """Dropout2d: zero whole (n, c) planes of an (N, C, *) array, scale the rest by 1/(1-p)."""
    return (x * _channel_scale(x, p, seed)).astype(x.dtype, copy=False)


def channel_dropout_backward(gy, p, seed):
    return channel_dropout_forward(gy, p, seed)

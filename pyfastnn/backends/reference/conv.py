"""Reference of 2-D convolution (NCHW cross-correlation), its backward pass and the
transposed convolution, in float64 NumPy.

Written straight from the definition, one kernel offset (ki, kj) at a time: the output
reads the strided window x_pad[..., ki*dh : ... : sh, kj*dw : ... : sw] times the weights at
(ki, kj), so the backward pass is the same window written back (dx) or read again (dw).
Independent of the C++ code's im2col, col2im and direct kernels.

padding is (top, bottom, left, right), or (pad_h, pad_w), or an int; stride and dilation
an int or a pair; activation None or 'relu'.
"""

import numpy as np

from .linear import _activation

__all__ = ["conv2d_forward", "conv2d_backward", "conv_transpose2d_forward", "conv_transpose2d_backward"]

_F64 = np.float64


def _pair(v):
    return (int(v), int(v)) if np.isscalar(v) else tuple(int(a) for a in v)


def _pad4(p):
    if np.isscalar(p):
        return (int(p),) * 4
    p = tuple(int(a) for a in p)
    return p if len(p) == 4 else (p[0], p[0], p[1], p[1])


def _out_size(n, k, s, lo, hi, d):
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def _window(kh_i, kw_i, oh, ow, stride, dilation):
    """The (rows, cols) slices of the padded input that kernel offset (kh_i, kw_i) reads."""
    sh, sw = stride
    dh, dw = dilation
    r0, c0 = kh_i * dh, kw_i * dw
    return slice(r0, r0 + sh * (oh - 1) + 1, sh), slice(c0, c0 + sw * (ow - 1) + 1, sw)


def _geometry(x_shape, w_shape, stride, padding, dilation):
    stride, dilation, pad = _pair(stride), _pair(dilation), _pad4(padding)
    kh, kw = w_shape[2], w_shape[3]
    oh = _out_size(x_shape[2], kh, stride[0], pad[0], pad[1], dilation[0])
    ow = _out_size(x_shape[3], kw, stride[1], pad[2], pad[3], dilation[1])
    return stride, pad, dilation, oh, ow


def _padded(x, pad, oh, ow, kh, kw, stride, dilation):
    """x (float64) zero-padded so every window is inside (also past the bottom/right pad when
    the output does not reach there)."""
    n, c, h, w = x.shape
    need_h = stride[0] * (oh - 1) + dilation[0] * (kh - 1) + 1
    need_w = stride[1] * (ow - 1) + dilation[1] * (kw - 1) + 1
    bottom = max(need_h - h - pad[0], 0)
    right = max(need_w - w - pad[2], 0)
    return np.pad(x.astype(_F64), ((0, 0), (0, 0), (pad[0], bottom), (pad[2], right)))


def _conv(xp, w, groups, oh, ow, stride, dilation):
    """y[n, o] = sum over (c, ki, kj) of w[o, c, ki, kj] * window, xp padded float64."""
    n = xp.shape[0]
    oc, cg, kh, kw = w.shape
    ocg = oc // groups
    y = np.zeros((n, oc, oh, ow), _F64)
    for g in range(groups):
        xg = xp[:, g * cg:(g + 1) * cg]
        wg = w[g * ocg:(g + 1) * ocg]
        for i in range(kh):
            for j in range(kw):
                rs, cs = _window(i, j, oh, ow, stride, dilation)
                y[:, g * ocg:(g + 1) * ocg] += np.einsum("ncyx,oc->noyx", xg[:, :, rs, cs], wg[:, :, i, j])
    return y


def _conv_dx(gz, w, groups, padded_shape, stride, dilation):
    """The adjoint of _conv in its input: gradient w.r.t. the padded input."""
    oc, cg, kh, kw = w.shape
    ocg = oc // groups
    oh, ow = gz.shape[2], gz.shape[3]
    dxp = np.zeros(padded_shape, _F64)
    for g in range(groups):
        gg = gz[:, g * ocg:(g + 1) * ocg]
        wg = w[g * ocg:(g + 1) * ocg]
        for i in range(kh):
            for j in range(kw):
                rs, cs = _window(i, j, oh, ow, stride, dilation)
                dxp[:, g * cg:(g + 1) * cg, rs, cs] += np.einsum("noyx,oc->ncyx", gg, wg[:, :, i, j])
    return dxp


def _conv_dw(xp, gz, w_shape, groups, stride, dilation):
    oc, cg, kh, kw = w_shape
    ocg = oc // groups
    oh, ow = gz.shape[2], gz.shape[3]
    dw = np.zeros(w_shape, _F64)
    for g in range(groups):
        xg = xp[:, g * cg:(g + 1) * cg]
        gg = gz[:, g * ocg:(g + 1) * ocg]
        for i in range(kh):
            for j in range(kw):
                rs, cs = _window(i, j, oh, ow, stride, dilation)
                dw[g * ocg:(g + 1) * ocg, :, i, j] = np.einsum("noyx,ncyx->oc", gg, xg[:, :, rs, cs])
    return dw


def conv2d_forward(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, activation=None, algo=None,
                   band_rows=0):
    """y = act(conv2d(x, weight) + bias) in float64, returned in x's dtype (algo and
    band_rows: accepted for the C++ signature, ignored)."""
    act = _activation(activation, "conv2d_forward")
    stride, pad, dilation, oh, ow = _geometry(x.shape, weight.shape, stride, padding, dilation)
    kh, kw = weight.shape[2:]
    xp = _padded(x, pad, oh, ow, kh, kw, stride, dilation)
    y = _conv(xp, weight.astype(_F64), groups, oh, ow, stride, dilation)
    if bias is not None:
        y += bias.astype(_F64)[None, :, None, None]
    if act == "relu":
        y = np.maximum(y, 0.0)
    return y.astype(x.dtype)


def conv2d_backward(x, weight, y, gy, stride=1, padding=0, dilation=1, groups=1, activation=None, need_dx=True,
                    need_dw=True, need_db=True, algo=None, band_rows=0):
    """(dx, dw, db) of y = act(conv2d(x, weight) + b) given gy, each None unless asked for."""
    act = _activation(activation, "conv2d_backward")
    stride, pad, dilation, oh, ow = _geometry(x.shape, weight.shape, stride, padding, dilation)
    kh, kw = weight.shape[2:]
    gz = gy.astype(_F64)
    if act == "relu":
        gz = np.where(y <= 0, 0.0, gz)  # NaN in y passes gy, as PyTorch
    dt = x.dtype
    xp = _padded(x, pad, oh, ow, kh, kw, stride, dilation)
    dx = dw = db = None
    if need_dx:
        dxp = _conv_dx(gz, weight.astype(_F64), groups, xp.shape, stride, dilation)
        dx = dxp[:, :, pad[0]:pad[0] + x.shape[2], pad[2]:pad[2] + x.shape[3]].astype(dt)
    if need_dw:
        dw = _conv_dw(xp, gz, weight.shape, groups, stride, dilation).astype(dt)
    if need_db:
        db = gz.sum(axis=(0, 2, 3)).astype(dt)
    return dx, dw, db


def _transpose_out(x_shape, w_shape, stride, padding, output_padding, dilation):
    stride, dilation, pad, op = _pair(stride), _pair(dilation), _pad4(padding), _pair(output_padding)
    kh, kw = w_shape[2], w_shape[3]
    ht = (x_shape[2] - 1) * stride[0] - pad[0] - pad[1] + dilation[0] * (kh - 1) + op[0] + 1
    wt = (x_shape[3] - 1) * stride[1] - pad[2] - pad[3] + dilation[1] * (kw - 1) + op[1] + 1
    return stride, pad, dilation, ht, wt


def conv_transpose2d_forward(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1,
                             algo=None, band_rows=0):
    """PyTorch's conv_transpose2d: each input pixel scatters weight[c_in, :, :, :] times its
    value into the (strided, dilated) output window, then the padding is cropped off."""
    stride, pad, dilation, ht, wt = _transpose_out(x.shape, weight.shape, stride, padding, output_padding, dilation)
    n, cin, h, w = x.shape
    _, cog, kh, kw = weight.shape
    cout = cog * groups
    cing = cin // groups
    full_h = max(stride[0] * (h - 1) + dilation[0] * (kh - 1) + 1, pad[0] + ht)
    full_w = max(stride[1] * (w - 1) + dilation[1] * (kw - 1) + 1, pad[2] + wt)
    out = np.zeros((n, cout, full_h, full_w), _F64)
    xf, wf = x.astype(_F64), weight.astype(_F64)
    for g in range(groups):
        xg = xf[:, g * cing:(g + 1) * cing]
        wg = wf[g * cing:(g + 1) * cing]
        for i in range(kh):
            for j in range(kw):
                rs, cs = _window(i, j, h, w, stride, dilation)
                out[:, g * cog:(g + 1) * cog, rs, cs] += np.einsum("ncyx,co->noyx", xg, wg[:, :, i, j])
    y = out[:, :, pad[0]:pad[0] + ht, pad[2]:pad[2] + wt]
    if bias is not None:
        y = y + bias.astype(_F64)[None, :, None, None]
    return y.astype(x.dtype)


def conv_transpose2d_backward(x, weight, gy, stride=1, padding=0, output_padding=0, dilation=1, groups=1,
                              need_dx=True, need_dw=True, need_db=True, algo=None, band_rows=0):
    """(dx, dw, db) of y = conv_transpose2d(x, weight) + b given gy: the transposed
    convolution is conv2d's input gradient, so dx = conv2d(gy, weight) and dw is conv2d's
    weight gradient with gy as the input and x as the output gradient."""
    stride, pad, dilation, ht, wt = _transpose_out(x.shape, weight.shape, stride, padding, output_padding, dilation)
    kh, kw = weight.shape[2:]
    h, w = x.shape[2], x.shape[3]
    gyp = _padded(gy, pad, h, w, kh, kw, stride, dilation)
    dt = x.dtype
    dx = dw = db = None
    if need_dx:
        dx = _conv(gyp, weight.astype(_F64), groups, h, w, stride, dilation).astype(dt)
    if need_dw:
        dw = _conv_dw(gyp, x.astype(_F64), weight.shape, groups, stride, dilation).astype(dt)
    if need_db:
        db = gy.astype(_F64).sum(axis=(0, 2, 3)).astype(dt)
    return dx, dw, db

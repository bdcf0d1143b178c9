"""Reference of the normalization layers (float64 inside, PyTorch's semantics):

    batch norm over dim 1 of (N, C, *): xhat = (x - mean) / sqrt(var + eps), y = xhat * w + b;
        training: batch mean and biased var, running stats r = (1 - momentum) r + momentum s
        with the unbiased var; eval: the running stats.
        backward (training): dx = w invstd (gy - mean(gy) - xhat mean(gy xhat)) per channel;
        (eval): dx = w invstd gy; dw = sum(gy xhat), db = sum(gy).
    layer norm over the trailing normalized_shape dims: the same per row, w and b elementwise.
    local response norm: y = x / (k + alpha/size * sum over channels c-size//2..c+(size-1)//2
        of x^2)^beta (channels outside [0, C) count as 0).
"""

import numpy as np

__all__ = [
    "batch_norm_forward", "batch_norm_backward", "layer_norm_forward", "layer_norm_backward",
    "local_response_norm_forward", "local_response_norm_backward",
]

_F64 = np.float64


def _ncs(x):
    return x.reshape(x.shape[0], x.shape[1], int(np.prod(x.shape[2:])))  # not -1: N may be 0


def _per_channel(v, C):
    return np.ones(C) if v is None else np.asarray(v, _F64).reshape(C)


def batch_norm_forward(x, weight, bias, running_mean, running_var, training, momentum, eps):
    """(y, save_mean, save_invstd); running_mean / running_var updated in place when training."""
    if x.ndim < 2:
        raise ValueError(f"batch_norm: argument 'x' must have at least 2 dimensions, got shape {x.shape}")
    x3 = _ncs(x).astype(_F64)
    N, C, S = x3.shape
    if N * S == 0:  # an empty batch (PyTorch's behaviour): empty output, running stats untouched
        return x.copy(), np.zeros(C), np.ones(C)
    if training:
        if N * S == 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of shape "
                             f"{x.shape}")
        mean = x3.mean(axis=(0, 2))
        var = ((x3 - mean[None, :, None]) ** 2).mean(axis=(0, 2))
        if running_mean is not None:
            M = N * S
            running_mean[...] = (1 - momentum) * running_mean.astype(_F64) + momentum * mean
            running_var[...] = (1 - momentum) * running_var.astype(_F64) + momentum * var * M / (M - 1)
    else:
        if running_mean is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not training")
        mean, var = running_mean.astype(_F64), running_var.astype(_F64)
    invstd = 1.0 / np.sqrt(var + eps)
    w = _per_channel(weight, C)
    b = np.zeros(C) if bias is None else np.asarray(bias, _F64)
    y = (x3 - mean[None, :, None]) * (invstd * w)[None, :, None] + b[None, :, None]
    return y.astype(x.dtype).reshape(x.shape), mean, invstd


def batch_norm_backward(gy, x, weight, save_mean, save_invstd, training, need_dx=True, need_dweight=True,
                        need_dbias=True):
    """(gx, gweight, gbias), each None unless asked for."""
    x3 = _ncs(x).astype(_F64)
    g3 = _ncs(gy).astype(_F64)
    N, C, S = x3.shape
    mean, invstd = np.asarray(save_mean, _F64), np.asarray(save_invstd, _F64)
    xhat = (x3 - mean[None, :, None]) * invstd[None, :, None]
    sg = g3.sum(axis=(0, 2))
    sgx = (g3 * xhat).sum(axis=(0, 2))
    gx = None
    if need_dx:
        k = (_per_channel(weight, C) * invstd)[None, :, None]
        if training and N * S > 0:
            M = N * S
            gx = k * (g3 - sg[None, :, None] / M - xhat * sgx[None, :, None] / M)
        else:
            gx = k * g3
        gx = gx.astype(x.dtype).reshape(x.shape)
    return (gx, sgx.astype(x.dtype) if need_dweight else None, sg.astype(x.dtype) if need_dbias else None)


def _rows(x, normalized_shape):
    ns = tuple(int(v) for v in normalized_shape)
    if len(ns) == 0 or x.shape[x.ndim - len(ns):] != ns or len(ns) > x.ndim:
        raise ValueError(f"layer_norm: input of shape {x.shape} does not end with normalized_shape {ns}")
    D = int(np.prod(ns))
    return x.reshape(-1, D).astype(_F64), ns, D


def layer_norm_forward(x, normalized_shape, weight, bias, eps):
    """(y, mean, rstd), mean and rstd float64 of one value per normalized row."""
    x2, ns, D = _rows(x, normalized_shape)
    mean = x2.mean(axis=1)
    var = ((x2 - mean[:, None]) ** 2).mean(axis=1)
    rstd = 1.0 / np.sqrt(var + eps)
    y = (x2 - mean[:, None]) * rstd[:, None]
    if weight is not None:
        y = y * np.asarray(weight, _F64).reshape(D)
    if bias is not None:
        y = y + np.asarray(bias, _F64).reshape(D)
    return y.astype(x.dtype).reshape(x.shape), mean, rstd


def layer_norm_backward(gy, x, normalized_shape, weight, mean, rstd, need_dx=True, need_dweight=True,
                        need_dbias=True):
    x2, ns, D = _rows(x, normalized_shape)
    g2 = gy.reshape(-1, D).astype(_F64)
    xhat = (x2 - np.asarray(mean)[:, None]) * np.asarray(rstd)[:, None]
    gx = None
    if need_dx:
        g = g2 * (1.0 if weight is None else np.asarray(weight, _F64).reshape(D))
        mg, mgx = g.mean(axis=1, keepdims=True), (g * xhat).mean(axis=1, keepdims=True)
        gx = np.asarray(rstd)[:, None] * (g - mg - xhat * mgx)
        gx = gx.astype(x.dtype).reshape(x.shape)
    gw = (g2 * xhat).sum(axis=0).astype(x.dtype).reshape(ns) if need_dweight else None
    gb = g2.sum(axis=0).astype(x.dtype).reshape(ns) if need_dbias else None
    return gx, gw, gb


def _window_sum(v, before, after):
    """sum over channels c - before .. c + after of v (N, C, S), zeros outside [0, C)."""
    N, C, S = v.shape
    padded = np.concatenate([np.zeros((N, before, S)), v, np.zeros((N, after, S))], axis=1)
    c = np.concatenate([np.zeros((N, 1, S)), padded.cumsum(axis=1)], axis=1)
    size = before + after + 1
    return c[:, size:size + C] - c[:, :C]


def _lrn_window_sum(v, size):
    return _window_sum(v, size // 2, (size - 1) // 2)


def local_response_norm_forward(x, size, alpha, beta, k):
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher dimensionality input (got {x.ndim} dimensions)")
    x3 = _ncs(x).astype(_F64)
    den = k + alpha / size * _lrn_window_sum(x3 * x3, size)
    return (x3 * den ** -beta).astype(x.dtype).reshape(x.shape)


def local_response_norm_backward(gy, x, size, alpha, beta, k):
    x3 = _ncs(x).astype(_F64)
    g3 = _ncs(gy).astype(_F64)
    den = k + alpha / size * _lrn_window_sum(x3 * x3, size)
    q = g3 * x3 * den ** (-beta - 1)
    # channel j receives from the outputs c whose window holds j: c in j - (size-1)//2 .. j + size//2
    acc = _window_sum(q, (size - 1) // 2, size // 2)
    gx = g3 * den ** -beta - 2.0 * alpha * beta / size * x3 * acc
    return gx.astype(x.dtype).reshape(x.shape)

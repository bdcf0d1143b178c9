"""Reference softmax, log-softmax and softmax-cross-entropy (float64 NumPy).

Same names, signatures, results (to rounding) and errors as the C++ kernels in
backends.cpu: softmax/log_softmax reduce over the last axis; softmax_xent_* follow
PyTorch's F.cross_entropy on (N, C) logits.
"""

import numpy as np

__all__ = ["softmax_forward", "softmax_backward", "log_softmax_forward", "log_softmax_backward",
           "softmax_xent_forward", "softmax_xent_backward"]

_OP = "cross_entropy"
_STATS = 3  # rows of the state: max, log of sum exp(x - max), total target weight (one column per row)


def _float_array(x, op, arg):
    if not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}: argument '{arg}' must be a float32 or float64 numpy array, got {_describe(x)}")
    return x


def _describe(x):
    if isinstance(x, np.ndarray):
        art = "an" if str(x.dtype)[0] in "aeiou" else "a"
        return f"{art} {x.dtype} array of shape {x.shape}"
    return f"an object of type {type(x).__name__}"


def _same_dtype(a, dtype, op, arg):
    if not isinstance(a, np.ndarray) or a.dtype != dtype:
        raise TypeError(f"{op}: argument '{arg}' must be a {dtype} numpy array (the dtype of the input), got "
                        f"{_describe(a)}")
    return a


def _rows(x):
    x64 = np.asarray(x, np.float64)
    return x64.reshape(1, 1) if x64.ndim == 0 else x64


def _max(x64):
    return x64.max(axis=-1, keepdims=True) if x64.shape[-1] else np.zeros(x64.shape[:-1] + (1,))


def softmax_forward(x):
    """softmax along the last axis."""
    _float_array(x, "softmax_forward", "x")
    x64 = _rows(x)
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(x64 - _max(x64))
        y = e / e.sum(axis=-1, keepdims=True)
    return y.reshape(x.shape).astype(x.dtype)


def softmax_backward(y, gy):
    """y * (gy - sum(gy * y)) along the last axis (y: the softmax output)."""
    _float_array(y, "softmax_backward", "y")
    _check_grad(y, gy, "softmax_backward")
    y64, g64 = _rows(y), _rows(gy)
    gx = y64 * (g64 - (g64 * y64).sum(axis=-1, keepdims=True))
    return gx.reshape(y.shape).astype(y.dtype)


def log_softmax_forward(x):
    """x - logsumexp(x) along the last axis."""
    _float_array(x, "log_softmax_forward", "x")
    x64 = _rows(x)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        d = x64 - _max(x64)
        y = d - np.log(np.exp(d).sum(axis=-1, keepdims=True))
    return y.reshape(x.shape).astype(x.dtype)


def log_softmax_backward(y, gy):
    """gy - exp(y) * sum(gy) along the last axis (y: the log_softmax output)."""
    _float_array(y, "log_softmax_backward", "y")
    _check_grad(y, gy, "log_softmax_backward")
    y64, g64 = _rows(y), _rows(gy)
    gx = g64 - np.exp(y64) * g64.sum(axis=-1, keepdims=True)
    return gx.reshape(y.shape).astype(y.dtype)


def _check_grad(y, gy, op):
    _same_dtype(gy, y.dtype, op, "gy")
    if gy.shape != y.shape:
        raise ValueError(f"{op}: 'gy' must have the shape of 'y' {y.shape}, got {gy.shape}")


def _prepare(logits, target, weight, ignore_index, label_smoothing, reduction, sample_weight):
    """Checked arguments: (index?, target, weight64 or None, sample_weight64 or None, mean divisor)."""
    x = _float_array(logits, _OP, "input")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{_OP}: argument 'reduction' must be 'mean', 'sum' or 'none', got '{reduction}'")
    if x.ndim != 2:
        raise ValueError(f"{_OP}: input (logits) must be 2-D (N, C), got shape {x.shape}")
    n, c = x.shape
    if c == 0:
        raise ValueError(f"{_OP}: input (logits) must have at least one class, got shape {x.shape}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{_OP}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if not isinstance(target, np.ndarray) or not (target.dtype == np.int64 or target.dtype == x.dtype
                                                  and target.ndim == 2):
        got = f"{target.dtype} of shape {target.shape}" if isinstance(target, np.ndarray) else _describe(target)
        raise TypeError(f"{_OP}: target must be int64 class indices of shape (N,) or float probabilities of shape "
                        f"(N, C) with the dtype of the input; got {got}")
    index = target.dtype == np.int64
    if index and target.shape != (n,):
        raise ValueError(f"{_OP}: class-index target must have shape ({n},) for input of shape {x.shape}, got "
                         f"{target.shape}")
    if not index and target.shape != x.shape:
        raise ValueError(f"{_OP}: probability target must have the input's shape {x.shape}, got {target.shape}")
    w = None
    if weight is not None:
        _same_dtype(weight, x.dtype, _OP, "weight")
        if weight.shape != (c,):
            raise ValueError(f"{_OP}: weight must have shape ({c},) (one per class), got {weight.shape}")
        w = weight.astype(np.float64)
    sw = None
    if sample_weight is not None:
        _same_dtype(sample_weight, x.dtype, _OP, "sample_weight")
        if sample_weight.shape != (n,):
            raise ValueError(f"{_OP}: sample_weight must have shape ({n},) (one per sample), got "
                             f"{sample_weight.shape}")
        sw = sample_weight.astype(np.float64)
    denom = float(n)
    if index:
        keep = target != ignore_index
        bad = keep & ((target < 0) | (target >= c))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{_OP}: target {int(target[i])} is out of bounds for {c} classes (expected 0 <= target "
                             f"< {c} or ignore_index={ignore_index}), at position {i}")
        denom = float(w[target[keep]].sum()) if w is not None else float(keep.sum())
    return index, w, sw, denom if reduction == "mean" else 1.0


def _smoothed_target(x64, target, index, w, ignore_index, eps):
    """tw (N, C): the smoothed, class-weighted target of every row (zero rows where ignored)."""
    n, c = x64.shape
    wc = np.ones(c) if w is None else w
    if index:
        keep = target != ignore_index
        safe = np.where(keep, target, 0)
        tw = np.zeros((n, c))
        tw[np.arange(n), safe] = (1 - eps) * wc[safe]
        tw += (eps / c) * wc
        tw[~keep] = 0
        return tw
    return ((1 - eps) * target.astype(np.float64) + eps / c) * wc


def softmax_xent_forward(logits, target, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean",
                         sample_weight=None):
    """(loss, state): the cross-entropy of logits (N, C) against class indices (N,) int64 or
    probabilities (N, C), as F.cross_entropy; state (3, N): per row the max, the log-sum-exp
    remainder and the total target weight (what the backward needs; no probabilities)."""
    index, w, sw, denom = _prepare(logits, target, weight, ignore_index, label_smoothing, reduction, sample_weight)
    x64 = logits.astype(np.float64)
    n = x64.shape[0]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        m = _max(x64)
        ls = np.log(np.exp(x64 - m).sum(axis=1, keepdims=True))
        tw = _smoothed_target(x64, target, index, w, ignore_index, label_smoothing)
        # sum_c tw_c (lse - x_c), written as tw (m - x) + tw ls so large logits cancel exactly
        rows = (tw * (m - x64)).sum(axis=1) + tw.sum(axis=1) * ls[:, 0]
        if index:
            rows[target == ignore_index] = 0.0
        if sw is not None:
            rows = rows * sw
        total = rows.sum()
    if not np.isfinite(total) and not np.isfinite(x64).all():
        i, j = np.argwhere(~np.isfinite(x64))[0]
        v = x64[i, j]
        what = "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
        raise ValueError(f"{_OP}: input (logits) contains {what} at [{i}, {j}]: the loss is not finite (the model's "
                         "outputs diverged?)")
    stats = np.zeros((_STATS, n))
    stats[0], stats[1], stats[2] = m[:, 0], ls[:, 0], tw.sum(axis=1)
    if index:
        stats[:, target == ignore_index] = 0.0
    dtype = logits.dtype
    if reduction == "none":
        loss = rows.astype(dtype)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            loss = np.asarray(total / denom if reduction == "mean" else total, dtype=dtype)
    return loss, stats.astype(dtype)


def softmax_xent_backward(logits, target, state, grad_loss, weight=None, ignore_index=-100, label_smoothing=0.0,
                          reduction="mean", sample_weight=None):
    """dlogits = scale_i * (softmax * S_i - tw): the gradient of softmax_xent_forward."""
    index, w, sw, denom = _prepare(logits, target, weight, ignore_index, label_smoothing, reduction, sample_weight)
    x64 = logits.astype(np.float64)
    n = x64.shape[0]
    _same_dtype(state, logits.dtype, _OP, "state")
    st = state.astype(np.float64)
    if st.shape != (_STATS, n):
        raise ValueError(f"{_OP}: state must have shape ({_STATS}, {n}) (from softmax_xent_forward), got {st.shape}")
    if reduction == "none":
        scale = np.asarray(grad_loss, np.float64).reshape(n)
    else:
        g = float(grad_loss)
        scale = np.full(n, (g / denom if denom != 0 else 0.0) if reduction == "mean" else g)
    if sw is not None:
        scale = scale * sw
    tw = _smoothed_target(x64, target, index, w, ignore_index, label_smoothing)
    with np.errstate(invalid="ignore", over="ignore"):
        p = np.exp((x64 - st[0][:, None]) - st[1][:, None])
        g = scale[:, None] * (p * st[2][:, None] - tw)
    if index:
        g[target == ignore_index] = 0.0
    return g.astype(logits.dtype)

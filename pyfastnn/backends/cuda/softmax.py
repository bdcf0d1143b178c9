"""Softmax, log-softmax and the fused softmax-cross-entropy on the GPU (row kernels), with
the names, signatures and semantics of backends.reference.softmax. Differences: the state
has XENT_STATE_ROWS rows (the reference's three, then per-row losses and divisors), and
non-finite logits give a non-finite loss rather than a ValueError; class indices are
checked only when pf.backends.cuda.check_targets is set (else a bad index gives NaN)."""

import math

import cupy as cp

from ._common import I64, _cuda, describe, float_array, on_device, ptr, same_dtype, stream

__all__ = ["softmax_forward", "softmax_backward", "log_softmax_forward", "log_softmax_backward",
           "softmax_xent_forward", "softmax_xent_backward"]

_OP = "cross_entropy"
STATE_ROWS = _cuda.XENT_STATE_ROWS


def _rows_of(x):
    cols = x.shape[-1] if x.ndim else 1
    return (x.size // cols if cols else 0), cols


def _forward(x, log, op):
    float_array(x, op, "x")
    x = cp.ascontiguousarray(x)
    y = cp.empty(x.shape, x.dtype)
    rows, cols = _rows_of(x)
    _cuda.softmax_forward(x.dtype.name, log, ptr(x), ptr(y), rows, cols, stream())
    return y


def _backward(y, gy, log, op):
    float_array(y, op, "y")
    same_dtype(gy, y, op, "gy", "y")
    if gy.shape != y.shape:
        raise ValueError(f"{op}: 'gy' must have the shape of 'y' {y.shape}, got {gy.shape}")
    y, gy = cp.ascontiguousarray(y), cp.ascontiguousarray(gy)
    gx = cp.empty(y.shape, y.dtype)
    rows, cols = _rows_of(y)
    _cuda.softmax_backward(y.dtype.name, log, ptr(y), ptr(gy), ptr(gx), rows, cols, stream())
    return gx


def softmax_forward(x):
    return _forward(x, False, "softmax_forward")


def softmax_backward(y, gy):
    return _backward(y, gy, False, "softmax_backward")


def log_softmax_forward(x):
    return _forward(x, True, "log_softmax_forward")


def log_softmax_backward(y, gy):
    return _backward(y, gy, True, "log_softmax_backward")


def _prepare(logits, target, weight, ignore_index, label_smoothing, reduction, sample_weight):
    """Checked, contiguous arguments: (logits, target index or None, target prob or None,
    weight, sample_weight)."""
    float_array(logits, _OP, "input")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{_OP}: argument 'reduction' must be 'mean', 'sum' or 'none', got '{reduction}'")
    if logits.ndim != 2:
        raise ValueError(f"{_OP}: input (logits) must be 2-D (N, C), got shape {logits.shape}")
    n, c = logits.shape
    if c == 0:
        raise ValueError(f"{_OP}: input (logits) must have at least one class, got shape {logits.shape}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{_OP}: label_smoothing must be in [0, 1], got {label_smoothing}")
    on_device(target, _OP, "target")
    if target.dtype == I64:
        if target.shape != (n,):
            raise ValueError(f"{_OP}: class-index target must have shape ({n},) for input of shape {logits.shape}, "
                             f"got {target.shape}")
        index, prob = cp.ascontiguousarray(target), None
    elif target.dtype == logits.dtype and target.ndim == 2:
        if target.shape != logits.shape:
            raise ValueError(f"{_OP}: probability target must have the input's shape {logits.shape}, got "
                             f"{target.shape}")
        index, prob = None, cp.ascontiguousarray(target)
    else:
        raise TypeError(f"{_OP}: target must be int64 class indices of shape (N,) or float probabilities of shape "
                        f"(N, C) with the dtype of the input; got {describe(target)}")
    if weight is not None:
        same_dtype(weight, logits, _OP, "weight", "input")
        if weight.shape != (c,):
            raise ValueError(f"{_OP}: weight must have shape ({c},) (one per class), got {weight.shape}")
        weight = cp.ascontiguousarray(weight)
    if sample_weight is not None:
        on_device(sample_weight, _OP, "sample_weight")
        if sample_weight.shape != (n,):
            raise ValueError(f"{_OP}: sample_weight must have shape ({n},) (one per sample), got "
                             f"{sample_weight.shape}")
        sample_weight = cp.ascontiguousarray(sample_weight, dtype=logits.dtype)
    return cp.ascontiguousarray(logits), index, prob, weight, sample_weight


def _check_indices(index, c, ignore_index):
    bad = (index != ignore_index) & ((index < 0) | (index >= c))
    if bool(bad.any()):  # a device-to-host copy: only with pf.backends.cuda.check_targets
        i = int(bad.argmax())
        raise ValueError(f"{_OP}: target {int(index[i])} is out of bounds for {c} classes (expected 0 <= target < {c} "
                         f"or ignore_index={ignore_index}), at position {i}")


def softmax_xent_forward(logits, target, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean",
                         sample_weight=None):
    """(loss, state): F.cross_entropy of logits (N, C) against int64 class indices (N,) or
    probabilities (N, C); state (XENT_STATE_ROWS, N) for softmax_xent_backward."""
    x, index, prob, w, sw = _prepare(logits, target, weight, ignore_index, label_smoothing, reduction, sample_weight)
    n, c = x.shape
    from . import check_targets

    if check_targets and index is not None and n:
        _check_indices(index, c, ignore_index)
    state = cp.zeros((STATE_ROWS, n), x.dtype) if n == 0 else cp.empty((STATE_ROWS, n), x.dtype)
    if reduction == "none":
        loss = cp.empty((n,), x.dtype)
    elif n == 0:
        return cp.asarray(math.nan if reduction == "mean" else 0.0, dtype=x.dtype), state
    else:
        loss = cp.empty((), x.dtype)
    _cuda.softmax_xent_forward(x.dtype.name, ptr(x), n, c, ptr(index), ptr(prob), ptr(w), ptr(sw), int(ignore_index),
                               float(label_smoothing), reduction, ptr(loss), ptr(state), stream())
    return loss, state


def softmax_xent_backward(logits, target, state, grad_loss, weight=None, ignore_index=-100, label_smoothing=0.0,
                          reduction="mean", sample_weight=None):
    """dlogits = scale_i (softmax * S_i - tw): the gradient of softmax_xent_forward."""
    x, index, prob, w, sw = _prepare(logits, target, weight, ignore_index, label_smoothing, reduction, sample_weight)
    n, c = x.shape
    same_dtype(state, x, _OP, "state", "input")
    if state.shape != (STATE_ROWS, n):
        raise ValueError(f"{_OP}: state must have shape ({STATE_ROWS}, {n}) (from softmax_xent_forward), got "
                         f"{state.shape}")
    if isinstance(grad_loss, cp.ndarray):
        g = cp.ascontiguousarray(grad_loss, dtype=x.dtype)
    else:
        g = cp.asarray(grad_loss, dtype=x.dtype)
    if reduction == "none":
        g = g.reshape(n) if g.size == n else g
        if g.shape != (n,):
            raise ValueError(f"{_OP}: grad_loss must have shape ({n},) for reduction 'none', got {g.shape}")
    elif g.size != 1:
        raise ValueError(f"{_OP}: grad_loss must be a single value for reduction '{reduction}', got shape {g.shape}")
    grad = cp.empty(x.shape, x.dtype)
    _cuda.softmax_xent_backward(x.dtype.name, ptr(x), n, c, ptr(index), ptr(prob), ptr(w), ptr(sw), int(ignore_index),
                                float(label_smoothing), reduction, ptr(cp.ascontiguousarray(state)), ptr(g),
                                ptr(grad), stream())
    return grad


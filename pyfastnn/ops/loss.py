"""Loss functions under PyTorch's torch.nn.functional names, arguments and defaults.

Each loss is one autograd Function. cross_entropy runs the fused softmax-cross-entropy
kernel of the backend (one pass per row forward, one backward, no probability matrix
kept); every other loss is elementwise NumPy with a closed-form backward (it is its own
reference).

Reductions: 'mean' (default), 'sum', 'none' (kl_div also 'batchmean'); the deprecated
size_average/reduce arguments map to a reduction as in PyTorch.

Per-sample weights (an extension, Keras' `sample_weight`): every functional loss takes a
keyword-only `sample_weight` of shape (N,) that multiplies each sample's loss (all the
elements of sample i along dim 0) before the reduction. 'mean' then divides by what it
divides by without sample weights (the element count, N for one value per sample; for
cross_entropy/nll_loss the weight sum of the non-ignored targets) — the sample weights
are not normalised, as in Keras.

Input and target must have the same shape (PyTorch would broadcast (N, 1) against (N,)
to (N, N) with only a warning); a mismatch raises ValueError naming the loss and both
shapes.
"""

import math

import numpy as np

from ..autograd.function import Function
from .. import backends as _backends
from ..backends import for_array
from ..tensor import Tensor
from ._util import contiguous

__all__ = [
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "log_cosh_loss", "quantile_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div",
    "hinge_embedding_loss", "hinge_loss", "cosine_embedding_loss",
]

_REDUCTIONS = ("mean", "sum", "none")
_INT64 = np.dtype(np.int64)


# ---------------------------------------------------------------------------- helpers

def _reduction(op, reduction, size_average=None, reduce=None, allowed=_REDUCTIONS):
    if size_average is not None or reduce is not None:  # PyTorch's _Reduction.legacy_get_string
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = ("mean" if size_average else "sum") if reduce else "none"
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {', '.join(repr(r) for r in allowed)}, got {reduction!r}")
    return reduction


def _describe(a):
    return f"{a.dtype} of shape {tuple(a.shape)}"


def _input(x, op, name="input"):
    """x as a float Tensor (numpy arrays and numbers are wrapped, without gradient)."""
    if not isinstance(x, Tensor):
        if not (isinstance(x, np.ndarray) or hasattr(x, "__cuda_array_interface__")):
            x = np.asarray(x, dtype=np.float32 if not isinstance(x, np.generic) else None)
        x = Tensor._wrap(x)
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating point tensor, got {_describe(x.data)}")
    return x


def _target(t, dtype, op, name="target"):
    """t in the input's dtype: a Tensor when it requires grad (so its gradient flows), else
    a plain array."""
    if isinstance(t, Tensor):
        if t.requires_grad:
            return t if t.dtype == dtype else t.to(dtype)
        t = t.data
    elif not isinstance(t, np.ndarray) and not hasattr(t, "__cuda_array_interface__"):
        t = np.asarray(t)
    if t.dtype != dtype:
        if t.dtype.kind not in "fiub":
            raise TypeError(f"{op}: {name} must be numeric, got {t.dtype}")
        t = t.astype(dtype)
    return t


def _data(a):
    return a.data if isinstance(a, Tensor) else a


def _same_shape(op, x, t, name="target"):
    xs, ts = tuple(x.shape), tuple(t.shape)
    if xs != ts:
        hint = ""
        if len(xs) == len(ts) + 1 and xs[-1] == 1 or len(ts) == len(xs) + 1 and ts[-1] == 1:
            hint = " (squeeze or reshape one of them; broadcasting them would pair every input with every target)"
        raise ValueError(f"{op}: input and {name} must have the same shape, got input {xs} and {name} {ts}{hint}")


def _array_arg(a, dtype, op, name):
    """A weight-like argument (Tensor, array, list) as an array of the input's dtype."""
    a = _data(a)
    if not isinstance(a, np.ndarray) and not hasattr(a, "__cuda_array_interface__"):
        a = np.asarray(a)
    if a.dtype != dtype:
        if a.dtype.kind not in "fiub":
            raise TypeError(f"{op}: {name} must be numeric, got {a.dtype}")
        a = a.astype(dtype)
    return a


def _broadcast_weight(w, x, dtype, op, name="weight"):
    """An elementwise weight broadcastable to x's shape (PyTorch's BCE weight)."""
    w = _array_arg(w, dtype, op, name)
    try:
        ok = np.broadcast_shapes(w.shape, x.shape) == tuple(x.shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{op}: {name} of shape {w.shape} does not broadcast to the input's shape {tuple(x.shape)}")
    return w


def _sample_weight(sw, x, op, per_sample_ndim=None):
    """sample_weight (N,) as an array shaped to broadcast along x's dim 0."""
    sw = _array_arg(sw, x.dtype, op, "sample_weight")
    if x.ndim == 0 or sw.shape != (x.shape[0],):
        n = "N" if x.ndim == 0 else str(x.shape[0])
        raise ValueError(f"{op}: sample_weight must have shape ({n},) (one weight per sample along dim 0 of the "
                         f"input {tuple(x.shape)}), got {sw.shape}")
    nd = x.ndim if per_sample_ndim is None else per_sample_ndim
    return sw.reshape((-1,) + (1,) * (nd - 1))


def _combine(a, b):
    if a is None:
        return b
    return a if b is None else a * b


def _scalar(s, dtype):
    """A reduction's result as a 0-d array of `dtype` (numpy returns scalars; CuPy 0-d arrays)."""
    return np.asarray(s, dtype=dtype) if isinstance(s, (np.generic, np.ndarray, float, int)) else s.astype(dtype)


def _mean_of(s, denom):
    if denom == 0:
        with np.errstate(invalid="ignore", divide="ignore"):
            return s / denom
    return s / denom


# ---------------------------------------------------------------------------- elementwise losses

class _Elementwise(Function):
    """loss = mult * f(input, target) elementwise, then reduced.

    Subclasses define value(x, t, **params) and grads(x, t, need_x, need_t, **params) ->
    (df/dx, df/dt) (None where not needed). `mult` (weights, sample weights) broadcasts to
    the input's shape; 'mean' divides by `denom` (default: the element count).
    """

    def forward(self, x, t, mult=None, reduction="mean", denom=None, params=None):
        params = params or {}
        self.x, self.t, self.mult, self.reduction, self.params = x, t, mult, reduction, params
        loss = self.value(x, t, **params)
        if mult is not None:
            loss = loss * mult
        if reduction == "none":
            return loss if loss.dtype == x.dtype else loss.astype(x.dtype)
        s = loss.sum()
        if reduction == "mean":
            denom = float(loss.size if denom is None else denom)
            s = _mean_of(s, denom)
            self.denom = denom
        return _scalar(s, x.dtype)

    def backward(self, g):
        need_x, need_t = self.needs_input_grad[:2]
        if self.reduction == "mean":
            g = g / self.denom if self.denom != 0 else g * 0.0
        if self.mult is not None:
            g = g * self.mult
        dx, dt = self.grads(self.x, self.t, need_x, need_t, **self.params)
        gx = (dx * g).astype(self.x.dtype, copy=False) if need_x else None
        gt = (dt * g).astype(self.t.dtype, copy=False) if need_t and dt is not None else None
        return gx, gt


class MSELossFunction(_Elementwise):
    def value(self, x, t):
        d = x - t
        return d * d

    def grads(self, x, t, need_x, need_t):
        d2 = 2 * (x - t)
        return d2, (-d2 if need_t else None)


class L1LossFunction(_Elementwise):
    def value(self, x, t):
        return np.abs(x - t)

    def grads(self, x, t, need_x, need_t):
        s = np.sign(x - t)
        return s, (-s if need_t else None)


class HuberLossFunction(_Elementwise):
    def value(self, x, t, delta):
        d = x - t
        a = np.abs(d)
        return np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))

    def grads(self, x, t, need_x, need_t, delta):
        gd = np.clip(x - t, -delta, delta)
        return gd, (-gd if need_t else None)


class SmoothL1LossFunction(_Elementwise):
    def value(self, x, t, beta):
        d = x - t
        a = np.abs(d)
        if beta == 0:
            return a
        return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)

    def grads(self, x, t, need_x, need_t, beta):
        d = x - t
        gd = np.sign(d) if beta == 0 else np.where(np.abs(d) < beta, d / beta, np.sign(d))
        return gd, (-gd if need_t else None)


class LogCoshLossFunction(_Elementwise):
    def value(self, x, t):
        a = np.abs(x - t)
        return a + np.log1p(np.exp(-2 * a)) - math.log(2.0)

    def grads(self, x, t, need_x, need_t):
        gd = np.tanh(x - t)
        return gd, (-gd if need_t else None)


class QuantileLossFunction(_Elementwise):
    def value(self, x, t, q):
        d = t - x
        return np.maximum(q * d, (q - 1) * d)

    def grads(self, x, t, need_x, need_t, q):
        gd = (t < x).astype(x.dtype) - q  # -q where under-predicted, 1 - q where over-predicted
        return gd, (-gd if need_t else None)


_LOG_CLAMP = -100.0  # PyTorch clamps BCE's logs here so that log(0) stays finite
_BCE_EPS = 1e-12


class BCELossFunction(_Elementwise):
    def value(self, x, t):
        with np.errstate(divide="ignore"):
            lx = np.maximum(np.log(x), _LOG_CLAMP)
            l1x = np.maximum(np.log1p(-x), _LOG_CLAMP)
        return -(t * lx + (1 - t) * l1x)

    def grads(self, x, t, need_x, need_t):
        dx = (x - t) / np.maximum((1 - x) * x, _BCE_EPS)
        dt = None
        if need_t:
            with np.errstate(divide="ignore"):
                dt = np.maximum(np.log1p(-x), _LOG_CLAMP) - np.maximum(np.log(x), _LOG_CLAMP)
        return dx, dt


def _softplus_neg(x):
    """log(1 + exp(-x)), stable for any x."""
    return np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))


class BCEWithLogitsLossFunction(_Elementwise):
    def value(self, x, t, pos_weight):
        sp = _softplus_neg(x)
        if pos_weight is None:
            return (1 - t) * x + sp
        return (1 - t) * x + (1 + (pos_weight - 1) * t) * sp

    def grads(self, x, t, need_x, need_t, pos_weight):
        sig_neg = 0.5 - 0.5 * np.tanh(0.5 * x)  # sigmoid(-x), stable
        if pos_weight is None:
            dx = (1 - t) - sig_neg
            dt = -x if need_t else None
        else:
            dx = (1 - t) - (1 + (pos_weight - 1) * t) * sig_neg
            dt = (-x + (pos_weight - 1) * _softplus_neg(x)) if need_t else None
        return dx, dt


class KLDivLossFunction(_Elementwise):
    def value(self, x, t, log_target):
        if log_target:
            return np.exp(t) * (t - x)
        with np.errstate(divide="ignore", invalid="ignore"):
            xlogx = np.where(t == 0, 0, t * np.log(np.where(t == 0, 1, t)))
        return xlogx - t * x

    def grads(self, x, t, need_x, need_t, log_target):
        if log_target:
            et = np.exp(t)
            return -et, (et * (t - x + 1) if need_t else None)
        dt = None
        if need_t:
            with np.errstate(divide="ignore", invalid="ignore"):
                dt = np.log(t) + 1 - x
        return -t, dt


class HingeEmbeddingLossFunction(_Elementwise):
    def value(self, x, t, margin):
        return np.where(t != -1, x, 0) + np.where(t != 1, np.maximum(margin - x, 0), 0)

    def grads(self, x, t, need_x, need_t, margin):
        return (t != -1).astype(x.dtype) - ((t != 1) & (margin - x >= 0)).astype(x.dtype), None


class HingeLossFunction(_Elementwise):
    def value(self, x, t):
        return np.maximum(1 - t * x, 0)

    def grads(self, x, t, need_x, need_t):
        active = (1 - t * x > 0).astype(x.dtype)
        return -t * active, (-x * active if need_t else None)


def _elementwise(fn, op, input, target, reduction, mult=None, denom=None, sample_weight=None, params=None,
                 allowed=_REDUCTIONS):
    x = _input(input, op)
    t = _target(target, x.dtype, op)
    _same_shape(op, x, t)
    reduction = _reduction(op, reduction, allowed=allowed)
    if sample_weight is not None:
        mult = _combine(mult, _sample_weight(sample_weight, x, op))
    return fn.apply(x, t, mult=mult, reduction=reduction, denom=denom, params=params)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None, *, sample_weight=None):
    """Mean squared error (x - y)^2 (PyTorch's F.mse_loss).

    weight: elementwise weights of the input's shape (PyTorch's; 'mean' then divides by
    weight.sum()). sample_weight: (N,) per-sample weights multiplying each sample's loss;
    'mean' still divides by the element count (Keras' convention).
    """
    op = "mse_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    mult = denom = None
    if weight is not None:
        mult, denom = _weight_same_size(weight, input, op)
    return _elementwise(MSELossFunction, op, input, target, reduction, mult, denom, sample_weight)


def _weight_same_size(weight, input, op):
    x = _input(input, op)
    w = _array_arg(weight, x.dtype, op, "weight")
    if w.shape != tuple(x.shape):
        raise ValueError(f"{op}: weight must have the input's shape {tuple(x.shape)}, got {w.shape}")
    return w, float(w.sum(dtype=np.float64))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None, *, sample_weight=None):
    """Mean absolute error |x - y| (PyTorch's F.l1_loss; MAE). The gradient is sign(x - y).

    weight: elementwise weights of the input's shape ('mean' divides by weight.sum(), as
    PyTorch). sample_weight: (N,) per-sample weights; 'mean' divides by the element count.
    """
    op = "l1_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    mult = denom = None
    if weight is not None:
        mult, denom = _weight_same_size(weight, input, op)
    return _elementwise(L1LossFunction, op, input, target, reduction, mult, denom, sample_weight)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None, *, sample_weight=None):
    """Huber loss: 0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta), d = x - y
    (PyTorch's F.huber_loss). The gradient is d clipped to [-delta, delta].

    weight: elementwise weights of the input's shape ('mean' divides by the element count,
    as PyTorch). sample_weight: (N,) per-sample weights; 'mean' divides by the element count.
    """
    op = "huber_loss"
    if not delta > 0:
        raise ValueError(f"{op}: delta must be positive, got {delta}")
    mult = None
    if weight is not None:
        mult, _ = _weight_same_size(weight, input, op)
    return _elementwise(HuberLossFunction, op, input, target, reduction, mult, None, sample_weight,
                        {"delta": float(delta)})


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0, *,
                   sample_weight=None):
    """Smooth L1: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (PyTorch's
    F.smooth_l1_loss; beta=0 is l1_loss). sample_weight: (N,) per-sample weights; 'mean'
    divides by the element count."""
    op = "smooth_l1_loss"
    if beta < 0:
        raise ValueError(f"{op}: beta must be >= 0, got {beta}")
    reduction = _reduction(op, reduction, size_average, reduce)
    return _elementwise(SmoothL1LossFunction, op, input, target, reduction, None, None, sample_weight,
                        {"beta": float(beta)})


def log_cosh_loss(input, target, reduction="mean", *, sample_weight=None):
    """log(cosh(x - y)), computed stably as |d| + log1p(exp(-2|d|)) - log 2 (no overflow for
    large residuals); the gradient is tanh(x - y). Mean by default (Keras' 'log_cosh';
    reduction='sum' gives the textbook sum). sample_weight: (N,) per-sample weights; 'mean'
    divides by the element count."""
    return _elementwise(LogCoshLossFunction, "log_cosh_loss", input, target, reduction, None, None, sample_weight)


def quantile_loss(input, target, q=0.5, reduction="mean", *, sample_weight=None):
    """Pinball loss of quantile q: max(q d, (q - 1) d) with d = y - x (q=0.5: half the MAE).
    Under-predictions cost q, over-predictions 1 - q, per unit. sample_weight: (N,)
    per-sample weights; 'mean' divides by the element count."""
    op = "quantile_loss"
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"{op}: q must be in [0, 1], got {q}")
    return _elementwise(QuantileLossFunction, op, input, target, reduction, None, None, sample_weight,
                        {"q": float(q)})


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean", *,
                         sample_weight=None):
    """-(y log x + (1 - y) log(1 - x)) on probabilities x in [0, 1] (PyTorch's
    F.binary_cross_entropy: each log is clamped at -100, so x = 0 or 1 give a finite loss).

    weight: rescaling weight broadcastable to the input. sample_weight: (N,) per-sample
    weights; 'mean' divides by the element count. Prefer binary_cross_entropy_with_logits
    on logits: it is stable where sigmoid saturates.
    """
    op = "binary_cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    x = _input(input, op)
    xd = x.data
    if xd.size and not (xd.min() >= 0 and xd.max() <= 1):
        raise ValueError(f"{op}: all elements of input should be between 0 and 1 (probabilities; use "
                         f"binary_cross_entropy_with_logits for logits), got values in [{xd.min()}, {xd.max()}]")
    mult = None if weight is None else _broadcast_weight(weight, xd, xd.dtype, op)
    return _elementwise(BCELossFunction, op, x, target, reduction, mult, None, sample_weight)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None, *, sample_weight=None):
    """Binary cross-entropy of sigmoid(x), computed stably from the logits x
    (PyTorch's F.binary_cross_entropy_with_logits): (1 - y) x + lw softplus(-x) with
    lw = 1 + (pos_weight - 1) y. The gradient is sigmoid(x) - y (without pos_weight).

    weight: rescaling weight broadcastable to the input. pos_weight: weight of the positive
    examples, broadcast along the last (class) dimension. sample_weight: (N,) per-sample
    weights; 'mean' divides by the element count.
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(op, reduction, size_average, reduce)
    x = _input(input, op)
    xd = x.data
    mult = None if weight is None else _broadcast_weight(weight, xd, xd.dtype, op)
    pw = None if pos_weight is None else _broadcast_weight(pos_weight, xd, xd.dtype, op, "pos_weight")
    return _elementwise(BCEWithLogitsLossFunction, op, x, target, reduction, mult, None, sample_weight,
                        {"pos_weight": pw})


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False, *,
           sample_weight=None):
    """Kullback-Leibler divergence KL(target || exp(input)) pointwise: y (log y - x), with x
    log-probabilities and y probabilities (or log-probabilities if log_target), as PyTorch's
    F.kl_div. 'batchmean' (sum / batch size) is the mathematical KL divergence; 'mean'
    (PyTorch's default) divides by the element count. sample_weight: (N,) per-sample
    weights."""
    op = "kl_div"
    reduction = _reduction(op, reduction, size_average, reduce, _REDUCTIONS + ("batchmean",))
    x = _input(input, op)
    denom = None
    if reduction == "batchmean":
        if x.ndim == 0:
            reduction = "sum"
        else:
            reduction, denom = "mean", x.shape[0]
    return _elementwise(KLDivLossFunction, op, x, target, reduction, None, denom, sample_weight,
                        {"log_target": bool(log_target)})


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean", *,
                         sample_weight=None):
    """x where y = 1, max(0, margin - x) where y = -1 (PyTorch's F.hinge_embedding_loss;
    x is usually a distance). sample_weight: (N,) per-sample weights."""
    op = "hinge_embedding_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x = _input(input, op)
    t = _target(target, x.dtype, op)
    return _elementwise(HingeEmbeddingLossFunction, op, x, _data(t), reduction, None, None, sample_weight,
                        {"margin": float(margin)})


def hinge_loss(input, target, reduction="mean", *, sample_weight=None):
    """Binary hinge loss max(0, 1 - y x) for labels y in {-1, 1} and raw scores x (Keras'
    'hinge'; mean by default). As Keras, labels that are all 0 or 1 are taken as {0, 1}
    labels and mapped to {-1, 1}. sample_weight: (N,) per-sample weights."""
    op = "hinge_loss"
    x = _input(input, op)
    t = _target(target, x.dtype, op)
    if not isinstance(t, Tensor) and t.size and np.all((t == 0) | (t == 1)):
        t = 2 * t - 1
    return _elementwise(HingeLossFunction, op, x, t, reduction, None, None, sample_weight)


# ---------------------------------------------------------------------------- cross-entropy


def _classes_last(a, c):
    """(N, C, d1, ...) -> (N*d1*..., C) contiguous."""
    return contiguous(np.moveaxis(a, 1, -1)).reshape(-1, c)


def _classes_back(a2, shape):
    """The inverse of _classes_last for an input of `shape`."""
    n, c, rest = shape[0], shape[1], tuple(shape[2:])
    return contiguous(np.moveaxis(a2.reshape((n,) + rest + (c,)), -1, 1))


class CrossEntropyFunction(Function):
    """Fused softmax + cross-entropy (backend softmax_xent_*); input (N, C), (C,) or
    (N, C, d1, ...). p = (weight, ignore_index, label_smoothing, reduction, sample_weight).
    Keeps the (flattened) logits and targets and the kernel's per-row state."""

    def forward(self, x, t, p):
        B = _backends._active if type(x) is np.ndarray else for_array(x)
        if x.ndim == 2:  # the common case: no reshaping on the way in or out
            self.saved = (B, x, t, p)
            loss, self.state = B.softmax_xent_forward(x, t, *p)
            return loss
        shape = x.shape
        weight, ignore_index, label_smoothing, reduction, sample_weight = p
        if x.ndim == 1:
            x2 = x.reshape(1, -1)
            t2 = t.reshape(1) if t.ndim == 0 else t.reshape(1, -1)
        else:
            c = shape[1]
            x2 = _classes_last(x, c)
            t2 = t.reshape(-1) if t.ndim == x.ndim - 1 else _classes_last(t, c)
            if sample_weight is not None:
                sample_weight = np.repeat(sample_weight, math.prod(shape[2:]))
        p = (weight, ignore_index, label_smoothing, reduction, sample_weight)
        self.saved = (B, x2, t2, p)
        self.shape = shape
        loss, self.state = B.softmax_xent_forward(x2, t2, *p)
        if reduction == "none":
            loss = loss.reshape(() if x.ndim == 1 else (shape[0],) + shape[2:])
        return loss

    def backward(self, g):
        B, x2, t2, p = self.saved
        shape = self.__dict__.get("shape")
        if shape is not None and p[3] == "none":
            g = g.reshape(-1)
        need_x, need_t = self.needs_input_grad[:2]
        dx = dt = None
        if need_x:
            dx = B.softmax_xent_backward(x2, t2, self.state, g, *p)
            if shape is not None:
                dx = _unflatten(dx, shape)
        if need_t:
            dt = _prob_target_grad(x2, self.state, g, p)
            if shape is not None:
                dt = _unflatten(dt, shape)
        return dx, dt

    def name(self):
        return "CrossEntropyBackward"


def _prob_target_grad(x2, state, g, p):
    """d loss / d t_ic = scale_i (1 - eps) w_c (lse_i - x_ic) for probability targets."""
    weight, _, smoothing, reduction, sw2 = p
    stats, n = state, x2.shape[0]
    if reduction == "none":  # (numpy or CuPy arrays alike)
        scale = g.reshape(-1).astype(np.float64)[:, None]
    else:
        scale = float(g) / n if reduction == "mean" and n else float(g)  # 'mean' divides by N
    if sw2 is not None:
        scale = scale * sw2[:, None]
    lse = (stats[0].astype(np.float64) + stats[1])[:, None]
    d = (1 - smoothing) * scale * (lse - x2)
    if weight is not None:
        d = d * weight
    return d.astype(x2.dtype)


def _unflatten(a2, shape):
    """(M, C) rows back to an input of `shape`: (C,) or (N, C, d1, ...)."""
    return a2.reshape(shape) if len(shape) == 1 else _classes_back(a2, shape)


def _index_target_shape(xshape):
    return () if len(xshape) == 1 else (xshape[0],) + tuple(xshape[2:])


def _class_target(op, x, target, allow_probs):
    """The target as int64 class indices, or (allow_probs) as probabilities (Tensor if it
    requires grad) in the input's dtype. Errors name the op and both shapes."""
    xd = x.data
    if xd.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension ((C,), (N, C) or (N, C, d1, ...)), got a 0-d "
                         "tensor")
    t = target
    td = t.data if isinstance(t, Tensor) else (t if isinstance(t, np.ndarray) or hasattr(t, "__cuda_array_interface__")
                                               else np.asarray(t))
    kind = td.dtype.kind
    index_shape = _index_target_shape(xd.shape)
    if kind in "iu":
        if td.shape != index_shape:
            raise ValueError(f"{op}: class-index target must have shape {index_shape} for input of shape {xd.shape} "
                             f"(classes along dim {0 if xd.ndim == 1 else 1}), got {td.shape}")
        return td if td.dtype == np.int64 else td.astype(np.int64)
    if kind == "f" and allow_probs and td.shape == xd.shape:
        if isinstance(t, Tensor) and t.requires_grad:
            return t if t.dtype == xd.dtype else t.to(xd.dtype)
        return td if td.dtype == xd.dtype else td.astype(xd.dtype)
    if kind == "f" and allow_probs and td.shape != index_shape:
        raise ValueError(f"{op}: probability target must have the input's shape {xd.shape}, got {td.shape}")
    shape_txt = "(N,)" if xd.ndim <= 2 else "(N, d1, ...)"
    what = (f"int64 class indices of shape {shape_txt} or float probabilities of shape "
            f"{'(N, C)' if xd.ndim <= 2 else '(N, C, d1, ...)'}") if allow_probs else \
        f"int64 class indices of shape {shape_txt}"
    raise TypeError(f"{op}: target must be {what}; got {td.dtype} of shape {td.shape}")


def _class_weight(weight, x, op):
    w = _array_arg(weight, x.dtype, op, "weight")
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    if w.shape != (c,):
        raise ValueError(f"{op}: weight must have shape ({c},) (one per class), got {w.shape}")
    return w


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0, *, sample_weight=None):
    """Softmax cross-entropy of logits (PyTorch's F.cross_entropy), fused in one kernel.

    input: logits (N, C), (C,) or (N, C, d1, ...). target: class indices (N,) / () /
    (N, d1, ...) (any integer dtype), or class probabilities of the input's shape.
    weight (C,): class weights; with class indices 'mean' divides by the sum of the weights
    of the non-ignored targets. ignore_index: targets equal to it contribute nothing (and
    do not count in the mean). label_smoothing in [0, 1]: the target becomes
    (1 - eps) target + eps / C. sample_weight (N,): per-sample weights (an extension,
    Keras' convention: each sample's loss is multiplied, the divisor of 'mean' unchanged).
    Stable for any finite logits (±1e4 included). Logits containing NaN or inf raise
    ValueError (checked only when the loss comes out non-finite).
    """
    op = "cross_entropy"
    if size_average is not None or reduce is not None or reduction not in _REDUCTIONS:
        reduction = _reduction(op, reduction, size_average, reduce)
    x = input if type(input) is Tensor else _input(input, op)
    xd = x.data
    t = target.data if type(target) is Tensor else target
    # fast path (the common case): (N, C) logits and int64 class indices (N,)
    if not (type(t) is np.ndarray and t.dtype is _INT64 and xd.ndim == 2 and t.shape == xd.shape[:1]):
        t = _class_target(op, x, target, allow_probs=True)
    w = None if weight is None else _class_weight(weight, xd, op)
    sw = None
    if sample_weight is not None:
        if xd.ndim < 2:
            raise ValueError(f"{op}: sample_weight needs a batch dimension; the input has shape {xd.shape}")
        sw = _sample_weight(sample_weight, xd, op, per_sample_ndim=1)
    if label_smoothing != 0.0:
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
        label_smoothing = float(label_smoothing)
    return CrossEntropyFunction.apply(x, t, p=(w, ignore_index, label_smoothing, reduction, sw))


class NLLLossFunction(Function):
    """Negative log-likelihood of log-probabilities: -w[y] x[y] per sample."""

    def forward(self, x, t, weight=None, ignore_index=-100, reduction="mean", sample_weight=None, op="nll_loss"):
        shape = x.shape
        if x.ndim == 2:
            x2, t2 = x, t
        elif x.ndim == 1:
            x2, t2 = x.reshape(1, -1), t.reshape(1)
        else:
            x2, t2 = _classes_last(x, shape[1]), t.reshape(-1)
        m, c = x2.shape
        keep = t2 != ignore_index
        bad = keep & ((t2 < 0) | (t2 >= c))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{op}: target {int(t2[i])} is out of bounds for {c} classes (expected 0 <= target < {c} "
                             f"or ignore_index={ignore_index}), at position {i}")
        safe = np.where(keep, t2, 0)
        rw = (weight[safe] if weight is not None else np.ones(m, x.dtype)) * keep  # per-row target weight
        rows = np.arange(m)
        per = -rw * x2[rows, safe]
        denom = float(rw.sum(dtype=np.float64))
        if sample_weight is not None:
            sw2 = np.repeat(sample_weight, math.prod(shape[2:])) if x.ndim > 2 else sample_weight
            rw = rw * sw2
            per = per * sw2
        self.rw, self.safe, self.shape, self.x2shape, self.reduction = rw, safe, shape, x2.shape, reduction
        if reduction == "none":
            return per.astype(x.dtype, copy=False).reshape(_index_target_shape(shape))
        s = per.sum()
        if reduction == "mean":
            s = _mean_of(s, denom)
            self.denom = denom
        return _scalar(s, x.dtype)

    def backward(self, g):
        if self.reduction == "none":
            scale = -self.rw * g.reshape(-1)
        elif self.reduction == "mean":
            scale = -self.rw * (g / self.denom if self.denom != 0 else g * 0.0)
        else:
            scale = -self.rw * g
        dx2 = np.zeros(self.x2shape, g.dtype)
        dx2[np.arange(self.x2shape[0]), self.safe] = scale
        shape = self.shape
        if len(shape) == 2:
            dx = dx2
        elif len(shape) == 1:
            dx = dx2.reshape(shape)
        else:
            dx = _classes_back(dx2, shape)
        return dx, None

    def name(self):
        return "NllLossBackward"


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", *,
             sample_weight=None):
    """Negative log-likelihood -w[y] input[y] of log-probabilities (PyTorch's F.nll_loss;
    log_softmax + nll_loss = cross_entropy). Shapes, weight, ignore_index and 'mean' as
    cross_entropy (class-index targets only). sample_weight: (N,) per-sample weights."""
    op = "nll_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x = _input(input, op)
    t = _class_target(op, x, target, allow_probs=False)
    w = None if weight is None else _class_weight(weight, x.data, op)
    sw = None
    if sample_weight is not None:
        if x.ndim < 2:
            raise ValueError(f"{op}: sample_weight needs a batch dimension; the input has shape {x.shape}")
        sw = _sample_weight(sample_weight, x.data, op, per_sample_ndim=1)
    return NLLLossFunction.apply(x, t, weight=w, ignore_index=int(ignore_index), reduction=reduction,
                                 sample_weight=sw)


# ---------------------------------------------------------------------------- cosine embedding

_COS_EPS = 1e-12  # PyTorch's EPSILON in cosine_embedding_loss


class CosineEmbeddingLossFunction(Function):
    def forward(self, x1, x2, t, margin=0.0, reduction="mean", sample_weight=None):
        prod = (x1 * x2).sum(-1)
        m1 = (x1 * x1).sum(-1) + _COS_EPS
        m2 = (x2 * x2).sum(-1) + _COS_EPS
        denom = np.sqrt(m1 * m2)
        cos = prod / denom
        pos, neg = t == 1, t == -1
        loss = np.where(pos, 1 - cos, 0) + np.where(neg, np.maximum(cos - margin, 0), 0)
        dcos = np.where(pos, -1.0, 0.0) + np.where(neg & (cos - margin >= 0), 1.0, 0.0)
        if sample_weight is not None:
            loss = loss * sample_weight
            dcos = dcos * sample_weight
        self.saved = (x1, x2, m1, m2, denom, cos, dcos.astype(x1.dtype))
        self.reduction, self.n = reduction, loss.size
        if reduction == "none":
            return loss.astype(x1.dtype, copy=False)
        s = loss.sum()
        if reduction == "mean":
            s = _mean_of(s, float(loss.size))
        return _scalar(s, x1.dtype)

    def backward(self, g):
        x1, x2, m1, m2, denom, cos, dcos = self.saved
        if self.reduction == "mean":
            g = g / self.n if self.n else g * 0.0
        s = (dcos * g)[..., None]
        n1, n2, _ = self.needs_input_grad
        g1 = s * (x2 / denom[..., None] - cos[..., None] * x1 / m1[..., None]) if n1 else None
        g2 = s * (x1 / denom[..., None] - cos[..., None] * x2 / m2[..., None]) if n2 else None
        return g1, g2, None


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean", *,
                          sample_weight=None):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (PyTorch's
    F.cosine_embedding_loss). input1, input2: (N, D) or (D,); target: (N,) or ().
    sample_weight: (N,) per-sample weights."""
    op = "cosine_embedding_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x1 = _input(input1, op, "input1")
    x2 = _input(input2, op, "input2")
    if x2.dtype != x1.dtype:
        x2 = x2.to(x1.dtype)
    if x1.shape != x2.shape:
        raise ValueError(f"{op}: input1 and input2 must have the same shape, got input1 {x1.shape} and input2 "
                         f"{x2.shape}")
    if x1.ndim not in (1, 2):
        raise ValueError(f"{op}: inputs must be 1-D (D,) or 2-D (N, D), got shape {x1.shape}")
    t = _data(target)
    t = t if isinstance(t, np.ndarray) else np.asarray(t)
    if t.shape != x1.shape[:-1]:
        raise ValueError(f"{op}: target must have shape {x1.shape[:-1]} for inputs of shape {x1.shape}, got {t.shape}")
    sw = None
    if sample_weight is not None:
        if x1.ndim != 2:
            raise ValueError(f"{op}: sample_weight needs a batch dimension; the inputs have shape {x1.shape}")
        sw = _sample_weight(sample_weight, x1.data, op, per_sample_ndim=1)
    return CosineEmbeddingLossFunction.apply(x1, x2, t, margin=float(margin), reduction=reduction, sample_weight=sw)

"""Losses by name for compile(), and the Keras-style probability losses.

PyTorch names take logits ("cross_entropy", "bce_with_logits"); Keras names take what a
Keras model outputs — probabilities after softmax/sigmoid ("sparse_categorical_crossentropy",
"categorical_crossentropy", "binary_crossentropy"), with Keras' clipping at 1e-7.
"""

import inspect

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor

__all__ = ["get_loss", "LossAdapter", "sparse_categorical_crossentropy", "categorical_crossentropy",
           "kl_divergence"]

_EPS = 1e-7


class _ProbCrossEntropy(Function):
    """-sum(target * log(clip(p, eps, 1 - eps))) per sample (Keras' from_logits=False)."""

    def forward(self, p, target_onehot):
        self.p = np.clip(p, _EPS, 1 - _EPS)
        self.t = target_onehot
        self.inside = (p > _EPS) & (p < 1 - _EPS)
        return -(target_onehot * np.log(self.p)).sum(-1)

    def backward(self, g):
        return -(g[..., None] * self.t / self.p * self.inside), None


def _reduce(per_sample, reduction):
    if reduction == "none":
        return per_sample
    if reduction == "sum":
        return per_sample.sum()
    if reduction == "mean":
        return per_sample.mean()
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def sparse_categorical_crossentropy(probs, target, reduction="mean"):
    """Keras' sparse categorical cross-entropy on probabilities (N, C) and class ids (N,)."""
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        if np.all(t == np.round(t)):
            t = t.astype(np.int64)
        else:
            raise TypeError(f"sparse_categorical_crossentropy: target must be class ids, got {t.dtype}")
    c = probs.shape[-1]
    if t.size and (t.min() < 0 or t.max() >= c):
        raise ValueError(f"sparse_categorical_crossentropy: target {int(t.max())} is out of range for {c} classes")
    onehot = np.eye(c, dtype=probs.dtype)[t.reshape(probs.shape[:-1])]
    return _reduce(_ProbCrossEntropy.apply(probs, onehot), reduction)


def categorical_crossentropy(probs, target, reduction="mean"):
    """Keras' categorical cross-entropy on probabilities and one-hot (or soft) targets."""
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.shape != probs.shape:
        raise ValueError(f"categorical_crossentropy: target shape {t.shape} must equal the prediction shape "
                         f"{probs.shape} (one-hot targets; use sparse_categorical_crossentropy for class ids)")
    return _reduce(_ProbCrossEntropy.apply(probs, t.astype(probs.dtype)), reduction)


def kl_divergence(probs, target, reduction="mean"):
    """Keras' KL divergence sum(t * log(t / p)) per sample, both probabilities."""
    t = target.data if isinstance(target, Tensor) else np.asarray(target, probs.dtype)
    tc = np.clip(t, _EPS, 1)
    const = (t * np.log(tc)).sum(-1)
    return _reduce(_ProbCrossEntropy.apply(probs, t) + Tensor._wrap(const.astype(probs.dtype)), reduction)


def _functional(name):
    from ..nn import functional as F

    return getattr(F, name)


_NAMES = {
    "mse": "mse_loss", "mean_squared_error": "mse_loss",
    "mae": "l1_loss", "mean_absolute_error": "l1_loss", "l1": "l1_loss",
    "huber": "huber_loss", "smooth_l1": "smooth_l1_loss",
    "log_cosh": "log_cosh_loss", "logcosh": "log_cosh_loss",
    "binary_crossentropy": "binary_cross_entropy", "bce": "binary_cross_entropy",
    "bce_with_logits": "binary_cross_entropy_with_logits",
    "binary_crossentropy_with_logits": "binary_cross_entropy_with_logits",
    "cross_entropy": "cross_entropy", "ce": "cross_entropy",
    "nll": "nll_loss", "hinge": "hinge_loss",
}
_KERAS = {
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "kl_divergence": kl_divergence, "kld": kl_divergence,
}


class LossAdapter:
    """A loss called as loss(y_pred, y_true, sample_weight=None) whatever its origin.

    Named and module losses take (prediction, target), as PyTorch; a plain function whose
    first parameter is named y_true/target/true takes (target, prediction), as Keras.
    Sample weights need per-sample losses: the loss must accept reduction='none'; the
    weighted losses are summed and divided by the batch size (Keras' convention).
    """

    def __init__(self, fn, name):
        self.fn, self.name = fn, name
        self.keras_order = False
        self.takes_reduction = False
        if not hasattr(fn, "forward"):  # plain function
            try:
                params = list(inspect.signature(fn).parameters)
            except (TypeError, ValueError):
                params = []
            self.keras_order = bool(params) and params[0] in ("y_true", "target", "true", "labels")
            self.takes_reduction = "reduction" in params
        else:
            self.takes_reduction = hasattr(fn, "reduction")

    def _call(self, y_pred, y_true, **kw):
        return self.fn(y_true, y_pred, **kw) if self.keras_order else self.fn(y_pred, y_true, **kw)

    def __call__(self, y_pred, y_true, sample_weight=None):
        if sample_weight is None:
            out = self._call(y_pred, y_true)
            # a Keras-style function returns per-sample (or per-element) losses: their mean
            return out.mean() if isinstance(out, Tensor) and out.ndim > 0 else out
        if hasattr(self.fn, "forward") and hasattr(self.fn, "reduction"):  # a loss module
            saved, self.fn.reduction = self.fn.reduction, "none"
            try:
                per = self.fn(y_pred, y_true)
            finally:
                self.fn.reduction = saved
        elif self.takes_reduction:
            per = self._call(y_pred, y_true, reduction="none")
        else:
            per = self._call(y_pred, y_true)
            if not isinstance(per, Tensor) or per.ndim == 0:
                raise ValueError(f"loss {self.name!r} returns one number per batch, so it cannot be weighted per "
                                 "sample (class_weight / sample_weight): return per-sample losses, or accept "
                                 "reduction='none'")
        if per.ndim > 1:
            per = per.reshape(per.shape[0], -1).mean(1)
        w = Tensor._wrap(np.asarray(sample_weight, dtype=per.dtype).reshape(-1))
        if w.shape[0] != per.shape[0]:
            raise ValueError(f"sample_weight has {w.shape[0]} entries for a batch of {per.shape[0]} samples")
        return (per * w).sum() / max(per.shape[0], 1)

    @property
    def from_logits(self):
        """True for the losses that take logits of a binary model (accuracy thresholds at 0)."""
        from ..nn import functional as F
        from ..nn.loss import BCEWithLogitsLoss

        return (self.name in ("bce_with_logits", "binary_crossentropy_with_logits")
                or self.fn is F.binary_cross_entropy_with_logits or isinstance(self.fn, BCEWithLogitsLoss))


def get_loss(spec):
    """A LossAdapter from a name, a loss module/class, or a function."""
    if isinstance(spec, LossAdapter):
        return spec
    if isinstance(spec, str):
        key = spec.lower()
        if key in _KERAS:
            return LossAdapter(_KERAS[key], key)
        if key in _NAMES:
            return LossAdapter(_functional(_NAMES[key]), key)
        raise ValueError(f"unknown loss {spec!r}; expected one of {sorted(set(_NAMES) | set(_KERAS))}, "
                         "a loss module or a function")
    if isinstance(spec, type):
        spec = spec()
    if callable(spec):
        return LossAdapter(spec, getattr(spec, "__name__", type(spec).__name__))
    raise TypeError(f"loss must be a name, a loss module or a callable, got {type(spec).__name__}")

"""Metrics: standalone functions on arrays, and stateful Metric objects that fit/evaluate
accumulate over batches (Keras' update_state / result / reset_state)."""

import numpy as np

from ..tensor import Tensor

__all__ = ["accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "top_k_accuracy",
           "precision", "recall", "f1_score", "mean_absolute_error", "mean_squared_error", "confusion_matrix",
           "Metric", "Mean", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
           "TopKCategoricalAccuracy", "Precision", "Recall", "F1Score", "MeanAbsoluteError", "MeanSquaredError",
           "get_metric"]


def _np(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _labels_and_scores(y_true, y_pred):
    return _np(y_true), _np(y_pred)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of samples whose y_pred > threshold matches y_true (0/1)."""
    t, p = _labels_and_scores(y_true, y_pred)
    return float(np.mean((p.reshape(t.shape) > threshold) == (t > 0.5))) if t.size else 0.0


def categorical_accuracy(y_true, y_pred):
    """One-hot (or probability) targets: argmax agreement."""
    t, p = _labels_and_scores(y_true, y_pred)
    return float(np.mean(p.argmax(-1) == t.argmax(-1))) if t.size else 0.0


def sparse_categorical_accuracy(y_true, y_pred):
    """Integer class targets: argmax of y_pred equals the target."""
    t, p = _labels_and_scores(y_true, y_pred)
    return float(np.mean(p.argmax(-1) == t.reshape(p.shape[:-1]))) if t.size else 0.0


def accuracy(y_true, y_pred, threshold=0.5):
    """Accuracy for any classification output, inferred from the shapes: one score per
    sample (binary, thresholded), class scores with integer targets (sparse) or with
    one-hot targets (categorical)."""
    t, p = _labels_and_scores(y_true, y_pred)
    if p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1):
        return binary_accuracy(t.reshape(-1), p.reshape(-1), threshold)
    if t.shape == p.shape:
        return categorical_accuracy(t, p)
    return sparse_categorical_accuracy(t, p)


def top_k_accuracy(y_true, y_pred, k=5):
    t, p = _labels_and_scores(y_true, y_pred)
    if t.shape == p.shape:
        t = t.argmax(-1)
    topk = np.argpartition(-p, min(k, p.shape[-1]) - 1, axis=-1)[..., :k]
    return float(np.mean((topk == t.reshape(-1, 1)).any(-1))) if t.size else 0.0


def _class_predictions(y_true, y_pred, threshold=0.5):
    """(true class ids, predicted class ids, number of classes). y_pred holds class ids
    (an integer or bool array), class scores (N, C), or one score per sample (binary,
    thresholded); y_true holds class ids or one-hot rows."""
    t, p = _labels_and_scores(y_true, y_pred)
    if p.dtype.kind in "biu":  # predicted class ids
        if t.ndim > 1 and t.shape[-1] > 1 and t.shape != p.shape:
            t = t.argmax(-1)
        t, p = t.reshape(-1).astype(np.int64), p.reshape(-1).astype(np.int64)
        return t, p, max(2, int(max(t.max(initial=0), p.max(initial=0))) + 1)
    if p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1):
        return (t.reshape(-1) > 0.5).astype(np.int64), (p.reshape(-1) > threshold).astype(np.int64), 2
    if t.shape == p.shape:
        t = t.argmax(-1)
    return t.reshape(-1).astype(np.int64), p.argmax(-1).reshape(-1), p.shape[-1]


def confusion_matrix(y_true, y_pred, num_classes=None, threshold=0.5):
    """counts[i, j] = samples of true class i predicted as j. y_pred holds class ids
    (integers), class scores (N, C), or one score per sample (binary, thresholded)."""
    t, p = _np(y_true), _np(y_pred)
    if p.dtype.kind == "f":
        t, p, c = _class_predictions(t, p, threshold)
    else:
        t, p, c = t.reshape(-1).astype(np.int64), p.reshape(-1).astype(np.int64), None
    return _confusion(t, p, num_classes or c or int(max(t.max(initial=-1), p.max(initial=-1)) + 1))


def _confusion(t, p, n, w=None):
    out = np.zeros((n, n), np.int64 if w is None else np.float64)
    np.add.at(out, (t, p), 1 if w is None else w)
    return out


def _prf_from_labels(t, p, n, average, w=None):
    return _scores_from_confusion(_confusion(t, p, n, w), average)


def _scores_from_confusion(cm, average):
    n = len(cm)
    tp = np.diag(cm).astype(np.float64)
    pred_pos = cm.sum(0).astype(np.float64)
    true_pos = cm.sum(1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(pred_pos > 0, tp / pred_pos, 0.0)
        rec = np.where(true_pos > 0, tp / true_pos, 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    if average == "binary":
        if n != 2:
            raise ValueError(f"average='binary' needs two classes, got {n}: use average='macro'")
        return prec[1], rec[1], f1[1]
    if average == "macro":  # over the classes that occur (scikit-learn's labels = true and predicted ones)
        present = (pred_pos + true_pos) > 0
        if not present.any():
            return 0.0, 0.0, 0.0
        return prec[present].mean(), rec[present].mean(), f1[present].mean()
    if average is None:
        return prec, rec, f1
    raise ValueError(f"average must be 'binary', 'macro' or None, got {average!r}")


def _prf(y_true, y_pred, average, threshold):
    return _prf_from_labels(*_class_predictions(y_true, y_pred, threshold), average)


def precision(y_true, y_pred, average="binary", threshold=0.5):
    return _prf(y_true, y_pred, average, threshold)[0]


def recall(y_true, y_pred, average="binary", threshold=0.5):
    return _prf(y_true, y_pred, average, threshold)[1]


def f1_score(y_true, y_pred, average="binary", threshold=0.5):
    return _prf(y_true, y_pred, average, threshold)[2]


def mean_absolute_error(y_true, y_pred):
    t, p = _labels_and_scores(y_true, y_pred)
    return float(np.mean(np.abs(p.reshape(t.shape) - t)))


def mean_squared_error(y_true, y_pred):
    t, p = _labels_and_scores(y_true, y_pred)
    return float(np.mean((p.reshape(t.shape) - t) ** 2))


# ---- stateful metrics ----
class Metric:
    """Accumulates over batches: update_state(y_true, y_pred, sample_weight=None), result()."""

    name = "metric"

    def __init__(self, name=None):
        if name is not None:
            self.name = name
        self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class Mean(Metric):
    """Weighted mean of per-sample values computed by `fn(y_true, y_pred) -> per-sample array`."""

    name = "mean"

    def __init__(self, fn=None, name=None):
        self.fn = fn
        super().__init__(name)

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = np.asarray(self.fn(_np(y_true), _np(y_pred)), np.float64).reshape(-1)
        w = np.ones_like(values) if sample_weight is None else _np(sample_weight).astype(np.float64).reshape(-1)
        self.total += float(np.sum(values * w))
        self.count += float(np.sum(w))

    def result(self):
        return self.total / self.count if self.count else 0.0


def _hits_binary(threshold):
    return lambda t, p: ((p.reshape(-1) > threshold) == (t.reshape(-1) > 0.5)).astype(np.float64)


def _hits_categorical(t, p):
    return (p.argmax(-1) == t.argmax(-1)).astype(np.float64)


def _hits_sparse(t, p):
    return (p.argmax(-1) == t.reshape(p.shape[:-1])).astype(np.float64)


def _hits_auto(threshold):
    def hits(t, p):
        if p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1):
            return _hits_binary(threshold)(t, p)
        return _hits_categorical(t, p) if t.shape == p.shape else _hits_sparse(t, p)

    return hits


class Accuracy(Mean):
    """Accuracy with the kind (binary/sparse/categorical) inferred from the shapes."""

    name = "accuracy"

    def __init__(self, name=None, threshold=0.5):
        super().__init__(_hits_auto(threshold), name)


class BinaryAccuracy(Mean):
    name = "binary_accuracy"

    def __init__(self, name=None, threshold=0.5):
        super().__init__(_hits_binary(threshold), name)


class CategoricalAccuracy(Mean):
    name = "categorical_accuracy"

    def __init__(self, name=None):
        super().__init__(_hits_categorical, name)


class SparseCategoricalAccuracy(Mean):
    name = "sparse_categorical_accuracy"

    def __init__(self, name=None):
        super().__init__(_hits_sparse, name)


class TopKCategoricalAccuracy(Mean):
    name = "top_k_categorical_accuracy"

    def __init__(self, k=5, name=None):
        def hits(t, p):
            if t.shape == p.shape:
                t = t.argmax(-1)
            top = np.argpartition(-p, min(k, p.shape[-1]) - 1, axis=-1)[..., :k]
            return (top == t.reshape(-1, 1)).any(-1).astype(np.float64)

        super().__init__(hits, name)


class MeanAbsoluteError(Mean):
    name = "mae"

    def __init__(self, name=None):
        super().__init__(lambda t, p: np.abs(p.reshape(t.shape) - t).reshape(len(t), -1).mean(-1), name)


class MeanSquaredError(Mean):
    name = "mse"

    def __init__(self, name=None):
        super().__init__(lambda t, p: ((p.reshape(t.shape) - t) ** 2).reshape(len(t), -1).mean(-1), name)


class _ConfusionMetric(Metric):
    """Precision/recall/F1 from a (sample-weighted) confusion matrix accumulated over batches."""

    def __init__(self, name=None, average="binary", threshold=0.5):
        self.average, self.threshold = average, threshold
        super().__init__(name)

    def reset_state(self):
        self.cm = np.zeros((0, 0), np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p, classes = _class_predictions(y_true, y_pred, self.threshold)
        w = None if sample_weight is None else np.broadcast_to(
            _np(sample_weight).astype(np.float64).reshape(-1), t.shape)
        if classes > len(self.cm):  # class ids: a later batch may show a class not seen before
            grown = np.zeros((classes, classes), np.float64)
            grown[: len(self.cm), : len(self.cm)] = self.cm
            self.cm = grown
        self.cm += _confusion(t, p, len(self.cm), w)

    def _scores(self):
        if not self.cm.size:
            return 0.0, 0.0, 0.0
        return _scores_from_confusion(self.cm, self.average)


class Precision(_ConfusionMetric):
    name = "precision"

    def result(self):
        return float(self._scores()[0])


class Recall(_ConfusionMetric):
    name = "recall"

    def result(self):
        return float(self._scores()[1])


class F1Score(_ConfusionMetric):
    name = "f1_score"

    def result(self):
        return float(self._scores()[2])


_BY_NAME = {
    "accuracy": Accuracy, "acc": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy, "top_k_accuracy": TopKCategoricalAccuracy,
    "precision": Precision, "recall": Recall, "f1": F1Score, "f1_score": F1Score,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
}


def get_metric(spec, threshold=0.5):
    """A Metric from a name, a Metric, a Metric class, or a function f(y_true, y_pred)."""
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, type) and issubclass(spec, Metric):
        return spec()
    if isinstance(spec, str):
        cls = _BY_NAME.get(spec)
        if cls is None:
            raise ValueError(f"unknown metric {spec!r}; expected one of {sorted(_BY_NAME)} or a callable")
        m = cls(threshold=threshold) if cls in (Accuracy, BinaryAccuracy) else cls()
        m.name = spec
        return m
    if callable(spec):
        return Mean(lambda t, p: np.asarray(spec(t, p), np.float64) * np.ones(len(t)),
                    name=getattr(spec, "__name__", "metric"))
    raise TypeError(f"a metric must be a name, a Metric or a callable, got {type(spec).__name__}")

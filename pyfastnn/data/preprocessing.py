"""Splits, scalers and label encoding (scikit-learn's and Keras' names)."""

import numpy as np

from ..tensor import Tensor

__all__ = ["train_test_split", "StandardScaler", "MinMaxScaler", "to_categorical", "one_hot"]


def _arr(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def train_test_split(*arrays, test_size=0.25, shuffle=True, stratify=None, seed=None):
    """Split arrays into train and test parts: returns x_train, x_test, y_train, y_test, ...

    test_size: a fraction in (0, 1) or a number of samples. stratify: labels whose class
    proportions both parts keep."""
    if not arrays:
        raise ValueError("train_test_split: at least one array is required")
    arrays = [_arr(a) for a in arrays]
    n = len(arrays[0])
    for a in arrays:
        if len(a) != n:
            raise ValueError(f"train_test_split: arrays have different lengths ({n} and {len(a)})")
    n_test = int(np.ceil(test_size * n)) if isinstance(test_size, float) else int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size={test_size} leaves no train or no test samples of {n}")
    rng = np.random.default_rng(seed)
    if stratify is not None:
        labels = _arr(stratify)
        test_idx = []
        classes, counts = np.unique(labels, return_counts=True)
        quota = np.floor(counts * n_test / n).astype(int)
        rest = n_test - quota.sum()  # largest remainders get the leftover test samples
        order = np.argsort(-(counts * n_test / n - quota), kind="stable")
        quota[order[:rest]] += 1
        for c, q in zip(classes, quota):
            members = np.flatnonzero(labels == c)
            test_idx.append(rng.permutation(members)[:q] if shuffle else members[:q])
        test = np.concatenate(test_idx)
        mask = np.zeros(n, bool)
        mask[test] = True
        train = np.flatnonzero(~mask)
        if shuffle:
            train, test = rng.permutation(train), rng.permutation(test)
    else:
        order = rng.permutation(n) if shuffle else np.arange(n)
        train, test = order[: n - n_test], order[n - n_test :]
    out = []
    for a in arrays:
        out += [a[train], a[test]]
    return out


class StandardScaler:
    """x -> (x - mean) / std per feature, fitted on training data."""

    def fit(self, x):
        x = _arr(x)
        self.mean_ = x.mean(0)
        std = x.std(0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, x):
        return ((_arr(x) - self.mean_) / self.scale_).astype(_arr(x).dtype if _arr(x).dtype.kind == "f" else np.float32)

    def fit_transform(self, x):
        return self.fit(x).transform(x)

    def inverse_transform(self, x):
        return _arr(x) * self.scale_ + self.mean_


class MinMaxScaler:
    """x -> feature_range scaled linearly from each feature's [min, max]."""

    def __init__(self, feature_range=(0.0, 1.0)):
        self.feature_range = feature_range

    def fit(self, x):
        x = _arr(x)
        self.data_min_, self.data_max_ = x.min(0), x.max(0)
        span = self.data_max_ - self.data_min_
        lo, hi = self.feature_range
        self.scale_ = (hi - lo) / np.where(span > 0, span, 1.0)
        self.min_ = lo - self.data_min_ * self.scale_
        return self

    def transform(self, x):
        x = _arr(x)
        return (x * self.scale_ + self.min_).astype(x.dtype if x.dtype.kind == "f" else np.float32)

    def fit_transform(self, x):
        return self.fit(x).transform(x)

    def inverse_transform(self, x):
        return (_arr(x) - self.min_) / self.scale_


def _one_hot(y, n, dtype, fn):
    if y.size and (y.min() < 0 or y.max() >= n):
        raise ValueError(f"{fn}: labels must be in [0, {n}), got {y.min()}..{y.max()}")
    return np.eye(n, dtype=dtype)[y]


def _class_ids(y, fn):
    y = _arr(y)
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError(f"{fn}: labels must be whole numbers (class ids)")
    elif y.dtype.kind not in "biu":
        raise TypeError(f"{fn}: labels must be class ids, got dtype {y.dtype}")
    return y.astype(np.int64)


def to_categorical(y, num_classes=None, dtype=np.float32):
    """Class ids -> one-hot rows (Keras' to_categorical: (N,) or (N, 1) -> (N, C))."""
    y = _class_ids(y, "to_categorical")
    if y.ndim > 1 and y.shape[-1] == 1:  # Keras drops a trailing axis of size 1
        y = y.reshape(y.shape[:-1])
    n = num_classes or (int(y.max()) + 1 if y.size else 0)
    return _one_hot(y, n, dtype, "to_categorical")


def one_hot(y, num_classes=-1):
    """PyTorch's F.one_hot: an int64 Tensor of shape y.shape + (num_classes,)."""
    y = _class_ids(y, "one_hot")
    n = int(y.max()) + 1 if num_classes == -1 and y.size else num_classes
    if n < 0:
        raise ValueError("one_hot: num_classes must be given for an empty tensor")
    return Tensor._wrap(_one_hot(y, n, np.int64, "one_hot"))

"""The datasets `pyfastnn train` knows, as ready train/test arrays with sensible defaults.

    task = load_task("digits", seed=0)     # Task(x_train, y_train, x_test, y_test, ...)
"""

from dataclasses import dataclass, field

import numpy as np

from ..data import StandardScaler, datasets, train_test_split

__all__ = ["DATASETS", "Task", "load_task"]

DATASETS = ("digits", "fashion-mnist", "mnist", "moons", "sine")


@dataclass
class Task:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple = None  # class names; None for regression
    description: str = ""
    models: tuple = ("mlp", "cnn", "lenet", "lstm")  # the zoo models that fit its samples
    default_model: str = "cnn"
    defaults: dict = field(default_factory=dict)  # epochs, batch_size, lr and model options

    @property
    def classification(self):
        return self.classes is not None

    @property
    def input_shape(self):
        return tuple(self.x_train.shape[1:])

    @property
    def num_outputs(self):
        return len(self.classes) if self.classification else int(np.prod(self.y_train.shape[1:]) or 1)


def _limit(task, limit):
    if limit is not None:
        if limit < 2:
            raise ValueError(f"--limit must be at least 2, got {limit}")
        task.x_train, task.y_train = task.x_train[:limit], task.y_train[:limit]
        task.x_test, task.y_test = task.x_test[:limit], task.y_test[:limit]
    return task


def _digits(seed, root=None):
    x, y = datasets.digits(flatten=False)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, seed=seed)
    return Task("digits", x_train, y_train, x_test, y_test, tuple(str(i) for i in range(10)),
                "8x8 handwritten digits shipped with pyfastnn (1797 images, 80/20 stratified split)",
                defaults=dict(epochs=20, batch_size=32, lr=2e-3,
                              model_options={"cnn": dict(widths=(16, 32), hidden=64)}))


def _idx_images(cls, name):
    def load(seed, root=None):
        train, test = cls(root=root, train=True), cls(root=root, train=False)
        (x_train, y_train), (x_test, y_test) = train.arrays(), test.arrays()
        return Task(name, x_train, y_train, x_test, y_test, tuple(cls.classes),
                    f"{cls.__name__}: {len(x_train)} training and {len(x_test)} test images 28x28",
                    defaults=dict(epochs=5, batch_size=64, lr=1e-3))

    return load


def _moons(seed, root=None):
    x, y = datasets.moons(1000, noise=0.2, seed=seed)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, seed=seed)
    scaler = StandardScaler().fit(x_train)
    return Task("moons", scaler.transform(x_train), y_train, scaler.transform(x_test), y_test, ("0", "1"),
                "two moons, 1000 points, noise 0.2 (standardized)", models=("mlp",), default_model="mlp",
                defaults=dict(epochs=60, batch_size=32, lr=1e-2, model_options={"mlp": dict(hidden=(16, 16),
                                                                                             dropout=0.0)}))


def _sine(seed, root=None):
    x, y = datasets.sine_windows(1000, window=20, noise=0.1, seed=seed)
    cut = int(len(x) * 0.8)  # a time series: the test windows come after the training ones
    return Task("sine", x[:cut], y[:cut], x[cut:], y[cut:], None,
                "forecasting a noisy sine one step ahead from windows of 20 values (last 20% as test)",
                models=("mlp", "lstm"), default_model="lstm",
                defaults=dict(epochs=20, batch_size=32, lr=5e-3,
                              model_options={"mlp": dict(hidden=(32,), dropout=0.0), "lstm": dict(hidden=32)}))


_LOADERS = {"digits": _digits, "fashion-mnist": _idx_images(datasets.FashionMNIST, "fashion-mnist"),
            "mnist": _idx_images(datasets.MNIST, "mnist"), "moons": _moons, "sine": _sine}


def load_task(name, seed=0, limit=None, root=None):
    """The dataset `name` (one of DATASETS) split into train and test arrays; limit keeps at
    most that many samples of each split (quick runs); root: the folder holding the IDX
    files of mnist/fashion-mnist (default: the cache, then Debian's folder)."""
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return _limit(_LOADERS[name](seed, root), limit)

"""Datasets for the classic exercises: available offline, the 8x8 digits (shipped with the
package), two moons and noisy sine windows (generated, seeded); MNIST and Fashion-MNIST from
their IDX files (see pyfastnn/data/mnist.py for where they are looked for)."""

import os

import numpy as np

from .mnist import MNIST, FashionMNIST  # noqa: F401

__all__ = ["digits", "moons", "sine_windows", "MNIST", "FashionMNIST"]

_FILES = os.path.join(os.path.dirname(__file__), "files")


def digits(flatten=True, scale=True):
    """The 1797 handwritten digits (8x8, classes 0-9) as (x, y).

    x: float32, (1797, 64) when flatten else (1797, 1, 8, 8); pixel values 0..16, divided by
    16 when scale. y: int64 class ids."""
    with np.load(os.path.join(_FILES, "digits.npz")) as f:
        images, labels = f["images"], f["labels"]
    x = images.astype(np.float32)
    if scale:
        x /= 16.0
    x = x.reshape(len(x), 64) if flatten else x.reshape(len(x), 1, 8, 8)
    return x, labels.astype(np.int64)


def moons(n=1000, noise=0.2, seed=None):
    """Two interleaving half circles (scikit-learn's make_moons): x (n, 2) float32, y (n,)
    int64 in {0, 1}, half of each; gaussian noise of std `noise`; shuffled."""
    if n < 2:
        raise ValueError(f"moons: n must be >= 2, got {n}")
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    x += rng.normal(scale=noise, size=x.shape)
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order]


def sine_windows(n=500, window=20, noise=0.1, seed=None, horizon=1):
    """Forecasting a noisy sine: x (m, window, 1) windows of consecutive values and y (m, 1)
    the value `horizon` steps after each window, m = n - window - horizon + 1, float32.
    The series is sin(0.1 t) + noise over t = 0..n-1."""
    if n < window + horizon:
        raise ValueError(f"sine_windows: n={n} is too short for window={window} and horizon={horizon}")
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    series = np.sin(0.1 * t) + rng.normal(scale=noise, size=n)
    m = n - window - horizon + 1
    idx = np.arange(window)[None, :] + np.arange(m)[:, None]
    x = series[idx][..., None]
    y = series[np.arange(m) + window + horizon - 1][:, None]
    return x.astype(np.float32), y.astype(np.float32)

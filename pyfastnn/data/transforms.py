"""Image transforms for datasets (torchvision's names), on numpy arrays in CHW layout.

Each transform takes one image (C, H, W) or a whole batch (N, C, H, W); random ones draw
independently per image, from `generator` (an int seed or a numpy Generator) or else from
pyfastnn's global generator, so pf.manual_seed makes them reproducible. A dataset can hand
them a whole batch at once (`batched = True`), which keeps augmentation cheap.

    train = FashionMNIST(transform=Compose([ToTensor(), RandomCrop(28, padding=2),
                                            RandomHorizontalFlip(), Normalize(0.286, 0.353)]))
"""

import numpy as np

from ..tensor import Tensor

__all__ = ["Compose", "ToTensor", "Normalize", "RandomHorizontalFlip", "RandomCrop"]


def _array(x, op):
    if isinstance(x, Tensor):
        x = x.data
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected an image (C, H, W) or a batch (N, C, H, W), got shape {x.shape}")
    return x


def _rng(generator):
    if generator is None:
        from ..random import generator as global_generator

        return global_generator()
    return generator


class _Transform:
    batched = True  # handles (N, C, H, W) batches as well as single images

    def __init__(self, generator=None):
        if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
            generator = np.random.default_rng(int(generator))
        elif generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"{type(self).__name__}: generator must be an int seed or a numpy Generator, got "
                            f"{type(generator).__name__}")
        self.generator = generator

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self):
        return ""


class Compose(_Transform):
    """Apply transforms in order."""

    def __init__(self, transforms):
        super().__init__()
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {type(t).__name__}")
        # a batch can pass through only if every step takes batches
        self.batched = all(getattr(t, "batched", False) for t in self.transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        return "Compose(\n" + "".join(f"    {t!r}\n" for t in self.transforms) + ")"


class ToTensor(_Transform):
    """uint8 pixels 0..255 to float32 in [0, 1] (other dtypes: cast to float32, unscaled);
    a 2-D (H, W) image gets its channel dim. Returns a numpy array: DataLoader makes Tensors."""

    def __call__(self, x):
        if isinstance(x, Tensor):
            x = x.data
        x = np.asarray(x)
        if x.ndim == 2:
            x = x[None]
        x = _array(x, "ToTensor")
        if x.dtype == np.uint8:
            return x.astype(np.float32) * np.float32(1 / 255)
        return x.astype(np.float32, copy=False)


class Normalize(_Transform):
    """(x - mean[c]) / std[c] per channel; mean and std are numbers or one per channel."""

    def __init__(self, mean, std):
        super().__init__()
        self.mean = np.atleast_1d(np.asarray(mean, np.float32))
        self.std = np.atleast_1d(np.asarray(std, np.float32))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError(f"Normalize: mean and std must be numbers or sequences, got shapes {self.mean.shape} "
                             f"and {self.std.shape}")
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must not contain 0, got {self.std.tolist()}")

    def __call__(self, x):
        x = _array(x, "Normalize")
        c = x.shape[-3]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if len(v) not in (1, c):
                raise ValueError(f"Normalize: {name} has {len(v)} values for {c} channels")
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        return ((x - self.mean.reshape(-1, 1, 1)) / self.std.reshape(-1, 1, 1)).astype(dtype, copy=False)

    def extra_repr(self):
        return f"mean={self.mean.tolist()}, std={self.std.tolist()}"


class RandomHorizontalFlip(_Transform):
    """Mirror each image left-right with probability p."""

    def __init__(self, p=0.5, generator=None):
        super().__init__(generator)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = float(p)

    def __call__(self, x):
        x = _array(x, "RandomHorizontalFlip")
        rng = _rng(self.generator)
        if x.ndim == 3:
            return x[..., ::-1].copy() if rng.random() < self.p else x
        flip = rng.random(len(x)) < self.p
        out = x.copy()
        out[flip] = x[flip][..., ::-1]
        return out

    def extra_repr(self):
        return f"p={self.p}"


def _pair(v, name):
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    if isinstance(v, (tuple, list)) and len(v) == 2:
        return int(v[0]), int(v[1])
    raise TypeError(f"RandomCrop: {name} must be an int or a pair (h, w), got {v!r}")


class RandomCrop(_Transform):
    """Pad each side by `padding` (with `fill`), then cut a size x size window at a random
    place, drawn per image (the classic CIFAR/MNIST shift augmentation)."""

    def __init__(self, size, padding=0, fill=0, generator=None):
        super().__init__(generator)
        self.size = _pair(size, "size")
        self.padding = _pair(padding or 0, "padding")
        self.fill = fill
        if min(self.size) < 1 or min(self.padding) < 0:
            raise ValueError(f"RandomCrop: size must be positive and padding non-negative, got size={self.size}, "
                             f"padding={self.padding}")

    def __call__(self, x):
        x = _array(x, "RandomCrop")
        single = x.ndim == 3
        if single:
            x = x[None]
        (ph, pw), (th, tw) = self.padding, self.size
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=self.fill)
        n, c, h, w = x.shape
        if th > h or tw > w:
            raise ValueError(f"RandomCrop: crop size {self.size} is larger than the padded image ({h}, {w})")
        rng = _rng(self.generator)
        top = rng.integers(0, h - th + 1, n)
        left = rng.integers(0, w - tw + 1, n)
        rows = (top[:, None] + np.arange(th))[:, None, :, None]
        cols = (left[:, None] + np.arange(tw))[:, None, None, :]
        out = x[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols]
        return out[0] if single else out

    def extra_repr(self):
        return f"size={self.size}, padding={self.padding}"

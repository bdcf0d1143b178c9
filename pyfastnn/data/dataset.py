"""Datasets: TensorDataset and random_split (PyTorch's torch.utils.data names)."""

import numpy as np

from ..tensor import Tensor


class Dataset:
    """Anything with __len__ and __getitem__(i) -> sample (a tuple of arrays/Tensors)."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


def _as_array(x, name):
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except Exception:
        raise TypeError(f"TensorDataset: argument {name} must be an array or Tensor, got {type(x).__name__}")


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long arrays/Tensors (features, targets, ...)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: at least one tensor is required")
        self.arrays = tuple(_as_array(t, i) for i, t in enumerate(tensors))
        n = len(self.arrays[0])
        for i, a in enumerate(self.arrays):
            if a.ndim == 0 or len(a) != n:
                raise ValueError(f"TensorDataset: size mismatch between tensors: tensor 0 has {n} samples, "
                                 f"tensor {i} has shape {a.shape}")

    def __getitem__(self, index):
        return tuple(Tensor._wrap(a[index]) for a in self.arrays)

    def take(self, indices):
        """A whole batch at once (what DataLoader uses instead of per-sample collation)."""
        return tuple(Tensor._wrap(a[indices]) for a in self.arrays)

    def __len__(self):
        return len(self.arrays[0])


class Subset(Dataset):
    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, np.asarray(indices, dtype=np.int64)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def take(self, indices):
        if hasattr(self.dataset, "take"):
            return self.dataset.take(self.indices[indices])
        return None

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping subsets of the given lengths (or fractions summing to 1)."""
    from ..random import generator as global_generator

    n = len(dataset)
    if all(isinstance(x, float) and 0 <= x <= 1 for x in lengths) and abs(sum(lengths) - 1) < 1e-6:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal the dataset length ({n})")
    rng = generator if isinstance(generator, np.random.Generator) else (
        np.random.default_rng(generator) if generator is not None else global_generator())
    perm = rng.permutation(n)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[start : start + length]))
        start += length
    return out

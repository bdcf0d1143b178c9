"""DataLoader: batches (shuffled, seeded, drop_last) over a dataset."""

import numpy as np

from ..tensor import Tensor


def default_collate(samples):
    """Stack a list of samples (tuples or dicts of arrays/Tensors/numbers) into batch Tensors."""
    first = samples[0]
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        return tuple(default_collate([s[i] for s in samples]) for i in range(len(first)))
    arrays = [s.data if isinstance(s, Tensor) else np.asarray(s) for s in samples]
    return Tensor._wrap(np.stack(arrays))


class DataLoader:
    """Iterate over a dataset in batches.

    shuffle draws a new order every epoch from `generator` (an int seed or a numpy
    Generator) or else from the global generator (pf.manual_seed). A TensorDataset is
    batched by indexing its arrays once per batch, not sample by sample.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None, generator=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size should be a positive integer, got {batch_size!r}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, int(batch_size), shuffle, drop_last
        self.collate_fn = collate_fn or default_collate
        self.generator = np.random.default_rng(generator) if isinstance(generator, (int, np.integer)) else generator

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        from ..random import generator as global_generator

        return (self.generator or global_generator()).permutation(n)

    def __iter__(self):
        order = self._order()
        n, b = len(order), self.batch_size
        stop = n - n % b if self.drop_last else n
        take = getattr(self.dataset, "take", None)
        for start in range(0, stop, b):
            idx = order[start : start + b]
            batch = take(idx) if take is not None else None
            if batch is None:
                batch = self.collate_fn([self.dataset[int(i)] for i in idx])
            yield batch

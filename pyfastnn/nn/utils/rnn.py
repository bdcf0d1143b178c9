"""Variable-length sequences: PackedSequence, pack_padded_sequence, pad_packed_sequence,
pad_sequence, pack_sequence (PyTorch's torch.nn.utils.rnn).

A PackedSequence holds the valid steps of a batch of sequences (sorted by decreasing
length) interleaved time-major, as PyTorch's does. nn.RNN / nn.LSTM / nn.GRU accept one and
return one; internally they run on the padded batch with per-sequence lengths (the C++
loops skip padded steps: they neither update the state nor receive gradient). The
recurrent modules also take `lengths=` directly with a padded batch, which avoids packing.
"""

from collections import namedtuple

import numpy as np

from ...tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence"]


def _data(t):
    return t.data if isinstance(t, Tensor) else t


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """data (sum(lengths), *): the valid steps, time-major, batch in decreasing-length order;
    batch_sizes (T,): how many sequences are still running at each step; sorted_indices /
    unsorted_indices: the permutation to that order and back (None when already sorted)."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    @property
    def is_cuda(self):
        return getattr(self.data, "device", "cpu") != "cpu"

    def to(self, *args, **kwargs):
        return type(self)(self.data.to(*args, **kwargs), self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    def lengths(self):
        """Lengths in the original batch order (an int64 array)."""
        bs = np.asarray(_data(self.batch_sizes))
        lens = (np.arange(bs[0])[:, None] < bs[None, :]).sum(1).astype(np.int64) if bs.size else np.zeros(0, np.int64)
        if self.unsorted_indices is not None:
            lens = lens[np.asarray(_data(self.unsorted_indices))]
        return lens


def _invert(perm):
    p = np.asarray(_data(perm))
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=p.dtype)
    return Tensor._wrap(inv)


def _lengths(lengths, op):
    arr = np.asarray(_data(lengths))
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: lengths must hold integers, got {arr.dtype}")
    arr = arr.astype(np.int64).reshape(-1)
    if arr.size and arr.min() < 1:
        raise ValueError(f"{op}: every length must be at least 1, got {arr.min()}")
    return arr


def _packed_positions(batch_sizes):
    """For each packed row, its (t, b) in the padded (T, B) batch: flat index t * B + b."""
    bs = np.asarray(batch_sizes, np.int64)
    B = int(bs[0]) if bs.size else 0
    return np.concatenate([t * B + np.arange(n) for t, n in enumerate(bs)]) if bs.size else np.zeros(0, np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) ((B, T, *) with batch_first) whose sequence b has
    lengths[b] valid steps. enforce_sorted=True requires decreasing lengths; otherwise the
    batch is sorted and the permutation kept in the result."""
    op = "pack_padded_sequence"
    x = _as_tensor(input)
    lens = _lengths(lengths, op)
    if batch_first:
        x = x.transpose(0, 1)
    T, B = x.shape[0], x.shape[1]
    if lens.size != B:
        raise ValueError(f"{op}: expected {B} lengths (one per sequence), got {lens.size}")
    if lens.size and lens.max() > T:
        raise ValueError(f"{op}: a length ({lens.max()}) exceeds the padded sequence length {T}")
    if enforce_sorted:
        if (np.diff(lens) > 0).any():
            raise RuntimeError(f"{op}: `lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                               "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                               "pack_sequence to sidestep this requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_indices = Tensor._wrap(order.astype(np.int64))
        lens = lens[order]
        x = x[:, order]
    batch_sizes = np.array([(lens > t).sum() for t in range(int(lens.max()) if lens.size else 0)], np.int64)
    flat = x.reshape(T * B, *x.shape[2:])
    data = flat[_packed_positions(batch_sizes)]
    return PackedSequence(data, Tensor._wrap(batch_sizes), sorted_indices, None)


def _padded_from_packed(seq, padding_value, total_length, op):
    """(padded (T, B, *) in sorted batch order, lengths sorted) from a PackedSequence."""
    data = _as_tensor(seq.data)
    bs = np.asarray(_data(seq.batch_sizes), np.int64)
    T = int(bs.size)
    B = int(bs[0]) if T else 0
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"{op}: expected total_length to be at least {T} (the longest sequence), "
                             f"got {total_length}")
        T = int(total_length)
    lens = (np.arange(B)[:, None] < bs[None, :]).sum(1).astype(np.int64)
    pos = _packed_positions(bs)
    n = data.shape[0]
    index = np.full(T * B, n, np.int64)  # row n: the padding row appended below
    index[pos] = np.arange(n)
    pad_row = Tensor._wrap(np.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype))
    from ...ops.shape import Cat

    ext = Cat.apply(data, pad_row, dim=0)
    padded = ext[index].reshape(T, B, *data.shape[1:])
    return padded, lens


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """(padded, lengths): the inverse of pack_padded_sequence, in the original batch order;
    padded steps hold padding_value; lengths is an int64 tensor."""
    padded, lens = _padded_from_packed(sequence, padding_value, total_length, "pad_packed_sequence")
    if sequence.unsorted_indices is not None:
        unsorted = np.asarray(_data(sequence.unsorted_indices))
        padded = padded[:, unsorted]
        lens = lens[unsorted]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor._wrap(lens)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shapes (L_i, *) into (T, B, *) ((B, T, *) with batch_first),
    T = max L_i, padding with padding_value on the right (or the left)."""
    seqs = [_as_tensor(s) for s in sequences]
    if not seqs:
        raise ValueError("pad_sequence: expected a non-empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    T = max(s.shape[0] for s in seqs)
    from ...ops.shape import Cat, Stack

    rows = []
    for s in seqs:
        missing = T - s.shape[0]
        if missing:
            pad = Tensor._wrap(np.full((missing,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype))
            s = Cat.apply(s, pad, dim=0) if padding_side == "right" else Cat.apply(pad, s, dim=0)
        rows.append(s)
    return Stack.apply(*rows, dim=0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """pack_padded_sequence(pad_sequence(sequences), lengths)."""
    lens = [int(_as_tensor(s).shape[0]) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lens, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences (L_i, *) of a padded batch."""
    x = _as_tensor(padded_sequences)
    if not batch_first:
        x = x.transpose(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(_lengths(lengths, "unpad_sequence"))]


def unpack_sequence(packed_sequences):
    """The list of sequences of a PackedSequence, in the original order."""
    padded, lens = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lens, batch_first=True)

"""embedding(input, weight): rows of a lookup table, with a dense weight gradient.

The gather and the scatter-add of the gradient run in C++ (backends.cpu.embedding_forward /
embedding_backward); the gradient is a dense (num_embeddings, embedding_dim) array (no
sparse gradients), zero at padding_idx.
"""

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..backends import for_array
from ..tensor import Tensor

__all__ = ["embedding"]


def _data(t):
    return t.data if isinstance(t, Tensor) else t


class EmbeddingFunction(Function):
    """out = weight[indices]; the indices are a constant of the node."""

    def forward(self, weight, indices, padding_idx=None, scale_grad_by_freq=False):
        be = for_array(weight)
        out = be.embedding_forward(weight, indices)
        if self.needs_input_grad[0]:
            self.be, self.indices, self.num = be, indices, weight.shape[0]
            self.padding_idx, self.scale = padding_idx, scale_grad_by_freq
        return out

    def backward(self, g):
        if self.scale:  # each row's gradient divided by how often its index occurs in the batch
            counts = np.bincount(self.indices.reshape(-1), minlength=self.num)
            g = g / counts[self.indices][..., None].astype(g.dtype)
        return self.be.embedding_backward(self.indices, g, self.num, self.padding_idx), None

    def name(self):
        return "EmbeddingBackward"


def _indices(input, op):
    idx = np.asarray(_data(input)) if not isinstance(_data(input), np.ndarray) else _data(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected an integer (int64 or int32) tensor of indices, got {idx.dtype}")
    idx = np.asarray(idx, dtype=np.int64)
    return idx if idx.flags.c_contiguous else np.ascontiguousarray(idx)  # (ascontiguousarray makes 0-d 1-d)


def _padding(padding_idx, num, op):
    if padding_idx is None:
        return None
    p = int(padding_idx)
    if not -num <= p < num:
        raise ValueError(f"{op}: padding_idx must be within num_embeddings ({num}), got {padding_idx}")
    return p + num if p < 0 else p


def _renorm_(weight, idx, max_norm, norm_type):
    """PyTorch's embedding_renorm_: rows referenced by idx with a norm above max_norm are
    scaled (in place, outside autograd) to norm max_norm."""
    rows = np.unique(idx)
    if rows.size == 0:
        return
    w = weight.data
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        w[rows[big]] *= scale[:, None]


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """PyTorch's F.embedding: weight[input] for integer indices of any shape -> input.shape +
    (embedding_dim,). padding_idx's row gets no gradient; max_norm renormalizes the looked-up
    rows of weight in place first; sparse gradients are not supported (the gradient is dense)."""
    op = "embedding"
    if sparse:
        raise ValueError(f"{op}: sparse gradients are not supported; the weight gradient is dense (sparse=False)")
    w = _data(weight)
    if not hasattr(w, "ndim") or w.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got shape "
                         f"{getattr(w, 'shape', None)}")
    idx = _indices(input, op)
    num = w.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        bad = idx[(idx < 0) | (idx >= num)].flat[0]
        raise IndexError(f"{op}: index {bad} is out of range for an embedding of {num} rows (valid: 0 to {num - 1})")
    pad = _padding(padding_idx, num, op)
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, idx, float(max_norm), float(norm_type))
    return EmbeddingFunction.apply(weight, idx, padding_idx=pad, scale_grad_by_freq=bool(scale_grad_by_freq))


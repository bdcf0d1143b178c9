"""Recurrent layers, fused cells and the embedding lookup on the C++ kernels (pyfastnn._C).

rnn_layer_forward runs one layer (every direction) over the whole sequence in C++: one GEMM
for all steps' input projections, then per step a product with the packed W_hh and the fused
cell; rnn_layer_backward runs back-propagation through time the same way and the weight
gradients as large GEMMs at the end. Non-contiguous arrays are copied first.
"""

import numpy as np

from ... import _C

__all__ = [
    "rnn_layer_forward", "rnn_layer_backward",
    "lstm_cell_forward", "lstm_cell_backward", "gru_cell_forward", "gru_cell_backward",
    "rnn_cell_forward", "rnn_cell_backward",
    "embedding_forward", "embedding_backward",
]


def _c(a):
    return a if a is None or a.flags.c_contiguous else np.ascontiguousarray(a)


def _rows(a):
    """A 2-D weight as the kernels take it: unit stride along rows (any leading dimension)."""
    if a is None or (a.strides[-1] == a.itemsize and a.strides[0] >= 0) or a.shape[-1] <= 1:
        return a
    return np.ascontiguousarray(a)


def _vec(a):
    return a if a is None or a.strides[0] == a.itemsize or a.shape[0] <= 1 else np.ascontiguousarray(a)


def _weights(weights):
    return [(_rows(w_ih), _rows(w_hh), _vec(b_ih), _vec(b_hh), _rows(w_hr))
            for w_ih, w_hh, b_ih, b_hh, w_hr in weights]


def _lengths(lengths):
    if lengths is None:
        return None
    return np.ascontiguousarray(lengths, dtype=np.int64)


def rnn_layer_forward(mode, x, weights, h0=None, c0=None, lengths=None, batch_first=False, training=True):
    """(y, h_n, c_n, saved): see pyfastnn._C.rnn_layer_forward."""
    return _C.rnn_layer_forward(mode, _c(x), _weights(weights), _c(h0), _c(c0), _lengths(lengths), batch_first,
                                training)


def rnn_layer_backward(mode, x, weights, saved, lengths=None, batch_first=False, dy=None, dhn=None, dcn=None,
                       need_dx=True, need_dh0=True, need_dc0=True, need_weights=True):
    """(dx, dh0, dc0, [(dw_ih, dw_hh, db_ih, db_hh, dw_hr) per direction])."""
    return _C.rnn_layer_backward(mode, _c(x), _weights(weights), saved, _lengths(lengths), batch_first, _c(dy),
                                 _c(dhn), _c(dcn), need_dx, need_dh0, need_dc0, need_weights)


def lstm_cell_forward(gx, gh, c):
    return _C.lstm_cell_forward(_c(gx), _c(gh), _c(c))


def lstm_cell_backward(act, c, dh, dc_new=None):
    return _C.lstm_cell_backward(_c(act), _c(c), _c(dh), _c(dc_new))


def gru_cell_forward(gx, gh, h):
    return _C.gru_cell_forward(_c(gx), _c(gh), _c(h))


def gru_cell_backward(act, h, dh_new):
    return _C.gru_cell_backward(_c(act), _c(h), _c(dh_new))


def rnn_cell_forward(gx, gh, nonlinearity="tanh"):
    return _C.rnn_cell_forward(_c(gx), _c(gh), nonlinearity)


def rnn_cell_backward(h, dh, nonlinearity="tanh"):
    return _C.rnn_cell_backward(_c(h), _c(dh), nonlinearity)


def _index_array(indices):
    idx = np.asarray(indices, dtype=np.int64)
    return idx if idx.flags.c_contiguous else np.ascontiguousarray(idx)  # keeps a 0-d index 0-d


def embedding_forward(weight, indices):
    """weight[indices] (indices int64, any shape); IndexError outside [0, num)."""
    return _C.embedding_forward(_rows(weight), _index_array(indices))


def embedding_backward(indices, grad, num_embeddings, padding_idx=None):
    """The dense weight gradient (num_embeddings, dim), nothing at padding_idx."""
    return _C.embedding_backward(_index_array(indices), _c(grad), int(num_embeddings), padding_idx)

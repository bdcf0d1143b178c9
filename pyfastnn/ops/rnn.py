"""Recurrent layers as autograd nodes: one node per layer (all time steps, both directions).

The whole time loop runs in C++ (backends.cpu.rnn_layer_forward): one GEMM projects every
step's input, then per step a product with W_hh and the fused cell; backward through time
likewise, with the weight gradients from large GEMMs at the end. Python runs once per layer,
never per time step. The functional forms here back nn.RNN / nn.LSTM / nn.GRU and the cells.
"""

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..backends import for_array
from ..tensor import Tensor

__all__ = ["rnn", "lstm", "gru", "rnn_cell", "lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"]

_MODES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _data(t):
    return t.data if isinstance(t, Tensor) else t


class RNNLayerFunction(Function):
    """(y, h_n[, c_n]) of one layer, every direction, given x, h0, c0 (None: zeros) and per
    direction (w_ih, w_hh, b_ih, b_hh, w_hr) (None where absent)."""

    allow_none_grads = True  # outputs nobody used get no gradient (no zero arrays)

    def forward(self, x, h0, c0, *flat, mode, lengths, batch_first):
        dirs = len(flat) // 5
        weights = [tuple(flat[5 * d:5 * d + 5]) for d in range(dirs)]
        training = any(self.needs_input_grad)
        be = for_array(x)
        y, hn, cn, saved = be.rnn_layer_forward(mode, x, weights, h0, c0, lengths, batch_first, training)
        if training:
            self.be, self.x, self.weights, self.saved = be, x, weights, saved
            self.mode, self.lengths, self.batch_first = mode, lengths, batch_first
        return (y, hn) if cn is None else (y, hn, cn)

    def backward(self, gy, ghn, gcn=None):
        needs = self.needs_input_grad
        dx, dh0, dc0, grads = self.be.rnn_layer_backward(
            self.mode, self.x, self.weights, self.saved, self.lengths, self.batch_first, gy, ghn, gcn,
            needs[0], needs[1], needs[2], any(needs[3:]))
        return (dx, dh0, dc0, *[g for d in grads for g in d])

    def name(self):
        return {"LSTM": "LSTMBackward", "GRU": "GRUBackward"}.get(self.__dict__.get("mode"), "RNNBackward")


class RNNCellFunction(Function):
    """One step of an RNN/LSTM/GRU cell: h' (and c' for LSTM) from x (B, I), h, c (B, H or
    None) — the layer kernel with one time step."""

    allow_none_grads = True

    def forward(self, x, h, c, w_ih, w_hh, b_ih, b_hh, mode):
        B, H = x.shape[0], w_hh.shape[1]
        x3 = x.reshape(1, B, x.shape[1])
        h3 = None if h is None else h.reshape(1, B, H)
        c3 = None if c is None else c.reshape(1, B, H)
        weights = [(w_ih, w_hh, b_ih, b_hh, None)]
        training = any(self.needs_input_grad)
        be = for_array(x)
        _, hn, cn, saved = be.rnn_layer_forward(mode, x3, weights, h3, c3, None, False, training)
        if training:
            self.be, self.x3, self.weights, self.saved, self.mode = be, x3, weights, saved, mode
        return hn[0] if cn is None else (hn[0], cn[0])

    def backward(self, gh, gc=None):
        needs = self.needs_input_grad
        dx, dh0, dc0, grads = self.be.rnn_layer_backward(
            self.mode, self.x3, self.weights, self.saved, None, False, None,
            None if gh is None else gh[None], None if gc is None else gc[None],
            needs[0], needs[1], needs[2], any(needs[3:7]))
        return (None if dx is None else dx[0], None if dh0 is None else dh0[0], None if dc0 is None else dc0[0],
                *grads[0][:4], None)

    def name(self):
        return {"LSTM": "LSTMCellBackward", "GRU": "GRUCellBackward"}.get(self.__dict__.get("mode"),
                                                                          "RNNCellBackward")


def _shape(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _check_tensor(x, what, op):
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{op}: expected {what} to be a tensor or an array, got {type(x).__name__}")
    if x.dtype not in _FLOATS:
        raise TypeError(f"{op}: expected a floating point {what} (float32 or float64), got {x.dtype}")


def _lengths_array(lengths, batch, steps, op):
    """lengths as an int64 array of `batch` values in [1, steps], or a ValueError/TypeError."""
    if lengths is None:
        return None
    arr = np.asarray(_data(lengths))
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: lengths must hold integers, got {arr.dtype}")
    arr = arr.astype(np.int64).reshape(-1)
    if arr.shape != (batch,):
        raise ValueError(f"{op}: expected {batch} lengths (one per sequence in the batch), got {arr.size}")
    if arr.size and (arr.min() < 1 or arr.max() > steps):
        raise ValueError(f"{op}: every length must be in [1, {steps}] (the padded sequence length), got "
                         f"min {arr.min()} and max {arr.max()}")
    if arr.size and arr.min() == steps:
        return None  # every sequence is full length: the plain path
    return arr


def rnn(input, hx, weights, mode="RNN_TANH", num_layers=1, bidirectional=False, batch_first=False, dropout=0.0,
        training=False, lengths=None, op=None):
    """A multi-layer recurrent network over a whole sequence (what nn.RNN / nn.LSTM / nn.GRU
    run). input (T, B, I) or (B, T, I) with batch_first, or unbatched (T, I); hx: h0 (None,
    or (L*D, B, Hout)), for LSTM a pair (h0, c0); weights: one (w_ih, w_hh, b_ih, b_hh, w_hr)
    tuple per layer and direction, in PyTorch's order (layer-major, reverse direction
    second); dropout between layers when training; lengths (B,) makes steps past each
    sequence's length padding. Returns (output, h_n) or, for LSTM, (output, (h_n, c_n))."""
    op = op or {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
    if mode not in _MODES:
        raise ValueError(f"{op}: unknown mode {mode!r}; expected one of {sorted(_MODES)}")
    _check_tensor(input, "input", op)
    if input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected input to be 2-D (seq_len, input_size) for an unbatched sequence or 3-D "
                         f"for a batch, got {input.ndim}-D of shape {_shape(input.shape)}")
    D = 2 if bidirectional else 1
    if len(weights) != num_layers * D:
        raise ValueError(f"{op}: expected {num_layers * D} weight tuples (num_layers * num_directions), "
                         f"got {len(weights)}")
    w_ih0, w_hh0, _, _, w_hr0 = weights[0]
    I = w_ih0.shape[1]
    H = w_ih0.shape[0] // _MODES[mode]
    Hout = w_hr0.shape[0] if w_hr0 is not None else H
    if input.shape[-1] != I:
        raise ValueError(f"{op}: input.size(-1) must be equal to input_size. Expected {I}, got {input.shape[-1]}")
    for w in (w for t in weights for w in t if w is not None):
        if w.dtype != input.dtype:
            raise TypeError(f"{op}: input and weights must have the same dtype, got {input.dtype} and {w.dtype} "
                            "(convert the module with .double() / .float(), or the input)")
    unbatched = input.ndim == 2
    if unbatched:
        input = input.reshape(input.shape[0], 1, I)
        batch_first = False
    T = input.shape[1] if batch_first else input.shape[0]
    B = input.shape[0] if batch_first else input.shape[1]
    if T == 0:
        raise ValueError(f"{op}: expected a sequence length of at least 1, got input of shape {_shape(input.shape)}")

    lstm = mode == "LSTM"
    h0 = c0 = None
    if hx is not None:
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{op}: expected hx to be a tuple (h_0, c_0), got {type(hx).__name__}")
            h0, c0 = hx
        else:
            if isinstance(hx, (tuple, list)):
                raise TypeError(f"{op}: expected hx to be a tensor (h_0), got a {type(hx).__name__}")
            h0 = hx
    states = [("h_0", h0, Hout)] + ([("c_0", c0, H)] if lstm else [])
    fixed = []
    for name, s, width in states:
        if s is None:
            fixed.append(None)
            continue
        _check_tensor(s, name, op)
        want = (num_layers * D, width) if unbatched else (num_layers * D, B, width)
        if tuple(s.shape) != want:
            raise ValueError(f"{op}: expected {name} of shape {_shape(want)} (num_layers * num_directions, "
                             f"{'' if unbatched else 'batch, '}{'hidden' if width == H else 'proj'}_size), "
                             f"got {_shape(s.shape)}")
        if s.dtype != input.dtype:
            raise TypeError(f"{op}: input and {name} must have the same dtype, got {input.dtype} and {s.dtype}")
        fixed.append(s.reshape(num_layers * D, 1, width) if unbatched else s)
    h0, c0 = fixed[0], fixed[1] if lstm else None
    lens = _lengths_array(lengths, B, T, op)

    from .dropout import check_p, dropout as dropout_fn

    p = check_p(dropout, op) if dropout else 0.0
    grad = is_grad_enabled() and (
        getattr(input, "requires_grad", False) or getattr(h0, "requires_grad", False)
        or getattr(c0, "requires_grad", False)
        or any(getattr(w, "requires_grad", False) for t in weights for w in t))
    x = input
    hns, cns = [], []
    for layer in range(num_layers):
        sl = slice(layer * D, (layer + 1) * D)
        lh0 = None if h0 is None else (h0 if num_layers == 1 else h0[sl])
        lc0 = None if c0 is None else (c0 if num_layers == 1 else c0[sl])
        flat = [w for t in weights[layer * D:(layer + 1) * D] for w in t]
        if grad:
            out = RNNLayerFunction.apply(x, lh0, lc0, *flat, mode=mode, lengths=lens, batch_first=batch_first)
        else:  # inference: no graph, no saved activations
            be = for_array(_data(x))
            ws = [tuple(_data(w) for w in t) for t in weights[layer * D:(layer + 1) * D]]
            y, hn, cn, _ = be.rnn_layer_forward(mode, _data(x), ws, _data(lh0), _data(lc0), lens, batch_first, False)
            out = (Tensor._wrap(y), Tensor._wrap(hn)) + (() if cn is None else (Tensor._wrap(cn),))
        x = out[0]
        hns.append(out[1])
        if lstm:
            cns.append(out[2])
        if p > 0 and training and layer < num_layers - 1:
            x = dropout_fn(x, p, True)
    if num_layers == 1:
        hn, cn = hns[0], cns[0] if lstm else None
    else:
        from ..ops.shape import Cat

        hn = Cat.apply(*hns, dim=0)
        cn = Cat.apply(*cns, dim=0) if lstm else None
    if unbatched:
        x = x.reshape(x.shape[0], x.shape[2])
        hn = hn.reshape(hn.shape[0], hn.shape[2])
        cn = None if cn is None else cn.reshape(cn.shape[0], cn.shape[2])
    return (x, (hn, cn)) if lstm else (x, hn)


def lstm(input, hx, weights, num_layers=1, bidirectional=False, batch_first=False, dropout=0.0, training=False,
         lengths=None):
    """rnn(mode='LSTM'): returns (output, (h_n, c_n))."""
    return rnn(input, hx, weights, "LSTM", num_layers, bidirectional, batch_first, dropout, training, lengths)


def gru(input, hx, weights, num_layers=1, bidirectional=False, batch_first=False, dropout=0.0, training=False,
        lengths=None):
    """rnn(mode='GRU'): returns (output, h_n)."""
    return rnn(input, hx, weights, "GRU", num_layers, bidirectional, batch_first, dropout, training, lengths)


def rnn_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, mode="RNN_TANH", op=None):
    """One step of a cell: h' (RNN, GRU) or (h', c') (LSTM; hx a pair (h, c)). input (B, I)
    or unbatched (I,); hx None means zeros."""
    op = op or {"LSTM": "LSTMCell", "GRU": "GRUCell"}.get(mode, "RNNCell")
    if mode not in _MODES:
        raise ValueError(f"{op}: unknown mode {mode!r}; expected one of {sorted(_MODES)}")
    _check_tensor(input, "input", op)
    if input.ndim not in (1, 2):
        raise ValueError(f"{op}: expected input to be 1-D or 2-D, got {input.ndim}-D of shape {_shape(input.shape)}")
    I, H = w_ih.shape[1], w_hh.shape[1]
    if input.shape[-1] != I:
        raise ValueError(f"{op}: input has inconsistent input_size: got {input.shape[-1]} expected {I}")
    for w in (w_ih, w_hh, b_ih, b_hh):
        if w is not None and w.dtype != input.dtype:
            raise TypeError(f"{op}: input and weights must have the same dtype, got {input.dtype} and {w.dtype}")
    unbatched = input.ndim == 1
    if unbatched:
        input = input.reshape(1, I)
    B = input.shape[0]
    lstm = mode == "LSTM"
    h = c = None
    if hx is not None:
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{op}: expected hx to be a tuple (h, c), got {type(hx).__name__}")
            h, c = hx
        else:
            h = hx
    fixed = []
    for name, s in (("hx", h), ("cx", c)):
        if s is None:
            fixed.append(None)
            continue
        _check_tensor(s, name, op)
        want = (H,) if unbatched else (B, H)
        if tuple(s.shape) != want:
            raise ValueError(f"{op}: expected {name} of shape {_shape(want)}, got {_shape(s.shape)}")
        if s.dtype != input.dtype:
            raise TypeError(f"{op}: input and {name} must have the same dtype, got {input.dtype} and {s.dtype}")
        fixed.append(s.reshape(1, H) if unbatched else s)
    h, c = fixed
    out = RNNCellFunction.apply(input, h, c, w_ih, w_hh, b_ih, b_hh, mode)
    if unbatched:
        return (out[0].reshape(H), out[1].reshape(H)) if lstm else out.reshape(H)
    return out


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return rnn_cell(input, hx, w_ih, w_hh, b_ih, b_hh, "RNN_TANH")


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return rnn_cell(input, hx, w_ih, w_hh, b_ih, b_hh, "RNN_RELU")


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return rnn_cell(input, hx, w_ih, w_hh, b_ih, b_hh, "LSTM")


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return rnn_cell(input, hx, w_ih, w_hh, b_ih, b_hh, "GRU")

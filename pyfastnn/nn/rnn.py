"""Recurrent modules with PyTorch's signatures, parameter names and initialization: RNN
(tanh or relu), LSTM (optionally with proj_size), GRU, and the cells RNNCell, LSTMCell,
GRUCell.

Each layer runs as one autograd node whose forward and backward time loops are C++ (see
pyfastnn.ops.rnn): Python runs once per layer, never per time step. Beyond PyTorch's
signature, forward takes `lengths=` (one length per sequence of a padded batch): steps past
a sequence's length neither update its state nor receive gradient, and its output there is
0, exactly as with a PackedSequence (which is accepted too).
"""

import math
import numbers
import warnings

import numpy as np

from ..creation import get_default_dtype
from ..ops.rnn import rnn as _rnn, rnn_cell as _rnn_cell
from . import init
from .module import Module, Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _positive_int(v, name, op, allow_zero=False):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{op}: {name} should be of type int, got: {type(v).__name__}")
    if v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{op}: {name} must be {'non-negative' if allow_zero else 'greater than zero'}, got {v}")
    return int(v)



def _uniform_init(module):
    """PyTorch's recurrent init: every weight and bias ~ U(-1/sqrt(hidden), 1/sqrt(hidden))."""
    stdv = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for w in module.parameters():
        init.uniform_(w, -stdv, stdv)

class RNNBase(Module):
    """The common part of RNN, LSTM and GRU: parameters weight_ih_l{k}, weight_hh_l{k},
    bias_ih_l{k}, bias_hh_l{k} (and weight_hr_l{k} with proj_size), with '_reverse' for the
    second direction, all initialized U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        op = {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
        if mode not in _GATES:
            raise ValueError(f"{op}: unknown mode {mode!r}")
        self.mode = mode
        self.input_size = _positive_int(input_size, "input_size", op, allow_zero=True)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", op)
        self.num_layers = _positive_int(num_layers, "num_layers", op)
        self.proj_size = _positive_int(proj_size, "proj_size", op, allow_zero=True)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1:
            raise ValueError(f"{op}: dropout should be a number in range [0, 1] representing the probability of an "
                             f"element being zeroed, got {dropout!r}")
        if dropout > 0 and self.num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers=1")
        if self.proj_size and mode != "LSTM":
            raise ValueError(f"{op}: proj_size argument is only supported for LSTM, not RNN or GRU")
        if self.proj_size >= self.hidden_size:
            raise ValueError(f"{op}: proj_size has to be smaller than hidden_size")
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        dtype = np.dtype(dtype or get_default_dtype())
        D = 2 if self.bidirectional else 1
        gate_size = _GATES[mode] * self.hidden_size
        real_hidden = self.proj_size or self.hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(self.num_layers):
            for direction in range(D):
                layer_input = self.input_size if layer == 0 else real_hidden * D
                sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                params = [("weight_ih" + sfx, (gate_size, layer_input)), ("weight_hh" + sfx, (gate_size, real_hidden))]
                if self.bias:
                    params += [("bias_ih" + sfx, (gate_size,)), ("bias_hh" + sfx, (gate_size,))]
                if self.proj_size:
                    params.append(("weight_hr" + sfx, (self.proj_size, self.hidden_size)))
                for name, shape in params:
                    setattr(self, name, Parameter(np.empty(shape, dtype)))
                self._flat_weights_names.extend(n for n, _ in params)
                self._all_weights.append([n for n, _ in params])
        self.reset_parameters()
        if device is not None and device != "cpu":
            self.to(device)

    def reset_parameters(self):
        _uniform_init(self)

    def flatten_parameters(self):
        """PyTorch's cuDNN weight compaction: nothing to do here (weights are used in place)."""

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    def _weight_tuples(self):
        """(w_ih, w_hh, b_ih, b_hh, w_hr) per layer and direction, None where absent."""
        out = []
        D = 2 if self.bidirectional else 1
        for layer in range(self.num_layers):
            for direction in range(D):
                sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                g = self._parameters.get
                out.append((g("weight_ih" + sfx), g("weight_hh" + sfx), g("bias_ih" + sfx), g("bias_hh" + sfx),
                            g("weight_hr" + sfx)))
        return out

    def _op(self):
        return type(self).__name__

    def forward(self, input, hx=None, lengths=None):
        """input (T, B, input_size) ((B, T, input_size) with batch_first), (T, input_size)
        unbatched, or a PackedSequence; hx h_0 (num_layers * num_directions, B, Hout) (LSTM: a
        pair (h_0, c_0)), zeros when None; lengths (B,): valid steps per sequence of a padded
        batch. Returns (output, h_n) or, for LSTM, (output, (h_n, c_n))."""
        from .utils.rnn import PackedSequence

        if isinstance(input, PackedSequence):
            if lengths is not None:
                raise ValueError(f"{self._op()}: pass either a PackedSequence or lengths=, not both")
            return self._forward_packed(input, hx)
        return _rnn(input, hx, self._weight_tuples(), self.mode, self.num_layers, self.bidirectional,
                    self.batch_first, self.dropout, self.training, lengths, op=self._op())

    def _forward_packed(self, packed, hx):
        from .utils.rnn import PackedSequence, _packed_positions, _padded_from_packed

        padded, lens = _padded_from_packed(packed, 0.0, None, self._op())
        sorted_idx = None if packed.sorted_indices is None else np.asarray(getattr(packed.sorted_indices, "data",
                                                                                   packed.sorted_indices))
        unsorted_idx = None if packed.unsorted_indices is None else np.asarray(
            getattr(packed.unsorted_indices, "data", packed.unsorted_indices))
        lstm = self.mode == "LSTM"
        if hx is not None and sorted_idx is not None:  # the states follow the packed (sorted) order
            hx = (hx[0][:, sorted_idx], hx[1][:, sorted_idx]) if lstm else hx[:, sorted_idx]
        out, h = _rnn(padded, hx, self._weight_tuples(), self.mode, self.num_layers, self.bidirectional, False,
                      self.dropout, self.training, lens, op=self._op())
        T, B = out.shape[0], out.shape[1]
        bs = np.asarray(getattr(packed.batch_sizes, "data", packed.batch_sizes))
        data = out.reshape(T * B, out.shape[2])[_packed_positions(bs)]
        if unsorted_idx is not None:
            h = (h[0][:, unsorted_idx], h[1][:, unsorted_idx]) if lstm else h[:, unsorted_idx]
        return PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices), h

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"RNN: unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         0, device, dtype)

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o; c_t = f c_{t-1} + i g, h_t = o tanh(c_t),
    projected by weight_hr (proj_size, hidden_size) when proj_size > 0. Returns
    (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit (PyTorch's formulation): r, z gates, n = tanh(W_in x + b_in +
    r (W_hn h + b_hn)), h_t = (1 - z) n + z h_{t-1}."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         0, device, dtype)


class RNNCellBase(Module):
    """One time step: weight_ih (G hidden, input), weight_hh (G hidden, hidden), bias_ih,
    bias_hh, all U(-1/sqrt(hidden), 1/sqrt(hidden))."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        op = type(self).__name__
        self.input_size = _positive_int(input_size, "input_size", op, allow_zero=True)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", op)
        self.bias = bool(bias)
        dtype = np.dtype(dtype or get_default_dtype())
        self.weight_ih = Parameter(np.empty((num_chunks * hidden_size, input_size), dtype))
        self.weight_hh = Parameter(np.empty((num_chunks * hidden_size, hidden_size), dtype))
        if self.bias:
            self.bias_ih = Parameter(np.empty((num_chunks * hidden_size,), dtype))
            self.bias_hh = Parameter(np.empty((num_chunks * hidden_size,), dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        if device is not None and device != "cpu":
            self.to(device)

    def reset_parameters(self):
        _uniform_init(self)

    def _cell(self, input, hx, mode):
        return _rnn_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, mode,
                         op=type(self).__name__)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):
        return self._cell(input, hx, "RNN_RELU" if self.nonlinearity == "relu" else "RNN_TANH")


class LSTMCell(RNNCellBase):
    """(h', c') from x and (h, c) (zeros when hx is None)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        return self._cell(input, hx, "LSTM")


class GRUCell(RNNCellBase):
    """h' from x and h (zeros when hx is None)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        return self._cell(input, hx, "GRU")


"""Dropout: inverted dropout with a counter-based mask.

In training, each element is kept with probability 1 - p and scaled by 1 / (1 - p), so the
expected value is unchanged; in evaluation dropout is the identity. The mask is a pure
function of (seed, flat index): the forward pass draws a seed from pyfastnn.random (so
pf.manual_seed makes it reproducible) and the backward pass regenerates the same mask from
it instead of storing one.
"""

import numbers

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..backends import for_array
from ..random import next_seed
from ..tensor import Tensor

__all__ = ["dropout"]


def check_p(p, op="dropout"):
    """p as a float in [0, 1], or the ValueError PyTorch raises."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{op}: p must be a number in [0, 1], got {type(p).__name__}")
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return p


class DropoutFunction(Function):
    """y = x * keep(seed, i) / (1 - p); backward: the same mask, from the same seed."""

    def forward(self, x, p, seed):
        self.p, self.seed = p, seed
        self.be = for_array(x)
        return self.be.dropout_forward(x, p, seed)

    def backward(self, g):
        return self.be.dropout_backward(g, self.p, self.seed)


def dropout(input, p=0.5, training=True, inplace=False):
    """PyTorch's F.dropout: zero each element with probability p and scale the rest by
    1 / (1 - p) in training; the identity (the input itself) when not training or p == 0.

    inplace=True writes into input's data when autograd is not recording through it (as the
    core's other in-place operations); otherwise it returns a new tensor, like PyTorch's
    result in value.
    """
    p = check_p(p)
    if not training or p == 0.0:
        return input
    data = input.data if isinstance(input, Tensor) else input
    if data.dtype.kind != "f":
        raise TypeError(f"dropout: expected a floating point input, got {data.dtype}")
    seed = next_seed()
    recording = isinstance(input, Tensor) and input.requires_grad and is_grad_enabled()
    if inplace and not recording:
        be = for_array(data)
        if not data.flags.c_contiguous or not getattr(data.flags, "writeable", True):  # (CuPy has no writeable)
            data[...] = be.dropout_forward(data.copy(order="C"), p, seed)
        else:
            be.dropout_forward(data, p, seed, out=data)
        return input
    return DropoutFunction.apply(input, p=p, seed=seed)

"""Activation kernels in C++ (pyfastnn._C): float32 on the SIMD kernels of the active
instruction set, float64 on libm; one pass each, OpenMP threads on large arrays.

Same functions, signatures and semantics as backends.reference.activation (see its
docstring for the kinds, their parameters and what each backward reads):

    activation_forward(kind, x, alpha=0.0, beta=0.0) -> y
    activation_backward(kind, x, y, gy, alpha=0.0, beta=0.0) -> gx
    prelu_forward(x, weight) -> y
    prelu_backward(x, weight, gy, need_x=True, need_weight=True) -> (gx, gweight)

Inputs of any layout are accepted (non-contiguous ones are copied); results are new
C-contiguous arrays of the input's dtype.
"""

from ... import _C
from ..reference.activation import ACTIVATION_KINDS, activation_backward_input, activation_saves  # noqa: F401

__all__ = ["ACTIVATION_KINDS", "activation_saves", "activation_backward_input", "activation_forward",
           "activation_backward", "prelu_forward", "prelu_backward"]

activation_forward = _C.activation_forward
activation_backward = _C.activation_backward
prelu_forward = _C.prelu_forward
prelu_backward = _C.prelu_backward

"""linear(x, W, b): y = x W^T + b."""

from ..autograd.function import Function

__all__ = ["linear"]


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias, input (*, in_features) -> (*, out_features)."""
    y = input @ weight.T
    return y + bias if bias is not None else y

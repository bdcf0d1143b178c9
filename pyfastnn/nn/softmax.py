"""Softmax, LogSoftmax, Softmin modules (PyTorch's names, arguments and repr)."""

from ..ops import softmax as _F
from .module import Module

__all__ = ["Softmax", "LogSoftmax", "Softmin"]


class _SoftmaxBase(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """exp(x) / sum(exp(x)) along `dim` (None: PyTorch's implicit choice, 1 for 2-D input)."""

    def forward(self, input):
        return _F.softmax(input, self.dim)


class LogSoftmax(_SoftmaxBase):
    """log(softmax(x)) along `dim`, computed stably; pair with NLLLoss."""

    def forward(self, input):
        return _F.log_softmax(input, self.dim)


class Softmin(_SoftmaxBase):
    """softmax(-x) along `dim`."""

    def forward(self, input):
        return _F.softmin(input, self.dim)

"""Dropout module."""

from . import functional as F
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Zeroes each element with probability p and scales the rest by 1 / (1 - p) while
    training; the identity in eval mode (model.eval()). The mask is drawn from pf.random
    (reproducible with pf.manual_seed) and regenerated, not stored, for the backward pass."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        from ..ops.dropout import check_p

        self.p = check_p(p)
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"

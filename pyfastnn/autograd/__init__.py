"""Reverse-mode automatic differentiation."""

from .function import AccumulateGrad, Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .functional import grad
from .gradcheck import gradcheck

__all__ = ["Function", "AccumulateGrad", "grad", "gradcheck", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled"]

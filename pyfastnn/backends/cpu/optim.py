"""Optimizer updates: fused C++ multi-tensor kernels (until they land: the reference)."""

from ..reference.optim import *  # noqa: F401,F403
from ..reference.optim import __all__  # noqa: F401

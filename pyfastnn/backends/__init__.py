"""Kernel backends: `cpu` (pyfastnn._C), `reference` (NumPy, defines correct), `cuda` later."""

from . import cpu, reference

__all__ = ["cpu", "reference"]

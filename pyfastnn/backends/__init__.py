"""Kernel backends: `cpu` (pyfastnn._C), `reference` (NumPy, defines correct), `cuda`
(pyfastnn._cuda on CuPy arrays; loads CuPy on first use).

Ops ask `for_array(a)` for the module to run on: CuPy arrays go to the CUDA backend, numpy
arrays to the CPU backend selected with `use_backend("cpu" | "reference")`, so a whole
model can be cross-checked against the reference.
"""

import numpy as np

from . import cpu, cuda, reference

__all__ = ["cpu", "cuda", "reference", "use_backend", "current_backend", "for_array"]

_BACKENDS = {"cpu": cpu, "reference": reference}
_active = cpu


def use_backend(name):
    """Run CPU tensors on 'cpu' (our C++ kernels, default) or 'reference' (NumPy)."""
    global _active
    if name not in _BACKENDS:
        raise ValueError(f"use_backend: unknown backend {name!r}; expected one of {sorted(_BACKENDS)}")
    _active = _BACKENDS[name]


def current_backend():
    return "cpu" if _active is cpu else "reference"


def for_array(a):
    """The kernel module for an array's device."""
    if isinstance(a, np.ndarray):
        return _active
    return cuda

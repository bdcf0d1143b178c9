"""Moving tensors between devices (the CUDA side arrives with the CUDA backend)."""

import numpy as np

from ..autograd.function import Function


def _cupy():
    try:
        import cupy
    except ImportError:
        raise RuntimeError(
            "CUDA tensors need CuPy and an NVIDIA GPU: pip install 'pyfastnn[cuda]' (cupy-cuda12x or cupy-cuda13x)"
        ) from None
    return cupy


class ToDevice(Function):
    def forward(self, a, device):
        self.src = "cpu" if isinstance(a, np.ndarray) else "cuda"
        return _move(a, device)

    def backward(self, g):
        return _move(g, self.src)


def _move(a, device):
    if device == "cpu":
        return a if isinstance(a, np.ndarray) else a.get()
    if device == "cuda":
        return _cupy().asarray(a)
    raise ValueError(f"to: unknown device {device!r}; expected 'cpu' or 'cuda'")


def to_device(t, device):
    device = str(device).split(":")[0]
    if device not in ("cpu", "cuda"):
        raise ValueError(f"to: unknown device {device!r}; expected 'cpu' or 'cuda'")
    return ToDevice.apply(t, device)

"""Moving tensors between devices: "cpu" arrays are numpy, "cuda" arrays CuPy (on the
current GPU). The move is differentiable: the gradient travels back to the source device."""

import numpy as np

from ..autograd.function import Function

DEVICES = ("cpu", "cuda")


class ToDevice(Function):
    def forward(self, a, device):
        self.src = "cpu" if isinstance(a, np.ndarray) else "cuda"
        return move(a, device)

    def backward(self, g):
        return move(g, self.src), None  # (no gradient for the device argument)


def move(a, device):
    """Array a on `device` ('cpu' or 'cuda'): itself when already there, else a copy."""
    if device == "cpu":
        return a if isinstance(a, (np.ndarray, np.generic)) else a.get()
    if device == "cuda":
        from .. import cuda

        return cuda.require().asarray(a)
    raise ValueError(f"to: unknown device {device!r}; expected 'cpu' or 'cuda'")


def device_name(device, op="to"):
    """'cpu' or 'cuda' from a device string ('cuda:0' counts as 'cuda'), or a ValueError."""
    name = str(device).split(":")[0]
    if name not in DEVICES:
        raise ValueError(f"{op}: unknown device {device!r}; expected 'cpu' or 'cuda'")
    return name


def to_device(t, device):
    return ToDevice.apply(t, device_name(device))


def device_of(a):
    """'cpu' for numpy arrays (and Python scalars), 'cuda' for CuPy arrays."""
    return "cuda" if hasattr(a, "__cuda_array_interface__") else "cpu"


def check_same_device(op, arrays):
    """Raise ValueError naming op when the arrays (None and scalars skipped) live on
    different devices."""
    seen = {}
    for name, a in arrays:
        if a is None or not hasattr(a, "shape"):
            continue
        seen.setdefault(device_of(a), name)
    if len(seen) > 1:
        where = ", ".join(f"'{n}' on {d}" for d, n in seen.items())
        raise ValueError(f"{op}: expected all tensors on the same device, got {where}; move them with .to(device) "
                         "(or .cuda() / .cpu()) first")

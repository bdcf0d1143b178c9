"""autograd.grad: gradients of outputs with respect to chosen inputs, without touching .grad."""

import numpy as np

from .engine import run_backward
from .function import _edge


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def grad(outputs, inputs, grad_outputs=None, retain_graph=False, allow_unused=False):
    """d(sum of outputs * grad_outputs) / d(inputs), as a tuple of Tensors (PyTorch's API)."""
    from ..ops.device import device_of, move
    from ..tensor import Tensor

    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = _as_tuple(grad_outputs)
    roots, root_grads = [], []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError("autograd.grad: an output does not require grad and does not have a grad_fn")
        if g is None:
            if out.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = np.ones_like(out.data)
        else:
            g = g.data if isinstance(g, Tensor) else g
            if not hasattr(g, "__cuda_array_interface__"):
                g = np.asarray(g, dtype=out.dtype)
            if device_of(g) != device_of(out.data):  # grad_outputs go where their output is
                g = move(g, device_of(out.data))
        roots.append(_edge(out))
        root_grads.append(g)
    for t in inputs:
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError("autograd.grad: every input must be a Tensor that requires grad")
    capture = {_edge(t): None for t in inputs}
    run_backward(roots, root_grads, retain_graph=retain_graph, capture=capture)
    result = []
    for t in inputs:
        g = capture[_edge(t)]
        if g is None and not allow_unused:
            raise RuntimeError(
                "autograd.grad: one of the inputs was not used to compute the outputs (pass allow_unused=True)"
            )
        if g is not None:
            g = np.array(g, copy=True) if isinstance(g, (np.ndarray, np.generic)) else g.copy()
        result.append(None if g is None else Tensor._wrap(g))
    return tuple(result)

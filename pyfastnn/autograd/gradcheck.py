"""gradcheck: analytical gradients (backward) against central finite differences."""

import numpy as np

from .functional import grad as autograd_grad
from .grad_mode import no_grad


class GradcheckError(RuntimeError):
    pass


def _host(a):
    """a as a numpy array (CuPy arrays are copied back from the GPU)."""
    return a if isinstance(a, np.ndarray) else (a.get() if hasattr(a, "get") else np.asarray(a))


def _flat_outputs(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check fn's gradients with respect to every input Tensor that requires grad.

    fn(*inputs) returns a Tensor or a tuple of Tensors. Inputs that are checked must be
    float64 (float32 finite differences are too coarse to mean anything). Returns True,
    or raises GradcheckError (or returns False with raise_exception=False) naming the
    input, the element and both values.
    """
    from ..tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input Tensor requires grad")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} must be float64 for finite differences, got {inputs[i].dtype}")

    outputs = [o for o in _flat_outputs(fn(*inputs)) if isinstance(o, Tensor) and o.requires_grad]
    out_sizes = [o.data.size for o in outputs]

    # analytical Jacobian, one row per output element: backward with a one-hot grad_output
    analytical = {i: np.zeros((sum(out_sizes), inputs[i].data.size)) for i in checked}
    row = 0
    for k, out in enumerate(outputs):
        for j in range(out_sizes[k]):
            onehot = np.zeros(out.data.size)
            onehot[j] = 1.0
            grad_outputs = [np.zeros(o.shape) for o in outputs]
            grad_outputs[k] = onehot.reshape(out.shape)
            grads = autograd_grad(outputs, [inputs[i] for i in checked], grad_outputs, retain_graph=True,
                                  allow_unused=True)
            for i, g in zip(checked, grads):
                if g is not None:
                    analytical[i][row] = _host(g.data).reshape(-1)
            row += 1

    # numerical Jacobian, one column per input element
    for i in checked:
        x = inputs[i].data
        numerical = np.zeros_like(analytical[i])
        # element by element in C order, in place (any strides: a reshape could be a copy)
        for e, pos in enumerate(np.ndindex(x.shape)):
            orig = x[pos]
            with no_grad():
                x[pos] = orig + eps
                plus = np.concatenate([o.data.reshape(-1) for o in _selected(fn(*inputs), outputs)])
                x[pos] = orig - eps
                minus = np.concatenate([o.data.reshape(-1) for o in _selected(fn(*inputs), outputs)])
            x[pos] = orig
            numerical[:, e] = _host((plus - minus) / (2 * eps))
        bad = ~np.isclose(analytical[i], numerical, rtol=rtol, atol=atol)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            msg = (
                f"gradcheck: Jacobian mismatch for input {i} (shape {x.shape}), output element {r}, input element "
                f"{c}: analytical {analytical[i][r, c]!r}, numerical {numerical[r, c]!r} "
                f"({bad.sum()} of {bad.size} entries differ)"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def _selected(out, reference_outputs):
    """The outputs of a re-run matching the differentiable outputs of the first run."""
    from ..tensor import Tensor

    outs = [o for o in _flat_outputs(out) if isinstance(o, Tensor)]
    if len(outs) != len(reference_outputs):  # under no_grad nothing requires grad: keep float ones
        outs = [o for o in outs if o.data.dtype.kind == "f"]
    return outs[: len(reference_outputs)]

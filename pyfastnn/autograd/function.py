"""Function: one autograd node. `forward` and `backward` work on raw arrays (numpy or
cupy); `apply` wraps them in Tensors and links the graph only when gradients are needed.

Ops are written at layer granularity (a whole linear layer, a whole loss), so the Python
work per node stays small next to the kernel it calls.
"""

import numpy as np

from .grad_mode import _state as _grad_state

Tensor = None  # pyfastnn.tensor sets this once Tensor exists (tensor.py imports this module)


class Function:
    """Subclass and define:

        def forward(self, *arrays, **params) -> array or tuple of arrays
        def backward(self, *grad_outputs) -> one gradient (array or None) per positional input

    Non-tensor positional arguments are passed through unchanged and get None as gradient.
    `self.needs_input_grad[i]` says whether input i wants a gradient; store what backward
    needs as attributes of self (they are dropped once backward has run, unless
    retain_graph). A backward that runs on float outputs may return a gradient that
    aliases its grad_output: the engine copies where sharing would be unsafe.
    """

    # engine bookkeeping (set by apply)
    next = ()  # per positional input: (node, output_index) or None
    n_outputs = 1
    _freed = False
    # when True, backward is called with None for outputs that received no gradient
    # instead of zeros
    allow_none_grads = False
    # {output_index: weakref to a non-leaf Tensor} whose .grad is kept (Tensor.retain_grad)
    _retained = None
    # dtype of the single output (set by apply): the engine hands backward gradients of it
    out_dtype = None

    def forward(self, *args, **kwargs):
        raise NotImplementedError

    def backward(self, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        requires = False
        if _grad_state.enabled:
            for a in args:
                if isinstance(a, Tensor) and a.requires_grad:
                    requires = True
                    break
        ctx = cls()
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        if requires:
            ctx.needs_input_grad = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
        else:
            ctx.needs_input_grad = (False,) * len(args)
        try:
            out = ctx.forward(*arrays, **kwargs)
        except (TypeError, ValueError):
            _check_devices(cls, arrays)  # a numpy/CuPy mix fails somewhere inside: say so
            raise
        wrap = Tensor._wrap
        if type(out) is tuple:
            out = tuple([np.asarray(o) if isinstance(o, np.generic) else o for o in out])
        elif isinstance(out, np.generic):  # numpy reductions and 0-d math return scalars
            out = np.asarray(out)

        if not requires:
            if type(out) is tuple:
                return tuple([wrap(o) for o in out])
            return wrap(out)

        ctx.next = tuple([_edge(a) if isinstance(a, Tensor) and a.requires_grad else None for a in args])
        if type(out) is tuple:
            ctx.n_outputs = len(out)
            ctx.output_meta = tuple([(o.shape, o.dtype) for o in out])
            return tuple([wrap(o, ctx, i, _is_float(o)) for i, o in enumerate(out)])
        ctx.out_dtype = out.dtype
        return wrap(out, ctx, 0, out.dtype.kind in "fc")

    def _release(self):
        """Drop what forward saved; keep only the edges needed to report a second use."""
        keep = {"next": self.next, "n_outputs": self.n_outputs, "_freed": True}
        self.__dict__.clear()
        self.__dict__.update(keep)

    def name(self):
        return type(self).__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"


def _check_devices(cls, arrays):
    from ..ops.device import check_same_device

    op = cls.__name__[:-8] if cls.__name__.endswith("Function") else cls.__name__
    check_same_device(op, [(f"input {i}", a) for i, a in enumerate(arrays)])


def _is_float(a):
    return a.dtype.kind in "fc"


class AccumulateGrad:
    """The node at a leaf tensor: adds the incoming gradient to `tensor.grad`."""

    __slots__ = ("variable", "__weakref__")
    next = ()
    n_outputs = 1
    _retained = None

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad>"


def _edge(t):
    """The graph edge a gradient for tensor t travels along."""
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    acc = t._accumulator
    if acc is None:
        acc = t._accumulator = AccumulateGrad(t)
    return (acc, 0)

"""Tensor: an n-dimensional array (numpy on the CPU, CuPy on the GPU) with reverse-mode
autograd. Operations build the graph through the Functions in pyfastnn.ops."""

import weakref

import numpy as np

from .autograd.engine import _accumulate, run_backward
from .autograd.grad_mode import is_grad_enabled


def _device_of(data):
    return "cpu" if isinstance(data, np.ndarray) else "cuda"


class Tensor:
    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "_output_nr", "_accumulator", "_retains_grad",
                 "__weakref__")
    __array_priority__ = 1000  # numpy defers to our operators: ndarray + Tensor -> Tensor

    def __init__(self, data, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.data
        elif not isinstance(data, np.ndarray) and not hasattr(data, "__cuda_array_interface__"):
            data = np.asarray(data, dtype=np.float32)
        self.data = data
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._accumulator = None
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data, grad_fn=None, output_nr=0, requires_grad=False):
        """Fast constructor for ops: no checks, no conversion."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.grad_fn = grad_fn if requires_grad else None
        t._output_nr = output_nr
        t._accumulator = None
        t._retains_grad = False
        t.requires_grad = requires_grad
        return t

    # ---- properties ----
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return _device_of(self.data)

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def T(self):
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self):
        return self.data.ndim

    def numel(self):
        return int(self.data.size)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # ---- autograd ----
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, got {self.data.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Keep .grad on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            self._retains_grad = True
            # the engine stores the gradient reaching this output of grad_fn on this tensor
            node = self.grad_fn
            if node._retained is None:
                node._retained = {}
            node._retained[self._output_nr] = weakref.ref(self)

    def backward(self, gradient=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's .grad (scalar self, or with `gradient`)."""
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs (this tensor has shape {self.shape}); "
                    "pass the gradient explicitly: t.backward(gradient)"
                )
            g = np.ones_like(self.data)
        else:
            if isinstance(gradient, Tensor):
                g = gradient.data
            elif hasattr(gradient, "__cuda_array_interface__"):
                g = gradient
            else:
                g = np.asarray(gradient, dtype=self.dtype)
            if g.shape != self.shape:
                raise RuntimeError(f"backward: gradient has shape {g.shape}, the tensor has shape {self.shape}")
        if self.grad_fn is None:
            _accumulate(self, g.astype(self.dtype, copy=True))
            return
        run_backward([(self.grad_fn, self._output_nr)], [g], retain_graph=retain_graph,
                     grads_are_ours=gradient is None)

    def detach(self):
        """The same data (shared), cut from the graph."""
        return Tensor._wrap(self.data)

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    # ---- conversion ----
    def numpy(self):
        """The underlying array (shared memory; CPU tensors only)."""
        if self.device != "cpu":
            raise TypeError("can't convert a cuda tensor to numpy: use .cpu() first")
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars, got shape {self.shape}")
        return self.data.reshape(-1)[0].item()

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of a tensor with {self.data.size} values is ambiguous")
        return bool(self.data.reshape(-1)[0])

    def __index__(self):
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def to(self, *args, dtype=None, device=None, copy=False):
        """to(dtype), to(device), to(device, dtype) or keyword forms."""
        for a in args:
            if isinstance(a, str):
                device = a
            else:
                dtype = a
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            from .ops.elementwise import Cast

            out = Cast.apply(out, dtype=np.dtype(dtype))
        if device is not None and device != out.device:
            from .ops.device import to_device

            out = to_device(out, device)
        if copy and out is self:
            out = self.clone()
        return out

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    def type_as(self, other):
        return self.to(other.dtype)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def clone(self):
        from .ops.elementwise import Clone

        return Clone.apply(self)

    def contiguous(self):
        if self.data.flags.c_contiguous:
            return self
        return self.clone()

    def is_contiguous(self):
        return bool(self.data.flags.c_contiguous)

    # ---- in-place data updates (outside the graph) ----
    def _check_inplace(self, what):
        if self.requires_grad and is_grad_enabled():
            kind = "a leaf Variable that requires grad" if self.grad_fn is None else "a tensor in the autograd graph"
            raise RuntimeError(f"{what}: {kind} is being used in an in-place operation; wrap it in pf.no_grad()")

    @staticmethod
    def _check_source(what, value):
        """Copying a tensor that requires grad into another is not recorded (PyTorch records
        it): refuse rather than silently lose the gradient."""
        if isinstance(value, Tensor) and value.requires_grad and is_grad_enabled():
            raise RuntimeError(
                f"{what}: the value requires grad, and copying it into another tensor is not recorded by autograd "
                "(its gradient would be lost); build the result with pf.stack / pf.cat / pf.where instead, or "
                "copy value.detach()"
            )

    def _inplace(self, what, values):
        self._check_inplace(what)
        if type(values) is not type(self.data) and hasattr(values, "shape"):
            from .ops.device import device_of, move

            if device_of(values) != device_of(self.data):  # e.g. normal_() draws on the host
                values = move(values, device_of(self.data))
        self.data[...] = values
        return self

    def zero_(self):
        return self._inplace("zero_", 0)

    def fill_(self, value):
        return self._inplace("fill_", value)

    def copy_(self, src):
        self._check_source("copy_", src)
        return self._inplace("copy_", src.data if isinstance(src, Tensor) else src)

    def normal_(self, mean=0.0, std=1.0):
        from .random import generator

        return self._inplace("normal_", generator().normal(mean, std, size=self.shape))

    def uniform_(self, a=0.0, b=1.0):
        from .random import generator

        return self._inplace("uniform_", generator().uniform(a, b, size=self.shape))

    def add_(self, other, alpha=1):
        self._check_inplace("add_")
        self.data += alpha * (other.data if isinstance(other, Tensor) else other)
        return self

    def sub_(self, other, alpha=1):
        return self.add_(other, -alpha)

    def mul_(self, other):
        self._check_inplace("mul_")
        self.data *= other.data if isinstance(other, Tensor) else other
        return self

    def div_(self, other):
        self._check_inplace("div_")
        self.data /= other.data if isinstance(other, Tensor) else other
        return self

    def clamp_(self, min=None, max=None):
        self._check_inplace("clamp_")
        np.clip(self.data, min, max, out=self.data)
        return self

    def __setitem__(self, index, value):
        self._check_inplace("__setitem__")
        self._check_source("__setitem__", value)
        self.data[_unwrap_index(index)] = value.data if isinstance(value, Tensor) else value

    # in-place operators: in place when nothing is recorded, else a new tensor (rebinding)
    def _iop(self, op, other):
        if is_grad_enabled() and (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
            if self.requires_grad and self.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation; "
                                   "wrap it in pf.no_grad()")
            return op(self, other)  # recorded: a new tensor (acc += x keeps x's gradient)
        result = op(Tensor._wrap(self.data), other)
        self.data[...] = result.data
        return self

    def __iadd__(self, o):
        return self._iop(Tensor.__add__, o)

    def __isub__(self, o):
        return self._iop(Tensor.__sub__, o)

    def __imul__(self, o):
        return self._iop(Tensor.__mul__, o)

    def __itruediv__(self, o):
        return self._iop(Tensor.__truediv__, o)

    # ---- representation ----
    def __repr__(self):
        body = _format_array(self.data if self.device == "cpu" else self.data.get())
        extras = []
        dt = self.data.dtype
        if not (dt == np.float32 or dt == np.bool_ or (dt == np.int64 and self.data.size)):
            extras.append(f"dtype={dt}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __hash__ = object.__hash__


def _format_array(a):
    """numpy's layout with PyTorch's number format: floats with 4 fixed decimals (1.5000),
    or as "1." when every value is integral, scientific when the magnitudes call for it."""
    kwargs = {}
    if a.dtype.kind == "f" and a.size:
        finite = a[np.isfinite(a)]
        integral = bool(np.all(finite == np.round(finite)))
        nonzero = np.abs(finite[finite != 0])
        if nonzero.size:
            hi, lo = float(nonzero.max()), float(nonzero.min())
            sci = hi >= 1e8 or hi / lo > 1000 or lo < 1e-4
        else:
            sci = False
        if not integral or sci:
            kwargs = dict(precision=4, floatmode="fixed")
    return np.array2string(a, separator=", ", prefix="tensor(", **kwargs)


def _unwrap_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


from .autograd import function as _function  # noqa: E402

_function.Tensor = Tensor  # Function.apply wraps its outputs in this class
from . import _tensor_methods  # noqa: E402,F401  (attaches the operators and math methods)

"""Tensor math as functions (pf.exp(t), pf.cat(...)) and as Tensor methods/operators."""

import builtins

import numpy as np

from .ops import elementwise as E
from .ops import reduce as R
from .ops import shape as S
from .ops._util import norm_dim
from .ops.matmul import MatMul
from .tensor import Tensor, _unwrap_index


def _operand(x):
    """Tensors and numbers pass through; anything array-like becomes a constant array.
    NumPy scalars count as Python numbers (as in PyTorch: x * np.float64(2) stays float32)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.generic):  # before float: np.float64 is a float subclass
        return x.item()
    if isinstance(x, (int, float, bool, np.ndarray)):
        return x
    if hasattr(x, "__cuda_array_interface__"):
        return x
    return np.asarray(x)


def _array(x, dtype=None):
    """x as an array on its own device: numpy scalars become 0-d numpy arrays, CuPy arrays
    stay CuPy arrays (np.asarray would refuse them)."""
    if hasattr(x, "__cuda_array_interface__"):
        return x if dtype is None else x.astype(dtype, copy=False)
    return np.asarray(x, dtype=dtype)


def _need_tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: argument must be a Tensor, got {type(x).__name__}")
    return x


# ---- arithmetic ----
def add(a, b, alpha=1):
    return E.Add.apply(_operand(a), _operand(b) if alpha == 1 else mul(b, alpha))


def sub(a, b, alpha=1):
    return E.Sub.apply(_operand(a), _operand(b) if alpha == 1 else mul(b, alpha))


def mul(a, b):
    return E.Mul.apply(_operand(a), _operand(b))


def div(a, b):
    return E.Div.apply(_operand(a), _operand(b))


def neg(a):
    return E.Neg.apply(a)


def pow(a, exponent):
    return E.Pow.apply(_operand(a), _operand(exponent))


def exp(a):
    return E.Exp.apply(_need_tensor(a, "exp"))


def log(a):
    return E.Log.apply(_need_tensor(a, "log"))


def sqrt(a):
    return E.Sqrt.apply(_need_tensor(a, "sqrt"))


def abs(a):
    return E.Abs.apply(_need_tensor(a, "abs"))


def clamp(a, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' and 'max' must be given")
    return E.Clamp.apply(_need_tensor(a, "clamp"), lo=min, hi=max)


clip = clamp


def maximum(a, b):
    return E.Maximum.apply(_operand(a), _operand(b), take_max=True)


def minimum(a, b):
    return E.Maximum.apply(_operand(a), _operand(b), take_max=False)


def where(condition, a, b):
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    return E.Where.apply(cond.astype(bool, copy=False), _operand(a), _operand(b))


def sign(a):
    return Tensor._wrap(np.sign(a.data))


def floor(a):
    return Tensor._wrap(np.floor(a.data))


def ceil(a):
    return Tensor._wrap(np.ceil(a.data))


def round(a, decimals=0):
    return Tensor._wrap(np.round(a.data, decimals))


def matmul(a, b, out=None):
    """Matrix product (numpy.matmul semantics) on our GEMM, of Tensors (with autograd) or
    of numpy arrays (returning an array, optionally into `out`)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        if out is not None:
            raise TypeError("matmul: 'out' is supported for numpy arrays only")
        return MatMul.apply(_operand(a), _operand(b))
    from .linalg import matmul as array_matmul

    return array_matmul(a, b, out)


# ---- reductions ----
def sum(a, dim=None, keepdim=False):
    return R.Sum.apply(_need_tensor(a, "sum"), dim=dim, keepdim=keepdim)


def mean(a, dim=None, keepdim=False):
    if a.dtype.kind not in "fc":
        raise RuntimeError(f"mean: input dtype should be a floating point dtype, got {a.dtype}")
    return R.Mean.apply(_need_tensor(a, "mean"), dim=dim, keepdim=keepdim)


def var(a, dim=None, unbiased=None, keepdim=False, correction=None):
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return R.Var.apply(_need_tensor(a, "var"), dim=dim, correction=correction, keepdim=keepdim)


def std(a, dim=None, unbiased=None, keepdim=False, correction=None):
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return R.Std.apply(_need_tensor(a, "std"), dim=dim, correction=correction, keepdim=keepdim)


def max(a, dim=None, keepdim=False):
    if isinstance(dim, Tensor):  # torch.max(a, b): elementwise
        return maximum(a, dim)
    if dim is None:
        return R.MaxMinAll.apply(a, take_max=True)
    return R.ValuesIndices(*R.MaxMin.apply(a, dim=dim, keepdim=keepdim, take_max=True))


def min(a, dim=None, keepdim=False):
    if isinstance(dim, Tensor):
        return minimum(a, dim)
    if dim is None:
        return R.MaxMinAll.apply(a, take_max=False)
    return R.ValuesIndices(*R.MaxMin.apply(a, dim=dim, keepdim=keepdim, take_max=False))


def argmax(a, dim=None, keepdim=False):
    d = a.data
    if dim is None:
        return Tensor._wrap(_array(d.argmax(), np.int64))
    out = d.argmax(axis=norm_dim(dim, d.ndim, "argmax"))
    return Tensor._wrap((np.expand_dims(out, dim) if keepdim else out).astype(np.int64))


def argmin(a, dim=None, keepdim=False):
    d = a.data
    if dim is None:
        return Tensor._wrap(_array(d.argmin(), np.int64))
    out = d.argmin(axis=norm_dim(dim, d.ndim, "argmin"))
    return Tensor._wrap((np.expand_dims(out, dim) if keepdim else out).astype(np.int64))


def norm(a, p=2, dim=None, keepdim=False):
    if p == 2:
        return sqrt(sum(a * a, dim, keepdim))
    if p == 1:
        return sum(abs(a), dim, keepdim)
    return pow(sum(pow(abs(a), p), dim, keepdim), 1.0 / p)


def all(a, dim=None):
    return Tensor._wrap(_array(a.data.all(axis=dim)))


def any(a, dim=None):
    return Tensor._wrap(_array(a.data.any(axis=dim)))


# ---- shapes ----
def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def reshape(a, *shape):
    shape = _shape_arg(shape)
    try:
        np.empty(a.shape, dtype=[]).reshape(shape)  # validates without touching data
    except ValueError:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {a.numel()}") from None
    return S.Reshape.apply(a, shape=shape)


def view(a, *shape):
    return reshape(a, *shape)


def flatten(a, start_dim=0, end_dim=-1):
    if a.ndim == 0:
        return reshape(a, 1)
    s = norm_dim(start_dim, a.ndim, "flatten")
    e = norm_dim(end_dim, a.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = a.shape[:s] + (int(np.prod(a.shape[s : e + 1])),) + a.shape[e + 1 :]
    return S.Reshape.apply(a, shape=shape)


def permute(a, *dims):
    dims = _shape_arg(dims)
    if len(dims) != a.ndim:
        raise RuntimeError(f"permute: number of dims ({len(dims)}) doesn't match the tensor's ({a.ndim})")
    dims = tuple(norm_dim(d, a.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(a.ndim)):
        raise RuntimeError(f"permute: repeated dim in {dims}")
    return S.Permute.apply(a, dims=dims)


def transpose(a, dim0, dim1):
    if a.ndim < 2 and a.ndim == 0:
        return a
    d0, d1 = norm_dim(dim0, a.ndim, "transpose"), norm_dim(dim1, a.ndim, "transpose")
    dims = list(range(a.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return S.Permute.apply(a, dims=tuple(dims))


def squeeze(a, dim=None):
    return S.Reshape.apply(a, shape=S.squeeze_shape(a.shape, dim))


def unsqueeze(a, dim):
    return S.Reshape.apply(a, shape=S.unsqueeze_shape(a.shape, dim))


def expand(a, *sizes):
    sizes = _shape_arg(sizes)
    lead = len(sizes) - a.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least the tensor's number of "
                           f"dimensions ({a.ndim})")
    if -1 in sizes[:lead]:
        raise RuntimeError(f"expand: the expanded size -1 isn't allowed in a leading, non-existing dimension "
                           f"{sizes.index(-1)}")
    shape = tuple(a.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return S.Expand.apply(a, shape=shape)


def cat(tensors, dim=0):
    tensors = [t if isinstance(t, Tensor) else Tensor._wrap(np.asarray(t)) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of Tensors")
    d = norm_dim(dim, tensors[0].ndim, "cat")
    return S.Cat.apply(*tensors, dim=d)


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = [t if isinstance(t, Tensor) else Tensor._wrap(np.asarray(t)) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty list of Tensors")
    d = norm_dim(dim, tensors[0].ndim + 1, "stack")
    return S.Stack.apply(*tensors, dim=d)


def masked_fill(a, mask, value):
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    return where(m, value, a)


def _getitem(a, index):
    index = _unwrap_index(index)
    if isinstance(index, list):
        index = np.asarray(index)
    return S.Index.apply(a, index=index)


# ---- comparisons (no gradient) ----
def _cmp(op):
    def f(a, b):
        b = b.data if isinstance(b, Tensor) else b
        return Tensor._wrap(_array(op(a.data, b)))

    return f


eq, ne, lt, le, gt, ge = (_cmp(o) for o in (np.equal, np.not_equal, np.less, np.less_equal, np.greater,
                                            np.greater_equal))


def _activation(name):
    def f(a, *args, **kwargs):
        from .nn import functional as F

        return getattr(F, name)(a, *args, **kwargs)

    f.__name__ = name
    return f


sigmoid, tanh, relu, softmax, log_softmax = (_activation(n) for n in ("sigmoid", "tanh", "relu", "softmax",
                                                                       "log_softmax"))

# ---- attach as methods and operators ----
_METHODS = dict(
    add=add, sub=sub, mul=mul, div=div, neg=neg, pow=pow, exp=exp, log=log, sqrt=sqrt, abs=abs, clamp=clamp,
    clip=clamp, maximum=maximum, minimum=minimum, sign=sign, floor=floor, ceil=ceil, round=round, matmul=matmul,
    mm=matmul, sum=sum, mean=mean, var=var, std=std, max=max, min=min, argmax=argmax, argmin=argmin, norm=norm,
    all=all, any=any, reshape=reshape, view=view, flatten=flatten, permute=permute, transpose=transpose,
    squeeze=squeeze, unsqueeze=unsqueeze, expand=expand, masked_fill=masked_fill, eq=eq, ne=ne, lt=lt, le=le,
    gt=gt, ge=ge, sigmoid=sigmoid, tanh=tanh, relu=relu, softmax=softmax, log_softmax=log_softmax,
)
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

Tensor.expand_as = lambda self, other: expand(self, *other.shape)
Tensor.view_as = lambda self, other: reshape(self, *other.shape)
Tensor.reshape_as = Tensor.view_as
Tensor.__add__ = add
Tensor.__radd__ = lambda self, o: add(o, self)
Tensor.__sub__ = sub
Tensor.__rsub__ = lambda self, o: sub(o, self)
Tensor.__mul__ = mul
Tensor.__rmul__ = lambda self, o: mul(o, self)
Tensor.__truediv__ = div
Tensor.__rtruediv__ = lambda self, o: div(o, self)
Tensor.__pow__ = pow
Tensor.__rpow__ = lambda self, o: pow(o, self)
Tensor.__neg__ = neg
Tensor.__abs__ = abs
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, o: matmul(o, self)
Tensor.__getitem__ = _getitem
Tensor.__eq__ = eq
Tensor.__ne__ = ne
Tensor.__lt__ = lt
Tensor.__le__ = le
Tensor.__gt__ = gt
Tensor.__ge__ = ge

__all__ = [n for n in _METHODS if n not in ("mm",)] + ["where", "cat", "concat", "concatenate", "stack", "clip"]
_ = builtins  # builtins shadowed above (sum, max, min, abs, pow, round, all, any): use builtins.* here

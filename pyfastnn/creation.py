"""Tensor factories: pf.tensor, zeros, ones, full, empty, rand, randn, randint, arange, ..."""

import numpy as np

from .random import generator
from .tensor import Tensor

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
long = int64
double = float64
# the name `float` would shadow the builtin inside this module: exported by __init__
DTYPES = dict(float32=float32, float=float32, float64=float64, double=float64, float16=float16, half=float16,
              int64=int64, long=int64, int32=int32, int=int32, uint8=uint8, bool=bool_)

_default_dtype = float32


def set_default_dtype(dtype):
    """Dtype of floating-point tensors created without one (float32 unless changed)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point dtypes are allowed, got {dtype}")
    _default_dtype = dtype


def get_default_dtype():
    return _default_dtype


def _dtype(dtype):
    return _default_dtype if dtype is None else np.dtype(dtype)


def _finish(data, requires_grad, device):
    t = Tensor._wrap(data)
    if device not in (None, "cpu"):
        t = t.to(device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"size must be a sequence of non-negative ints, got {size}")
    return tuple(int(s) for s in size)


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor holding a copy of data (nested lists, numbers, arrays or a Tensor).

    Without dtype: Python floats become float32 (the default dtype), ints int64, bools
    bool; numpy arrays keep their dtype, as torch.tensor does.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        arr = np.array(data, dtype=np.dtype(dtype))
    elif isinstance(data, (np.ndarray, np.generic)):  # numpy arrays and scalars keep their dtype
        arr = np.array(data)
    else:
        arr = np.array(data)
        if arr.dtype.kind == "f":
            arr = arr.astype(_default_dtype)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        elif arr.dtype.kind not in "b":
            raise TypeError(f"tensor: could not infer a numeric dtype from {type(data).__name__} (got {arr.dtype})")
    return _finish(arr, requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """Like tensor() but shares memory with a numpy array when no conversion is needed."""
    if isinstance(data, Tensor):
        return data.to(dtype) if dtype is not None else data
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return _finish(data, False, device)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A tensor sharing memory with the numpy array."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _finish(np.zeros(_size(size), _dtype(dtype)), requires_grad, device)


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _finish(np.ones(_size(size), _dtype(dtype)), requires_grad, device)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    if dtype is None and isinstance(fill_value, (bool, int, np.integer)):
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64
    return _finish(np.full(_size((size,)), fill_value, _dtype(dtype)), requires_grad, device)


def empty(*size, dtype=None, requires_grad=False, device=None):
    return _finish(np.empty(_size(size), _dtype(dtype)), requires_grad, device)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    return _finish(np.eye(n, m, dtype=_dtype(dtype)), requires_grad, device)


def rand(*size, dtype=None, requires_grad=False, device=None):
    """Uniform on [0, 1) from the global generator (pf.manual_seed)."""
    return _finish(generator().random(_size(size), dtype=np.float64).astype(_dtype(dtype)), requires_grad, device)


def randn(*size, dtype=None, requires_grad=False, device=None):
    """Standard normal from the global generator (pf.manual_seed)."""
    return _finish(generator().standard_normal(_size(size)).astype(_dtype(dtype)), requires_grad, device)


def randint(low, high=None, size=(), dtype=None, device=None):
    if high is None:
        low, high = 0, low
    return _finish(generator().integers(low, high, size=_size((size,))).astype(dtype or np.int64), False, device)


def randperm(n, device=None):
    return _finish(generator().permutation(n).astype(np.int64), False, device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else _default_dtype
    return _finish(np.arange(start, end, step, dtype=np.dtype(dtype)), requires_grad, device)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    return _finish(np.linspace(start, end, steps, dtype=_dtype(dtype)), requires_grad, device)


def _like(fill, t, dtype, requires_grad):
    return _finish(fill(t.shape, dtype or t.dtype), requires_grad, t.device)


def zeros_like(t, dtype=None, requires_grad=False):
    return _like(np.zeros, t, dtype, requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return _like(np.ones, t, dtype, requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    return _like(lambda s, d: np.full(s, fill_value, d), t, dtype, requires_grad)


def empty_like(t, dtype=None, requires_grad=False):
    return _like(np.empty, t, dtype, requires_grad)


def rand_like(t, dtype=None, requires_grad=False):
    return rand(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def randn_like(t, dtype=None, requires_grad=False):
    return randn(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)

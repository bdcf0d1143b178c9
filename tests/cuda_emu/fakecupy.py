"""A NumPy-backed stand-in for CuPy, for running the CUDA tests on the CPU emulator.

`ndarray` wraps a numpy array (its memory is what the emulated kernels read and write
through `a.data.ptr`) and behaves like CuPy where pyfastnn relies on it: NumPy's functions
and ufuncs dispatch to it, mixing it with real numpy arrays raises TypeError (as CuPy does),
and implicit conversion to numpy (np.asarray(a)) is refused. The default memory pool counts
the bytes of live arrays, so memory-growth tests mean something here too. Tests only.
"""

import weakref

import numpy as _np

__version__ = "0.0-emulator"

_live = weakref.WeakValueDictionary()  # id -> live array


def _root(a):
    while isinstance(a.base, _np.ndarray):
        a = a.base
    return a


class _Pointer:
    __slots__ = ("ptr",)

    def __init__(self, ptr):
        self.ptr = ptr


class _Flags:
    """CuPy's flags: no 'writeable' (code that reads it would fail on the GPU)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, f):
        self.c_contiguous, self.f_contiguous, self.owndata = f.c_contiguous, f.f_contiguous, f.owndata

    def __getitem__(self, key):
        return getattr(self, {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
                              "OWNDATA": "owndata"}[key])


class ndarray:
    __slots__ = ("_a", "__weakref__")
    __array_priority__ = 2000

    def __init__(self, a):
        if not isinstance(a, _np.ndarray) or isinstance(a, ndarray):
            raise TypeError("fakecupy.ndarray wraps a numpy array")
        self._a = a
        _live[id(self)] = self

    # ---- what CuPy has ----
    @property
    def data(self):
        return _Pointer(self._a.ctypes.data)

    @property
    def __cuda_array_interface__(self):
        return {"shape": self._a.shape, "typestr": self._a.dtype.str, "data": (self._a.ctypes.data, False),
                "version": 3, "strides": self._a.strides}

    def get(self, stream=None):
        return self._a.copy()

    @property
    def device(self):
        return _Device(0)

    # ---- numpy's attributes ----
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: _Flags(self._a.flags))
    base = property(lambda self: self._a.base)
    T = property(lambda self: _wrap(self._a.T))

    def __getattr__(self, name):  # methods: reshape, astype, sum, copy, ...
        attr = getattr(self._a, name)
        if callable(attr):
            def method(*args, **kwargs):
                return _wrap(attr(*_unwrap(args), **_unwrap(kwargs)))

            return method
        return _wrap(attr)

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy "
                        "array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _wrap(getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs)))

    def __array_function__(self, func, types, args, kwargs):
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    def __getitem__(self, index):
        return _wrap(self._a[_unwrap(index, index=True)])

    def __setitem__(self, index, value):
        self._a[_unwrap(index, index=True)] = _unwrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(x) for x in self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return self._a.__index__()

    def __bool__(self):
        return bool(self._a)

    def __repr__(self):
        return "fakecupy." + repr(self._a)

    def __neg__(self):
        return _wrap(-self._a)

    def __pos__(self):
        return _wrap(+self._a)

    def __abs__(self):
        return _wrap(abs(self._a))

    def __invert__(self):
        return _wrap(~self._a)

    __hash__ = None


def _binary(name):
    def op(self, other):
        return _wrap(getattr(self._a, name)(_unwrap(other)))

    op.__name__ = name
    return op


def _inplace(name):
    def op(self, other):
        getattr(self._a, name)(_unwrap(other))
        return self

    op.__name__ = name
    return op


for _n in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift", "rshift"):
    setattr(ndarray, f"__{_n}__", _binary(f"__{_n}__"))
    setattr(ndarray, f"__r{_n}__", _binary(f"__r{_n}__"))
    setattr(ndarray, f"__i{_n}__", _inplace(f"__i{_n}__"))
for _n in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(ndarray, f"__{_n}__", _binary(f"__{_n}__"))


def _wrap(x):
    if isinstance(x, _np.ndarray) and not isinstance(x, ndarray):
        return ndarray(x)
    if isinstance(x, _np.generic):  # CuPy reductions return 0-d arrays, not scalars
        return ndarray(_np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _unwrap(x, index=False):
    """Fake arrays to numpy; real numpy arrays are refused as CuPy refuses them (except
    as indices, which CuPy accepts)."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, _np.ndarray):
        if index or x.ndim == 0:
            return x
        raise TypeError(f"Unsupported type {type(x)} (a numpy array mixed with CuPy arrays)")
    if isinstance(x, tuple):
        return tuple(_unwrap(v, index) for v in x)
    if isinstance(x, list):
        return [_unwrap(v, index) for v in x]
    if isinstance(x, dict):
        return {k: _unwrap(v, index) for k, v in x.items()}
    return x


# ---- module functions ----
def asarray(a, dtype=None, order=None):
    """Host data (numpy, lists, numbers) is copied to the 'device'; device arrays pass."""
    if isinstance(a, ndarray):
        return a if dtype is None or _np.dtype(dtype) == a.dtype else a.astype(dtype)
    return ndarray(_np.array(a, dtype=dtype, order=order or "K", copy=True))


array = asarray


def ascontiguousarray(a, dtype=None):
    if not isinstance(a, ndarray):
        raise TypeError(f"Unsupported type {type(a)}")
    return _wrap(_np.ascontiguousarray(a._a, dtype=dtype))


def asnumpy(a, stream=None):
    return a.get() if isinstance(a, ndarray) else _np.asarray(a)


def __getattr__(name):
    attr = getattr(_np, name)
    if callable(attr) and not isinstance(attr, type):
        def fn(*args, **kwargs):
            return _wrap(attr(*_unwrap(args), **_unwrap(kwargs)))

        fn.__name__ = name
        return fn
    return attr


class _MemoryPool:
    def used_bytes(self):
        """Bytes of the numpy buffers behind live arrays (each buffer once)."""
        seen = {}
        for a in list(_live.values()):
            r = _root(a._a)
            seen[id(r)] = r.nbytes
        return sum(seen.values())

    def free_all_blocks(self):
        pass


_pool = _MemoryPool()


def get_default_memory_pool():
    return _pool


class _Stream:
    ptr = 0

    def synchronize(self):
        pass


class _Device:
    def __init__(self, i=0):
        self.id = i

    def synchronize(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class cuda:  # noqa: N801  (the cupy.cuda namespace)
    Device = _Device

    @staticmethod
    def get_current_stream():
        return _Stream()

    class runtime:  # noqa: N801
        @staticmethod
        def getDeviceCount():
            return 1

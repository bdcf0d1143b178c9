"""Broadcasting elementwise math (numpy/cupy directly: these are memory-bound one-liners)."""

import numpy as np

from ..autograd.function import Function
from ._util import shape_of, unbroadcast


def _xp(a):
    return np if isinstance(a, np.ndarray) or np.isscalar(a) else __import__("cupy")


_F64 = np.dtype(np.float64)


def _torch_dtype(out, a, b):
    """NumPy turns integer-with-float mixes into float64 (int64 + float32, int / int,
    int + 1.5); PyTorch keeps the floating operand's dtype, or the default dtype (float32)
    when the float is a Python number or the operands are integers. Applies PyTorch's rule."""
    if getattr(out, "dtype", None) is not _F64:  # the common case, kept cheap
        return out
    dtypes = [d for d in (getattr(a, "dtype", None), getattr(b, "dtype", None)) if d is not None]
    if _F64 in dtypes:
        return out
    floats = [d for d in dtypes if d.kind == "f"]
    if floats:
        target = floats[0] if len(floats) == 1 or floats[0].itemsize >= floats[1].itemsize else floats[1]
    else:
        from ..creation import get_default_dtype

        target = get_default_dtype()
    return out if target == _F64 else out.astype(target)


class Add(Function):
    def forward(self, a, b):
        self.shapes = shape_of(a), shape_of(b)
        return _torch_dtype(a + b, a, b)

    def backward(self, g):
        na, nb = self.needs_input_grad
        return (unbroadcast(g, self.shapes[0]) if na else None, unbroadcast(g, self.shapes[1]) if nb else None)


class Sub(Function):
    def forward(self, a, b):
        self.shapes = shape_of(a), shape_of(b)
        return _torch_dtype(a - b, a, b)

    def backward(self, g):
        na, nb = self.needs_input_grad
        return (unbroadcast(g, self.shapes[0]) if na else None, unbroadcast(-g, self.shapes[1]) if nb else None)


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return _torch_dtype(a * b, a, b)

    def backward(self, g):
        na, nb = self.needs_input_grad
        a, b = self.a, self.b
        return (unbroadcast(g * b, shape_of(a)) if na else None, unbroadcast(g * a, shape_of(b)) if nb else None)


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return _torch_dtype(a / b, a, b)

    def backward(self, g):
        na, nb = self.needs_input_grad
        a, b = self.a, self.b
        ga = unbroadcast(g / b, shape_of(a)) if na else None
        gb = unbroadcast(-g * a / (b * b), shape_of(b)) if nb else None
        return ga, gb


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Pow(Function):
    """a ** b for tensor/scalar combinations."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = _torch_dtype(a**b, a, b)
        return self.out

    def backward(self, g):
        na, nb = self.needs_input_grad
        a, b = self.a, self.b
        ga = gb = None
        if na:
            ga = unbroadcast(g * b * a ** (b - 1), shape_of(a))
        if nb:
            xp = _xp(self.out)
            with np.errstate(divide="ignore", invalid="ignore"):
                logs = xp.where(a > 0, xp.log(xp.where(a > 0, a, 1)), 0)
            gb = unbroadcast(g * self.out * logs, shape_of(b))
        return ga, gb


class Exp(Function):
    def forward(self, a):
        self.out = _xp(a).exp(a)
        return self.out

    def backward(self, g):
        return g * self.out


class Log(Function):
    def forward(self, a):
        self.a = a
        return _xp(a).log(a)

    def backward(self, g):
        return g / self.a


class Sqrt(Function):
    def forward(self, a):
        self.out = _xp(a).sqrt(a)
        return self.out

    def backward(self, g):
        return g / (2 * self.out)


class Abs(Function):
    def forward(self, a):
        self.a = a
        return abs(a)

    def backward(self, g):
        return g * _xp(self.a).sign(self.a)


class Clamp(Function):
    """clamp(a, min, max); the gradient flows where a is inside [min, max]."""

    def forward(self, a, lo=None, hi=None):
        xp = _xp(a)
        lo_a = lo.data if hasattr(lo, "data") and not isinstance(lo, np.ndarray) else lo
        hi_a = hi.data if hasattr(hi, "data") and not isinstance(hi, np.ndarray) else hi
        self.mask = xp.ones(a.shape, bool)
        if lo_a is not None:
            self.mask &= a >= lo_a
        if hi_a is not None:
            self.mask &= a <= hi_a
        return xp.clip(a, lo_a, hi_a)

    def backward(self, g):
        return g * self.mask


class Maximum(Function):
    """Elementwise max; on ties the gradient is split equally (as PyTorch)."""

    def forward(self, a, b, take_max=True):
        self.a, self.b, self.take_max = a, b, take_max
        xp = _xp(a)
        return _torch_dtype(xp.maximum(a, b) if take_max else xp.minimum(a, b), a, b)

    def backward(self, g):
        a, b = self.a, self.b
        wins_a = (a > b) if self.take_max else (a < b)
        tie = a == b
        wa = wins_a + tie * g.dtype.type(0.5)  # in g's dtype, not float64
        na, nb = self.needs_input_grad
        return (unbroadcast(g * wa, shape_of(a)) if na else None,
                unbroadcast(g * (1 - wa), shape_of(b)) if nb else None)


class Where(Function):
    def forward(self, cond, a, b):
        self.cond, self.sa, self.sb = cond, shape_of(a), shape_of(b)
        return _torch_dtype(_xp(cond).where(cond, a, b), a, b)

    def backward(self, g):
        _, na, nb = self.needs_input_grad
        zero = g.dtype.type(0)
        return (None, unbroadcast(_xp(g).where(self.cond, g, zero), self.sa) if na else None,
                unbroadcast(_xp(g).where(self.cond, zero, g), self.sb) if nb else None)


class Cast(Function):
    def forward(self, a, dtype):
        self.src = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return g.astype(self.src) if self.src.kind in "fc" else None


class Clone(Function):
    def forward(self, a):
        return a.copy()

    def backward(self, g):
        return g

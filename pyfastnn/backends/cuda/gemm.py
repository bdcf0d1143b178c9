"""GEMM on the GPU: our SGEMM kernels for float32 (FP32 CUDA cores, or the tensor cores when
pf.backends.cuda.matmul allows TF32/BF16), CuPy's cuBLAS for other dtypes."""

import math

import cupy as cp
import numpy as np

from ._common import F32, _cuda, describe, on_device, precision, ptr, stream

__all__ = ["gemm", "array_matmul"]

_ITEM = 4


def operand(x):
    """(array, transposed, ld, batch_stride) describing a float32 2-D matrix or (batch, rows,
    cols) stack for the kernels: the array itself when one of its last two axes has unit
    stride (a transposed view is read transposed, not copied), else a C-contiguous copy."""
    r, c = x.shape[-2:]
    s = x.strides
    bs = 0
    if x.ndim == 3:
        if s[0] < 0 or s[0] % _ITEM:
            x = cp.ascontiguousarray(x)
            s = x.strides
        bs = s[0] // _ITEM if x.shape[0] > 1 else 0
    sr, sc = s[-2], s[-1]
    if (c <= 1 or sc == _ITEM) and sr >= 0 and sr % _ITEM == 0 and (r <= 1 or sr // _ITEM >= max(c, 1)):
        return x, False, (sr // _ITEM if r > 1 else max(c, 1)), bs
    if (r <= 1 or sr == _ITEM) and sc >= 0 and sc % _ITEM == 0 and (c <= 1 or sc // _ITEM >= max(r, 1)):
        return x, True, (sc // _ITEM if c > 1 else max(r, 1)), bs
    x = cp.ascontiguousarray(x)
    return x, False, max(c, 1), (r * c if x.ndim == 3 else 0)


def gemm(a, b, c=None, alpha=1.0, beta=0.0, trans_a=False, trans_b=False, bias=None, activation=None,
         precision_=None):
    """act(alpha * op(a) @ op(b) + beta * c + bias) for float32 CUDA matrices (2-D) or stacks
    (3-D, batch first; a 2-D operand is shared by every item). Written into c when given
    (then c must be C-contiguous), else into a new array; returns it."""
    op = "gemm"
    for name, x in (("a", a), ("b", b)):
        on_device(x, op, name)
        if x.dtype != F32:
            raise TypeError(f"{op}: argument '{name}' must be float32 (the CUDA GEMM), got {describe(x)}")
        if x.ndim not in (2, 3):
            raise ValueError(f"{op}: argument '{name}' must be 2-D or 3-D, got shape {x.shape}")
    # operand() reports whether the memory holds the array transposed; the kernel's flag is
    # whether it holds op(x) transposed
    aa, ta, lda, sa = operand(a)
    bb, tb, ldb, sb = operand(b)
    ta ^= bool(trans_a)
    tb ^= bool(trans_b)
    ra, ca = a.shape[-2:]
    rb, cb = b.shape[-2:]
    m, ka = (ca, ra) if trans_a else (ra, ca)
    kb, n = (cb, rb) if trans_b else (rb, cb)
    if ka != kb:
        raise ValueError(f"{op}: inner dimensions differ: op(a) is {m} x {ka}, op(b) is {kb} x {n}")
    batch = max(a.shape[0] if a.ndim == 3 else 1, b.shape[0] if b.ndim == 3 else 1)
    for name, x in (("a", a), ("b", b)):
        if x.ndim == 3 and x.shape[0] != batch:
            raise ValueError(f"{op}: batch sizes differ: a {a.shape}, b {b.shape}")
    shape = (batch, m, n) if a.ndim == 3 or b.ndim == 3 else (m, n)
    if c is None:
        if beta != 0:
            raise ValueError(f"{op}: beta != 0 needs 'c'")
        c = cp.empty(shape, F32)
    else:
        on_device(c, op, "c")
        if c.dtype != F32 or c.shape != shape or not c.flags.c_contiguous:
            raise ValueError(f"{op}: argument 'c' must be a C-contiguous float32 array of shape {shape}, got "
                             f"{describe(c)}")
    if bias is not None:
        on_device(bias, op, "bias")
        if bias.dtype != F32 or bias.shape != (n,):
            raise ValueError(f"{op}: argument 'bias' must be float32 of shape ({n},), got {describe(bias)}")
        bias = cp.ascontiguousarray(bias)
    _run(aa, ta, lda, sa, bb, tb, ldb, sb, c, m, n, ka, batch, alpha, beta, bias, activation,
         precision_ or precision())
    return c


def _run(aa, ta, lda, sa, bb, tb, ldb, sb, c, m, n, k, batch, alpha=1.0, beta=0.0, bias=None, activation=None,
         prec="fp32"):
    # the operands as the kernel sees them: `ta` says whether aa's storage is op(a) transposed
    _cuda.gemm(ptr(aa), ptr(bb), ptr(c), m, n, k, lda, ldb, max(n, 1), alpha, beta, ta, tb, batch,
               sa if aa.ndim == 3 else 0, sb if bb.ndim == 3 else 0, m * n if batch > 1 else 0, ptr(bias),
               activation or "none", 0.0, 0.0, prec, 0, stream())


def _batched(x, batch, count):
    """x as a (count, rows, cols) stack, or the matrix itself when every item shares it."""
    rows, cols = x.shape[-2:]
    if math.prod(x.shape[:-2]) == 1:
        return x.reshape(rows, cols)
    return cp.broadcast_to(x, batch + (rows, cols)).reshape(count, rows, cols)


def array_matmul(a, b):
    """numpy.matmul semantics (1-D promotion, broadcast batch dimensions) for CUDA arrays:
    float32 on our GEMM, anything else on CuPy (cuBLAS)."""
    on_device(a, "matmul", "a")
    on_device(b, "matmul", "b")
    if a.dtype != F32 or b.dtype != F32 or a.ndim == 0 or b.ndim == 0:
        return cp.matmul(a, b)
    squeeze_m, squeeze_n = a.ndim == 1, b.ndim == 1
    a2 = a[None, :] if squeeze_m else a
    b2 = b[:, None] if squeeze_n else b
    m, k = a2.shape[-2:]
    k2, n = b2.shape[-2:]
    if k != k2:
        raise ValueError(f"matmul: inner dimensions differ: a has shape {a.shape}, b has shape {b.shape}")
    try:
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of a {a.shape} and b {b.shape} do not broadcast") from None
    count = math.prod(batch)
    c = cp.empty(batch + (m, n), F32)
    if count and m and n:
        a3 = _batched(a2, batch, count) if batch else a2
        b3 = _batched(b2, batch, count) if batch else b2
        aa, ta, lda, sa = operand(a3)
        bb, tb, ldb, sb = operand(b3)
        _run(aa, ta, lda, sa, bb, tb, ldb, sb, c, m, n, k, max(count, 1), prec=precision())
    final = batch + ((m,) if not squeeze_m else ()) + ((n,) if not squeeze_n else ())
    return c.reshape(final)

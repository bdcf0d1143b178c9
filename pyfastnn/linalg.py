"""Matrix products on pyfastnn's GEMM kernels."""

import numpy as np

from . import _C

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _as_matrix_stack(x, op, name):
    if not isinstance(x, np.ndarray):
        if isinstance(x, (list, tuple, np.generic)):
            x = np.asarray(x)
        else:
            raise TypeError(f"{op}: argument '{name}' must be a numpy array, got {type(x).__name__}")
    if x.dtype not in _FLOATS:
        raise TypeError(
            f"{op}: argument '{name}' must be float32 or float64, got {x.dtype} "
            f"(convert it with {name}.astype(numpy.float32))"
        )
    if x.ndim == 0:
        raise ValueError(f"{op}: argument '{name}' must have at least 1 dimension, got a scalar (use * instead)")
    return x


def _gemm_operand(x):
    """(view with unit stride along its last axis, transposed?) without copying when possible."""
    item = x.itemsize
    if x.shape[-1] <= 1 or x.strides[-1] == item:
        ok = x.ndim < 2 or x.strides[-2] >= 0
        if ok:
            return x, False
    if x.shape[-2] <= 1 or x.strides[-2] == item:
        xt = np.swapaxes(x, -1, -2)
        if xt.strides[-2] >= 0 or xt.shape[-2] <= 1:
            return xt, True
    return np.ascontiguousarray(x), False


def matmul(a, b, out=None):
    """Matrix product with numpy.matmul semantics (1-D promotion, broadcast batch dims).

    a and b are float32 (sgemm) or float64 (dgemm) arrays of the same dtype. Transposed
    views (a.T) and row slices are used in place, without copies.
    """
    # Fast path for the common case (2-D, same float dtype, contiguous or transposed): small
    # products are dominated by call overhead, so it does the least Python work it can.
    if (
        out is None
        and type(a) is np.ndarray
        and type(b) is np.ndarray
        and a.ndim == 2
        and b.ndim == 2
        and a.dtype is b.dtype
        and a.dtype in _FLOATS
        and a.shape[1] == b.shape[0]
    ):
        fa, fb = a.flags, b.flags
        if (fa.c_contiguous or fa.f_contiguous) and (fb.c_contiguous or fb.f_contiguous):
            c = np.empty((a.shape[0], b.shape[1]), a.dtype)
            ta, tb = not fa.c_contiguous, not fb.c_contiguous
            _C.gemm(a.T if ta else a, b.T if tb else b, c, 1.0, 0.0, ta, tb)
            return c
    return _matmul_general(a, b, out)


def _matmul_general(a, b, out):
    op = "matmul"
    a = _as_matrix_stack(a, op, "a")
    b = _as_matrix_stack(b, op, "b")
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: arguments 'a' and 'b' must have the same dtype, got {a.dtype} and {b.dtype}")
    squeeze_m, squeeze_n = a.ndim == 1, b.ndim == 1
    a2 = a[np.newaxis, :] if squeeze_m else a
    b2 = b[:, np.newaxis] if squeeze_n else b
    m, k = a2.shape[-2:]
    k2, n = b2.shape[-2:]
    if k != k2:
        raise ValueError(
            f"{op}: inner dimensions differ: a has shape {a.shape}, b has shape {b.shape} "
            f"(a's last dimension must equal b's {'only' if b.ndim == 1 else 'second-to-last'} dimension)"
        )
    try:
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ValueError(f"{op}: batch dimensions of a {a.shape} and b {b.shape} do not broadcast") from None

    result_shape = batch + (m, n)
    final_shape = batch + ((m,) if not squeeze_m else ()) + ((n,) if not squeeze_n else ())
    if out is not None:
        if not isinstance(out, np.ndarray) or out.dtype != a.dtype or out.shape != final_shape:
            got = f"{out.dtype} array of shape {out.shape}" if isinstance(out, np.ndarray) else type(out).__name__
            raise ValueError(f"{op}: argument 'out' must be a {a.dtype} array of shape {final_shape}, got {got}")
        c = out.reshape(result_shape)
        if not np.shares_memory(c, out):  # reshape had to copy: out is not usable in place
            raise ValueError(f"{op}: argument 'out' must be C-contiguous")
    else:
        c = np.empty(result_shape, dtype=a.dtype)

    if not batch:
        (aa, ta), (bb, tb) = _gemm_operand(a2), _gemm_operand(b2)
        _C.gemm(aa, bb, c, trans_a=ta, trans_b=tb)
    else:
        count = int(np.prod(batch))
        a3 = _batched(a2, batch, count)
        b3 = _batched(b2, batch, count)
        (aa, ta), (bb, tb) = _gemm_operand(a3), _gemm_operand(b3)
        _C.gemm_strided_batched(aa, bb, c.reshape(count, m, n), trans_a=ta, trans_b=tb)  # c is contiguous
    return out if out is not None else c.reshape(final_shape)


def _batched(x, batch, count):
    """x as a (count, rows, cols) stack; a matrix shared by every item gets batch stride 0."""
    rows, cols = x.shape[-2:]
    if int(np.prod(x.shape[:-2])) == 1:
        return np.broadcast_to(x.reshape(rows, cols), (count, rows, cols))
    return np.broadcast_to(x, batch + (rows, cols)).reshape(count, rows, cols)

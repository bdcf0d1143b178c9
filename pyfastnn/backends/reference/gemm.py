"""Reference GEMM."""

import numpy as np

__all__ = ["gemm"]


def gemm(a, b, c=None, alpha=1.0, beta=0.0, trans_a=False, trans_b=False):
    """alpha * op(a) @ op(b) + beta * c, with op(x) = x.T when trans_x; returns a new array.

    Works on 2-D matrices and on stacks of them (leading batch dimensions broadcast, as in
    numpy.matmul). With beta == 0, c is not read, as in BLAS.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    dtype = np.result_type(a, b)
    op_a = np.swapaxes(a, -1, -2) if trans_a else a
    op_b = np.swapaxes(b, -1, -2) if trans_b else b
    out = alpha * np.matmul(op_a.astype(np.float64), op_b.astype(np.float64))
    if beta != 0:
        out = out + beta * np.asarray(c, dtype=np.float64)
    return out.astype(dtype)

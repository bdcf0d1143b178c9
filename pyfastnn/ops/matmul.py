"""Matrix product on our GEMM (numpy.matmul semantics, broadcast batch dimensions)."""

import numpy as np

from ..autograd.function import Function
from ._util import unbroadcast


def _mm(a, b):
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        return a @ b  # integer matrices (no gradient): numpy's / cupy's own product
    if isinstance(a, np.ndarray):
        from ..linalg import matmul

        return matmul(a, b)
    from ..backends import cuda

    return cuda.array_matmul(a, b)  # CuPy arrays: our CUDA GEMM for float32


class MatMul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return _mm(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        # promote 1-D operands as matmul does, then drop the added dims again
        a2 = a[np.newaxis, :] if a.ndim == 1 else a
        b2 = b[:, np.newaxis] if b.ndim == 1 else b
        g2 = g  # (b's dim first: with two vectors g is 0-d)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        ga = gb = None
        if na:
            ga = _mm(g2, np.swapaxes(b2, -1, -2))
            ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        if nb:
            gb = _mm(np.swapaxes(a2, -1, -2), g2)
            gb = unbroadcast(gb, b2.shape).reshape(b.shape)
        return ga, gb

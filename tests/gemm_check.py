"""Shared helpers for the GEMM tests: operands with padded leading dimensions and the
componentwise error bound against the float64 reference."""

import numpy as np

from pyfastnn.backends import reference


def padded(rng, rows, cols, dtype, pad=0):
    """A rows x cols matrix whose rows lie `pad` elements apart beyond cols (leading dim)."""
    store = rng.standard_normal((rows, cols + pad)).astype(dtype)
    return store[:, :cols] if pad else store


def operands(rng, m, n, k, dtype, trans_a=False, trans_b=False, pads=(0, 0, 0)):
    a = padded(rng, k, m, dtype, pads[0]) if trans_a else padded(rng, m, k, dtype, pads[0])
    b = padded(rng, n, k, dtype, pads[1]) if trans_b else padded(rng, k, n, dtype, pads[1])
    c = padded(rng, m, n, dtype, pads[2])
    return a, b, c


def error_bound(a, b, c0, alpha, beta, trans_a, trans_b):
    """|computed - exact| <= 4 k eps (|alpha| |op(a)| |op(b)| + |beta c0|): what any
    correct summation order achieves; a wrong element is off by O(1) of this scale."""
    k = a.shape[0] if trans_a else a.shape[-1]
    eps = np.finfo(a.dtype).eps
    mag = reference.gemm(np.abs(a), np.abs(b), np.abs(c0), abs(alpha), abs(beta), trans_a, trans_b)
    return 4 * max(k, 1) * eps * mag.astype(np.float64) + np.finfo(a.dtype).tiny


def assert_gemm_close(got, a, b, c0, alpha, beta, trans_a, trans_b, what=""):
    want = reference.gemm(a, b, c0, alpha, beta, trans_a, trans_b).astype(np.float64)
    err = np.abs(got.astype(np.float64) - want)
    bound = error_bound(a, b, c0, alpha, beta, trans_a, trans_b)
    bad = ~(err <= bound)  # also catches NaN
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        raise AssertionError(
            f"gemm mismatch {what}: {bad.sum()} of {bad.size} elements off; first at {i}: "
            f"got {got[i]!r}, want {want[i]!r}, bound {bound[i]:.3g}"
        )

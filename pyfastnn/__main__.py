"""python -m pyfastnn: the same as the `pyfastnn` command."""

import sys
import time

import numpy as np


def _best_of(fn, repeats=5):
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def gemm_demo(n=1024):
    """Multiply two n x n float32 matrices with pyfastnn and NumPy; print error and speed."""
    import pyfastnn as pf

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = pf.matmul(a, b)
    ref = pf.backends.reference.gemm(a, b)
    err = float(np.max(np.abs(c - ref)) / max(float(np.max(np.abs(ref))), 1e-30))
    flops = 2.0 * n**3
    t_pf = _best_of(lambda: pf.matmul(a, b))
    t_np = _best_of(lambda: a @ b)
    print(f"\nGEMM demo: {n}x{n} @ {n}x{n} float32, {pf.get_num_threads()} threads")
    print(f"  max relative error vs the float64 reference: {err:.2e}")
    print(f"  pyfastnn.matmul : {t_pf * 1e3:8.2f} ms  {flops / t_pf / 1e9:7.1f} GFLOP/s")
    print(f"  numpy.matmul    : {t_np * 1e3:8.2f} ms  {flops / t_np / 1e9:7.1f} GFLOP/s")


if __name__ == "__main__":
    from pyfastnn.cli import main

    sys.exit(main())

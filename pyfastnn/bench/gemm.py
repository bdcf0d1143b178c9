"""GEMM benchmark cases: square sizes and the products a training step performs."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GemmCase:
    label: str
    m: int
    k: int
    n: int
    trans_a: bool = False
    trans_b: bool = False

    @property
    def flops(self):
        return 2.0 * self.m * self.k * self.n

    @property
    def small(self):
        """A training-sized product (what the >= 1.2x target is about)."""
        return self.flops < 2 * 512**3


def _linear(name, batch, fan_in, fan_out):
    """The three GEMMs of nn.Linear(fan_in, fan_out) on a batch: y = x W^T, dx = dy W, dW = dy^T x."""
    return [
        GemmCase(f"{name}.fwd", batch, fan_in, fan_out, trans_b=True),
        GemmCase(f"{name}.dx", batch, fan_out, fan_in),
        GemmCase(f"{name}.dw", fan_out, batch, fan_in, trans_a=True),
    ]


SQUARE = [GemmCase(f"square {s}", s, s, s) for s in (128, 256, 512, 1024, 2048, 4096)]
TRAINING = (
    _linear("mlp 784-256", 128, 784, 256)
    + _linear("mlp 256-128", 128, 256, 128)
    + [
        # conv 3x3, 32 -> 64 channels on 28x28 (batch 4) as im2col products
        GemmCase("conv im2col.fwd", 3136, 288, 64),
        GemmCase("conv im2col.dcol", 3136, 64, 288, trans_b=True),
        GemmCase("conv im2col.dw", 288, 3136, 64, trans_a=True),
    ]
)
CASES = SQUARE + TRAINING
IMPLS = ("pyfastnn", "torch", "numpy")


def operands(case, dtype=np.float32, seed=0):
    """The stored operands of `case` (transposed ones stored the other way round)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((case.k, case.m) if case.trans_a else (case.m, case.k), dtype=np.float32).astype(dtype)
    b = rng.standard_normal((case.n, case.k) if case.trans_b else (case.k, case.n), dtype=np.float32).astype(dtype)
    return a, b


def make(impl, case, threads):
    """A zero-argument callable computing op(a) @ op(b) with `impl` on `threads` threads.
    Raises ImportError when that library is not installed."""
    a, b = operands(case)
    if impl == "pyfastnn":
        import pyfastnn as pf

        pf.set_num_threads(threads)
        x, y = (a.T if case.trans_a else a), (b.T if case.trans_b else b)
        return lambda: pf.matmul(x, y)
    if impl == "torch":
        import torch

        torch.set_num_threads(threads)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        x, y = (ta.T if case.trans_a else ta), (tb.T if case.trans_b else tb)
        return lambda: torch.matmul(x, y)
    if impl == "numpy":
        limit_numpy_threads(threads)
        x, y = (a.T if case.trans_a else a), (b.T if case.trans_b else b)
        return lambda: np.matmul(x, y)
    raise ValueError(f"make: unknown impl {impl!r}; expected one of {IMPLS}")


_numpy_limiter = None


def limit_numpy_threads(threads):
    """Limit NumPy's BLAS to `threads` threads (needs threadpoolctl); False if not possible."""
    global _numpy_limiter
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    if _numpy_limiter is not None:
        _numpy_limiter.restore_original_limits()
    _numpy_limiter = threadpool_limits(limits=threads, user_api="blas")
    return True

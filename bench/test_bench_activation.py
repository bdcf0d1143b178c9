"""Activations: forward + backward of sigmoid, tanh, gelu and relu on a 128x4096 float32
tensor: pyfastnn (F.*, autograd) vs torch.nn.functional (autograd) vs NumPy (the same two
passes written out), same thread count.

    pytest bench/test_bench_activation.py --benchmark-json=bench/out/activation.json
    python bench/report.py bench/out/activation.json

NumPy's elementwise math is single-threaded, so its 2-thread rows repeat the 1-thread work;
its gelu needs scipy.special.erf (skipped without scipy).
"""

import numpy as np
import pytest

from pyfastnn import _C

SHAPE = (128, 4096)
ACTS = ("sigmoid", "tanh", "gelu", "relu")
IMPLS = ("pyfastnn", "torch", "numpy")


def _operands():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE, dtype=np.float32)
    gy = rng.standard_normal(SHAPE, dtype=np.float32)
    return x, gy


def make(impl, act, threads):
    """A zero-argument callable running act's forward and backward once with `impl`.
    Raises ImportError when that library is not installed."""
    x, gy = _operands()
    if impl == "pyfastnn":
        import pyfastnn as pf
        import pyfastnn.nn.functional as F

        pf.set_num_threads(threads)
        fn = getattr(F, act)
        t, g = pf.tensor(x, requires_grad=True), pf.tensor(gy)

        def run():
            t.grad = None
            fn(t).backward(g)

        return run
    if impl == "torch":
        import torch

        torch.set_num_threads(threads)
        fn = getattr(torch.nn.functional, act)
        t, g = torch.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(gy)

        def run():
            t.grad = None
            fn(t).backward(g)

        return run
    if impl == "numpy":
        return _numpy(act, x, gy)
    raise ValueError(f"make: unknown impl {impl!r}; expected one of {IMPLS}")


def _numpy(act, x, gy):
    one = np.float32(1)
    if act == "sigmoid":
        def run():
            y = one / (one + np.exp(-x))
            return gy * y * (one - y)
    elif act == "tanh":
        def run():
            y = np.tanh(x)
            return gy * (one - y * y)
    elif act == "relu":
        def run():
            y = np.maximum(x, 0)
            return np.where(y > 0, gy, np.float32(0))
    elif act == "gelu":
        from scipy.special import erf  # ImportError: skipped

        c, k = np.float32(1 / np.sqrt(2)), np.float32(1 / np.sqrt(2 * np.pi))

        def run():
            cdf = np.float32(0.5) * (one + erf(x * c))
            y = x * cdf
            return y, gy * (cdf + x * k * np.exp(np.float32(-0.5) * x * x))
    else:
        raise ValueError(act)
    return run


@pytest.mark.parametrize("impl", IMPLS)  # innermost: the three run back to back per case
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("threads", [1, 2], ids=["1T", "2T"])
def test_activation(benchmark, threads, act, impl):
    try:
        fn = make(impl, act, threads)
    except ImportError as e:
        pytest.skip(f"{impl} is not installed ({e})")
    case = f"{SHAPE[0]}x{SHAPE[1]} fwd+bwd"
    benchmark.group = f"{act} {case} {threads}T"
    benchmark.extra_info.update(op=act, case=case, impl=impl, threads=threads, flops=None, isa=_C.isa())
    benchmark.pedantic(fn, warmup_rounds=3, rounds=60, iterations=1)

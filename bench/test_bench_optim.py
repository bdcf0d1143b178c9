"""Optimizer step over 4M parameters in 24 tensors: pyfastnn's fused multi-tensor kernel vs
torch.optim with fused=True and with its default foreach implementation.

    pytest bench/test_bench_optim.py --benchmark-json=bench/out/optim.json
"""

import numpy as np
import pytest

SIZES = [4_000_000 // 24] * 24
IMPLS = ("pyfastnn", "torch-fused", "torch-foreach")
OPTIMIZERS = {"Adam": dict(lr=1e-3), "SGD momentum": dict(lr=1e-2, momentum=0.9)}


def make(impl, name, threads):
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s).astype(np.float32) for s in SIZES]
    grads = [rng.standard_normal(s).astype(np.float32) for s in SIZES]
    cls_name, kwargs = name.split()[0], OPTIMIZERS[name]
    if impl == "pyfastnn":
        import pyfastnn as pf

        pf.set_num_threads(threads)
        params = [pf.nn.Parameter(w) for w in weights]
        for p, g in zip(params, grads):
            p.grad = pf.tensor(g)
        return getattr(pf.optim, cls_name)(params, **kwargs).step
    import torch

    torch.set_num_threads(threads)
    params = [torch.nn.Parameter(torch.from_numpy(w)) for w in weights]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g)
    flag = {"torch-fused": dict(fused=True), "torch-foreach": dict(foreach=True)}[impl]
    return getattr(torch.optim, cls_name)(params, **kwargs, **flag).step


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("threads", [1, 2], ids=["1T", "2T"])
def test_optimizer_step(benchmark, peak_gflops, threads, name, impl):
    try:
        fn = make(impl, name, threads)
    except (ImportError, RuntimeError, TypeError) as e:
        pytest.skip(f"{impl}: {e}")
    benchmark.group = f"{name} step 4M params / 24 tensors {threads}T"
    benchmark.extra_info.update(op=f"{name} step", case="4M params, 24 tensors", impl=impl.replace("-", " "),
                                threads=threads, flops=None, peak_gflops=peak_gflops(threads))
    benchmark.pedantic(fn, warmup_rounds=3, rounds=30, iterations=1)

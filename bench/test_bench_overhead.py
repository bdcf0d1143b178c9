"""Python overhead: forward + backward of a 3-layer MLP (784-256-128-10, ReLU, cross-entropy)
at batch 1, where the kernels are tiny and the framework's per-op bookkeeping dominates.
Target: within 2x of PyTorch's wall time (lower is better).

    pytest bench/test_bench_overhead.py --benchmark-json=bench/out/overhead.json
"""

import numpy as np
import pytest

IMPLS = ("pyfastnn", "torch")


def make(impl, batch, threads):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    if impl == "pyfastnn":
        import pyfastnn as pf
        from pyfastnn import nn

        pf.set_num_threads(threads)
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
        xt, yt = pf.tensor(x), pf.tensor(y)

        def step():
            model.zero_grad()
            nn.functional.cross_entropy(model(xt), yt).backward()

        return step
    import torch

    torch.set_num_threads(threads)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                torch.nn.ReLU(), torch.nn.Linear(128, 10))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()

    return step


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("threads", [1], ids=["1T"])
def test_mlp_batch1_step(benchmark, peak_gflops, threads, impl):
    try:
        fn = make(impl, 1, threads)
    except ImportError as e:
        pytest.skip(f"{impl} is not installed ({e})")
    benchmark.group = "mlp 784-256-128-10 batch 1 fwd+bwd"
    benchmark.extra_info.update(op="overhead", case="mlp 784-256-128-10 batch 1 fwd+bwd", impl=impl,
                                threads=threads, flops=None, peak_gflops=peak_gflops(threads))
    benchmark.pedantic(fn, warmup_rounds=50, rounds=2000, iterations=1)

"""A full training step of a 784-256-128-10 ReLU MLP, batch 128, Adam + cross-entropy:
zero_grad, forward, loss, backward, step — pyfastnn vs PyTorch eager, same thread count.

    pytest bench/test_bench_train.py --benchmark-json=bench/out/train.json
"""

import numpy as np
import pytest

IMPLS = ("pyfastnn", "torch")


def make(impl, threads, batch=128):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    if impl == "pyfastnn":
        import pyfastnn as pf
        from pyfastnn import nn

        pf.set_num_threads(threads)
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = pf.optim.Adam(model.parameters(), lr=1e-3)
        xt, yt = pf.tensor(x), pf.tensor(y)
        loss_fn = nn.functional.cross_entropy
    else:
        import torch

        torch.set_num_threads(threads)
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                    torch.nn.ReLU(), torch.nn.Linear(128, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        loss_fn = torch.nn.functional.cross_entropy

    def step():
        opt.zero_grad()
        loss_fn(model(xt), yt).backward()
        opt.step()

    return step


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("threads", [1, 2], ids=["1T", "2T"])
def test_mlp_training_step(benchmark, peak_gflops, threads, impl):
    try:
        fn = make(impl, threads)
    except ImportError as e:
        pytest.skip(f"{impl} is not installed ({e})")
    # forward + two backward GEMMs per layer, less the input layer's dx (nobody asks for it)
    flops = 3 * 2 * 128 * (784 * 256 + 256 * 128 + 128 * 10) - 2 * 128 * 784 * 256
    benchmark.group = f"mlp train step {threads}T"
    benchmark.extra_info.update(op="train step", case="mlp 784-256-128-10 batch 128 Adam", impl=impl,
                                threads=threads, flops=flops, peak_gflops=peak_gflops(threads))
    benchmark.pedantic(fn, warmup_rounds=10, rounds=200, iterations=1)

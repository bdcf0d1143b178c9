"""Recurrent layers: pyfastnn vs PyTorch on the same weights, data and thread count.

The issue's targets (2 threads): LSTM 1 layer, input 256, hidden 256, T=50, batch 32,
forward+backward and inference (no_grad), each >= 1.2x PyTorch; GRU at the same shape
>= 1.2x; small-batch latency (batch 1, T=100, hidden 128) >= 2x. A training step clears the
gradients (set to None, as optimizer.zero_grad() does), runs the layer on an input that
requires grad (so dx is computed too) and back-propagates a fixed gradient of the output.

    python -m pytest bench/test_bench_rnn.py --benchmark-json=bench/out/rnn.json
    python bench/report.py bench/out/rnn.json
"""

from dataclasses import dataclass

import numpy as np
import pytest

from pyfastnn import _C

IMPLS = ("pyfastnn", "torch")
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


@dataclass(frozen=True)
class RnnCase:
    label: str
    kind: str  # LSTM, GRU, RNN
    steps: int
    batch: int
    input: int
    hidden: int
    train: bool  # forward+backward (with dx) or inference under no_grad

    @property
    def flops(self):
        # the products with W_ih and W_hh; backward: dx, dW_ih, dh and dW_hh, twice forward's
        fwd = 2.0 * self.steps * self.batch * GATES[self.kind] * self.hidden * (self.input + self.hidden)
        return 3 * fwd if self.train else fwd


CASES = [
    RnnCase("LSTM T=50 B=32 256->256 fwd+bwd", "LSTM", 50, 32, 256, 256, True),
    RnnCase("LSTM T=50 B=32 256->256 inference", "LSTM", 50, 32, 256, 256, False),
    RnnCase("GRU T=50 B=32 256->256 fwd+bwd", "GRU", 50, 32, 256, 256, True),
    RnnCase("GRU T=50 B=32 256->256 inference", "GRU", 50, 32, 256, 256, False),
    RnnCase("LSTM T=100 B=1 128->128 inference (latency)", "LSTM", 100, 1, 128, 128, False),
    RnnCase("LSTM T=100 B=1 128->128 fwd+bwd", "LSTM", 100, 1, 128, 128, True),
]


def _operands(case, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case.steps, case.batch, case.input), dtype=np.float32)
    g = rng.standard_normal((case.steps, case.batch, case.hidden), dtype=np.float32)
    return x, g


def make_rnn(impl, case, threads):
    x, g = _operands(case)
    if impl == "pyfastnn":
        import pyfastnn as pf

        pf.set_num_threads(threads)
        pf.manual_seed(0)
        layer = getattr(pf.nn, case.kind)(case.input, case.hidden)
        params = list(layer.parameters())
        xt = pf.tensor(x).requires_grad_(case.train)
        if not case.train:
            def infer():
                with pf.no_grad():
                    return layer(xt)[0]

            return infer

        def step():
            xt.grad = None
            for p in params:
                p.grad = None
            layer(xt)[0].backward(g)

        return step
    if impl == "torch":
        import torch

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        layer = getattr(torch.nn, case.kind)(case.input, case.hidden)
        params = list(layer.parameters())
        xt = torch.from_numpy(x).requires_grad_(case.train)
        gt = torch.from_numpy(g)
        if not case.train:
            def infer():
                with torch.no_grad():
                    return layer(xt)[0]

            return infer

        def step():
            xt.grad = None
            for p in params:
                p.grad = None
            layer(xt)[0].backward(gt)

        return step
    raise ValueError(f"make_rnn: unknown impl {impl!r}; expected one of {IMPLS}")


@pytest.mark.parametrize("impl", IMPLS)  # innermost: both run back to back per case
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label.replace(" ", "_").replace("->", "to"))
@pytest.mark.parametrize("threads", [1, 2], ids=["1T", "2T"])
def test_rnn(benchmark, peak_gflops, threads, case, impl):
    try:
        fn = make_rnn(impl, case, threads)
    except ImportError as e:
        pytest.skip(f"{impl} is not installed ({e})")
    benchmark.group = f"rnn {case.label} {threads}T"
    benchmark.extra_info.update(
        op=case.kind.lower(), case=case.label, impl=impl, threads=threads, flops=case.flops,
        small=case.batch == 1, peak_gflops=peak_gflops(threads), isa=_C.isa(),
    )
    rounds = max(15, min(300, int(1.5 / max(case.flops / 60e9 / threads, 1e-4))))
    benchmark.pedantic(fn, warmup_rounds=3, rounds=rounds, iterations=1)

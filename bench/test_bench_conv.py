"""Conv2d, forward and backward (one training step of the layer): pyfastnn vs PyTorch, same
operands, same thread count.

pyfastnn runs nn.Conv2d (the 3x3 layers with 32+ channels as Winograd F(2x2, 3x3): 16 GEMMs
on our micro-kernels over transformed patches, for the forward pass, dx and dW; the input
layer as an implicit GEMM fed straight from the input; the backward pass computes db, dW
and dx in one call); PyTorch runs torch.nn.Conv2d (oneDNN on this CPU). Each step clears
the gradients (set to None, as optimizer.zero_grad() does), runs the forward pass and
back-propagates a fixed gradient. FLOPs, the direct algorithm's for both libraries:
2 * N * OC * C/groups * kH * kW * OH * OW per product, three products per step (two for the
input layer, which needs no dx), one for the forward-only case.

    python -m pytest bench/test_bench_conv.py --benchmark-json=bench/out/conv.json
    python bench/report.py bench/out/conv.json
"""

from dataclasses import dataclass

import numpy as np
import pytest

from pyfastnn import _C

IMPLS = ("pyfastnn", "torch")


@dataclass(frozen=True)
class ConvCase:
    label: str
    batch: int
    in_channels: int
    out_channels: int
    size: int  # H = W, 'same' padding: the output is size x size too
    kernel: int = 3
    input_grad: bool = True  # a hidden layer (dx wanted) or the input layer (no dx)
    backward: bool = True  # False: forward only (inference, no graph)

    @property
    def flops(self):
        one = 2.0 * self.batch * self.out_channels * self.in_channels * self.kernel ** 2 * self.size ** 2
        return one * (1 + (1 + self.input_grad if self.backward else 0))


CASES = [
    ConvCase("3x3 32->64 28x28 b64 fwd+bwd", 64, 32, 64, 28),
    ConvCase("3x3 64->64 56x56 b32 fwd+bwd", 32, 64, 64, 56),
    ConvCase("3x3 1->32 28x28 b64 fwd+bwd, input layer", 64, 1, 32, 28, input_grad=False),
    ConvCase("3x3 32->64 28x28 b64 fwd", 64, 32, 64, 28, backward=False),
]


def _operands(case, seed=0):
    rng = np.random.default_rng(seed)
    shape = (case.batch, case.in_channels, case.size, case.size)
    x = rng.standard_normal(shape, dtype=np.float32)
    g = rng.standard_normal((case.batch, case.out_channels, case.size, case.size), dtype=np.float32)
    return x, g


def make_conv(impl, case, threads):
    x, g = _operands(case)
    pad = case.kernel // 2
    if impl == "pyfastnn":
        import pyfastnn as pf

        pf.set_num_threads(threads)
        layer = pf.nn.Conv2d(case.in_channels, case.out_channels, case.kernel, padding=pad)
        xt = pf.tensor(x).requires_grad_(case.input_grad and case.backward)
        if not case.backward:
            def forward():
                with pf.no_grad():
                    return layer(xt)

            return forward

        def step():
            layer.weight.grad = layer.bias.grad = xt.grad = None
            layer(xt).backward(g)

        return step
    if impl == "torch":
        import torch

        torch.set_num_threads(threads)
        layer = torch.nn.Conv2d(case.in_channels, case.out_channels, case.kernel, padding=pad)
        xt = torch.from_numpy(x).requires_grad_(case.input_grad and case.backward)
        gt = torch.from_numpy(g)
        if not case.backward:
            def forward():
                with torch.no_grad():
                    return layer(xt)

            return forward

        def step():
            layer.weight.grad = layer.bias.grad = xt.grad = None
            layer(xt).backward(gt)

        return step
    raise ValueError(f"make_conv: unknown impl {impl!r}; expected one of {IMPLS}")


def _rounds(case, threads):
    # about two seconds per benchmark at ~80 GFLOP/s per thread, at least 7 rounds
    return max(7, min(100, int(2.0 * 80e9 * threads / case.flops)))


@pytest.mark.parametrize("impl", IMPLS)  # innermost: both run back to back per case
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label.replace(" ", "_").replace(",", ""))
@pytest.mark.parametrize("threads", [1, 2], ids=["1T", "2T"])
def test_conv2d(benchmark, peak_gflops, threads, case, impl):
    try:
        fn = make_conv(impl, case, threads)
    except ImportError as e:
        pytest.skip(f"{impl} is not installed ({e})")
    benchmark.group = f"conv2d {case.label} {threads}T"
    benchmark.extra_info.update(
        op="conv2d", case=case.label, impl=impl, threads=threads, flops=case.flops, small=False,
        peak_gflops=peak_gflops(threads), isa=_C.isa(),
    )
    benchmark.pedantic(fn, warmup_rounds=2, rounds=_rounds(case, threads), iterations=1)

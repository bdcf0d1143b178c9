"""Max pooling and batch norm, forward + backward (one training step of the layer):
pyfastnn vs PyTorch vs NumPy, same data, same thread count.

Each step clears the input gradient (and the affine parameters' gradients), runs the
layer in training mode and back-propagates a fixed gradient. Both ops are memory bound, so
no GFLOP/s are reported; `bytes` in extra_info is the minimum traffic of one step.

    python -m pytest bench/test_bench_pool_norm.py --benchmark-json=bench/out/pool_norm.json
    python bench/report.py bench/out/pool_norm.json
"""

from dataclasses import dataclass

import numpy as np
import pytest

from pyfastnn import _C

IMPLS = ("pyfastnn", "torch", "numpy")


@dataclass(frozen=True)
class Case:
    op: str  # "max_pool2d" or "batch_norm2d"
    shape: tuple

    @property
    def label(self):
        what = "2x2 fwd+bwd" if self.op == "max_pool2d" else "train fwd+bwd"
        return "x".join(map(str, self.shape)) + " " + what

    @property
    def bytes(self):
        n = int(np.prod(self.shape)) * 4
        # pool: x, y, int32 indices, gy, indices, gx; batch norm: x, y; gy, x (twice), gx
        return n + n // 4 * 4 + n if self.op == "max_pool2d" else 7 * n


CASES = [
    Case("max_pool2d", (64, 64, 56, 56)),  # the target shape
    Case("max_pool2d", (64, 32, 28, 28)),  # the Fashion-MNIST CNN's first pooling
    Case("batch_norm2d", (32, 64, 56, 56)),  # a conv-sized tensor
    Case("batch_norm2d", (64, 32, 28, 28)),
]


def _data(case, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case.shape, dtype=np.float32)
    out = case.shape if case.op == "batch_norm2d" else case.shape[:2] + (case.shape[2] // 2, case.shape[3] // 2)
    g = rng.standard_normal(out, dtype=np.float32)
    return x, g


def make_step(impl, case, threads):
    x, g = _data(case)
    C = case.shape[1]
    if impl == "pyfastnn":
        import pyfastnn as pf

        pf.set_num_threads(threads)
        xt = pf.tensor(x).requires_grad_(True)
        if case.op == "max_pool2d":
            layer = pf.nn.MaxPool2d(2)
        else:
            layer = pf.nn.BatchNorm2d(C)

        def step():
            xt.grad = None
            layer.zero_grad()
            layer(xt).backward(g)

        return step
    if impl == "torch":
        import torch

        torch.set_num_threads(threads)
        xt = torch.from_numpy(x).requires_grad_(True)
        gt = torch.from_numpy(g)
        layer = torch.nn.MaxPool2d(2) if case.op == "max_pool2d" else torch.nn.BatchNorm2d(C)

        def step():
            xt.grad = None
            layer.zero_grad(set_to_none=True)
            layer(xt).backward(gt)

        return step
    if impl == "numpy":
        if case.op == "max_pool2d":
            N, C, H, W = case.shape

            def step():
                win = x.reshape(N, C, H // 2, 2, W // 2, 2)
                y = win.max(axis=(3, 5))
                mask = win == y[:, :, :, None, :, None]  # ties share the gradient (a baseline, not exact)
                return y, (mask * g[:, :, :, None, :, None]).reshape(case.shape)

            return step

        def step():
            mean = x.mean(axis=(0, 2, 3), keepdims=True)
            xc = x - mean
            invstd = 1 / np.sqrt((xc * xc).mean(axis=(0, 2, 3), keepdims=True) + 1e-5)
            xhat = xc * invstd
            y = xhat  # weight 1, bias 0
            db = g.sum(axis=(0, 2, 3), keepdims=True)
            dw = (g * xhat).sum(axis=(0, 2, 3), keepdims=True)
            m = x.size / C
            return y, invstd * (g - db / m - xhat * dw / m), dw, db

        return step
    raise ValueError(f"make_step: unknown impl {impl!r}; expected one of {IMPLS}")


def _rounds(seconds_each):
    return max(7, min(200, int(1.0 / max(seconds_each, 1e-6))))


@pytest.mark.parametrize("impl", IMPLS)  # innermost: the three run back to back per case
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.op}_{c.label.replace(' ', '_')}")
@pytest.mark.parametrize("threads", [1, 2], ids=["1T", "2T"])
def test_pool_norm(benchmark, peak_gflops, threads, case, impl):
    try:
        fn = make_step(impl, case, threads)
    except ImportError as e:
        pytest.skip(f"{impl} is not installed ({e})")
    benchmark.group = f"{case.op} {case.label} {threads}T"
    benchmark.extra_info.update(
        op=case.op, case=case.label, impl=impl, threads=threads, flops=None, bytes=case.bytes,
        peak_gflops=peak_gflops(threads), isa=_C.isa(),
    )
    benchmark.pedantic(fn, warmup_rounds=3, rounds=_rounds(case.bytes / 10e9), iterations=1)

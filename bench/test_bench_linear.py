"""Linear + bias + ReLU, forward and backward (one training step of the layer), and dropout:
pyfastnn vs PyTorch vs NumPy, same operands, same thread count.

pyfastnn runs nn.Linear(activation='relu') (the GEMM's store adds the bias and applies the
ReLU; the backward pass fuses ReLU's gradient with the bias gradient, then runs the dx and dW
GEMMs in one call); PyTorch runs nn.Linear + F.relu, NumPy the same math by hand. Each step
clears the gradients (set to None, as optimizer.zero_grad() does), runs the forward pass and
back-propagates a fixed gradient.

    python -m pytest bench/test_bench_linear.py --benchmark-json=bench/out/linear.json
    python bench/report.py bench/out/linear.json
"""

from dataclasses import dataclass

import numpy as np
import pytest

from pyfastnn import _C

IMPLS = ("pyfastnn", "torch", "numpy")


@dataclass(frozen=True)
class LinearCase:
    label: str
    batch: int
    fan_in: int
    fan_out: int
    input_grad: bool  # a hidden layer (dx wanted) or the input layer (no dx)

    @property
    def flops(self):
        return 2.0 * self.batch * self.fan_in * self.fan_out * (3 if self.input_grad else 2)


CASES = [
    LinearCase("128x784->256 relu fwd+bwd", 128, 784, 256, True),
    LinearCase("128x784->256 relu fwd+bwd, input layer", 128, 784, 256, False),
    LinearCase("128x256->128 relu fwd+bwd", 128, 256, 128, True),
]


def _operands(case, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case.batch, case.fan_in), dtype=np.float32)
    w = (rng.standard_normal((case.fan_out, case.fan_in), dtype=np.float32) / np.sqrt(case.fan_in)).astype(np.float32)
    b = rng.standard_normal(case.fan_out, dtype=np.float32) * np.float32(0.1)
    g = rng.standard_normal((case.batch, case.fan_out), dtype=np.float32)
    return x, w, b, g


def make_linear(impl, case, threads):
    x, w, b, g = _operands(case)
    if impl == "pyfastnn":
        import pyfastnn as pf

        pf.set_num_threads(threads)
        layer = pf.nn.Linear(case.fan_in, case.fan_out, activation="relu")
        layer.weight.data[...] = w
        layer.bias.data[...] = b
        xt = pf.tensor(x).requires_grad_(case.input_grad)

        def step():
            layer.weight.grad = layer.bias.grad = xt.grad = None
            layer(xt).backward(g)

        return step
    if impl == "torch":
        import torch

        torch.set_num_threads(threads)
        layer = torch.nn.Linear(case.fan_in, case.fan_out)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
        xt = torch.from_numpy(x).requires_grad_(case.input_grad)
        gt = torch.from_numpy(g)
        relu = torch.nn.functional.relu

        def step():
            layer.weight.grad = layer.bias.grad = xt.grad = None
            relu(layer(xt)).backward(gt)

        return step
    if impl == "numpy":
        from pyfastnn.bench.gemm import limit_numpy_threads

        limit_numpy_threads(threads)
        wt = w.T

        def step():
            y = np.maximum(x @ wt + b, 0)
            gz = np.where(y > 0, g, 0)
            out = [gz.T @ x, gz.sum(axis=0)]
            if case.input_grad:
                out.append(gz @ w)
            return out

        return step
    raise ValueError(f"make_linear: unknown impl {impl!r}; expected one of {IMPLS}")


def make_dropout(impl, shape, threads, p=0.5):
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    g = np.ones(shape, np.float32)
    if impl == "pyfastnn":
        import pyfastnn as pf

        pf.set_num_threads(threads)
        xt = pf.tensor(x).requires_grad_(True)

        def step():
            xt.grad = None
            pf.nn.functional.dropout(xt, p).backward(g)

        return step
    if impl == "torch":
        import torch

        torch.set_num_threads(threads)
        xt = torch.from_numpy(x).requires_grad_(True)
        gt = torch.from_numpy(g)

        def step():
            xt.grad = None
            torch.nn.functional.dropout(xt, p).backward(gt)

        return step
    if impl == "numpy":
        rng = np.random.default_rng(1)

        def step():
            mask = (rng.random(shape, dtype=np.float32) >= p) * np.float32(1 / (1 - p))
            return x * mask, g * mask

        return step
    raise ValueError(f"make_dropout: unknown impl {impl!r}; expected one of {IMPLS}")


def _rounds(seconds_each):
    # about a second per benchmark, at least 7 rounds for a stable median
    return max(7, min(500, int(1.0 / max(seconds_each, 1e-6))))


@pytest.mark.parametrize("impl", IMPLS)  # innermost: the three run back to back per case
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label.replace(" ", "_").replace(",", ""))
@pytest.mark.parametrize("threads", [1, 2], ids=["1T", "2T"])
def test_linear(benchmark, peak_gflops, threads, case, impl):
    try:
        fn = make_linear(impl, case, threads)
    except ImportError as e:
        pytest.skip(f"{impl} is not installed ({e})")
    benchmark.group = f"linear {case.label} {threads}T"
    benchmark.extra_info.update(
        op="linear", case=case.label, impl=impl, threads=threads, flops=case.flops, small=True,
        peak_gflops=peak_gflops(threads), isa=_C.isa(),
    )
    benchmark.pedantic(fn, warmup_rounds=5, rounds=_rounds(case.flops / 80e9 / threads), iterations=1)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("shape", [(128, 4096)], ids=["128x4096"])
@pytest.mark.parametrize("threads", [1, 2], ids=["1T", "2T"])
def test_dropout(benchmark, peak_gflops, threads, shape, impl):
    try:
        fn = make_dropout(impl, shape, threads)
    except ImportError as e:
        pytest.skip(f"{impl} is not installed ({e})")
    label = "x".join(map(str, shape)) + " p=0.5 fwd+bwd"
    benchmark.group = f"dropout {label} {threads}T"
    benchmark.extra_info.update(
        op="dropout", case=label, impl=impl, threads=threads, flops=None, small=True,
        peak_gflops=peak_gflops(threads), isa=_C.isa(),
    )
    benchmark.pedantic(fn, warmup_rounds=5, rounds=200, iterations=1)

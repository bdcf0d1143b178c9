"""Softmax cross-entropy, forward + backward: pyfastnn F.cross_entropy (the fused kernel)
vs torch.nn.functional.cross_entropy, same logits and targets, same thread count.

    python -m pytest bench/test_bench_xent.py --benchmark-json=bench/out/xent.json
    python bench/report.py bench/out/xent.json

Each timed call is a full training-step use of the loss: the logits' .grad is reset, the
mean loss computed and backpropagated to the logits. 512x1000 is kernel-bound; 64x10 is
dominated by the Python/dispatch overhead of both libraries (target: pyfastnn >= 2x).
"""

from dataclasses import dataclass

import numpy as np
import pytest

from pyfastnn import _C


@dataclass(frozen=True)
class XentCase:
    label: str
    n: int
    c: int

    @property
    def flops(self):
        return None  # exp-bound, not FLOP-bound: the report shows times only


CASES = [XentCase("512x1000", 512, 1000), XentCase("64x10", 64, 10)]
IMPLS = ("pyfastnn", "torch")


def operands(case, seed=0):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((case.n, case.c)) * 2).astype(np.float32)
    target = rng.integers(0, case.c, case.n).astype(np.int64)
    return logits, target


def make(impl, case, threads):
    """A zero-argument callable running forward + backward of the mean cross-entropy."""
    logits, target = operands(case)
    if impl == "pyfastnn":
        import pyfastnn as pf
        import pyfastnn.nn.functional as F

        pf.set_num_threads(threads)
        x = pf.tensor(logits, requires_grad=True)
        t = pf.tensor(target)

        def run():
            x.grad = None
            F.cross_entropy(x, t).backward()

        return run
    if impl == "torch":
        import torch
        import torch.nn.functional as TF

        torch.set_num_threads(threads)
        x = torch.tensor(logits, requires_grad=True)
        t = torch.tensor(target)

        def run():
            x.grad = None
            TF.cross_entropy(x, t).backward()

        return run
    raise ValueError(f"make: unknown impl {impl!r}; expected one of {IMPLS}")


@pytest.mark.parametrize("impl", IMPLS)  # innermost: both run back to back per case
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
@pytest.mark.parametrize("threads", [1, 2], ids=["1T", "2T"])
def test_softmax_xent(benchmark, peak_gflops, threads, case, impl):
    try:
        fn = make(impl, case, threads)
    except ImportError as e:
        pytest.skip(f"{impl} is not installed ({e})")
    benchmark.group = f"softmax_xent {case.label} {threads}T"
    benchmark.extra_info.update(op="softmax_xent fwd+bwd", case=case.label, impl=impl, threads=threads,
                                flops=case.flops, peak_gflops=peak_gflops(threads), isa=_C.isa())
    small = case.n * case.c < 100_000
    # about a second per benchmark; the small case batches calls so timer overhead stays negligible
    benchmark.pedantic(fn, warmup_rounds=20 if small else 3, rounds=200 if small else 150,
                       iterations=20 if small else 1)

"""GEMM: pyfastnn.matmul vs torch.matmul vs numpy.matmul, same operands, same thread count.

    python -m pytest bench/test_bench_gemm.py --benchmark-json=bench/out/gemm.json
    python bench/report.py bench/out/gemm.json --write bench/RESULTS.md
"""

import pytest

from pyfastnn import _C
from pyfastnn.bench.gemm import CASES, IMPLS, make


@pytest.mark.parametrize("impl", IMPLS)  # innermost: the three run back to back per case
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label.replace(" ", "_"))
@pytest.mark.parametrize("threads", [1, 2], ids=["1T", "2T"])
def test_gemm(benchmark, peak_gflops, threads, case, impl):
    try:
        fn = make(impl, case, threads)
    except ImportError as e:
        pytest.skip(f"{impl} is not installed ({e})")
    benchmark.group = f"gemm {case.label} {threads}T"
    benchmark.extra_info.update(
        op="gemm", case=case.label, impl=impl, threads=threads, flops=case.flops, small=case.small,
        peak_gflops=peak_gflops(threads), isa=_C.isa(),
    )
    benchmark.pedantic(fn, warmup_rounds=2, rounds=_rounds(case.flops), iterations=1)


def _rounds(flops):
    # about a second per benchmark, at least 7 rounds for a stable median
    return max(7, min(400, int(1.5e11 / flops)))

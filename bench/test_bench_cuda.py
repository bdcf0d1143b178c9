"""GPU benchmarks: pyfastnn's CUDA kernels against PyTorch (cuBLAS / its fused kernels) on the
same GPU. Skipped without a GPU (and the torch rows without a CUDA build of PyTorch).

    pytest bench/test_bench_cuda.py --benchmark-json=bench/out/cuda.json
    python bench/report_cuda.py bench/out/cuda.json [--write bench/RESULTS_CUDA.md]

Every timed round is one call plus a device synchronization, so the medians are wall times
of finished GPU work (the synchronization adds a few microseconds to both sides).
"""

import numpy as np
import pytest

cp = pytest.importorskip("cupy")

import pyfastnn as pf  # noqa: E402

if not pf.cuda.is_available():
    pytest.skip("no GPU (pf.cuda.is_available() is False)", allow_module_level=True)

from pyfastnn import _cuda  # noqa: E402
from pyfastnn.backends import cuda as be  # noqa: E402

be._load()
GPU = pf.cuda.get_device_name(0)
ROUNDS = dict(warmup_rounds=5, rounds=30, iterations=1)


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _impls():
    return ["pyfastnn", "torch"]


def _info(benchmark, op, case, impl, flops=None, bytes_=None):
    benchmark.group = f"{op} {case}"
    benchmark.extra_info.update(op=op, case=case, impl=impl, threads="gpu", flops=flops, bytes=bytes_, gpu=GPU,
                                peak_gflops=None)


def _timed(benchmark, fn, sync):
    def run():
        fn()
        sync()

    benchmark.pedantic(run, **ROUNDS)


def _need_torch(impl):
    torch = _torch()
    if impl == "torch" and torch is None:
        pytest.skip("PyTorch with CUDA is not installed")
    return torch


# ---------------------------------------------------------------------------- GEMM

SQUARES = [1024, 2048, 4096, 8192]
# the MLP's products (batch 256, 784-1024-1024-10): forward x W^T, backward gz W and gz^T x
TRAINING = [("fwd 256x784 @ (1024x784)^T", 256, 1024, 784, False, True),
            ("dx 256x1024 @ 1024x784", 256, 784, 1024, False, False),
            ("dW (256x1024)^T @ 256x784", 1024, 784, 256, True, False),
            ("fwd 256x1024 @ (1024x1024)^T", 256, 1024, 1024, False, True)]


def _gemm_fn(impl, m, n, k, ta, tb, precision):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    if impl == "pyfastnn":
        da, db, dc = cp.asarray(a), cp.asarray(b), cp.empty((m, n), cp.float32)
        stream = cp.cuda.get_current_stream().ptr

        def f():
            _cuda.gemm(da.data.ptr, db.data.ptr, dc.data.ptr, m, n, k, a.shape[1], b.shape[1], n, 1.0, 0.0, ta, tb,
                       precision=precision, stream=stream)

        return f, cp.cuda.get_current_stream().synchronize
    torch = _torch()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    ta_, tb_ = torch.from_numpy(a).cuda().to(dtype), torch.from_numpy(b).cuda().to(dtype)
    out = torch.empty((m, n), device="cuda", dtype=dtype)
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    opa = ta_.T if ta else ta_
    opb = tb_.T if tb else tb_
    return (lambda: torch.matmul(opa, opb, out=out)), torch.cuda.synchronize


@pytest.mark.parametrize("impl", _impls())
@pytest.mark.parametrize("n", SQUARES)
def test_sgemm_square_fp32(benchmark, impl, n):
    _need_torch(impl)
    fn, sync = _gemm_fn(impl, n, n, n, False, False, "fp32")
    _info(benchmark, "sgemm fp32", f"{n}^3", impl, flops=2 * n**3)
    _timed(benchmark, fn, sync)


@pytest.mark.parametrize("impl", _impls())
@pytest.mark.parametrize("case", TRAINING, ids=[c[0] for c in TRAINING])
def test_sgemm_training_shapes(benchmark, impl, case):
    _need_torch(impl)
    name, m, n, k, ta, tb = case
    fn, sync = _gemm_fn(impl, m, n, k, ta, tb, "fp32")
    _info(benchmark, "sgemm fp32", name, impl, flops=2 * m * n * k)
    _timed(benchmark, fn, sync)


@pytest.mark.parametrize("impl", _impls())
@pytest.mark.parametrize("precision", ["tf32", "bf16"])
@pytest.mark.parametrize("n", [2048, 4096, 8192])
def test_gemm_tensor_cores(benchmark, impl, precision, n):
    _need_torch(impl)
    fn, sync = _gemm_fn(impl, n, n, n, False, False, precision)
    _info(benchmark, f"gemm {precision}", f"{n}^3", impl, flops=2 * n**3)
    _timed(benchmark, fn, sync)


# ---------------------------------------------------------------------------- softmax-CE

@pytest.mark.parametrize("impl", _impls())
@pytest.mark.parametrize("shape", [(4096, 32000), (256, 10), (8192, 1000)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_softmax_xent_forward_backward(benchmark, impl, shape):
    torch = _need_torch(impl)
    n, c = shape
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, c)).astype(np.float32)
    t = rng.integers(0, c, n)
    # forward reads the logits once; backward reads them and writes the gradient
    _info(benchmark, "softmax-CE fwd+bwd", f"{n}x{c}", impl, bytes_=3 * 4 * n * c)
    if impl == "pyfastnn":
        dx, dt = cp.asarray(x), cp.asarray(t)
        one = cp.asarray(1.0, cp.float32)

        def f():
            loss, state = be.softmax_xent_forward(dx, dt)
            be.softmax_xent_backward(dx, dt, state, one)

        _timed(benchmark, f, cp.cuda.get_current_stream().synchronize)
        return
    tx = torch.from_numpy(x).cuda().requires_grad_(True)
    tt = torch.from_numpy(t).cuda()

    def g():
        tx.grad = None
        torch.nn.functional.cross_entropy(tx, tt).backward()

    _timed(benchmark, g, torch.cuda.synchronize)


# ---------------------------------------------------------------------------- Adam

@pytest.mark.parametrize("impl", _impls())
@pytest.mark.parametrize("total", [100_000_000, 1_000_000], ids=["100M", "1M"])
def test_adam_step(benchmark, impl, total):
    torch = _need_torch(impl)
    sizes = [total // 10] * 10
    _info(benchmark, "adam step", f"{total // 1_000_000}M params in 10 tensors", impl, bytes_=7 * 4 * total)
    if impl == "pyfastnn":
        rng = np.random.default_rng(3)
        params = [cp.asarray(rng.standard_normal(s, dtype=np.float32)) for s in sizes]
        grads = [cp.asarray(rng.standard_normal(s, dtype=np.float32)) for s in sizes]
        m = [cp.zeros(s, cp.float32) for s in sizes]
        v = [cp.zeros(s, cp.float32) for s in sizes]
        steps = [1] * len(sizes)

        def f():
            steps[:] = [s + 1 for s in steps]
            be.adam_step(params, grads, m, v, None, steps, 1e-3, 0.9, 0.999, 1e-8, 0.0, False, False, False)

        _timed(benchmark, f, cp.cuda.get_current_stream().synchronize)
        return
    params = [torch.randn(s, device="cuda", requires_grad=True) for s in sizes]
    for p in params:
        p.grad = torch.randn_like(p)
    opt = torch.optim.Adam(params, lr=1e-3, fused=True)
    _timed(benchmark, opt.step, torch.cuda.synchronize)


# ---------------------------------------------------------------------------- MLP step

@pytest.mark.parametrize("impl", _impls())
def test_mlp_training_step(benchmark, impl):
    """zero_grad, forward, cross-entropy, backward, Adam: batch 256, 784-1024-1024-10."""
    torch = _need_torch(impl)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((256, 784)).astype(np.float32)
    y = rng.integers(0, 10, 256)
    _info(benchmark, "mlp train step", "batch 256, 784-1024-1024-10, Adam", impl,
          flops=3 * 2 * 256 * (784 * 1024 + 1024 * 1024 + 1024 * 10))
    if impl == "pyfastnn":
        from pyfastnn import nn

        model = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                              nn.Linear(1024, 10)).cuda()
        opt = pf.optim.Adam(model.parameters(), lr=1e-3)
        xt, yt = pf.tensor(x, device="cuda"), pf.tensor(y, device="cuda")

        def step():
            opt.zero_grad()
            nn.functional.cross_entropy(model(xt), yt).backward()
            opt.step()

        _timed(benchmark, step, cp.cuda.get_current_stream().synchronize)
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    model = torch.nn.Sequential(torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 1024),
                                torch.nn.ReLU(), torch.nn.Linear(1024, 10)).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()

    def tstep():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()

    _timed(benchmark, tstep, torch.cuda.synchronize)

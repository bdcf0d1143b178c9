"""What `pyfastnn bench` times: one case per op and size, each able to build the same work
for pyfastnn, PyTorch and (for GEMM) NumPy on the same data and thread count.

Every callable runs a whole training-step use of the op: forward + backward for layers and
losses, one step for optimizers, zero_grad/forward/loss/backward/step for models.
"""

from dataclasses import dataclass, field

import numpy as np

from . import gemm as gemm_cases

__all__ = ["OPS", "BenchCase", "cases", "Unavailable"]

OPS = ("gemm", "conv", "pool", "lstm", "xent", "adam", "mlp", "cnn")


class Unavailable(Exception):
    """This implementation cannot run the case here (library or layer missing)."""


@dataclass(frozen=True)
class BenchCase:
    op: str
    label: str
    flops: float = None  # per call; None where FLOP/s means little (memory- or exp-bound)
    impls: tuple = ("pyfastnn", "torch")
    params: dict = field(default_factory=dict, hash=False, compare=False)

    def make(self, impl, threads):
        """A zero-argument callable doing one unit of work; raises Unavailable."""
        return _MAKERS[self.op](self, impl, threads)


def _pf(threads):
    import pyfastnn as pf

    pf.set_num_threads(threads)
    return pf


def _torch(threads):
    try:
        import torch
    except ImportError as e:
        raise Unavailable(f"PyTorch is not installed ({e})") from None
    torch.set_num_threads(threads)
    return torch


def _need(pf, *names):
    missing = [n for n in names if not hasattr(pf.nn, n)]
    if missing:
        raise Unavailable(f"pyfastnn.nn.{missing[0]} is not available in this version")


def _rng():
    return np.random.default_rng(0)


# ---- gemm ----
def _make_gemm(case, impl, threads):
    try:
        return gemm_cases.make(impl, case.params["case"], threads)
    except ImportError as e:
        raise Unavailable(f"{impl} is not installed ({e})") from None


def _gemm(c):
    return BenchCase("gemm", c.label, c.flops, ("pyfastnn", "torch", "numpy"), {"case": c})


# ---- layers: forward + backward ----
def _fwd_bwd(lib, fn, inputs):
    """Callable: clear grads, y = fn(*inputs), y.backward(ones-like upstream gradient)."""
    def step():
        for t in inputs:
            t.grad = None
        out = fn(*inputs)
        out = out[0] if isinstance(out, tuple) else out
        out.backward(upstream[0] if upstream else None)

    upstream = []
    out = fn(*inputs)
    out = out[0] if isinstance(out, tuple) else out
    upstream.append(lib.ones_like(out) if lib is not None else None)
    return step


def _make_conv(case, impl, threads):
    n, cin, cout, hw, k = (case.params[k] for k in ("n", "cin", "cout", "hw", "k"))
    rng = _rng()
    x = rng.standard_normal((n, cin, hw, hw), dtype=np.float32)
    w = (rng.standard_normal((cout, cin, k, k), dtype=np.float32) * 0.1).astype(np.float32)
    b = rng.standard_normal(cout, dtype=np.float32)
    if impl == "pyfastnn":
        pf = _pf(threads)
        if not hasattr(pf.nn.functional, "conv2d"):
            raise Unavailable("pyfastnn.nn.functional.conv2d is not available in this version")
        ts = [pf.tensor(a, requires_grad=True) for a in (x, w, b)]
        return _fwd_bwd(pf, lambda x, w, b: pf.nn.functional.conv2d(x, w, b, padding=k // 2), ts)
    torch = _torch(threads)
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    return _fwd_bwd(torch, lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=k // 2), ts)


def _conv(n, cin, cout, hw, k=3):
    flops = 3 * 2.0 * n * cout * hw * hw * cin * k * k  # forward, backward-data, backward-weight
    return BenchCase("conv", f"conv2d {k}x{k} {cin}->{cout} {hw}x{hw} batch {n} fwd+bwd", flops,
                     params=dict(n=n, cin=cin, cout=cout, hw=hw, k=k))


def _make_pool(case, impl, threads):
    n, c, hw = (case.params[k] for k in ("n", "c", "hw"))
    x = _rng().standard_normal((n, c, hw, hw), dtype=np.float32)
    if impl == "pyfastnn":
        pf = _pf(threads)
        if not hasattr(pf.nn.functional, "max_pool2d"):
            raise Unavailable("pyfastnn.nn.functional.max_pool2d is not available in this version")
        return _fwd_bwd(pf, lambda t: pf.nn.functional.max_pool2d(t, 2), [pf.tensor(x, requires_grad=True)])
    torch = _torch(threads)
    return _fwd_bwd(torch, lambda t: torch.nn.functional.max_pool2d(t, 2), [torch.tensor(x, requires_grad=True)])


def _pool(n, c, hw):
    return BenchCase("pool", f"max_pool2d 2x2 {n}x{c}x{hw}x{hw} fwd+bwd", None, params=dict(n=n, c=c, hw=hw))


def _make_lstm(case, impl, threads):
    n, t, f, h = (case.params[k] for k in ("n", "t", "f", "h"))
    x = _rng().standard_normal((n, t, f), dtype=np.float32)
    if impl == "pyfastnn":
        pf = _pf(threads)
        _need(pf, "LSTM")
        pf.manual_seed(0)
        layer = pf.nn.LSTM(f, h, batch_first=True)
        xt = pf.tensor(x, requires_grad=True)
        return _fwd_bwd(pf, layer, [xt])
    torch = _torch(threads)
    torch.manual_seed(0)
    layer = torch.nn.LSTM(f, h, batch_first=True)
    return _fwd_bwd(torch, layer, [torch.tensor(x, requires_grad=True)])


def _lstm(n, t, f, h):
    flops = 3 * 2.0 * n * t * 4 * h * (f + h)  # the gate GEMMs, forward and two backward
    return BenchCase("lstm", f"LSTM {f}->{h} seq {t} batch {n} fwd+bwd", flops, params=dict(n=n, t=t, f=f, h=h))


def _make_xent(case, impl, threads):
    n, c = case.params["n"], case.params["c"]
    rng = _rng()
    logits = (rng.standard_normal((n, c)) * 2).astype(np.float32)
    target = rng.integers(0, c, n).astype(np.int64)
    if impl == "pyfastnn":
        pf = _pf(threads)
        x, y = pf.tensor(logits, requires_grad=True), pf.tensor(target)
        return _fwd_bwd(None, lambda x: pf.nn.functional.cross_entropy(x, y), [x])
    torch = _torch(threads)
    x, y = torch.tensor(logits, requires_grad=True), torch.from_numpy(target)
    return _fwd_bwd(None, lambda x: torch.nn.functional.cross_entropy(x, y), [x])


def _xent(n, c):
    return BenchCase("xent", f"softmax cross-entropy {n}x{c} fwd+bwd", None, params=dict(n=n, c=c))


def _make_adam(case, impl, threads):
    sizes = case.params["sizes"]
    rng = _rng()
    weights = [rng.standard_normal(s, dtype=np.float32) for s in sizes]
    grads = [rng.standard_normal(s, dtype=np.float32) for s in sizes]
    if impl == "pyfastnn":
        pf = _pf(threads)
        params = [pf.nn.Parameter(w) for w in weights]
        for p, g in zip(params, grads):
            p.grad = pf.tensor(g)
        return pf.optim.Adam(params, lr=1e-3).step
    torch = _torch(threads)
    params = [torch.nn.Parameter(torch.from_numpy(w)) for w in weights]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g)
    return torch.optim.Adam(params, lr=1e-3).step  # PyTorch's default (foreach) implementation


def _adam(total, tensors):
    sizes = [total // tensors] * tensors
    return BenchCase("adam", f"Adam step {total / 1e6:g}M params in {tensors} tensors", None,
                     params=dict(sizes=sizes))


# ---- whole training steps ----
def _train_step(lib, model, opt, loss_fn, x, y):
    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def _make_model(case, impl, threads):
    from ..train import zoo

    name, shape, batch = case.params["model"], case.params["shape"], case.params["batch"]
    rng = _rng()
    x = rng.random((batch,) + shape, dtype=np.float32)
    y = rng.integers(0, 10, batch).astype(np.int64)
    pf = _pf(threads)
    if name == "cnn":
        _need(pf, "Conv2d", "MaxPool2d", "BatchNorm2d")
    pf.manual_seed(0)
    model = zoo.build(name, shape, 10, **case.params.get("options", {}))
    if impl == "pyfastnn":
        opt = pf.optim.Adam(model.parameters(), lr=1e-3)
        return _train_step(pf, model, opt, pf.nn.functional.cross_entropy, pf.tensor(x), pf.tensor(y))
    torch = _torch(threads)
    from .torch_models import to_torch

    net = to_torch(model).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    return _train_step(torch, net, opt, torch.nn.functional.cross_entropy, torch.from_numpy(x), torch.from_numpy(y))


def _model(name, shape, batch, flops, label, **options):
    return BenchCase(name, label, flops, params=dict(model=name, shape=shape, batch=batch, options=options))


def _mlp_flops(batch, sizes):
    return 3 * 2.0 * batch * sum(a * b for a, b in zip(sizes, sizes[1:]))


def _cnn_flops(batch):
    conv = 2.0 * batch * (32 * 28 * 28 * 1 * 9 + 64 * 14 * 14 * 32 * 9)
    dense = 2.0 * batch * (3136 * 128 + 128 * 10)
    return 3 * (conv + dense)  # the first conv's backward-data is skipped by both; close enough


_MAKERS = {"gemm": _make_gemm, "conv": _make_conv, "pool": _make_pool, "lstm": _make_lstm, "xent": _make_xent,
           "adam": _make_adam, "mlp": _make_model, "cnn": _make_model}


def cases(ops=OPS, quick=False):
    """The cases of the chosen ops: small and few when quick, the issue's sizes otherwise."""
    sq = {c.label: c for c in gemm_cases.SQUARE}
    tr = {c.label: c for c in gemm_cases.TRAINING}
    table = {
        "gemm": [_gemm(sq["square 512"]), _gemm(tr["mlp 784-256.fwd"])] if quick else
                [_gemm(sq[f"square {s}"]) for s in (256, 512, 1024, 2048)] + [_gemm(c) for c in gemm_cases.TRAINING],
        "conv": [_conv(16, 32, 64, 28)] if quick else [_conv(64, 32, 64, 28), _conv(32, 64, 64, 56)],
        "pool": [_pool(16, 64, 56)] if quick else [_pool(64, 64, 56)],
        "lstm": [_lstm(32, 28, 28, 128)] if quick else [_lstm(64, 28, 28, 128), _lstm(64, 50, 64, 256)],
        "xent": [_xent(512, 1000)] if quick else [_xent(512, 1000), _xent(64, 10)],
        "adam": [_adam(1_000_000, 8)] if quick else [_adam(4_000_000, 24)],
        "mlp": [_model("mlp", (784,), 128, _mlp_flops(128, (784, 256, 128, 10)),
                       "MLP 784-256-128-10 train step batch 128", hidden=(256, 128), dropout=0.0)],
        "cnn": [_model("cnn", (1, 28, 28), 64, _cnn_flops(64), "CNN 32/64 (Fashion-MNIST) train step batch 64")],
    }
    unknown = [o for o in ops if o not in table]
    if unknown:
        raise ValueError(f"unknown op {unknown[0]!r}; choose from: {', '.join(OPS)}")
    return [c for o in ops for c in table[o]]

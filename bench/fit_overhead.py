"""How much of a fit() epoch is spent outside our kernels (Python, numpy glue, callbacks)?

Times one epoch of the digits MLP (64-128-64-10 ReLU, dropout, Adam, batch 32) and, in the
same epoch, the time inside every pyfastnn._C call (each wrapped with a timer). Target:
< 15% outside the kernels.

    python bench/fit_overhead.py
"""

import functools
import time

import numpy as np

import pyfastnn as pf
from pyfastnn import _C, nn
from pyfastnn.data import datasets


def wrap_kernels(acc):
    originals = {}
    for name in dir(_C):
        fn = getattr(_C, name)
        if callable(fn) and not name.startswith("_") and type(fn).__name__ == "builtin_function_or_method":
            originals[name] = fn

            def timed(*a, _fn=fn, **k):
                t0 = time.perf_counter()
                try:
                    return _fn(*a, **k)
                finally:
                    acc[0] += time.perf_counter() - t0

            setattr(_C, name, functools.wraps(fn)(timed))
    return originals


def main(epochs=5, threads=None):
    if threads:
        pf.set_num_threads(threads)
    pf.manual_seed(0)
    x, y = datasets.digits()
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 64), nn.ReLU(),
                          nn.Linear(64, 10))
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)  # warm-up
    acc = [0.0]
    # the backends bound _C functions at import: rebind the modules that call through _C
    originals = wrap_kernels(acc)
    import pyfastnn.backends.cpu as cpu

    mods = [m for m in vars(cpu).values() if hasattr(m, "_C")]
    for m in mods:
        m._C = _C
    times, inside = [], []
    try:
        for _ in range(epochs):
            acc[0] = 0.0
            t0 = time.perf_counter()
            model.fit(x, y, epochs=1, batch_size=32, verbose=0)
            times.append(time.perf_counter() - t0)
            inside.append(acc[0])
    finally:
        for name, fn in originals.items():
            setattr(_C, name, fn)
    t, k = np.median(times), np.median(inside)
    print(f"digits MLP epoch ({len(x)} samples, batch 32, {pf.get_num_threads()} threads): {t * 1e3:.1f} ms, "
          f"{k * 1e3:.1f} ms in kernels -> {100 * (1 - k / t):.0f}% outside the kernels")
    t_torch = torch_epoch(x, y, epochs)
    if t_torch:
        print(f"the same epoch as a PyTorch training loop: {t_torch * 1e3:.1f} ms -> fit() is {t_torch / t:.2f}x "
              f"PyTorch's speed")
    return t, k


def torch_epoch(x, y, epochs):
    """Median time of the same epoch written as the usual PyTorch loop (None without torch)."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(pf.get_num_threads())
    torch.manual_seed(0)
    tn = torch.nn
    model = tn.Sequential(tn.Linear(64, 128), tn.ReLU(), tn.Dropout(0.2), tn.Linear(128, 64), tn.ReLU(),
                          tn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters())
    xt, yt = torch.from_numpy(np.ascontiguousarray(x, np.float32)), torch.from_numpy(y.astype(np.int64))

    def epoch():
        model.train()
        correct, total = 0, 0.0
        for idx in torch.randperm(len(xt)).split(32):
            xb, yb = xt[idx], yt[idx]
            opt.zero_grad()
            out = model(xb)
            loss = tn.functional.cross_entropy(out, yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)  # what fit() reports: mean loss and accuracy
            correct += (out.argmax(1) == yb).sum().item()

    epoch()  # warm-up
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


if __name__ == "__main__":
    main()

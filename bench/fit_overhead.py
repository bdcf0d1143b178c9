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
    return t, k


if __name__ == "__main__":
    main()

"""`pyfastnn bench`: time each case with every implementation that can run it here, print
one row per case (median times side by side, pyfastnn's GFLOP/s and % of this CPU's FP32
peak, and how many times faster pyfastnn is than PyTorch), optionally as Markdown/CSV.

Times are medians over repeated calls after warm-up, within a time budget per case."""

import csv
import statistics
import time

from .ops import OPS, Unavailable, cases

__all__ = ["BenchError", "measure", "run_cases", "format_table", "run"]

_NAMES = {"pyfastnn": "pyfastnn", "torch": "PyTorch", "numpy": "NumPy"}


class BenchError(Exception):
    """A problem with the command line, told in words the user can act on."""


def measure(fn, budget=0.5, min_runs=3, max_runs=200, warmup=2):
    """Median seconds of fn() over runs that fit in about `budget` seconds."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_cases(selected, threads, budget, progress=None):
    """[{case, times {impl: seconds}, notes {impl: why skipped}}] for each case."""
    rows = []
    for case in selected:
        row = dict(case=case, times={}, notes={})
        for impl in case.impls:
            try:
                fn = case.make(impl, threads)
            except Unavailable as e:
                row["notes"][impl] = str(e)
                continue
            row["times"][impl] = measure(fn, budget)
        rows.append(row)
        if progress:
            progress(row)
    return rows


def _ms(t):
    return "-" if t is None else f"{t * 1e3:.3f}" if t < 0.01 else f"{t * 1e3:.2f}" if t < 1 else f"{t * 1e3:.0f}"


def table_rows(rows, peak):
    """The table as lists of strings: header first."""
    impls = [i for i in ("pyfastnn", "torch", "numpy") if any(i in r["case"].impls for r in rows)]
    head = ["op", "case"] + [f"{_NAMES[i]} ms" for i in impls] + ["GFLOP/s", "% of peak", "vs PyTorch"]
    out = [head]
    for r in rows:
        t = r["times"]
        pf_t, torch_t = t.get("pyfastnn"), t.get("torch")
        flops = r["case"].flops
        gflops = flops / pf_t / 1e9 if flops and pf_t else None
        cells = [r["case"].op, r["case"].label] + [_ms(t.get(i)) for i in impls]
        cells += ["-" if gflops is None else f"{gflops:.1f}", "-" if gflops is None or not peak else
                  f"{100 * gflops / peak:.0f}%", "-" if not (pf_t and torch_t) else f"{torch_t / pf_t:.2f}x"]
        out.append(cells)
    return out


def format_table(rows, peak, markdown=False):
    cells = table_rows(rows, peak)
    if markdown:
        lines = ["| " + " | ".join(cells[0]) + " |", "|" + "|".join("---" if i < 2 else "---:" for i in
                                                                  range(len(cells[0]))) + "|"]
        lines += ["| " + " | ".join(c) + " |" for c in cells[1:]]
        return "\n".join(lines)
    widths = [max(len(c[i]) for c in cells) for i in range(len(cells[0]))]
    fmt = lambda c: "  ".join(v.ljust(w) if i < 2 else v.rjust(w) for i, (v, w) in enumerate(zip(c, widths)))  # noqa
    return "\n".join([fmt(cells[0]), "  ".join("-" * w for w in widths)] + [fmt(c) for c in cells[1:]])


def write_csv(rows, peak, threads, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["op", "case", "impl", "threads", "median_s", "gflops", "pct_peak", "speedup_of_pyfastnn"])
        for r in rows:
            flops, pf_t = r["case"].flops, r["times"].get("pyfastnn")
            for impl, t in r["times"].items():
                g = flops / t / 1e9 if flops else None
                w.writerow([r["case"].op, r["case"].label, impl, threads, f"{t:.6g}", "" if g is None else f"{g:.4g}",
                            "" if g is None or not peak else f"{100 * g / peak:.3g}",
                            "" if impl == "pyfastnn" or not pf_t else f"{t / pf_t:.4g}"])


def _peak(threads, seconds):
    """The FP32 FMA peak of `threads` cores: the best of a few tries, and at least threads x
    one core's peak (another process holding a core for a moment must not lower the bar)."""
    from .. import _C

    tries = [_C.peak_gflops(threads, seconds) for _ in range(2)]
    return max(tries + [threads * max(_C.peak_gflops(1, seconds) for _ in range(2))])


def run(o):
    """The bench command: options quick, ops (comma-separated), threads, markdown, csv."""
    import pyfastnn as pf

    ops = [s.strip() for s in (o.ops or ",".join(OPS)).split(",") if s.strip()]
    unknown = [s for s in ops if s not in OPS]
    if unknown:
        raise BenchError(f"unknown op {unknown[0]!r} in --ops; choose from: {', '.join(OPS)}")
    for path in (o.markdown, o.csv):
        if path:
            try:
                open(path, "a").close()
            except OSError as e:
                raise BenchError(f"cannot write {path}: {e.strerror or e}") from None
    threads = pf.get_num_threads()
    peak = _peak(threads, 0.1 if o.quick else 0.3)
    budget = 0.25 if o.quick else 1.0
    try:
        import torch

        other = f"PyTorch {torch.__version__}"
    except ImportError:
        other = "PyTorch not installed: pyfastnn (and NumPy) only"
    print(f"pyfastnn {pf.__version__} bench{' --quick' if o.quick else ''}: {threads} threads, "
          f"{pf.backends.cpu.isa()} kernels, FP32 peak {peak:.0f} GFLOP/s; {other}", flush=True)
    print("median time per call; GFLOP/s and % of peak are pyfastnn's; 'vs PyTorch' = PyTorch time / pyfastnn "
          "time (> 1: pyfastnn is faster)", flush=True)
    t0 = time.perf_counter()
    rows = run_cases(cases(ops, quick=o.quick), threads, budget,
                     progress=lambda r: print(f"  {r['case'].label}: done", flush=True) if not o.quick else None)
    print()
    print(format_table(rows, peak))
    notes = sorted({f"{_NAMES[i]}: {why}" for r in rows for i, why in r["notes"].items()})
    for n in notes:
        print(f"skipped {n}")
    print(f"({time.perf_counter() - t0:.1f} s)")
    if o.markdown:
        with open(o.markdown, "w") as f:
            f.write(f"pyfastnn {pf.__version__}, {threads} threads, {pf.backends.cpu.isa()}, FP32 peak {peak:.0f} "
                    f"GFLOP/s; {other}\n\n{format_table(rows, peak, markdown=True)}\n")
    if o.csv:
        write_csv(rows, peak, threads, o.csv)
    return rows

"""Turn pytest-benchmark JSON files into the side-by-side tables of bench/RESULTS.md.

    python bench/report.py bench/out/gemm.json [more.json ...] [--write bench/RESULTS.md]

One row per (op, case, threads): the median time and GFLOP/s of every implementation, %
of the machine's measured FMA peak, and the speed-up of pyfastnn over each other
implementation (> 1: pyfastnn is faster).
"""

import argparse
import json
import platform
import sys
from collections import defaultdict


def load(paths):
    rows = defaultdict(dict)  # (op, case, threads) -> impl -> stats
    meta, runs = {}, []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        meta = data.get("machine_info", meta)
        runs.append(data.get("datetime", "")[:19])
        for b in data["benchmarks"]:  # a later file's row replaces an earlier one's
            info = b["extra_info"]
            key = (info["op"], info["case"], info["threads"])
            rows[key][info["impl"]] = {"median": b["stats"]["median"], **info}
    meta["datetime"] = ", ".join(runs)
    return rows, meta


def fmt_time(s):
    return f"{s * 1e3:.3f} ms" if s < 1 else f"{s:.2f} s"


def _impls(rows):
    """pyfastnn first, then torch variants, then the rest, as they appear."""
    seen = list(dict.fromkeys(impl for by in rows.values() for impl in by))
    return sorted(seen, key=lambda i: (i != "pyfastnn", not i.startswith("torch"), seen.index(i)))


def table(rows):
    impls = _impls(rows)
    others = [i for i in impls if i != "pyfastnn"]
    head = ["op", "case", "T"]
    for impl in impls:
        head += [f"{impl} median", "GFLOP/s"] + (["% peak"] if impl == "pyfastnn" else [])
    head += [f"vs {o}" for o in others]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (op, case, threads), by_impl in rows.items():
        cells = [op, case, str(threads)]
        for impl in impls:
            r = by_impl.get(impl)
            if r is None:
                cells += ["—", "—"] + (["—"] if impl == "pyfastnn" else [])
                continue
            gflops = r["flops"] / r["median"] / 1e9 if r.get("flops") else None
            cells += [fmt_time(r["median"]), f"{gflops:.1f}" if gflops else "—"]
            if impl == "pyfastnn":
                peak = r.get("peak_gflops")
                cells.append(f"{100 * gflops / peak:.0f}%" if gflops and peak else "—")
        pf = by_impl.get("pyfastnn")
        for o in others:
            r = by_impl.get(o)
            cells.append(f"**{r['median'] / pf['median']:.2f}x**" if pf and r else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def header(rows, meta):
    any_row = next(iter(next(iter(rows.values())).values()))
    best = {}  # threads -> the highest peak measured (several JSON files: several measurements)
    for by in rows.values():
        for r in by.values():
            if r.get("peak_gflops"):
                best[r["threads"]] = max(best.get(r["threads"], 0), r["peak_gflops"])
    peaks = sorted(best.items())
    cpu = meta.get("cpu", {}).get("brand_raw") or platform.processor() or "unknown CPU"
    peak_txt = ", ".join(f"{t} thread{'s' if t > 1 else ''}: {p:.0f} GFLOP/s" for t, p in peaks if p)
    return (
        f"Machine: {cpu}, kernels `{any_row.get('isa', '?')}`; measured FP32 FMA peak {peak_txt}.  \n"
        f"Run: {meta.get('datetime', '')}. Times are medians; GFLOP/s from the median; "
        f"'vs X' = X's median / pyfastnn's median (> 1 means pyfastnn is faster)."
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("json", nargs="+")
    p.add_argument("--write", help="also write the Markdown (with the command) to this file")
    p.add_argument("--command", default="", help="the command that produced the JSON, for the file")
    args = p.parse_args(argv)
    rows, meta = load(args.json)
    text = header(rows, meta) + "\n\n" + table(rows)
    print(text)
    if args.write:
        cmd = args.command or "python -m pytest bench/ --benchmark-json=bench/out/results.json"
        with open(args.write, "w") as f:
            f.write("# Benchmark results\n\n")
            f.write(f"Produced by:\n\n```\n{cmd}\npython bench/report.py {' '.join(args.json)} --write {args.write}\n```\n\n")
            f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())

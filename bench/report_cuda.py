"""Tables of the GPU benchmarks (bench/test_bench_cuda.py) for bench/RESULTS.md.

    pytest bench/test_bench_cuda.py --benchmark-json=bench/out/cuda.json
    python bench/report_cuda.py bench/out/cuda.json [--write bench/RESULTS_CUDA.md]

One row per (op, case): each implementation's median, its GFLOP/s (products) or GB/s
(memory-bound kernels: bytes that must move, over the median), and 'vs torch' = torch's
median / pyfastnn's (> 1: pyfastnn is faster).
"""

import argparse
import json
import sys
from collections import defaultdict


def load(paths):
    rows = defaultdict(dict)
    gpu = "unknown GPU"
    when = ""
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        when = data.get("datetime", when)
        for b in data["benchmarks"]:
            info = b["extra_info"]
            gpu = info.get("gpu", gpu)
            rows[(info["op"], info["case"])][info["impl"]] = {"median": b["stats"]["median"], **info}
    return rows, gpu, when


def rate(r):
    if r.get("flops"):
        return f"{r['flops'] / r['median'] / 1e9:.0f} GFLOP/s"
    if r.get("bytes"):
        return f"{r['bytes'] / r['median'] / 1e9:.0f} GB/s"
    return "—"


def table(rows):
    lines = ["| op | case | pyfastnn | rate | torch | rate | vs torch |", "|---|---|---|---|---|---|---|"]
    for (op, case), by in rows.items():
        cells = [op, case]
        for impl in ("pyfastnn", "torch"):
            r = by.get(impl)
            cells += [f"{r['median'] * 1e3:.3f} ms", rate(r)] if r else ["—", "—"]
        mine, theirs = by.get("pyfastnn"), by.get("torch")
        cells.append(f"**{theirs['median'] / mine['median']:.2f}x**" if mine and theirs else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("json", nargs="+")
    p.add_argument("--write", help="also write the Markdown to this file")
    args = p.parse_args(argv)
    rows, gpu, when = load(args.json)
    text = (f"GPU: {gpu}. Run: {when[:19]}. Medians of rounds that each end with a device synchronization; "
            f"'vs torch' > 1 means pyfastnn is faster.\n\n" + table(rows))
    print(text)
    if args.write:
        with open(args.write, "w") as f:
            f.write("# GPU benchmark results\n\nProduced by:\n\n```\npytest bench/test_bench_cuda.py "
                    f"--benchmark-json={args.json[0]}\npython bench/report_cuda.py {' '.join(args.json)} --write "
                    f"{args.write}\n```\n\n{text}\n")


if __name__ == "__main__":
    sys.exit(main())

"""The `pyfastnn` command.

    pyfastnn            configuration report + GEMM demo (the main job, for now)
    pyfastnn info       configuration report: version, ISA, threads, CUDA
    pyfastnn demo       GEMM demo: pyfastnn.matmul vs NumPy, checked against the reference
"""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pyfastnn", description="pyfastnn: fast neural networks on our own kernels")
    parser.add_argument("--threads", type=int, help="number of CPU threads for the kernels")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("info", help="version, instruction set, threads, CUDA build and device")
    demo = sub.add_parser("demo", help="GEMM demo against NumPy and the float64 reference")
    demo.add_argument("--size", type=int, default=1024, help="n for an n x n x n product (default 1024)")
    args = parser.parse_args(argv)

    import pyfastnn as pf
    from pyfastnn.__main__ import gemm_demo

    if args.threads is not None:
        pf.set_num_threads(args.threads)
    if args.command in (None, "info"):
        pf.show_config()
    if args.command in (None, "demo"):
        gemm_demo(getattr(args, "size", 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `pyfastnn` command.

    pyfastnn                 the same as `pyfastnn train`: a small CNN on the shipped 8x8 digits
    pyfastnn train [...]     train a model (mlp, cnn, lenet, lstm) on a dataset, print test
                             accuracy and time per epoch; --out DIR writes history, weights,
                             a summary and plots
    pyfastnn bench [--quick] timings of our kernels and training steps next to PyTorch (and NumPy)
    pyfastnn info            configuration report: version, ISA, threads, CUDA
    pyfastnn demo            GEMM demo: pyfastnn.matmul vs NumPy, checked against the reference
"""

import argparse
import sys

_TRAIN_EXAMPLES = """examples:
  pyfastnn train                                         # small CNN on the 8x8 digits, < 1 minute
  pyfastnn train --model cnn --dataset fashion-mnist --epochs 5 --out runs/fashion
  pyfastnn train --model mlp --dataset moons --out runs/moons   # with a decision-boundary plot
  pyfastnn train --model lstm --dataset sine
  pyfastnn train --dataset fashion-mnist --limit 2000 --epochs 1  # a quick try on a subset
"""


def _train_parser(sub):
    from .train.job import OPTIMIZERS
    from .train.tasks import DATASETS
    from .train.zoo import MODELS

    p = sub.add_parser("train", help="train a model and report test accuracy (the default command)",
                       description="Train a model on a dataset, print test accuracy and time per epoch.",
                       epilog=_TRAIN_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=MODELS, help="model (default: cnn for images, mlp for moons, lstm for sine)")
    p.add_argument("--dataset", choices=DATASETS, default="digits", help="dataset (default: digits)")
    p.add_argument("--epochs", type=int, help="epochs (default: per dataset)")
    p.add_argument("--batch-size", type=int, help="batch size (default: per dataset)")
    p.add_argument("--lr", type=float, help="learning rate (default: per dataset and optimizer)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="optimizer (default: adam)")
    p.add_argument("--schedule", choices=("cosine", "constant"), default="cosine",
                   help="learning rate per epoch: cosine decay from --lr toward 0, or constant (default: cosine)")
    p.add_argument("--momentum", type=float, default=0.0, help="momentum for sgd and rmsprop (default: 0)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="device (default: cpu)")
    p.add_argument("--threads", type=int, default=argparse.SUPPRESS, help="number of CPU threads (default: all cores)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--limit", type=int, help="use at most N samples of each split (quick runs)")
    p.add_argument("--data-dir", metavar="DIR", help="folder with the MNIST/Fashion-MNIST IDX files (default: "
                   "~/.cache/pyfastnn/NAME or $PYFASTNN_DATA/NAME, then /usr/share/datasets/NAME, then a download)")
    p.add_argument("--out", help="write history.csv, weights.npz, summary.txt and PNG plots into this folder")
    p.add_argument("--compare-torch", action="store_true", help="also time one epoch of the same model in PyTorch")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    return p


def _bench_parser(sub):
    from .bench.ops import OPS

    p = sub.add_parser("bench", help="time our kernels and training steps next to PyTorch and NumPy",
                       description="Median times of pyfastnn, PyTorch (when installed) and NumPy on the same "
                                   "work and thread count, with GFLOP/s, % of this CPU's FP32 peak and the "
                                   "speed ratio.")
    p.add_argument("--quick", action="store_true", help="small cases and few repeats: well under a minute")
    p.add_argument("--ops", default=",".join(OPS), help=f"comma-separated subset of: {','.join(OPS)} (default: all)")
    p.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    p.add_argument("--threads", type=int, default=argparse.SUPPRESS, help="threads (default: all cores)")
    return p


COMMANDS = ("train", "bench", "info", "demo")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a in COMMANDS for a in argv) and not {"-h", "--help"} & set(argv):
        argv.insert(0, "train")  # `pyfastnn [train options]` is the main job: train
    parser = argparse.ArgumentParser(prog="pyfastnn", description="pyfastnn: fast neural networks on our own kernels. "
                                     "With no command: `pyfastnn train` (a small CNN on the shipped digits).")
    parser.add_argument("--threads", type=int, help="number of CPU threads for the kernels")
    sub = parser.add_subparsers(dest="command", metavar="{train,bench,info,demo}")
    _train_parser(sub)
    _bench_parser(sub)
    sub.add_parser("info", help="version, instruction set, threads, CUDA build and device")
    demo = sub.add_parser("demo", help="GEMM demo against NumPy and the float64 reference")
    demo.add_argument("--size", type=int, default=1024, help="n for an n x n x n product (default 1024)")
    args = parser.parse_args(argv)

    import pyfastnn as pf

    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be at least 1, got {args.threads}")
        pf.set_num_threads(args.threads)
    if args.command == "info":
        pf.show_config()
    elif args.command == "demo":
        from pyfastnn.__main__ import gemm_demo

        gemm_demo(args.size)
    elif args.command == "train":
        from .train.job import JobError, run

        try:
            run(args)
        except JobError as e:
            print(f"pyfastnn train: error: {e}", file=sys.stderr)
            return 2
    elif args.command == "bench":
        from .bench.runner import BenchError, run

        try:
            run(args)
        except BenchError as e:
            print(f"pyfastnn bench: error: {e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`pyfastnn train`: train a zoo model on a known dataset, report test numbers and timing,
and (with --out) write history.csv, weights.npz, summary.txt and PNG plots.

run(options) takes the parsed command-line options (see pyfastnn/cli.py); every problem the
user can fix (unknown names, missing data, a non-writable --out, no CUDA) is raised as
JobError with a message saying what to do, before any training starts.
"""

import math
import os
import sys
import tempfile
import time
import warnings

import numpy as np

from .callbacks import Callback, CSVLogger, LearningRateScheduler
from .diagnostics import GradientMonitor, GradientWarning
from .loop import _OPTIMIZERS
from .tasks import load_task
from . import zoo

__all__ = ["JobError", "run", "OPTIMIZERS"]

OPTIMIZERS = tuple(_OPTIMIZERS)


class JobError(Exception):
    """A problem with the command line or the environment, told in words the user can act on."""


class EpochTimer(Callback):
    """Seconds spent in the training batches of each epoch (validation left out)."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.last = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(getattr(self, "last", time.perf_counter()) - self.t0)


def _check_out(out):
    """Create --out and prove it writable now, not after an hour of training."""
    try:
        os.makedirs(out, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as e:
        raise JobError(f"--out {out}: cannot write there ({e.strerror or e}); choose another folder") from None


def _check_device(device):
    """None for the CPU, "cuda" when CUDA tensors work here; else say what is missing."""
    if device == "cpu":
        return None
    import inspect

    import pyfastnn as pf
    from .loop import fit

    cuda = getattr(pf, "cuda", None)
    if cuda is None or "device" not in inspect.signature(fit).parameters:
        raise JobError("--device cuda: this version of pyfastnn trains on the CPU only; use --device cpu")
    try:
        cuda.require("CUDA tensors")
    except RuntimeError as e:
        raise JobError(f"--device cuda: CUDA is not available here. {e} Or train on the CPU with --device cpu.") \
            from None
    return "cuda"


def _optimizer(model, name, lr, momentum):
    from .. import optim
    from .loop import get_optimizer

    opt = get_optimizer(name, model)
    if momentum and isinstance(opt, (optim.SGD, optim.RMSprop)):
        for g in opt.param_groups:
            g["momentum"] = momentum
    elif momentum:
        raise JobError(f"--momentum applies to sgd and rmsprop, not {name}")
    for g in opt.param_groups:
        g["lr"] = lr
    return opt


def _say(text=""):
    print(text, flush=True)


DEFAULTS = dict(model=None, dataset="digits", epochs=None, batch_size=None, lr=None, optimizer="adam", momentum=0.0,
                schedule="cosine", device="cpu", threads=None, seed=0, limit=None, data_dir=None, out=None,
                compare_torch=False, quiet=False)


def run(o=None, **options):
    """Train as the options say (an argparse Namespace from the command line and/or keywords
    named as its options, e.g. run(dataset="moons", epochs=5)); returns a dict of results
    (test metrics, timings, files written)."""
    import argparse

    import pyfastnn as pf

    o = argparse.Namespace(**{**DEFAULTS, **vars(o or argparse.Namespace()), **options})

    t_start = time.perf_counter()
    if o.out:
        _check_out(o.out)
    device = _check_device(o.device)
    if o.threads is not None:
        if o.threads < 1:
            raise JobError(f"--threads must be at least 1, got {o.threads}")
        pf.set_num_threads(o.threads)
    for name in ("epochs", "batch_size"):
        v = getattr(o, name)
        if v is not None and v < 1:
            raise JobError(f"--{name.replace('_', '-')} must be at least 1, got {v}")
    if o.lr is not None and not o.lr > 0:
        raise JobError(f"--lr must be positive, got {o.lr}")
    pf.manual_seed(o.seed)

    try:
        task = load_task(o.dataset, seed=o.seed, limit=o.limit, root=o.data_dir)
    except FileNotFoundError as e:
        raise JobError(str(e)) from None
    model_name = o.model or task.default_model
    if model_name not in task.models:
        raise JobError(f"--model {model_name} does not fit the {task.name} dataset (samples of shape "
                       f"{task.input_shape}); choose one of: {', '.join(task.models)}")
    d = task.defaults
    epochs, batch_size = o.epochs or d.get("epochs", 10), o.batch_size or d.get("batch_size", 32)
    if o.optimizer not in _OPTIMIZERS:
        raise JobError(f"unknown optimizer {o.optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")
    lr = o.lr
    if lr is None:  # the dataset's tuned rate for Adam, Keras' default for the others
        lr = d.get("lr", 1e-3) if o.optimizer == "adam" else _OPTIMIZERS[o.optimizer][1]["lr"]
    model = zoo.build(model_name, task.input_shape, task.num_outputs, **d.get("model_options", {}).get(model_name, {}))
    model.compile(_optimizer(model, o.optimizer, lr, o.momentum),
                  loss="cross_entropy" if task.classification else "mse",
                  metrics=["accuracy"] if task.classification else ["mae"])

    _say(f"pyfastnn {pf.__version__}: {model_name} on {task.name} - {task.description}")
    _say(f"  {len(task.x_train)} training samples (10% held out for validation), {len(task.x_test)} test samples; "
         f"{epochs} epochs, batch {batch_size}, {o.optimizer} lr={lr:g} ({o.schedule}), {pf.get_num_threads()} "
         f"threads, seed {o.seed}")
    summary_text = model.summary(input_shape=task.input_shape, print_fn=None)
    _say(f"  {model.count_params():,} parameters")

    timer, monitor = EpochTimer(), GradientMonitor(verbose=1)
    callbacks = [timer, monitor]
    if o.schedule == "cosine":  # per epoch from lr down toward 0: a better last epoch for free
        callbacks.append(LearningRateScheduler(lambda e: lr * 0.5 * (1 + math.cos(math.pi * e / epochs))))
    if o.out:
        callbacks.append(CSVLogger(os.path.join(o.out, "history.csv")))
    with warnings.catch_warnings():  # the monitor prints its warnings as plain lines here
        warnings.simplefilter("ignore", GradientWarning)
        history = model.fit(task.x_train, task.y_train, epochs=epochs, batch_size=batch_size, validation_split=0.1,
                            callbacks=callbacks, verbose=0 if o.quiet else 1, **({"device": device} if device else {}))
    test = model.evaluate(task.x_test, task.y_test, batch_size=256)
    per_epoch = float(np.median(timer.times)) if timer.times else float("nan")  # robust to a busy moment
    result = dict(model=model_name, dataset=task.name, epochs=len(timer.times), test=test,
                  seconds_per_epoch=per_epoch, seconds=time.perf_counter() - t_start)

    if task.classification:
        _say(f"test accuracy: {test['accuracy']:.4f}  (loss {test['loss']:.4f}, {len(task.x_test)} samples)")
    else:
        _say(f"test mean absolute error: {test['mae']:.4f}  (mse {test['loss']:.4f}, {len(task.x_test)} samples)")
    where = "CUDA" if device else f"{pf.get_num_threads()} threads"
    _say(f"time per epoch: {per_epoch:.2f} s (pyfastnn, {where}, median of "
         f"{len(timer.times)} epochs; training batches only)")
    if o.compare_torch:
        result["torch_seconds_per_epoch"] = _compare_torch(model, task, o, batch_size, lr, per_epoch)
    if monitor.alerts:
        _say(f"gradient check: {len(monitor.alerts)} warning(s), see above")
    else:
        _say("gradient check: no vanishing or exploding gradients seen")

    if o.out:
        if device:
            model.to("cpu")  # weights and plots from host memory
        result["files"] = _write_outputs(o, model, task, history, monitor, summary_text, result)
        _say(f"wrote {', '.join(result['files'])} to {o.out}")
    return result


def _compare_torch(model, task, o, batch_size, lr, per_epoch):
    try:
        from ..bench.torch_models import torch_epoch_seconds
    except ImportError as e:
        _say(f"--compare-torch: PyTorch is not installed ({e}); pip install torch")
        return None
    import pyfastnn as pf

    n = int(len(task.x_train) * 0.9)  # what fit trained on (validation_split=0.1)
    seconds = torch_epoch_seconds(model, task.x_train[:n], task.y_train[:n], batch_size, o.optimizer, lr,
                                  classification=task.classification, threads=pf.get_num_threads())
    _say(f"time per epoch: {seconds:.2f} s (PyTorch, same model and batches) -> pyfastnn is "
         f"{seconds / per_epoch:.2f}x PyTorch's speed")
    return seconds


def _write_outputs(o, model, task, history, monitor, summary_text, result):
    import pyfastnn as pf

    files = ["history.csv"]
    pf.save(model.state_dict(), os.path.join(o.out, "weights.npz"))
    files.append("weights.npz")
    lines = ["pyfastnn train " + " ".join(sys.argv[2:] if sys.argv[1:2] == ["train"] else sys.argv[1:]),
             f"dataset: {task.name} - {task.description}", f"model: {result['model']}", "", summary_text, "",
             "test: " + ", ".join(f"{k} {v:.4f}" for k, v in result["test"].items()),
             f"epochs: {result['epochs']}, {result['seconds_per_epoch']:.3f} s per epoch, "
             f"{pf.get_num_threads()} threads", "", monitor.report()]
    with open(os.path.join(o.out, "summary.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    files.append("summary.txt")
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: never open a window
        import matplotlib.pyplot as plt
    except ImportError:
        _say("matplotlib is not installed: no PNG plots (pip install matplotlib)")
        return files
    from . import plots

    def save(name, draw):
        fig = draw(os.path.join(o.out, name))
        plt.close(fig)
        files.append(name)

    save("history.png", lambda p: plots.plot_history(history, path=p))
    save("gradient_flow.png", lambda p: plots.plot_gradient_flow(monitor, path=p))
    if task.classification:
        pred = model.predict(task.x_test, batch_size=256)
        save("confusion_matrix.png", lambda p: plots.plot_confusion_matrix(
            task.y_test, pred, classes=task.classes, path=p, title=f"Confusion matrix ({task.name} test)"))
    if task.name == "moons":
        save("decision_boundary.png", lambda p: plots.plot_decision_boundary(model, task.x_test, task.y_test, path=p))
    conv = next((m for m in model.modules() if type(m).__name__ == "Conv2d"), None)
    if conv is not None:
        save("filters.png", lambda p: plots.plot_filters(conv, path=p))
    return files

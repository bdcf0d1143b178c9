"""Per-epoch progress: a tqdm bar on a terminal when tqdm is installed, one plain line per
epoch otherwise (logs, CI, notebooks without widgets). verbose=0 prints nothing."""

import sys
import time

from .callbacks import Callback


def format_logs(logs):
    return " - ".join(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}" for k, v in logs.items())


class ProgressLogger(Callback):
    def __init__(self, verbose=1, file=None):
        super().__init__()
        self.verbose = verbose
        self.file = file or sys.stdout
        self.bar = None

    def _use_bar(self):
        if self.verbose != 1:
            return False
        try:
            import tqdm  # noqa: F401
        except ImportError:
            return False
        return hasattr(self.file, "isatty") and self.file.isatty()

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()
        self.epoch = epoch
        if self._use_bar():
            from tqdm import tqdm

            self.bar = tqdm(total=self.params.get("steps"), desc=f"Epoch {epoch + 1}/{self.params.get('epochs')}",
                            file=self.file, leave=True, dynamic_ncols=True)

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(1)
            if logs and batch % 10 == 0:
                self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if isinstance(v, float)}, refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self.t0
        steps = self.params.get("steps") or 0
        per_step = f" {_duration(elapsed / steps)}/step" if steps else ""
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in (logs or {}).items() if isinstance(v, float)})
            self.bar.close()
            self.bar = None
            return
        if self.verbose:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')} - {steps} steps - {elapsed:.2f}s{per_step} - "
                  f"{format_logs(logs or {})}", file=self.file, flush=True)


def _duration(seconds):
    """Keras-like step time: 12ms, 1.4ms, 350us."""
    if seconds >= 0.01:
        return f"{seconds * 1e3:.0f}ms"
    if seconds >= 0.001:
        return f"{seconds * 1e3:.1f}ms"
    return f"{seconds * 1e6:.0f}us"

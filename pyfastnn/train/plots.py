"""Training curves: History.plot() draws loss and metrics per epoch, training next to
validation (the val_ keys), with matplotlib (an optional dependency)."""

__all__ = ["plot_history"]

_SKIP = ("learning_rate", "lr")  # drawn only when asked for by name


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("History.plot() draws with matplotlib, which is not installed: pip install matplotlib") \
            from None
    return plt


def plot_history(history, metrics=None, ax=None, show=False, path=None):
    """Plot per-epoch curves of a History (or its .history dict) and return the figure.

    metrics: the names to draw (default: "loss" and every other training metric, each
    with its "val_" twin when there is one), one subplot each. ax: an Axes to draw every
    curve on, or a sequence of Axes, one per metric. path: also save the figure there
    (any format matplotlib knows from the extension, e.g. .png). show: call plt.show()."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(f"plot_history: expected a History or a dict of per-epoch lists, got {type(logs).__name__}")
    if metrics is None:
        metrics = [k for k in logs if not k.startswith("val_") and k not in _SKIP]
        metrics += [k[4:] for k in logs if k.startswith("val_") and k[4:] not in logs and k[4:] not in _SKIP]
        metrics.sort(key=lambda k: k != "loss")  # loss first, the rest in log order
    elif isinstance(metrics, str):
        metrics = [metrics]
    metrics = list(metrics)
    missing = [m for m in metrics if m not in logs and "val_" + m not in logs]
    if missing:
        raise KeyError(f"plot_history: no curve named {missing[0]!r} (available: {', '.join(sorted(logs))})")
    if not metrics:
        raise ValueError("plot_history: the history is empty (train with fit first)")

    plt = _pyplot()
    if ax is None:
        fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.8), squeeze=False)
        axes = list(axes[0])
    elif isinstance(ax, (list, tuple)) or hasattr(ax, "flat"):
        axes = list(ax.flat) if hasattr(ax, "flat") else list(ax)
        if len(axes) != len(metrics):
            raise ValueError(f"plot_history: {len(axes)} axes given for {len(metrics)} metrics ({', '.join(metrics)})")
        fig = axes[0].figure
    else:
        axes = [ax] * len(metrics)
        fig = ax.figure

    shared = len(set(map(id, axes))) == 1 and len(metrics) > 1  # every curve on one Axes
    epochs0 = list(getattr(history, "epoch", []) or [])
    for a, name in zip(axes, metrics):
        for key, label, style in ((name, "train", "-"), ("val_" + name, "validation", "--")):
            values = logs.get(key)
            if not values:
                continue
            xs = [e + 1 for e in epochs0] if len(epochs0) == len(values) else list(range(1, len(values) + 1))
            a.plot(xs, [float(v) for v in values], style, marker="o" if len(values) < 30 else None,
                   label=f"{label} {name}" if shared else label)
        a.set_xlabel("epoch")
        a.set_ylabel("value" if shared else name)
        a.set_title(", ".join(metrics) if shared else name)
        a.grid(True, alpha=0.3)
        a.legend()
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    if show:
        plt.show()
    return fig

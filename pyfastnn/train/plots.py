"""Plots with matplotlib (an optional dependency): training curves (History.plot), the
confusion matrix, a 2-D decision boundary, the gradient flow per layer, and a conv layer's
filters and feature maps. Each returns the figure; path= also saves it (e.g. .png)."""

import numpy as np

__all__ = ["plot_history", "plot_confusion_matrix", "plot_decision_boundary", "decision_grid", "plot_gradient_flow",
           "plot_filters", "plot_feature_maps", "feature_maps"]

_SKIP = ("learning_rate", "lr")  # drawn only when asked for by name


def _pyplot(what="History.plot()"):
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(f"{what} draws with matplotlib, which is not installed: pip install matplotlib") from None
    return plt


def _finish(fig, path, show, plt):
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    if show:
        plt.show()
    return fig


def _axes(ax, plt, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


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


def _numpy(x):
    data = getattr(x, "data", x)
    return data.get() if hasattr(data, "get") else np.asarray(data)


def plot_confusion_matrix(y_true=None, y_pred=None, cm=None, classes=None, normalize=False, ax=None, path=None,
                          show=False, title="Confusion matrix", cmap="Blues"):
    """A confusion matrix as a heat map with the count (or row fraction when normalize) in
    each cell; rows are true classes, columns predictions. Give y_true and y_pred (class ids,
    or scores/logits (N, C), which are argmax-ed) or a ready matrix cm."""
    from .metrics import confusion_matrix

    if cm is None:
        if y_true is None or y_pred is None:
            raise ValueError("plot_confusion_matrix: give y_true and y_pred, or cm")
        n = len(classes) if classes is not None else None
        cm = confusion_matrix(_numpy(y_true), _numpy(y_pred), num_classes=n)
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion_matrix: cm must be a square matrix, got shape {cm.shape}")
    if classes is not None and len(classes) != len(cm):
        raise ValueError(f"plot_confusion_matrix: {len(classes)} class names for a {len(cm)}x{len(cm)} matrix")
    shown = cm / np.maximum(cm.sum(1, keepdims=True), 1) if normalize else cm
    plt = _pyplot("plot_confusion_matrix")
    fig, ax = _axes(ax, plt, (1.2 + 0.55 * len(cm), 0.8 + 0.5 * len(cm)))
    im = ax.imshow(shown, cmap=cmap, vmin=0)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    labels = [str(c) for c in classes] if classes is not None else [str(i) for i in range(len(cm))]
    ax.set_xticks(range(len(cm)), labels, rotation=45 if max(map(len, labels)) > 2 else 0, ha="right"
                  if max(map(len, labels)) > 2 else "center")
    ax.set_yticks(range(len(cm)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    top = float(shown.max()) if shown.size else 0.0
    if len(cm) <= 30:
        for i in range(len(cm)):
            for j in range(len(cm)):
                v = shown[i, j]
                ax.text(j, i, f"{v:.2f}" if normalize else f"{int(v)}", ha="center", va="center", fontsize=8,
                        color="white" if top and v > top / 2 else "black")
    return _finish(fig, path, show, plt)


def _predict_fn(model):
    if hasattr(model, "predict") and hasattr(model, "parameters"):
        return model.predict
    if callable(model):
        return lambda x: _numpy(model(x))
    raise TypeError(f"expected a model or a callable, got {type(model).__name__}")


def decision_grid(model, x, resolution=200, margin=0.5):
    """(xx, yy, zz): a resolution x resolution grid over the range of the 2-D inputs x (plus
    margin) and the output there of model (a Module, or a function of a numpy (N, 2) array):
    for one output, the probability of class 1 (a sigmoid is applied when the outputs are
    logits, i.e. the loss is from logits or values leave [0, 1]); for two, the softmax
    probability of class 1; for more, the predicted class id."""
    x = _numpy(x)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"decision_grid: needs 2-D inputs (N, 2), got shape {x.shape}")
    lo, hi = x.min(0) - margin, x.max(0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float32)
    out = np.asarray(_predict_fn(model)(grid), dtype=np.float64)
    if out.ndim == 2 and out.shape[1] == 2:  # two logits (or probabilities): P(class 1) by softmax
        is_prob = np.all((out >= 0) & (out <= 1)) and np.allclose(out.sum(1), 1, atol=1e-4)
        probs = out if is_prob else np.exp(out - out.max(1, keepdims=True))
        zz = probs[:, 1] / probs.sum(1)
    elif out.ndim == 2 and out.shape[1] > 2:
        zz = out.argmax(1)
    else:
        out = out.reshape(-1)
        loss = getattr(model, "loss", None)
        logits = bool(getattr(loss, "from_logits", False)) or out.min() < 0 or out.max() > 1
        zz = 1 / (1 + np.exp(-out)) if logits else out
    return xx, yy, zz.reshape(xx.shape)


def plot_decision_boundary(model, x, y=None, resolution=200, margin=0.5, ax=None, path=None, show=False,
                           title="Decision boundary"):
    """The regions a classifier of 2-D inputs assigns to each class (e.g. the two moons),
    with the samples x on top, colored by their labels y."""
    xx, yy, zz = decision_grid(model, x, resolution, margin)
    plt = _pyplot("plot_decision_boundary")
    fig, ax = _axes(ax, plt, (5.5, 4.5))
    binary = zz.dtype.kind == "f"
    if binary:
        cs = ax.contourf(xx, yy, zz, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(xx, yy, zz, levels=[0.5], colors="k", linewidths=1.5)
        fig.colorbar(cs, ax=ax, label="P(class 1)")
    else:
        ax.contourf(xx, yy, zz, levels=np.arange(11) - 0.5, cmap="tab10", vmin=-0.5, vmax=9.5, alpha=0.35)
    x = _numpy(x)
    labels = None if y is None else _numpy(y).reshape(len(x), -1)
    if labels is not None:
        labels = labels.argmax(1) if labels.shape[1] > 1 else labels[:, 0]
    color = dict(cmap="RdBu_r", vmin=0, vmax=1) if binary else dict(cmap="tab10", vmin=-0.5, vmax=9.5)
    ax.scatter(x[:, 0], x[:, 1], c=labels if labels is not None else "k", edgecolors="k", linewidths=0.4, s=14,
               **(color if labels is not None else {}))
    ax.set_title(title)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return _finish(fig, path, show, plt)


def plot_gradient_flow(monitor, epochs=None, layers=None, ax=None, path=None, show=False, title="Gradient flow"):
    """Per layer (input side left), the mean gradient norm of each recorded epoch on a log
    scale: a curve falling steeply to the left means vanishing gradients, values in the
    thousands or missing points (NaN/inf) exploding ones. monitor: a GradientMonitor or its
    .history["grad_norm"] dict {layer: [per epoch]}. epochs: indices to draw (default:
    first, middle and last). layers: names to draw (default: a monitor's weight_layers,
    i.e. without batch/layer norm)."""
    norms = monitor.history["grad_norm"] if hasattr(monitor, "history") else monitor
    if not isinstance(norms, dict) or not norms:
        raise ValueError("plot_gradient_flow: nothing recorded (train with a GradientMonitor first)")
    if layers is None:
        layers = list(getattr(monitor, "weight_layers", None) or getattr(monitor, "layers", None) or norms)
    count = len(norms[layers[0]])
    numbers = list(getattr(monitor, "epochs", None) or range(count))
    if epochs is None:
        epochs = sorted({0, count // 2, count - 1})
    plt = _pyplot("plot_gradient_flow")
    fig, ax = _axes(ax, plt, (max(5.0, 0.7 * len(layers) + 2), 4.0))
    xs = np.arange(len(layers))
    cmap = plt.get_cmap("viridis")
    for i, e in enumerate(epochs):
        values = np.array([norms[name][e] for name in layers], dtype=np.float64)
        ax.plot(xs, values, marker="o", color=cmap(i / max(len(epochs) - 1, 1)), label=f"epoch {numbers[e] + 1}")
    ax.set_yscale("log")
    kinds = getattr(monitor, "kinds", {}) or {}
    labels = [f"{name}\n{kinds[name]}" if name in kinds else name for name in layers]
    ax.set_xticks(xs, labels, rotation=45 if len(layers) > 4 else 0, ha="right" if len(layers) > 4 else "center")
    ax.set_xlabel("layer (input side left)")
    ax.set_ylabel("gradient L2 norm (mean over batches)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return _finish(fig, path, show, plt)


def _image_grid(images, titles, plt, ax, cols, cmap, suptitle):
    n = len(images)
    cols = min(cols, n)
    rows = -(-n // cols)
    if ax is None:
        fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.3 * rows + 0.4), squeeze=False)
    else:
        axes = np.asarray(ax).reshape(-1)
        if len(axes) < n:
            raise ValueError(f"{len(axes)} axes given for {n} images")
        fig = axes[0].figure
    flat = np.asarray(axes).reshape(-1)
    for i, a in enumerate(flat):
        a.axis("off")
        if i < n:
            a.imshow(images[i], cmap=cmap)
            if titles:
                a.set_title(titles[i], fontsize=7)
    fig.suptitle(suptitle)
    return fig


def _conv_weight(layer):
    w = getattr(layer, "weight", layer)
    w = _numpy(w)
    if w.ndim != 4:
        raise ValueError(f"plot_filters: expected a Conv2d or a weight (out, in, kh, kw), got shape {w.shape}")
    return w


def plot_filters(layer, channel=None, max_filters=64, cols=8, ax=None, path=None, show=False, cmap="gray"):
    """The kernels of a conv layer, one small image per output channel: the input channel
    `channel`, or the mean over input channels when None (RGB kernels of 3 input channels
    are shown in colour when channel is None). layer: a Conv2d or its weight array."""
    w = _conv_weight(layer)[:max_filters]
    if channel is None and w.shape[1] == 3:
        imgs = w.transpose(0, 2, 3, 1)
        lo = imgs.min(axis=(1, 2, 3), keepdims=True)
        imgs = (imgs - lo) / np.maximum(imgs.max(axis=(1, 2, 3), keepdims=True) - lo, 1e-12)
    else:
        imgs = w.mean(1) if channel is None else w[:, channel]
    plt = _pyplot("plot_filters")
    fig = _image_grid(list(imgs), [str(i) for i in range(len(imgs))], plt, ax, cols, cmap,
                      f"{len(imgs)} filters {w.shape[2]}x{w.shape[3]}")
    return _finish(fig, path, show, plt)


def feature_maps(model, x, layer):
    """The output of `layer` (a submodule or its name in named_modules) when model runs on
    x, as a numpy array (eval mode, no graph)."""
    from ..autograd.grad_mode import no_grad
    from ..tensor import Tensor

    if isinstance(layer, str):
        layer = model.get_submodule(layer)
    captured = []
    handle = layer.register_forward_hook(lambda m, i, out: captured.append(_numpy(out[0] if isinstance(out, tuple)
                                                                                  else out)))
    was_training = model.training
    model.eval()
    try:
        xa = _numpy(x).astype(np.float32, copy=False)
        with no_grad():
            model(Tensor._wrap(xa))
    finally:
        handle.remove()
        model.train(was_training)
    if not captured:
        raise ValueError("feature_maps: the layer was not called by the model's forward pass")
    return captured[0]


def plot_feature_maps(model, x, layer, max_maps=32, cols=8, ax=None, path=None, show=False, cmap="viridis"):
    """What a conv layer (a submodule or its name) sees in one image x (C, H, W) or (1, C, H, W):
    each output channel as an image."""
    xa = _numpy(x)
    if xa.ndim == 3:
        xa = xa[None]
    if xa.ndim != 4 or len(xa) != 1:
        raise ValueError(f"plot_feature_maps: x must be one image (C, H, W) or (1, C, H, W), got shape {xa.shape}")
    maps = feature_maps(model, xa, layer)
    if maps.ndim != 4:
        raise ValueError(f"plot_feature_maps: the layer's output has shape {maps.shape}, not (1, C, H, W)")
    maps = maps[0, :max_maps]
    plt = _pyplot("plot_feature_maps")
    fig = _image_grid(list(maps), [str(i) for i in range(len(maps))], plt, ax, cols, cmap,
                      f"{len(maps)} feature maps {maps.shape[1]}x{maps.shape[2]}")
    return _finish(fig, path, show, plt)

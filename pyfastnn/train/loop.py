"""Keras-style training on any Module: compile, fit, evaluate, predict.

    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=32, validation_split=0.2,
                        callbacks=[EarlyStopping(patience=3)])
    model.evaluate(x_test, y_test)     # {"loss": ..., "accuracy": ...}
    model.predict(x)                   # numpy
    model.fit(x, y, device="cuda")     # the model and each batch on the GPU (pf.cuda)

The loop is plain PyTorch underneath (zero_grad, forward, loss, backward, clip, step), so
a compiled model still works in a hand-written loop.
"""

import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..data import DataLoader, TensorDataset
from ..nn.utils import clip_grad_norm_, clip_grad_value_
from ..ops.device import device_name, device_of, move
from ..tensor import Tensor
from .callbacks import CallbackList, History
from .losses import get_loss
from .metrics import get_metric
from .progress import ProgressLogger

__all__ = ["compile", "fit", "evaluate", "predict", "get_optimizer"]

# Keras' defaults for optimizers given by name
_OPTIMIZERS = {
    "sgd": ("SGD", dict(lr=0.01)),
    "adam": ("Adam", dict(lr=1e-3, eps=1e-7)),
    "adamw": ("AdamW", dict(lr=1e-3, eps=1e-7, weight_decay=0.004)),
    "rmsprop": ("RMSprop", dict(lr=1e-3, alpha=0.9, eps=1e-7)),
    "adagrad": ("Adagrad", dict(lr=1e-3, initial_accumulator_value=0.1, eps=1e-7)),
    "adadelta": ("Adadelta", dict(lr=1e-3, rho=0.95, eps=1e-7)),
}


def get_optimizer(spec, model):
    """An optimizer over model.parameters() from a name (Keras defaults), a class, or an
    optimizer instance (used as is)."""
    from .. import optim

    if isinstance(spec, optim.Optimizer):
        return spec
    if isinstance(spec, str):
        if spec.lower() not in _OPTIMIZERS:
            raise ValueError(f"unknown optimizer {spec!r}; expected one of {sorted(_OPTIMIZERS)} or an Optimizer")
        name, kwargs = _OPTIMIZERS[spec.lower()]
        return getattr(optim, name)(model.parameters(), **kwargs)
    if isinstance(spec, type) and issubclass(spec, optim.Optimizer):
        return spec(model.parameters())
    raise TypeError(f"optimizer must be a name, an Optimizer class or instance, got {type(spec).__name__}")


def compile(model, optimizer="rmsprop", loss=None, metrics=None, clipnorm=None, clipvalue=None, global_clipnorm=None):
    """Attach an optimizer, a loss and metrics to the model for fit/evaluate.

    clipnorm clips each gradient to that norm, global_clipnorm all of them together (as
    pf.nn.utils.clip_grad_norm_), clipvalue each element (Keras' options)."""
    if loss is None:
        raise ValueError("compile: a loss is required (a name like 'cross_entropy' or 'mse', a loss module or a "
                         "function)")
    model.optimizer = get_optimizer(optimizer, model)
    model.loss = get_loss(loss)
    threshold = 0.0 if model.loss.from_logits else 0.5  # binary accuracy of logits vs probabilities
    model.compiled_metrics = [get_metric(m, threshold) for m in (metrics or [])]
    model.clip = dict(clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm)
    model.stop_training = False
    return model


def _require_compiled(model, op):
    if getattr(model, "loss", None) is None or getattr(model, "optimizer", None) is None:
        raise RuntimeError(f"{op}: call model.compile(optimizer=..., loss=...) first")


def _array(x, name):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, np.ndarray) or hasattr(x, "__cuda_array_interface__"):
        return x
    try:
        return np.asarray(x)
    except Exception:
        raise TypeError(f"argument {name!r} must be an array or Tensor, got {type(x).__name__}")


def _model_dtype(model):
    for p in model.parameters():
        return p.dtype
    return np.dtype(np.float32)


def _model_device(model):
    for p in model.parameters():
        return p.device
    return "cpu"


def _place(model, device, op):
    """The device to run on: `device` (the model and its optimizer's state are moved there)
    or, when None, where the model's parameters are."""
    if device is None:
        return _model_device(model)
    device = device_name(device, op)
    if device != _model_device(model):
        model.to(device)
        opt = getattr(model, "optimizer", None)
        if opt is not None:
            for state in opt.state.values():
                for k, v in state.items():
                    if hasattr(v, "shape") and hasattr(v, "dtype") and device_of(v) != device:
                        state[k] = move(v, device)
    return device


def _on(a, device):
    """Array a (a batch, numpy or CuPy) on `device`."""
    return a if a is None or device_of(a) == device else move(a, device)


def _input(x, dtype, device="cpu"):
    """A batch as a Tensor on `device`: float inputs in the model's dtype (Keras casts float64
    to float32), integer inputs (token ids) unchanged."""
    if isinstance(x, Tensor):
        x = x.data
    if x.dtype.kind == "f" and x.dtype != dtype:
        x = x.astype(dtype)
    return Tensor._wrap(x if device == "cpu" and isinstance(x, np.ndarray) else _on(x, device))


def _target(y, pred, dtype):
    """Targets shaped like the prediction where that is clearly meant ((N,) vs (N, 1)), on
    the prediction's device."""
    if isinstance(y, Tensor):
        y = y.data
    if isinstance(pred, Tensor) and not isinstance(pred.data, np.ndarray):
        y = _on(y, pred.device)
    if y.dtype.kind == "f" and y.dtype != dtype:
        y = y.astype(dtype)
    elif y.dtype.kind == "b":
        y = y.astype(dtype)
    if isinstance(pred, Tensor) and y.dtype.kind == "f" and y.shape != pred.shape and y.size == pred.data.size:
        y = y.reshape(pred.shape)
    return Tensor._wrap(y)


def _class_weights(y, class_weight):
    """Per-sample weights from a {class: weight} dict (Keras 3: a class the dict leaves out
    weighs 1). Class ids, one-hot rows, or 0/1 targets of a binary model."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict {{class: weight}}, got {type(class_weight).__name__}")
    y = y.data if isinstance(y, Tensor) else np.asarray(y)
    labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else np.rint(y.reshape(len(y), -1)[:, 0]).astype(np.int64)
    weights = {int(k): float(v) for k, v in class_weight.items()}
    return np.array([weights.get(int(c), 1.0) for c in labels.reshape(-1)], np.float64)


def _sample_weights(y, class_weight, sample_weight, n):
    w = None
    if sample_weight is not None:
        w = _array(sample_weight, "sample_weight").astype(np.float64).reshape(-1)
        if len(w) != n:
            raise ValueError(f"sample_weight has {len(w)} entries for {n} samples")
    if class_weight is not None:
        cw = _class_weights(y, class_weight)
        w = cw if w is None else w * cw
    return w


class _ArrayBatches:
    """Batches of (x, y, w) numpy arrays; a new shuffle every epoch (global generator)."""

    def __init__(self, x, y, w, batch_size, shuffle):
        self.x, self.y, self.w, self.batch_size, self.shuffle = x, y, w, batch_size, shuffle

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __iter__(self):
        from ..random import generator

        n = len(self.x)
        order = generator().permutation(n) if self.shuffle else None
        if order is not None and not isinstance(self.x, np.ndarray):  # arrays already on the GPU
            order = move(order, "cuda")
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size] if order is not None else slice(start, start + self.batch_size)
            yield self.x[idx], (self.y[idx] if self.y is not None else None), (
                self.w[idx] if self.w is not None else None)


class _LoaderBatches:
    """Batches from a DataLoader yielding (x, y) or (x, y, sample_weight)."""

    def __init__(self, loader, class_weight=None):
        self.loader, self.class_weight = loader, class_weight

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
                raise ValueError("fit: a DataLoader must yield (x, y) or (x, y, sample_weight) batches")
            w = batch[2] if len(batch) == 3 else None
            if self.class_weight is not None:
                cw = _class_weights(batch[1], self.class_weight)
                w = cw if w is None else _array(w, "sample_weight").reshape(-1) * cw
            yield batch[0], batch[1], w


def _batches(x, y, batch_size, shuffle, class_weight=None, sample_weight=None):
    if isinstance(x, (DataLoader, TensorDataset)):
        if y is not None:
            raise ValueError("fit: when x is a DataLoader or TensorDataset, y must be None (it yields the targets)")
        if sample_weight is not None:
            raise ValueError("fit: sample_weight is not supported when x is a DataLoader or TensorDataset; make it "
                             "yield (x, y, sample_weight) batches instead")
        loader = x if isinstance(x, DataLoader) else DataLoader(x, batch_size=batch_size, shuffle=shuffle)
        return _LoaderBatches(loader, class_weight)
    if x is None:
        raise ValueError("fit: x is required (arrays, Tensors, a DataLoader or a TensorDataset)")
    xa, ya = _array(x, "x"), _array(y, "y")
    if ya is not None and len(xa) != len(ya):
        raise ValueError(f"x and y have different numbers of samples: {len(xa)} and {len(ya)}")
    w = _sample_weights(ya, class_weight, sample_weight, len(xa)) if ya is not None else None
    return _ArrayBatches(xa, ya, w, batch_size, shuffle)


def _split(x, y, sample_weight, validation_split):
    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split}")
    if isinstance(x, (DataLoader, TensorDataset)):
        raise ValueError("validation_split needs array inputs; pass validation_data with a DataLoader")
    xa, ya = _array(x, "x"), _array(y, "y")
    if ya is None:
        raise ValueError("validation_split needs targets y")
    cut = int(math.floor(len(xa) * (1 - validation_split) + 1e-9))  # Keras: the last samples validate
    if cut < 1 or cut >= len(xa):
        raise ValueError(f"validation_split={validation_split} of {len(xa)} samples leaves no training or no "
                         "validation samples")
    sw = _array(sample_weight, "sample_weight")
    return (xa[:cut], ya[:cut], None if sw is None else sw[:cut]), (xa[cut:], ya[cut:], None if sw is None else
                                                                     sw[cut:])


def _train_step(model, x, y, w, dtype, device="cpu"):
    opt = model.optimizer
    opt.zero_grad()
    pred = model(_input(x, dtype, device))
    loss = model.loss(pred, _target(y, pred, dtype), sample_weight=_weights_on(w, pred))
    loss.backward()
    clip = model.clip
    params = None
    if clip["global_clipnorm"] is not None:
        params = list(model.parameters())
        clip_grad_norm_(params, clip["global_clipnorm"])
    if clip["clipnorm"] is not None:
        for p in params or model.parameters():
            if p.grad is not None:
                clip_grad_norm_([p], clip["clipnorm"])
    if clip["clipvalue"] is not None:
        clip_grad_value_(params or list(model.parameters()), clip["clipvalue"])
    opt.step()
    return float(loss.data), pred


def _weights_on(w, pred):
    if w is None or not isinstance(pred, Tensor) or isinstance(pred.data, np.ndarray):
        return w
    return _on(w.data if isinstance(w, Tensor) else w, pred.device)


def _update_metrics(metrics, y, pred):
    """Compiled metrics are not weighted by sample_weight/class_weight (Keras' `metrics`).
    They run on the host: GPU predictions are copied back (a synchronization)."""
    if not metrics:
        return
    p = pred.data if isinstance(pred, Tensor) else pred
    t = y.data if isinstance(y, Tensor) else y
    p, t = _on(p, "cpu"), _on(t, "cpu")
    for m in metrics:
        m.update_state(t, p)


def _logs(loss_total, count, metrics, prefix=""):
    logs = {prefix + "loss": loss_total / count if count else float("nan")}
    for m in metrics:
        logs[prefix + m.name] = float(m.result())
    return logs


def fit(model, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
        validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
        validation_batch_size=None, device=None):
    """Train for `epochs` epochs; returns a History (history.history["loss"], ...).

    device: 'cpu' or 'cuda' moves the model (and its optimizer's state) there and each batch
    as it is used; None trains where the model's parameters are."""
    _require_compiled(model, "fit")
    device = _place(model, device, "fit")
    batch_size = 32 if batch_size is None else batch_size
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"fit: batch_size must be a positive int, got {batch_size!r}")
    if validation_split and validation_data is not None:
        raise ValueError("fit: give validation_split or validation_data, not both")
    if validation_split:
        (x, y, sample_weight), validation_data = _split(x, y, sample_weight, validation_split)
    train = _batches(x, y, batch_size, shuffle, class_weight, sample_weight)
    val = None
    if validation_data is not None:
        if isinstance(validation_data, (DataLoader, TensorDataset)):
            val = _batches(validation_data, None, validation_batch_size or batch_size, False)
        else:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("fit: validation_data must be (x_val, y_val), (x_val, y_val, sample_weight), a "
                                 "DataLoader or a TensorDataset")
            vx, vy, *vw = validation_data
            val = _batches(vx, vy, validation_batch_size or batch_size, False, sample_weight=vw[0] if vw else None)

    history = History()
    # Keras' order: the user's callbacks, then History, then the progress bar (so History
    # records what callbacks add to the logs, e.g. learning_rate)
    cbs = list(callbacks or []) + [history, ProgressLogger(verbose)]
    params = dict(epochs=epochs, steps=len(train), batch_size=batch_size, verbose=verbose)
    cb = CallbackList(cbs, model, params)
    model.history = history
    model.stop_training = False
    dtype = _model_dtype(model)
    metrics = model.compiled_metrics

    logs = {}
    cb.on_train_begin(logs)
    for epoch in range(initial_epoch, epochs):
        cb.on_epoch_begin(epoch, {})
        model.train()
        for m in metrics:
            m.reset_state()
        total, count = 0.0, 0
        for step, (xb, yb, wb) in enumerate(train):
            cb.on_train_batch_begin(step, {})
            if step == 0 and epoch == initial_epoch:
                _remember_input_shape(model, xb)
            loss, pred = _train_step(model, xb, yb, wb, dtype, device)
            n = len(xb)
            total += loss * n
            count += n
            _update_metrics(metrics, yb, pred)
            cb.on_train_batch_end(step, _logs(total, count, metrics))
            if model.stop_training:
                break
        logs = _logs(total, count, metrics)
        if val is not None:
            logs.update(_run_evaluation(model, val, dtype, prefix="val_", device=device))
        cb.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cb.on_train_end(logs)
    return history


def _remember_input_shape(model, x):
    """summary() shows output shapes for the input shape last seen by fit/evaluate/predict."""
    shape = getattr(x, "shape", None)
    if shape is not None and len(shape) >= 1:
        object.__setattr__(model, "_input_shape", tuple(shape[1:]))


def _run_evaluation(model, batches, dtype, prefix="", device="cpu"):
    metrics = model.compiled_metrics
    for m in metrics:
        m.reset_state()
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with no_grad():
            for xb, yb, wb in batches:
                pred = model(_input(xb, dtype, device))
                loss = model.loss(pred, _target(yb, pred, dtype), sample_weight=_weights_on(wb, pred))
                n = len(xb)
                total += float(loss.data) * n
                count += n
                _update_metrics(metrics, yb, pred)
    finally:
        model.train(was_training)
    return _logs(total, count, metrics, prefix)


def evaluate(model, x=None, y=None, batch_size=32, verbose=0, sample_weight=None, device=None):
    """Loss and metrics on (x, y) (or a DataLoader), as a dict (device: as in fit)."""
    _require_compiled(model, "evaluate")
    device = _place(model, device, "evaluate")
    logs = _run_evaluation(model, _batches(x, y, batch_size, False, sample_weight=sample_weight), _model_dtype(model),
                           device=device)
    if verbose:
        from .progress import format_logs

        print(format_logs(logs))
    return logs


def predict(model, x, batch_size=32, verbose=0, device=None):
    """The model's outputs on x (eval mode, no graph) as a numpy array (device: as in fit)."""
    device = _place(model, device, "predict")
    dtype = _model_dtype(model)
    if isinstance(x, DataLoader):
        batches = (b[0] if isinstance(b, (tuple, list)) else b for b in x)
    else:
        xa = _array(x, "x")
        batches = (xa[i : i + batch_size] for i in range(0, len(xa), batch_size))
        if len(xa):
            _remember_input_shape(model, xa)
    was_training = model.training
    model.eval()
    outs = []
    try:
        with no_grad():
            for xb in batches:
                out = model(_input(xb, dtype, device))
                outs.append(tuple(_on(o.data, "cpu") for o in out) if isinstance(out, tuple) else _on(out.data, "cpu"))
    finally:
        model.train(was_training)
    if not outs:
        return np.empty((0,), dtype)
    if isinstance(outs[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*outs))
    return np.concatenate(outs)

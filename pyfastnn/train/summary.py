"""model.summary(): Keras' table of layers, output shapes and parameter counts."""

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor


def _counts(module):
    """(trainable, non-trainable) parameters of one module itself. Float buffers (batch
    norm running statistics) count as non-trainable, as Keras counts its moving averages."""
    trainable = sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad)
    frozen = sum(p.numel() for p in module.parameters(recurse=False) if not p.requires_grad)
    frozen += sum(b.numel() for name, b in module._buffers.items()
                  if b is not None and b.dtype.kind == "f" and name not in module._non_persistent_buffers)
    return trainable, frozen


def _output_shapes(model, input_shape, dtype):
    """Run one zero sample through the model, recording each leaf module's output shape."""
    shapes = {}
    handles = []
    for name, m in model.named_modules():
        if m is not model and not any(True for _ in m.children()):
            def hook(mod, inputs, out, name=name):
                o = out[0] if isinstance(out, tuple) else out
                shapes[name] = (None,) + tuple(o.shape[1:]) if isinstance(o, Tensor) else "?"
            handles.append(m.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            kind = np.int64 if dtype is not None and np.dtype(dtype).kind in "iu" else None
            x = np.zeros((1,) + tuple(input_shape), kind or next((p.dtype for p in model.parameters()), np.float32))
            out = model(Tensor._wrap(x))
            o = out[0] if isinstance(out, tuple) else out
            shapes[""] = (None,) + tuple(o.shape[1:])
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return shapes


def summary(model, input_shape=None, input_dtype=None, print_fn=print, line_length=72):
    """Print (with print_fn) and return the summary text. Output shapes need an input
    shape without the batch dimension: pass input_shape=(784,), or call after fit/predict."""
    input_shape = input_shape or getattr(model, "_input_shape", None)
    shapes = _output_shapes(model, input_shape, input_dtype) if input_shape is not None else {}
    rows = []
    for name, m in model.named_modules():
        if m is model:
            continue
        leaf = not any(True for _ in m.children())
        t, f = _counts(m)
        if leaf or t or f:
            shape = shapes.get(name, "?") if input_shape is not None else "?"
            rows.append((f"{name} ({type(m).__name__})", str(shape).replace(",)", ")"), t + f))
    own_t, own_f = _counts(model)
    if not rows or own_t or own_f:
        rows.insert(0, (f"({type(model).__name__})", str(shapes.get("", "?")), own_t + own_f))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = trainable + sum(_counts(m)[1] for m in model.modules())
    w1, w2 = max(28, max(len(r[0]) for r in rows) + 2), max(20, max(len(r[1]) for r in rows) + 2)
    width = max(line_length, w1 + w2 + 12)
    lines = [f'Model: "{type(model).__name__}"', "_" * width,
             f"{'Layer (type)':<{w1}}{'Output Shape':<{w2}}{'Param #':>10}", "=" * width]
    for i, (n, s, c) in enumerate(rows):
        lines.append(f"{n:<{w1}}{s:<{w2}}{c:>10,}")
        lines.append("=" * width if i == len(rows) - 1 else "")
    lines += [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}", "_" * width]
    text = "\n".join(lines)
    if print_fn is not None:
        print_fn(text)
    return text


def count_params(model):
    """Trainable + non-trainable parameter count (what summary() reports as the total)."""
    return sum(sum(_counts(m)) for m in model.modules())

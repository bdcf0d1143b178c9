"""Optimizer updates on the GPU, in place. SGD and Adam/AdamW: one fused multi-tensor kernel
launch per call (pointers and sizes of every parameter in the launch's arguments). RMSprop,
Adagrad and Adadelta run the reference formulas on CuPy (several passes per tensor)."""

import cupy as cp

from ..reference import optim as _ref
from ._common import FLOATS, _cuda, describe, on_device, ptr, stream

__all__ = ["sgd_step", "adam_step", "rmsprop_step", "adagrad_step", "adadelta_step"]


def _check(op, params, grads, *states):
    """Every array on the GPU, one float dtype, state arrays C-contiguous and shaped like
    their parameter; returns the gradients made contiguous."""
    if not params:
        return []
    dtype = params[0].dtype
    if dtype not in FLOATS:
        raise TypeError(f"{op}: parameters must be float32 or float64, got {dtype}")
    if len(grads) != len(params):
        raise ValueError(f"{op}: got {len(params)} parameters but {len(grads)} gradients")
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        on_device(p, op, f"params[{i}]")
        on_device(g, op, f"grads[{i}]")
        if p.dtype != dtype or not p.flags.c_contiguous:
            raise ValueError(f"{op}: params[{i}] must be a C-contiguous {dtype} array, got {describe(p)}")
        if g.shape != p.shape:
            raise ValueError(f"{op}: grads[{i}] has shape {g.shape}, its parameter {p.shape}")
        out.append(cp.ascontiguousarray(g, dtype=dtype))
    for name, arrays in states:
        for i, (p, s) in enumerate(zip(params, arrays)):
            on_device(s, op, f"{name}[{i}]")
            if s.shape != p.shape or s.dtype != dtype or not s.flags.c_contiguous:
                raise ValueError(f"{op}: {name}[{i}] must be a C-contiguous {dtype} array of shape {p.shape}, got "
                                 f"{describe(s)}")
    return out


def sgd_step(params, grads, bufs, first, lr, momentum, dampening, nesterov, weight_decay, maximize):
    """bufs[i]: momentum buffer (or an empty list without momentum); first[i]: its first use."""
    momentum = float(momentum)
    grads = _check("sgd_step", params, grads, *((("bufs", bufs),) if momentum else ()))
    if not params:
        return
    _cuda.sgd_step(params[0].dtype.name, [ptr(p) for p in params], [ptr(g) for g in grads],
                   [ptr(b) for b in bufs] if momentum else None, [p.size for p in params],
                   [bool(f) for f in first] if momentum else [], float(lr), momentum, float(dampening), bool(nesterov),
                   float(weight_decay), bool(maximize), stream())


def adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, lr, beta1, beta2, eps, weight_decay,
              amsgrad, maximize, decoupled):
    """Adam (L2 weight decay added to the gradient) or AdamW (decoupled: p *= 1 - lr*wd)."""
    states = [("exp_avgs", exp_avgs), ("exp_avg_sqs", exp_avg_sqs)]
    if amsgrad:
        states.append(("max_exp_avg_sqs", max_exp_avg_sqs))
    grads = _check("adam_step", params, grads, *states)
    if not params:
        return
    _cuda.adam_step(params[0].dtype.name, [ptr(p) for p in params], [ptr(g) for g in grads],
                    [ptr(m) for m in exp_avgs], [ptr(v) for v in exp_avg_sqs],
                    [ptr(v) for v in max_exp_avg_sqs] if amsgrad else None, [p.size for p in params],
                    [float(s) for s in steps], float(lr), float(beta1), float(beta2), float(eps),
                    float(weight_decay), bool(amsgrad), bool(maximize), bool(decoupled), stream())


def _reference_on_device(fn, op):
    def step(params, grads, *rest, **kwargs):
        for i, (p, g) in enumerate(zip(params, grads)):
            on_device(p, op, f"params[{i}]")
            on_device(g, op, f"grads[{i}]")
        return fn(params, grads, *rest, **kwargs)

    step.__name__ = op
    step.__doc__ = f"{op} on CuPy arrays (the reference formulas; no fused kernel yet)."
    return step


# the reference formulas run on CuPy arrays as they are (numpy dispatches its ufuncs to CuPy)
rmsprop_step = _reference_on_device(_ref.rmsprop_step, "rmsprop_step")
adagrad_step = _reference_on_device(_ref.adagrad_step, "adagrad_step")
adadelta_step = _reference_on_device(_ref.adadelta_step, "adadelta_step")

"""Adam and AdamW (PyTorch's: bias correction, optional AMSGrad, L2 vs decoupled decay)."""

import numpy as np

from ..backends import for_array
from .optimizer import Optimizer


class Adam(Optimizer):
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, g):
        name = type(self).__name__
        if not g["lr"] >= 0:
            raise ValueError(f"{name}: invalid learning rate lr: {g['lr']} (must be >= 0)")
        if not g["eps"] >= 0:
            raise ValueError(f"{name}: invalid epsilon value eps: {g['eps']} (must be >= 0)")
        if len(g["betas"]) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {g['betas']!r}")
        for i, b in enumerate(g["betas"]):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{name}: invalid beta parameter at index {i} of betas: {b} (must be in [0, 1))")
        if not g["weight_decay"] >= 0:
            raise ValueError(f"{name}: invalid weight_decay value: {g['weight_decay']} (must be >= 0)")

    def _step_group(self, group, params, grads, states):
        amsgrad = group["amsgrad"]
        for p, s in zip(params, states):
            if not s:
                s["step"] = 0
                s["exp_avg"] = np.zeros_like(p)
                s["exp_avg_sq"] = np.zeros_like(p)
                if amsgrad:
                    s["max_exp_avg_sq"] = np.zeros_like(p)
            s["step"] += 1
        beta1, beta2 = group["betas"]
        for_array(params[0]).adam_step(
            params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
            [s["max_exp_avg_sq"] for s in states] if amsgrad else None, [s["step"] for s in states], group["lr"],
            beta1, beta2, group["eps"], group["weight_decay"], amsgrad, group["maximize"], self._decoupled)


class AdamW(Adam):
    """Adam with decoupled weight decay (p -= lr * weight_decay * p), default 1e-2."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)

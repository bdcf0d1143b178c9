"""RMSprop (PyTorch's: optional momentum and centered variant)."""

import numpy as np

from ..backends import for_array
from .optimizer import Optimizer


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 maximize=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, g):
        for name in ("lr", "eps", "momentum", "weight_decay", "alpha"):
            if not g[name] >= 0:  # NaN too
                raise ValueError(f"RMSprop: invalid {name} value: {g[name]} (must be >= 0)")

    def _step_group(self, group, params, grads, states):
        for p, s in zip(params, states):
            if not s:
                s["step"] = 0
                s["square_avg"] = np.zeros_like(p)
                if group["momentum"] > 0:
                    s["momentum_buffer"] = np.zeros_like(p)
                if group["centered"]:
                    s["grad_avg"] = np.zeros_like(p)
            s["step"] += 1
        for_array(params[0]).rmsprop_step(
            params, grads, [s["square_avg"] for s in states],
            [s["momentum_buffer"] for s in states] if group["momentum"] > 0 else None,
            [s["grad_avg"] for s in states] if group["centered"] else None, group["lr"], group["alpha"], group["eps"],
            group["weight_decay"], group["momentum"], group["centered"], group["maximize"])

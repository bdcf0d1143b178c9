"""SGD with momentum, dampening, Nesterov and weight decay (PyTorch's)."""

import numpy as np

from ..backends import for_array
from .optimizer import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, g):
        for name in ("lr", "momentum", "weight_decay"):
            if not g[name] >= 0:  # NaN too
                raise ValueError(f"SGD: invalid {name} value: {g[name]} (must be >= 0)")
        if g["nesterov"] and (g["momentum"] <= 0 or g["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")

    def _step_group(self, group, params, grads, states):
        bufs, first = [], []
        if group["momentum"]:
            for p, s in zip(params, states):
                first.append("momentum_buffer" not in s)
                if first[-1]:
                    s["momentum_buffer"] = np.zeros_like(p)
                bufs.append(s["momentum_buffer"])
        for_array(params[0]).sgd_step(params, grads, bufs, first, group["lr"], group["momentum"], group["dampening"],
                                      group["nesterov"], group["weight_decay"], group["maximize"])

"""Adagrad and Adadelta (PyTorch's)."""

import numpy as np

from ..backends import for_array
from .optimizer import Optimizer


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:  # PyTorch creates the state up front
            for p in group["params"]:
                self.state[p] = {"step": 0, "sum": np.full(p.shape, group["initial_accumulator_value"], p.dtype)}

    def _check_group(self, g):
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            if not g[name] >= 0:  # NaN too
                raise ValueError(f"Adagrad: invalid {name} value: {g[name]} (must be >= 0)")

    def _step_group(self, group, params, grads, states):
        for p, s in zip(params, states):
            if not s:  # a parameter added with add_param_group after construction
                s["step"] = 0
                s["sum"] = np.full(p.shape, group["initial_accumulator_value"], p.dtype)
            s["step"] += 1
        for_array(params[0]).adagrad_step(params, grads, [s["sum"] for s in states], [s["step"] for s in states],
                                          group["lr"], group["lr_decay"], group["weight_decay"], group["eps"],
                                          group["maximize"])


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, g):
        if not 0.0 <= g["rho"] <= 1.0:
            raise ValueError(f"Adadelta: invalid rho value: {g['rho']} (must be in [0, 1])")
        for name in ("lr", "eps", "weight_decay"):
            if not g[name] >= 0:  # NaN too
                raise ValueError(f"Adadelta: invalid {name} value: {g[name]} (must be >= 0)")

    def _step_group(self, group, params, grads, states):
        for p, s in zip(params, states):
            if not s:
                s["step"] = 0
                s["square_avg"] = np.zeros_like(p)
                s["acc_delta"] = np.zeros_like(p)
            s["step"] += 1
        for_array(params[0]).adadelta_step(params, grads, [s["square_avg"] for s in states],
                                           [s["acc_delta"] for s in states], group["lr"], group["rho"], group["eps"],
                                           group["weight_decay"], group["maximize"])

"""Optimizer: PyTorch's base class (param_groups, state, zero_grad, state_dict).

Subclasses implement `_step_group(group, params, grads, states)`, called once per param
group with the parameters that have gradients; they update every parameter of the group in
one fused kernel call (backends.<device>.<name>_step over lists of arrays).
"""

from collections import defaultdict

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__name__}")
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    def add_param_group(self, group):
        if not isinstance(group, dict):
            raise TypeError(f"param group must be a dict, got {type(group).__name__}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(group, params=params)
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group):
        """Subclasses validate hyperparameters (ValueError naming the argument)."""

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad.data[...] = 0

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if not params:
                    continue
                # one kernel call per dtype (a kernel takes one element type)
                by_dtype = {}
                for p in params:
                    by_dtype.setdefault(p.data.dtype, []).append(p)
                for ps in by_dtype.values():
                    self._step_params(group, ps)
        return loss

    def _step_params(self, group, params):
        grads = []
        for p in params:
            g = p.grad.data
            if g.shape != p.shape:
                raise RuntimeError(f"{type(self).__name__}.step: gradient of shape {g.shape} does not match "
                                   f"its parameter of shape {p.shape}")
            grads.append(g if g.dtype == p.data.dtype else g.astype(p.data.dtype))
        arrays = [p.data for p in params]
        # the kernels update C-contiguous arrays in place: a strided parameter is updated in
        # a contiguous copy that is written back
        copies = [i for i, a in enumerate(arrays) if isinstance(a, np.ndarray) and not a.flags.c_contiguous]
        for i in copies:
            arrays[i] = np.ascontiguousarray(arrays[i])
        states = [self.state[p] for p in params]
        self._step_group(group, arrays, grads, states)
        for i in copies:
            params[i].data[...] = arrays[i]

    def _step_group(self, group, params, grads, states):
        raise NotImplementedError

    # ---- state dict (PyTorch's layout: params as indices) ----
    def state_dict(self):
        index = {}
        groups = []
        for g in self.param_groups:
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": ids})
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self.state and self.state[p]:
                    state[index[id(p)]] = {k: (v.copy() if hasattr(v, "copy") and hasattr(v, "shape") else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for mine, theirs in zip(self.param_groups, groups):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                                 "optimizer's group")
        by_index = {}
        for mine, theirs in zip(self.param_groups, groups):
            for p, i in zip(mine["params"], theirs["params"]):
                by_index[int(i)] = p
            mine.update({k: v for k, v in theirs.items() if k != "params"})
        self.state = defaultdict(dict)
        for i, s in state_dict["state"].items():
            p = by_index[int(i)]
            self.state[p] = {k: _state_value(v, p) for k, v in s.items()}

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(k for k in g if k != "params"):
                lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)


def _state_value(v, p):
    if isinstance(v, Tensor):
        v = v.data
    if hasattr(v, "detach") and hasattr(v, "cpu"):  # torch tensor
        v = v.detach().cpu().numpy()
    if hasattr(v, "__cuda_array_interface__"):  # CuPy state
        v = v.get()
    if isinstance(v, np.ndarray) and v.ndim > 0:
        v = np.array(v, dtype=p.dtype, order="C")
        if p.device != "cpu":  # state lives with its parameter
            from ..ops.device import move

            v = move(v, p.device)
        return v
    if isinstance(v, np.ndarray):
        return v.item()
    return v

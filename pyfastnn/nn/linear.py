"""Linear, Identity, Flatten, Unflatten."""

import math

import numpy as np

from ..creation import get_default_dtype
from ..ops.linear import _apply, fused_linear
from . import init
from .module import Module, Parameter

__all__ = ["Linear", "Identity", "Flatten", "Unflatten"]  # sequential_forward: for nn.Sequential


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """y = x W^T + b, with weight (out_features, in_features) and PyTorch's default init:
    kaiming_uniform_(a=sqrt(5)) for W, U(-1/sqrt(in), 1/sqrt(in)) for b.

    `activation` (an extension of PyTorch's signature): None, 'relu' (fused into the layer's
    one autograd node: the GEMM adds the bias and applies the ReLU as it stores y, and the
    backward pass fuses ReLU's gradient with the bias gradient), or any name that
    pyfastnn.ops.activation.get_activation knows, applied after the product.
    """

    fuses_relu = True  # sequential_forward may call forward_fused(x, "relu")

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None, *, activation=None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"Linear: argument '{name}' must be a non-negative int, got {v!r}")
        if activation is not None and not isinstance(activation, str):
            raise TypeError(f"Linear: argument 'activation' must be None or a string, got {type(activation).__name__}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.activation = activation
        dtype = np.dtype(dtype or get_default_dtype())
        self.weight = Parameter(np.empty((out_features, in_features), dtype))
        self.bias = Parameter(np.empty((out_features,), dtype)) if bias else None
        if bias is False:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None and device != "cpu":
            self.to(device)

    def reset_parameters(self):
        if self.weight.data.size:  # PyTorch's initializers are no-ops on zero-element tensors
            init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        act = self.activation
        if act is None:
            return _apply(x, self.weight, self.bias, None, "Linear")
        return fused_linear(x, self.weight, self.bias, act, "Linear")

    def forward_fused(self, x, activation=None):
        """act(x W^T + b) as one call: activation None or 'relu' runs fused in the kernel
        (one autograd node); another name is applied after the product. nn.Sequential uses
        this to fuse a Linear with the ReLU module that follows it."""
        return fused_linear(x, self.weight, self.bias, activation, "Linear")

    def extra_repr(self):
        s = f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        if self.activation is not None:
            s += f", activation={self.activation!r}"
        return s


_relu_type = None


def _relu_module_type():
    """nn.ReLU (looked up once; None while the activation modules do not define it)."""
    global _relu_type
    if _relu_type is None:
        try:
            from .activation import ReLU
        except ImportError:
            return None
        _relu_type = ReLU
    return _relu_type


def sequential_forward(modules, x):
    """Run `modules` in order, fusing each layer that can (Linear, Conv2d: `fuses_relu`)
    immediately followed by a plain nn.ReLU into one forward_fused(x, 'relu') call when
    neither has hooks (and the layer has no activation of its own). nn.Sequential.forward
    can delegate to this."""
    relu = _relu_module_type()
    mods = modules if isinstance(modules, (list, tuple)) else list(modules)
    i, n = 0, len(mods)
    while i < n:
        m = mods[i]
        if (
            i + 1 < n
            and getattr(type(m), "fuses_relu", False)
            and type(mods[i + 1]) is relu
            and m.activation is None
            and not (m._forward_hooks or m._forward_pre_hooks)
            and not (mods[i + 1]._forward_hooks or mods[i + 1]._forward_pre_hooks)
        ):
            x = m.forward_fused(x, "relu")
            i += 2
            continue
        x = m(x)
        i += 1
    return x


class Flatten(Module):
    """Flattens dims start_dim..end_dim (default: all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        d = self.dim % x.ndim
        return x.reshape(*x.shape[:d], *self.unflattened_size, *x.shape[d + 1 :])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"

"""Conv2d and ConvTranspose2d with PyTorch's arguments, defaults, init, repr and state_dict."""

import math

import numpy as np

from ..creation import get_default_dtype
from ..ops.conv import PADDING_MODES, conv_padding, conv_transpose2d, convolve, pair
from . import init
from .module import Module, Parameter

__all__ = ["Conv2d", "ConvTranspose2d"]


def _channels(value, name, op):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{op}: argument '{name}' must be a positive int, got {value!r}")
    return int(value)


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: channel/group checks, the weight and bias
    Parameters, PyTorch's init (kaiming_uniform_(a=sqrt(5)) for the weight, U(+-1/sqrt(fan_in))
    for the bias) and extra_repr."""

    def __init__(self, op, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                 output_padding, groups, bias, padding_mode, dtype):
        super().__init__()
        self.in_channels = _channels(in_channels, "in_channels", op)
        self.out_channels = _channels(out_channels, "out_channels", op)
        self.groups = _channels(groups, "groups", op)
        if self.in_channels % self.groups:
            raise ValueError(f"{op}: in_channels ({self.in_channels}) must be divisible by groups ({self.groups})")
        if self.out_channels % self.groups:
            raise ValueError(f"{op}: out_channels ({self.out_channels}) must be divisible by groups ({self.groups})")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{op}: padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, got "
                             f"{padding_mode!r}")
        self.kernel_size = pair(kernel_size, "kernel_size", op, 1)
        self.stride = pair(stride, "stride", op, 1)
        self.padding = conv_padding(padding, op)
        self.dilation = pair(dilation, "dilation", op, 1)
        self.transposed = transposed
        self.output_padding = pair(output_padding, "output_padding", op)
        self.padding_mode = padding_mode
        dtype = np.dtype(dtype or get_default_dtype())
        if transposed:
            shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_channels,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) (or unbatched (C, H, W)) input, PyTorch's nn.Conv2d:
    weight (out_channels, in_channels / groups, kH, kW), bias (out_channels,).

    padding: an int, a pair, 'valid' or 'same' (Keras' 'same': also with stride > 1, where
    PyTorch refuses it; the output has ceil(H / stride) rows, an odd padding row goes at the
    bottom). padding_mode 'zeros' (in the kernel), 'reflect', 'replicate' or 'circular'.
    `activation` (an extension, as nn.Linear's): 'relu' fuses the ReLU into the layer's
    node (the GEMM applies it as it stores y); another name is applied after the layer.
    """

    fuses_relu = True  # nn.Sequential fuses a following nn.ReLU (see nn/linear.py)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None, *, activation=None):
        if activation is not None and not isinstance(activation, str) and not callable(activation):
            raise TypeError(f"Conv2d: argument 'activation' must be None or a string, got {type(activation).__name__}")
        super().__init__("Conv2d", in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups,
                         bias, padding_mode, dtype)
        self.activation = activation
        if device is not None and device != "cpu":
            self.to(device)

    def forward(self, x):
        return self.forward_fused(x, self.activation)

    def forward_fused(self, x, activation=None):
        """act(conv(x) + b) as one call (activation None or 'relu' fused in the kernel; another
        name applied after): lets a container fuse Conv2d with the ReLU module after it."""
        return convolve(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups, activation,
                        self.padding_mode, "Conv2d")

    def extra_repr(self):
        s = super().extra_repr()
        if self.activation is not None:
            s += f", activation={self.activation!r}"
        return s


class ConvTranspose2d(_ConvNd):
    """The transposed convolution (the adjoint of Conv2d in its input; "deconvolution"),
    PyTorch's nn.ConvTranspose2d: weight (in_channels, out_channels / groups, kH, kW). The
    output has (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1
    rows; forward(x, output_size) picks output_padding to reach a given size."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose2d: only padding_mode 'zeros' is supported, got {padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: argument 'padding' must be an int or a pair of ints, got {padding!r}")
        super().__init__("ConvTranspose2d", in_channels, out_channels, kernel_size, stride, padding, dilation, True,
                         output_padding, groups, bias, padding_mode, dtype)
        if device is not None and device != "cpu":
            self.to(device)

    def _output_padding(self, x, output_size):
        if output_size is None:
            return self.output_padding
        size = tuple(int(s) for s in output_size)[-2:]
        if len(size) != 2:
            raise ValueError(f"ConvTranspose2d: output_size must have 2 (or 4) values, got {output_size!r}")
        out = []
        for i in range(2):
            least = ((x.shape[-2 + i] - 1) * self.stride[i] - 2 * self.padding[i]
                     + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            most = least + self.stride[i] - 1
            if not least <= size[i] <= most:
                raise ValueError(f"ConvTranspose2d: requested an output size of {size}, but valid sizes range from "
                                 f"{least} to {most} (for an input of {tuple(x.shape[-2:])})")
            out.append(size[i] - least)
        return tuple(out)

    def forward(self, x, output_size=None):
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(x, output_size), self.groups, self.dilation,
                                op="ConvTranspose2d")

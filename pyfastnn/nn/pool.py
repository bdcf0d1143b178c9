"""Spatial layers for NCHW images: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
AdaptiveMaxPool2d, Upsample (nearest), UpsamplingNearest2d and Dropout2d, with PyTorch's
arguments, defaults and reprs (none holds parameters). Global average pooling is
AdaptiveAvgPool2d((1, 1)) followed by Flatten()."""

from ..ops import pool as P
from ..ops.dropout import check_p
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Upsample", "UpsamplingNearest2d",
           "Dropout2d"]


class MaxPool2d(Module):
    """Max over kernel_size windows moved by stride (default: kernel_size), with implicit -inf
    padding, dilation and ceil_mode; return_indices=True returns (output, int64 indices)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        op = "MaxPool2d"
        for name, v in (("kernel_size", kernel_size), ("padding", padding), ("dilation", dilation)):
            P.pair(v, name, op)
        if stride is not None:
            P.pair(stride, "stride", op)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def forward(self, x):
        return P.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over kernel_size windows moved by stride (default: kernel_size), zero padding
    counted in the divisor unless count_include_pad=False; divisor_override replaces it."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        op = "AvgPool2d"
        P.pair(kernel_size, "kernel_size", op)
        P.pair(padding, "padding", op)
        if stride is not None:
            P.pair(stride, "stride", op)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x):
        return P.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output_size (an int, or (h, w) where None keeps the input's
    size); AdaptiveAvgPool2d(1) is global average pooling."""

    def __init__(self, output_size):
        super().__init__()
        P.pair(output_size, "output_size", "AdaptiveAvgPool2d", allow_none=True)
        self.output_size = output_size

    def forward(self, x):
        return P.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        P.pair(output_size, "output_size", "AdaptiveMaxPool2d", allow_none=True)
        self.output_size, self.return_indices = output_size, bool(return_indices)

    def forward(self, x):
        return P.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class Upsample(Module):
    """Nearest-neighbour upsampling of (N, C, L) or (N, C, H, W) inputs to `size`, or by
    `scale_factor` (output = floor(input * scale_factor)); mode 'nearest' only."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        if mode != "nearest":
            raise ValueError(f"Upsample: mode {mode!r} is not supported; pyfastnn implements 'nearest'")
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, x):
        return P.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class Dropout2d(Module):
    """Zeroes whole channels (the (n, c) planes) with probability p and scales the rest by
    1 / (1 - p) while training; the identity in eval mode. Seeded from pf.random like Dropout."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = check_p(p, "Dropout2d")
        self.inplace = bool(inplace)

    def forward(self, x):
        return P.dropout2d(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"

"""2-D convolution on the C++ kernels (pyfastnn._C): implicit GEMM (our GEMM's micro-kernels
fed straight from the input, no column matrix), Winograd F(2x2, 3x3) for 3x3 kernels at
stride 1, forward and both gradients (16 small GEMMs on the same micro-kernels, 2.25x fewer
multiply-adds), im2col bands or plain GEMMs (1x1) on our
GEMM, with the bias and ReLU fused into its store, direct SIMD kernels for depthwise
convolutions; the backward pass fuses the ReLU gradient with the bias gradient and runs with
the GIL released once. Strided (non-contiguous) arrays are copied by the kernels' bindings.

padding is (top, bottom, left, right), (pad_h, pad_w) or an int; stride and dilation an
int or a pair. `algo` forces 'implicit', 'winograd', 'im2col', '1x1' or 'depthwise' (default: chosen per
shape, see conv2d_algorithm) and `band_rows` the output rows per band (tests use both).
"""

from ... import _C

__all__ = ["conv2d_forward", "conv2d_backward", "conv_transpose2d_forward", "conv_transpose2d_backward"]


def conv2d_forward(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, activation=None, algo=None,
                   band_rows=0):
    """y = act(conv2d(x, weight) + bias) as a new (N, out_channels, OH, OW) array."""
    return _C.conv2d_forward(x, weight, bias, stride, padding, dilation, groups, activation, algo, band_rows)


def conv2d_backward(x, weight, y, gy, stride=1, padding=0, dilation=1, groups=1, activation=None, need_dx=True,
                    need_dw=True, need_db=True, algo=None, band_rows=0):
    """(dx, dw, db), each None unless asked for; y (the forward output) is read only for
    activation 'relu'."""
    return _C.conv2d_backward(x, weight, y, gy, stride, padding, dilation, groups, activation, need_dx, need_dw,
                              need_db, algo, band_rows)


def conv_transpose2d_forward(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1,
                             algo=None, band_rows=0):
    """PyTorch's conv_transpose2d (weight (in_channels, out_channels / groups, kH, kW))."""
    return _C.conv_transpose2d_forward(x, weight, bias, stride, padding, output_padding, dilation, groups, algo,
                                       band_rows)


def conv_transpose2d_backward(x, weight, gy, stride=1, padding=0, output_padding=0, dilation=1, groups=1,
                              need_dx=True, need_dw=True, need_db=True, algo=None, band_rows=0):
    """(dx, dw, db) of y = conv_transpose2d(x, weight) + b given gy."""
    return _C.conv_transpose2d_backward(x, weight, gy, stride, padding, output_padding, dilation, groups, need_dx,
                                        need_dw, need_db, algo, band_rows)


def conv2d_algorithm(x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1):
    """The algorithm conv2d_forward picks for these shapes: 'implicit', 'winograd', 'im2col',
    '1x1' or 'depthwise'."""
    return _C.conv2d_algorithm(list(x_shape), list(w_shape), stride, padding, dilation, groups)

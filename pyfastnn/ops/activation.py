"""Activation functions: one autograd Function per kind on the backend's one-pass kernels
(backends.cpu / backends.reference `activation_forward` / `activation_backward`), and the
functional API under PyTorch's names and signatures (pyfastnn.nn.functional).

Each Function keeps only what its backward reads (`activation_saves`): the output for relu,
relu6, hardtanh, leaky_relu and elu (non-negative slope/alpha), selu, sigmoid, tanh and
hardsigmoid, so that the input can be freed; the input for gelu, silu, softplus and
hardswish. Inputs must be float32 or float64 tensors (integer tensors raise TypeError).

`inplace=True` is accepted where PyTorch has it: the result is written back into the input
(and the input returned) when no graph is being recorded; while recording, a new tensor is
returned, as if inplace=False.
"""

from ..autograd.function import Function, _edge
from ..autograd.grad_mode import is_grad_enabled
from ..backends import for_array
from ..backends.reference.activation import SELU_ALPHA, SELU_SCALE, activation_saves  # noqa: F401
from ..tensor import Tensor

# the functional API (re-exported by pyfastnn.nn.functional); get_activation is imported by name
__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "sigmoid", "tanh", "softplus",
           "hardtanh", "hardswish", "hardsigmoid", "prelu"]


class _Activation(Function):
    """y = f(x) for one activation kind (class attribute `kind`); alpha and beta are the
    kind's parameters, as in backends.reference.activation."""

    kind = ""
    saves_y = True  # keep the output (else the input) for backward
    alpha_sign_matters = False  # leaky_relu, elu: the output suffices only for alpha >= 0

    def forward(self, x, alpha=0.0, beta=0.0):
        backend = for_array(x)
        y = backend.activation_forward(self.kind, x, alpha, beta)
        if self.needs_input_grad[0]:
            self.backend, self.alpha, self.beta = backend, alpha, beta
            if self.saves_y and not (self.alpha_sign_matters and alpha < 0):
                self.x, self.y = None, y
            else:
                self.x, self.y = x, None
        return y

    def backward(self, gy):
        return self.backend.activation_backward(self.kind, self.x, self.y, gy, self.alpha, self.beta)


def _function(kind, name):
    saves = activation_saves(kind, 0.0)
    cls = type(name, (_Activation,), {"kind": kind, "saves_y": saves == "y",
                                      "alpha_sign_matters": activation_saves(kind, -1.0) != saves})
    cls.__qualname__ = name
    return cls


ReLU = _function("relu", "ReLU")
ReLU6 = _function("relu6", "ReLU6")
Hardtanh = _function("hardtanh", "Hardtanh")
LeakyReLU = _function("leaky_relu", "LeakyReLU")
ELU = _function("elu", "ELU")
SELU = _function("selu", "SELU")
GELU = _function("gelu", "GELU")
GELUTanh = _function("gelu_tanh", "GELUTanh")
SiLU = _function("silu", "SiLU")
Sigmoid = _function("sigmoid", "Sigmoid")
Tanh = _function("tanh", "Tanh")
Softplus = _function("softplus", "Softplus")
Hardswish = _function("hardswish", "Hardswish")
Hardsigmoid = _function("hardsigmoid", "Hardsigmoid")


class PReLU(Function):
    """y = x if x > 0 else weight[c] x, c the channel (dim 1); a 1-element weight is shared."""

    def forward(self, x, weight):
        backend = for_array(x)
        if self.needs_input_grad[0] or self.needs_input_grad[1]:
            self.backend, self.x, self.weight = backend, x, weight
        return backend.prelu_forward(x, weight)

    def backward(self, gy):
        need_x, need_w = self.needs_input_grad
        return self.backend.prelu_backward(self.x, self.weight, gy, need_x, need_w)


def _check_tensor(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: argument 'input' must be a Tensor, got {type(input).__name__}")


def _apply(fn, input, alpha=0.0, beta=0.0, inplace=False):
    """fn on input: straight to the kernel when no graph is recorded (the inference path),
    else one graph node. Either way a couple of microseconds of Python around the kernel.

    The node is built here rather than by Function.apply, whose generality (any number of
    inputs and outputs, keyword arguments) costs several microseconds per call: the same
    node, the same fields (tests/test_activation.py::test_node_matches_function_apply keeps
    the two in step)."""
    if type(input) is not Tensor and not isinstance(input, Tensor):
        _check_tensor(input, fn.kind)
    data = input.data
    if input.requires_grad and is_grad_enabled():  # inplace: a new tensor while recording
        ctx = fn()
        ctx.needs_input_grad = (True,)
        y = ctx.forward(data, alpha, beta)
        ctx.next = (_edge(input),)
        ctx.out_dtype = y.dtype
        return Tensor._wrap(y, ctx, 0, True)
    y = for_array(data).activation_forward(fn.kind, data, alpha, beta)
    if inplace:
        data[...] = y
        return input
    return Tensor._wrap(y)


# ---- functional API (torch.nn.functional names and signatures) ----
def relu(input, inplace=False):
    """max(x, 0)."""
    return _apply(ReLU, input, inplace=inplace)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return _apply(ReLU6, input, inplace=inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """min(max(x, min_val), max_val); the gradient is 0 outside (min_val, max_val)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val={min_val}, "
                         f"max_val={max_val}")
    return _apply(Hardtanh, input, float(min_val), float(max_val), inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    return _apply(LeakyReLU, input, float(negative_slope), 0.0, inplace)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return _apply(ELU, input, float(alpha), 0.0, inplace)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with PyTorch's constants scale = 1.0507009873554805,
    alpha = 1.6732632423543772."""
    return _apply(SELU, input, inplace=inplace)


def gelu(input, approximate="none"):
    """x * Phi(x) (Phi: the standard normal CDF), or with approximate='tanh'
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate == "none":
        return _apply(GELU, input)
    if approximate == "tanh":
        return _apply(GELUTanh, input)
    raise ValueError(f"gelu: argument 'approximate' must be 'none' or 'tanh', got {approximate!r}")


def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish)."""
    return _apply(SiLU, input, inplace=inplace)


swish = silu


def sigmoid(input):
    """1 / (1 + exp(-x))."""
    return _apply(Sigmoid, input)


def tanh(input):
    return _apply(Tanh, input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    return _apply(Softplus, input, float(beta), float(threshold))


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    return _apply(Hardswish, input, inplace=inplace)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    return _apply(Hardsigmoid, input, inplace=inplace)


def prelu(input, weight):
    """x if x > 0 else weight[c] * x, with c the channel (dimension 1 of the input; inputs with
    fewer than 2 dimensions have one channel); weight has 1 or `channels` entries."""
    _check_tensor(input, "prelu")
    _check_tensor(weight, "prelu")
    return PReLU.apply(input, weight)


# ---- Keras-style names ----
def _linear(x):
    return x


def _softmax(x):
    from .softmax import softmax  # lazy: another area's module

    return softmax(x, dim=-1)


_KERAS = {
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": _softmax,
    "linear": _linear,
    "elu": elu,
    "selu": selu,
    "gelu": gelu,
    "swish": silu,
    "silu": silu,
    "leaky_relu": leaky_relu,
    "softplus": softplus,
    "relu6": relu6,
    "hard_sigmoid": hardsigmoid,
    "hardsigmoid": hardsigmoid,
    "hard_swish": hardswish,
    "hardswish": hardswish,
    "hardtanh": hardtanh,
}


def get_activation(name):
    """The functional form of a Keras-style activation name: 'relu', 'sigmoid', 'tanh',
    'softmax' (over the last dimension), 'linear' or None (identity), 'elu', 'selu', 'gelu'
    (exact), 'swish'/'silu', 'leaky_relu' (PyTorch's default slope 0.01), 'softplus', also
    'relu6', 'hard_sigmoid', 'hard_swish', 'hardtanh'. A callable is returned unchanged; an
    unknown name raises ValueError listing the valid ones."""
    if name is None:
        return _linear
    if callable(name):
        return name
    if isinstance(name, str):
        fn = _KERAS.get(name.lower())
        if fn is not None:
            return fn
    raise ValueError(f"get_activation: unknown activation {name!r}; expected None, a callable or one of "
                     + ", ".join(repr(k) for k in _KERAS))

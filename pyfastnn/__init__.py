"""pyfastnn: neural networks on hand-written C++ (AVX-512/AVX2, OpenMP) and CUDA kernels."""

from ._version import __version__
from .config import get_num_threads, set_num_threads, show_config
from .tensor import Tensor
from .creation import (  # noqa: F401
    arange, as_tensor, bool_, double, empty, empty_like, eye, float16, float32, float64, from_numpy, full, full_like,
    get_default_dtype, int32, int64, linspace, long, ones, ones_like, rand, rand_like, randint, randn, randn_like,
    randperm, set_default_dtype, tensor, uint8, zeros, zeros_like,
)
from ._tensor_methods import *  # noqa: F401,F403  (exp, log, sum, cat, stack, where, matmul, ...)
from ._tensor_methods import matmul  # numpy arrays or Tensors
from .random import manual_seed, initial_seed
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled
from . import autograd, backends, cuda, nn, optim, data, train
from .serialization import load, save
from .backends import use_backend

float = float32  # noqa: A001  (pf.float, like torch.float)
half = float16
int = int32  # noqa: A001

__all__ = ["__version__", "Tensor", "tensor", "matmul", "set_num_threads", "get_num_threads", "show_config",
           "manual_seed", "no_grad", "enable_grad", "use_backend", "backends", "autograd"]

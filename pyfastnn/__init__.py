"""pyfastnn: neural networks on hand-written C++ (AVX-512/AVX2, OpenMP) and CUDA kernels."""

from ._version import __version__
from .config import get_num_threads, set_num_threads, show_config
from .linalg import matmul
from . import backends

__all__ = ["__version__", "matmul", "set_num_threads", "get_num_threads", "show_config", "backends"]

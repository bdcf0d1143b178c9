"""NumPy reference of every kernel: the definition of "correct", one module per area.

Each function computes in float64 (or wider) and returns the result in the dtype of its
inputs, so the C++ and CUDA kernels can be compared against it with a tolerance that only
reflects their own rounding. Names and signatures match backends.cpu.
"""

from .gemm import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .softmax import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .optim import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403

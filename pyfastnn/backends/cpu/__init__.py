"""The C++ CPU kernels (pyfastnn._C), one module per area, all re-exported here.

Every function here has a twin of the same name and signature in backends.reference (the
NumPy definition of correct); ops call whichever backend is active (backends.use_backend).
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
from .gemm import best_isa, isa, peak_gflops, set_isa, supported_isas  # noqa: F401

"""pyfastnn.nn: modules with PyTorch's names, arguments, defaults and state_dict keys."""

from .module import Module, Parameter
from .containers import ModuleDict, ModuleList, ParameterList, Sequential
from .linear import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .softmax import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from . import functional, init, utils  # noqa: E402

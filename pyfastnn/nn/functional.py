"""pyfastnn.nn.functional: the ops under PyTorch's torch.nn.functional names."""

from ..ops.linear import *  # noqa: F401,F403
from ..ops.activation import *  # noqa: F401,F403
from ..ops.softmax import *  # noqa: F401,F403
from ..ops.dropout import *  # noqa: F401,F403
from ..ops.loss import *  # noqa: F401,F403
from ..ops.rnn import *  # noqa: F401,F403
from ..ops.embedding import *  # noqa: F401,F403
from ..ops.pool import *  # noqa: F401,F403
from ..ops.norm import *  # noqa: F401,F403
from ..ops.conv import *  # noqa: F401,F403

"""Softmax, log-softmax and the fused softmax-cross-entropy on the C++ kernels.

softmax_forward(x) / log_softmax_forward(x): along the last axis of a float32/float64
array. softmax_backward(y, gy) / log_softmax_backward(y, gy): the input gradient from the
output y. softmax_xent_forward(logits (N, C), target, weight=None, ignore_index=-100,
label_smoothing=0.0, reduction='mean', sample_weight=None) -> (loss, state) and
softmax_xent_backward(logits, target, state, grad_loss, ...) -> dlogits: PyTorch's
F.cross_entropy with int64 class indices (N,) or probabilities (N, C); `state` (3, N)
keeps per row the max, the log-sum-exp remainder and the total target weight (not a
probability matrix).
The bound functions are exported as they are: no Python wrapper between op and kernel.
"""

from ... import _C

__all__ = ["softmax_forward", "softmax_backward", "log_softmax_forward", "log_softmax_backward",
           "softmax_xent_forward", "softmax_xent_backward"]

softmax_forward = _C.softmax_forward
softmax_backward = _C.softmax_backward
log_softmax_forward = _C.log_softmax_forward
log_softmax_backward = _C.log_softmax_backward
softmax_xent_forward = _C.softmax_xent_forward
softmax_xent_backward = _C.softmax_xent_backward

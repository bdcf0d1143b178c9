"""Loss modules: PyTorch's names, arguments, defaults, buffers ('weight', 'pos_weight' in
the state_dict) and repr; forward(input, target) calls the functional form in
pyfastnn.nn.functional. forward also takes an optional keyword `sample_weight` (N,),
Keras' per-sample weights (see pyfastnn.ops.loss)."""

from ..ops import loss as _F
from .module import Module

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "LogCoshLoss", "QuantileLoss", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "HingeEmbeddingLoss", "HingeLoss", "CosineEmbeddingLoss",
]


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean", allowed=_F._REDUCTIONS):
        super().__init__()
        self.reduction = _F._reduction(type(self).__name__, reduction, size_average, reduce, allowed)


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error (x - y)^2."""

    def forward(self, input, target, sample_weight=None):
        return _F.mse_loss(input, target, reduction=self.reduction, sample_weight=sample_weight)


class L1Loss(_Loss):
    """Mean absolute error |x - y| (MAE)."""

    def forward(self, input, target, sample_weight=None):
        return _F.l1_loss(input, target, reduction=self.reduction, sample_weight=sample_weight)


class HuberLoss(_Loss):
    """Quadratic within delta of the target, linear beyond (gradients capped at delta)."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target, sample_weight=None):
        return _F.huber_loss(input, target, reduction=self.reduction, delta=self.delta, sample_weight=sample_weight)


class SmoothL1Loss(_Loss):
    """Huber loss divided by beta (beta=0: L1)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target, sample_weight=None):
        return _F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta, sample_weight=sample_weight)


class LogCoshLoss(_Loss):
    """log(cosh(x - y)), computed stably; mean by default (Keras' 'log_cosh')."""

    def __init__(self, reduction="mean"):
        super().__init__(reduction=reduction)

    def forward(self, input, target, sample_weight=None):
        return _F.log_cosh_loss(input, target, reduction=self.reduction, sample_weight=sample_weight)


class QuantileLoss(_Loss):
    """Pinball loss of quantile q (q=0.5: the median)."""

    def __init__(self, q=0.5, reduction="mean"):
        super().__init__(reduction=reduction)
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"QuantileLoss: q must be in [0, 1], got {q}")
        self.q = q

    def forward(self, input, target, sample_weight=None):
        return _F.quantile_loss(input, target, q=self.q, reduction=self.reduction, sample_weight=sample_weight)

    def extra_repr(self):
        return f"q={self.q}"


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (logs clamped at -100)."""

    def forward(self, input, target, sample_weight=None):
        return _F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction,
                                       sample_weight=sample_weight)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable step."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target, sample_weight=None):
        return _F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                   pos_weight=self.pos_weight, sample_weight=sample_weight)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits against class indices or probabilities (fused kernel)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target, sample_weight=None):
        return _F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                                reduction=self.reduction, label_smoothing=self.label_smoothing,
                                sample_weight=sample_weight)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (after LogSoftmax)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target, sample_weight=None):
        return _F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                           reduction=self.reduction, sample_weight=sample_weight)


class KLDivLoss(_Loss):
    """KL(target || exp(input)); use reduction='batchmean' for the mathematical KL divergence."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction, allowed=_F._REDUCTIONS + ("batchmean",))
        self.log_target = log_target

    def forward(self, input, target, sample_weight=None):
        return _F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target,
                         sample_weight=sample_weight)


class HingeEmbeddingLoss(_Loss):
    """x where y = 1, max(0, margin - x) where y = -1."""

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target, sample_weight=None):
        return _F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction,
                                       sample_weight=sample_weight)


class HingeLoss(_Loss):
    """Binary hinge loss max(0, 1 - y x) for labels in {-1, 1} (Keras' 'hinge')."""

    def __init__(self, reduction="mean"):
        super().__init__(reduction=reduction)

    def forward(self, input, target, sample_weight=None):
        return _F.hinge_loss(input, target, reduction=self.reduction, sample_weight=sample_weight)


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target, sample_weight=None):
        return _F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction,
                                        sample_weight=sample_weight)

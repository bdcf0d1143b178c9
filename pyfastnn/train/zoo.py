"""Model builders for the classic exercises (what `pyfastnn train --model NAME` trains).

    model = zoo.build("cnn", input_shape=(1, 28, 28), num_classes=10)

mlp   - Linear/ReLU/Dropout stack on flattened inputs (any dataset)
cnn   - Conv(32,3)-BN-ReLU-MaxPool-Conv(64,3)-BN-ReLU-MaxPool-Dropout-Dense(128)-Dense (images)
lenet - LeNet-5: Conv(6,5)-Tanh-AvgPool-Conv(16,5)-Tanh-AvgPool-Dense(120)-Dense(84)-Dense (images)
lstm  - LSTM over a sequence (image rows, or a time-series window), last step -> Dense
"""

import numpy as np

from .. import nn

__all__ = ["MODELS", "build", "mlp", "cnn", "lenet", "lstm", "SequenceModel"]

MODELS = ("mlp", "cnn", "lenet", "lstm")


def _size(shape):
    return int(np.prod(shape))


def mlp(input_shape, num_outputs, hidden=(128, 64), dropout=0.2):
    """Flatten, then Linear+ReLU(+Dropout) per hidden width, then Linear to the outputs."""
    layers = [nn.Flatten()] if len(input_shape) > 1 else []
    width = _size(input_shape)
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, num_outputs))
    return nn.Sequential(*layers)


def _image_shape(input_shape, model):
    if len(input_shape) != 3:
        raise ValueError(f"zoo.{model}: needs images (C, H, W), got samples of shape {tuple(input_shape)}")
    return input_shape


def cnn(input_shape, num_classes, widths=(32, 64), hidden=128, dropout=0.25):
    """Two 3x3 'same' conv blocks (conv, batch norm, ReLU, 2x2 max pool), then a dense head:
    the Keras/PyTorch tutorial network (28x28 -> 14 -> 7, 64*7*7 = 3136 features)."""
    c, h, w = _image_shape(input_shape, "cnn")
    layers = []
    for width in widths:
        layers += [nn.Conv2d(c, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2)]
        c, h, w = width, h // 2, w // 2
    if h < 1 or w < 1:
        raise ValueError(f"zoo.cnn: images of {input_shape[1:]} are too small for {len(widths)} 2x2 poolings")
    layers += [nn.Flatten(), nn.Dropout(dropout), nn.Linear(c * h * w, hidden), nn.ReLU(), nn.Dropout(dropout),
               nn.Linear(hidden, num_classes)]
    return nn.Sequential(*layers)


def lenet(input_shape, num_classes):
    """LeNet-5 (LeCun et al. 1998): tanh and average pooling; the first conv pads 28x28 to
    the paper's 32x32. On images smaller than 20 pixels (the 8x8 digits) the kernels are 3x3."""
    c, h, w = _image_shape(input_shape, "lenet")
    k = 5 if min(h, w) >= 20 else 3
    h2, w2 = ((h // 2) - k + 1) // 2, ((w // 2) - k + 1) // 2
    if h2 < 1 or w2 < 1:
        raise ValueError(f"zoo.lenet: images of {input_shape[1:]} are too small")
    return nn.Sequential(
        nn.Conv2d(c, 6, k, padding=k // 2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, k), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(16 * h2 * w2, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, num_classes))


class SequenceModel(nn.Module):
    """An LSTM over (N, T, F) sequences (an image (N, 1, H, W) is read row by row: T=H,
    F=W), its last step's output through a Linear."""

    def __init__(self, features, num_outputs, hidden=64, num_layers=1):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden, num_outputs)

    def forward(self, x):
        if x.ndim == 4:
            x = x.reshape(x.shape[0], x.shape[2], x.shape[3])
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def lstm(input_shape, num_outputs, hidden=64, num_layers=1):
    if len(input_shape) == 3:
        if input_shape[0] != 1:
            raise ValueError(f"zoo.lstm: reads single-channel images row by row, got {input_shape[0]} channels")
        features = input_shape[2]
    elif len(input_shape) == 2:
        features = input_shape[1]
    else:
        raise ValueError(f"zoo.lstm: needs sequences (T, F) or images (1, H, W), got samples of shape "
                         f"{tuple(input_shape)}")
    return SequenceModel(features, num_outputs, hidden, num_layers)


def build(name, input_shape, num_outputs, **kwargs):
    """The model `name` (one of MODELS) for samples of `input_shape` and `num_outputs` outputs."""
    builders = {"mlp": mlp, "cnn": cnn, "lenet": lenet, "lstm": lstm}
    if name not in builders:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return builders[name](tuple(input_shape), num_outputs, **kwargs)

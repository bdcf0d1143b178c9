"""LeNet-5 (LeCun et al., 1998) on 28x28 images: the classic layout, tanh and average pooling,
the first convolution padded to 'same' so 28x28 input takes the place of the paper's 32x32.

    conv 5x5, 6 maps  (28x28) -> tanh -> avg-pool 2 (14x14)
    conv 5x5, 16 maps (10x10) -> tanh -> avg-pool 2 (5x5)  -> flatten 400
    dense 120 -> tanh -> dense 84 -> tanh -> dense 10

Trained on Fashion-MNIST (installed by `apt install dataset-fashion-mnist`, or downloaded into
~/.cache/pyfastnn when the network allows); `--dataset mnist` for the digits.

    python examples/lenet5.py                  # full: 60,000 images, 10 epochs (~89% on Fashion-MNIST)
    python examples/lenet5.py --train-size 5000 --epochs 3
"""

import argparse

import numpy as np

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.data import datasets


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.Tanh(),
        nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, 10),
    )


def load(dataset="fashion-mnist", train_size=None, test_size=None):
    """(x_train, y_train, x_test, y_test): float32 (N, 1, 28, 28) scaled to [0, 1], the first
    train_size / test_size images of each split (None: all)."""
    cls = datasets.FashionMNIST if dataset == "fashion-mnist" else datasets.MNIST
    out = []
    for train, n in ((True, train_size), (False, test_size)):
        ds = cls(train=train)
        out += [ds.data[:n, None].astype(np.float32) / np.float32(255), ds.targets[:n]]
    return out


def main(train_size=3000, test_size=1000, epochs=2, batch_size=32, dataset="fashion-mnist", verbose=0):
    pf.manual_seed(0)
    x_train, y_train, x_test, y_test = load(dataset, train_size, test_size)
    model = lenet5()
    model.compile(optimizer=pf.optim.Adam(model.parameters(), lr=2e-3), loss="cross_entropy", metrics=["accuracy"])
    if verbose:
        model.summary(input_shape=(1, 28, 28))
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=verbose)
    result = model.evaluate(x_test, y_test)
    print(f"LeNet-5, {len(x_train)} {dataset} training images, {epochs} epochs: "
          f"test accuracy {result['accuracy']:.3f} on {len(x_test)} images")
    return result["accuracy"]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train-size", type=int, default=None, help="training images (default: all 60,000)")
    ap.add_argument("--test-size", type=int, default=None, help="test images (default: all 10,000)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--dataset", choices=["fashion-mnist", "mnist"], default="fashion-mnist")
    a = ap.parse_args()
    main(a.train_size, a.test_size, a.epochs, a.batch_size, a.dataset, verbose=2)

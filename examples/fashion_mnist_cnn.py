"""The Keras-tutorial CNN on Fashion-MNIST: two 3x3 convolutions (32 and 64 filters, 'same'
padding) with batch norm, ReLU and 2x2 max pooling, then Dense(128) with dropout and
Dense(10); Adam, early stopping on the validation loss.

    28x28x1 -> conv 32 -> 28x28 -> pool -> 14x14 -> conv 64 -> 14x14 -> pool -> 7x7x64
            -> flatten 3136 -> dense 128 -> dropout 0.5 -> dense 10

The data: `apt install dataset-fashion-mnist` (or a download into ~/.cache/pyfastnn when the
network allows). The full run reaches about 91-92% test accuracy within 5 epochs.

    python examples/fashion_mnist_cnn.py                    # full: 60,000 images, up to 15 epochs
    python examples/fashion_mnist_cnn.py --train-size 10000 --epochs 3
"""

import argparse

import numpy as np

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.data import datasets
from pyfastnn.train import EarlyStopping


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding="same"), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding="same"), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10),
    )


def load(train_size=None, test_size=None):
    """(x_train, y_train, x_test, y_test): float32 (N, 1, 28, 28) in [0, 1] and int64 labels,
    the first train_size / test_size images of each split (None: all)."""
    out = []
    for train, n in ((True, train_size), (False, test_size)):
        ds = datasets.FashionMNIST(train=train)
        out += [ds.data[:n, None].astype(np.float32) / np.float32(255), ds.targets[:n]]
    return out


def main(train_size=2000, test_size=1000, epochs=2, batch_size=64, patience=2, verbose=0):
    pf.manual_seed(0)
    x_train, y_train, x_test, y_test = load(train_size, test_size)
    model = cnn()
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    if verbose:
        model.summary(input_shape=(1, 28, 28))
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, validation_split=0.1, verbose=verbose,
                        callbacks=[EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)])
    result = model.evaluate(x_test, y_test, batch_size=256)
    print(f"Fashion-MNIST CNN, {len(x_train)} training images, {len(history.epoch)} epochs: "
          f"test accuracy {result['accuracy']:.3f} on {len(x_test)} images")
    return result["accuracy"]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train-size", type=int, default=None, help="training images (default: all 60,000)")
    ap.add_argument("--test-size", type=int, default=None, help="test images (default: all 10,000)")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--patience", type=int, default=3, help="early stopping: epochs without a better val_loss")
    a = ap.parse_args()
    main(a.train_size, a.test_size, a.epochs, a.batch_size, a.patience, verbose=2)

"""Residual blocks (He et al., 2015): y = relu(x + F(x)). A deep stack of them against the same
stack without the skip connections (the "plain" net), both with PyTorch's default init: the
plain net's gradients fade on their way down to the first layers (the vanishing gradient),
while the identity paths of the residual net carry them back. The script prints the
gradient norm of every convolution's weights in both nets, from the input upwards, and
returns how much more evenly the residual net spreads the gradient over its layers.

    stem conv 3x3 (1 -> C) -> relu -> blocks x [conv 3x3 -> relu -> conv 3x3 (+ x) -> relu]
         -> global average pool -> dense 10

--batchnorm uses the block of the paper, conv-BN-relu-conv-BN (+ x), relu: batch norm keeps
the plain net's signal alive, so the gap is smaller, but it widens with depth (10 blocks:
the plain net's layer gradients span 20x, the residual net's 5x; 16 blocks: 110x and 6x).

Input: a batch of Fashion-MNIST images when the files are installed (`apt install
dataset-fashion-mnist`), else a seeded random batch (the gradient flow looks the same).
--epochs N also trains both nets on Fashion-MNIST and compares their test accuracy: with
--epochs 3 the residual net gets to about 50% while the plain one stays at chance (10%).

    python examples/resnet_block.py
    python examples/resnet_block.py --epochs 3
    python examples/resnet_block.py --blocks 16 --batchnorm
"""

import argparse

import numpy as np

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.nn import functional as F


class Block(nn.Module):
    """conv-relu-conv (conv-BN-relu-conv-BN with batchnorm), plus the input when `skip` (a
    residual block), then relu."""

    def __init__(self, channels, skip=True, batchnorm=False):
        super().__init__()
        self.skip = skip
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=not batchnorm)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=not batchnorm)
        self.bn1 = nn.BatchNorm2d(channels) if batchnorm else nn.Identity()
        self.bn2 = nn.BatchNorm2d(channels) if batchnorm else nn.Identity()

    def forward(self, x):
        h = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(x + h if self.skip else h)


def net(blocks, channels, skip, batchnorm=False):
    return nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(),
        *[Block(channels, skip, batchnorm) for _ in range(blocks)],
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10),
    )


def conv_grad_norms(model, x, y):
    """The gradient norm of each convolution's weights (input side first) after one backward
    pass of the cross-entropy loss on (x, y)."""
    model.zero_grad()
    F.cross_entropy(model(pf.tensor(x)), pf.tensor(y)).backward()
    return [float(np.linalg.norm(m.weight.grad.data)) for m in model.modules() if isinstance(m, nn.Conv2d)]


def fashion_mnist(train, n=None):
    """The first n Fashion-MNIST images (float32 (n, 1, 28, 28) in [0, 1]) and labels of a
    split, or None when the files are not installed."""
    try:
        ds = pf.data.datasets.FashionMNIST(train=train, download=False)
    except FileNotFoundError:
        return None
    return ds.data[:n, None].astype(np.float32) / np.float32(255), ds.targets[:n]


def main(blocks=6, channels=8, batchnorm=False, batch_size=32, epochs=0, train_size=5000, verbose=True):
    pf.manual_seed(0)
    batch = fashion_mnist(False, batch_size)  # the test split: the smaller file to read
    if batch is not None:
        x, y = batch
    else:  # no data installed: a random batch shows the same gradient flow
        rng = np.random.default_rng(0)
        x, y = rng.random((batch_size, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, batch_size)
    nets = {name: net(blocks, channels, skip, batchnorm) for name, skip in (("plain", False), ("residual", True))}
    norms = {name: conv_grad_norms(m, x, y) for name, m in nets.items()}
    if verbose:
        print(f"gradient norm of each conv layer's weights at initialization ({blocks} blocks, {channels} channels"
              f"{', batch norm' if batchnorm else ''})")
        print(f"{'layer':>8} {'plain':>10} {'residual':>10}")
        for i, (a, b) in enumerate(zip(norms["plain"], norms["residual"])):
            print(f"{'stem' if i == 0 else f'{(i + 1) // 2}.conv{2 - i % 2}':>8} {a:10.2e} {b:10.2e}")
    # how evenly each net spreads the gradient: its weakest layer's norm over its strongest's
    even = {name: min(v) / max(v) for name, v in norms.items()}
    ratio = even["residual"] / even["plain"] if even["plain"] > 0 else float("inf")
    print(f"weakest/strongest layer gradient norm: plain {even['plain']:.2g}, residual {even['residual']:.2g} "
          f"(the residual net's gradients are {ratio:.3g}x more even)")
    if epochs and batch is not None:
        (x_train, y_train), (x_test, y_test) = fashion_mnist(True, train_size), fashion_mnist(False, 2000)
        for name, m in nets.items():
            m.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
            m.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=2 if verbose else 0)
            print(f"{name}: test accuracy {m.evaluate(x_test, y_test)['accuracy']:.3f}")
    return ratio


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--blocks", type=int, default=6, help="residual (or plain) blocks of two convolutions")
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--batchnorm", action="store_true", help="conv-BN-relu-conv-BN blocks, as in the paper")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=0, help="also train both nets for this many epochs")
    ap.add_argument("--train-size", type=int, default=5000)
    a = ap.parse_args()
    main(a.blocks, a.channels, a.batchnorm, a.batch_size, a.epochs, a.train_size)

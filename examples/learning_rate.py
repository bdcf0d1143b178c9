"""The learning rate decides everything: too small barely moves, a good one converges,
too large overshoots and diverges. Plain SGD on the same digits MLP from the same start.

    python examples/learning_rate.py [--epochs 20]
"""

import argparse
import copy

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.data import datasets

RATES = {"too small": 1e-4, "good": 0.1, "too large": 10.0}


def main(epochs=3, rates=None, verbose=0):
    """Final training loss per learning rate ({label: loss}; inf/nan when it diverged)."""
    rates = rates or RATES
    pf.manual_seed(0)
    x, y = datasets.digits()
    init = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).state_dict()
    losses = {}
    for label, lr in rates.items():
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        model.load_state_dict(copy.deepcopy(init))
        model.compile(optimizer=pf.optim.SGD(model.parameters(), lr=lr), loss="cross_entropy")
        pf.manual_seed(1)
        history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=verbose)
        losses[label] = history.history["loss"][-1]
        curve = " ".join(f"{v:.3g}" for v in history.history["loss"])
        print(f"lr={lr:<8g} {label:<10} loss per epoch: {curve}")
    return losses


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=20)
    main(ap.parse_args().epochs)

"""SGD, SGD with momentum, RMSprop and Adam on the same digits MLP from the same
initialization and the same batches: which one gets the training loss down fastest?

    python examples/optimizer_comparison.py [--epochs 20] [--lr 0.01]
"""

import argparse
import copy

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.data import datasets, train_test_split

OPTIMIZERS = {
    "SGD": lambda params, lr: pf.optim.SGD(params, lr=lr),
    "SGD+momentum": lambda params, lr: pf.optim.SGD(params, lr=lr, momentum=0.9),
    "RMSprop": lambda params, lr: pf.optim.RMSprop(params, lr=lr),
    "Adam": lambda params, lr: pf.optim.Adam(params, lr=lr),
}


def main(epochs=3, lr=0.01, verbose=0):
    """Final training loss per optimizer (all at the same learning rate)."""
    pf.manual_seed(0)
    x, y = datasets.digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, seed=0)
    init = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).state_dict()

    losses, accuracies = {}, {}
    for name, make in OPTIMIZERS.items():
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        model.load_state_dict(copy.deepcopy(init))  # the same starting point for everyone
        model.compile(optimizer=make(model.parameters(), lr), loss="cross_entropy", metrics=["accuracy"])
        pf.manual_seed(1)  # the same shuffles for everyone
        history = model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=verbose)
        losses[name] = history.history["loss"][-1]
        accuracies[name] = model.evaluate(x_test, y_test)["accuracy"]

    print(f"{'optimizer':<14} {'final loss':>10} {'test acc':>9}   (lr={lr}, {epochs} epochs)")
    for name in OPTIMIZERS:
        print(f"{name:<14} {losses[name]:>10.4f} {accuracies[name]:>9.3f}")
    return losses


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr", type=float, default=0.01)
    args = ap.parse_args()
    main(args.epochs, args.lr)

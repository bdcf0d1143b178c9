"""Batch normalization: a deeper MLP (6 hidden layers) on the digits, with and without
nn.BatchNorm1d after each Linear, trained with plain SGD from the same seed. Normalizing
each layer's inputs lets the deep net learn in a few epochs where the plain one crawls.

    python examples/batch_norm.py [--epochs 10]
"""

import argparse

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.data import datasets, train_test_split


def deep_mlp(batch_norm, depth=6, width=64):
    layers, n_in = [], 64
    for _ in range(depth):
        layers += [nn.Linear(n_in, width)] + ([nn.BatchNorm1d(width)] if batch_norm else []) + [nn.Sigmoid()]
        n_in = width
    return nn.Sequential(*layers, nn.Linear(n_in, 10))


def main(epochs=3, lr=0.05, verbose=0):
    """{"plain"|"batch_norm": {"loss": final training loss, "accuracy": test accuracy}}."""
    x, y = datasets.digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, seed=0)
    results = {}
    for name, bn in (("plain", False), ("batch_norm", True)):
        pf.manual_seed(0)
        model = deep_mlp(bn)
        model.compile(optimizer=pf.optim.SGD(model.parameters(), lr=lr, momentum=0.9), loss="cross_entropy",
                      metrics=["accuracy"])
        history = model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=verbose)
        results[name] = dict(loss=history.history["loss"][-1], accuracy=model.evaluate(x_test, y_test)["accuracy"])
    print(f"{'model':<11} {'train loss':>10} {'test acc':>9}   ({epochs} epochs, 6 sigmoid layers)")
    for name, r in results.items():
        print(f"{name:<11} {r['loss']:>10.4f} {r['accuracy']:>9.3f}")
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    main(ap.parse_args().epochs)

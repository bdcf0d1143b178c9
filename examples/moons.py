"""Two moons with a 2-16-1 network (the make_moons exercise), plotting the decision
boundary when matplotlib is installed.

    python examples/moons.py [--plot moons.png]
"""

import argparse

import numpy as np

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.data import StandardScaler, datasets, train_test_split


def main(epochs=100, plot=None, verbose=0):
    pf.manual_seed(42)
    x, y = datasets.moons(1000, noise=0.2, seed=42)
    x_train, x_test, y_train, y_test = train_test_split(x, y.astype(np.float32), test_size=0.2, seed=42)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    model.compile(optimizer=pf.optim.Adam(model.parameters(), lr=0.01), loss="bce_with_logits",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.2, verbose=verbose)
    result = model.evaluate(x_test, y_test)
    print(f"test accuracy {result['accuracy']:.3f}")
    if plot:
        from pyfastnn.train.plots import plot_decision_boundary

        plot_decision_boundary(model, x_test, y_test, path=plot)
        print(f"decision boundary written to {plot}")
    return result["accuracy"]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--plot", help="write the decision boundary to this PNG")
    a = ap.parse_args()
    main(a.epochs, a.plot, verbose=2)

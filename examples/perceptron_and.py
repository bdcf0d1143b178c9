"""A single neuron learns the AND gate (the perceptron exercise): Keras-style compile/fit.

    python examples/perceptron_and.py
"""

import numpy as np

import pyfastnn as pf
from pyfastnn import nn


def main(epochs=500, verbose=0):
    pf.manual_seed(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([[0], [0], [0], [1]], np.float32)
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    model.compile(optimizer=pf.optim.SGD(model.parameters(), lr=1.0), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=4, verbose=verbose)
    pred = model.predict(x)
    for xi, p in zip(x, pred):
        print(f"AND{tuple(int(v) for v in xi)} = {p[0]:.3f} -> {int(p[0] > 0.5)}")
    w, b = model[0].weight.numpy()[0], model[0].bias.numpy()[0]
    print(f"learned weights {w.round(2)}, bias {b:.2f}")
    return model.evaluate(x, y)["accuracy"]


if __name__ == "__main__":
    print("accuracy:", main())

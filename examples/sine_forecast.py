"""Forecasting a noisy sine wave with a simple RNN: the next value from the previous 20.

A SimpleRNN(32) as in the Keras exercise: nn.RNN(1, 32) over each 20-step window, its final
hidden state into nn.Linear(32, 1), trained with MSE. The series is sin(0.1 t) plus N(0, 0.1)
noise (pf.data.datasets.sine_windows): 480 windows X (480, 20, 1), the first 80% for
training, the rest (later in time) for testing. The targets' own noise costs an MSE of about
0.011 and repeating the last value 0.030; 40 epochs reach about 0.015.

    python examples/sine_forecast.py [--epochs 40] [--plot sine.png]
"""

import argparse

import numpy as np

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.data import datasets


class Forecaster(nn.Module):
    """SimpleRNN(hidden) -> Dense(1): the last hidden state predicts the next value."""

    def __init__(self, hidden=32):
        super().__init__()
        self.rnn = nn.RNN(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        _, h_n = self.rnn(x)  # h_n (1, batch, hidden): the state after the last step
        return self.head(h_n[0])


def main(epochs=40, plot=None, verbose=0):
    pf.manual_seed(0)
    x, y = datasets.sine_windows(n=500, window=20, noise=0.1, seed=0)  # (480, 20, 1), (480, 1)
    split = int(0.8 * len(x))  # no shuffling across the split: test on the future
    x_train, y_train, x_test, y_test = x[:split], y[:split], x[split:], y[split:]

    model = Forecaster(32)
    model.compile(optimizer=pf.optim.Adam(model.parameters(), lr=0.003), loss="mse")
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=verbose)
    mse = model.evaluate(x_test, y_test)["loss"]
    naive = float(np.mean((x_test[:, -1] - y_test) ** 2))  # "tomorrow = today"
    print(f"test MSE {mse:.4f} (repeating the last value: {naive:.4f})")
    if plot:
        import matplotlib.pyplot as plt

        pred = model.predict(x_test)
        fig, ax = plt.subplots(figsize=(9, 3.5))
        ax.plot(y_test[:, 0], label="truth", lw=1.5)
        ax.plot(pred[:, 0], label="prediction", lw=1.5)
        ax.set_xlabel("test window")
        ax.set_title(f"SimpleRNN(32) on a noisy sine, test MSE {mse:.4f}")
        ax.legend()
        fig.tight_layout()
        fig.savefig(plot)
        print(f"prediction vs truth written to {plot}")
    return mse


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--plot", help="write prediction vs truth to this PNG")
    a = ap.parse_args()
    main(a.epochs, a.plot, verbose=2)

"""A stacked (deep) RNN classifier: three recurrent layers, one binary decision per sequence.

Each sequence is 40 noisy samples of a sine wave with a random phase and amplitude; the
class says whether its frequency is low (0.15 to 0.3 rad/step) or high (0.35 to 0.6). Three
tanh RNN layers of 32 units are stacked (nn.RNN(num_layers=3): each layer reads the whole
output sequence of the one below, as Keras' return_sequences=True stacks do) and the top
layer's last state feeds one logit, trained with BCE-with-logits. Deep tanh RNNs have
exploding gradients now and then (the loss jumps back up); clipping the global gradient
norm at 1 (compile(global_clipnorm=1.0), i.e. nn.utils.clip_grad_norm_) keeps training
steady.

    python examples/stacked_rnn.py [--epochs 15]
"""

import argparse

import numpy as np

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.data import train_test_split


def waves(n=2000, steps=40, noise=0.3, seed=0):
    """x (n, steps, 1) noisy sines, y (n, 1) 1.0 for the high-frequency ones."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    freq = np.where(y == 1, rng.uniform(0.35, 0.6, n), rng.uniform(0.15, 0.3, n))
    phase = rng.uniform(0, 2 * np.pi, n)
    amp = rng.uniform(0.5, 1.5, n)
    t = np.arange(steps)
    x = amp[:, None] * np.sin(freq[:, None] * t[None, :] + phase[:, None])
    x += rng.normal(scale=noise, size=x.shape)
    return x[..., None].astype(np.float32), y[:, None].astype(np.float32)


class StackedRNN(nn.Module):
    def __init__(self, hidden=32, layers=3):
        super().__init__()
        self.rnn = nn.RNN(1, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        _, h_n = self.rnn(x)  # (layers, batch, hidden)
        return self.head(h_n[-1])  # the top layer's final state


def main(epochs=15, verbose=0):
    pf.manual_seed(0)
    x, y = waves()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, seed=0)
    model = StackedRNN()
    model.compile(optimizer=pf.optim.Adam(model.parameters(), lr=1e-3), loss="bce_with_logits",
                  metrics=["accuracy"], global_clipnorm=1.0)
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.1, verbose=verbose)
    result = model.evaluate(x_test, y_test)
    print(f"test accuracy {result['accuracy']:.3f} (3 stacked RNN layers, "
          f"{sum(p.numpy().size for p in model.parameters())} parameters)")
    return result["accuracy"]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=15)
    a = ap.parse_args()
    main(a.epochs, verbose=2)

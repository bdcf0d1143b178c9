"""Vanishing gradients: a tanh RNN forgets the first input of a 50-step sequence, an LSTM
does not.

The task: read 50 steps of noise and, at the end, output the sign of the very first input
(a second input channel marks step 0). Only the gradient that flows back through all 50
steps can teach a network to keep that value. Both networks have 32 units and train the
same way; then we print (and plot, with --plot) the size of the loss gradient with respect
to each input step, |dL/dx_t|, averaged over a batch. The tanh RNN's gradient shrinks by a
roughly constant factor per step (a product of 50 Jacobians W_hh^T diag(1 - h^2)), so the
first step gets almost nothing and the RNN stays at chance; the LSTM's cell state carries
the gradient back through its forget gates (their bias starts at 2, so they start out
mostly open: Keras' unit_forget_bias uses 1, long memories like a bit more), and it solves
the task within a hundred steps.

    python examples/vanishing_gradients.py [--steps 300] [--plot gradients.png]
"""

import argparse

import numpy as np

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.nn import functional as F

T = 50


def memory_task(batch, rng):
    """x (batch, T, 2): noise with the first value set to +-1 and a step-0 marker; y the sign
    of the first value (1.0 or 0.0)."""
    x = np.zeros((batch, T, 2), np.float32)
    x[:, :, 0] = rng.normal(scale=0.5, size=(batch, T))
    sign = rng.integers(0, 2, batch)
    x[:, 0, 0] = 2.0 * sign - 1.0
    x[:, 0, 1] = 1.0
    return x, sign[:, None].astype(np.float32)


class Recurrent(nn.Module):
    def __init__(self, kind, hidden=32):
        super().__init__()
        self.rnn = nn.LSTM(2, hidden, batch_first=True) if kind == "lstm" else nn.RNN(2, hidden, batch_first=True)
        if kind == "lstm":  # forget-gate bias 2 (gates i, f, g, o): remember by default
            self.rnn.bias_ih_l0.data[hidden:2 * hidden] = 2.0
            self.rnn.bias_hh_l0.data[hidden:2 * hidden] = 0.0
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y[:, -1])


def input_gradients(model, x, y):
    """|dL/dx_t| per step t, averaged over the batch and the input channel that carries data."""
    xt = pf.tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(model(xt), pf.tensor(y))
    model.zero_grad()
    loss.backward()
    return np.abs(xt.grad.numpy()[:, :, 0]).mean(axis=0)


def train(model, steps, rng):
    opt = pf.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        x, y = memory_task(64, rng)
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(model(pf.tensor(x)), pf.tensor(y)).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    x, y = memory_task(1000, rng)
    with pf.no_grad():
        return float(((model(pf.tensor(x)).numpy() > 0) == (y > 0.5)).mean())


def main(steps=300, plot=None):
    pf.manual_seed(0)
    rng = np.random.default_rng(0)
    probe = memory_task(256, np.random.default_rng(1))
    results = {}
    for kind in ("rnn", "lstm"):
        model = Recurrent(kind)
        before = input_gradients(model, *probe)
        accuracy = train(model, steps, rng)
        after = input_gradients(model, *probe)
        results[kind] = (before, after, accuracy)
        print(f"{kind:>4}: accuracy {accuracy:.3f}; |dL/dx_0| {after[0]:.2e} vs |dL/dx_49| {after[-1]:.2e} "
              f"(ratio {after[0] / after[-1]:.1e}; before training {before[0] / before[-1]:.1e})")
    ratio = results["lstm"][1][0] / results["rnn"][1][0]
    print(f"the first input's gradient is {ratio:.1e} times larger in the LSTM")
    if plot:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 4))
        for kind, color in (("rnn", "C0"), ("lstm", "C1")):
            before, after, acc = results[kind]
            ax.semilogy(after, color=color, label=f"{kind.upper()} after training (accuracy {acc:.2f})")
            ax.semilogy(before, "--", color=color, alpha=0.5, label=f"{kind.upper()} at initialization")
        ax.set_xlabel("input step t")
        ax.set_ylabel("|dL / dx_t|")
        ax.set_title("Gradient reaching each input of a 50-step sequence")
        ax.legend()
        fig.tight_layout()
        fig.savefig(plot)
        print(f"plot written to {plot}")
    return ratio


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--plot", help="write |dL/dx_t| per step to this PNG")
    a = ap.parse_args()
    main(a.steps, a.plot)

"""XOR needs a hidden layer: a 2-8-1 MLP in a plain PyTorch-style training loop.

    python examples/xor_mlp.py
"""

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.nn import functional as F


def main(steps=500):
    pf.manual_seed(3)
    x = pf.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=pf.float32)
    y = pf.tensor([[0], [1], [1], [0]], dtype=pf.float32)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = pf.optim.Adam(model.parameters(), lr=0.05)
    for step in range(steps):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    with pf.no_grad():
        p = pf.sigmoid(model(x)).numpy().ravel()
    for xi, pi in zip(x.tolist(), p):
        print(f"XOR{tuple(int(v) for v in xi)} = {pi:.3f}")
    return [int(v > 0.5) for v in p]


if __name__ == "__main__":
    print("predictions:", main())

"""L1 and L2 regularization in a PyTorch-style loop on the digits: L2 as the optimizer's
weight_decay, L1 as an explicit penalty lambda * sum|w| added to the loss. L2 shrinks the
weights; L1 drives many of them to (almost) exactly zero.

    python examples/regularization.py [--epochs 30]
"""

import argparse
import copy

import numpy as np

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.data import DataLoader, TensorDataset, datasets, train_test_split


def weights(model):
    """The weight matrices (biases are usually left unregularized)."""
    return [p for name, p in model.named_parameters() if name.endswith("weight")]


def train(model, loader, epochs, lr, weight_decay=0.0, l1=0.0):
    opt = pf.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)  # L2
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            if l1:
                loss = loss + l1 * sum(w.abs().sum() for w in weights(model))  # L1
            loss.backward()
            opt.step()
    return model


def stats(model, x_test, y_test):
    w = np.concatenate([p.data.ravel() for p in weights(model)])
    with pf.no_grad():
        accuracy = float((model.eval()(pf.tensor(x_test)).data.argmax(1) == y_test).mean())
    return dict(l2_norm=float(np.sqrt((w * w).sum())), l1_norm=float(np.abs(w).sum()),
                near_zero=float((np.abs(w) < 1e-3).mean()), accuracy=accuracy)


def main(epochs=5, lr=0.05, weight_decay=1e-2, l1=1e-3, verbose=True):
    """{"none"|"L2"|"L1": {"l2_norm", "l1_norm", "near_zero" (fraction of |w| < 1e-3), "accuracy"}}."""
    pf.manual_seed(0)
    x, y = datasets.digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, seed=0)
    init = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).state_dict()
    settings = {"none": {}, "L2": dict(weight_decay=weight_decay), "L1": dict(l1=l1)}
    results = {}
    for name, kwargs in settings.items():
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        model.load_state_dict(copy.deepcopy(init))
        pf.manual_seed(1)  # the same batches for each setting
        loader = DataLoader(TensorDataset(pf.tensor(x_train), pf.tensor(y_train)), batch_size=32, shuffle=True)
        results[name] = stats(train(model, loader, epochs, lr, **kwargs), x_test, y_test)
    if verbose:
        print(f"{'penalty':<8} {'||w||_2':>8} {'||w||_1':>8} {'|w|<1e-3':>9} {'test acc':>9}")
        for name, r in results.items():
            print(f"{name:<8} {r['l2_norm']:>8.2f} {r['l1_norm']:>8.1f} {r['near_zero']:>9.1%} {r['accuracy']:>9.3f}")
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    main(ap.parse_args().epochs)

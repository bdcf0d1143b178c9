"""An MLP with dropout and early stopping on the 8x8 handwritten digits (shipped with
pyfastnn, no download).

    python examples/digits_mlp.py
"""

import argparse

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.data import datasets, train_test_split
from pyfastnn.train import EarlyStopping


def main(epochs=60, verbose=0):
    pf.manual_seed(0)
    x, y = datasets.digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, seed=0)
    model = nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(64, 10),
    )
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    model.summary(input_shape=(64,))
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.15, verbose=verbose,
                        callbacks=[EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)])
    result = model.evaluate(x_test, y_test)
    print(f"trained {len(history.epoch)} epochs; test accuracy {result['accuracy']:.3f}")
    return result["accuracy"]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=60)
    main(ap.parse_args().epochs, verbose=2)

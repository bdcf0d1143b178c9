"""The example scripts run (quick settings) and reach what they promise, so the docs never rot."""

import importlib.util
import os

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_perceptron_and(capsys):
    assert load("perceptron_and").main(epochs=500) == 1.0
    assert "AND(1, 1)" in capsys.readouterr().out


def test_xor_mlp():
    assert load("xor_mlp").main(steps=500) == [0, 1, 1, 0]


def test_moons():
    assert load("moons").main(epochs=60) >= 0.95


def test_digits_mlp():
    assert load("digits_mlp").main(epochs=60) >= 0.95


@pytest.mark.parametrize("name", ["perceptron_and", "xor_mlp", "moons", "digits_mlp"])
def test_example_has_a_docstring_with_its_command(name):
    doc = load(name).__doc__
    assert doc and f"python examples/{name}.py" in doc


# ---------------------------------------------------------------- CNN examples (issue 5)


def _fashion_mnist_installed():
    import pyfastnn as pf

    try:
        pf.data.datasets.FashionMNIST(train=False, download=False)
    except FileNotFoundError:
        return False
    return True


needs_fashion_mnist = pytest.mark.skipif(
    not _fashion_mnist_installed(),
    reason="Fashion-MNIST is not installed (apt install dataset-fashion-mnist, or put its IDX files in "
           "~/.cache/pyfastnn/fashion-mnist)")


@needs_fashion_mnist
def test_lenet5():
    # quick settings: 3,000 training images, 2 epochs (the full run reaches ~89%)
    assert load("lenet5").main(train_size=3000, test_size=1000, epochs=2) >= 0.65


@needs_fashion_mnist
def test_fashion_mnist_cnn():
    # quick settings: 2,000 training images, 2 epochs (the full run reaches ~91-92%)
    assert load("fashion_mnist_cnn").main(train_size=2000, test_size=1000, epochs=2) >= 0.7


def test_resnet_block(capsys):
    # skip connections keep every layer's gradient within two orders of magnitude of the
    # strongest, while the plain net's first layers get a millionth of it (runs on random
    # images when Fashion-MNIST is not installed)
    ratio = load("resnet_block").main(blocks=6, channels=8, verbose=True)
    assert ratio > 100
    out = capsys.readouterr().out
    assert "stem" in out and "6.conv2" in out


@pytest.mark.parametrize("name", ["lenet5", "fashion_mnist_cnn", "resnet_block"])
def test_cnn_example_has_a_docstring_with_its_command(name):
    doc = load(name).__doc__
    assert doc and f"python examples/{name}.py" in doc


# ---------------------------------------------------------------- training-craft examples (issue 7)


def test_hyperparameter_search():
    out = load("hyperparameter_search").main(trials=4, epochs=3)
    assert out["searcher"] == "builtin"
    assert set(out["best_params"]) == {"lr", "dropout", "width"}
    assert 1e-4 <= out["best_params"]["lr"] <= 1e-1
    assert out["val_accuracy"] > 0.85 and out["test_accuracy"] > 0.85  # chance is 0.1


def test_hyperparameter_search_with_optuna():
    pytest.importorskip("optuna")
    out = load("hyperparameter_search").main(trials=3, epochs=2, use_optuna=True)
    assert out["searcher"] == "optuna" and out["test_accuracy"] > 0.5


def test_optimizer_comparison(capsys):
    losses = load("optimizer_comparison").main(epochs=3, lr=0.01)
    assert set(losses) == {"SGD", "SGD+momentum", "RMSprop", "Adam"}
    # at the same small lr, momentum beats plain SGD and the adaptive methods beat both
    assert losses["SGD+momentum"] < losses["SGD"]
    assert losses["Adam"] < losses["SGD+momentum"] and losses["RMSprop"] < losses["SGD+momentum"]
    assert losses["Adam"] < 0.5 < losses["SGD"]
    assert "SGD+momentum" in capsys.readouterr().out


def test_learning_rate():
    import math

    losses = load("learning_rate").main(epochs=3)
    assert losses["good"] < 1.5
    assert losses["too small"] > 2.0  # hardly moved from log(10) = 2.30
    assert not math.isfinite(losses["too large"]) or losses["too large"] > 2 * losses["good"]


def test_regularization():
    r = load("regularization").main(epochs=5, verbose=False)
    assert r["L2"]["l2_norm"] < 0.85 * r["none"]["l2_norm"]
    assert r["L1"]["l1_norm"] < 0.7 * r["none"]["l1_norm"]
    assert r["L1"]["near_zero"] > r["none"]["near_zero"] + 0.2  # L1 makes weights sparse
    assert min(v["accuracy"] for v in r.values()) > 0.85  # and all still learn the digits


def test_batch_norm():
    r = load("batch_norm").main(epochs=3)
    assert r["batch_norm"]["accuracy"] > 0.8
    assert r["batch_norm"]["loss"] < 0.5 * r["plain"]["loss"]
    assert r["batch_norm"]["accuracy"] > r["plain"]["accuracy"] + 0.3


@pytest.mark.parametrize("name", ["hyperparameter_search", "optimizer_comparison", "learning_rate",
                                  "regularization", "batch_norm"])
def test_training_example_has_a_docstring_with_its_command(name):
    doc = load(name).__doc__
    assert doc and f"python examples/{name}.py" in doc

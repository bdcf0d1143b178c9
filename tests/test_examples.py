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

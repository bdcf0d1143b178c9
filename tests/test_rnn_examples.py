"""The recurrent-network examples run with quick settings and reach what they promise."""

import importlib.util
import os

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")
NAMES = ["sine_forecast", "stacked_rnn", "char_lstm", "vanishing_gradients"]


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_sine_forecast_beats_repeating_the_last_value():
    assert load("sine_forecast").main(epochs=12) < 0.025  # the naive forecast scores 0.030


def test_stacked_rnn_classifies():
    assert load("stacked_rnn").main(epochs=8) >= 0.9


def test_char_lstm_learns_and_samples(capsys):
    loss = load("char_lstm").main(steps=100, verbose=False)
    assert loss < 2.6  # a uniform guess over the 64 characters costs 4.16 nats
    out = capsys.readouterr().out
    sample = out.split("---\n")[1]
    assert sample.startswith("Shall I ") and len(sample) > 250


def test_vanishing_gradients_lstm_keeps_the_first_input(capsys):
    ratio = load("vanishing_gradients").main(steps=60)
    assert ratio > 1e4  # the tanh RNN's gradient at step 0 has vanished; the LSTM's has not
    out = capsys.readouterr().out
    lstm_acc = float(out.split("lstm: accuracy ")[1].split(";")[0])
    rnn_acc = float(out.split("rnn: accuracy ")[1].split(";")[0])
    assert lstm_acc > 0.9 and rnn_acc < 0.65


@pytest.mark.parametrize("name", NAMES)
def test_example_has_a_docstring_with_its_command(name):
    doc = load(name).__doc__
    assert doc and f"python examples/{name}.py" in doc

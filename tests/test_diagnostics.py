"""GradientMonitor: detects vanishing gradients in a deep sigmoid network, exploding ones with
huge weights and learning rate, none in a healthy ReLU/He network; its per-layer numbers
match hand computations."""

import math
import warnings

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.train import GradientMonitor, GradientWarning, gradient_norms


@pytest.fixture(scope="module")
def digits():
    x, y = pf.data.datasets.digits()
    return x[:512], y[:512]


def fit(model, x, y, monitor, optimizer="sgd", epochs=2, **kw):
    model.compile(optimizer=optimizer, loss="cross_entropy", **kw)
    model.fit(x, y, epochs=epochs, batch_size=64, callbacks=[monitor], verbose=0)


def test_deep_sigmoid_network_vanishes(digits):
    pf.manual_seed(0)
    layers = [nn.Linear(64, 32), nn.Sigmoid()]
    for _ in range(9):
        layers += [nn.Linear(32, 32), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(32, 10))
    monitor = GradientMonitor()
    with pytest.warns(GradientWarning, match="vanishing gradients: the first layer, 0 \\(Linear\\), gets") as rec:
        fit(model, *digits, monitor)
    assert len([w for w in rec if issubclass(w.category, GradientWarning)]) == 1  # once per run, not per epoch
    assert monitor.vanishing and not monitor.exploding
    norms = monitor.history["grad_norm"]
    assert monitor.layers == [str(i) for i in range(0, 21, 2)] and len(norms["0"]) == 2
    assert norms["0"][-1] / norms["20"][-1] < 1e-3
    # each sigmoid layer shrinks the gradient (sigmoid' <= 1/4): norms grow toward the output
    assert all(norms[a][0] < norms[b][0] for a, b in zip(monitor.layers, monitor.layers[1:]))
    assert len(monitor.alerts) == 2  # both epochs recorded, one warning shown


def test_huge_weights_and_learning_rate_explode(digits):
    pf.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    with pf.no_grad():
        for p in model.parameters():
            p.data[...] *= 1000
    monitor = GradientMonitor(explode_norm=1e3)
    with pytest.warns(GradientWarning, match="exploding gradients|not finite"):
        fit(model, *digits, monitor, optimizer=pf.optim.SGD(model.parameters(), lr=10.0), epochs=1)
    assert monitor.exploding


def test_non_finite_gradients_are_named():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    monitor = GradientMonitor()
    monitor.set_model(model)
    monitor.on_train_begin()
    monitor.on_epoch_begin(0)
    monitor.on_train_batch_begin(1)
    model(pf.tensor([[1.0, float("nan")]])).sum().backward()
    monitor.on_train_batch_end(1)
    with pytest.warns(GradientWarning, match=r"not finite \(NaN or inf\) in layer\(s\) 0 \(Linear\), 1 \(Linear\)"):
        monitor.on_epoch_end(0)


def test_healthy_relu_he_network_is_quiet(digits):
    pf.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 10))
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    monitor = GradientMonitor()
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientWarning)
        fit(model, *digits, monitor, optimizer="adam", epochs=3)
    assert not monitor.alerts and len(monitor.epochs) == 3
    ratio = monitor.history["grad_norm"]["0"][-1] / monitor.history["grad_norm"]["6"][-1]
    assert 0.05 < ratio < 20
    assert "gradient" not in "".join(m for _, _, m in monitor.alerts)
    report = monitor.report()
    assert "0 (Linear)" in report and "dead ReLU" in report


def test_numbers_match_a_hand_built_case():
    """Two inputs, four ReLU units: units 0 and 1 get bias -100 (dead for these inputs), 2
    and 3 are alive. Loss = sum of the ReLU outputs, so dL/dW[j] = sum over samples of x
    where unit j is active."""
    lin = nn.Linear(2, 4)
    w = np.array([[1.0, 1.0], [0.5, -1.0], [1.0, 2.0], [-0.5, 1.0]], np.float32)
    b = np.array([-100.0, -100.0, 0.5, 3.0], np.float32)
    with pf.no_grad():
        lin.weight.data[...] = w
        lin.bias.data[...] = b
    model = nn.Sequential(lin, nn.ReLU())
    x = np.array([[1.0, 2.0], [0.5, -0.25], [3.0, 1.0]], np.float32)

    monitor = GradientMonitor(activation_every=1)
    monitor.set_model(model)
    monitor.on_train_begin()
    monitor.on_epoch_begin(0)
    monitor.on_train_batch_begin(0)
    assert model[0]._forward_hooks and model[1]._forward_hooks
    model(pf.tensor(x)).sum().backward()
    monitor.on_train_batch_end(0)
    assert not model[0]._forward_hooks and not model[1]._forward_hooks  # fused path restored
    monitor.on_epoch_end(0)

    pre = x @ w.T + b
    post = np.maximum(pre, 0)
    active = (pre > 0).astype(np.float64)
    grad_w, grad_b = active.T @ x, active.sum(0)
    expected_norm = math.sqrt((grad_w ** 2).sum() + (grad_b ** 2).sum())
    h = monitor.history
    assert h["grad_norm"]["0"] == [pytest.approx(expected_norm, rel=1e-5)]
    assert gradient_norms(model)["0"] == pytest.approx(expected_norm, rel=1e-5)
    assert h["dead_relu"]["1"] == [0.5]
    assert "0" not in h["dead_relu"]  # a plain Linear has no ReLU
    assert h["act_mean"]["0"] == [pytest.approx(pre.mean(), rel=1e-5)]
    assert h["act_mean"]["1"] == [pytest.approx(post.mean(), rel=1e-5)]
    assert h["act_std"]["1"] == [pytest.approx(post.std(), rel=1e-4)]


def test_dead_fraction_counts_units_dead_for_the_whole_epoch():
    model = nn.Sequential(nn.Linear(1, 2), nn.ReLU())
    with pf.no_grad():
        model[0].weight.data[...] = [[1.0], [-1.0]]
        model[0].bias.data[...] = 0
    monitor = GradientMonitor(activation_every=1)
    monitor.set_model(model)
    monitor.on_train_begin()
    monitor.on_epoch_begin(0)
    for i, v in enumerate([1.0, 2.0]):  # unit 1 dead in both batches
        monitor.on_train_batch_begin(i)
        model(pf.tensor([[v]])).sum().backward()
        monitor.on_train_batch_end(i)
    monitor.on_epoch_end(0)
    monitor.on_epoch_begin(1)
    for i, v in enumerate([1.0, -1.0]):  # each unit fires in one of the batches
        monitor.on_train_batch_begin(i)
        model(pf.tensor([[v]])).sum().backward()
        monitor.on_train_batch_end(i)
    monitor.on_epoch_end(1)
    assert monitor.history["dead_relu"]["1"] == [0.5, 0.0]


def test_bad_thresholds():
    with pytest.raises(ValueError, match="vanish_ratio"):
        GradientMonitor(vanish_ratio=0)
    with pytest.raises(ValueError, match="explode_norm"):
        GradientMonitor(explode_norm=-1)


def test_normalization_layers_stay_out_of_the_flow_check():
    if not hasattr(nn, "BatchNorm1d"):
        pytest.skip("nn.BatchNorm1d is not available")
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    monitor = GradientMonitor()
    monitor.set_model(model)
    assert monitor.layers == ["0", "1", "3"] and monitor.weight_layers == ["0", "3"]
    monitor.on_train_begin()
    monitor.on_epoch_begin(0)
    monitor.on_train_batch_begin(1)
    model(pf.randn(16, 4)).sum().backward()
    monitor.on_train_batch_end(1)
    monitor.on_epoch_end(0)
    assert set(monitor.history["grad_norm"]) == {"0", "1", "3"}  # recorded, only not charted/checked

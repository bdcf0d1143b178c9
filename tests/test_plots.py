"""Plots render to PNG (Agg backend) and show the right numbers; without matplotlib the
message says how to get it."""

import builtins
import os

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.train import plots

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def png(path):
    assert os.path.getsize(path) > 1000
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_confusion_matrix(tmp_path):
    y_true = np.array([0, 0, 1, 2, 2, 2, 1])
    logits = np.eye(3)[[0, 1, 1, 2, 0, 2, 1]] * 5.0  # scores: argmax is the prediction
    expected = np.zeros((3, 3), int)
    for t, p in zip(y_true, [0, 1, 1, 2, 0, 2, 1]):
        expected[t, p] += 1
    fig = plots.plot_confusion_matrix(y_true, logits, classes=["a", "b", "c"], path=tmp_path / "cm.png")
    png(tmp_path / "cm.png")
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    cells = [t.get_text() for t in ax.texts]
    assert cells[:3] == ["1", "1", "0"] and [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    fig = plots.plot_confusion_matrix(cm=expected, normalize=True)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array().sum(1), 1.0)
    with pytest.raises(ValueError, match="square"):
        plots.plot_confusion_matrix(cm=np.ones((2, 3)))


def test_decision_grid_and_boundary(tmp_path):
    x = np.array([[-1.0, -1.0], [1.0, 2.0], [0.5, 0.0]], np.float32)
    logit = lambda t: t[:, :1] - t[:, 1:]  # noqa: E731  P(class 1) = sigmoid(x1 - x2)
    xx, yy, zz = plots.decision_grid(logit, x, resolution=11, margin=0.0)
    assert xx.shape == zz.shape == (11, 11)
    assert xx.min() == -1 and xx.max() == 1 and yy.min() == -1 and yy.max() == 2
    np.testing.assert_allclose(zz, 1 / (1 + np.exp(-(xx - yy))), rtol=1e-5)
    three = lambda t: np.stack([t[:, 0], t[:, 1], -t[:, 0] - 10], 1)  # noqa: E731
    gx, gy, classes = plots.decision_grid(three, x, resolution=5, margin=0.0)
    np.testing.assert_array_equal(classes, (gy > gx).astype(int))  # class 2 never wins here
    fig = plots.plot_decision_boundary(logit, x, np.array([0, 1, 1]), path=tmp_path / "db.png")
    png(tmp_path / "db.png")
    assert fig.axes[0].collections  # the filled regions and the points
    with pytest.raises(ValueError, match=r"2-D inputs \(N, 2\)"):
        plots.decision_grid(logit, np.zeros((3, 3)))


def test_decision_boundary_of_a_trained_model(tmp_path):
    pf.manual_seed(0)
    x, y = pf.data.datasets.moons(200, noise=0.1, seed=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    model.compile(optimizer=pf.optim.Adam(model.parameters(), lr=0.05), loss="bce_with_logits")
    model.fit(x, y.astype(np.float32), epochs=40, batch_size=32, verbose=0)
    xx, yy, zz = plots.decision_grid(model, x, resolution=60)
    assert zz.min() >= 0 and zz.max() <= 1
    # the grid probabilities agree with the model's own predictions at the samples
    pred = 1 / (1 + np.exp(-model.predict(x)[:, 0]))
    assert np.mean((pred > 0.5) == y) > 0.9
    plots.plot_decision_boundary(model, x, y, path=tmp_path / "moons.png")
    png(tmp_path / "moons.png")


def test_gradient_flow(tmp_path):
    pf.manual_seed(0)
    x, y = pf.data.datasets.digits()
    model = nn.Sequential(nn.Linear(64, 32), nn.Sigmoid(), nn.Linear(32, 32), nn.Sigmoid(), nn.Linear(32, 10))
    monitor = pf.train.GradientMonitor()
    model.compile(optimizer="sgd", loss="cross_entropy")
    model.fit(x[:256], y[:256], epochs=3, batch_size=64, callbacks=[monitor], verbose=0)
    fig = monitor.plot(path=tmp_path / "gf.png")
    png(tmp_path / "gf.png")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.lines) == 3  # first, middle and last epoch
    for line, e in zip(ax.lines, [0, 1, 2]):
        np.testing.assert_allclose(line.get_ydata(), [monitor.history["grad_norm"][n][e] for n in ["0", "2", "4"]])
    fig = plots.plot_gradient_flow({"a": [1.0, 2.0], "b": [3.0, 4.0]}, epochs=[1])
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), [2.0, 4.0])
    with pytest.raises(ValueError, match="nothing recorded"):
        plots.plot_gradient_flow({})


@pytest.fixture
def conv():
    if not hasattr(nn, "Conv2d"):
        pytest.skip("nn.Conv2d is not available")
    pf.manual_seed(0)
    return nn.Conv2d(2, 4, 3, padding=1)


def test_filters(tmp_path, conv):
    fig = plots.plot_filters(conv, path=tmp_path / "filters.png")
    png(tmp_path / "filters.png")
    shown = [a.images[0].get_array() for a in fig.axes if a.images]
    assert len(shown) == 4
    w = conv.weight.numpy()
    for i, img in enumerate(shown):
        np.testing.assert_allclose(img, w[i].mean(0), rtol=1e-6)
    fig = plots.plot_filters(conv.weight.numpy(), channel=1)
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(), w[2, 1])
    with pytest.raises(ValueError, match=r"\(out, in, kh, kw\)"):
        plots.plot_filters(np.zeros((3, 3)))


def test_feature_maps(tmp_path, conv):
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), nn.Linear(4 * 5 * 5, 3))
    x = np.random.default_rng(0).standard_normal((2, 5, 5)).astype(np.float32)
    fig = plots.plot_feature_maps(model, x, "1", path=tmp_path / "maps.png")
    png(tmp_path / "maps.png")
    with pf.no_grad():
        expected = np.maximum(conv(pf.tensor(x[None])).numpy()[0], 0)
    shown = [a.images[0].get_array() for a in fig.axes if a.images]
    assert len(shown) == 4
    for img, e in zip(shown, expected):
        np.testing.assert_allclose(img, e, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="one image"):
        plots.plot_feature_maps(model, np.zeros((2, 2, 5, 5), np.float32), "0")


def test_history_plot_still_works(tmp_path):
    history = pf.train.History()
    history.history = {"loss": [1.0, 0.5], "val_loss": [1.2, 0.7]}
    fig = history.plot(path=tmp_path / "h.png")
    png(tmp_path / "h.png")
    np.testing.assert_array_equal(fig.axes[0].lines[1].get_ydata(), [1.2, 0.7])


def test_without_matplotlib_the_message_says_how_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match="plot_confusion_matrix draws with matplotlib.*pip install matplotlib"):
        plots.plot_confusion_matrix(cm=np.eye(2))
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plots.plot_gradient_flow({"a": [1.0]})

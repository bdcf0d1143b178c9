"""pf.train.grid_search / random_search: trial counts, ranking, seeding and bad input."""

import math

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.data import datasets
from pyfastnn.train import EarlyStopping, grid_search, random_search


@pytest.fixture(scope="module")
def digits():
    x, y = datasets.digits()
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(x))[:600]  # shuffled: validation_split takes the last samples
    return x[idx], y[idx]


def build(lr=1e-2, width=16, dropout=0.0):
    model = nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Dropout(dropout), nn.Linear(width, 10))
    return model.compile(optimizer=pf.optim.Adam(model.parameters(), lr=lr), loss="cross_entropy",
                         metrics=["accuracy"])


def test_grid_search_skips_an_absurd_learning_rate(digits):
    x, y = digits
    res = grid_search(build, {"lr": [1e-9, 1e-2], "width": [8, 16]}, x, y, epochs=3, monitor="val_accuracy")
    assert len(res.results) == 4
    assert res.best_params["lr"] == 1e-2
    assert res.best_score > 0.6  # chance is 0.1; lr=1e-9 stays near it
    # best first, and best_score is the first trial's
    scores = [r["score"] for r in res.results]
    assert scores == sorted(scores, reverse=True)
    assert res.best_score == scores[0]
    assert all(r["params"]["lr"] == 1e-9 for r in res.results[2:])
    assert sorted(r["trial"] for r in res.results) == [0, 1, 2, 3]
    assert all(r["epochs"] == 3 and 0 <= r["best_epoch"] < 3 for r in res.results)
    # the best model is the trained one: it scores what the search recorded (or close; the
    # search scores the best epoch, the model is the last epoch's)
    assert res.best_model.evaluate(x[480:], y[480:])["accuracy"] > 0.6


def test_grid_search_loss_monitor_picks_lowest(digits):
    x, y = digits
    res = grid_search(build, [{"lr": [1e-9]}, {"lr": [3e-2]}], x[:300], y[:300], epochs=2,
                      validation_data=(x[300:], y[300:]))
    assert res.monitor == "val_loss" and res.mode == "min"
    assert len(res.results) == 2
    assert res.best_params == {"lr": 3e-2}
    assert res.results[0]["score"] < res.results[1]["score"]
    assert res.results[1]["score"] > 2.0  # untrained: about log(10) = 2.30


def test_diverged_trial_ranks_last(digits):
    x, y = digits
    res = grid_search(build, {"lr": [1e9, 1e-2]}, x, y, epochs=2, monitor="val_loss")
    assert res.best_params == {"lr": 1e-2}
    assert math.isfinite(res.best_score)


def test_random_search_is_reproducible_and_respects_distributions(digits):
    x, y = digits
    dists = {"lr": ("log", 1e-4, 1e-1), "width": ("int", 4, 12), "dropout": ("uniform", 0.0, 0.5)}
    a = random_search(build, dists, x, y, n_iter=3, epochs=1, seed=7)
    b = random_search(build, dists, x, y, n_iter=3, epochs=1, seed=7)
    c = random_search(build, dists, x, y, n_iter=3, epochs=1, seed=8)
    assert len(a.results) == 3
    assert a.results == b.results
    assert [r["params"] for r in a.results] != [r["params"] for r in c.results]
    for r in a.results:
        p = r["params"]
        assert 1e-4 <= p["lr"] <= 1e-1 and isinstance(p["width"], int) and 4 <= p["width"] <= 12
        assert 0.0 <= p["dropout"] <= 0.5


def test_random_search_choices_and_callables(digits):
    x, y = digits
    seen = random_search(build, {"width": [8, 16], "lr": lambda rng: float(rng.choice([1e-2, 2e-2]))}, x, y,
                         n_iter=6, epochs=1, seed=0)
    widths = {r["params"]["width"] for r in seen.results}
    lrs = {r["params"]["lr"] for r in seen.results}
    assert widths <= {8, 16} and lrs <= {1e-2, 2e-2}
    assert len(widths) == 2  # 6 draws of a fair coin with this seed hit both


def test_log_distribution_covers_decades():
    # the log-uniform draw is spread over the decades, not bunched at the top as uniform is
    from pyfastnn.train.search import _sampler

    draw = _sampler("lr", ("log", 1e-5, 1e-1))
    rng = np.random.default_rng(0)
    values = np.array([draw(rng) for _ in range(2000)])
    assert values.min() >= 1e-5 and values.max() <= 1e-1
    assert 0.45 < np.mean(values < 1e-3) < 0.55  # 2 of the 4 decades (uniform: about 1%)


def test_user_callbacks_run_in_every_trial(digits):
    x, y = digits
    res = grid_search(build, {"lr": [1e-9, 1e-2]}, x, y, epochs=20, monitor="val_loss",
                      fit_kwargs=dict(callbacks=[EarlyStopping(monitor="val_loss", patience=0)]))
    assert all(r["epochs"] < 20 for r in res.results)  # lr=1e-9 stops almost at once


def test_bad_input(digits):
    x, y = digits
    with pytest.raises(ValueError, match="empty"):
        grid_search(build, {}, x, y)
    with pytest.raises(ValueError, match="empty"):
        grid_search(build, [], x, y)
    with pytest.raises(ValueError, match="'lr'.*empty"):
        grid_search(build, {"lr": []}, x, y)
    with pytest.raises(TypeError, match="list of values"):
        grid_search(build, {"lr": 0.01}, x, y)
    with pytest.raises(ValueError, match="val_acc.*available"):
        grid_search(build, {"lr": [1e-2]}, x, y, epochs=1, monitor="val_acc")
    with pytest.raises(ValueError, match="val_accuracy.*available"):  # no validation -> no val_* keys
        grid_search(build, {"lr": [1e-2]}, x, y, epochs=1, monitor="val_accuracy", validation_split=0.0)
    with pytest.raises(ValueError, match="empty"):
        random_search(build, {}, x, y)
    with pytest.raises(ValueError, match="n_iter"):
        random_search(build, {"lr": [1e-2]}, x, y, n_iter=0)
    with pytest.raises(ValueError, match="kind"):
        random_search(build, {"lr": ("exp", 1e-4, 1e-1)}, x, y)
    with pytest.raises(ValueError, match="low > 0"):
        random_search(build, {"lr": ("log", 0.0, 1e-1)}, x, y)
    with pytest.raises(ValueError, match="low < high"):
        random_search(build, {"lr": ("uniform", 1.0, 0.5)}, x, y)
    with pytest.raises(ValueError, match="mode"):
        grid_search(build, {"lr": [1e-2]}, x, y, mode="best")
    with pytest.raises(TypeError, match="compiled"):
        grid_search(lambda lr: nn.Linear(64, 10), {"lr": [1e-2]}, x, y)

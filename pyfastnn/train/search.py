"""Minimal hyperparameter search over `fit` for users without Optuna.

    def build(lr, width):
        model = nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10))
        return model.compile(optimizer=pf.optim.Adam(model.parameters(), lr=lr),
                             loss="cross_entropy", metrics=["accuracy"])

    result = pf.train.grid_search(build, {"lr": [1e-3, 1e-2], "width": [32, 64]}, x, y,
                                  epochs=10, monitor="val_accuracy")
    result.best_params      # {"lr": 0.01, "width": 64}
    result.best_score       # best val_accuracy of the best trial
    result.results          # every trial, best first

    result = pf.train.random_search(build, {"lr": ("log", 1e-4, 1e-1), "width": [32, 64, 128]},
                                    x, y, n_iter=8, seed=0)

build_fn(**params) must return a compiled model (model.compile returns the model, so
`return model.compile(...)` works). Every trial starts from pf.manual_seed(seed), so trials
differ only by their parameters, not by their initialization or shuffling.
"""

import itertools
import math

import numpy as np

from .callbacks import Callback, _monitor_op

__all__ = ["grid_search", "random_search", "SearchResult"]


class SearchResult:
    """What a search found. results: one dict per trial (params, score, best_epoch,
    epochs, trial), best first (trials whose score is not finite last); best_model: the
    trained model of the best trial."""

    def __init__(self, results, monitor, mode, best_model):
        self.results, self.monitor, self.mode, self.best_model = results, monitor, mode, best_model
        self.best_params = dict(results[0]["params"])
        self.best_score = results[0]["score"]

    def __repr__(self):
        return (f"SearchResult(best_params={self.best_params}, best_score={self.best_score:.6g}, "
                f"monitor={self.monitor!r}, trials={len(self.results)})")


class _Recorder(Callback):
    """Checks after the first epoch that the monitored key exists (so a typo fails fast)."""

    def __init__(self, monitor, op):
        super().__init__()
        self.monitor, self.op = monitor, op

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor not in (logs or {}):
            raise ValueError(f"{self.op}: monitor {self.monitor!r} is not in the training logs; available: "
                             f"{sorted(logs or {})} (val_* keys need validation_data or validation_split)")


def _grid(param_grid):
    """The grid's parameter dicts (a dict of lists, or a list of such dicts), in order."""
    grids = param_grid if isinstance(param_grid, (list, tuple)) else [param_grid]
    if not grids:
        raise ValueError("grid_search: param_grid is empty")
    combos = []
    for g in grids:
        if not isinstance(g, dict):
            raise TypeError(f"grid_search: param_grid must be a dict of lists (or a list of them), got "
                            f"{type(g).__name__}")
        if not g:
            raise ValueError("grid_search: param_grid is empty; give at least one parameter with values")
        names = list(g)
        values = []
        for name in names:
            v = g[name]
            if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
                raise TypeError(f"grid_search: param_grid[{name!r}] must be a list of values, got {v!r}")
            v = list(v)
            if not v:
                raise ValueError(f"grid_search: param_grid[{name!r}] is an empty list")
            values.append(v)
        combos += [dict(zip(names, c)) for c in itertools.product(*values)]
    return combos


_KINDS = ("log", "uniform", "int")


def _sampler(name, spec):
    """A function rng -> value for one entry of param_distributions."""
    if callable(spec):
        return spec
    if isinstance(spec, tuple):
        if len(spec) != 3 or spec[0] not in _KINDS:
            raise ValueError(f"random_search: param_distributions[{name!r}] = {spec!r}; a tuple must be "
                             f"(kind, low, high) with kind one of {_KINDS} (use a list for a choice)")
        kind, low, high = spec
        if not low < high:
            raise ValueError(f"random_search: param_distributions[{name!r}] needs low < high, got {spec!r}")
        if kind == "log":
            if low <= 0:
                raise ValueError(f"random_search: param_distributions[{name!r}] is log-uniform and needs low > 0, "
                                 f"got {spec!r}")
            return lambda rng: float(math.exp(rng.uniform(math.log(low), math.log(high))))
        if kind == "uniform":
            return lambda rng: float(rng.uniform(low, high))
        return lambda rng: int(rng.integers(int(low), int(high) + 1))  # both ends included
    if isinstance(spec, (str, bytes)) or not hasattr(spec, "__iter__"):
        raise TypeError(f"random_search: param_distributions[{name!r}] must be a list (choice), a callable "
                        f"rng -> value or a (kind, low, high) tuple, got {spec!r}")
    choices = list(spec)
    if not choices:
        raise ValueError(f"random_search: param_distributions[{name!r}] is an empty list")
    return lambda rng: choices[int(rng.integers(len(choices)))]


def _run(op, build_fn, candidates, x, y, validation_data, validation_split, epochs, batch_size, monitor, mode,
         verbose, seed, fit_kwargs):
    from ..random import manual_seed

    if not callable(build_fn):
        raise TypeError(f"{op}: build_fn must be callable (params -> compiled model), got {type(build_fn).__name__}")
    mode = _monitor_op(mode, monitor)
    if validation_data is not None:
        validation_split = 0.0
    fit_kwargs = dict(fit_kwargs or {})
    callbacks = list(fit_kwargs.pop("callbacks", None) or [])  # reused: callbacks reset on_train_begin
    results, models = [], []
    for trial, params in enumerate(candidates):
        manual_seed(seed)  # same init and shuffles for every trial
        model = build_fn(**params)
        if getattr(model, "loss", None) is None or getattr(model, "optimizer", None) is None:
            raise TypeError(f"{op}: build_fn must return a compiled model (call model.compile(...) in it)")
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                            validation_split=validation_split, verbose=max(verbose - 1, 0),
                            callbacks=callbacks + [_Recorder(monitor, op)], **fit_kwargs)
        values = np.asarray(history.history[monitor], np.float64)
        finite = np.isfinite(values)
        if finite.any():
            best_epoch = int(np.nanargmin(np.where(finite, values, np.nan)) if mode == "min"
                             else np.nanargmax(np.where(finite, values, np.nan)))
            score = float(values[best_epoch])
        else:  # diverged from the start
            best_epoch, score = len(values) - 1, float("nan")
        results.append(dict(params=params, score=score, best_epoch=best_epoch, epochs=len(values), trial=trial))
        models.append(model)
        if verbose:
            print(f"{op} trial {trial + 1}/{len(candidates)}: {params} {monitor}={score:.4g} "
                  f"(epoch {best_epoch + 1} of {len(values)})")

    def rank(r):  # best first, non-finite scores last, ties by trial order
        s = r["score"]
        return (not math.isfinite(s), (s if mode == "min" else -s) if math.isfinite(s) else 0.0, r["trial"])

    results.sort(key=rank)
    return SearchResult(results, monitor, mode, models[results[0]["trial"]])


def grid_search(build_fn, param_grid, x, y=None, validation_data=None, validation_split=0.2, epochs=10,
                batch_size=32, monitor="val_loss", mode="auto", verbose=0, seed=0, fit_kwargs=None):
    """Train one model per combination of param_grid and rank them by `monitor`.

    build_fn(**params) -> a compiled model. param_grid: {name: [values, ...]} (or a list of
    such dicts, each expanded on its own). Each trial fits for `epochs` on (x, y), validating
    on validation_data or else on the last validation_split of x (Keras' rule), and scores
    the best epoch's `monitor` value (min for losses, max for accuracies when mode="auto").
    fit_kwargs go to every fit (e.g. callbacks=[EarlyStopping(patience=3)]).
    Returns a SearchResult (best_params, best_score, results best first, best_model)."""
    return _run("grid_search", build_fn, _grid(param_grid), x, y, validation_data, validation_split, epochs,
                batch_size, monitor, mode, verbose, seed, fit_kwargs)


def random_search(build_fn, param_distributions, x, y=None, n_iter=10, validation_data=None, validation_split=0.2,
                  epochs=10, batch_size=32, monitor="val_loss", mode="auto", verbose=0, seed=0, fit_kwargs=None):
    """Like grid_search on n_iter parameter sets drawn from param_distributions:

        [a, b, c]               a uniform choice
        ("log", low, high)      log-uniform float (learning rates, weight decay)
        ("uniform", low, high)  uniform float
        ("int", low, high)      uniform int, both ends included
        callable                rng -> value (rng: a numpy Generator)

    The draws come from numpy's default_rng(seed): the same seed gives the same trials."""
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise ValueError(f"random_search: n_iter must be a positive int, got {n_iter!r}")
    if not isinstance(param_distributions, dict):
        raise TypeError(f"random_search: param_distributions must be a dict, got {type(param_distributions).__name__}")
    if not param_distributions:
        raise ValueError("random_search: param_distributions is empty; give at least one parameter")
    samplers = {name: _sampler(name, spec) for name, spec in param_distributions.items()}
    rng = np.random.default_rng(seed)
    candidates = [{name: s(rng) for name, s in samplers.items()} for _ in range(n_iter)]
    return _run("random_search", build_fn, candidates, x, y, validation_data, validation_split, epochs, batch_size,
                monitor, mode, verbose, seed, fit_kwargs)

"""Tune the learning rate, dropout and width of the digits MLP. Uses Optuna when it is
installed (pip install optuna; a TPE sampler), else pyfastnn's own
pf.train.random_search; the quick mode always uses the built-in search.

    python examples/hyperparameter_search.py [--trials 20] [--epochs 15] [--builtin]
"""

import argparse

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.data import datasets, train_test_split


def build(lr, dropout, width):
    """The digits MLP for one set of hyperparameters, compiled (what the search trains)."""
    model = nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Dropout(dropout), nn.Linear(width, 10))
    return model.compile(optimizer=pf.optim.Adam(model.parameters(), lr=lr), loss="cross_entropy",
                         metrics=["accuracy"])


SPACE = {"lr": ("log", 1e-4, 1e-1), "dropout": ("uniform", 0.0, 0.5), "width": [16, 32, 64, 128]}


def search_builtin(x, y, trials, epochs):
    result = pf.train.random_search(build, SPACE, x, y, n_iter=trials, epochs=epochs, monitor="val_accuracy",
                                    validation_split=0.2, seed=0)
    for r in result.results:
        p = r["params"]
        print(f"  lr={p['lr']:.2e} dropout={p['dropout']:.2f} width={p['width']:<4} val_accuracy={r['score']:.3f}")
    return result.best_params, result.best_score


def search_optuna(x, y, trials, epochs):
    import optuna

    def objective(trial):
        params = dict(lr=trial.suggest_float("lr", 1e-4, 1e-1, log=True),
                      dropout=trial.suggest_float("dropout", 0.0, 0.5),
                      width=trial.suggest_categorical("width", SPACE["width"]))
        pf.manual_seed(0)
        history = build(**params).fit(x, y, epochs=epochs, batch_size=32, validation_split=0.2, verbose=0)
        return max(history.history["val_accuracy"])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=trials)
    return study.best_params, study.best_value


def main(trials=4, epochs=3, use_optuna=False):
    """{"best_params", "val_accuracy" (the search's best), "test_accuracy" (the best
    parameters retrained on all training data), "searcher"}."""
    x, y = datasets.digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, seed=0)
    searcher = "builtin"
    if use_optuna:
        try:
            import optuna  # noqa: F401
            searcher = "optuna"
        except ImportError:
            print("Optuna is not installed (pip install optuna); using pf.train.random_search")
    print(f"searching {trials} trials of {epochs} epochs with {searcher}")
    search = search_optuna if searcher == "optuna" else search_builtin
    best_params, best_val = search(x_train, y_train, trials, epochs)

    pf.manual_seed(0)
    model = build(**best_params)
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    test_accuracy = model.evaluate(x_test, y_test)["accuracy"]
    print(f"best {best_params}: val_accuracy {best_val:.3f}, test accuracy {test_accuracy:.3f}")
    return dict(best_params=best_params, val_accuracy=best_val, test_accuracy=test_accuracy, searcher=searcher)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--builtin", action="store_true", help="use pf.train.random_search even if Optuna is installed")
    args = ap.parse_args()
    main(args.trials, args.epochs, use_optuna=not args.builtin)

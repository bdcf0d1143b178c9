"""Callbacks on scripted metric sequences, driven directly with a stub model and through
fit: EarlyStopping, ReduceLROnPlateau, ModelCheckpoint, CSVLogger, LearningRateScheduler,
TerminateOnNaN, LambdaCallback, the hook order, and History (with History.plot)."""

import csv
import os

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import nn, serialization
from pyfastnn.train import (Callback, CSVLogger, EarlyStopping, History, LambdaCallback, LearningRateScheduler,
                            ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN)

VAL_LOSS = [0.95, 0.80, 0.70, 0.75, 0.79, 0.82]


class StubModel:
    """What callbacks use of a model: weights (one number, set per epoch), an optimizer, stop_training."""

    def __init__(self, lr=0.01):
        self.w = 0.0
        self.stop_training = False
        self.optimizer = pf.optim.SGD([pf.nn.Parameter(pf.zeros(1))], lr=lr)

    def state_dict(self):
        return {"w": pf.tensor([self.w])}

    def load_state_dict(self, sd):
        v = sd["w"]
        self.w = float(np.asarray(v.data if isinstance(v, pf.Tensor) else v)[0])


def _drive(cb, values, key="val_loss", model=None, weights=None):
    """Run the scripted epochs through the callback; returns (model, epochs run)."""
    model = model or StubModel()
    cb.set_model(model)
    cb.set_params({"epochs": len(values)})
    cb.on_train_begin({})
    ran = 0
    for epoch, v in enumerate(values):
        cb.on_epoch_begin(epoch, {})
        model.w = weights[epoch] if weights else float(epoch + 1)  # "training" changes the weights
        cb.on_epoch_end(epoch, {key: v})
        ran += 1
        if model.stop_training:
            break
    cb.on_train_end({})
    return model, ran


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5], np.float32) > 0).astype(np.float32)
    return x, y


def _model(lr=0.05):
    pf.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    model.compile(optimizer=pf.optim.SGD(model.parameters(), lr=lr), loss="bce_with_logits", metrics=["accuracy"])
    return model


class Script(Callback):
    """Overwrites logs[key] with a scripted value each epoch (put it before the callback under test)."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values, self.key = values, key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


class Snapshots(Callback):
    """Copies of the weights at the end of each epoch (before later callbacks act)."""

    def on_train_begin(self, logs=None):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append({k: v.numpy().copy() for k, v in self.model.state_dict().items()})


# ---------------------------------------------------------------- EarlyStopping


def test_early_stopping_course_case_with_stub():
    es = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    model, ran = _drive(es, VAL_LOSS)
    assert ran == 6 and model.stop_training
    assert es.stopped_epoch == 5  # the 6th epoch (0-based index 5)
    assert es.best == 0.70 and es.best_epoch == 2
    assert model.w == 3.0  # the weights at the end of epoch 3


def test_early_stopping_course_case_through_fit(capsys):
    x, y = _data()
    model = _model()
    snaps = Snapshots()
    es = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True, verbose=1)
    history = model.fit(x, y, epochs=20, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[Script(VAL_LOSS + [0.0] * 14), snaps, es])
    assert len(history.history["loss"]) == 6 and history.epoch == list(range(6))
    assert history.history["val_loss"] == VAL_LOSS
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), snaps.weights[2][k])  # epoch 3's weights
    assert not np.array_equal(snaps.weights[2]["0.weight"], snaps.weights[5]["0.weight"])
    out = capsys.readouterr().out
    assert "Epoch 6: early stopping" in out and "best epoch: 3" in out


def test_early_stopping_without_restore_keeps_last_weights():
    model, ran = _drive(EarlyStopping(patience=3), VAL_LOSS)
    assert ran == 6 and model.w == 6.0


def test_early_stopping_patience_zero_stops_at_first_non_improvement():
    model, ran = _drive(EarlyStopping(patience=0), [1.0, 0.9, 0.95, 0.5])
    assert ran == 3


def test_early_stopping_no_stop_when_improving():
    es = EarlyStopping(patience=2, restore_best_weights=True)
    model, ran = _drive(es, [5, 4, 3, 2, 1])
    assert ran == 5 and not model.stop_training and es.stopped_epoch == 0
    assert model.w == 5.0  # not stopped: nothing restored (Keras)


def test_early_stopping_min_delta():
    # improvements smaller than min_delta do not count
    model, ran = _drive(EarlyStopping(patience=2, min_delta=0.1), [1.0, 0.95, 0.92, 0.85, 0.5])
    assert ran == 3
    model, ran = _drive(EarlyStopping(patience=2, min_delta=-0.1), [1.0, 0.95, 0.92, 0.85, 0.5])  # sign ignored
    assert ran == 3
    model, ran = _drive(EarlyStopping(patience=2, min_delta=0.01), [1.0, 0.95, 0.92, 0.85, 0.5])
    assert ran == 5


def test_early_stopping_mode_max_and_auto():
    acc = [0.5, 0.6, 0.7, 0.65, 0.66, 0.69, 0.9]
    es = EarlyStopping(monitor="val_accuracy", patience=3, mode="max", restore_best_weights=True)
    model, ran = _drive(es, acc, key="val_accuracy")
    assert ran == 6 and model.w == 3.0
    auto = EarlyStopping(monitor="val_accuracy", patience=3)  # "acc" in the name: maximise
    assert auto.mode == "max"
    _, ran = _drive(auto, acc, key="val_accuracy")
    assert ran == 6
    as_min = EarlyStopping(monitor="val_accuracy", patience=3, mode="min")
    _, ran = _drive(as_min, acc, key="val_accuracy")
    assert ran == 4  # 0.5 is the best "minimum"; 3 epochs without a lower value
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="lowest")


def test_early_stopping_baseline():
    """Keras: wait is reset only by an improvement that also beats the baseline, so epochs
    spent above the baseline count; training goes on while the metric keeps improving."""
    _, ran = _drive(EarlyStopping(patience=2, baseline=0.5), [0.9, 0.95, 0.7, 0.6])
    assert ran == 2  # epoch 1 above the baseline, epoch 2 worse: wait 2
    _, ran = _drive(EarlyStopping(patience=2), [0.9, 0.95, 0.7, 0.6])
    assert ran == 4  # without a baseline every improvement resets wait
    _, ran = _drive(EarlyStopping(patience=2, baseline=0.5), [0.9, 0.8, 0.7, 0.6, 0.4, 0.3])
    assert ran == 6  # improving every epoch
    _, ran = _drive(EarlyStopping(patience=3, baseline=0.5), [0.9, 0.8, 0.45, 0.46, 0.47, 0.48, 0.49])
    assert ran == 6  # beat the baseline at epoch 3, then 3 epochs without improvement
    _, ran = _drive(EarlyStopping(patience=2, baseline=0.5, mode="max", monitor="acc"), [0.4, 0.35, 0.6], key="acc")
    assert ran == 2


def test_early_stopping_start_from_epoch():
    _, ran = _drive(EarlyStopping(patience=1, start_from_epoch=3), [1, 2, 3, 4, 5, 6])
    assert ran == 5  # epochs 0-2 ignored; 3 sets the best, 4 is worse -> stop


def test_early_stopping_missing_metric():
    with pytest.raises(KeyError, match="val_loss"):
        _drive(EarlyStopping(), [0.1], key="loss")
    x, y = _data()
    with pytest.raises(KeyError, match="available: accuracy, loss"):
        _model().fit(x, y, epochs=2, verbose=0, callbacks=[EarlyStopping()])


def test_early_stopping_reused_across_fits():
    es = EarlyStopping(patience=1)
    _drive(es, [1.0, 2.0, 3.0])
    model, ran = _drive(es, [3.0, 2.0, 1.0, 0.5])  # state is reset by on_train_begin
    assert ran == 4


# ---------------------------------------------------------------- ReduceLROnPlateau (Keras)


def test_reduce_lr_on_plateau_callback_course_case():
    """factor=0.5, patience=5, min_lr=1e-4 from 0.01 on a flat val_loss: halved after every 5
    epochs without improvement (Keras counts wait >= patience), clamped at 1e-4."""
    model = StubModel(lr=0.01)
    cb = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=5, min_lr=1e-4)
    lrs = []
    cb.set_model(model)
    cb.on_train_begin({})
    for epoch in range(60):
        logs = {"val_loss": 1.0}
        cb.on_epoch_end(epoch, logs)
        assert logs["learning_rate"] == (lrs[-1] if lrs else 0.01)  # the rate used in this epoch
        lrs.append(model.optimizer.param_groups[0]["lr"])
    distinct = [0.01] + [b for a, b in zip([0.01] + lrs, lrs) if b != a]
    np.testing.assert_allclose(distinct, [0.01, 0.005, 0.0025, 0.00125, 0.000625, 0.0003125, 0.00015625, 1e-4])
    assert lrs[4] == 0.01 and lrs[5] == 0.005  # epoch 1 sets the best, epochs 2-6 are 5 bad ones
    assert lrs[-1] == 1e-4


def test_reduce_lr_on_plateau_callback_cooldown_min_delta_and_mode():
    model = StubModel(lr=1.0)
    cb = ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2, min_delta=0.05)
    cb.set_model(model)
    cb.on_train_begin({})
    seen = []
    for epoch, v in enumerate([1.0, 0.99, 0.98, 0.97, 0.96, 0.95, 0.9, 0.5]):
        cb.on_epoch_end(epoch, {"val_loss": v})
        seen.append(model.optimizer.param_groups[0]["lr"])
    # Keras: the cooldown counter is decremented before the check, so cooldown=2 skips one
    # epoch. 0.99 is not better by 0.05 -> 0.5 (cooldown 2); 0.98 in cooldown; 0.97 -> 0.25;
    # 0.96 in cooldown; 0.95 is not < 1.0 - 0.05 -> 0.125; 0.9 and 0.5 improve
    assert seen == [1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.125]
    model = StubModel(lr=1.0)
    cb = ReduceLROnPlateau(monitor="val_accuracy", factor=0.1, patience=2)
    assert cb.mode == "max"
    _drive(cb, [0.5, 0.6, 0.55, 0.58, 0.7], key="val_accuracy", model=model)
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.5)


def test_reduce_lr_on_plateau_callback_through_fit():
    x, y = _data()
    model = _model(lr=0.1)
    history = model.fit(x, y, epochs=8, batch_size=32, validation_split=0.25, verbose=0,
                        callbacks=[Script([1.0] * 8), ReduceLROnPlateau(factor=0.5, patience=2)])
    assert history.history["learning_rate"] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125]


# ---------------------------------------------------------------- ModelCheckpoint


def test_model_checkpoint_every_epoch_with_template(tmp_path):
    x, y = _data()
    model = _model()
    snaps = Snapshots()
    template = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.npz")
    model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
              callbacks=[Script([0.5, 0.25, 0.125]), snaps, ModelCheckpoint(template)])
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01-0.50.npz", "ckpt-02-0.25.npz", "ckpt-03-0.12.npz"]
    state = pf.load(tmp_path / "ckpt-02-0.25.npz")
    assert state["epoch"] == 2 and "optimizer" in state and "rng" in state
    for k, v in state["model"].items():
        np.testing.assert_array_equal(v.numpy(), snaps.weights[1][k])


def test_model_checkpoint_save_best_only(tmp_path, monkeypatch):
    x, y = _data()
    model = _model()
    snaps = Snapshots()
    path = tmp_path / "best.npz"
    cb = ModelCheckpoint(path, monitor="val_loss", save_best_only=True, save_weights_only=True, verbose=1)
    saves = []
    real_save = serialization.save

    def spy(obj, p):
        saves.append(os.fspath(p))
        real_save(obj, p)

    monkeypatch.setattr(serialization, "save", spy)
    model.fit(x, y, epochs=6, batch_size=16, validation_split=0.25, verbose=0,
              callbacks=[Script([0.9, 0.7, 0.8, 0.6, 0.65, 0.61]), snaps, cb])
    assert saves == [os.fspath(path)] * 3  # epochs 1, 2 and 4 improved
    other = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    other.load_weights(path)
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), snaps.weights[3][k])
    assert cb.best == 0.6


def test_model_checkpoint_mode_max_and_missing_metric(tmp_path):
    model = StubModel()
    model.checkpoint = lambda epoch=None: {"w": model.w, "epoch": epoch}
    cb = ModelCheckpoint(tmp_path / "m-{epoch}.npz", monitor="val_accuracy", save_best_only=True)
    _drive(cb, [0.5, 0.4, 0.7, 0.7], key="val_accuracy", model=model)
    assert sorted(os.listdir(tmp_path)) == ["m-1.npz", "m-3.npz"]
    assert pf.load(tmp_path / "m-3.npz") == {"w": 3.0, "epoch": 3}
    with pytest.raises(KeyError, match="val_accuracy"):
        _drive(ModelCheckpoint(tmp_path / "x.npz", monitor="val_accuracy", save_best_only=True), [0.1], key="loss",
               model=model)


def test_model_checkpoint_crash_keeps_previous_checkpoint(tmp_path, monkeypatch):
    x, y = _data()
    model = _model()
    path = tmp_path / "last.npz"
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[ModelCheckpoint(path, save_weights_only=True)])
    before = path.read_bytes()

    def crash(obj, f):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_npz", crash)
    with pytest.raises(OSError, match="disk full"):
        model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[ModelCheckpoint(path, save_weights_only=True)])
    assert path.read_bytes() == before
    assert [n for n in os.listdir(tmp_path) if n != "last.npz"] == []


# ---------------------------------------------------------------- CSVLogger


def test_csv_logger(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    history = _model().fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                           callbacks=[CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    np.testing.assert_allclose([float(r["loss"]) for r in rows], history.history["loss"], rtol=1e-12)
    np.testing.assert_allclose([float(r["val_accuracy"]) for r in rows], history.history["val_accuracy"])
    # append: no second header
    _model().fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0,
                 callbacks=[CSVLogger(path, append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 3 + 2 and lines.count(lines[0]) == 1
    # overwrite, other separator
    _model().fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[CSVLogger(path, separator=";")])
    assert path.read_text().splitlines()[0] == "epoch;accuracy;loss"


# ---------------------------------------------------------------- LearningRateScheduler


def test_learning_rate_scheduler_through_fit(capsys):
    x, y = _data()
    model = _model(lr=0.1)
    seen = []
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[
        LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * 0.5, verbose=1),
        LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.param_groups[0]["lr"]))])
    assert seen == [0.1, 0.1, 0.05, 0.025]
    assert history.history["learning_rate"] == [0.1, 0.1, 0.05, 0.025]
    assert "Epoch 3: LearningRateScheduler setting learning rate to 0.05" in capsys.readouterr().out


def test_learning_rate_scheduler_one_argument_schedule_and_groups():
    model = StubModel()
    model.optimizer.add_param_group({"params": [pf.nn.Parameter(pf.zeros(1))], "lr": 5.0})
    cb = LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    cb.set_model(model)
    cb.on_epoch_begin(3, {})
    assert [g["lr"] for g in model.optimizer.param_groups] == [0.025, 0.025]


# ---------------------------------------------------------------- TerminateOnNaN


def test_terminate_on_nan_through_fit(capsys):
    x, y = _data()
    x[40] = np.nan  # the third batch of 16 produces a NaN loss
    model = _model()
    batches = []
    history = model.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0,
                        callbacks=[TerminateOnNaN(), LambdaCallback(on_batch_end=lambda b, logs: batches.append(b))])
    assert batches == [0, 1, 2]
    assert len(history.history["loss"]) == 1 and np.isnan(history.history["loss"][0])
    assert "Invalid loss" in capsys.readouterr().out


def test_terminate_on_nan_direct():
    model = StubModel()
    cb = TerminateOnNaN()
    cb.set_model(model)
    cb.on_train_batch_end(0, {"loss": 1.0})
    assert not model.stop_training
    cb.on_train_batch_end(1, {"loss": float("inf")})
    assert model.stop_training


# ---------------------------------------------------------------- LambdaCallback and the hooks


def test_lambda_callback_hooks_and_arguments():
    x, y = _data(32)
    calls = []
    cb = LambdaCallback(on_train_begin=lambda logs: calls.append(("train_begin", logs)),
                        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
                        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs))),
                        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch, sorted(logs))),
                        on_train_end=lambda logs: calls.append(("train_end", sorted(logs))))
    _model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[cb])
    assert calls[0] == ("train_begin", {})
    assert calls[1:5] == [("epoch_begin", 0), ("batch_end", 0, ["accuracy", "loss"]),
                          ("batch_end", 1, ["accuracy", "loss"]), ("epoch_end", 0, ["accuracy", "loss"])]
    assert calls[-1] == ("train_end", ["accuracy", "loss"])
    with pytest.raises(ValueError, match="unknown hook"):
        LambdaCallback(on_epoch_finish=lambda e, l: None)


class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(f"epoch_begin {epoch}")

    def on_train_batch_begin(self, batch, logs=None):
        self.events.append(f"batch_begin {batch}")

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(f"batch_end {batch}")

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(f"epoch_end {epoch}")

    def on_train_end(self, logs=None):
        self.events.append("train_end")


def test_hook_order_model_and_params():
    x, y = _data(40)
    rec = Recorder()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[rec], initial_epoch=0)
    epoch = ["batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1", "batch_begin 2", "batch_end 2"]
    assert rec.events == (["train_begin", "epoch_begin 0"] + epoch + ["epoch_end 0", "epoch_begin 1"] + epoch
                          + ["epoch_end 1", "train_end"])
    assert rec.model is model
    assert rec.params == {"epochs": 2, "steps": 3, "batch_size": 16, "verbose": 0}


def test_stop_training_from_a_batch_hook():
    x, y = _data(64)
    model = _model()

    class StopAfterTwoBatches(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    rec = Recorder()
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0, callbacks=[StopAfterTwoBatches(), rec])
    assert len(history.history["loss"]) == 1
    assert rec.events.count("batch_end 1") == 1 and "batch_begin 2" not in rec.events


# ---------------------------------------------------------------- History and plots


def test_history_keys_and_lengths():
    x, y = _data()
    history = _model().fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert isinstance(history, History)
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(v) == 3 for v in history.history.values())
    assert all(isinstance(v, float) for vs in history.history.values() for v in vs)
    assert history.epoch == [0, 1, 2]


def test_history_plot_renders_png(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y = _data()
    history = _model().fit(x, y, epochs=4, batch_size=16, validation_split=0.25, verbose=0)
    path = tmp_path / "curves.png"
    fig = history.plot(path=path)
    try:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        axes = fig.get_axes()
        assert [a.get_title() for a in axes] == ["loss", "accuracy"]
        labels = [line.get_label() for line in axes[0].get_lines()]
        assert labels == ["train", "validation"]
        np.testing.assert_allclose(axes[0].get_lines()[0].get_ydata(), history.history["loss"])
        np.testing.assert_allclose(axes[0].get_lines()[1].get_xdata(), [1, 2, 3, 4])
    finally:
        plt.close(fig)
    fig = history.plot(metrics="loss")  # one metric
    assert len(fig.get_axes()) == 1
    plt.close(fig)
    fig, ax = plt.subplots()
    assert history.plot(ax=ax) is fig  # every curve on the given Axes
    assert len(ax.get_lines()) == 4
    plt.close(fig)
    with pytest.raises(KeyError, match="precision"):
        history.plot(metrics=["precision"])
    from pyfastnn.train.plots import plot_history

    fig = plot_history({"loss": [3.0, 2.0], "val_loss": [3.5, 2.5], "learning_rate": [0.1, 0.1]})
    assert len(fig.get_axes()) == 1  # learning_rate only when asked for
    plt.close(fig)


def test_history_plot_without_matplotlib(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    h = History()
    h.history = {"loss": [1.0, 0.5]}
    with pytest.raises(ImportError, match="pip install matplotlib"):
        h.plot()

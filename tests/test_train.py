"""The Keras-style training API: compile / fit / evaluate / predict / summary on any Module.

Losses and weights are checked against values computed by hand from the model's weights;
resuming from a checkpoint must equal uninterrupted training exactly; end-to-end runs (XOR,
two moons, 8x8 digits, MSE vs BCE on a sigmoid output) finish in about a second each."""

import io
import re

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.data import DataLoader, StandardScaler, TensorDataset, datasets, train_test_split
from pyfastnn.train import Callback, EarlyStopping, ModelCheckpoint
from pyfastnn.train.losses import categorical_crossentropy, kl_divergence, sparse_categorical_crossentropy


# ---------------------------------------------------------------- helpers


def _mlp(n_in=3, hidden=5, n_out=1, seed=0, act=nn.Tanh):
    pf.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, hidden), act(), nn.Linear(hidden, n_out))


def _forward_np(model, x):
    """The Linear-Tanh-Linear model in float64 NumPy, from its weights."""
    sd = {k: v.numpy().astype(np.float64) for k, v in model.state_dict().items()}
    h = np.tanh(x.astype(np.float64) @ sd["0.weight"].T + sd["0.bias"])
    return h @ sd["2.weight"].T + sd["2.bias"]


def _weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _assert_same_weights(a, b, exact=True):
    wa, wb = (_weights(m) if isinstance(m, nn.Module) else m for m in (a, b))
    assert list(wa) == list(wb)
    for k in wa:
        if exact:
            np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)
        else:
            np.testing.assert_allclose(wa[k], wb[k], rtol=1e-5, atol=1e-6, err_msg=k)


def _classification(n=60, classes=3, seed=0, features=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = rng.integers(0, classes, n)
    return x, y


def _log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


class Frozen(pf.optim.SGD):
    """lr=0: fit computes losses without changing the model."""

    def __init__(self, params):
        super().__init__(params, lr=0.0)


class InputRecorder(nn.Module):
    """Identity-then-linear model that records every batch it sees in training mode."""

    def __init__(self, n_in=1):
        super().__init__()
        self.fc = nn.Linear(n_in, 1)
        self.seen = []

    def forward(self, x):
        if self.training:
            self.seen.append(x.numpy().copy())
        return self.fc(x)


# ---------------------------------------------------------------- compile


def test_compile_with_strings_classes_and_instances():
    model = _mlp()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    assert isinstance(model.optimizer, pf.optim.Adam)
    assert model.optimizer.param_groups[0]["lr"] == 1e-3 and model.optimizer.param_groups[0]["eps"] == 1e-7
    assert len(model.optimizer.param_groups[0]["params"]) == 4
    model.compile(optimizer="SGD", loss="binary_crossentropy")
    assert isinstance(model.optimizer, pf.optim.SGD) and model.optimizer.param_groups[0]["lr"] == 0.01
    for name, cls in [("rmsprop", pf.optim.RMSprop), ("adagrad", pf.optim.Adagrad), ("adadelta", pf.optim.Adadelta),
                      ("adamw", pf.optim.AdamW)]:
        model.compile(optimizer=name, loss="mse")
        assert type(model.optimizer) is cls
    model.compile(optimizer=pf.optim.RMSprop, loss=nn.MSELoss, metrics=[pf.train.metrics.MeanAbsoluteError])
    assert isinstance(model.optimizer, pf.optim.RMSprop) and model.optimizer.param_groups[0]["lr"] == 1e-2
    opt = pf.optim.SGD(model.parameters(), lr=0.3)
    model.compile(optimizer=opt, loss=nn.MSELoss(), metrics=[pf.train.metrics.MeanAbsoluteError()])
    assert model.optimizer is opt
    model.compile(loss="mse")  # Keras' default optimizer
    assert isinstance(model.optimizer, pf.optim.RMSprop)


def test_compile_errors():
    model = _mlp()
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        model.compile(optimizer="adamax", loss="mse")
    with pytest.raises(TypeError, match="optimizer"):
        model.compile(optimizer=3, loss="mse")
    with pytest.raises(ValueError, match="unknown loss 'msee'"):
        model.compile(optimizer="sgd", loss="msee")
    with pytest.raises(ValueError, match="a loss is required"):
        model.compile(optimizer="sgd")
    with pytest.raises(TypeError, match="loss"):
        model.compile(optimizer="sgd", loss=3)
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        model.compile(optimizer="sgd", loss="mse", metrics=["acuracy"])
    fresh = _mlp()
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(RuntimeError, match="compile"):
        fresh.fit(x, np.zeros(4, np.float32))
    with pytest.raises(RuntimeError, match="compile"):
        fresh.evaluate(x, np.zeros(4, np.float32))


def test_fit_argument_errors():
    model = _mlp()
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((10, 3), np.float32), np.zeros(10, np.float32)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="different numbers of samples"):
        model.fit(x, y[:9], verbose=0)
    with pytest.raises(ValueError, match="not both"):
        model.fit(x, y, validation_split=0.2, validation_data=(x, y), verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x[:2], y[:2], validation_split=0.6, verbose=0)  # nothing left to train on
    with pytest.raises(ValueError, match="sample_weight has 3 entries"):
        model.fit(x, y, sample_weight=np.ones(3), verbose=0)
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(x, y, validation_data=(x,), verbose=0)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    with pytest.raises(ValueError, match="y must be None"):
        model.fit(loader, y, verbose=0)
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(loader, sample_weight=np.ones(10), verbose=0)
    with pytest.raises(ValueError, match="DataLoader"):
        model.fit(loader, validation_split=0.2, verbose=0)


# ---------------------------------------------------------------- fit: data, validation, shuffling


def test_validation_split_uses_the_last_samples():
    x, y = _classification(50)
    model = _mlp(n_out=3)
    model.compile(optimizer=Frozen, loss="cross_entropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=1, batch_size=8, validation_split=0.3, verbose=0)
    logits = _forward_np(model, x)
    per = -_log_softmax(logits)[np.arange(50), y]
    cut = 35  # floor(50 * 0.7), as Keras
    assert h.history["loss"][0] == pytest.approx(per[:cut].mean(), rel=1e-5)
    assert h.history["val_loss"][0] == pytest.approx(per[cut:].mean(), rel=1e-5)
    assert h.history["val_accuracy"][0] == pytest.approx(np.mean(logits[cut:].argmax(1) == y[cut:]))
    h = model.fit(x, y, epochs=1, batch_size=8, validation_split=0.25, verbose=0)  # 37.5 -> 37
    assert h.history["val_loss"][0] == pytest.approx(per[37:].mean(), rel=1e-5)


def test_validation_data_tuple_with_weights_and_loader():
    x, y = _classification(40)
    vx, vy = _classification(20, seed=1)
    model = _mlp(n_out=3)
    model.compile(optimizer=Frozen, loss="cross_entropy")
    per = -_log_softmax(_forward_np(model, vx))[np.arange(20), vy]
    h = model.fit(x, y, epochs=1, validation_data=(vx, vy), verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(per.mean(), rel=1e-5)
    w = np.linspace(0.5, 2.0, 20)
    h = model.fit(x, y, epochs=1, validation_data=(vx, vy, w), verbose=0)
    assert h.history["val_loss"][0] == pytest.approx((per * w).sum() / 20, rel=1e-5)
    h = model.fit(x, y, epochs=1, validation_data=DataLoader(TensorDataset(vx, vy), batch_size=6), verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(per.mean(), rel=1e-5)
    h = model.fit(x, y, epochs=1, validation_data=TensorDataset(vx, vy), verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(per.mean(), rel=1e-5)
    h = model.fit(x, y, epochs=1, validation_data=[pf.tensor(vx), pf.tensor(vy)], verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(per.mean(), rel=1e-5)


def test_shuffle_is_seeded_by_manual_seed():
    x = np.arange(20, dtype=np.float32).reshape(20, 1)
    y = np.zeros(20, np.float32)

    def order(seed, shuffle=True, epochs=2):
        model = InputRecorder()
        model.compile(optimizer=Frozen, loss="mse")
        pf.manual_seed(seed)
        model.fit(x, y, epochs=epochs, batch_size=6, shuffle=shuffle, verbose=0)
        assert [len(b) for b in model.seen] == [6, 6, 6, 2] * epochs
        return np.concatenate(model.seen)[:, 0].astype(int)

    a = order(5)
    np.testing.assert_array_equal(a, order(5))
    assert sorted(a[:20]) == list(range(20)) and sorted(a[20:]) == list(range(20))
    assert not np.array_equal(a[:20], a[20:])  # a new order every epoch
    np.testing.assert_array_equal(a[:20], np.random.default_rng(5).permutation(20))  # the global generator
    assert not np.array_equal(a, order(6))
    np.testing.assert_array_equal(order(5, shuffle=False), np.tile(np.arange(20), 2))


def test_fit_with_dataloader_and_tensor_dataset():
    x, y = _classification(48)
    ref = _mlp(n_out=3)
    ref.compile(optimizer=pf.optim.SGD(ref.parameters(), lr=0.1), loss="cross_entropy", metrics=["accuracy"])
    h_ref = ref.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)

    for data in (DataLoader(TensorDataset(x, y), batch_size=16), TensorDataset(x, y)):
        model = _mlp(n_out=3)
        model.compile(optimizer=pf.optim.SGD(model.parameters(), lr=0.1), loss="cross_entropy", metrics=["accuracy"])
        h = model.fit(data, epochs=3, batch_size=16, shuffle=False, verbose=0)
        np.testing.assert_allclose(h.history["loss"], h_ref.history["loss"], rtol=1e-6)
        assert h.history["accuracy"] == h_ref.history["accuracy"]
        _assert_same_weights(model, ref, exact=False)


def test_fit_with_a_shuffled_seeded_loader_and_drop_last():
    x, y = _classification(50)
    model = _mlp(n_out=3)
    model.compile(optimizer="sgd", loss="cross_entropy")
    rec = []
    model.fit(DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, drop_last=True, generator=0), epochs=2,
              verbose=0, callbacks=[pf.train.LambdaCallback(on_train_batch_end=lambda b, logs: rec.append(b))])
    assert rec == [0, 1, 2, 0, 1, 2]


def test_loader_yielding_sample_weights():
    x, y = _classification(32)
    w = np.linspace(0.1, 3.0, 32).astype(np.float32)
    model = _mlp(n_out=3)
    model.compile(optimizer=Frozen, loss="cross_entropy")
    per = -_log_softmax(_forward_np(model, x))[np.arange(32), y]
    h = model.fit(DataLoader(TensorDataset(x, y, w), batch_size=32), epochs=1, verbose=0)
    assert h.history["loss"][0] == pytest.approx((per * w).sum() / 32, rel=1e-5)
    h = model.fit(DataLoader(TensorDataset(x, y), batch_size=32), class_weight={0: 2.0, 1: 1.0, 2: 0.5}, epochs=1,
                  verbose=0)
    cw = np.array([2.0, 1.0, 0.5])[y]
    assert h.history["loss"][0] == pytest.approx((per * cw).sum() / 32, rel=1e-5)


def test_tensors_lists_and_float64_inputs():
    x, y = _classification(20)
    model = _mlp(n_out=3)
    model.compile(optimizer=Frozen, loss="cross_entropy")
    a = model.fit(x, y, epochs=1, verbose=0).history["loss"]
    b = model.fit(pf.tensor(x), pf.tensor(y), epochs=1, verbose=0).history["loss"]
    c = model.fit(x.astype(np.float64).tolist(), y.tolist(), epochs=1, verbose=0).history["loss"]
    assert a == b and c[0] == pytest.approx(a[0], rel=1e-6)
    assert model[0].weight.dtype == np.float32


# ---------------------------------------------------------------- weights


def test_sample_weight_changes_the_loss_as_defined():
    """Keras: sum(w_i * loss_i) / N over each batch; the epoch loss is the sample-count
    weighted mean of the batch losses, so over one epoch: sum(w_i * loss_i) / N."""
    x, y = _classification(40)
    w = np.random.default_rng(2).random(40) * 3
    model = _mlp(n_out=3)
    model.compile(optimizer=Frozen, loss="cross_entropy", metrics=["accuracy"])
    per = -_log_softmax(_forward_np(model, x))[np.arange(40), y]
    for bs in (40, 16, 7):
        h = model.fit(x, y, epochs=1, batch_size=bs, sample_weight=w, shuffle=False, verbose=0)
        assert h.history["loss"][0] == pytest.approx((per * w).sum() / 40, rel=1e-5)
    # metrics are not weighted (Keras' `metrics`)
    assert h.history["accuracy"][0] == pytest.approx(np.mean(_forward_np(model, x).argmax(1) == y))


def test_class_weight_changes_the_loss_as_defined():
    x, y = _classification(40)
    cw = {0: 0.2, 1: 1.0, 2: 5.0}
    model = _mlp(n_out=3)
    model.compile(optimizer=Frozen, loss="cross_entropy")
    per = -_log_softmax(_forward_np(model, x))[np.arange(40), y]
    wts = np.array([cw[c] for c in y])
    h = model.fit(x, y, epochs=1, batch_size=16, class_weight=cw, verbose=0)
    assert h.history["loss"][0] == pytest.approx((per * wts).sum() / 40, rel=1e-5)
    # both: the product
    sw = np.linspace(1, 2, 40)
    h = model.fit(x, y, epochs=1, batch_size=16, class_weight=cw, sample_weight=sw, verbose=0)
    assert h.history["loss"][0] == pytest.approx((per * wts * sw).sum() / 40, rel=1e-5)
    # a class left out weighs 1 (Keras 3)
    h = model.fit(x, y, epochs=1, batch_size=16, class_weight={2: 5.0}, verbose=0)
    wts = np.where(y == 2, 5.0, 1.0)
    assert h.history["loss"][0] == pytest.approx((per * wts).sum() / 40, rel=1e-5)
    with pytest.raises(TypeError, match="dict"):
        model.fit(x, y, class_weight=[1, 2, 3], verbose=0)


def test_class_weight_with_one_hot_targets():
    x, y = _classification(30, classes=4)
    model = _softmax_model()
    model.compile(optimizer=Frozen, loss="categorical_crossentropy")
    per = -np.log(np.clip(_probs(model, x), 1e-7, 1 - 1e-7))[np.arange(30), y]
    cw = {0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0}
    h = model.fit(x, np.eye(4, dtype=np.float32)[y], epochs=1, batch_size=8, class_weight=cw, verbose=0)
    assert h.history["loss"][0] == pytest.approx((per * (y + 1.0)).sum() / 30, rel=1e-5)


def test_class_weight_binary_targets_and_gradient():
    """Binary 0/1 targets of a one-output model; the weighted loss also drives the update:
    one SGD step equals a hand-written step on sum(w_i * bce_i) / N."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((24, 3)).astype(np.float32)
    y = (rng.random(24) > 0.7).astype(np.float32)
    cw = {0: 1.0, 1: 3.0}
    model = _mlp()
    manual = _mlp()
    model.compile(optimizer=pf.optim.SGD(model.parameters(), lr=0.5), loss="bce_with_logits")
    model.fit(x, y, epochs=1, batch_size=24, class_weight=cw, verbose=0)

    opt = pf.optim.SGD(manual.parameters(), lr=0.5)
    z = manual(pf.tensor(x))
    per = pf.nn.functional.binary_cross_entropy_with_logits(z, pf.tensor(y.reshape(-1, 1)), reduction="none")
    w = pf.tensor(np.where(y == 1, 3.0, 1.0).astype(np.float32).reshape(-1, 1))
    ((per * w).sum() / 24).backward()
    opt.step()
    _assert_same_weights(model, manual, exact=False)


# ---------------------------------------------------------------- epochs, verbosity, history


def test_initial_epoch():
    x, y = _classification(20)
    model = _mlp(n_out=3)
    model.compile(optimizer="sgd", loss="cross_entropy")
    seen = []
    h = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0,
                  callbacks=[pf.train.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(e))])
    assert seen == [3, 4] and h.epoch == [3, 4] and len(h.history["loss"]) == 2
    assert model.fit(x, y, epochs=3, initial_epoch=3, verbose=0).history == {}


def test_verbose_levels(capsys):
    x, y = _classification(20)
    model = _mlp(n_out=3)
    model.compile(optimizer="sgd", loss="cross_entropy", metrics=["accuracy"])
    model.fit(x, y, epochs=3, batch_size=8, validation_split=0.2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x)
    assert capsys.readouterr().out == ""
    for verbose in (1, 2):
        model.fit(x, y, epochs=3, batch_size=8, validation_split=0.2, verbose=verbose)
        lines = capsys.readouterr().out.strip().splitlines()
        assert len(lines) == 3
        for i, line in enumerate(lines):
            assert line.startswith(f"Epoch {i + 1}/3 - 2 steps - ")
            assert re.search(r"loss: \d+\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d+\.\d{4} - val_accuracy:", line)
    model.evaluate(x, y, verbose=1)
    assert capsys.readouterr().out.startswith("loss: ")


def test_verbose_one_on_a_terminal_uses_tqdm(monkeypatch):
    tqdm = pytest.importorskip("tqdm")  # noqa: F841
    from pyfastnn.train.progress import ProgressLogger

    class TTY(io.StringIO):
        def isatty(self):
            return True

    out = TTY()
    logger = ProgressLogger(verbose=1, file=out)
    assert logger._use_bar()


def test_history_keys_lengths_and_model_history():
    x, y = _classification(30)
    model = _mlp(n_out=3)
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy", "top_k_accuracy"])
    h = model.fit(x, y, epochs=4, batch_size=10, validation_data=(x, y), verbose=0)
    assert list(h.history) == ["loss", "accuracy", "top_k_accuracy", "val_loss", "val_accuracy", "val_top_k_accuracy"]
    assert all(len(v) == 4 for v in h.history.values())
    assert model.history is h
    assert h.history["val_top_k_accuracy"] == [1.0] * 4  # 3 classes, top 5
    assert h.history["loss"][-1] < h.history["loss"][0]


# ---------------------------------------------------------------- gradient clipping


def _one_step_update(clip, lr=1.0):
    """(raw gradients, weight change) of one SGD step with the given compile clip option."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = (rng.standard_normal(8) * 50).astype(np.float32)  # large errors: large gradients
    probe = _mlp()
    probe(pf.tensor(x))  # same init as the model below
    out = probe(pf.tensor(x))
    pf.nn.functional.mse_loss(out, pf.tensor(y.reshape(-1, 1))).backward()
    grads = {k: p.grad.numpy().astype(np.float64) for k, p in probe.named_parameters()}
    model = _mlp()
    before = {k: p.numpy().copy() for k, p in model.named_parameters()}
    model.compile(optimizer=pf.optim.SGD(model.parameters(), lr=lr), loss="mse", **clip)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    step = {k: (before[k] - p.numpy()).astype(np.float64) / lr for k, p in model.named_parameters()}
    return grads, step


def test_no_clipping_applies_the_raw_gradient():
    grads, step = _one_step_update({})
    for k in grads:
        np.testing.assert_allclose(step[k], grads[k], rtol=1e-4, atol=1e-5)
    assert max(np.abs(g).max() for g in grads.values()) > 10  # the clips below really act


def test_clipnorm_clips_each_gradient():
    grads, step = _one_step_update(dict(clipnorm=1.0))
    for k in grads:
        n = np.linalg.norm(grads[k])
        want = grads[k] * min(1.0, 1.0 / n)
        np.testing.assert_allclose(step[k], want, rtol=1e-4, atol=1e-6)
        assert np.linalg.norm(step[k]) <= 1.0 + 1e-4


def test_global_clipnorm_clips_all_together():
    grads, step = _one_step_update(dict(global_clipnorm=2.0))
    total = np.sqrt(sum((g ** 2).sum() for g in grads.values()))
    assert total > 2
    for k in grads:
        np.testing.assert_allclose(step[k], grads[k] * 2.0 / total, rtol=1e-4, atol=1e-6)
    assert np.sqrt(sum((s ** 2).sum() for s in step.values())) == pytest.approx(2.0, rel=1e-4)


def test_clipvalue_clamps_each_element():
    grads, step = _one_step_update(dict(clipvalue=0.5))
    for k in grads:
        np.testing.assert_allclose(step[k], np.clip(grads[k], -0.5, 0.5), rtol=1e-4, atol=1e-6)
    assert max(np.abs(s).max() for s in step.values()) == pytest.approx(0.5, rel=1e-5)


# ---------------------------------------------------------------- losses


def test_keras_order_custom_loss_function():
    x, y = _classification(30)
    y = y.astype(np.float32)
    seen = {}

    def my_mse(y_true, y_pred):  # Keras: (y_true, y_pred), per-sample losses
        seen["shapes"] = (y_true.shape, y_pred.shape)
        return ((y_pred - y_true) ** 2).mean(-1)

    model = _mlp()
    model.compile(optimizer=Frozen, loss=my_mse)
    pred = _forward_np(model, x)[:, 0]
    h = model.fit(x, y, epochs=1, batch_size=30, verbose=0)
    assert seen["shapes"] == ((30, 1), (30, 1))  # targets shaped like the prediction
    assert h.history["loss"][0] == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5)
    w = np.linspace(0, 2, 30)
    h = model.fit(x, y, epochs=1, batch_size=30, sample_weight=w, verbose=0)
    assert h.history["loss"][0] == pytest.approx(np.sum(w * (pred - y) ** 2) / 30, rel=1e-5)

    def torch_style(input, target):  # PyTorch order, a scalar
        return ((input - target) ** 2).mean() * 2

    model.compile(optimizer=Frozen, loss=torch_style)
    h = model.fit(x, y, epochs=1, batch_size=30, verbose=0)
    assert h.history["loss"][0] == pytest.approx(2 * np.mean((pred - y) ** 2), rel=1e-5)
    with pytest.raises(ValueError, match="cannot be weighted per sample"):
        model.fit(x, y, epochs=1, sample_weight=w, verbose=0)

    class Weird(nn.Module):  # a loss module without a reduction
        def forward(self, input, target):
            return ((input - target) ** 2).sum()

    model.compile(optimizer=Frozen, loss=Weird())
    h = model.fit(x, y, epochs=1, batch_size=30, verbose=0)
    assert h.history["loss"][0] == pytest.approx(np.sum((pred - y) ** 2), rel=1e-5)


def _softmax_model(classes=4, seed=0):
    pf.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, classes), nn.Softmax(dim=-1))


def _probs(model, x):
    logits = _forward_np(model, x)
    return np.exp(_log_softmax(logits))


def test_keras_probability_losses_vs_formulas():
    x, y = _classification(40, classes=4)
    model = _softmax_model()
    p = _probs(model, x)
    onehot = np.eye(4)[y]
    pc = np.clip(p, 1e-7, 1 - 1e-7)
    for loss, target, want in [
        ("sparse_categorical_crossentropy", y, -np.log(pc[np.arange(40), y]).mean()),
        ("categorical_crossentropy", onehot.astype(np.float32), -(onehot * np.log(pc)).sum(1).mean()),
    ]:
        model.compile(optimizer=Frozen, loss=loss, metrics=["accuracy"])
        res = model.evaluate(x, target, batch_size=16)
        assert res["loss"] == pytest.approx(want, rel=1e-5), loss
        assert res["accuracy"] == pytest.approx(np.mean(p.argmax(1) == y))
    soft = np.random.default_rng(1).dirichlet(np.ones(4), 40).astype(np.float32)
    model.compile(optimizer=Frozen, loss="kl_divergence")
    want = (soft * np.log(np.clip(soft, 1e-7, 1) / pc)).sum(1).mean()
    assert model.evaluate(x, soft)["loss"] == pytest.approx(want, rel=1e-4)
    # binary: a sigmoid output
    pf.manual_seed(0)
    bmodel = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1), nn.Sigmoid())
    yb = (y % 2).astype(np.float32)
    q = 1 / (1 + np.exp(-_forward_np(bmodel, x)[:, 0]))
    bmodel.compile(optimizer=Frozen, loss="binary_crossentropy", metrics=["accuracy"])
    res = bmodel.evaluate(x, yb)
    assert res["loss"] == pytest.approx(-(yb * np.log(q) + (1 - yb) * np.log(1 - q)).mean(), rel=1e-5)
    assert res["accuracy"] == pytest.approx(np.mean((q > 0.5) == (yb == 1)))


def test_keras_probability_loss_functions_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 4))
    y = rng.integers(0, 4, 6)
    z = pf.tensor(logits, requires_grad=True)
    p = pf.softmax(z, dim=-1)
    loss = sparse_categorical_crossentropy(p, y)
    tl = torch.tensor(logits, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tl, torch.tensor(y))
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-10)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(z.grad.numpy(), tl.grad.numpy(), rtol=1e-8, atol=1e-12)  # through the softmax
    assert sparse_categorical_crossentropy(p, y, reduction="none").shape == (6,)
    assert categorical_crossentropy(p, np.eye(4)[y], reduction="sum").item() == pytest.approx(6 * tloss.item())
    with pytest.raises(ValueError, match="out of range"):
        sparse_categorical_crossentropy(p, np.array([0, 1, 2, 3, 4, 0]))
    with pytest.raises(ValueError, match="one-hot"):
        categorical_crossentropy(p, y)
    with pytest.raises(ValueError, match="reduction"):
        kl_divergence(p, np.eye(4)[y], reduction="avg")


def test_accuracy_threshold_follows_the_loss():
    """With a logits loss the binary accuracy thresholds at 0, with probabilities at 0.5."""
    x = np.array([[1.0], [-1.0], [0.2], [-0.2]], np.float32)
    y = np.array([1, 0, 1, 0], np.float32)
    model = nn.Linear(1, 1)
    with pf.no_grad():
        model.weight.fill_(1.0)
        model.bias.fill_(0.0)
    for loss in ("bce_with_logits", nn.BCEWithLogitsLoss(), pf.nn.functional.binary_cross_entropy_with_logits):
        model.compile(optimizer=Frozen, loss=loss, metrics=["accuracy"])
        assert model.evaluate(x, y)["accuracy"] == 1.0  # logits 0.2 and -0.2 on the right side of 0
    model.compile(optimizer=Frozen, loss="mse", metrics=["accuracy"])
    assert model.evaluate(x, y)["accuracy"] == 0.75  # 0.2 < 0.5


# ---------------------------------------------------------------- evaluate / predict


def test_evaluate_and_predict():
    x, y = _classification(37)
    model = _mlp(n_out=3)
    model.compile(optimizer=Frozen, loss="cross_entropy", metrics=["accuracy"])
    logits = _forward_np(model, x)
    res = model.evaluate(x, y, batch_size=10)
    assert set(res) == {"loss", "accuracy"}
    assert res["loss"] == pytest.approx(-_log_softmax(logits)[np.arange(37), y].mean(), rel=1e-5)
    assert res["accuracy"] == pytest.approx(np.mean(logits.argmax(1) == y))
    w = np.linspace(0, 1, 37)
    assert model.evaluate(x, y, sample_weight=w)["loss"] == pytest.approx(
        (-_log_softmax(logits)[np.arange(37), y] * w).sum() / 37, rel=1e-5)
    for bs in (1, 10, 37, 100):
        out = model.predict(x, batch_size=bs)
        assert isinstance(out, np.ndarray) and out.shape == (37, 3) and out.dtype == np.float32
        np.testing.assert_allclose(out, logits, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(DataLoader(TensorDataset(x, y), batch_size=8)), logits, rtol=1e-5,
                               atol=1e-6)
    assert model.predict(x[:0]).shape[0] == 0
    res2 = model.evaluate(DataLoader(TensorDataset(x, y), batch_size=8))
    assert res2["loss"] == pytest.approx(res["loss"], rel=1e-6)


def test_predict_and_evaluate_run_in_eval_mode_without_graph():
    pf.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, 2))
    model.compile(optimizer="sgd", loss="cross_entropy")
    x = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    a, b = model.predict(x), model.predict(x)
    np.testing.assert_array_equal(a, b)  # no dropout
    assert model.training  # mode restored
    model.eval()
    model.evaluate(x, np.zeros(20, np.int64))
    assert not model.training


# ---------------------------------------------------------------- resume from a checkpoint


def _dropout_model():
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))


def _resume_data():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((90, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    return x, y


def test_resume_from_checkpoint_equals_uninterrupted_training(tmp_path):
    """Shuffling and dropout draw from the global generator, Adam has state: a checkpoint
    after epoch 3 loaded into a new model continues bit for bit."""
    x, y = _resume_data()
    pf.manual_seed(0)
    full = _dropout_model()
    full.compile(optimizer=pf.optim.Adam(full.parameters(), lr=0.01), loss="cross_entropy", metrics=["accuracy"])
    h_full = full.fit(x, y, epochs=6, batch_size=16, validation_split=0.2, verbose=0)

    pf.manual_seed(0)
    first = _dropout_model()
    first.compile(optimizer=pf.optim.Adam(first.parameters(), lr=0.01), loss="cross_entropy", metrics=["accuracy"])
    h1 = first.fit(x, y, epochs=3, batch_size=16, validation_split=0.2, verbose=0)
    first.save_checkpoint(tmp_path / "ckpt.npz", epoch=3)

    pf.manual_seed(123)  # a different start: everything must come from the checkpoint
    second = _dropout_model()
    second.compile(optimizer=pf.optim.Adam(second.parameters(), lr=0.01), loss="cross_entropy", metrics=["accuracy"])
    epoch = second.load_checkpoint(tmp_path / "ckpt.npz")
    assert epoch == 3
    h2 = second.fit(x, y, epochs=6, batch_size=16, validation_split=0.2, initial_epoch=epoch, verbose=0)
    _assert_same_weights(second, full)
    assert h1.history["loss"] + h2.history["loss"] == h_full.history["loss"]
    assert h2.epoch == [3, 4, 5]


def test_resume_from_model_checkpoint_callback(tmp_path):
    x, y = _resume_data()
    pf.manual_seed(1)
    full = _dropout_model()
    full.compile(optimizer=pf.optim.SGD(full.parameters(), lr=0.05, momentum=0.9), loss="cross_entropy")
    full.fit(x, y, epochs=5, batch_size=32, verbose=0)

    pf.manual_seed(1)
    first = _dropout_model()
    first.compile(optimizer=pf.optim.SGD(first.parameters(), lr=0.05, momentum=0.9), loss="cross_entropy")

    class Crash(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt("the machine went down after epoch 2")

    with pytest.raises(KeyboardInterrupt):
        first.fit(x, y, epochs=5, batch_size=32, verbose=0,
                  callbacks=[ModelCheckpoint(tmp_path / "ckpt-{epoch}.npz", monitor="loss"), Crash()])
    second = _dropout_model()
    second.compile(optimizer=pf.optim.SGD(second.parameters(), lr=0.05, momentum=0.9), loss="cross_entropy")
    epoch = second.load_checkpoint(tmp_path / "ckpt-2.npz")
    assert epoch == 2
    second.fit(x, y, epochs=5, batch_size=32, initial_epoch=epoch, verbose=0)
    _assert_same_weights(second, full)


def test_load_checkpoint_needs_a_compiled_model(tmp_path):
    model = _mlp()
    model.compile(optimizer="adam", loss="mse")
    model.save_checkpoint(tmp_path / "c.npz")
    fresh = _mlp()
    with pytest.raises(RuntimeError, match="compile"):
        fresh.load_checkpoint(tmp_path / "c.npz")


def test_checkpoint_with_early_stopping_and_best_weights(tmp_path):
    """The course pattern: EarlyStopping(restore_best_weights) + ModelCheckpoint(save_best_only)
    leave the model and the file with the same (best) weights."""
    x, y = _resume_data()
    pf.manual_seed(2)
    model = _dropout_model()
    model.compile(optimizer=pf.optim.Adam(model.parameters(), lr=0.05), loss="cross_entropy")
    path = tmp_path / "best.npz"
    h = model.fit(x, y, epochs=40, batch_size=16, validation_split=0.3, verbose=0,
                  callbacks=[ModelCheckpoint(path, save_best_only=True, save_weights_only=True),
                             EarlyStopping(patience=2, restore_best_weights=True)])
    assert len(h.history["loss"]) < 40  # it stopped: the model holds the best epoch's weights
    best = _dropout_model()
    best.load_weights(path)
    _assert_same_weights(model, best)
    assert int(np.argmin(h.history["val_loss"])) == len(h.history["loss"]) - 3  # patience 2


# ---------------------------------------------------------------- summary


def test_summary_parameter_counts():
    mlp = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 1))
    lines = []
    text = mlp.summary(print_fn=lines.append)
    assert lines == [text]
    assert "Total params: 108,801" in text and "Trainable params: 108,801" in text
    assert "Non-trainable params: 0" in text
    assert mlp.count_params() == 108801
    flat = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    text = flat.summary(print_fn=None)
    assert "Total params: 101,770" in text
    assert flat.count_params() == 101770
    flat[1].weight.requires_grad_(False)
    text = flat.summary(print_fn=None)
    assert "Trainable params: 1,418" in text and "Non-trainable params: 100,352" in text
    assert "Total params: 101,770" in text


def test_summary_output_shapes():
    flat = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    text = flat.summary(input_shape=(28, 28), print_fn=None)
    rows = [line.split() for line in text.splitlines() if re.match(r"^\d+ \(", line)]
    assert rows == [["0", "(Flatten)", "(None,", "784)", "0"], ["1", "(Linear)", "(None,", "128)", "100,480"],
                    ["2", "(ReLU)", "(None,", "128)", "0"], ["3", "(Linear)", "(None,", "10)", "1,290"]]
    assert text.splitlines()[0] == 'Model: "Sequential"'
    assert "?" in flat.summary(print_fn=None)  # no input shape known yet

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 8)
            self.act = nn.ReLU()
            self.fc2 = nn.Linear(8, 2)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    net = Net()
    text = net.summary(input_shape=(4,), print_fn=None)
    assert re.search(r"fc1 \(Linear\)\s+\(None, 8\)\s+40", text)
    assert re.search(r"fc2 \(Linear\)\s+\(None, 2\)\s+18", text)
    assert 'Model: "Net"' in text and "Total params: 58" in text


def test_summary_after_fit_knows_the_input_shape():
    x, y = _classification(20)
    model = _mlp(n_out=3)
    model.compile(optimizer="sgd", loss="cross_entropy")
    model.fit(x, y, epochs=1, verbose=0)
    text = model.summary(print_fn=None)
    assert "(None, 5)" in text and "(None, 3)" in text and "?" not in text


# ---------------------------------------------------------------- end to end


def test_mlp_learns_xor():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([0, 1, 1, 0], np.float32)
    pf.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    model.compile(optimizer=pf.optim.Adam(model.parameters(), lr=0.05), loss="bce_with_logits", metrics=["accuracy"])
    h = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    assert h.history["accuracy"][-1] == 1.0
    assert h.history["loss"][-1] < 0.05
    np.testing.assert_array_equal((model.predict(x)[:, 0] > 0).astype(np.float32), y)


@pytest.mark.parametrize("seed", [0, 1])
def test_two_moons_reach_95_percent(seed):
    x, y = datasets.moons(1000, 0.2, seed=42)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=seed)
    pf.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    model.compile(optimizer=pf.optim.Adam(model.parameters(), lr=0.01), loss="bce_with_logits", metrics=["accuracy"])
    assert model.count_params() == 65
    model.fit(x_train, y_train.astype(np.float32), epochs=80, batch_size=32, verbose=0)
    assert model.evaluate(x_test, y_test.astype(np.float32))["accuracy"] >= 0.95


def test_digits_mlp_reaches_95_percent():
    x, y = datasets.digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, seed=0)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    pf.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
    model.compile(optimizer=pf.optim.Adam(model.parameters(), lr=3e-3), loss="cross_entropy", metrics=["accuracy"])
    h = model.fit(x_train, y_train, epochs=30, batch_size=32, validation_split=0.1, verbose=0,
                  callbacks=[EarlyStopping(patience=5, restore_best_weights=True)])
    assert h.history["val_accuracy"][-1] > 0.9
    assert model.evaluate(x_test, y_test)["accuracy"] >= 0.95
    pred = model.predict(x_test).argmax(1)
    assert np.mean(pred == y_test) >= 0.95


def test_sigmoid_output_learns_slower_with_mse_than_with_bce():
    """Sigmoid + MSE: the gradient carries sigma'(z), tiny where the output saturates; the
    cross-entropy gradient is (p - y). From the same saturated start, after the same epochs,
    the BCE model is far ahead."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.float32)

    def train(loss):
        model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
        with pf.no_grad():  # confidently wrong at the start: outputs saturated on the wrong side
            model[0].weight.copy_(pf.tensor([[-4.0, -4.0]]))
            model[0].bias.fill_(0.0)
        model.compile(optimizer=pf.optim.SGD(model.parameters(), lr=0.5), loss=loss, metrics=["accuracy"])
        h = model.fit(x, y, epochs=5, batch_size=20, shuffle=False, verbose=0)
        model.compile(optimizer=Frozen, loss="binary_crossentropy", metrics=["accuracy"])
        return h, model.evaluate(x, y)

    h_mse, mse = train("mse")
    h_bce, bce = train("binary_crossentropy")
    assert h_mse.history["accuracy"][0] < 0.2 and h_bce.history["accuracy"][0] < 0.5  # both start wrong
    assert bce["accuracy"] >= 0.95
    assert bce["accuracy"] > mse["accuracy"] + 0.2
    assert bce["loss"] < mse["loss"] / 2

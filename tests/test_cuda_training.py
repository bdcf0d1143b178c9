"""Tensors on the GPU end to end: device moves, ops dispatching to the CUDA kernels,
autograd, optimizers, Keras-style fit on device="cuda", CPU/GPU agreement of a whole
training run, device-mixing errors and memory stability. Marked `cuda` (skipped without a
GPU; on the CPU emulator with PYFASTNN_CUDA_EMULATOR=1)."""

import numpy as np
import pytest

cp = pytest.importorskip("cupy")

import pyfastnn as pf  # noqa: E402
from pyfastnn import nn  # noqa: E402
from pyfastnn.nn import functional as F  # noqa: E402

pytestmark = pytest.mark.cuda


def _emulated():
    return pf.cuda.get_device_name(0) == "pyfastnn CPU emulator"


def test_is_available_and_device_queries():
    assert pf.cuda.is_available()
    assert pf.cuda.device_count() >= 1
    assert isinstance(pf.cuda.get_device_name(0), str)
    pf.cuda.synchronize()


def test_tensor_moves_and_factories():
    t = pf.tensor([[1.0, 2.0], [3.0, 4.0]])
    g = t.cuda()
    assert g.device == "cuda" and isinstance(g.data, cp.ndarray) and g.dtype == np.float32
    assert t.to("cuda:0").device == "cuda"
    back = g.cpu()
    assert back.device == "cpu"
    np.testing.assert_array_equal(back.numpy(), t.numpy())
    assert "device='cuda'" in repr(g)
    for make in (lambda: pf.zeros(2, 3, device="cuda"), lambda: pf.ones(4, device="cuda"),
                 lambda: pf.randn(3, device="cuda"), lambda: pf.tensor([1, 2], device="cuda"),
                 lambda: pf.arange(5, device="cuda"), lambda: pf.full((2,), 7.0, device="cuda")):
        assert make().device == "cuda"
    assert pf.zeros_like(g).device == "cuda"
    with pytest.raises(TypeError, match="can't convert a cuda tensor to numpy"):
        g.numpy()
    w = pf.zeros(3, 4, device="cuda")
    with pf.no_grad():
        w.normal_()  # drawn on the host, written on the device
        w.copy_(pf.ones(3, 4))
    np.testing.assert_array_equal(w.cpu().numpy(), np.ones((3, 4), np.float32))
    lin = nn.Linear(4, 2).cuda()
    nn.init.xavier_uniform_(lin.weight)
    assert lin.weight.device == "cuda"


def test_gradient_flows_back_across_devices():
    a = pf.randn(3, 4, requires_grad=True)
    loss = (a.cuda() * 2.0).sum()
    loss.backward()
    assert a.grad.device == "cpu"
    np.testing.assert_allclose(a.grad.numpy(), np.full((3, 4), 2.0, np.float32))


def test_ops_on_cuda_match_cpu():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 5)).astype(np.float32)
    w = rng.standard_normal((5, 6)).astype(np.float32)
    lin_w = rng.standard_normal((3, 5)).astype(np.float32)
    lin_b = rng.standard_normal(3).astype(np.float32)
    target = rng.integers(0, 3, 8)

    def run(device):
        xs = pf.tensor(x, requires_grad=True, device=device)
        ws = pf.tensor(w, requires_grad=True, device=device)
        lw = pf.tensor(lin_w, requires_grad=True, device=device)
        lb = pf.tensor(lin_b, requires_grad=True, device=device)
        h = (xs @ ws).tanh().sum(dim=1, keepdim=True) * xs  # matmul, activation, reduction, broadcasting
        h = F.gelu(h) + F.leaky_relu(h, 0.1) - F.sigmoid(h)
        logits = F.linear(h, lw, lb, activation="relu") + F.linear(h, lw)
        loss = F.cross_entropy(logits, pf.tensor(target, device=device), label_smoothing=0.1)
        loss = loss + F.log_softmax(logits, dim=0).mean() + F.mse_loss(logits, logits.detach() * 0.5)
        loss.backward()
        return [t.cpu().numpy() if t.device == "cuda" else t.numpy() for t in
                (loss, xs.grad, ws.grad, lw.grad, lb.grad)]

    for got, want in zip(run("cuda"), run("cpu")):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)


def test_comparisons_and_index_reductions_on_cuda():
    x = pf.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], device="cuda")
    assert (x > 0).device == "cuda" and (x > 0).dtype == np.bool_
    np.testing.assert_array_equal((x > 0).cpu().numpy(), [[True, False, True], [True, True, False]])
    assert int(x.argmax().item()) == 4 and x.argmax(dim=1).cpu().tolist() == [2, 1]
    assert bool((x != 0).all().item()) and pf.max(x).item() == 4.0
    m = pf.tensor([[1.0, 5.0], [7.0, 2.0]], device="cuda", requires_grad=True)
    pf.max(m).backward()
    np.testing.assert_array_equal(m.grad.cpu().numpy(), [[0, 0], [1, 0]])


def test_float64_gradcheck_on_cuda():
    x = pf.randn(4, 3, dtype=pf.float64, device="cuda", requires_grad=True)
    w = pf.randn(2, 3, dtype=pf.float64, device="cuda", requires_grad=True)
    t = pf.tensor([0, 1, 1, 0], device="cuda")

    def f(x, w):
        return F.cross_entropy(F.linear(x, w).tanh(), t)

    assert pf.autograd.gradcheck(f, [x, w])


def test_dropout_mask_is_the_same_on_both_devices():
    x = np.arange(1, 1001, dtype=np.float32)
    pf.manual_seed(3)
    cpu = F.dropout(pf.tensor(x), 0.3).numpy()
    pf.manual_seed(3)
    gpu = F.dropout(pf.tensor(x, device="cuda"), 0.3).cpu().numpy()
    np.testing.assert_array_equal(gpu, cpu)
    t = pf.tensor(x, device="cuda")
    pf.manual_seed(3)
    assert F.dropout(t, 0.3, inplace=True) is t  # in place when nothing is recorded
    np.testing.assert_array_equal(t.cpu().numpy(), cpu)


def _mlp(seed, dropout=0.0):
    pf.manual_seed(seed)
    layers = [nn.Linear(20, 64), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 5)]
    return nn.Sequential(*layers)


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 20)).astype(np.float32)
    y = (np.abs(x[:, :5]).argmax(1)).astype(np.int64)
    return x, y


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "adamw"])
def test_mlp_loss_curve_same_on_cpu_and_gpu(optimizer):
    """The same model from the same seed, trained on each device: the same loss curve within
    float32 tolerance (dropout draws the same masks on both)."""
    x, y = _data()

    def curve(device):
        model = _mlp(1, dropout=0.2).to(device)
        opt = {"adam": lambda p: pf.optim.Adam(p, lr=1e-2), "adamw": lambda p: pf.optim.AdamW(p, lr=1e-2),
               "sgd": lambda p: pf.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)}[optimizer](model.parameters())
        pf.manual_seed(5)
        xs, ys = pf.tensor(x, device=device), pf.tensor(y, device=device)
        losses = []
        for step in range(30):
            idx = slice((step * 32) % 256, (step * 32) % 256 + 32)
            opt.zero_grad()
            loss = F.cross_entropy(model(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))
        return np.array(losses)

    cpu, gpu = curve("cpu"), curve("cuda")
    assert cpu[-1] < cpu[0]
    np.testing.assert_allclose(gpu, cpu, rtol=2e-3, atol=2e-4)


def test_fit_evaluate_predict_on_cuda():
    x, y = _data(200)
    model = _mlp(2)
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=3, batch_size=32, validation_split=0.2, verbose=0, device="cuda")
    assert all(p.device == "cuda" for p in model.parameters())
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert set(hist.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    logs = model.evaluate(x, y, verbose=0)
    assert np.isfinite(logs["loss"])
    probs = model.predict(x[:10])
    assert isinstance(probs, np.ndarray) and probs.shape == (10, 5)
    model.fit(x, y, epochs=1, verbose=0, device="cpu")  # back to the CPU, optimizer state too
    assert all(p.device == "cpu" for p in model.parameters())
    assert all(isinstance(v, np.ndarray) for s in model.optimizer.state.values() for v in s.values()
               if hasattr(v, "shape"))


def test_module_to_and_state_dict_round_trip():
    model = _mlp(4).cuda()
    opt = pf.optim.Adam(model.parameters())
    loss = model(pf.randn(3, 20, device="cuda")).sum()
    loss.backward()
    opt.step()
    cpu_model = _mlp(9)
    cpu_model.load_state_dict(model.state_dict())  # GPU tensors into a CPU model
    for a, b in zip(cpu_model.parameters(), model.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.cpu().numpy())
    model.load_state_dict(_mlp(9).state_dict())  # and back
    opt2 = pf.optim.Adam(model.parameters())
    opt2.load_state_dict(opt.state_dict())
    assert all(isinstance(v, cp.ndarray) for s in opt2.state.values() for v in s.values() if hasattr(v, "shape"))


def test_mixing_devices_is_a_clear_error():
    a, b = pf.ones(3), pf.ones(3, device="cuda")
    with pytest.raises(ValueError, match="expected all tensors on the same device"):
        a + b
    with pytest.raises(ValueError, match="same device"):
        b * a
    with pytest.raises(ValueError, match="same device"):
        pf.ones(2, 3) @ pf.ones(3, 2, device="cuda")
    lin = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="Linear: expected all tensors on the same device.*'input' on cuda"):
        lin(pf.ones(4, 3, device="cuda"))
    with pytest.raises(ValueError, match="same device|must be on the GPU"):
        F.cross_entropy(pf.ones(4, 3, device="cuda"), pf.tensor([0, 1, 2, 0]))


def test_no_memory_growth_over_training_steps():
    steps = 50 if _emulated() else 1000  # the emulator counts every live array: a leak shows at once
    model = _mlp(6, dropout=0.1).cuda()
    opt = pf.optim.Adam(model.parameters(), lr=1e-3)
    x, y = _data(64)
    xs, ys = pf.tensor(x, device="cuda"), pf.tensor(y, device="cuda")
    pool = cp.get_default_memory_pool()

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(xs), ys)
        loss.backward()
        opt.step()
        return loss

    for _ in range(5):  # optimizer state and caches exist from here on
        step()
    pf.cuda.synchronize()
    before = pool.used_bytes()
    for _ in range(steps):
        loss = step()
    del loss
    pf.cuda.synchronize()
    assert pool.used_bytes() <= before, f"{pool.used_bytes() - before} bytes more after {steps} steps"

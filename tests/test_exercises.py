"""The classic course exercises as exact tests (values worked out by hand, not by pyfastnn)."""

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.nn import functional as F


def test_one_gradient_descent_step_on_a_line():
    # y_hat = w x + b, L = 1/2 (y - y_hat)^2, x=3, y=6, w=0.5, b=0, lr=0.1:
    # dL/dw = -(y - y_hat) x = -13.5, dL/db = -4.5 -> w = 1.85, b = 0.45, then y_hat = 6
    w = pf.tensor(0.5, requires_grad=True)
    b = pf.tensor(0.0, requires_grad=True)
    x, y = 3.0, 6.0
    loss = 0.5 * (y - (w * x + b)) ** 2
    loss.backward()
    opt = pf.optim.SGD([w, b], lr=0.1)
    opt.step()
    assert w.item() == pytest.approx(1.85, abs=1e-6)
    assert b.item() == pytest.approx(0.45, abs=1e-6)
    assert (0.5 * (y - (w * x + b)) ** 2).item() == pytest.approx(0.0, abs=1e-10)


def test_sigmoid_neuron_gradient():
    # x=0.6, y=1, w=0.5, b=0.2: z=0.5, a=sigmoid(0.5)=0.6224593, J=1/2 (y-a)^2
    # dJ/dw = -(y - a) a (1 - a) x = -0.0532341
    w = pf.tensor(0.5, dtype=pf.float64, requires_grad=True)
    b = pf.tensor(0.2, dtype=pf.float64, requires_grad=True)
    a = pf.sigmoid(w * 0.6 + b)
    (0.5 * (1.0 - a) ** 2).backward()
    assert w.grad.item() == pytest.approx(-0.0532341, abs=1e-7)


def _step(z):
    return (z.data >= 0).astype(np.float32)


@pytest.mark.parametrize("gate,weights,bias,table", [
    ("AND", [1.0, 1.0], -1.5, [0, 0, 0, 1]),
    ("OR", [1.0, 1.0], -0.5, [0, 1, 1, 1]),
])
def test_mcculloch_pitts_gates(gate, weights, bias, table):
    x = pf.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=pf.float32)
    unit = nn.Linear(2, 1)
    with pf.no_grad():
        unit.weight.copy_(pf.tensor([weights]))
        unit.bias.fill_(bias)
    np.testing.assert_array_equal(_step(unit(x)).ravel(), table, err_msg=gate)


def test_mcculloch_pitts_not():
    unit = nn.Linear(1, 1)
    with pf.no_grad():
        unit.weight.fill_(-1.0)
        unit.bias.fill_(0.5)
    np.testing.assert_array_equal(_step(unit(pf.tensor([[0.0], [1.0]]))).ravel(), [1, 0])


def test_xor_with_hand_set_weights():
    # hidden: h1 = OR, h2 = AND (step units); output: h1 AND NOT h2
    x = pf.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=pf.float32)
    hidden, out = nn.Linear(2, 2), nn.Linear(2, 1)
    with pf.no_grad():
        hidden.weight.copy_(pf.tensor([[1.0, 1.0], [1.0, 1.0]]))
        hidden.bias.copy_(pf.tensor([-0.5, -1.5]))
        out.weight.copy_(pf.tensor([[1.0, -2.0]]))
        out.bias.fill_(-0.5)
    h = pf.tensor(_step(hidden(x)))
    np.testing.assert_array_equal(_step(out(h)).ravel(), [0, 1, 1, 0])


def test_xor_is_learned_by_a_small_mlp():
    pf.manual_seed(3)
    x = pf.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=pf.float32)
    y = pf.tensor([[0], [1], [1], [0]], dtype=pf.float32)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = pf.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(500):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        opt.step()
    pred = (pf.sigmoid(model(x)).numpy() > 0.5).astype(int).ravel()
    np.testing.assert_array_equal(pred, [0, 1, 1, 0])


def _layer_grad_norms(depth, act, init):
    pf.manual_seed(0)
    layers = []
    for _ in range(depth):
        lin = nn.Linear(64, 64)
        init(lin.weight)
        nn.init.zeros_(lin.bias)
        layers += [lin, act()]
    model = nn.Sequential(*layers, nn.Linear(64, 1))
    x = pf.randn(128, 64)
    model(x).pow(2).mean().backward()
    return [float(np.linalg.norm(m.weight.grad.data)) for m in model if isinstance(m, nn.Linear)][:-1]


def test_vanishing_gradients_in_deep_sigmoid_net_and_not_with_relu_he():
    sig = _layer_grad_norms(10, nn.Sigmoid, nn.init.xavier_normal_)
    assert sig[0] < sig[-1] * 1e-3, f"sigmoid: first layer {sig[0]:.2e} vs last {sig[-1]:.2e}"
    assert all(a < b for a, b in zip(sig, sig[1:])), "sigmoid gradient norms should grow towards the output"
    relu = _layer_grad_norms(10, nn.ReLU, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"))
    assert relu[0] > relu[-1] * 0.05, f"relu+He: first layer {relu[0]:.2e} vs last {relu[-1]:.2e}"


def test_identical_initial_weights_keep_hidden_units_identical():
    pf.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    for m in (model[0], model[2]):
        nn.init.constant_(m.weight, 0.3)
        nn.init.constant_(m.bias, 0.1)
    x, y = pf.randn(16, 3), pf.randn(16, 1)
    opt = pf.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(20):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
    w = model[0].weight.numpy()
    np.testing.assert_allclose(w, np.broadcast_to(w[:1], w.shape), rtol=1e-6)  # symmetry never breaks
    assert not np.allclose(w, 0.3), "the weights did train"


def test_whole_model_on_the_reference_backend_matches_cpu():
    pf.manual_seed(2)
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.GELU(), nn.Dropout(0.2),
                          nn.Linear(16, 5))
    x, y = pf.randn(8, 20), pf.randint(0, 5, (8,))

    def run():
        model.zero_grad()
        pf.manual_seed(7)  # same dropout mask on both backends
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        return loss.item(), [p.grad.numpy().copy() for p in model.parameters()]

    loss_cpu, grads_cpu = run()
    pf.use_backend("reference")
    try:
        loss_ref, grads_ref = run()
    finally:
        pf.use_backend("cpu")
    assert loss_cpu == pytest.approx(loss_ref, rel=1e-5)
    for gc, gr in zip(grads_cpu, grads_ref):
        np.testing.assert_allclose(gc, gr, rtol=1e-4, atol=1e-6)

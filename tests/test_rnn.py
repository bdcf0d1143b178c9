"""Recurrent layers: the fused cells and the whole-sequence layer kernels against the NumPy
reference, gradcheck through short sequences, PyTorch parity for every module configuration
(outputs, final states and every gradient), variable lengths / packed sequences, dropout
between layers, gradient clipping through an RNN and the bad-input errors."""

import itertools
import math

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import _C, nn
from pyfastnn.autograd.gradcheck import gradcheck
from pyfastnn.backends import cpu, reference
from pyfastnn.nn.utils import clip_grad_norm_
from pyfastnn.nn.utils.rnn import (PackedSequence, pack_padded_sequence, pack_sequence, pad_packed_sequence,
                                   pad_sequence)

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
MODULES = {"RNN_TANH": ("RNN", {}), "RNN_RELU": ("RNN", {"nonlinearity": "relu"}), "LSTM": ("LSTM", {}),
           "GRU": ("GRU", {})}


def _torch():
    return pytest.importorskip("torch")


def tol(dtype):
    # float32: the cells' own sigmoid/tanh (a few ulp) accumulated over a few steps
    return dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)


# ---------------------------------------------------------------- fused cells vs reference


CELL_SHAPES = [(1, 1), (3, 5), (2, 8), (4, 17), (7, 33), (32, 64)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_cell_kernels_match_reference(isa, dtype):
    rng = np.random.default_rng(0)
    for B, H in CELL_SHAPES:
        gx = (rng.standard_normal((B, 4 * H)) * 3).astype(dtype)  # some gates saturate
        gh = rng.standard_normal((B, 4 * H)).astype(dtype)
        c = rng.standard_normal((B, H)).astype(dtype)
        got = _C.lstm_cell_forward(gx, gh, c)
        want = reference.lstm_cell_forward(gx, gh, c)
        for g, w in zip(got, want):
            assert g.dtype == dtype
            np.testing.assert_allclose(g, w, **tol(dtype))
        act = want[2]
        dh, dcn = rng.standard_normal((B, H)).astype(dtype), rng.standard_normal((B, H)).astype(dtype)
        for dcn_ in (dcn, None):
            got = _C.lstm_cell_backward(act, c, dh, dcn_)
            want = reference.lstm_cell_backward(act, c, dh, dcn_)
            for g, w in zip(got, want):
                np.testing.assert_allclose(g, w, **tol(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gru_cell_kernels_match_reference(isa, dtype):
    rng = np.random.default_rng(1)
    for B, H in CELL_SHAPES:
        gx = (rng.standard_normal((B, 3 * H)) * 3).astype(dtype)
        gh = rng.standard_normal((B, 3 * H)).astype(dtype)
        h = rng.standard_normal((B, H)).astype(dtype)
        got = _C.gru_cell_forward(gx, gh, h)
        want = reference.gru_cell_forward(gx, gh, h)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, **tol(dtype))
        dh = rng.standard_normal((B, H)).astype(dtype)
        got = _C.gru_cell_backward(want[1], h, dh)
        want = reference.gru_cell_backward(want[1], h, dh)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, **tol(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nl", ["tanh", "relu"])
def test_rnn_cell_kernels_match_reference(isa, dtype, nl):
    rng = np.random.default_rng(2)
    for B, H in CELL_SHAPES:
        gx = (rng.standard_normal((B, H)) * 3).astype(dtype)
        gh = rng.standard_normal((B, H)).astype(dtype)
        h = _C.rnn_cell_forward(gx, gh, nl)
        np.testing.assert_allclose(h, reference.rnn_cell_forward(gx, gh, nl), **tol(dtype))
        dh = rng.standard_normal((B, H)).astype(dtype)
        np.testing.assert_allclose(_C.rnn_cell_backward(h, dh, nl), reference.rnn_cell_backward(h, dh, nl),
                                   **tol(dtype))


def test_cell_formulas_against_hand_computation():
    # the reference itself, on one unit with known numbers (so it cannot share a mistake)
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    gx = np.array([[0.5, -1.0, 0.25, 2.0]])
    gh = np.array([[0.1, 0.2, -0.5, -0.5]])
    h, c_new, _ = reference.lstm_cell_forward(gx, gh, np.array([[0.3]]))
    i, f, g, o = sig(0.6), sig(-0.8), math.tanh(-0.25), sig(1.5)
    assert c_new[0, 0] == pytest.approx(f * 0.3 + i * g, rel=1e-12)
    assert h[0, 0] == pytest.approx(o * math.tanh(f * 0.3 + i * g), rel=1e-12)
    gx, gh, hp = np.array([[0.5, -1.0, 0.25]]), np.array([[0.1, 0.2, -0.5]]), np.array([[0.7]])
    hn, _ = reference.gru_cell_forward(gx, gh, hp)
    r, z = sig(0.6), sig(-0.8)
    n = math.tanh(0.25 + r * -0.5)
    assert hn[0, 0] == pytest.approx((1 - z) * n + z * 0.7, rel=1e-12)


def test_cell_kernels_saturate_and_propagate_nan():
    big = np.array([[90.0, -90.0, 30.0, -30.0, 1e30, -1e30, np.nan, 0.0]], np.float32)
    h = _C.rnn_cell_forward(big, np.zeros_like(big), "tanh")
    np.testing.assert_array_equal(h[0, :6], [1, -1, 1, -1, 1, -1])
    assert np.isnan(h[0, 6]) and h[0, 7] == 0
    gx = np.tile(big[:, :8], (1, 4))
    hh, cn, act = _C.lstm_cell_forward(gx, np.zeros_like(gx), np.zeros((1, 8), np.float32))
    assert np.isnan(hh[0, 6]) and np.isfinite(np.delete(hh[0], 6)).all()
    i = act[0, :8]
    assert i[0] == 1 and 0 <= i[1] < 1e-30 and np.isnan(i[6]) and i[7] == 0.5
    tiny = np.array([[1e-6, -3e-5, 1e-3]], np.float32)  # tanh keeps relative accuracy near 0
    np.testing.assert_allclose(_C.rnn_cell_forward(tiny, np.zeros_like(tiny), "tanh"), np.tanh(tiny), rtol=1e-6)


# ---------------------------------------------------------------- layer kernels vs reference


def layer_case(rng, mode, T, B, I, H, dirs=1, proj=0, bias=True, dtype=np.float32):
    G = GATES[mode]
    Hout = proj or H
    ws = []
    for _ in range(dirs):
        ws.append(((rng.standard_normal((G * H, I)) * 0.5).astype(dtype),
                   (rng.standard_normal((G * H, Hout)) * 0.5).astype(dtype),
                   rng.standard_normal(G * H).astype(dtype) if bias else None,
                   rng.standard_normal(G * H).astype(dtype) if bias else None,
                   (rng.standard_normal((proj, H)) * 0.5).astype(dtype) if proj else None))
    return ws


LAYER_CASES = [
    # mode, T, B, I, H, dirs, proj, bias, batch_first, states, lengths
    ("LSTM", 5, 3, 4, 6, 1, 0, True, False, False, False),
    ("LSTM", 6, 4, 3, 17, 2, 0, True, True, True, True),
    ("LSTM", 4, 2, 5, 9, 2, 4, True, False, True, True),
    ("LSTM", 3, 33, 16, 40, 1, 7, False, True, False, False),
    ("GRU", 5, 3, 4, 6, 1, 0, True, False, False, False),
    ("GRU", 7, 5, 2, 19, 2, 0, True, True, True, True),
    ("GRU", 2, 9, 8, 33, 1, 0, False, False, True, False),
    ("RNN_TANH", 6, 3, 4, 5, 2, 0, True, False, True, True),
    ("RNN_TANH", 1, 1, 1, 1, 1, 0, True, True, False, False),
    ("RNN_RELU", 6, 7, 3, 21, 2, 0, True, True, True, True),
    ("RNN_RELU", 4, 2, 6, 64, 1, 0, False, False, False, False),
    # batches that leave 1 or 2 rows after the step product's row tiles, hidden sizes with
    # several full column panels, K (4 * 70) spanning two blocks in backward
    ("LSTM", 4, 1, 8, 70, 2, 0, True, False, True, False),
    ("GRU", 3, 7, 5, 64, 1, 0, True, True, False, True),
    ("RNN_TANH", 3, 8, 5, 96, 2, 0, True, False, True, True),
    ("LSTM", 3, 14, 6, 72, 1, 20, True, True, True, True),
    ("GRU", 2, 380, 3, 20, 1, 0, True, False, False, True),  # more rows than one pass of row tiles
]


def run_layer(be, mode, x, ws, h0, c0, lengths, batch_first, dy, dhn, dcn):
    y, hn, cn, saved = be.rnn_layer_forward(mode, x, ws, h0, c0, lengths, batch_first, True)
    y2, hn2, cn2, none = be.rnn_layer_forward(mode, x, ws, h0, c0, lengths, batch_first, False)
    assert none is None
    np.testing.assert_array_equal(y, y2)  # inference runs the same arithmetic
    np.testing.assert_array_equal(hn, hn2)
    dx, dh0, dc0, grads = be.rnn_layer_backward(mode, x, ws, saved, lengths, batch_first, dy, dhn, dcn)
    out = [y, hn, dx, dh0]
    if mode == "LSTM":
        out += [cn, dc0]
    for d in grads:
        out += [g for g in d if g is not None]
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: "-".join(map(str, c[:7])))
def test_layer_kernels_match_reference(threads, dtype, case):
    mode, T, B, I, H, dirs, proj, bias, batch_first, states, with_lengths = case
    rng = np.random.default_rng(hash(case) % 2**32)
    ws = layer_case(rng, mode, T, B, I, H, dirs, proj, bias, dtype)
    Hout = proj or H
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(dtype)
    h0 = rng.standard_normal((dirs, B, Hout)).astype(dtype) if states else None
    c0 = rng.standard_normal((dirs, B, H)).astype(dtype) if states and mode == "LSTM" else None
    lengths = rng.integers(1, T + 1, size=B).astype(np.int64) if with_lengths else None
    if lengths is not None:
        lengths[0] = T
    dy = rng.standard_normal((B, T, dirs * Hout) if batch_first else (T, B, dirs * Hout)).astype(dtype)
    dhn = rng.standard_normal((dirs, B, Hout)).astype(dtype)
    dcn = rng.standard_normal((dirs, B, H)).astype(dtype) if mode == "LSTM" else None
    args = (mode, x, ws, h0, c0, lengths, batch_first, dy, dhn, dcn)
    got, want = run_layer(cpu, *args), run_layer(reference, *args)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == dtype and g.shape == w.shape, k
        # float32: sums over every step and sequence round to a few 1e-6 of their largest terms
        scale = max(1.0, float(np.abs(w).max()))
        t = dict(rtol=1e-10, atol=1e-10 * scale) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5 * scale)
        np.testing.assert_allclose(g, w, err_msg=f"output {k}", **t)


def test_layer_kernels_each_isa(isa):
    rng = np.random.default_rng(3)
    for mode in GATES:
        ws = layer_case(rng, mode, 5, 7, 9, 37, 2, 5 if mode == "LSTM" else 0)
        x = rng.standard_normal((5, 7, 9)).astype(np.float32)
        lengths = np.array([5, 1, 3, 4, 5, 2, 2])
        dy = rng.standard_normal((5, 7, 2 * (5 if mode == "LSTM" else 37))).astype(np.float32)
        args = (mode, x, ws, None, None, lengths, False, dy, None, None)
        for g, w in zip(run_layer(cpu, *args), run_layer(reference, *args)):
            np.testing.assert_allclose(g, w, rtol=2e-4, atol=2e-5 * max(1.0, float(np.abs(w).max())))


def test_layer_results_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(4)
    ws = layer_case(rng, "LSTM", 6, 32, 20, 64, 2)
    x = rng.standard_normal((6, 32, 20)).astype(np.float32)
    dy = rng.standard_normal((6, 32, 128)).astype(np.float32)
    before = pf.get_num_threads()
    try:
        outs = []
        for n in (1, 2):
            pf.set_num_threads(n)
            outs.append(run_layer(cpu, "LSTM", x, ws, None, None, None, False, dy, None, None))
    finally:
        pf.set_num_threads(before)
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_layer_with_an_empty_batch():
    ws = layer_case(np.random.default_rng(5), "GRU", 3, 0, 4, 5)
    x = np.zeros((3, 0, 4), np.float32)
    y, hn, cn, saved = _C.rnn_layer_forward("GRU", x, ws)
    assert y.shape == (3, 0, 5) and hn.shape == (1, 0, 5) and cn is None
    dx, dh0, _, grads = _C.rnn_layer_backward("GRU", x, ws, saved, dy=np.zeros((3, 0, 5), np.float32))
    assert dx.shape == (3, 0, 4) and not grads[0][0].any() and not grads[0][2].any()


# ---------------------------------------------------------------- gradcheck


def _sum_outputs(out):
    y, h = out
    hs = h if isinstance(h, tuple) else (h,)
    total = (y * y).sum()
    for k, s in enumerate(hs):
        total = total + (s * (k + 1.5)).sum()
    return total


@pytest.mark.parametrize("mode", list(GATES))
def test_gradcheck_layers_short_sequences(mode):
    # 2 layers, both directions, initial states, one shorter sequence: every parameter (and,
    # for LSTM with a projection, the inputs and the projection weights)
    pf.manual_seed(0)
    name, kw = MODULES[mode]
    lengths = np.array([3, 2])
    for proj in [0] + ([2] if mode == "LSTM" else []):
        extra = {"proj_size": proj} if proj else {}
        m = getattr(nn, name)(2, 3, num_layers=2, bidirectional=True, dtype=np.float64, **kw, **extra)
        x = pf.randn(3, 2, 2, dtype=pf.float64, requires_grad=True)
        h0 = pf.randn(4, 2, proj or 3, dtype=pf.float64, requires_grad=True)
        c0 = pf.randn(4, 2, 3, dtype=pf.float64, requires_grad=True)
        params = list(m.parameters()) if not proj else [m.weight_hr_l0, m.weight_hr_l1_reverse]
        if mode == "LSTM":
            fn = lambda x, h0, c0, *w: _sum_outputs(m(x, (h0, c0), lengths=lengths))  # noqa: E731
            inputs = [x, h0, c0]
        else:
            fn = lambda x, h0, *w: _sum_outputs(m(x, h0, lengths=lengths))  # noqa: E731
            inputs = [x, h0]
        assert gradcheck(fn, inputs + params)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_gradcheck_cells(cls):
    pf.manual_seed(1)
    cell = getattr(nn, cls)(3, 4, dtype=np.float64)
    x = pf.randn(2, 3, dtype=pf.float64, requires_grad=True)
    h = pf.randn(2, 4, dtype=pf.float64, requires_grad=True)
    if cls == "LSTMCell":
        c = pf.randn(2, 4, dtype=pf.float64, requires_grad=True)
        fn = lambda x, h, c, *w: (lambda o: (o[0] * o[1]).sum() + o[1].sum())(cell(x, (h, c)))  # noqa: E731
        assert gradcheck(fn, [x, h, c] + list(cell.parameters()))
    else:
        fn = lambda x, h, *w: (cell(x, h) ** 2).sum()  # noqa: E731
        assert gradcheck(fn, [x, h] + list(cell.parameters()))


# ---------------------------------------------------------------- PyTorch parity


def torch_pair(mode, dtype=np.float64, **kw):
    torch = _torch()
    name, extra = MODULES[mode]
    tm = getattr(torch.nn, name)(**extra, **kw)
    tm = tm.double() if dtype == np.float64 else tm.float()
    m = getattr(nn, name)(**extra, **kw, dtype=dtype)
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return tm, m


def grads_of(tm, m):
    for name, p in tm.named_parameters():
        yield name, p.grad.numpy(), getattr(m, name).grad.numpy()


CONFIGS = list(itertools.product(list(GATES), [1, 2], [False, True], [False, True], [False, True]))


@pytest.mark.parametrize("mode,layers,bidirectional,batch_first,states", CONFIGS,
                         ids=lambda v: str(v))
def test_modules_match_pytorch(mode, layers, bidirectional, batch_first, states):
    torch = _torch()
    T, B, I, H = 5, 3, 4, 6
    tm, m = torch_pair(mode, input_size=I, hidden_size=H, num_layers=layers, bidirectional=bidirectional,
                       batch_first=batch_first)
    run_parity(torch, tm, m, mode, T, B, I, H, layers * (2 if bidirectional else 1), batch_first, states)


@pytest.mark.parametrize("layers,bidirectional,states", [(1, False, False), (2, True, True), (2, False, True)])
def test_lstm_proj_size_matches_pytorch(layers, bidirectional, states):
    torch = _torch()
    tm, m = torch_pair("LSTM", input_size=4, hidden_size=7, num_layers=layers, bidirectional=bidirectional,
                       proj_size=3)
    assert m.weight_hr_l0.shape == (3, 7) and m.weight_hh_l0.shape == (28, 3)
    run_parity(torch, tm, m, "LSTM", 5, 3, 4, 7, layers * (2 if bidirectional else 1), False, states, Hout=3)


@pytest.mark.parametrize("mode", list(GATES))
def test_float32_modules_match_pytorch(mode):
    # our float32 kernels (own sigmoid/tanh) against PyTorch's float32, a longer sequence
    torch = _torch()
    tm, m = torch_pair(mode, np.float32, input_size=8, hidden_size=24, num_layers=2, bidirectional=True)
    run_parity(torch, tm, m, mode, 30, 5, 8, 24, 4, False, True, rtol=2e-4, atol=2e-5)


def run_parity(torch, tm, m, mode, T, B, I, H, LD, batch_first, states, Hout=None, rtol=1e-9, atol=1e-10):
    Hout = Hout or H
    dtype = m.weight_ih_l0.dtype
    rng = np.random.default_rng(7)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(dtype)
    h0 = rng.standard_normal((LD, B, Hout)).astype(dtype)
    c0 = rng.standard_normal((LD, B, H)).astype(dtype)
    xt, xp = torch.tensor(x, requires_grad=True), pf.tensor(x, requires_grad=True)
    h0t, h0p = torch.tensor(h0, requires_grad=True), pf.tensor(h0, requires_grad=True)
    c0t, c0p = torch.tensor(c0, requires_grad=True), pf.tensor(c0, requires_grad=True)
    lstm = mode == "LSTM"
    if states:
        hxt, hxp = ((h0t, c0t), (h0p, c0p)) if lstm else (h0t, h0p)
    else:
        hxt = hxp = None
    yt, st = tm(xt, hxt)
    yp, sp = m(xp, hxp)
    sts, sps = (st, sp) if lstm else ((st,), (sp,))
    kw = dict(rtol=rtol, atol=atol)
    np.testing.assert_allclose(yp.numpy(), yt.detach().numpy(), **kw)
    for a, b in zip(sps, sts):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **kw)
    gy = rng.standard_normal(yt.shape).astype(dtype)
    gs = [rng.standard_normal(s.shape).astype(dtype) for s in sts]
    torch.autograd.backward([yt] + list(sts), [torch.tensor(gy)] + [torch.tensor(g) for g in gs])
    _backward_sum(yp, sps, gy, gs)
    np.testing.assert_allclose(xp.grad.numpy(), xt.grad.numpy(), **kw)
    if states:
        np.testing.assert_allclose(h0p.grad.numpy(), h0t.grad.numpy(), **kw)
        if lstm:
            np.testing.assert_allclose(c0p.grad.numpy(), c0t.grad.numpy(), **kw)
    names = [n for n, _ in tm.named_parameters()]
    assert names == [n for n, _ in m.named_parameters()]
    for name, want, got in grads_of(tm, m):
        np.testing.assert_allclose(got, want, err_msg=name, **kw)


def _backward_sum(yp, sps, gy, gs):
    total = (yp * pf.tensor(gy)).sum()
    for s, g in zip(sps, gs):
        total = total + (s * pf.tensor(g)).sum()
    total.backward()


def test_bias_false_and_unbatched_input_match_pytorch():
    torch = _torch()
    for mode in GATES:
        tm, m = torch_pair(mode, input_size=3, hidden_size=5, num_layers=2, bias=False, bidirectional=True)
        assert not any("bias" in n for n, _ in m.named_parameters())
        x = np.random.default_rng(8).standard_normal((6, 3))  # (T, I): one unbatched sequence
        yt, st = tm(torch.tensor(x))
        yp, sp = m(pf.tensor(x))
        assert yp.shape == (6, 10)
        np.testing.assert_allclose(yp.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        (st, sp) = (st[1], sp[1]) if mode == "LSTM" else (st, sp)
        assert sp.shape == (4, 5)
        np.testing.assert_allclose(sp.numpy(), st.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls,kw", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
                                    ("GRUCell", {}), ("GRUCell", {"bias": False})])
def test_cells_match_pytorch(cls, kw):
    torch = _torch()
    tm = getattr(torch.nn, cls)(4, 5, **kw).double()
    m = getattr(nn, cls)(4, 5, **kw, dtype=np.float64)
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(9)
    x, h, c = rng.standard_normal((3, 4)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    xp, hp, cp = (pf.tensor(a, requires_grad=True) for a in (x, h, c))
    lstm = cls == "LSTMCell"
    ot = tm(xt, (ht, ct)) if lstm else tm(xt, ht)
    op = m(xp, (hp, cp)) if lstm else m(xp, hp)
    ot, op = (ot, op) if lstm else ((ot,), (op,))
    loss_t = sum((o * (k + 1.0)).sum() + (o * o).sum() for k, o in enumerate(ot))
    loss_p = sum(((o * (k + 1.0)).sum() + (o * o).sum() for k, o in enumerate(op)), pf.tensor(0.0, dtype=pf.float64))
    loss_t.backward()
    loss_p.backward()
    for a, b in zip(op, ot):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)
    pairs = [(xp, xt), (hp, ht)] + ([(cp, ct)] if lstm else [])
    for a, b in pairs:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(getattr(m, name).grad.numpy(), p.grad.numpy(), rtol=1e-12, atol=1e-12)
    # hx omitted means zeros; an unbatched (I,) input gives (H,)
    z = m(xp[0])
    zt = tm(xt[0])
    z, zt = (z[0], zt[0]) if lstm else (z, zt)
    assert z.shape == (5,)
    np.testing.assert_allclose(z.numpy(), zt.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_parameter_names_shapes_and_init_match_pytorch():
    torch = _torch()
    for mode in GATES:
        for kw in [dict(num_layers=2, bidirectional=True), dict(num_layers=3, bias=False)] + (
                [dict(num_layers=2, proj_size=2, bidirectional=True)] if mode == "LSTM" else []):
            tm, m = torch_pair(mode, np.float32, input_size=3, hidden_size=5, **kw)
            want = {k: tuple(v.shape) for k, v in tm.state_dict().items()}
            got = {k: tuple(v.shape) for k, v in m.state_dict().items()}
            assert list(got) == list(want) and got == want
    m = nn.LSTM(10, 400)
    bound = 1 / math.sqrt(400)
    for p in m.parameters():
        v = p.numpy()
        assert v.dtype == np.float32 and np.abs(v).max() <= bound
        assert np.abs(v).max() > 0.95 * bound and abs(v.mean()) < 0.05 * bound  # U(-b, b), not N or zeros
    c = nn.GRUCell(3, 100)
    assert np.abs(c.weight_hh.numpy()).max() <= 0.1 and np.abs(c.weight_hh.numpy()).max() > 0.095
    assert repr(nn.LSTM(3, 5, num_layers=2, batch_first=True)) == "LSTM(3, 5, num_layers=2, batch_first=True)"


# ---------------------------------------------------------------- variable lengths


@pytest.mark.parametrize("mode", list(GATES))
def test_lengths_mask_padded_steps(mode):
    pf.manual_seed(3)
    name, kw = MODULES[mode]
    m = getattr(nn, name)(3, 5, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64, **kw)
    rng = np.random.default_rng(10)
    x = rng.standard_normal((4, 6, 3))
    lengths = np.array([6, 2, 4, 1])
    xp = pf.tensor(x, requires_grad=True)
    y, h = m(xp, lengths=lengths)
    hs = h if isinstance(h, tuple) else (h,)
    for b, n in enumerate(lengths):
        assert not y.numpy()[b, n:].any()  # padded steps output 0
        # each sequence alone, truncated to its length: the same outputs and final states
        yb, hb = m(pf.tensor(x[b:b + 1, :n]))
        np.testing.assert_allclose(y.numpy()[b:b + 1, :n], yb.numpy(), rtol=1e-12, atol=1e-13)
        for s, sb in zip(hs, hb if isinstance(hb, tuple) else (hb,)):
            np.testing.assert_allclose(s.numpy()[:, b], sb.numpy()[:, 0], rtol=1e-12, atol=1e-13)
    _sum_outputs((y, h)).backward()
    g = xp.grad.numpy()
    for b, n in enumerate(lengths):
        assert not g[b, n:].any() and g[b, :n].all()  # no gradient leaks into padding
    # whatever the padding holds, nothing changes
    x2 = x.copy()
    x2[1, 2:] = 1e3
    y2, _ = m(pf.tensor(x2), lengths=lengths)
    np.testing.assert_array_equal(y2.numpy(), y.numpy())


@pytest.mark.parametrize("mode", list(GATES))
def test_lengths_and_packed_sequences_match_pytorch_packing(mode):
    torch = _torch()
    from torch.nn.utils import rnn as trnn

    tm, m = torch_pair(mode, input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((5, 4, 3))
    lengths = np.array([2, 5, 1, 4])
    xt = torch.tensor(x, requires_grad=True)
    out_t, st = tm(trnn.pack_padded_sequence(xt, torch.tensor(lengths), enforce_sorted=False))
    yt, lens_t = trnn.pad_packed_sequence(out_t, total_length=5)
    sts = st if isinstance(st, tuple) else (st,)
    gy = rng.standard_normal(yt.shape)
    torch.autograd.backward([yt] + list(sts), [torch.tensor(gy)] + [torch.ones_like(s) for s in sts])
    for packed in (False, True):
        for p in m.parameters():
            p.grad = None
        xp = pf.tensor(x, requires_grad=True)
        if packed:
            out_p, sp = m(pack_padded_sequence(xp, lengths, enforce_sorted=False))
            assert isinstance(out_p, PackedSequence)
            yp, lens_p = pad_packed_sequence(out_p, total_length=5)
            np.testing.assert_array_equal(lens_p.numpy(), lengths)
            np.testing.assert_allclose(out_p.data.numpy(), out_t.data.detach().numpy(), rtol=1e-10, atol=1e-12)
        else:
            yp, sp = m(xp, lengths=lengths)
        sps = sp if isinstance(sp, tuple) else (sp,)
        np.testing.assert_allclose(yp.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        for a, b in zip(sps, sts):
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
        _backward_sum(yp, sps, gy, [np.ones(s.shape) for s in sts])
        np.testing.assert_allclose(xp.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        for name, want, got in grads_of(tm, m):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=name)


def test_packed_sequence_with_initial_state_and_helpers_match_pytorch():
    torch = _torch()
    from torch.nn.utils import rnn as trnn

    tm, m = torch_pair("GRU", input_size=2, hidden_size=3)
    rng = np.random.default_rng(12)
    seqs = [rng.standard_normal((n, 2)) for n in (3, 5, 2)]
    h0 = rng.standard_normal((1, 3, 3))
    out_t, ht = tm(trnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False), torch.tensor(h0))
    out_p, hp = m(pack_sequence([pf.tensor(s) for s in seqs], enforce_sorted=False), pf.tensor(h0))
    np.testing.assert_array_equal(out_p.batch_sizes.numpy(), out_t.batch_sizes.numpy())
    np.testing.assert_array_equal(out_p.sorted_indices.numpy(), out_t.sorted_indices.numpy())
    np.testing.assert_allclose(out_p.data.numpy(), out_t.data.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hp.numpy(), ht.detach().numpy(), rtol=1e-10, atol=1e-12)
    padded = pad_sequence([pf.tensor(s) for s in seqs], batch_first=True)
    want = trnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=True)
    np.testing.assert_array_equal(padded.numpy(), want.numpy())
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        pack_padded_sequence(padded, [3, 5, 2], batch_first=True)


# ---------------------------------------------------------------- dropout, clipping, structure


def test_dropout_between_layers():
    pf.manual_seed(4)
    m = nn.LSTM(3, 4, num_layers=2, dropout=1.0, dtype=np.float64)
    x = pf.randn(5, 2, 3, dtype=pf.float64)
    y_train, _ = m(x)
    # p = 1 drops every output of layer 0: layer 1 sees zeros, whatever x was
    y_other, _ = m(pf.randn(5, 2, 3, dtype=pf.float64))
    np.testing.assert_array_equal(y_train.numpy(), y_other.numpy())
    ref = nn.LSTM(4, 4, dtype=np.float64)
    for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(ref, k + "_l0").data[...] = getattr(m, k + "_l1").numpy()
    np.testing.assert_allclose(y_train.numpy(), ref(pf.zeros(5, 2, 4, dtype=pf.float64))[0].numpy(), rtol=1e-12)
    m.eval()  # no dropout in evaluation
    m2 = nn.LSTM(3, 4, num_layers=2, dtype=np.float64)
    m2.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(m(x)[0].numpy(), m2(x)[0].numpy())
    m.train()
    m.dropout = 0.5
    y1 = m(x)[0].numpy()
    assert not np.allclose(y1, m2(x)[0].numpy())
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.3)


def test_gradient_clipping_through_an_rnn_course_case():
    # gradients scaled to a global norm of exactly 45, clipped at 10: every one scales by 10/45
    pf.manual_seed(5)
    m = nn.RNN(4, 8, num_layers=2)
    x = pf.randn(30, 2, 4)
    y, h = m(x)
    (y.sum() + h.sum()).backward()
    params = list(m.parameters())
    norm = math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in params))
    for p in params:
        p.grad.data *= np.float32(45.0 / norm)
    before = [p.grad.numpy().copy() for p in params]
    total = clip_grad_norm_(m.parameters(), max_norm=10)
    assert total.item() == pytest.approx(45.0, rel=1e-5)
    for p, g in zip(params, before):
        np.testing.assert_allclose(p.grad.numpy(), g * (10 / 45), rtol=1e-5)
    after = math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in params))
    assert after == pytest.approx(10.0, rel=1e-5)


def test_a_layer_is_one_graph_node_whatever_the_sequence_length():
    m = nn.LSTM(3, 4)
    x = pf.randn(200, 2, 3, requires_grad=True)
    y, (h, c) = m(x)
    assert y.grad_fn is h.grad_fn is c.grad_fn
    assert y.grad_fn.name() == "LSTMBackward"
    with pf.no_grad():
        y2, _ = m(x)
    assert y2.grad_fn is None and not y2.requires_grad
    np.testing.assert_array_equal(y2.numpy(), y.numpy())


def test_trains_on_a_copy_task():
    # remembering the first input of a sequence: an LSTM learns it in a few dozen steps
    pf.manual_seed(6)
    rng = np.random.default_rng(13)
    m = nn.LSTM(1, 16, batch_first=True)
    head = nn.Linear(16, 1)
    opt = pf.optim.Adam(list(m.parameters()) + list(head.parameters()), lr=0.02)
    x = rng.standard_normal((64, 8, 1)).astype(np.float32)
    target = x[:, 0]
    losses = []
    for _ in range(60):
        opt.zero_grad()
        y, (h, _) = m(pf.tensor(x))
        loss = nn.functional.mse_loss(head(h[0]), pf.tensor(target))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


def test_modules_convert_with_double_and_state_dict_round_trip(tmp_path):
    m = nn.GRU(3, 4, num_layers=2)
    m.double()
    assert m.weight_ih_l1.dtype == np.float64
    y, _ = m(pf.randn(2, 1, 3, dtype=pf.float64))
    assert y.dtype == np.float64
    path = str(tmp_path / "gru.npz")
    pf.save(m.state_dict(), path)
    m2 = nn.GRU(3, 4, num_layers=2, dtype=np.float64)
    m2.load_state_dict(pf.load(path))
    x = pf.randn(4, 2, 3, dtype=pf.float64)
    np.testing.assert_array_equal(m(x)[0].numpy(), m2(x)[0].numpy())


# ---------------------------------------------------------------- bad input


BAD_MODULE_INPUT = [
    (lambda m: m(pf.randn(2, 2, 2, 3)), ValueError, r"LSTM: expected input to be 2-D .* got 4-D"),
    (lambda m: m(pf.randn(3)), ValueError, r"LSTM: expected input to be 2-D .* got 1-D"),
    (lambda m: m(pf.randn(4, 2, 7)), ValueError, r"LSTM: input.size\(-1\) must be equal to input_size. Expected 3, got 7"),
    (lambda m: m(pf.randn(4, 2, 3), (pf.zeros(1, 2, 5), pf.zeros(2, 2, 5))), ValueError,
     r"LSTM: expected h_0 of shape \(2, 2, 5\).*got \(1, 2, 5\)"),
    (lambda m: m(pf.randn(4, 2, 3), (pf.zeros(2, 2, 5), pf.zeros(2, 3, 5))), ValueError,
     r"LSTM: expected c_0 of shape \(2, 2, 5\).*got \(2, 3, 5\)"),
    (lambda m: m(pf.randn(4, 2, 3), pf.zeros(2, 2, 5)), TypeError, r"LSTM: expected hx to be a tuple \(h_0, c_0\)"),
    (lambda m: m(pf.tensor(np.zeros((4, 2, 3), np.int64))), TypeError, "LSTM: expected a floating point input"),
    (lambda m: m(pf.randn(4, 2, 3, dtype=pf.float64)), TypeError, "LSTM: input and weights must have the same dtype"),
    (lambda m: m(pf.randn(4, 2, 3), lengths=[5, 1]), ValueError, r"LSTM: every length must be in \[1, 4\]"),
    (lambda m: m(pf.randn(4, 2, 3), lengths=[4]), ValueError, "LSTM: expected 2 lengths"),
    (lambda m: m(pf.randn(4, 2, 3), lengths=[0, 4]), ValueError, r"LSTM: every length must be in \[1, 4\]"),
    (lambda m: m(pf.randn(4, 2, 3), lengths=[1.5, 4]), TypeError, "LSTM: lengths must hold integers"),
    (lambda m: m(pf.randn(0, 2, 3)), ValueError, "LSTM: expected a sequence length of at least 1"),
    (lambda m: m("abc"), TypeError, "LSTM: expected input to be a tensor"),
]


@pytest.mark.parametrize("call,exc,match", BAD_MODULE_INPUT, ids=lambda v: v if isinstance(v, str) else "")
def test_bad_module_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call(nn.LSTM(3, 5, num_layers=2))


def test_bad_input_other_modules_and_cells():
    with pytest.raises(ValueError, match=r"GRU: expected h_0 of shape \(1, 2, 5\)"):
        nn.GRU(3, 5)(pf.randn(4, 2, 3), pf.zeros(1, 3, 5))
    with pytest.raises(TypeError, match=r"RNN: expected hx to be a tensor"):
        nn.RNN(3, 5)(pf.randn(4, 2, 3), (pf.zeros(1, 2, 5),))
    with pytest.raises(ValueError, match="LSTMCell: input has inconsistent input_size: got 5 expected 3"):
        nn.LSTMCell(3, 4)(pf.randn(2, 5))
    with pytest.raises(ValueError, match=r"GRUCell: expected hx of shape \(2, 4\), got \(3, 4\)"):
        nn.GRUCell(3, 4)(pf.randn(2, 3), pf.randn(3, 4))
    with pytest.raises(ValueError, match="RNNCell: expected input to be 1-D or 2-D, got 3-D"):
        nn.RNNCell(3, 4)(pf.randn(2, 2, 3))
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(ValueError, match="unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.LSTM(3, 0)
    with pytest.raises(TypeError, match="num_layers should be of type int"):
        nn.LSTM(3, 4, num_layers=1.5)


def test_bad_kernel_arguments_raise_instead_of_crashing():
    rng = np.random.default_rng(14)
    ws = layer_case(rng, "LSTM", 3, 2, 4, 5)
    x = np.zeros((3, 2, 4), np.float32)
    cases = [
        (lambda: _C.rnn_layer_forward("LSTM", x[0], ws), ValueError, "rnn_layer_forward: argument 'x' must be 3-D"),
        (lambda: _C.rnn_layer_forward("LSTM", np.zeros((3, 2, 6), np.float32), ws), ValueError,
         r"'weight_ih' must have shape \(20, 6\)"),
        (lambda: _C.rnn_layer_forward("LSTM", x.astype(np.float64), ws), TypeError, "'weight_ih'.*float64"),
        (lambda: _C.rnn_layer_forward("LSTM", x, ws, h0=np.zeros((1, 3, 5), np.float32)), ValueError,
         r"'h0' must have shape \(1, 2, 5\)"),
        (lambda: _C.rnn_layer_forward("GRU", x, ws), ValueError, "'weight_ih' must have 3 \\* hidden_size rows"),
        (lambda: _C.rnn_layer_forward("LSTM", x, ws, c0=np.zeros((1, 2, 5), np.float64)), TypeError, "'c0'"),
        (lambda: _C.rnn_layer_forward("PEEPHOLE", x, ws), ValueError, "unknown mode 'PEEPHOLE'"),
        (lambda: _C.rnn_layer_forward("LSTM", x, ws, lengths=np.array([4, 1])), ValueError,
         r"lengths\[0\] = 4 is outside \[1, 3\]"),
        (lambda: _C.rnn_layer_forward("LSTM", x, ws * 3), ValueError, "one or two directions"),
        (lambda: _C.rnn_layer_forward("LSTM", np.zeros((3, 2, 8), np.float32)[:, :, ::2], ws), ValueError,
         "'x' must be C-contiguous"),
        (lambda: _C.rnn_layer_backward("LSTM", x, ws, [("a",) * 5]), TypeError, "rnn_layer_backward"),
        (lambda: _C.lstm_cell_forward(np.zeros((2, 8), np.float32), np.zeros((2, 4), np.float32),
                                      np.zeros((2, 2), np.float32)), ValueError, "lstm_cell_forward: argument 'gh'"),
        (lambda: _C.gru_cell_forward(np.zeros((2, 7), np.float32), np.zeros((2, 7), np.float32),
                                     np.zeros((2, 2), np.float32)), ValueError, "gru_cell_forward: argument 'gx'"),
        (lambda: _C.rnn_cell_forward(np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float64)), TypeError,
         "rnn_cell_forward"),
        (lambda: _C.rnn_cell_forward(np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32), "gelu"),
         ValueError, "unknown nonlinearity 'gelu'"),
    ]
    for call, exc, match in cases:
        with pytest.raises(exc, match=match):
            call()
    # non-contiguous inputs are copied by the backend wrapper, never misread
    xs = np.asfortranarray(rng.standard_normal((3, 2, 4)).astype(np.float32))
    y1 = cpu.rnn_layer_forward("LSTM", xs, ws, training=False)[0]
    y2 = cpu.rnn_layer_forward("LSTM", np.ascontiguousarray(xs), ws, training=False)[0]
    np.testing.assert_array_equal(y1, y2)

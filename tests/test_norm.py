"""Normalization: batch norm, layer norm and local response norm kernels against the NumPy
reference (shapes that take each thread split, every ISA and thread count), the reference
against PyTorch, gradcheck, the course cases (mean 0 / variance 1 in training, running
statistics in eval), module parity with PyTorch over several steps, state_dict and errors."""

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.autograd.gradcheck import gradcheck
from pyfastnn.backends import cpu, reference
from pyfastnn.nn import functional as F


def _torch():
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True, scope="module")
def _torch_one_thread():
    """PyTorch on one thread here: its thread pool costs milliseconds per call on tiny tensors."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _tol(dtype):
    return dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)


def _close_scaled(got, want, scale, dtype):
    """|got - want| within the dtype's rounding of terms as large as `scale`."""
    tol = 2e-6 if dtype == np.float32 else 1e-13
    err = np.abs(got.astype(np.float64) - want)
    bound = tol * (np.abs(want) + scale + 1e-30)
    assert (err <= bound).all(), f"max error {err.max()}, over bound at {np.argwhere(err > bound)[0]}"


# (N, C, *) shapes: rows (S = 1), few channels (the plane split) and many (a task per channel)
BN_SHAPES = [(5, 3), (64, 40), (1, 7, 2), (4, 3, 9), (2, 3, 5, 6), (3, 11, 4, 5), (8, 16, 7, 7), (2, 2, 1, 1),
             (3, 1, 20, 20)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_batch_norm_kernels_match_reference(isa, threads, dtype):
    rng = np.random.default_rng(0)
    for shape in BN_SHAPES:
        C = shape[1]
        x = (rng.standard_normal(shape) * 2 + rng.standard_normal(C).reshape((1, C) + (1,) * (len(shape) - 2)) * 5
             ).astype(dtype)
        for affine in (True, False):
            w = rng.standard_normal(C).astype(dtype) if affine else None
            b = rng.standard_normal(C).astype(dtype) if affine else None
            for training in (True, False):
                rm = rng.standard_normal(C).astype(dtype)
                rv = (rng.random(C) + 0.5).astype(dtype)
                rm2, rv2 = rm.copy(), rv.copy()
                y, mean, invstd = cpu.batch_norm_forward(x, w, b, rm, rv, training, 0.1, 1e-5)
                yr, meanr, invstdr = reference.batch_norm_forward(x, w, b, rm2, rv2, training, 0.1, 1e-5)
                assert y.dtype == dtype and mean.dtype == np.float64
                np.testing.assert_allclose(y, yr, **_tol(dtype), err_msg=f"{shape} training={training}")
                np.testing.assert_allclose(mean, meanr, rtol=1e-12, atol=1e-12 if dtype == np.float64 else 1e-6)
                np.testing.assert_allclose(invstd, invstdr, rtol=1e-10)
                np.testing.assert_allclose(rm, rm2, **_tol(dtype))
                np.testing.assert_allclose(rv, rv2, **_tol(dtype))
                g = rng.standard_normal(shape).astype(dtype)
                for need in [(True, True, True), (True, False, False), (False, True, True)]:
                    got = cpu.batch_norm_backward(g, x, w, mean, invstd, training, *need)
                    want = reference.batch_norm_backward(g, x, w, meanr, invstdr, training, *need)
                    for a, e, name in zip(got, want, ("dx", "dweight", "dbias")):
                        if e is None:
                            assert a is None
                        elif name == "dx" and training:  # dx cancels terms of size |w| invstd |gy|
                            scale = np.abs(1 if w is None else w) * invstdr * np.abs(g).max()
                            _close_scaled(a, e, scale.reshape((1, C) + (1,) * (len(shape) - 2)), dtype)
                        else:
                            np.testing.assert_allclose(a, e, **_tol(dtype), err_msg=f"{name} {shape} {training}")
        # no running statistics at all
        y, _, _ = cpu.batch_norm_forward(x, None, None, None, None, True, 0.1, 1e-5)
        np.testing.assert_allclose(y, reference.batch_norm_forward(x, None, None, None, None, True, 0.1, 1e-5)[0],
                                   **_tol(dtype))


def test_batch_norm_statistics_are_accurate_far_from_zero_and_thread_independent():
    # float32 data with a large mean: the shifted sums keep the variance accurate
    rng = np.random.default_rng(1)
    x = (1000 + rng.standard_normal((16, 4, 10, 10)) * 0.01).astype(np.float32)
    _, mean, invstd = cpu.batch_norm_forward(x, None, None, None, None, True, 0.1, 0.0)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(1 / invstd ** 2, x64.var(axis=(0, 2, 3)), rtol=1e-6)
    results = []
    for t in (1, 2):
        before = pf.get_num_threads()
        pf.set_num_threads(t)
        try:
            results.append(cpu.batch_norm_forward(x, None, None, None, None, True, 0.1, 1e-5))
        finally:
            pf.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_layer_norm_kernels_match_reference(isa, threads, dtype):
    rng = np.random.default_rng(2)
    for shape, ns in [((4, 10), (10,)), ((3, 5, 8), (8,)), ((2, 3, 4, 5), (4, 5)), ((7,), (7,)), ((600, 33), (33,)),
                      ((2, 1100), (1100,)), ((3, 1), (1,))]:
        x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
        for affine in (True, False):
            w = rng.standard_normal(ns).astype(dtype) if affine else None
            b = rng.standard_normal(ns).astype(dtype) if affine else None
            y, mean, rstd = cpu.layer_norm_forward(x, ns, w, b, 1e-5)
            yr, meanr, rstdr = reference.layer_norm_forward(x, ns, w, b, 1e-5)
            np.testing.assert_allclose(y, yr, **_tol(dtype))
            np.testing.assert_allclose(rstd, rstdr, rtol=1e-9)
            g = rng.standard_normal(shape).astype(dtype)
            got = cpu.layer_norm_backward(g, x, ns, w, mean, rstd)
            want = reference.layer_norm_backward(g, x, ns, w, meanr, rstdr)
            for a, e in zip(got, want):
                np.testing.assert_allclose(a, e, **_tol(dtype), err_msg=f"{shape}")
            assert cpu.layer_norm_backward(g, x, ns, w, mean, rstd, True, False, False)[1:] == (None, None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_local_response_norm_kernels_match_reference(threads, dtype):
    rng = np.random.default_rng(3)
    for shape in [(2, 5, 7), (1, 3, 4, 4), (2, 8, 3, 70), (3, 1, 5, 5)]:
        x = rng.standard_normal(shape).astype(dtype)
        g = rng.standard_normal(shape).astype(dtype)
        for size, alpha, beta, k in [(1, 1e-4, 0.75, 1.0), (2, 0.5, 0.75, 1.0), (3, 1.0, 0.5, 2.0), (5, 2.0, 1.0, 0.5),
                                     (12, 0.3, 0.75, 1.0)]:
            np.testing.assert_allclose(cpu.local_response_norm_forward(x, size, alpha, beta, k),
                                       reference.local_response_norm_forward(x, size, alpha, beta, k), **_tol(dtype))
            np.testing.assert_allclose(cpu.local_response_norm_backward(g, x, size, alpha, beta, k),
                                       reference.local_response_norm_backward(g, x, size, alpha, beta, k),
                                       **_tol(dtype))


# ---------------------------------------------------------------- reference vs PyTorch


def test_reference_matches_torch():
    torch = _torch()
    tf = torch.nn.functional
    rng = np.random.default_rng(4)
    for shape in [(6, 3), (4, 3, 5), (3, 4, 5, 6)]:
        C = shape[1]
        x, g = rng.standard_normal(shape), rng.standard_normal(shape)
        w, b = rng.standard_normal(C), rng.standard_normal(C)
        for training in (True, False):
            rm, rv = rng.standard_normal(C), rng.random(C) + 0.5
            trm, trv = torch.tensor(rm), torch.tensor(rv)
            y, mean, invstd = reference.batch_norm_forward(x, w, b, rm, rv, training, 0.3, 1e-3)
            xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
            yt = tf.batch_norm(xt, trm, trv, wt, bt, training, 0.3, 1e-3)
            yt.backward(torch.tensor(g))
            np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(rm, trm.numpy(), rtol=1e-12)
            np.testing.assert_allclose(rv, trv.numpy(), rtol=1e-12)
            gx, gw, gb = reference.batch_norm_backward(g, x, w, mean, invstd, training)
            for a, t in ((gx, xt), (gw, wt), (gb, bt)):
                np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-10, atol=1e-10)
        ns = shape[1:]
        lw, lb = rng.standard_normal(ns), rng.standard_normal(ns)
        y, mean, rstd = reference.layer_norm_forward(x, ns, lw, lb, 1e-5)
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, lw, lb))
        yt = tf.layer_norm(xt, ns, wt, bt, 1e-5)
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        for a, t in zip(reference.layer_norm_backward(g, x, ns, lw, mean, rstd), (xt, wt, bt)):
            np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-10, atol=1e-10)
        if len(shape) >= 3:
            for size in (1, 2, 3, 4, 7):
                xt = torch.tensor(x, requires_grad=True)
                yt = tf.local_response_norm(xt, size, 0.5, 0.75, 1.5)
                yt.backward(torch.tensor(g))
                np.testing.assert_allclose(reference.local_response_norm_forward(x, size, 0.5, 0.75, 1.5),
                                           yt.detach().numpy(), rtol=1e-12, atol=1e-12)
                np.testing.assert_allclose(reference.local_response_norm_backward(g, x, size, 0.5, 0.75, 1.5),
                                           xt.grad.numpy(), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- gradcheck


def test_gradcheck_normalization_ops():
    rng = np.random.default_rng(5)

    def t(*shape):
        return pf.tensor(rng.standard_normal(shape), dtype=pf.float64, requires_grad=True)

    x, w, b = t(4, 3, 2, 2), t(3), t(3)
    rm, rv = pf.zeros(3, dtype=pf.float64), pf.ones(3, dtype=pf.float64)
    gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b])
    gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), [x, w, b])
    gradcheck(lambda x: F.batch_norm(x, None, None, training=True), [t(5, 3)])
    gradcheck(lambda x, w: F.batch_norm(x, None, None, w, None, training=True), [t(3, 2, 4), t(2)])
    gradcheck(lambda x, w, b: F.layer_norm(x, (2, 2), w, b), [x, t(2, 2), t(2, 2)])
    gradcheck(lambda x: F.layer_norm(x, 2), [x])
    gradcheck(lambda x: F.local_response_norm(x, 3, alpha=0.5, beta=0.75, k=1.0), [t(2, 5, 3)])
    gradcheck(lambda x: F.local_response_norm(x, 2, alpha=1.0, beta=0.6, k=2.0), [x])


# ---------------------------------------------------------------- course cases


def test_batch_norm_training_output_has_zero_mean_unit_variance_per_channel():
    x = pf.tensor(np.random.default_rng(6).standard_normal((32, 4, 6, 6)).astype(np.float32) * 5 + 3)
    bn = nn.BatchNorm2d(4)
    y = bn(x).data.astype(np.float64)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)  # eps = 1e-5 makes it a bit less than 1
    bn1 = nn.BatchNorm1d(6)
    z = bn1(pf.tensor(np.random.default_rng(7).standard_normal((50, 6)).astype(np.float32) * 2 - 1)).data
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(z.var(axis=0), 1, atol=1e-3)


def test_batch_norm_eval_uses_running_statistics():
    bn = nn.BatchNorm2d(2)
    with pf.no_grad():
        bn.running_mean.data[...] = [1.0, -2.0]
        bn.running_var.data[...] = [4.0, 0.25]
        bn.weight.data[...] = [2.0, 1.0]
        bn.bias.data[...] = [0.5, 0.0]
    bn.eval()
    x = np.array([3.0, 5.0, -2.0, -1.5], np.float32).reshape(1, 2, 1, 2)
    y = bn(pf.tensor(x)).data
    want = np.array([[2 * (3 - 1) / np.sqrt(4 + 1e-5) + 0.5, 2 * (5 - 1) / np.sqrt(4 + 1e-5) + 0.5],
                     [0.0, 0.5 / np.sqrt(0.25 + 1e-5)]], np.float32).reshape(1, 2, 1, 2)
    np.testing.assert_allclose(y, want, rtol=1e-6)
    np.testing.assert_array_equal(bn.running_mean.data, [1.0, -2.0])  # eval does not update them
    assert int(bn.num_batches_tracked.data) == 0
    # a batch of one sample works in eval (not in training)
    bn(pf.tensor(np.ones((1, 2, 1, 1), np.float32)))
    with pytest.raises(ValueError, match=r"expected more than 1 value per channel when training"):
        bn.train()(pf.tensor(np.ones((1, 2, 1, 1), np.float32)))



@pytest.mark.parametrize("backend", ["cpu", "reference"])
@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4, 4), (2, 3, 0, 4)])
def test_batch_norm_of_an_empty_batch(backend, shape):
    """As in PyTorch: an empty output, running statistics untouched (the batch still counts),
    zero parameter gradients and an empty input gradient."""
    pf.use_backend(backend)
    try:
        bn = (nn.BatchNorm1d(3) if len(shape) == 2 else nn.BatchNorm2d(3)).train()
        bn.running_mean.data[...] = [1.0, 2.0, 3.0]
        x = pf.tensor(np.zeros(shape, np.float32), requires_grad=True)
        y = bn(x)
        assert y.shape == shape
        y.sum().backward()
    finally:
        pf.use_backend("cpu")
    np.testing.assert_array_equal(bn.running_mean.data, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(bn.running_var.data, [1.0, 1.0, 1.0])
    assert int(bn.num_batches_tracked.data) == 1
    assert x.grad.shape == shape
    np.testing.assert_array_equal(bn.weight.grad.data, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(bn.bias.grad.data, [0.0, 0.0, 0.0])


# ---------------------------------------------------------------- modules vs PyTorch


def _copy_params(module, tmodule):
    torch = _torch()
    with torch.no_grad():
        for (name, p), (tname, tp) in zip(module.named_parameters(), tmodule.named_parameters()):
            assert name == tname
            tp.copy_(torch.from_numpy(p.data))


@pytest.mark.parametrize("cls,shape,kwargs", [
    ("BatchNorm1d", (8, 5), {}), ("BatchNorm1d", (4, 5, 7), {"momentum": None}), ("BatchNorm2d", (6, 3, 5, 4), {}),
    ("BatchNorm2d", (6, 3, 5, 4), {"affine": False, "momentum": 0.3, "eps": 1e-3}),
    ("BatchNorm2d", (2, 20, 3, 3), {"momentum": None}), ("BatchNorm2d", (4, 3, 2, 2), {"track_running_stats": False}),
    ("BatchNorm1d", (6, 4), {"bias": False}),
])
def test_batch_norm_modules_match_torch_over_steps(cls, shape, kwargs):
    torch = _torch()
    rng = np.random.default_rng(8)
    m, tm = getattr(nn, cls)(shape[1], **kwargs), getattr(torch.nn, cls)(shape[1], **kwargs)
    assert repr(m) == repr(tm)
    if m.weight is not None:
        with pf.no_grad():
            m.weight.data[...] = rng.standard_normal(shape[1])
        if m.bias is not None:
            m.bias.data[...] = rng.standard_normal(shape[1])
        _copy_params(m, tm)
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        xt, tt = pf.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = m(xt), tm(tt)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
        y.backward(g)
        ty.backward(torch.from_numpy(g))
        np.testing.assert_allclose(xt.grad.data, tt.grad.numpy(), rtol=1e-4, atol=1e-5)
        for p, tp in zip(m.parameters(), tm.parameters()):
            np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-4, atol=1e-4)
            p.grad, tp.grad = None, None
    state, tstate = m.state_dict(), tm.state_dict()
    assert list(state) == list(tstate)
    for k in state:
        np.testing.assert_allclose(state[k].data, tstate[k].numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
        assert state[k].dtype == tstate[k].numpy().dtype, k
    m.eval()
    tm.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    xt, tt = pf.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = m(xt), tm(tt)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    y.backward(np.ones(shape, np.float32))
    ty.backward(torch.ones(shape))
    np.testing.assert_allclose(xt.grad.data, tt.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_batch_norm_loads_a_torch_state_dict_and_float64():
    torch = _torch()
    tm = torch.nn.BatchNorm2d(3)
    tm(torch.randn(4, 3, 2, 2) * 3 + 1)
    m = nn.BatchNorm2d(3)
    m.load_state_dict(tm.state_dict())
    assert int(m.num_batches_tracked.data) == 1 and m.num_batches_tracked.dtype == np.int64
    m.eval(), tm.eval()
    x = np.random.default_rng(9).standard_normal((2, 3, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(m(pf.tensor(x)).data, tm(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    m.double()
    assert m.running_mean.dtype == np.float64 and m.num_batches_tracked.dtype == np.int64
    assert m(pf.tensor(x.astype(np.float64))).dtype == np.float64


def test_layer_norm_and_lrn_modules_match_torch():
    torch = _torch()
    rng = np.random.default_rng(10)
    x = rng.standard_normal((3, 4, 5, 6)).astype(np.float32)
    for args, kwargs in [((6,), {}), (((5, 6),), {"eps": 1e-3}), ((6,), {"elementwise_affine": False}),
                         (([4, 5, 6],), {"bias": False})]:
        m, tm = nn.LayerNorm(*args, **kwargs), torch.nn.LayerNorm(*args, **kwargs)
        assert repr(m) == repr(tm)
        if m.weight is not None:
            with pf.no_grad():
                m.weight.data[...] = rng.standard_normal(m.weight.shape)
            _copy_params(m, tm)
        assert list(m.state_dict()) == list(tm.state_dict())
        xt, tt = pf.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = m(xt), tm(tt)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
        g = rng.standard_normal(x.shape).astype(np.float32)
        y.backward(g)
        ty.backward(torch.from_numpy(g))
        np.testing.assert_allclose(xt.grad.data, tt.grad.numpy(), rtol=1e-4, atol=1e-5)
        for p, tp in zip(m.parameters(), tm.parameters()):
            np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-4, atol=1e-4)
    for args in [(2,), (5, 1e-3, 0.5, 2.0)]:
        m, tm = nn.LocalResponseNorm(*args), torch.nn.LocalResponseNorm(*args)
        assert repr(m) == repr(tm)
        xt, tt = pf.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = m(xt), tm(tt)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
        y.backward(np.ones(x.shape, np.float32))
        ty.backward(torch.ones(x.shape))
        np.testing.assert_allclose(xt.grad.data, tt.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_batch_norm_on_the_reference_backend_matches_cpu():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((8, 3, 4, 4)).astype(np.float32)
    outs = []
    for backend in ("cpu", "reference"):
        pf.use_backend(backend)
        try:
            pf.manual_seed(0)
            m = nn.Sequential(nn.BatchNorm2d(3), nn.LayerNorm(4), nn.LocalResponseNorm(2))
            xt = pf.tensor(x, requires_grad=True)
            m(xt).sum().backward()
            outs.append((xt.grad.data, m[0].running_var.data.copy(), m[0].weight.grad.data))
        finally:
            pf.use_backend("cpu")
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- errors


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input of shape \(2, 3, 4\)\)"):
        nn.BatchNorm2d(3)(pf.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D input"):
        nn.BatchNorm1d(3)(pf.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 3 channels \(num_features\) in dimension 1, got input "
                                         r"of shape \(2, 8, 8, 3\) \(channels-last"):
        nn.BatchNorm2d(3)(pf.zeros(2, 8, 8, 3))  # NHWC
    with pytest.raises(ValueError, match=r"batch_norm: expected running_mean of shape \(4,\)"):
        F.batch_norm(pf.zeros(2, 4), pf.zeros(3), pf.ones(3), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: running_mean and running_var are needed when not training"):
        F.batch_norm(pf.zeros(2, 4), None, None, training=False)
    with pytest.raises(ValueError, match=r"BatchNorm1d: argument 'num_features' must be a positive int"):
        nn.BatchNorm1d(0)
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 3\) does not end with normalized_shape "
                                         r"\(4,\)"):
        nn.LayerNorm(4)(pf.zeros(2, 3))
    with pytest.raises(ValueError, match=r"local_response_norm: expected 3D or higher dimensionality input \(got 2 "
                                         r"dimensions\)"):
        nn.LocalResponseNorm(2)(pf.zeros(2, 3))
    with pytest.raises(ValueError, match=r"LocalResponseNorm: argument 'size' must be a positive int"):
        nn.LocalResponseNorm(0)
    with pytest.raises(TypeError, match=r"batch_norm: argument 'weight' must be None or a float32 numpy array"):
        cpu.batch_norm_forward(np.zeros((2, 3), np.float32), np.ones(3), None, None, None, True, 0.1, 1e-5)
    with pytest.raises(ValueError, match=r"batch_norm: argument 'x' must have at least 2 dimensions"):
        cpu.batch_norm_forward(np.zeros(3, np.float32), None, None, None, None, True, 0.1, 1e-5)
    with pytest.raises(ValueError, match=r"batch_norm_backward: argument 'save_mean' must be a C-contiguous array of "
                                         r"3 elements"):
        cpu.batch_norm_backward(np.zeros((2, 3)), np.zeros((2, 3)), None, np.zeros(2), np.zeros(3), True)
    rm = np.zeros(3, np.float32)
    rm.flags.writeable = False
    with pytest.raises(ValueError, match=r"batch_norm: argument 'running_mean' is read-only"):
        cpu.batch_norm_forward(np.zeros((2, 3), np.float32), None, None, rm, np.ones(3, np.float32), True, 0.1, 1e-5)
    cpu.batch_norm_forward(np.zeros((2, 3), np.float32), None, None, rm, np.ones(3, np.float32), False, 0.1, 1e-5)
    with pytest.raises(TypeError, match=r"expected a floating point input"):
        F.layer_norm(np.zeros((2, 3), np.int64), 3)

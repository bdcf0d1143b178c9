"""Losses: the fused softmax-cross-entropy kernel vs its NumPy reference (every ISA, both
dtypes, every argument), gradcheck of every loss and argument combination, PyTorch parity
of every functional loss and module, per-sample weights, errors, and the course values."""

import math

import numpy as np
import pytest

import pyfastnn as pf
import pyfastnn.nn.functional as F
from pyfastnn import nn
from pyfastnn.autograd import gradcheck
from pyfastnn.backends import cpu, reference

try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
REDUCTIONS = ["mean", "sum", "none"]


def _t(a, grad=False, dtype=None):
    return pf.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


# ============================================================================ the fused kernel

def _xent_case(rng, n, c, dtype, probs=False, ignore=None):
    x = (rng.standard_normal((n, c)) * 3).astype(dtype)
    if probs:
        t = rng.random((n, c)).astype(dtype)
        t /= t.sum(axis=1, keepdims=True)
    else:
        t = rng.integers(0, c, n).astype(np.int64)
        if ignore is not None and n > 1:
            t[::3] = ignore
    return x, t


XENT_SHAPES = [(1, 1), (1, 7), (5, 1), (64, 10), (7, 33), (3, 1000), (0, 4)]
XENT_OPTIONS = [
    dict(),
    dict(weight=True),
    dict(label_smoothing=0.1),
    dict(weight=True, label_smoothing=0.25),
    dict(sample_weight=True),
    dict(weight=True, label_smoothing=0.05, sample_weight=True, ignore_index=2),
]


def _options(rng, opts, n, c, dtype):
    kw = dict(opts)
    if kw.get("weight"):
        kw["weight"] = (rng.random(c) + 0.25).astype(dtype)
    if kw.get("sample_weight"):
        kw["sample_weight"] = (rng.random(n) + 0.5).astype(dtype)
    return kw


def _close(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", XENT_SHAPES, ids=str)
@pytest.mark.parametrize("probs", [False, True], ids=["index", "probs"])
def test_xent_kernel_matches_reference(isa, rng, shape, dtype, probs):
    n, c = shape
    for opts in XENT_OPTIONS:
        x, t = _xent_case(rng, n, c, dtype, probs=probs, ignore=opts.get("ignore_index", -100))
        kw = _options(rng, opts, n, c, dtype)
        for red in REDUCTIONS:
            g = rng.standard_normal(n).astype(dtype) if red == "none" else np.asarray(0.7, dtype)
            l1, s1 = cpu.softmax_xent_forward(x, t, reduction=red, **kw)
            l2, s2 = reference.softmax_xent_forward(x, t, reduction=red, **kw)
            what = f"{isa} {shape} {dtype.__name__} {opts} {red}"
            assert l1.dtype == dtype and l1.shape == l2.shape, what
            np.testing.assert_allclose(l1, l2, **_close(dtype), err_msg=what)
            assert s1.shape == s2.shape == (3, n) and s1.dtype == dtype
            d1 = cpu.softmax_xent_backward(x, t, s1, g, reduction=red, **kw)
            d2 = reference.softmax_xent_backward(x, t, s2, g, reduction=red, **kw)
            assert d1.dtype == dtype and d1.shape == x.shape
            np.testing.assert_allclose(d1, d2, **_close(dtype), err_msg=what)


def test_xent_kernel_threads(threads, rng):
    x, t = _xent_case(rng, 512, 1000, np.float32, ignore=-100)
    l1, s1 = cpu.softmax_xent_forward(x, t, label_smoothing=0.1)
    l2, s2 = reference.softmax_xent_forward(x, t, label_smoothing=0.1)
    np.testing.assert_allclose(l1, l2, rtol=1e-5)
    np.testing.assert_allclose(cpu.softmax_xent_backward(x, t, s1, l1, label_smoothing=0.1),
                               reference.softmax_xent_backward(x, t, s2, l2, label_smoothing=0.1), atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_xent_large_logits_exact(isa, dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4], [1e4, 1e4, -1e4]], dtype)
    t = np.array([0, 0, 2])
    loss, state = cpu.softmax_xent_forward(x, t, reduction="none")
    np.testing.assert_array_equal(loss, np.array([0.0, 2e4, 2e4 + math.log(2)], dtype))
    assert float(cpu.softmax_xent_forward(x, t)[0]) == pytest.approx((4e4 + math.log(2)) / 3, rel=1e-7)
    g = cpu.softmax_xent_backward(x, t, state, np.ones(3, dtype), reduction="none")
    np.testing.assert_allclose(g, [[0, 0, 0], [-1, 1, 0], [0.5, 0.5, -1]], atol=1e-7)
    # smoothing and probabilities: the cancellation of large terms is exact too
    lp, _ = cpu.softmax_xent_forward(x, np.full((3, 3), 1 / 3, dtype), reduction="none")
    np.testing.assert_allclose(lp, [1e4, 4e4 / 3, 2e4 / 3 + math.log(2)], rtol=1e-6)
    ls, _ = cpu.softmax_xent_forward(x, t, label_smoothing=0.3, reduction="none")
    assert np.isfinite(ls).all()
    np.testing.assert_allclose(ls, reference.softmax_xent_forward(x, t, label_smoothing=0.3, reduction="none")[0],
                               rtol=1e-6)


def test_xent_all_ignored_and_empty():
    x = np.ones((3, 4), np.float32)
    t = np.full(3, -100)
    for B in (cpu, reference):
        loss, st = B.softmax_xent_forward(x, t)
        assert np.isnan(loss)  # 0/0, as PyTorch
        np.testing.assert_array_equal(B.softmax_xent_backward(x, t, st, loss), 0.0)
        assert float(B.softmax_xent_forward(x, t, reduction="sum")[0]) == 0.0
        e = np.zeros((0, 4), np.float32)
        assert np.isnan(B.softmax_xent_forward(e, np.zeros(0, np.int64))[0])
        assert B.softmax_xent_forward(e, np.zeros(0, np.int64), reduction="none")[0].shape == (0,)


@pytest.mark.parametrize("B", [cpu, reference], ids=["cpu", "reference"])
def test_xent_kernel_errors(B):
    x = np.zeros((4, 10), np.float32)
    with pytest.raises(ValueError, match=r"target 10 is out of bounds for 10 classes .* at position 2"):
        B.softmax_xent_forward(x, np.array([0, 1, 10, 3]))
    with pytest.raises(ValueError, match="target -1 is out of bounds"):
        B.softmax_xent_forward(x, np.array([0, -1, 1, 3]))
    with pytest.raises(TypeError, match=r"target must be int64 class indices of shape \(N,\) or float probabilities"):
        B.softmax_xent_forward(x, np.zeros(4, np.float32))
    with pytest.raises(ValueError, match=r"weight must have shape \(10,\)"):
        B.softmax_xent_forward(x, np.zeros(4, np.int64), weight=np.ones(3, np.float32))
    with pytest.raises(ValueError, match="reduction"):
        B.softmax_xent_forward(x, np.zeros(4, np.int64), reduction="avg")
    bad = x.copy()
    bad[1, 7] = np.nan
    with pytest.raises(ValueError, match=r"input \(logits\) contains nan at \[1, 7\]"):
        B.softmax_xent_forward(bad, np.zeros(4, np.int64))


# ============================================================================ course values

def test_course_values():
    logits = _t([[2.0, 1.0, 0.1]])
    assert float(F.cross_entropy(logits, _t([0]))) == pytest.approx(0.417030, abs=1e-6)
    assert float(nn.CrossEntropyLoss()(logits, _t([0]))) == pytest.approx(0.417030, abs=1e-6)
    y_true, y_pred = _t([3.0, 4.0, 5.0]), _t([2.5, 4.2, 4.8])
    assert float(F.mse_loss(y_pred, y_true)) == pytest.approx(0.11, abs=1e-6)
    assert float(nn.MSELoss()(y_true, y_pred)) == pytest.approx(0.11, abs=1e-6)
    assert float(F.l1_loss(y_pred, y_true)) == pytest.approx(0.30, abs=1e-6)
    assert float(nn.L1Loss()(y_true, y_pred)) == pytest.approx(0.30, abs=1e-6)


@pytest.mark.parametrize("delta", [1.0, 0.5, 2.0])
def test_huber_and_mae_gradients_are_capped(delta):
    residuals = np.array([-100.0, -3.0, -0.2, 0.1, 0.5, 4.0, 1000.0])
    x = _t(residuals, grad=True, dtype=np.float64)
    F.huber_loss(x, _t(np.zeros(7)), reduction="sum", delta=delta).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.clip(residuals, -delta, delta))
    assert np.abs(x.grad.numpy()).max() <= delta
    x = _t(residuals, grad=True, dtype=np.float64)
    F.l1_loss(x, _t(np.zeros(7)), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.sign(residuals))  # capped at 1
    x = _t(residuals, grad=True, dtype=np.float64)
    F.mse_loss(x, _t(np.zeros(7)), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * residuals)  # not capped: outliers dominate


def test_huber_is_quadratic_then_linear():
    d = np.array([0.5, 1.0, 3.0])
    got = F.huber_loss(_t(d, dtype=np.float64), _t(np.zeros(3)), reduction="none").numpy()
    np.testing.assert_allclose(got, [0.125, 0.5, 2.5])


def test_log_cosh_is_stable_and_exact():
    d = np.array([0.0, 0.3, -2.0, 50.0, -1e4, 1e30])
    got = F.log_cosh_loss(_t(d, dtype=np.float64), _t(np.zeros(6)), reduction="none").numpy()
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got[:4], np.log(np.cosh(d[:4])), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got[4], 1e4 - math.log(2), rtol=1e-12)
    f32 = F.log_cosh_loss(_t([1e4, -200.0]), _t([0.0, 0.0]), reduction="none").numpy()
    assert np.isfinite(f32).all()
    x = _t(d[:4], grad=True, dtype=np.float64)
    F.log_cosh_loss(x, _t(np.zeros(4)), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), np.tanh(d[:4]))
    # mean by default; reduction='sum' is the textbook sum
    a, b = _t([1.0, 2.0]), _t([0.0, 0.0])
    assert float(F.log_cosh_loss(a, b)) * 2 == pytest.approx(float(F.log_cosh_loss(a, b, reduction="sum")))


def test_quantile_loss_values():
    x, y = _t([1.0, 1.0, 3.0], dtype=np.float64), _t([2.0, 1.0, 1.0], dtype=np.float64)
    got = F.quantile_loss(x, y, q=0.9, reduction="none").numpy()
    np.testing.assert_allclose(got, [0.9 * 1.0, 0.0, 0.1 * 2.0])
    half = F.quantile_loss(x, y, q=0.5).numpy()
    assert half == pytest.approx(0.5 * float(F.l1_loss(x, y)))
    with pytest.raises(ValueError, match=r"q must be in \[0, 1\]"):
        F.quantile_loss(x, y, q=1.5)


def test_hinge_loss_keras():
    yhat = np.array([0.3, -2.0, 1.5, -0.2])
    y = np.array([1.0, -1.0, -1.0, 1.0])
    want = np.maximum(0, 1 - y * yhat).mean()
    assert float(F.hinge_loss(_t(yhat, dtype=np.float64), _t(y))) == pytest.approx(want)
    assert float(nn.HingeLoss()(_t(yhat, dtype=np.float64), _t(y))) == pytest.approx(want)
    # {0, 1} labels are mapped to {-1, 1} as in Keras
    assert float(F.hinge_loss(_t(yhat, dtype=np.float64), _t((y + 1) / 2))) == pytest.approx(want)


def test_bce_log_clamp_and_range():
    x = _t([0.0, 1.0, 0.5], dtype=np.float64)
    y = _t([1.0, 0.0, 1.0], dtype=np.float64)
    got = F.binary_cross_entropy(x, y, reduction="none").numpy()
    np.testing.assert_allclose(got, [100.0, 100.0, math.log(2)])
    with pytest.raises(ValueError, match="binary_cross_entropy: all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(_t([0.5, 1.2]), _t([1.0, 0.0]))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(_t([0.5, np.nan]), _t([1.0, 0.0]))


def test_bce_with_logits_stable():
    x = _t([-1e4, 1e4, 0.0, 80.0], grad=True)
    y = _t([1.0, 0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [1e4, 1e4, math.log(2), 0.0], rtol=1e-6, atol=1e-30)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 1.0, -0.5, 0.0], atol=1e-7)


def test_bce_gradient_is_p_minus_y():
    """Sigmoid + BCE: the gradient with respect to the logit is sigmoid(z) - y (no sigma' factor)."""
    z = np.array([-3.0, -0.5, 0.0, 2.0])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    x = _t(z, grad=True, dtype=np.float64)
    F.binary_cross_entropy(x.sigmoid(), _t(y, dtype=np.float64), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / (1 + np.exp(-z)) - y, rtol=1e-10)


def test_nll_of_log_softmax_is_cross_entropy(rng):
    x = rng.standard_normal((6, 5))
    t = rng.integers(0, 5, 6)
    t[2] = -100
    w = rng.random(5) + 0.5
    for red in REDUCTIONS:
        a = _t(x, grad=True, dtype=np.float64)
        b = _t(x, grad=True, dtype=np.float64)
        la = F.nll_loss(F.log_softmax(a, 1), _t(t), weight=_t(w, dtype=np.float64), reduction=red)
        lb = F.cross_entropy(b, _t(t), weight=_t(w, dtype=np.float64), reduction=red)
        np.testing.assert_allclose(la.numpy(), lb.numpy(), rtol=1e-12)
        la.sum().backward()
        lb.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_cross_entropy_on_reference_backend(rng):
    x = rng.standard_normal((5, 4)).astype(np.float32)
    t = rng.integers(0, 4, 5)
    grads = []
    for name in ("cpu", "reference"):
        pf.use_backend(name)
        try:
            a = _t(x, grad=True)
            loss = F.cross_entropy(a, _t(t), label_smoothing=0.2)
            loss.backward()
            grads.append((float(loss), a.grad.numpy().copy()))
        finally:
            pf.use_backend("cpu")
    assert grads[0][0] == pytest.approx(grads[1][0], rel=1e-6)
    np.testing.assert_allclose(grads[0][1], grads[1][1], atol=1e-7)


# ============================================================================ sample weights

def test_sample_weight_semantics(rng):
    x = rng.standard_normal((4, 3))
    y = rng.standard_normal((4, 3))
    sw = np.array([1.0, 0.0, 2.0, 0.5])
    per_elem = (x - y) ** 2
    got = float(F.mse_loss(_t(x, dtype=np.float64), _t(y), sample_weight=_t(sw)))
    assert got == pytest.approx((per_elem * sw[:, None]).sum() / per_elem.size)  # divides by N*D, not sum(sw)
    assert float(F.mse_loss(_t(x, dtype=np.float64), _t(y), sample_weight=sw, reduction="sum")) == \
        pytest.approx((per_elem * sw[:, None]).sum())
    logits = rng.standard_normal((4, 5))
    t = rng.integers(0, 5, 4)
    per = F.cross_entropy(_t(logits, dtype=np.float64), _t(t), reduction="none").numpy()
    got = float(F.cross_entropy(_t(logits, dtype=np.float64), _t(t), sample_weight=sw))
    assert got == pytest.approx((per * sw).sum() / 4)
    # sample_weight reaches the gradient too
    a = _t(logits, grad=True, dtype=np.float64)
    assert gradcheck(lambda v: F.cross_entropy(v, _t(t), sample_weight=sw, label_smoothing=0.1), [a])
    m = nn.BCEWithLogitsLoss()
    z = rng.standard_normal((4, 2))
    yb = rng.integers(0, 2, (4, 2)).astype(np.float64)
    full = F.binary_cross_entropy_with_logits(_t(z, dtype=np.float64), _t(yb), reduction="none").numpy()
    assert float(m(_t(z, dtype=np.float64), _t(yb), sample_weight=sw)) == \
        pytest.approx((full * sw[:, None]).mean())
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(4,\)"):
        F.l1_loss(_t(x), _t(y), sample_weight=np.ones(3))


# ============================================================================ errors

def test_shape_mismatch_names_loss_and_shapes():
    with pytest.raises(ValueError, match=r"mse_loss: input and target must have the same shape, got input \(32, 1\) "
                                         r"and target \(32,\)"):
        F.mse_loss(pf.zeros(32, 1), pf.zeros(32))
    for fn in (F.l1_loss, F.huber_loss, F.smooth_l1_loss, F.log_cosh_loss, F.quantile_loss,
               F.binary_cross_entropy_with_logits, F.kl_div, F.hinge_loss):
        with pytest.raises(ValueError, match=fn.__name__ + r": input and target must have the same shape"):
            fn(pf.zeros(4, 3), pf.zeros(4, 2))
    with pytest.raises(ValueError, match=r"cross_entropy: class-index target must have shape \(4,\)"):
        F.cross_entropy(pf.zeros(4, 3), pf.tensor([0, 1, 2]))


def test_cross_entropy_target_errors():
    x = pf.zeros(64, 10)
    with pytest.raises(TypeError, match=r"cross_entropy: target must be int64 class indices of shape \(N,\) or float "
                                        r"probabilities of shape \(N, C\); got float32 of shape \(64,\)"):
        F.cross_entropy(x, pf.zeros(64))
    with pytest.raises(ValueError, match=r"cross_entropy: target 10 is out of bounds for 10 classes"):
        F.cross_entropy(x, pf.tensor([10] + [0] * 63))
    with pytest.raises(ValueError, match="target -3 is out of bounds"):
        nn.CrossEntropyLoss()(x, pf.tensor([-3] + [0] * 63))
    # ignore_index itself is fine, also when it is out of range
    F.cross_entropy(x, pf.tensor([-100] + [0] * 63))
    with pytest.raises(ValueError, match="nll_loss: target 12 is out of bounds for 10 classes"):
        F.nll_loss(x, pf.tensor([12] + [0] * 63))
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        F.cross_entropy(x, pf.zeros(64, dtype=pf.int64), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"weight must have shape \(10,\)"):
        F.cross_entropy(x, pf.zeros(64, dtype=pf.int64), weight=pf.ones(9))


def test_cross_entropy_reports_nan_input():
    x = np.zeros((3, 4), np.float32)
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"cross_entropy: input \(logits\) contains nan at \[2, 1\]"):
        F.cross_entropy(_t(x), _t([0, 1, 2]))
    x[2, 1] = np.inf
    with pytest.raises(ValueError, match=r"contains inf at \[2, 1\]"):
        F.cross_entropy(_t(x), _t([0, 1, 2]))


def test_reduction_errors():
    with pytest.raises(ValueError, match="mse_loss: reduction must be one of 'mean', 'sum', 'none', got 'avg'"):
        F.mse_loss(pf.zeros(2), pf.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.L1Loss(reduction="batchmean")
    nn.KLDivLoss(reduction="batchmean")
    with pytest.raises(ValueError, match="huber_loss: delta must be positive"):
        F.huber_loss(pf.zeros(2), pf.zeros(2), delta=0.0)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be >= 0"):
        F.smooth_l1_loss(pf.zeros(2), pf.zeros(2), beta=-1.0)
    with pytest.raises(TypeError, match="mse_loss: input must be a floating point tensor"):
        F.mse_loss(pf.tensor([1, 2]), pf.zeros(2))


def test_legacy_size_average_and_reduce():
    x, y = _t([1.0, 3.0]), _t([0.0, 0.0])
    assert float(F.mse_loss(x, y, size_average=False)) == pytest.approx(10.0)
    assert F.l1_loss(x, y, reduce=False).shape == (2,)
    assert nn.MSELoss(size_average=False).reduction == "sum"


# ============================================================================ gradcheck

def _gc(fn, *inputs):
    assert gradcheck(fn, list(inputs), eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_regression_losses(reduction, rng):
    x = _t(rng.standard_normal((3, 4)), grad=True, dtype=np.float64)
    y = _t(rng.standard_normal((3, 4)), grad=True, dtype=np.float64)
    w = rng.random((3, 4)) + 0.5
    sw = rng.random(3) + 0.5
    r = reduction
    _gc(lambda a, b: F.mse_loss(a, b, reduction=r), x, y)
    _gc(lambda a, b: F.mse_loss(a, b, reduction=r, weight=w, sample_weight=sw), x, y)
    _gc(lambda a, b: F.l1_loss(a, b, reduction=r, weight=w), x, y)
    _gc(lambda a, b: F.huber_loss(a, b, reduction=r, delta=0.7, weight=w), x, y)
    _gc(lambda a, b: F.smooth_l1_loss(a, b, reduction=r, beta=0.6, sample_weight=sw), x, y)
    _gc(lambda a, b: F.smooth_l1_loss(a, b, reduction=r, beta=0.0), x, y)
    _gc(lambda a, b: F.log_cosh_loss(a, b, reduction=r, sample_weight=sw), x, y)
    _gc(lambda a, b: F.quantile_loss(a, b, q=0.3, reduction=r), x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_classification_losses(reduction, rng):
    r = reduction
    p = _t(rng.uniform(0.05, 0.95, (3, 4)), grad=True, dtype=np.float64)
    y = _t(rng.uniform(0, 1, (3, 4)), grad=True, dtype=np.float64)
    z = _t(rng.standard_normal((3, 4)) * 2, grad=True, dtype=np.float64)
    w = rng.random((1, 4)) + 0.5
    pw = rng.random(4) + 0.5
    sw = rng.random(3) + 0.5
    _gc(lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=r), p, y)
    _gc(lambda a, b: F.binary_cross_entropy(a, b, reduction=r, sample_weight=sw), p, y)
    _gc(lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight=w, pos_weight=pw, reduction=r), z, y)
    _gc(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=r), z, y)
    logq = _t(np.log(rng.dirichlet(np.ones(4), 3)), grad=True, dtype=np.float64)
    _gc(lambda a, b: F.kl_div(a, b, reduction=r), logq, y)
    _gc(lambda a, b: F.kl_div(a, b, reduction=r, log_target=True), logq, _t(y.numpy() - 1, grad=True))
    sgn = _t(rng.choice([-1.0, 1.0], (3, 4)))
    _gc(lambda a: F.hinge_embedding_loss(a, sgn, margin=0.5, reduction=r), z)
    _gc(lambda a: F.hinge_loss(a, sgn, reduction=r, sample_weight=sw), z)
    x1 = _t(rng.standard_normal((3, 5)), grad=True, dtype=np.float64)
    x2 = _t(rng.standard_normal((3, 5)), grad=True, dtype=np.float64)
    _gc(lambda a, b: F.cosine_embedding_loss(a, b, _t([1, -1, -1]), margin=-0.5, reduction=r), x1, x2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [dict(), dict(weight=True), dict(label_smoothing=0.2), dict(ignore=True),
                                  dict(weight=True, label_smoothing=0.1, ignore=True)], ids=str)
def test_gradcheck_cross_entropy_and_nll(reduction, opts, rng):
    c = 4
    x = _t(rng.standard_normal((5, c)) * 2, grad=True, dtype=np.float64)
    t = rng.integers(0, c, 5)
    if opts.get("ignore"):
        t[1] = 3
    kw = dict(reduction=reduction)
    if opts.get("ignore"):
        kw["ignore_index"] = 3
    if opts.get("weight"):
        kw["weight"] = rng.random(c) + 0.5
    smoothing = opts.get("label_smoothing", 0.0)
    _gc(lambda a: F.cross_entropy(a, _t(t), label_smoothing=smoothing, **kw), x)
    _gc(lambda a: F.nll_loss(a, _t(t), **kw), x)
    # probability targets (gradients for the targets too), with weights and smoothing
    probs = _t(rng.dirichlet(np.ones(c), 5), grad=True, dtype=np.float64)
    kw.pop("ignore_index", None)
    _gc(lambda a, b: F.cross_entropy(a, b, label_smoothing=smoothing, **kw), x, probs)
    # (N, C, d) inputs
    x3 = _t(rng.standard_normal((2, c, 3)), grad=True, dtype=np.float64)
    t3 = _t(rng.integers(0, c, (2, 3)))
    _gc(lambda a: F.cross_entropy(a, t3, label_smoothing=smoothing, **kw), x3)
    _gc(lambda a: F.nll_loss(a, t3, **kw), x3)


# ============================================================================ PyTorch parity

def _parity(ours, theirs, inputs, grads=(0,), dtype=np.float64, tol=None, **kw):
    """Run ours and theirs on the same numpy inputs (grad for the indices in `grads`) and
    compare the loss and the gradients."""
    rng = np.random.default_rng(7)
    a = [_t(v, grad=i in grads and np.asarray(v).dtype.kind == "f") for i, v in enumerate(inputs)]
    b = [torch.tensor(v, requires_grad=i in grads and np.asarray(v).dtype.kind == "f") for i, v in enumerate(inputs)]
    kw_ours = {k: (_t(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    kw_theirs = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    la = ours(*a, **kw_ours)
    lb = theirs(*b, **kw_theirs)
    tol = tol or (dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6))
    np.testing.assert_allclose(la.numpy(), lb.detach().numpy(), **tol)
    g = rng.standard_normal(lb.shape).astype(dtype)
    la.backward(_t(g))
    lb.backward(torch.tensor(g))
    for i in grads:
        if b[i].requires_grad:
            np.testing.assert_allclose(a[i].grad.numpy(), b[i].grad.numpy(), **tol, err_msg=f"gradient of input {i}")


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_torch_parity_regression(reduction, dtype, rng):
    x = rng.standard_normal((6, 5)).astype(dtype) * 2
    y = rng.standard_normal((6, 5)).astype(dtype)
    w = (rng.random((6, 5)) + 0.1).astype(dtype)
    r, both = reduction, (0, 1)
    _parity(F.mse_loss, TF.mse_loss, [x, y], both, dtype, reduction=r)
    _parity(F.mse_loss, TF.mse_loss, [x, y], both, dtype, reduction=r, weight=w)
    _parity(F.l1_loss, TF.l1_loss, [x, y], both, dtype, reduction=r)
    _parity(F.l1_loss, TF.l1_loss, [x, y], both, dtype, reduction=r, weight=w)
    for delta in (1.0, 0.3, 2.5):
        _parity(F.huber_loss, TF.huber_loss, [x, y], both, dtype, reduction=r, delta=delta)
    _parity(F.huber_loss, TF.huber_loss, [x, y], both, dtype, reduction=r, weight=w)
    for beta in (1.0, 0.25, 0.0):
        _parity(F.smooth_l1_loss, TF.smooth_l1_loss, [x, y], both, dtype, reduction=r, beta=beta)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_torch_parity_binary(reduction, dtype, rng):
    p = rng.uniform(0.01, 0.99, (6, 4)).astype(dtype)
    p[0, 0], p[1, 1] = 0.0, 1.0  # the clamped logs
    y = rng.random((6, 4)).astype(dtype)
    y[0, 0], y[1, 1] = 1.0, 0.0
    z = (rng.standard_normal((6, 4)) * 4).astype(dtype)
    w = (rng.random((6, 4)) + 0.1).astype(dtype)
    wc = (rng.random(4) + 0.1).astype(dtype)
    pw = (rng.random(4) * 3).astype(dtype)
    r = reduction
    # at p = 0 or 1 the target gradient is PyTorch's +-inf but ours the derivative of the clamped loss
    clamp_tol = dict(rtol=1e-8, atol=1e-12) if dtype == np.float64 else None
    _parity(F.binary_cross_entropy, TF.binary_cross_entropy, [p, y], (0,), dtype, tol=clamp_tol, reduction=r)
    inner = np.clip(p, 0.01, 0.99)
    _parity(F.binary_cross_entropy, TF.binary_cross_entropy, [inner, y], (0, 1), dtype, reduction=r)
    _parity(F.binary_cross_entropy, TF.binary_cross_entropy, [p, y], (0,), dtype, tol=clamp_tol, reduction=r,
            weight=w)
    _parity(F.binary_cross_entropy, TF.binary_cross_entropy, [p, y], (0,), dtype, tol=clamp_tol, reduction=r,
            weight=wc)
    _parity(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, [z, y], (0, 1), dtype,
            reduction=r)
    _parity(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, [z, y], (0, 1), dtype,
            reduction=r, weight=w, pos_weight=pw)
    _parity(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, [z, y], (0,), dtype,
            reduction=r, pos_weight=pw)


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_torch_parity_kl_div(reduction, log_target, rng):
    logq = np.log(rng.dirichlet(np.ones(5), 4))
    p = rng.dirichlet(np.ones(5), 4)
    p[0, 2] = 0.0  # 0 log 0 = 0
    target = np.log(p + 1e-3) if log_target else p
    with pytest.warns(UserWarning) if reduction == "mean" else _nothing():
        _parity(F.kl_div, TF.kl_div, [logq, target], (0, 1) if log_target else (0,), reduction=reduction,
                log_target=log_target)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_torch_parity_embedding_losses(reduction, rng):
    x = rng.standard_normal((5, 4)) * 2
    y = rng.choice([-1.0, 1.0], (5, 4))
    y[0, 0] = 0.0  # neither 1 nor -1: both terms, as PyTorch
    for margin in (1.0, 0.3):
        _parity(F.hinge_embedding_loss, TF.hinge_embedding_loss, [x, y], (0,), reduction=reduction, margin=margin)
    x1, x2 = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    t = np.array([1, -1, 1, -1, -1, 1])
    for margin in (0.0, -0.4, 0.5):
        _parity(F.cosine_embedding_loss, TF.cosine_embedding_loss, [x1, x2, t], (0, 1), reduction=reduction,
                margin=margin)
    _parity(F.cosine_embedding_loss, TF.cosine_embedding_loss, [x1[0], x2[0], np.array(-1)], (0, 1),
            reduction=reduction)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("weighted", [False, True])
def test_torch_parity_cross_entropy(reduction, smoothing, weighted, dtype, rng):
    c = 7
    x = (rng.standard_normal((9, c)) * 3).astype(dtype)
    t = rng.integers(0, c, 9)
    t[4] = 5
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    if weighted:
        kw["weight"] = (rng.random(c) + 0.2).astype(dtype)
    _parity(F.cross_entropy, TF.cross_entropy, [x, t], (0,), dtype, **kw)
    _parity(F.cross_entropy, TF.cross_entropy, [x, t], (0,), dtype, ignore_index=5, **kw)
    probs = rng.dirichlet(np.ones(c), 9).astype(dtype)
    _parity(F.cross_entropy, TF.cross_entropy, [x, probs], (0, 1), dtype, **kw)
    # (N, C, d1, d2) and unbatched (C,)
    x4 = (rng.standard_normal((2, c, 3, 2)) * 2).astype(dtype)
    t4 = rng.integers(0, c, (2, 3, 2))
    _parity(F.cross_entropy, TF.cross_entropy, [x4, t4], (0,), dtype, ignore_index=1, **kw)
    p4 = rng.dirichlet(np.ones(c), (2, 3, 2)).transpose(0, 3, 1, 2).astype(dtype)
    _parity(F.cross_entropy, TF.cross_entropy, [x4, p4], (0, 1), dtype, **kw)
    _parity(F.cross_entropy, TF.cross_entropy, [x[0], np.array(3)], (0,), dtype, **kw)
    _parity(F.cross_entropy, TF.cross_entropy, [x[0], probs[0]], (0,), dtype, **kw)
    # nll_loss on the same shapes
    kw.pop("label_smoothing")
    _parity(F.nll_loss, TF.nll_loss, [x, t], (0,), dtype, ignore_index=5, **kw)
    _parity(F.nll_loss, TF.nll_loss, [x4, t4], (0,), dtype, ignore_index=1, **kw)
    _parity(F.nll_loss, TF.nll_loss, [x[0], np.array(3)], (0,), dtype, **kw)


@needs_torch
def test_torch_parity_cross_entropy_edge_cases(rng):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 30.0], [5.0, 5.0, 5.0]], np.float32)
    t = np.array([0, 2, 1])
    for kw in (dict(), dict(label_smoothing=0.3), dict(weight=np.array([1.0, 2.0, 0.5], np.float32))):
        _parity(F.cross_entropy, TF.cross_entropy, [x, t], (0,), np.float32, tol=dict(rtol=1e-6, atol=1e-6), **kw)
    one = (rng.standard_normal((4, 1))).astype(np.float32)  # C = 1
    _parity(F.cross_entropy, TF.cross_entropy, [one, np.zeros(4, np.int64)], (0,), np.float32)
    big = (rng.standard_normal((3, 1000)) * 5).astype(np.float32)
    _parity(F.cross_entropy, TF.cross_entropy, [big, rng.integers(0, 1000, 3)], (0,), np.float32,
            label_smoothing=0.1)
    # every target ignored: NaN for 'mean' (0/0) as PyTorch, zero gradient
    loss = F.cross_entropy(_t(x), _t(np.full(3, -100)))
    assert np.isnan(float(loss))
    assert np.isnan(float(TF.cross_entropy(torch.tensor(x), torch.full((3,), -100))))


@needs_torch
def test_torch_parity_modules(rng):
    x = (rng.standard_normal((6, 4)) * 2).astype(np.float32)
    y = rng.standard_normal((6, 4)).astype(np.float32)
    p = rng.uniform(0.05, 0.95, (6, 4)).astype(np.float32)
    yb = rng.integers(0, 2, (6, 4)).astype(np.float32)
    t = rng.integers(0, 4, 6)
    w = (rng.random(4) + 0.5).astype(np.float32)
    cases = [
        (nn.MSELoss(), torch.nn.MSELoss(), [x, y]),
        (nn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum"), [x, y]),
        (nn.L1Loss(reduction="none"), torch.nn.L1Loss(reduction="none"), [x, y]),
        (nn.HuberLoss(delta=0.5), torch.nn.HuberLoss(delta=0.5), [x, y]),
        (nn.SmoothL1Loss(beta=0.3), torch.nn.SmoothL1Loss(beta=0.3), [x, y]),
        (nn.BCELoss(weight=_t(w)), torch.nn.BCELoss(weight=torch.tensor(w)), [p, yb]),
        (nn.BCEWithLogitsLoss(pos_weight=_t(w)), torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)), [x, yb]),
        (nn.CrossEntropyLoss(weight=_t(w), ignore_index=1, label_smoothing=0.1),
         torch.nn.CrossEntropyLoss(weight=torch.tensor(w), ignore_index=1, label_smoothing=0.1), [x, t]),
        (nn.NLLLoss(weight=_t(w)), torch.nn.NLLLoss(weight=torch.tensor(w)), [x, t]),
        (nn.KLDivLoss(reduction="batchmean", log_target=True),
         torch.nn.KLDivLoss(reduction="batchmean", log_target=True), [x, y]),
        (nn.HingeEmbeddingLoss(margin=0.5), torch.nn.HingeEmbeddingLoss(margin=0.5), [x, np.sign(y)]),
        (nn.CosineEmbeddingLoss(margin=0.2), torch.nn.CosineEmbeddingLoss(margin=0.2),
         [x, y, np.array([1, -1, 1, 1, -1, -1])]),
    ]
    for ours, theirs, inputs in cases:
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        grads = (0,) if isinstance(ours, nn.HingeEmbeddingLoss) else \
            tuple(i for i, v in enumerate(inputs) if v.dtype.kind == "f" and i < 2)
        _parity(ours, theirs, inputs, grads, np.float32)


def test_module_extras():
    assert repr(nn.QuantileLoss(q=0.9)) == "QuantileLoss(q=0.9)"
    assert repr(nn.LogCoshLoss()) == "LogCoshLoss()"
    assert repr(nn.HingeLoss()) == "HingeLoss()"
    m = nn.CrossEntropyLoss(weight=pf.ones(3))
    assert list(m.state_dict()) == ["weight"]
    assert nn.CrossEntropyLoss().state_dict() == {}
    m.load_state_dict({"weight": np.array([1.0, 2.0, 3.0], np.float32)})
    np.testing.assert_array_equal(m.weight.numpy(), [1, 2, 3])
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        nn.CrossEntropyLoss(label_smoothing=-0.1)
    x = pf.tensor([[1.0, 2.0]], requires_grad=True)
    loss = nn.QuantileLoss(0.2)(x, pf.tensor([[0.0, 3.0]]))
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.8 / 2, -0.2 / 2]])

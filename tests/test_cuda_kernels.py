"""The CUDA kernels (pyfastnn._cuda through backends.cuda) against the NumPy reference:
GEMM in every variant, activations, the linear layer, softmax and cross-entropy, dropout,
the fused optimizers. Marked `cuda`: skipped without a GPU; on the CPU emulator with
PYFASTNN_CUDA_EMULATOR=1 (tests/cuda_emu)."""

import itertools
import zlib

import numpy as np
import pytest

cp = pytest.importorskip("cupy")

from pyfastnn.backends import reference as ref  # noqa: E402

pytestmark = pytest.mark.cuda

SIZES = [1, 7, 16, 17, 63, 64, 65, 255, 513]
TOL = {"fp32": 2e-5, "tf32": 4e-3, "bf16": 3e-2}  # relative to the largest |value| of the product


@pytest.fixture(scope="module")
def be():
    from pyfastnn.backends import cuda

    cuda._load()
    return cuda


@pytest.fixture(scope="module")
def kern():
    from pyfastnn import _cuda

    return _cuda


def dev(a):
    return cp.asarray(a)


def host(a):
    return cp.asnumpy(a)


def rand(rng, *shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def assert_close_rel(got, want, tol, what=""):
    scale = max(1.0, float(np.abs(want).max())) if want.size else 1.0
    err = float(np.abs(got.astype(np.float64) - want).max()) / scale if want.size else 0.0
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol}"


# ---------------------------------------------------------------------------- GEMM

def _gemm_case(kern, rng, m, n, k, ta, tb, variant, precision, alpha=1.0, beta=0.0, bias=False, act="none",
               batch=1):
    a = rand(rng, batch, *((k, m) if ta else (m, k)))
    b = rand(rng, batch, *((n, k) if tb else (k, n)))
    c0 = rand(rng, batch, m, n)
    bv = rand(rng, n) if bias else None
    want = ref.gemm(a, b, c0, alpha, beta, ta, tb).astype(np.float64)
    if bias:
        want = want + bv
    if act == "relu":
        want = np.maximum(want, 0)
    da, db, dc = dev(a), dev(b), dev(c0)
    dbias = dev(bv) if bias else None
    kern.gemm(da.data.ptr, db.data.ptr, dc.data.ptr, m, n, k, a.shape[2], b.shape[2], n, alpha, beta, ta, tb,
              batch, m * k, k * n, m * n, 0 if dbias is None else dbias.data.ptr, act, 0.0, 0.0, precision, variant,
              cp.cuda.get_current_stream().ptr)
    assert_close_rel(host(dc), want, TOL[precision] * (1 + k / 256), f"gemm {m}x{n}x{k} ta={ta} tb={tb} v={variant}")


@pytest.mark.parametrize("variant,precision", [(1, "fp32"), (2, "fp32"), (0, "fp32"), (3, "tf32"), (3, "bf16")])
@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
def test_gemm_shapes_transposes_and_variants(kern, variant, precision, ta, tb):
    rng = np.random.default_rng(7 + variant + 2 * ta + 4 * tb)
    combos = [(m, n, k) for m in SIZES for n in SIZES for k in SIZES]
    picks = [combos[i] for i in rng.choice(len(combos), 12, replace=False)]
    picks += [(1, 1, 1), (65, 17, 513), (513, 63, 7)]
    for m, n, k in picks:
        _gemm_case(kern, rng, m, n, k, ta, tb, variant, precision)


@pytest.mark.parametrize("variant,precision", [(1, "fp32"), (2, "fp32"), (3, "tf32")])
def test_gemm_alpha_beta_bias_activation_batched(kern, variant, precision):
    rng = np.random.default_rng(3)
    for ta, tb in itertools.product([False, True], repeat=2):
        _gemm_case(kern, rng, 37, 70, 45, ta, tb, variant, precision, alpha=0.5, beta=-1.5, bias=True, act="relu",
                   batch=3)
        _gemm_case(kern, rng, 17, 9, 130, ta, tb, variant, precision, alpha=2.0, beta=0.0, batch=2)


def test_gemm_beta_zero_ignores_nan_in_c_and_k_zero(kern):
    m, n = 5, 9
    c = cp.full((m, n), np.nan, cp.float32)
    a, b = dev(np.ones((m, 3), np.float32)), dev(np.ones((3, n), np.float32))
    kern.gemm(a.data.ptr, b.data.ptr, c.data.ptr, m, n, 3, 3, n, n)
    np.testing.assert_array_equal(host(c), np.full((m, n), 3.0, np.float32))
    bias = dev(np.arange(n, dtype=np.float32))
    c = cp.ones((m, n), cp.float32)
    kern.gemm(0, 0, c.data.ptr, m, n, 0, 1, n, n, 1.0, 2.0, bias=bias.data.ptr)  # k = 0: beta C + bias
    np.testing.assert_array_equal(host(c), 2.0 + np.arange(n, dtype=np.float32)[None, :].repeat(m, 0))


def test_gemm_misaligned_and_padded_operands(kern):
    """Leading dimensions that are not multiples of 4 and pointers off 16-byte alignment take
    the scalar-load path; results must not change."""
    rng = np.random.default_rng(11)
    m, n, k = 45, 38, 29
    for variant, precision in [(1, "fp32"), (2, "fp32"), (3, "tf32")]:
        abuf = dev(rand(rng, m * (k + 3) + 1))
        bbuf = dev(rand(rng, k * (n + 1) + 1))
        cbuf = cp.zeros(m * n + 1, cp.float32)
        a = abuf[1:].reshape(m, k + 3)[:, :k]
        b = bbuf[1:].reshape(k, n + 1)[:, :n]
        kern.gemm(abuf.data.ptr + 4, bbuf.data.ptr + 4, cbuf.data.ptr + 4, m, n, k, k + 3, n + 1, n,
                  precision=precision, variant=variant)
        want = host(a).astype(np.float64) @ host(b).astype(np.float64)
        assert_close_rel(host(cbuf[1:]).reshape(m, n), want, TOL[precision], f"misaligned v={variant}")


def test_gemm_argument_errors(kern):
    with pytest.raises(ValueError, match="gemm: argument 'lda' must be >= 4"):
        kern.gemm(1, 1, 1, 2, 2, 4, 3, 2, 2)
    with pytest.raises(ValueError, match="gemm: argument 'a' is a null device pointer"):
        kern.gemm(0, 1, 1, 2, 2, 2, 2, 2, 2)
    with pytest.raises(ValueError, match="gemm: argument 'precision' must be"):
        kern.gemm(1, 1, 1, 2, 2, 2, 2, 2, 2, precision="fp16")
    with pytest.raises(ValueError, match="gemm: argument 'm' must be >= 0"):
        kern.gemm(1, 1, 1, -2, 2, 2, 2, 2, 2)
    with pytest.raises(ValueError, match="gemm: unknown activation 'swish'"):
        kern.gemm(1, 1, 1, 2, 2, 2, 2, 2, 2, activation="swish")


def test_array_matmul_numpy_semantics(be):
    rng = np.random.default_rng(5)
    cases = [((7, 5), (5, 3)), ((5,), (5, 3)), ((7, 5), (5,)), ((5,), (5,)), ((4, 7, 5), (5, 3)),
             ((2, 1, 7, 5), (3, 5, 6)), ((0, 5), (5, 3)), ((3, 0), (0, 4))]
    for sa, sb in cases:
        a, b = rand(rng, *sa), rand(rng, *sb)
        got = host(be.array_matmul(dev(a), dev(b)))
        np.testing.assert_allclose(got, np.matmul(a, b), rtol=1e-5, atol=1e-5)
    a, b = rand(rng, 9, 6), rand(rng, 8, 18)  # transposed and strided views are read in place
    got = host(be.array_matmul(dev(a).T, dev(b).T[::2]))
    np.testing.assert_allclose(got, a.T @ b.T[::2], rtol=1e-5, atol=1e-5)
    a64 = rng.standard_normal((4, 3))
    np.testing.assert_allclose(host(be.array_matmul(dev(a64), dev(a64.T))), a64 @ a64.T, rtol=1e-12)


def test_tf32_flag_changes_rounding(be):
    """allow_tf32 moves float32 products onto the tensor cores: results within TF32 error of
    the exact product, and (for these inputs) not bit-equal to the FP32 kernel's."""
    rng = np.random.default_rng(2)
    a, b = rand(rng, 256, 512), rand(rng, 512, 256)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    fp32 = host(be.array_matmul(dev(a), dev(b)))
    be.matmul.allow_tf32 = True
    try:
        tf32 = host(be.array_matmul(dev(a), dev(b)))
    finally:
        be.matmul.allow_tf32 = False
    assert_close_rel(fp32, exact, 2e-5, "fp32")
    assert_close_rel(tf32, exact, 1e-2, "tf32")
    assert not np.array_equal(fp32, tf32)


# ---------------------------------------------------------------------------- activations

KINDS = ref.ACTIVATION_KINDS
PARAMS = {"leaky_relu": (0.1, 0.0), "elu": (0.7, 0.0), "hardtanh": (-0.5, 2.0), "softplus": (1.5, 10.0)}


def _act_input(rng, n, dtype):
    x = (rng.standard_normal(n) * 4).astype(dtype)
    specials = np.array([0.0, -3.0, 3.0, 6.0, -1.0, 1.0, np.nan, 30.0, -30.0], dtype)
    x[: min(n, specials.size)] = specials[: min(n, specials.size)]
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", KINDS)
def test_activation_forward_backward(be, kind, dtype):
    rng = np.random.default_rng(zlib.crc32(kind.encode()))
    alpha, beta = PARAMS.get(kind, (0.0, 0.0))
    rtol = 2e-6 if dtype == np.float32 else 1e-12
    for n in (1, 7, 1029):
        x = _act_input(rng, n, dtype)
        gy = rng.standard_normal(n).astype(dtype)
        y_ref = ref.activation_forward(kind, x, alpha, beta)
        y = host(be.activation_forward(kind, dev(x), alpha, beta))
        np.testing.assert_allclose(y, y_ref, rtol=rtol * 4, atol=rtol * 4, equal_nan=True, err_msg=kind)
        saves = ref.activation_saves(kind, alpha)
        xs, ys = (x, None) if saves == "x" else (None, y_ref)
        g_ref = ref.activation_backward(kind, xs, ys, gy, alpha, beta)
        g = host(be.activation_backward(kind, None if xs is None else dev(xs), None if ys is None else dev(ys),
                                        dev(gy), alpha, beta))
        np.testing.assert_allclose(g, g_ref, rtol=rtol * 8, atol=rtol * 8, equal_nan=True, err_msg=kind)


def test_activation_misaligned_views_and_shapes(be):
    rng = np.random.default_rng(1)
    base = rng.standard_normal(3 * 5 * 7 + 1).astype(np.float32)
    xv = dev(base)[1:].reshape(3, 5, 7)  # 4 bytes off alignment: the scalar path
    y = be.activation_forward("gelu", xv)
    assert y.shape == (3, 5, 7)
    np.testing.assert_allclose(host(y), ref.activation_forward("gelu", base[1:].reshape(3, 5, 7)), rtol=1e-5,
                               atol=1e-6)
    t = dev(rng.standard_normal((6, 4)).astype(np.float32)).T  # non-contiguous: copied
    np.testing.assert_allclose(host(be.activation_forward("tanh", t)), np.tanh(host(t)), rtol=1e-6, atol=1e-6)


def test_activation_errors(be):
    with pytest.raises(ValueError, match="unknown activation kind 'swish'"):
        be.activation_forward("swish", cp.ones(3, cp.float32))
    with pytest.raises(TypeError, match="must be float32 or float64"):
        be.activation_forward("relu", cp.ones(3, cp.int64))
    with pytest.raises(ValueError, match="must be on the GPU"):
        be.activation_forward("relu", np.ones(3, np.float32))
    with pytest.raises(ValueError, match="needs the forward input 'x'"):
        be.activation_backward("gelu", None, cp.ones(3, cp.float32), cp.ones(3, cp.float32))


# ---------------------------------------------------------------------------- linear

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", [None, "relu"])
def test_linear_forward_backward(be, dtype, activation):
    rng = np.random.default_rng(4)
    tol = 5e-5 if dtype == np.float32 else 1e-10
    for batch, fin, fout in [(1, 1, 1), (7, 17, 65), (64, 784, 130), (33, 5, 1)]:
        x, w = rand(rng, batch, fin, dtype=dtype), rand(rng, fout, fin, dtype=dtype)
        b, gy = rand(rng, fout, dtype=dtype), rand(rng, batch, fout, dtype=dtype)
        y_ref = ref.linear_forward(x, w, b, activation)
        y = be.linear_forward(dev(x), dev(w), dev(b), activation)
        assert_close_rel(host(y), y_ref, tol, "y")
        assert_close_rel(host(be.linear_forward(dev(x), dev(w), None, activation)),
                         ref.linear_forward(x, w, None, activation), tol, "y without bias")
        got = be.linear_backward(dev(x), dev(w), y, dev(gy), activation, True, True, True)
        want = ref.linear_backward(x, w, y_ref, gy, activation, True, True, True)
        for name, g, r in zip(("dx", "dw", "db"), got, want):
            assert_close_rel(host(g), r, tol * (1 + batch / 64), name)
        dx, dw, db = be.linear_backward(dev(x), dev(w), y, dev(gy), activation, False, True, False)
        assert dx is None and db is None and dw is not None
    gz, db = be.bias_act_backward(dev(y_ref), dev(gy), activation)
    gz_ref, db_ref = ref.bias_act_backward(y_ref, gy, activation)
    assert_close_rel(host(gz), gz_ref, tol, "gz")
    assert_close_rel(host(db), db_ref, tol, "db")


def test_linear_device_and_shape_errors(be):
    x, w = cp.ones((2, 3), cp.float32), cp.ones((4, 3), cp.float32)
    with pytest.raises(ValueError, match="linear_forward: argument 'weight' must be on the GPU"):
        be.linear_forward(x, np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match="expected x \\(batch, in_features\\)"):
        be.linear_forward(x, cp.ones((4, 5), cp.float32))
    with pytest.raises(TypeError, match="must have the dtype of 'x'"):
        be.linear_forward(x, w.astype(cp.float64))
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        be.linear_forward(x, w, None, "gelu")


# ---------------------------------------------------------------------------- softmax

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (5, 1024), (2, 1025), (3, 4099), (2, 3, 5)])
def test_softmax_and_log_softmax(be, shape, dtype):
    rng = np.random.default_rng(6)
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    tol = 2e-6 if dtype == np.float32 else 1e-12
    for fwd, bwd in (("softmax_forward", "softmax_backward"), ("log_softmax_forward", "log_softmax_backward")):
        y_ref = getattr(ref, fwd)(x)
        y = getattr(be, fwd)(dev(x))
        np.testing.assert_allclose(host(y), y_ref, rtol=tol * 10, atol=tol * 10, err_msg=fwd)
        g = getattr(be, bwd)(y, dev(gy))
        np.testing.assert_allclose(host(g), getattr(ref, bwd)(y_ref, gy), rtol=tol * 50, atol=tol * 50, err_msg=bwd)


def test_softmax_extremes(be):
    x = np.array([[1e4, -1e4, 0.0], [-np.inf, 0.0, 1.0], [np.nan, 1.0, 2.0]], np.float32)
    y = host(be.softmax_forward(dev(x)))
    np.testing.assert_allclose(y[:2], ref.softmax_forward(x[:2]), rtol=1e-6, atol=1e-7)
    assert np.isnan(y[2]).all()


# ---------------------------------------------------------------------------- cross-entropy

def _xent_case(be, rng, n, c, dtype=np.float32, prob=False, weight=False, smoothing=0.0, reduction="mean",
               ignore=False, sample_weight=False):
    x = (rng.standard_normal((n, c)) * 3).astype(dtype)
    if prob:
        t = rng.random((n, c)).astype(dtype)
        t /= t.sum(1, keepdims=True)
    else:
        t = rng.integers(0, c, n).astype(np.int64)
        if ignore and n > 1:
            t[::3] = -100
    w = rng.random(c).astype(dtype) + 0.5 if weight else None
    sw = rng.random(n).astype(dtype) + 0.5 if sample_weight else None
    loss_ref, state_ref = ref.softmax_xent_forward(x, t, w, -100, smoothing, reduction, sw)
    loss, state = be.softmax_xent_forward(dev(x), dev(t), None if w is None else dev(w), -100, smoothing, reduction,
                                          None if sw is None else dev(sw))
    tol = 5e-6 if dtype == np.float32 else 1e-12
    what = f"xent n={n} c={c} prob={prob} w={weight} eps={smoothing} {reduction} ignore={ignore} sw={sample_weight}"
    np.testing.assert_allclose(host(loss), loss_ref, rtol=tol * 20, atol=tol * 20, err_msg=what)
    np.testing.assert_allclose(host(state)[:3], state_ref, rtol=tol * 20, atol=tol * 20, err_msg=what + " state")
    g = rng.standard_normal(n).astype(dtype) if reduction == "none" else np.asarray(1.7, dtype)
    dx_ref = ref.softmax_xent_backward(x, t, state_ref, g, w, -100, smoothing, reduction, sw)
    dx = be.softmax_xent_backward(dev(x), dev(t), state, dev(g), None if w is None else dev(w), -100, smoothing,
                                  reduction, None if sw is None else dev(sw))
    np.testing.assert_allclose(host(dx), dx_ref, rtol=tol * 20, atol=tol * 20, err_msg=what + " grad")


@pytest.mark.parametrize("c", [1, 10, 1000, 1025, 4099])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_index_targets(be, c, reduction):
    rng = np.random.default_rng(c)
    for n in (1, 37):
        _xent_case(be, rng, n, c, reduction=reduction)
        _xent_case(be, rng, n, c, reduction=reduction, weight=True, ignore=True)
        _xent_case(be, rng, n, c, reduction=reduction, smoothing=0.1, weight=True, sample_weight=True)


@pytest.mark.parametrize("c", [3, 1030])
def test_cross_entropy_probability_targets_and_float64(be, c):
    rng = np.random.default_rng(c + 1)
    for reduction in ("mean", "sum", "none"):
        _xent_case(be, rng, 9, c, prob=True, reduction=reduction)
        _xent_case(be, rng, 9, c, prob=True, weight=True, smoothing=0.2, reduction=reduction, sample_weight=True)
        _xent_case(be, rng, 9, c, dtype=np.float64, smoothing=0.05, weight=True, ignore=True, reduction=reduction)


def test_cross_entropy_all_ignored_and_bad_targets(be):
    x = dev(np.zeros((3, 4), np.float32))
    t = dev(np.full(3, -100, np.int64))
    loss, state = be.softmax_xent_forward(x, t)
    assert np.isnan(host(loss))  # 0 / 0, as PyTorch
    g = be.softmax_xent_backward(x, t, state, cp.asarray(1.0, cp.float32))
    np.testing.assert_array_equal(host(g), np.zeros((3, 4), np.float32))
    bad = dev(np.array([0, 4, 1], np.int64))
    loss, _ = be.softmax_xent_forward(x, bad, reduction="none")
    assert np.isnan(host(loss)[1]) and np.isfinite(host(loss)[[0, 2]]).all()
    be.check_targets = True
    try:
        with pytest.raises(ValueError, match="target 4 is out of bounds for 4 classes"):
            be.softmax_xent_forward(x, bad)
    finally:
        be.check_targets = False


# ---------------------------------------------------------------------------- dropout

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_same_mask_as_cpu(be, dtype):
    rng = np.random.default_rng(8)
    for n, p, seed in [(1, 0.5, 3), (7, 0.3, 12345), (1001, 0.5, 2**62 + 17), (4096, 0.0, 1), (33, 1.0, 9)]:
        x = rng.standard_normal(n).astype(dtype)
        y_ref = ref.dropout_forward(x, p, seed)
        np.testing.assert_array_equal(host(be.dropout_forward(dev(x), p, seed)), y_ref)
        np.testing.assert_array_equal(host(be.dropout_mask(n, p, seed)), ref.dropout_mask(n, p, seed))
    x = dev(rng.standard_normal(2 * 3 * 5 + 1).astype(dtype))
    xv = x[1:].reshape(2, 3, 5)  # misaligned view
    np.testing.assert_array_equal(host(be.dropout_forward(xv, 0.4, 77)), ref.dropout_forward(host(xv), 0.4, 77))
    buf = dev(rng.standard_normal(10).astype(dtype))
    expect = ref.dropout_forward(host(buf), 0.25, 5)
    be.dropout_forward(buf, 0.25, 5, out=buf)  # in place
    np.testing.assert_array_equal(host(buf), expect)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        be.dropout_forward(buf, 1.5, 1)


# ---------------------------------------------------------------------------- optimizers

def _param_set(rng, sizes, dtype):
    ps = [rng.standard_normal(s).astype(dtype) for s in sizes]
    gs = [rng.standard_normal(s).astype(dtype) for s in sizes]
    return ps, gs


ADAM_CASES = [dict(), dict(weight_decay=0.1), dict(weight_decay=0.05, decoupled=True), dict(amsgrad=True),
              dict(maximize=True, weight_decay=0.01)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(ADAM_CASES)))
def test_adam_matches_reference(be, dtype, case):
    kw = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
              decoupled=False)
    kw.update(ADAM_CASES[case])
    rng = np.random.default_rng(case)
    sizes = [(3,), (7, 5), (70001,), (1,)] + [(i + 1,) for i in range(40)]  # > 36 tensors: several launches
    ps, _ = _param_set(rng, sizes, dtype)
    cps = [p.copy() for p in ps]
    state = {k: [np.zeros_like(p) for p in ps] for k in ("m", "v", "vmax")}
    dstate = {k: [dev(a) for a in v] for k, v in state.items()}
    dps = [dev(p) for p in ps]
    for step in range(1, 4):
        gs = [rng.standard_normal(p.shape).astype(dtype) for p in ps]
        steps = [step] * len(ps)
        ref.adam_step(cps, gs, state["m"], state["v"], state["vmax"] if kw["amsgrad"] else None, steps, **kw)
        be.adam_step(dps, [dev(g) for g in gs], dstate["m"], dstate["v"], dstate["vmax"] if kw["amsgrad"] else None,
                     steps, **kw)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for d, r in zip(dps, cps):
        np.testing.assert_allclose(host(d), r, rtol=tol, atol=tol)
    for d, r in zip(dstate["v"], state["v"]):
        np.testing.assert_allclose(host(d), r, rtol=tol, atol=tol)


SGD_CASES = [dict(momentum=0.0), dict(momentum=0.9), dict(momentum=0.9, nesterov=True, weight_decay=0.01),
             dict(momentum=0.5, dampening=0.3, maximize=True)]


@pytest.mark.parametrize("case", range(len(SGD_CASES)))
def test_sgd_matches_reference(be, case):
    kw = dict(lr=0.1, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, maximize=False)
    kw.update(SGD_CASES[case])
    rng = np.random.default_rng(10 + case)
    sizes = [(5,), (66000,), (3, 3)] + [(2,)] * 38
    ps, _ = _param_set(rng, sizes, np.float32)
    cps, dps = [p.copy() for p in ps], [dev(p) for p in ps]
    bufs = [np.zeros_like(p) for p in ps] if kw["momentum"] else []
    dbufs = [dev(b) for b in bufs]
    for step in range(3):
        gs = [rng.standard_normal(p.shape).astype(np.float32) for p in ps]
        first = [step == 0] * len(ps)
        ref.sgd_step(cps, gs, bufs, first, **kw)
        be.sgd_step(dps, [dev(g) for g in gs], dbufs, first, **kw)
    for d, r in zip(dps, cps):
        np.testing.assert_allclose(host(d), r, rtol=2e-6, atol=2e-6)


def test_optimizer_device_errors(be):
    p = cp.zeros(3, cp.float32)
    with pytest.raises(ValueError, match=r"sgd_step: argument 'grads\[0\]' must be on the GPU"):
        be.sgd_step([p], [np.zeros(3, np.float32)], [], [], 0.1, 0.0, 0.0, False, 0.0, False)
    with pytest.raises(ValueError, match="adam_step: exp_avgs\\[0\\] must be a C-contiguous float32 array"):
        be.adam_step([p], [p], [cp.zeros(4, cp.float32)], [p], None, [1], 1e-3, 0.9, 0.999, 1e-8, 0.0, False, False,
                     False)


def test_rmsprop_adagrad_adadelta_run_on_device(be):
    rng = np.random.default_rng(12)
    p, g = rng.standard_normal(10), rng.standard_normal(10)
    for name, args in [("rmsprop_step", ([np.zeros(10)], [np.zeros(10)], [np.zeros(10)], 0.01, 0.99, 1e-8, 0.0, 0.9,
                                         True, False)),
                       ("adagrad_step", ([np.zeros(10)], [1], 0.01, 0.0, 0.0, 1e-10, False)),
                       ("adadelta_step", ([np.zeros(10)], [np.zeros(10)], 1.0, 0.9, 1e-6, 0.0, False))]:
        dargs = tuple([dev(a) for a in x] if isinstance(x, list) and isinstance(x[0], np.ndarray) else x
                      for x in args)
        cpu_p = [p.copy()]
        getattr(ref, name)(cpu_p, [g], *args)
        dp = [dev(p)]
        getattr(be, name)(dp, [dev(g)], *dargs)
        np.testing.assert_allclose(host(dp[0]), cpu_p[0], rtol=1e-12, err_msg=name)


def test_ops_without_kernels_say_so(be):
    with pytest.raises(NotImplementedError, match="conv2d_forward: there is no CUDA kernel for it yet"):
        be.conv2d_forward

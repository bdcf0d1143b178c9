"""The fused linear layer: the GEMM epilogue (bias + ReLU in the kernel's store), the
linear_forward / linear_backward kernels against the NumPy reference, F.linear and
nn.Linear (gradcheck, PyTorch parity, shapes, errors) and the Sequential fusion."""

import itertools

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import _C, nn
from pyfastnn.autograd.gradcheck import gradcheck
from pyfastnn.backends import cpu, reference
from pyfastnn.nn import functional as F
from pyfastnn.nn.linear import sequential_forward

from gemm_check import error_bound, operands

TRANS = list(itertools.product([False, True], [False, True]))
TRANS_IDS = ["NN", "NT", "TN", "TT"]


def _torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- GEMM epilogue


def run_epilogue(rng, m, n, k, dtype=np.float32, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, bias=True,
                 act="relu", pads=(0, 0, 0), batched=False):
    a, b, c = operands(rng, m, n, k, dtype, trans_a, trans_b, pads)
    bv = rng.standard_normal(n).astype(dtype) if bias else None
    c0 = c.copy()
    if batched:  # the same product twice as a batch of 2: bias and activation apply to both
        a3, b3 = np.stack([a, a]), np.stack([b, b])
        c3 = np.stack([c0, c0])
        _C.gemm_strided_batched(a3, b3, c3, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b, bias=bv,
                                activation=act)
        np.testing.assert_array_equal(c3[0], c3[1])
        got = c3[0]
    else:
        _C.gemm(a, b, c, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b, bias=bv, activation=act)
        got = c
    pre = reference.gemm(a, b, c0, alpha, beta, trans_a, trans_b).astype(np.float64)
    if bv is not None:
        pre = pre + bv.astype(np.float64)
    want = np.maximum(pre, 0.0) if act == "relu" else pre
    eps = np.finfo(dtype).eps
    bound = error_bound(a, b, c0, alpha, beta, trans_a, trans_b) + 2 * eps * (np.abs(pre) + (np.abs(bv) if bias else 0))
    err = np.abs(got.astype(np.float64) - want)
    bad = ~(err <= bound)
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        raise AssertionError(f"epilogue mismatch m={m} n={n} k={k} alpha={alpha} beta={beta} bias={bias} act={act}: "
                             f"{bad.sum()} elements off, first at {i}: got {got[i]!r}, want {want[i]!r}")
    if act == "relu":
        assert (got >= 0).all()


@pytest.mark.parametrize("trans", TRANS, ids=TRANS_IDS)
def test_epilogue_random_shapes_each_isa_and_thread_count(isa, threads, trans):
    rng = np.random.default_rng(5)
    shapes = [(1, 1, 1), (7, 17, 5), (13, 33, 300), (65, 70, 257), (128, 256, 100)]
    shapes += [tuple(int(v) for v in rng.integers(1, 200, size=3)) for _ in range(6)]
    for m, n, k in shapes:
        for bias, act in itertools.product([False, True], ["relu", None]):
            alpha, beta = float(rng.choice([1.0, -0.75])), float(rng.choice([0.0, 1.0, 0.5]))
            run_epilogue(rng, m, n, k, np.float32, *trans, alpha=alpha, beta=beta, bias=bias, act=act)


@pytest.mark.parametrize("trans", TRANS, ids=TRANS_IDS)
def test_epilogue_double(isa, trans):
    rng = np.random.default_rng(6)
    for m, n, k in [(1, 1, 1), (7, 17, 5), (65, 33, 300), (30, 9, 700)]:
        for bias, act in itertools.product([False, True], ["relu", None]):
            run_epilogue(rng, m, n, k, np.float64, *trans, alpha=1.5, beta=0.5, bias=bias, act=act)


def test_epilogue_applies_once_across_k_blocks(isa, threads):
    # k spans several KC blocks: bias must be added once, ReLU applied to the final sum only
    rng = np.random.default_rng(7)
    for k in (1000, 2100):
        run_epilogue(rng, 37, 50, k, np.float32, beta=0.0)
        run_epilogue(rng, 37, 50, k, np.float32, beta=1.0)
        run_epilogue(rng, 40, 45, k, np.float32, True, True, beta=0.5)


def test_epilogue_leading_dimensions_and_batched(isa, rng):
    run_epilogue(rng, 17, 33, 65, np.float32, pads=(3, 5, 7), beta=0.5)
    run_epilogue(rng, 130, 20, 257, np.float32, True, False, pads=(64, 1, 3))
    run_epilogue(rng, 12, 40, 30, np.float32, batched=True, beta=0.5)


def test_epilogue_trivial_cases(rng):
    # k == 0 and alpha == 0 take the no-product path: c = act(beta c + bias)
    c = rng.standard_normal((5, 6)).astype(np.float32)
    bias = rng.standard_normal(6).astype(np.float32)
    want = np.maximum(2 * c + bias, 0)
    _C.gemm(np.zeros((5, 0), np.float32), np.zeros((0, 6), np.float32), c, beta=2.0, bias=bias, activation="relu")
    np.testing.assert_allclose(c, want, rtol=1e-6)
    c = np.full((5, 6), np.nan, np.float32)
    a, b, _ = operands(rng, 5, 6, 4, np.float32)
    _C.gemm(a, b, c, alpha=0.0, beta=0.0, bias=bias)
    np.testing.assert_array_equal(c, np.broadcast_to(bias, (5, 6)))


def test_epilogue_relu_keeps_nan_and_beta_zero_does_not_read_c(isa, rng):
    a, b, _ = operands(rng, 20, 40, 30, np.float32)
    c = np.full((20, 40), np.nan, np.float32)
    _C.gemm(a, b, c, beta=0.0, bias=np.zeros(40, np.float32), activation="relu")
    assert np.isfinite(c).all() and (c >= 0).all()
    c = np.zeros((20, 40), np.float32)
    c[3, 5] = np.nan
    c[7, 39] = np.nan  # the last, ragged column block of some tilings
    _C.gemm(a, b, c, beta=1.0, activation="relu")
    assert np.isnan(c[3, 5]) and np.isnan(c[7, 39])
    assert np.isnan(c).sum() == 2


def test_plain_gemm_unchanged_by_default_arguments(rng):
    a, b, c = operands(rng, 31, 47, 59, np.float32)
    c1, c2 = c.copy(), c.copy()
    _C.gemm(a, b, c1, beta=0.5)
    _C.gemm(a, b, c2, beta=0.5, bias=None, activation=None)
    np.testing.assert_array_equal(c1, c2)
    _C.gemm(a, b, c2, beta=0.0, activation="none")
    _C.gemm(a, b, c1, beta=0.0)
    np.testing.assert_array_equal(c1, c2)


def test_epilogue_bad_input():
    a, b, c = np.zeros((3, 4), np.float32), np.zeros((4, 5), np.float32), np.zeros((3, 5), np.float32)
    with pytest.raises(ValueError, match=r"gemm: argument 'bias' must have shape \(5,\) \(one value per output column\), got \(4,\)"):
        _C.gemm(a, b, c, bias=np.zeros(4, np.float32))
    with pytest.raises(TypeError, match=r"gemm: argument 'bias' must be None or a float32 numpy array, got a float64"):
        _C.gemm(a, b, c, bias=np.zeros(5))
    with pytest.raises(ValueError, match=r"gemm: unknown activation 'gelu'"):
        _C.gemm(a, b, c, activation="gelu")
    with pytest.raises(TypeError, match=r"argument 'activation' must be None or a string"):
        _C.gemm(a, b, c, activation=1)
    with pytest.raises(ValueError, match=r"argument 'bias' must be contiguous"):
        _C.gemm(a, b, c, bias=np.zeros(10, np.float32)[::2])
    with pytest.raises(ValueError, match=r"must not share memory with 'bias'"):
        _C.gemm(a, b, c, bias=c[0])


# ---------------------------------------------------------------- kernels vs reference


def _layer(rng, batch, fin, fout, dtype, pad=0):
    xs = rng.standard_normal((batch, fin + pad)).astype(dtype)
    x = xs[:, :fin]  # a row slice: any leading dimension is read in place
    w = (rng.standard_normal((fout, fin)) / np.sqrt(max(fin, 1))).astype(dtype)
    b = rng.standard_normal(fout).astype(dtype)
    return x, w, b


def _tol(dtype, k):
    return (5e-6 * np.sqrt(max(k, 1)), 1e-5 * max(k, 1) ** 0.5) if dtype == np.float32 else (1e-12, 1e-12)


SHAPES = [(1, 1, 1), (0, 5, 3), (4, 0, 3), (4, 5, 0), (7, 17, 5), (64, 100, 33), (128, 784, 256), (300, 20, 70),
          (600, 9, 70)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_forward_and_backward_match_reference(isa, threads, dtype):
    rng = np.random.default_rng(11)
    for batch, fin, fout in SHAPES:
        for act, use_bias in itertools.product([None, "relu"], [True, False]):
            x, w, b = _layer(rng, batch, fin, fout, dtype, pad=3)
            b = b if use_bias else None
            y = cpu.linear_forward(x, w, b, act)
            y_ref = reference.linear_forward(x, w, b, act)
            assert y.dtype == dtype and y.shape == (batch, fout)
            rtol, atol = _tol(dtype, fin)
            np.testing.assert_allclose(y, y_ref, rtol=rtol, atol=atol)
            gy = rng.standard_normal((batch, fout)).astype(dtype)
            got = cpu.linear_backward(x, w, y, gy, act, True, True, True)
            want = reference.linear_backward(x, w, y, gy, act, True, True, True)
            for name, g, r, k in zip(("dx", "dw", "db"), got, want, (fout, batch, batch)):
                rtol, atol = _tol(dtype, k)
                assert g.dtype == dtype and g.shape == r.shape, name
                np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, err_msg=f"{name} {batch}x{fin}->{fout} {act}")


def test_backward_computes_only_what_is_asked(rng):
    x, w, b = _layer(rng, 9, 7, 5, np.float32)
    y = cpu.linear_forward(x, w, b, "relu")
    gy = rng.standard_normal(y.shape).astype(np.float32)
    full = cpu.linear_backward(x, w, y, gy, "relu")
    for flags in itertools.product([False, True], repeat=3):
        got = cpu.linear_backward(x, w, y, gy, "relu", *flags)
        for want, g, flag in zip(full, got, flags):
            if flag:
                np.testing.assert_array_equal(g, want)
            else:
                assert g is None


def test_db_is_the_same_for_any_thread_count(rng):
    # more rows than one chunk of the column sums: partial sums added in a fixed order
    x, w, b = _layer(rng, 2000, 30, 300, np.float32)
    y = cpu.linear_forward(x, w, b, "relu")
    gy = rng.standard_normal(y.shape).astype(np.float32)
    before = pf.get_num_threads()
    try:
        results = []
        for t in (1, 2, 3):
            pf.set_num_threads(t)
            results.append(cpu.bias_act_backward(y, gy, "relu"))
    finally:
        pf.set_num_threads(before)
    for gz, db in results[1:]:
        np.testing.assert_array_equal(gz, results[0][0])
        np.testing.assert_array_equal(db, results[0][1])
    gz_ref, db_ref = reference.bias_act_backward(y, gy, "relu")
    np.testing.assert_array_equal(results[0][0], gz_ref)
    np.testing.assert_allclose(results[0][1], db_ref, rtol=1e-5, atol=1e-4)


def test_bias_act_backward_relu_semantics(isa):
    y = np.array([[-1.0, 0.0, 2.0, np.nan, -0.0, 3.0]], np.float32)
    gy = np.array([[5.0, 6.0, 7.0, 8.0, 9.0, np.nan]], np.float32)
    gz, db = cpu.bias_act_backward(y, gy, "relu")
    # PyTorch's threshold_backward: zero where y <= 0; NaN in y passes the gradient through
    np.testing.assert_array_equal(gz, [[0, 0, 7, 8, 0, np.nan]])
    np.testing.assert_array_equal(db, [0, 0, 7, 8, 0, np.nan])
    gz_ref, db_ref = reference.bias_act_backward(y, gy, "relu")
    np.testing.assert_array_equal(gz, gz_ref)
    gz, db = cpu.bias_act_backward(None, gy, None)
    np.testing.assert_array_equal(gz, gy)


def test_kernel_bad_input():
    x, w = np.zeros((3, 4), np.float32), np.zeros((5, 4), np.float32)
    with pytest.raises(ValueError, match=r"linear_forward: argument 'weight' must have shape \(out_features, 4\)"):
        _C.linear_forward(x, np.zeros((5, 3), np.float32))
    with pytest.raises(TypeError, match=r"linear_forward: argument 'weight' must be a float32 numpy array \(the dtype of 'x'\)"):
        _C.linear_forward(x, w.astype(np.float64))
    with pytest.raises(TypeError, match=r"linear_forward: argument 'x' must be a float32 or float64 numpy array"):
        _C.linear_forward(x.astype(np.int32), w)
    with pytest.raises(ValueError, match=r"argument 'bias' must have shape \(5,\)"):
        _C.linear_forward(x, w, np.zeros(4, np.float32))
    with pytest.raises(ValueError, match=r"unknown activation 'tanh'"):
        _C.linear_forward(x, w, None, "tanh")
    with pytest.raises(ValueError, match=r"linear_backward: argument 'gy' must have shape \(3, 5\)"):
        _C.linear_backward(x, w, None, np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"argument 'y' \(the forward output\) is needed"):
        _C.linear_backward(x, w, None, np.zeros((3, 5), np.float32), "relu")


# ---------------------------------------------------------------- F.linear / autograd


def _t(a, grad=True):
    return pf.tensor(a).requires_grad_(grad)


@pytest.mark.parametrize("activation", [None, "relu"])
def test_gradcheck(activation):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4))
    w = rng.standard_normal((5, 4))
    b = rng.standard_normal(5)
    if activation == "relu":  # keep the pre-activations away from the kink at 0
        pre = x @ w.T + b
        b = b + np.where(np.abs(pre) < 0.1, 0.3, 0.0).max(axis=(0, 1))
    xt, wt, bt = _t(x), _t(w), _t(b)
    assert gradcheck(lambda a, ww, bb: F.linear(a, ww, bb, activation=activation), (xt, wt, bt))
    assert gradcheck(lambda a, ww: F.linear(a, ww), (xt, wt))


def test_gradcheck_reference_backend():
    rng = np.random.default_rng(4)
    pf.use_backend("reference")
    try:
        args = (_t(rng.standard_normal((3, 4))), _t(rng.standard_normal((2, 4))), _t(rng.standard_normal(2)))
        assert gradcheck(lambda a, w, b: F.linear(a, w, b), args)
    finally:
        pf.use_backend("cpu")


def test_shapes_nd_1d_batch_of_one_and_empty():
    lin = nn.Linear(6, 4)
    for shape in [(2, 3, 5, 6), (6,), (1, 6), (0, 6), (3, 0, 6)]:
        x = pf.randn(*shape, requires_grad=True)
        y = lin(x)
        assert y.shape == shape[:-1] + (4,)
        lin.zero_grad()
        y.sum().backward()
        assert x.grad.shape == x.shape
        assert lin.weight.grad.shape == (4, 6) and lin.bias.grad.shape == (4,)
        xf = x.data.reshape(-1, 6)
        np.testing.assert_allclose(y.data.reshape(-1, 4), xf @ lin.weight.data.T + lin.bias.data, rtol=1e-5,
                                   atol=1e-5)
        np.testing.assert_allclose(lin.weight.grad.data, np.ones((xf.shape[0], 4), np.float32).T @ xf, rtol=1e-5,
                                   atol=1e-5)
        np.testing.assert_allclose(lin.bias.grad.data, np.full(4, xf.shape[0], np.float32))
        if xf.shape[0] == 0:
            assert (lin.weight.grad.data == 0).all() and (lin.bias.grad.data == 0).all()


def test_zero_features():
    lin = nn.Linear(0, 3)
    y = lin(pf.zeros(4, 0))
    np.testing.assert_array_equal(y.data, np.broadcast_to(lin.bias.data, (4, 3)))
    lin2 = nn.Linear(3, 0)
    x = pf.randn(4, 3, requires_grad=True)
    y = lin2(x)
    assert y.shape == (4, 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((4, 3), np.float32))


def test_linear_relu_node_and_values(rng):
    x = rng.standard_normal((8, 5)).astype(np.float32)
    w = rng.standard_normal((3, 5)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    xt, wt, bt = _t(x), _t(w), _t(b)
    y = F.linear_relu(xt, wt, bt)
    assert y.grad_fn.name() == "LinearReluBackward"
    np.testing.assert_allclose(y.data, np.maximum(x @ w.T + b, 0), rtol=1e-5, atol=1e-6)
    y.sum().backward()
    mask = (x @ w.T + b > 0).astype(np.float32)
    np.testing.assert_allclose(xt.grad.data, mask @ w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(wt.grad.data, mask.T @ x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bt.grad.data, mask.sum(0), rtol=1e-6)
    assert F.linear(xt, wt).grad_fn.name() == "LinearBackward"


def test_no_graph_without_grad(rng):
    lin = nn.Linear(5, 3)
    with pf.no_grad():
        y = lin(pf.randn(2, 5))
    assert y.grad_fn is None and not y.requires_grad
    x = rng.standard_normal((2, 5)).astype(np.float32)
    y = F.linear(x, lin.weight.data, lin.bias.data)  # plain arrays work too (constants)
    assert not y.requires_grad


def test_only_weight_requires_grad():
    lin = nn.Linear(5, 3, activation="relu")
    x = pf.randn(7, 5)  # an input layer: no dx
    lin(x).sum().backward()
    assert x.grad is None and lin.weight.grad is not None and lin.bias.grad is not None
    lin.weight.requires_grad_(False)
    lin.bias.grad = None
    lin(x).sum().backward()
    assert lin.bias.grad is not None


def test_two_stacked_linear_layers_equal_one(rng):
    """Without an activation, Linear(W2, b2) after Linear(W1, b1) is Linear(W2 W1, W2 b1 + b2)."""
    l1, l2 = nn.Linear(10, 7, dtype=np.float64), nn.Linear(7, 4, dtype=np.float64)
    one = nn.Linear(10, 4, dtype=np.float64)
    one.weight.data[...] = l2.weight.data @ l1.weight.data
    one.bias.data[...] = l2.weight.data @ l1.bias.data + l2.bias.data
    x = pf.tensor(rng.standard_normal((6, 10)))
    np.testing.assert_allclose(l2(l1(x)).data, one(x).data, rtol=1e-12, atol=1e-12)


def test_backends_agree(rng):
    x = rng.standard_normal((16, 9)).astype(np.float32)
    lin = nn.Linear(9, 5, activation="relu")
    out = {}
    for name in ("cpu", "reference"):
        pf.use_backend(name)
        try:
            lin.zero_grad()
            xt = _t(x)
            y = lin(xt)
            y.backward(np.linspace(-1, 1, y.data.size, dtype=np.float32).reshape(y.shape))
            out[name] = (y.data, xt.grad.data, lin.weight.grad.data, lin.bias.grad.data)
        finally:
            pf.use_backend("cpu")
    for a, b in zip(out["cpu"], out["reference"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_errors():
    lin = nn.Linear(784, 10)
    with pytest.raises(ValueError, match=r"^Linear: expected input with last dimension 784 \(in_features\), got shape \(28, 28\)$"):
        lin(pf.zeros(28, 28))
    with pytest.raises(ValueError, match=r"Linear: expected input with last dimension 784 \(in_features\), got a scalar"):
        lin(pf.tensor(1.0))
    with pytest.raises(ValueError, match=r"^linear: expected input with last dimension 784 \(in_features\), got shape \(2, 5\)$"):
        F.linear(pf.zeros(2, 5), lin.weight)
    with pytest.raises(TypeError, match=r"linear: input and weight must have the same dtype, got float64 and float32"):
        F.linear(pf.zeros(2, 784, dtype=pf.float64), lin.weight)
    with pytest.raises(TypeError, match=r"linear: expected a floating point input \(float32 or float64\), got int64"):
        F.linear(pf.tensor(np.zeros((2, 784), np.int64)), lin.weight)
    with pytest.raises(ValueError, match=r"linear: bias must have shape \(10,\) \(out_features\), got \(9,\)"):
        F.linear(pf.zeros(2, 784), lin.weight, pf.zeros(9))
    with pytest.raises(ValueError, match=r"linear: weight must be 2-D"):
        F.linear(pf.zeros(2, 784), pf.zeros(784))
    with pytest.raises(ValueError, match=r"Linear: argument 'in_features' must be a non-negative int"):
        nn.Linear(-1, 3)
    with pytest.raises(TypeError, match=r"Linear: argument 'activation' must be None or a string"):
        nn.Linear(2, 3, activation=5)


def test_module_api_is_pytorchs():
    lin = nn.Linear(4, 3)
    assert repr(lin) == "Linear(in_features=4, out_features=3, bias=True)"
    assert repr(nn.Linear(4, 3, bias=False)) == "Linear(in_features=4, out_features=3, bias=False)"
    assert repr(nn.Linear(4, 3, activation="relu")) == "Linear(in_features=4, out_features=3, bias=True, activation='relu')"
    assert list(lin.state_dict()) == ["weight", "bias"]
    assert list(nn.Linear(4, 3, bias=False).state_dict()) == ["weight"]
    assert nn.Linear(4, 3, dtype=np.float64).weight.dtype == np.float64
    bound = 1 / np.sqrt(4)
    assert np.abs(lin.weight.data).max() <= bound and np.abs(lin.bias.data).max() <= bound


def test_activation_keyword_applies_other_activations():
    act = pytest.importorskip("pyfastnn.ops.activation")
    if not hasattr(act, "get_activation"):
        pytest.skip("ops.activation.get_activation is not available yet")
    lin = nn.Linear(5, 4, activation="tanh")
    x = pf.randn(3, 5)
    np.testing.assert_allclose(lin(x).data, np.tanh(x.data @ lin.weight.data.T + lin.bias.data), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- PyTorch parity


@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize("shape", [(32, 20), (2, 3, 20), (1, 20), (20,)], ids=["2d", "3d", "batch1", "1d"])
def test_torch_parity(activation, shape):
    torch = _torch()
    rng = np.random.default_rng(8)
    lin = nn.Linear(20, 12, activation=activation)
    tl = torch.nn.Linear(20, 12)
    with torch.no_grad():
        tl.weight.copy_(torch.from_numpy(lin.weight.data))
        tl.bias.copy_(torch.from_numpy(lin.bias.data))
    x = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape[:-1] + (12,)).astype(np.float32)
    xt = _t(x)
    y = lin(xt)
    y.backward(g)
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = tl(tx)
    if activation == "relu":
        ty = torch.nn.functional.relu(ty)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lin.weight.grad.data, tl.weight.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lin.bias.grad.data, tl.bias.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_torch_parity_no_bias_float64():
    torch = _torch()
    rng = np.random.default_rng(9)
    w = rng.standard_normal((7, 11))
    x = rng.standard_normal((13, 11))
    xt, wt = _t(x), _t(w)
    y = F.linear(xt, wt)
    y.backward(np.ones_like(y.data))
    tx, tw = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(w).requires_grad_(True)
    ty = torch.nn.functional.linear(tx, tw)
    ty.backward(torch.ones_like(ty))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(wt.grad.data, tw.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_torch_state_dict_loads():
    torch = _torch()
    tl = torch.nn.Linear(6, 3)
    lin = nn.Linear(6, 3)
    lin.load_state_dict(tl.state_dict())
    x = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_allclose(lin(pf.tensor(x)).data, tl(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- Sequential fusion


def _relu_module():
    act = pytest.importorskip("pyfastnn.nn.activation")
    if not hasattr(act, "ReLU"):
        pytest.skip("nn.ReLU is not available yet")
    return act.ReLU


def test_sequential_forward_fuses_linear_relu():
    ReLU = _relu_module()
    l1, r, l2 = nn.Linear(8, 6), ReLU(), nn.Linear(6, 2)
    x = pf.randn(5, 8, requires_grad=True)
    y = sequential_forward([l1, r, l2], x)
    assert y.grad_fn.next[0][0].name() == "LinearReluBackward"  # l1 and the ReLU ran as one node
    want = np.maximum(x.data @ l1.weight.data.T + l1.bias.data, 0) @ l2.weight.data.T + l2.bias.data
    np.testing.assert_allclose(y.data, want, rtol=1e-5, atol=1e-6)
    # a hook on either module turns the fusion off (the hook must see the ReLU run)
    seen = []
    r.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    y2 = sequential_forward([l1, r, l2], x)
    assert seen == [(5, 6)]
    np.testing.assert_allclose(y2.data, y.data, rtol=1e-6, atol=1e-7)


def test_sequential_fusion_torch_parity():
    torch = _torch()
    ReLU = _relu_module()
    model = [nn.Linear(10, 16), ReLU(), nn.Linear(16, 16), ReLU(), nn.Linear(16, 3)]
    tmodel = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.ReLU(),
                                 torch.nn.Linear(16, 3))
    for m, tm in zip(model, tmodel):
        if isinstance(m, nn.Linear):
            m.load_state_dict(tm.state_dict())
    x = np.random.default_rng(2).standard_normal((9, 10)).astype(np.float32)
    xt = _t(x)
    y = sequential_forward(model, xt)
    y.sum().backward()
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = tmodel(tx)
    ty.sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    for m, tm in zip(model, tmodel):
        if isinstance(m, nn.Linear):
            np.testing.assert_allclose(m.weight.grad.data, tm.weight.grad.numpy(), rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(m.bias.grad.data, tm.bias.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_strided_views_are_accepted(rng):
    """Transposed views (tied weights, column-major inputs) and row slices give the same
    results and gradients as contiguous copies."""
    x = rng.standard_normal((9, 12)).astype(np.float32)
    e = rng.standard_normal((12, 5)).astype(np.float32)  # weight = e.T: a transposed view
    b = rng.standard_normal(10).astype(np.float32)[::2]  # a strided bias
    for xv in (np.asfortranarray(x), x):
        xt = pf.Tensor(xv, requires_grad=True)
        wt = pf.Tensor(e.T, requires_grad=True)
        bt = pf.Tensor(b, requires_grad=True)
        y = F.linear(xt, wt, bt, activation="relu")
        y.sum().backward()
        pre = x @ e + b
        np.testing.assert_allclose(y.data, np.maximum(pre, 0), rtol=1e-5, atol=1e-5)
        mask = (pre > 0).astype(np.float32)
        np.testing.assert_allclose(xt.grad.data, mask @ e.T, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(wt.grad.data, mask.T @ x, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(bt.grad.data, mask.sum(0), rtol=1e-5, atol=1e-5)

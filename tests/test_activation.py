"""Activation functions: C++ kernels vs the NumPy reference (every kind, float32/float64,
every ISA, threads), gradcheck through the Functions, PyTorch parity of the functional API
and the modules, the course facts, and errors."""

import math

import numpy as np
import pytest

import pyfastnn as pf
import pyfastnn.nn.functional as F
from pyfastnn import nn
from pyfastnn.autograd import gradcheck
from pyfastnn.backends import cpu
from pyfastnn.backends import reference as ref
from pyfastnn.ops.activation import get_activation

# (kind, alpha, beta): every kind, with parameters where it has them (negative slope/alpha
# included: then the backward reads x instead of y)
CASES = [
    ("relu", 0.0, 0.0),
    ("relu6", 0.0, 0.0),
    ("hardtanh", -1.0, 1.0),
    ("hardtanh", -2.0, 0.5),
    ("leaky_relu", 0.01, 0.0),
    ("leaky_relu", 0.1, 0.0),
    ("leaky_relu", -0.2, 0.0),
    ("elu", 1.0, 0.0),
    ("elu", 0.5, 0.0),
    ("elu", -0.3, 0.0),
    ("selu", 0.0, 0.0),
    ("gelu", 0.0, 0.0),
    ("gelu_tanh", 0.0, 0.0),
    ("silu", 0.0, 0.0),
    ("sigmoid", 0.0, 0.0),
    ("tanh", 0.0, 0.0),
    ("softplus", 1.0, 20.0),
    ("softplus", 2.0, 5.0),
    ("softplus", 0.5, 1.0),
    ("hardswish", 0.0, 0.0),
    ("hardsigmoid", 0.0, 0.0),
]
IDS = [f"{k}({a:g},{b:g})" for k, a, b in CASES]

# float32 kernels against the float64 reference: relative tolerance per kind (measured worst
# cases: gelu 8 ulp; gelu_tanh's exponent grows like x^3 and loses ~|2u| ulp of it).
RTOL32 = {"gelu": 2e-6, "gelu_tanh": 5e-5, "silu": 2e-6, "softplus": 2e-6, "tanh": 2e-6, "sigmoid": 2e-6}
SHAPES = [(), (0,), (1,), (1001,), (7, 13), (3, 0, 5), (2, 3, 4, 5)]


def _inputs(shape, dtype, rng):
    x = np.asarray(rng.standard_normal(shape) * 3, dtype=dtype)
    flat = x.reshape(-1)
    special = np.array([100.0, -100.0, 0.0, -0.0, 20.0, -20.0, 1.0, -1.0, 6.0, -3.0, 3.0, 1e-6, -1e-6, 1e-30],
                       dtype)
    k = min(flat.size, special.size)
    flat[:k] = special[:k]
    return x


def _saved(kind, alpha, x, y):
    """(x, y) as the Function passes them to activation_backward."""
    return (None, y) if ref.activation_saves(kind, alpha) == "y" else (x, None)


def _check_backend(kind, alpha, beta, x, rng, atol_bwd=None):
    dtype = x.dtype
    y = cpu.activation_forward(kind, x, alpha, beta)
    y_ref = ref.activation_forward(kind, x, alpha, beta)
    assert y.dtype == dtype and y.shape == x.shape
    if dtype == np.float32:
        rtol, atol = RTOL32.get(kind, 1e-6), 1e-30
    else:
        rtol, atol = 1e-12, 1e-300
    np.testing.assert_allclose(y, y_ref, rtol=rtol, atol=atol)

    gy = rng.standard_normal(x.shape).astype(dtype)
    xs, ys = _saved(kind, alpha, x, y)
    gx = cpu.activation_backward(kind, xs, ys, gy, alpha, beta)
    gx_ref = ref.activation_backward(kind, xs, ys, gy, alpha, beta)
    assert gx.dtype == dtype and gx.shape == x.shape
    if dtype == np.float32:
        # derivatives that cross zero (gelu, silu) or are read from y (elu: y + alpha) lose
        # relative accuracy near their zeros: an absolute floor of a few ulp of 1
        np.testing.assert_allclose(gx, gx_ref, rtol=RTOL32.get(kind, 1e-6), atol=atol_bwd or 1e-6)
    else:
        np.testing.assert_allclose(gx, gx_ref, rtol=1e-10, atol=atol_bwd or 1e-14)


# ---- kernels vs reference ----
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind,alpha,beta", CASES, ids=IDS)
def test_kernel_matches_reference(kind, alpha, beta, dtype, rng):
    for shape in SHAPES:
        _check_backend(kind, alpha, beta, _inputs(shape, dtype, rng), rng)


@pytest.mark.parametrize("kind,alpha,beta", CASES, ids=IDS)
def test_kernel_every_isa(kind, alpha, beta, isa, rng):
    for n in (1, 7, 16, 33, 1001):
        _check_backend(kind, alpha, beta, _inputs((n,), np.float32, rng), rng)


@pytest.mark.parametrize("kind", ["relu", "sigmoid", "gelu", "elu", "softplus"])
def test_kernel_threads_agree(kind, threads, rng):
    # large enough to be split between threads; elementwise, so results are bit-identical
    x = _inputs((3, 70001), np.float32, rng)
    gy = rng.standard_normal(x.shape).astype(np.float32)
    alpha, beta = (1.0, 20.0) if kind in ("elu", "softplus") else (0.0, 0.0)
    y = cpu.activation_forward(kind, x, alpha, beta)
    xs, ys = _saved(kind, alpha, x, y)
    gx = cpu.activation_backward(kind, xs, ys, gy, alpha, beta)
    before = pf.get_num_threads()
    pf.set_num_threads(1)
    try:
        np.testing.assert_array_equal(y, cpu.activation_forward(kind, x, alpha, beta))
        np.testing.assert_array_equal(gx, cpu.activation_backward(kind, xs, ys, gy, alpha, beta))
    finally:
        pf.set_num_threads(before)
    np.testing.assert_allclose(y, ref.activation_forward(kind, x, alpha, beta), rtol=RTOL32.get(kind, 1e-6),
                               atol=1e-30)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind,alpha,beta", CASES, ids=IDS)
def test_nan_propagates(kind, alpha, beta, dtype):
    x = np.array([np.nan, 1.0, -1.0, np.nan], dtype)
    y = cpu.activation_forward(kind, x, alpha, beta)
    assert np.isnan(y[[0, 3]]).all() and np.isfinite(y[[1, 2]]).all()
    gy = np.ones_like(x)
    xs, ys = _saved(kind, alpha, x, y)
    gx = cpu.activation_backward(kind, xs, ys, gy, alpha, beta)
    gx_ref = ref.activation_backward(kind, xs, ys, gy, alpha, beta)
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs(dtype):
    x = np.array([-1e30, -100.0, -0.0, 0.0, 100.0, 1e30], dtype)
    y = {k: cpu.activation_forward(k, x) for k in ("relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh")}
    relu = np.array([0, 0, 0, 0, 100, 1e30], dtype)
    np.testing.assert_array_equal(y["relu"], relu)
    for k in ("gelu", "gelu_tanh", "silu"):
        np.testing.assert_allclose(y[k], relu, atol=1e-30, rtol=0)
    np.testing.assert_allclose(y["sigmoid"], [0, 0, 0.5, 0.5, 1, 1], atol=1e-30, rtol=0)
    np.testing.assert_array_equal(y["tanh"], [-1, -1, 0, 0, 1, 1])
    assert np.isfinite(cpu.activation_forward("softplus", x, 1.0, 20.0)).all()
    assert np.isfinite(cpu.activation_forward("elu", x, 1.0)).all()
    for k in ("gelu", "gelu_tanh", "silu", "sigmoid", "tanh", "softplus", "elu", "selu"):
        a = 1.0 if k in ("elu", "softplus") else 0.0
        b = 20.0 if k == "softplus" else 0.0
        yk = cpu.activation_forward(k, x, a, b)
        xs, ys = _saved(k, a, x, yk)
        gx = cpu.activation_backward(k, xs, ys, np.ones_like(x), a, b)
        assert np.isfinite(gx[1:-1]).all(), (k, gx)


def test_non_contiguous_operands(rng):
    x = rng.standard_normal((40, 30)).astype(np.float32)
    xt = x.T  # a transposed view: copied to a contiguous array inside
    np.testing.assert_array_equal(cpu.activation_forward("gelu", xt), cpu.activation_forward("gelu", xt.copy()))
    gy = np.broadcast_to(np.float32(2.0), xt.shape)  # stride 0 (the gradient of a sum)
    np.testing.assert_array_equal(cpu.activation_backward("gelu", xt, None, gy),
                                  cpu.activation_backward("gelu", xt.copy(), None, np.full(xt.shape, 2, np.float32)))


def test_backward_input_table():
    """The C++ binding and the reference agree on what each backward reads; activation_saves
    keeps the output wherever it suffices."""
    from pyfastnn import _C

    assert list(_C.activation_kinds()) == list(ref.ACTIVATION_KINDS) == list(cpu.ACTIVATION_KINDS)
    for kind in ref.ACTIVATION_KINDS:
        for alpha in (0.5, 0.0, -0.5):
            assert _C.activation_backward_input(kind, alpha) == ref.activation_backward_input(kind, alpha)
    saves = {k: ref.activation_saves(k, 1.0) for k in ref.ACTIVATION_KINDS}
    assert [k for k, v in saves.items() if v == "y"] == ["relu", "relu6", "hardtanh", "leaky_relu", "elu", "selu",
                                                           "sigmoid", "tanh", "hardsigmoid"]
    assert ref.activation_saves("leaky_relu", -0.1) == "x" and ref.activation_saves("elu", -1.0) == "x"


def test_either_input_gives_same_gradient(rng):
    x = rng.standard_normal(500)
    gy = rng.standard_normal(500)
    for kind, alpha, beta in [("relu", 0, 0), ("relu6", 0, 0), ("hardtanh", -0.5, 0.7), ("leaky_relu", 0.1, 0),
                              ("elu", 1.3, 0), ("selu", 0, 0)]:
        y = cpu.activation_forward(kind, x, alpha, beta)
        np.testing.assert_allclose(cpu.activation_backward(kind, None, y, gy, alpha, beta),
                                   cpu.activation_backward(kind, x, None, gy, alpha, beta), rtol=1e-12, atol=1e-15)


# ---- PReLU kernels ----
PRELU_SHAPES = [((5,), 1), ((), 1), ((4, 3), 3), ((4, 3), 1), ((2, 3, 5), 3), ((2, 3, 17), 3), ((2, 4, 3, 5), 4),
                ((0, 3), 3), ((3, 0, 2), 1), ((2, 1, 4), 1), ((64, 5, 300), 5), ((40000, 2), 2), ((3, 70001), 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,nw", PRELU_SHAPES, ids=[f"{s}-{n}" for s, n in PRELU_SHAPES])
def test_prelu_matches_reference(shape, nw, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.uniform(-0.5, 0.5, nw).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(cpu.prelu_forward(x, w), ref.prelu_forward(x, w), rtol=rtol)
    gx, gw = cpu.prelu_backward(x, w, gy)
    gx_ref, gw_ref = ref.prelu_backward(x, w, gy)
    np.testing.assert_allclose(gx, gx_ref, rtol=rtol)
    assert gw.shape == w.shape and gw.dtype == dtype
    np.testing.assert_allclose(gw, gw_ref, rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-4)
    gx_only, none = cpu.prelu_backward(x, w, gy, True, False)
    assert none is None
    np.testing.assert_array_equal(gx_only, gx)
    none, gw_only = cpu.prelu_backward(x, w, gy, False, True)
    assert none is None
    np.testing.assert_allclose(gw_only, gw, rtol=1e-6)


def test_prelu_every_isa_and_threads(isa, threads, rng):
    for shape, nw in PRELU_SHAPES:
        x = rng.standard_normal(shape).astype(np.float32)
        w = rng.uniform(-0.5, 0.5, nw).astype(np.float32)
        gy = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_allclose(cpu.prelu_forward(x, w), ref.prelu_forward(x, w), rtol=1e-6)
        gx, gw = cpu.prelu_backward(x, w, gy)
        gx_ref, gw_ref = ref.prelu_backward(x, w, gy)
        np.testing.assert_allclose(gx, gx_ref, rtol=1e-6)
        np.testing.assert_allclose(gw, gw_ref, rtol=1e-5, atol=1e-4)


# ---- errors ----
@pytest.mark.parametrize("backend", [cpu, ref], ids=["cpu", "reference"])
def test_backend_errors(backend):
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="unknown activation kind 'foo'.*'relu'"):
        backend.activation_forward("foo", x)
    with pytest.raises(TypeError,
                       match="sigmoid: argument 'x' must be a float32 or float64 numpy array, got an? int64"):
        backend.activation_forward("sigmoid", np.ones(3, np.int64))
    with pytest.raises(TypeError, match="float32 or float64"):
        backend.activation_forward("relu", [1.0, 2.0])
    with pytest.raises(TypeError, match="float32 or float64"):
        backend.activation_forward("relu", np.ones(3, np.float16))
    with pytest.raises(ValueError, match="gelu backward: needs the forward input 'x'"):
        backend.activation_backward("gelu", None, x, x)
    with pytest.raises(ValueError, match="sigmoid backward: needs the forward output 'y'"):
        backend.activation_backward("sigmoid", x, None, x)
    with pytest.raises(ValueError, match="leaky_relu backward: needs the forward input 'x'.*alpha < 0"):
        backend.activation_backward("leaky_relu", None, x, x, -0.1)
    with pytest.raises(ValueError, match="relu backward: needs .*both are None"):
        backend.activation_backward("relu", None, None, x)
    with pytest.raises(ValueError, match="must have the shape of 'gy'"):
        backend.activation_backward("tanh", None, np.ones((3, 2), np.float32), x)
    with pytest.raises(TypeError, match="float64 numpy array \\(the dtype of 'gy'\\)"):
        backend.activation_backward("tanh", None, np.ones((2, 3), np.float32), np.ones((2, 3)))
    with pytest.raises(ValueError, match="prelu: argument 'weight' has 2 entries; expected 1 or the number of "
                                         "channels .* 3"):
        backend.prelu_forward(x, np.ones(2, np.float32))
    with pytest.raises(ValueError, match="weight' has 2 entries.* 1"):
        backend.prelu_forward(np.ones(5, np.float32), np.ones(2, np.float32))
    with pytest.raises(ValueError, match="must be 1-D"):
        backend.prelu_forward(x, np.ones((3, 1), np.float32))
    with pytest.raises(TypeError, match="weight"):
        backend.prelu_forward(x, np.ones(3))
    with pytest.raises(ValueError, match="prelu backward"):
        backend.prelu_backward(x, np.ones(3, np.float32), np.ones((3, 2), np.float32))


def test_functional_errors():
    with pytest.raises(TypeError, match="float32 or float64"):
        F.relu(pf.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="float32 or float64"):
        F.sigmoid(pf.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.relu(np.ones(3, np.float32))
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(pf.randn(3), approximate="foo")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(pf.randn(3), 2.0, 1.0)
    with pytest.raises(ValueError, match="Found|expected 1 or the number of channels"):
        F.prelu(pf.randn(4, 3), pf.ones(2))
    with pytest.raises(ValueError, match="expected 1 or the number of channels"):
        nn.PReLU(5)(pf.randn(2, 3))
    with pytest.raises(ValueError, match="num_parameters"):
        nn.PReLU(0)
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("exact")
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(2, 1)


def test_get_activation():
    x = pf.randn(4, 5)
    for name, fn in [("relu", F.relu), ("sigmoid", F.sigmoid), ("tanh", F.tanh), ("elu", F.elu), ("selu", F.selu),
                     ("gelu", F.gelu), ("swish", F.silu), ("silu", F.silu), ("leaky_relu", F.leaky_relu),
                     ("softplus", F.softplus), ("RELU", F.relu)]:
        np.testing.assert_array_equal(get_activation(name)(x).data, fn(x).data)
    assert get_activation("linear")(x) is x and get_activation(None)(x) is x
    assert get_activation(F.relu) is F.relu
    with pytest.raises(ValueError, match="unknown activation 'foo'.*'relu'.*'softmax'.*'linear'"):
        get_activation("foo")
    from pyfastnn.ops import softmax as softmax_ops

    if not hasattr(softmax_ops, "softmax"):
        pytest.skip("ops.softmax is not there yet")
    p = get_activation("softmax")(x).data
    e = np.exp(x.data - x.data.max(-1, keepdims=True))
    np.testing.assert_allclose(p, e / e.sum(-1, keepdims=True), rtol=1e-5)


# ---- the Functions: autograd, gradcheck ----
def _away_from_kinks(kind, alpha, beta, n, rng):
    kinks = {"relu": [0], "relu6": [0, 6], "hardtanh": [alpha, beta], "leaky_relu": [0], "elu": [0], "selu": [0],
             "hardswish": [-3, 3], "hardsigmoid": [-3, 3]}.get(kind, [])
    if kind == "softplus":
        kinks = [beta / alpha]
    x = rng.uniform(-4, 7, 4 * n)
    ok = np.all([np.abs(x - k) > 0.05 for k in kinks], axis=0) if kinks else np.ones(x.size, bool)
    return x[ok][:n]


def _functional(kind, alpha, beta):
    return {
        "relu": lambda t: F.relu(t),
        "relu6": lambda t: F.relu6(t),
        "hardtanh": lambda t: F.hardtanh(t, alpha, beta),
        "leaky_relu": lambda t: F.leaky_relu(t, alpha),
        "elu": lambda t: F.elu(t, alpha),
        "selu": lambda t: F.selu(t),
        "gelu": lambda t: F.gelu(t),
        "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
        "silu": lambda t: F.silu(t),
        "sigmoid": lambda t: F.sigmoid(t),
        "tanh": lambda t: F.tanh(t),
        "softplus": lambda t: F.softplus(t, alpha, beta),
        "hardswish": lambda t: F.hardswish(t),
        "hardsigmoid": lambda t: F.hardsigmoid(t),
    }[kind]


@pytest.mark.parametrize("backend", ["cpu", "reference"])
@pytest.mark.parametrize("kind,alpha,beta", CASES, ids=IDS)
def test_gradcheck(kind, alpha, beta, backend, rng):
    x = pf.tensor(_away_from_kinks(kind, alpha, beta, 30, rng).reshape(5, 6), dtype=pf.float64, requires_grad=True)
    fn = _functional(kind, alpha, beta)
    pf.use_backend(backend)
    try:
        assert gradcheck(fn, (x,), eps=1e-6, atol=1e-7, rtol=1e-5)
    finally:
        pf.use_backend("cpu")


def test_gradcheck_prelu(rng):
    for shape, nw in [((4, 3), 3), ((2, 3, 5), 3), ((6,), 1), ((2, 3, 2), 1)]:
        x = pf.tensor(rng.uniform(-2, 2, shape), dtype=pf.float64, requires_grad=True)
        x.data[np.abs(x.data) < 0.05] = 0.5
        w = pf.tensor(rng.uniform(-0.5, 0.5, nw), dtype=pf.float64, requires_grad=True)
        assert gradcheck(F.prelu, (x, w), eps=1e-6, atol=1e-7, rtol=1e-5)


def test_function_keeps_output_not_input():
    x = pf.randn(3, 4, requires_grad=True)
    for fn, keeps in [(F.relu, "y"), (F.sigmoid, "y"), (F.tanh, "y"), (lambda t: F.elu(t, 1.0), "y"),
                      (F.gelu, "x"), (F.silu, "x"), (lambda t: F.leaky_relu(t, -0.1), "x")]:
        node = fn(x).grad_fn
        assert (node.y is not None, node.x is not None) == (keeps == "y", keeps == "x")
    with pf.no_grad():
        assert F.relu(x).grad_fn is None and not F.relu(x).requires_grad


def test_node_matches_function_apply():
    """The functional API builds its graph node itself (cheaper than Function.apply): the node
    must carry exactly what Function.apply would set."""
    from pyfastnn.ops import activation as A

    for fn, call, kwargs in [(A.ReLU, F.relu, {}), (A.LeakyReLU, lambda t: F.leaky_relu(t, 0.2), {"alpha": 0.2}),
                             (A.Softplus, lambda t: F.softplus(t, 2.0, 3.0), {"alpha": 2.0, "beta": 3.0}),
                             (A.GELU, F.gelu, {})]:
        for dtype in (pf.float32, pf.float64):
            x = pf.randn(3, 4, dtype=dtype, requires_grad=True)
            ours, ref_out = call(x), fn.apply(x, **kwargs)
            assert type(ours.grad_fn) is type(ref_out.grad_fn)
            assert ours.requires_grad and ours.is_leaf is False and ours._output_nr == ref_out._output_nr
            a, b = vars(ours.grad_fn), vars(ref_out.grad_fn)
            assert set(a) == set(b), (set(a) ^ set(b))
            for k in a:
                if k == "next":
                    assert [e[0] for e in a[k]] == [e[0] for e in b[k]] and [e[1] for e in a[k]] == [e[1] for e in b[k]]
                elif isinstance(a[k], np.ndarray) or isinstance(b[k], np.ndarray):
                    assert (a[k] is None) == (b[k] is None) and (a[k] is None or np.array_equal(a[k], b[k]))
                else:
                    assert a[k] == b[k] or a[k] is b[k], k
            np.testing.assert_array_equal(ours.data, ref_out.data)


def test_inplace():
    x = pf.tensor([-1.0, 2.0])
    y = F.relu(x, inplace=True)
    assert y is x and x.tolist() == [0.0, 2.0]
    x = pf.tensor([-1.0, 2.0], requires_grad=True)
    y = F.leaky_relu(x, 0.5, inplace=True)  # recording: a new tensor, the input untouched
    assert y is not x and x.tolist() == [-1.0, 2.0] and y.tolist() == [-0.5, 2.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.5, 1.0]
    m = nn.ReLU(inplace=True)
    x = pf.tensor([-3.0, 3.0])
    with pf.no_grad():
        assert m(x) is x and x.tolist() == [0.0, 3.0]


def test_backend_switch_gives_same_graph_results(rng):
    x = pf.tensor(rng.standard_normal((8, 9)), requires_grad=True)
    grads = []
    for backend in ("cpu", "reference"):
        pf.use_backend(backend)
        try:
            x.grad = None
            y = F.gelu(F.softplus(F.elu(x, 0.7), 2.0, 3.0)) * F.sigmoid(F.tanh(x))
            y.sum().backward()
            grads.append((y.data, x.grad.data.copy()))
        finally:
            pf.use_backend("cpu")
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-5, atol=1e-6)


# ---- the course facts ----
def test_sigmoid_derivative_at_most_quarter():
    x = pf.tensor(np.linspace(-10, 10, 2001), requires_grad=True)
    F.sigmoid(x).sum().backward()
    g = x.grad.data
    assert g.max() <= 0.25 and g[1000] == 0.25 and x.data[1000] == 0.0
    assert np.all(g[np.abs(x.data) > 1e-9] < 0.25)


def test_relu_derivative_is_one_for_positive_inputs():
    x = pf.tensor([0.5, 1.0, 3.0, 1e-6, 100.0, -1.0, 0.0], requires_grad=True)
    F.relu(x).sum().backward()
    assert x.grad.tolist() == [1, 1, 1, 1, 1, 0, 0]


def test_tanh_range():
    x = pf.tensor(np.linspace(-50, 50, 10001, dtype=np.float32))
    y = pf.tanh(x).data
    assert y.min() >= -1.0 and y.max() <= 1.0 and y[0] == -1.0 and y[-1] == 1.0
    assert np.all(np.diff(y) >= 0)  # monotonic
    np.testing.assert_allclose(y, np.tanh(x.data), rtol=2e-6, atol=1e-7)


def test_leaky_relu_alpha_0_1():
    x = pf.tensor([-2.0, -0.5, 0.0, 3.0], requires_grad=True)
    y = F.leaky_relu(x, 0.1)
    np.testing.assert_allclose(y.data, [-0.2, -0.05, 0.0, 3.0], rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.1, 0.1, 0.1, 1.0], rtol=1e-6)
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(pf.tensor([-10.0])).data, [-1.0], rtol=1e-6)


def test_tensor_methods_and_top_level_functions():
    x = pf.randn(3, 4)
    np.testing.assert_array_equal(x.relu().data, F.relu(x).data)
    np.testing.assert_array_equal(x.sigmoid().data, F.sigmoid(x).data)
    np.testing.assert_array_equal(pf.sigmoid(x).data, F.sigmoid(x).data)
    np.testing.assert_array_equal(pf.tanh(x).data, F.tanh(x).data)
    np.testing.assert_array_equal(pf.relu(x).data, F.relu(x).data)
    assert F.swish is F.silu and nn.Swish is nn.SiLU


def test_modules_basics():
    m = nn.PReLU(3, init=0.1)
    assert list(m.state_dict()) == ["weight"] and m.weight.shape == (3,) and m.weight.requires_grad
    np.testing.assert_allclose(m.weight.data, 0.1)
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert isinstance(nn.ReLU6(), nn.Hardtanh)
    assert nn.PReLU(dtype=pf.float64).weight.dtype == np.float64
    for mod in [nn.ReLU(), nn.Sigmoid(), nn.Tanh(), nn.GELU(), nn.SiLU(), nn.ELU(), nn.SELU(), nn.Softplus(),
                nn.Hardtanh(), nn.ReLU6(), nn.LeakyReLU(), nn.Hardswish(), nn.Hardsigmoid()]:
        assert list(mod.parameters()) == [] and mod.state_dict() == {}


# ---- PyTorch parity ----
torch_cases = [
    ("relu", lambda F_: (lambda t: F_.relu(t)), lambda: nn.ReLU(), "ReLU()"),
    ("relu6", lambda F_: (lambda t: F_.relu6(t)), lambda: nn.ReLU6(), "ReLU6()"),
    ("leaky_relu", lambda F_: (lambda t: F_.leaky_relu(t, 0.1)), lambda: nn.LeakyReLU(0.1), "LeakyReLU(0.1)"),
    ("leaky_relu_neg", lambda F_: (lambda t: F_.leaky_relu(t, -0.3)), lambda: nn.LeakyReLU(-0.3), "LeakyReLU(-0.3)"),
    ("elu", lambda F_: (lambda t: F_.elu(t, 0.7)), lambda: nn.ELU(0.7), "ELU(0.7)"),
    ("elu_default", lambda F_: (lambda t: F_.elu(t)), lambda: nn.ELU(), "ELU()"),
    ("selu", lambda F_: (lambda t: F_.selu(t)), lambda: nn.SELU(), "SELU()"),
    ("gelu", lambda F_: (lambda t: F_.gelu(t)), lambda: nn.GELU(), "GELU()"),
    ("gelu_tanh", lambda F_: (lambda t: F_.gelu(t, approximate="tanh")), lambda: nn.GELU("tanh"), "GELU('tanh')"),
    ("silu", lambda F_: (lambda t: F_.silu(t)), lambda: nn.SiLU(), "SiLU()"),
    ("sigmoid", lambda F_: (lambda t: F_.sigmoid(t)), lambda: nn.Sigmoid(), "Sigmoid()"),
    ("tanh", lambda F_: (lambda t: F_.tanh(t)), lambda: nn.Tanh(), "Tanh()"),
    ("softplus", lambda F_: (lambda t: F_.softplus(t)), lambda: nn.Softplus(), "Softplus()"),
    ("softplus_b", lambda F_: (lambda t: F_.softplus(t, 2.0, 3.0)), lambda: nn.Softplus(2.0, 3.0),
     "Softplus(2.0, 3.0)"),
    ("hardtanh", lambda F_: (lambda t: F_.hardtanh(t, -2.0, 1.5)), lambda: nn.Hardtanh(-2.0, 1.5),
     "Hardtanh(-2.0, 1.5)"),
    ("hardswish", lambda F_: (lambda t: F_.hardswish(t)), lambda: nn.Hardswish(), "Hardswish()"),
    ("hardsigmoid", lambda F_: (lambda t: F_.hardsigmoid(t)), lambda: nn.Hardsigmoid(), "Hardsigmoid()"),
]


def _torch_input(rng, dtype, shape=(16, 33)):
    x = rng.standard_normal(shape) * 3
    x.reshape(-1)[:8] = [0.5, -0.5, 20.0, -20.0, 7.0, -7.0, 2.5, -2.5]
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,make_f,make_m,torch_m", torch_cases, ids=[c[0] for c in torch_cases])
def test_torch_parity(name, make_f, make_m, torch_m, dtype, rng):
    torch = pytest.importorskip("torch")
    x_np = _torch_input(rng, dtype)
    gy_np = rng.standard_normal(x_np.shape).astype(dtype)
    tx = torch.tensor(x_np, requires_grad=True)
    ty = make_f(torch.nn.functional)(tx)
    ty.backward(torch.tensor(gy_np))
    tm = eval("torch.nn." + torch_m)
    tx2 = torch.tensor(x_np, requires_grad=True)
    tm(tx2).backward(torch.tensor(gy_np))

    # torch's float32 gelu/erf and tanh-gelu lose relative accuracy in the left tail: compare
    # float32 with an absolute floor, float64 tightly
    rtol, atol = (1e-5, 2e-6) if dtype == np.float32 else (1e-10, 1e-12)
    if name == "hardsigmoid" and dtype == np.float64:
        rtol = 1e-7  # torch's float64 hardsigmoid backward multiplies by 1/6 rounded to float
    for run in ("functional", "module"):
        x = pf.tensor(x_np, requires_grad=True)
        y = make_f(F)(x) if run == "functional" else make_m()(x)
        y.backward(pf.tensor(gy_np))
        assert y.dtype == dtype and x.grad.dtype == dtype
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=rtol, atol=atol, err_msg=run)
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=rtol, atol=atol, err_msg=run)
        np.testing.assert_allclose(x.grad.data, tx2.grad.numpy(), rtol=rtol, atol=atol, err_msg=run)
    assert repr(make_m()) == repr(tm)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,num", [((8, 3), 3), ((8, 3), 1), ((4, 3, 5), 3), ((2, 3, 4, 20), 3), ((7,), 1),
                                       ((2, 5, 6), 1)])
def test_torch_parity_prelu(shape, num, dtype, rng):
    torch = pytest.importorskip("torch")
    x_np = rng.standard_normal(shape).astype(dtype)
    gy_np = rng.standard_normal(shape).astype(dtype)
    tm = torch.nn.PReLU(num, init=0.2).to(getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(rng.uniform(-0.5, 0.5, num)))
    tx = torch.tensor(x_np, requires_grad=True)
    tm(tx).backward(torch.tensor(gy_np))

    m = nn.PReLU(num, init=0.2, dtype=dtype)
    m.load_state_dict(tm.state_dict())
    x = pf.tensor(x_np, requires_grad=True)
    y = m(x)
    y.backward(pf.tensor(gy_np))
    rtol = 1e-5 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(y.data, tm(tx).detach().numpy(), rtol=rtol, atol=1e-7)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=rtol, atol=1e-7)
    np.testing.assert_allclose(m.weight.grad.data, tm.weight.grad.numpy(), rtol=rtol, atol=1e-5)
    assert repr(m) == repr(tm)
    # the functional form too
    w = pf.tensor(tm.weight.detach().numpy(), requires_grad=True)
    x2 = pf.tensor(x_np, requires_grad=True)
    F.prelu(x2, w).backward(pf.tensor(gy_np))
    np.testing.assert_allclose(w.grad.data, tm.weight.grad.numpy(), rtol=rtol, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_parity_nan_and_extremes(dtype):
    """Outputs and gradients at NaN, +-100, +-0 and the kinks are PyTorch's: NaN where it gives
    NaN, the same gradient where its backward passes or stops one. (PyTorch's scalar and
    vectorized kernels disagree on the gradient at NaN; 64 elements take the vectorized path.)"""
    torch = pytest.importorskip("torch")
    x_np = np.resize(np.array([np.nan, -100.0, -0.0, 0.0, 100.0, 3.0, -3.0, 6.0, 1.0, -1.0], dtype), 64)
    for name in ("relu", "sigmoid", "tanh", "gelu", "silu", "elu", "selu", "softplus", "hardtanh", "relu6",
                 "leaky_relu", "hardswish", "hardsigmoid"):
        x = pf.tensor(x_np, requires_grad=True)
        ours = getattr(F, name)(x)
        ours.backward(pf.ones_like(ours))
        tx = torch.tensor(x_np, requires_grad=True)
        theirs = getattr(torch.nn.functional, name)(tx)
        theirs.backward(torch.ones_like(theirs))
        # torch's float32 erf is off at gelu(-3): by 1.7e-7 on its AVX2 path, 5.3e-7 on AVX-512
        atol = 1e-6 if name == "gelu" and dtype == np.float32 else 1e-30
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-6, atol=atol, equal_nan=True,
                                   err_msg=name)
        # elu/selu read y: f'(-100) = y + alpha = 0 where PyTorch's e^-100 is 4e-44
        atol = 1e-7 if name in ("elu", "selu") else atol
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6, atol=atol, equal_nan=True,
                                   err_msg=name + " backward")


def test_reference_backend_matches_for_modules(rng):
    """A model of activation modules gives the same outputs and gradients on both backends."""
    model = nn.Sequential(nn.Linear(6, 8), nn.GELU(), nn.Linear(8, 8), nn.PReLU(8), nn.Linear(8, 4), nn.Tanh())
    x = pf.tensor(rng.standard_normal((5, 6)).astype(np.float32))
    results = []
    for backend in ("cpu", "reference"):
        pf.use_backend(backend)
        try:
            model.zero_grad()
            y = model(x)
            y.sum().backward()
            results.append([y.data] + [p.grad.data.copy() for p in model.parameters()])
        finally:
            pf.use_backend("cpu")
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_selu_constants():
    from pyfastnn.backends.reference.activation import SELU_ALPHA, SELU_SCALE

    assert SELU_ALPHA == pytest.approx(1.6732632423543772848170429916717, rel=1e-15)
    assert SELU_SCALE == pytest.approx(1.0507009873554804934193349852946, rel=1e-15)
    y = F.selu(pf.tensor([-1.0, 1.0], dtype=pf.float64)).data
    np.testing.assert_allclose(y, [SELU_SCALE * SELU_ALPHA * (math.exp(-1) - 1), SELU_SCALE], rtol=1e-14)

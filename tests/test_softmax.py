"""softmax / log_softmax / softmin: C++ kernels vs the NumPy reference (every ISA, both
dtypes, awkward shapes, extreme values), the autograd ops (gradcheck), and PyTorch parity
of the functional API and the modules."""

import numpy as np
import pytest

import pyfastnn as pf
import pyfastnn.nn.functional as F
from pyfastnn import nn
from pyfastnn.autograd import gradcheck
from pyfastnn.backends import cpu, reference

try:
    import torch
except ImportError:  # parity tests skip
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

SHAPES = [(1, 1), (1, 10), (64, 10), (3, 17), (5, 1000), (2, 3, 33), (7, 1), (0, 5), (4, 0)]
TOL = {np.float32: dict(rtol=2e-6, atol=1e-7), np.float64: dict(rtol=1e-13, atol=1e-15)}
LOG_TOL = {np.float32: dict(rtol=2e-6, atol=4e-6), np.float64: dict(rtol=1e-13, atol=1e-13)}


def _logits(rng, shape, dtype, scale=3.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


# ---------------------------------------------------------------------------- kernels vs reference

def assert_backward_close(got, y, gy, log, what=""):
    """Componentwise bound: the backward subtracts a row sum, so its error scales with the
    terms (|gy| and the row sum), not with the (possibly cancelled) result."""
    y64, g64 = y.astype(np.float64), gy.astype(np.float64)
    if log:
        want = reference.log_softmax_backward(y64, g64)
        scale = np.abs(g64) + np.exp(y64) * np.abs(g64).sum(-1, keepdims=True)
    else:
        want = reference.softmax_backward(y64, g64)
        scale = np.abs(y64) * (np.abs(g64) + np.abs(g64 * y64).sum(-1, keepdims=True))
    bound = 8 * max(y.shape[-1], 1) ** 0.5 * np.finfo(y.dtype).eps * scale + np.finfo(y.dtype).tiny
    err = np.abs(got.astype(np.float64) - want)
    bad = ~(err <= bound)
    assert not bad.any(), f"{what}: {bad.sum()} elements off, first {np.argwhere(bad)[0]}: got {got[bad][0]}, " \
                          f"want {want[bad][0]}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_kernels_match_reference(isa, rng, shape, dtype):
    x = _logits(rng, shape, dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    for fwd, bwd, tol in (("softmax_forward", "softmax_backward", TOL),
                          ("log_softmax_forward", "log_softmax_backward", LOG_TOL)):
        y = getattr(cpu, fwd)(x)
        assert y.dtype == dtype and y.shape == x.shape
        np.testing.assert_allclose(y, getattr(reference, fwd)(x), **tol[dtype], err_msg=f"{fwd} {isa}")
        gx = getattr(cpu, bwd)(y, gy)
        assert gx.dtype == dtype and gx.shape == x.shape
        assert_backward_close(gx, y, gy, fwd.startswith("log"), f"{bwd} {isa}")


@pytest.mark.parametrize("cols", list(range(1, 40)) + [63, 64, 65, 255, 1001])
def test_every_row_length(isa, rng, cols):
    """Full vectors plus every possible partial last vector of a row."""
    x = _logits(rng, (3, cols), np.float32)
    np.testing.assert_allclose(cpu.softmax_forward(x), reference.softmax_forward(x), **TOL[np.float32])
    np.testing.assert_allclose(cpu.log_softmax_forward(x), reference.log_softmax_forward(x), **LOG_TOL[np.float32])


def test_non_contiguous_and_0d(rng):
    x = _logits(rng, (6, 8), np.float32)[:, ::2]
    np.testing.assert_allclose(cpu.softmax_forward(x), reference.softmax_forward(x), **TOL[np.float32])
    s = np.asarray(3.0, np.float32)
    assert cpu.softmax_forward(s) == 1.0 and cpu.log_softmax_forward(s) == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_logits_are_exact(isa, dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]], dtype)
    y = cpu.softmax_forward(x)
    np.testing.assert_array_equal(y, np.array([[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], dtype))
    ly = cpu.log_softmax_forward(x)
    assert np.isfinite(ly).all()
    np.testing.assert_allclose(ly[0], [0.0, -2e4, -1e4], rtol=1e-7)
    np.testing.assert_allclose(ly[1], [-np.log(3)] * 3, rtol=1e-6)
    gx = cpu.softmax_backward(y, np.ones_like(y))
    np.testing.assert_allclose(gx, 0.0, atol=1e-7)


def test_nan_and_inf_rows(isa):
    x = np.array([[1.0, np.nan, 2.0], [0.0, -np.inf, 1.0], [1.0, 2.0, 3.0]], np.float32)
    y = cpu.softmax_forward(x)
    assert np.isnan(y[0]).all()
    assert y[1, 1] == 0.0 and np.isclose(y[1].sum(), 1.0)
    np.testing.assert_allclose(y[2], reference.softmax_forward(x[2:])[0], rtol=2e-6)
    ly = cpu.log_softmax_forward(x)
    assert np.isnan(ly[0]).all() and ly[1, 1] == -np.inf


def test_threads_agree(threads, rng):
    x = _logits(rng, (512, 1000), np.float32)
    gy = rng.standard_normal(x.shape).astype(np.float32)
    y = cpu.softmax_forward(x)
    np.testing.assert_allclose(y, reference.softmax_forward(x), **TOL[np.float32])
    assert_backward_close(cpu.softmax_backward(y, gy), y, gy, False, f"{threads} threads")


def test_kernel_argument_errors():
    with pytest.raises(TypeError, match="softmax_forward: argument 'x' must be a float32 or float64"):
        cpu.softmax_forward(np.zeros((2, 3), np.int64))
    with pytest.raises(TypeError, match="softmax_forward"):
        cpu.softmax_forward([1.0, 2.0])
    y = np.zeros((2, 3), np.float32)
    with pytest.raises(TypeError, match="'gy' must be a float32"):
        cpu.softmax_backward(y, np.zeros((2, 3), np.float64))
    with pytest.raises(ValueError, match=r"'gy' must have the shape of 'y' \(2, 3\)"):
        cpu.log_softmax_backward(y, np.zeros((3, 2), np.float32))
    for B in (cpu, reference):
        with pytest.raises(TypeError):
            B.log_softmax_forward(np.zeros(3, np.int32))


# ---------------------------------------------------------------------------- ops

def test_course_values():
    y = F.softmax(pf.tensor([2.0, 1.0, 0.1]), dim=0)
    np.testing.assert_allclose(y.numpy(), [0.659001, 0.242433, 0.098566], atol=1e-6)
    assert abs(float(y.sum()) - 1.0) < 1e-6  # outputs sum to 1
    x = pf.tensor(np.random.default_rng(0).standard_normal((8, 5)) * 4)
    np.testing.assert_allclose(F.softmax(x, dim=1).numpy().sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_gradcheck(fn, dim, rng):
    x = pf.tensor(rng.standard_normal((2, 3, 4)), dtype=pf.float64, requires_grad=True)
    assert gradcheck(lambda a: getattr(F, fn)(a, dim=dim), [x])


def test_gradcheck_through_a_chain(rng):
    x = pf.tensor(rng.standard_normal((3, 5)), dtype=pf.float64, requires_grad=True)
    w = pf.tensor(rng.standard_normal((5,)), dtype=pf.float64)
    assert gradcheck(lambda a: (F.softmax(a, 1) * w).sum() + F.log_softmax(a * 2, 0).sum(), [x])


def test_implicit_dim_and_dtype():
    x2 = pf.tensor(np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32))
    np.testing.assert_allclose(F.softmax(x2).numpy().sum(axis=1), 1.0, rtol=1e-6)  # 2-D: dim 1
    x1 = pf.tensor([1.0, 2.0, 3.0])
    np.testing.assert_allclose(F.softmax(x1).numpy().sum(), 1.0, rtol=1e-6)
    y = F.log_softmax(x2, dim=1, dtype=pf.float64)
    assert y.dtype == np.float64


def test_tensor_methods_and_backend_switch(rng):
    xn = rng.standard_normal((4, 6))
    x = pf.tensor(xn, dtype=pf.float64)
    np.testing.assert_allclose(x.softmax(1).numpy(), reference.softmax_forward(xn), rtol=1e-13)
    np.testing.assert_allclose(x.log_softmax(-1).numpy(), reference.log_softmax_forward(xn), rtol=1e-13)
    pf.use_backend("reference")
    try:
        a = pf.tensor(xn, requires_grad=True)
        F.softmax(a, 0).sum().backward()
        ref_grad = a.grad.numpy().copy()
    finally:
        pf.use_backend("cpu")
    b = pf.tensor(xn, requires_grad=True)
    F.softmax(b, 0).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), ref_grad, atol=1e-6)


def test_op_errors():
    with pytest.raises(TypeError, match="softmax: input must be a float32 or float64 tensor, got int64"):
        F.softmax(pf.tensor([1, 2, 3]), dim=0)
    with pytest.raises(IndexError, match="dimension out of range"):
        F.log_softmax(pf.tensor([[1.0, 2.0]]), dim=2)
    with pytest.raises(TypeError, match="'dim' must be an int"):
        F.softmax(pf.tensor([1.0, 2.0]), dim=0.5)


def test_module_repr_and_forward():
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.LogSoftmax()) == "LogSoftmax(dim=None)"
    assert repr(nn.Softmin(-1)) == "Softmin(dim=-1)"
    x = pf.tensor([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(nn.Softmax(dim=0)(x).numpy(), F.softmax(x, 0).numpy())
    assert nn.Softmax(1).state_dict() == {}


# ---------------------------------------------------------------------------- PyTorch parity

@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1, None])
def test_torch_parity_functional(fn, dim, dtype, rng):
    xn = (rng.standard_normal((3, 4, 5)) * 3).astype(dtype)
    gn = rng.standard_normal(xn.shape).astype(dtype)
    x = pf.tensor(xn, requires_grad=True)
    y = getattr(F, fn)(x, dim=dim)
    y.backward(pf.tensor(gn))
    tx = torch.tensor(xn, requires_grad=True)
    with pytest.warns(UserWarning) if dim is None else _nothing():
        ty = getattr(torch.nn.functional, fn)(tx, dim=dim)
    ty.backward(torch.tensor(gn))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **tol)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


@needs_torch
@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax", "Softmin"])
def test_torch_parity_modules(name, rng):
    xn = (rng.standard_normal((4, 7)) * 5).astype(np.float32)
    ours, theirs = getattr(nn, name)(dim=1), getattr(torch.nn, name)(dim=1)
    assert repr(ours) == repr(theirs)
    x = pf.tensor(xn, requires_grad=True)
    tx = torch.tensor(xn, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    (y * pf.tensor(np.arange(7, dtype=np.float32))).sum().backward()
    (ty * torch.arange(7, dtype=torch.float32)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


@needs_torch
def test_torch_parity_extreme_logits():
    xn = np.array([[1e4, -1e4, 3.0, 0.0], [-50.0, 80.0, 80.0, -1e4]], np.float32)
    for fn in ("softmax", "log_softmax"):
        y = getattr(F, fn)(pf.tensor(xn), dim=1).numpy()
        ty = getattr(torch.nn.functional, fn)(torch.tensor(xn), dim=1).numpy()
        np.testing.assert_allclose(y, ty, rtol=1e-6, atol=1e-30)

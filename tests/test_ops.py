"""Tensor ops (elementwise, reductions, shapes, indexing, matmul): values and gradients
against PyTorch, and gradcheck (float64 finite differences) of every differentiable op.

Each case is written once for both libraries: fn(lib, *tensors), with lib = pf or torch.
"""

import zlib

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn.autograd import gradcheck

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")


def const(lib, array):
    """A constant (index, mask) in lib's tensor type."""
    return pf.tensor(array) if lib is pf else torch.tensor(array)


MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])

# (id, fn(lib, *inputs), input shapes, domain); domain "pos" draws from [0.5, 2)
CASES = [
    # ---- elementwise, broadcasting
    ("add", lambda L, a, b: a + b, [(3, 4), (4,)], None),
    ("add_col", lambda L, a, b: a + b, [(3, 1), (1, 4)], None),
    ("add_alpha", lambda L, a, b: L.add(a, b, alpha=2.5), [(3, 4), (3, 4)], None),
    ("sub", lambda L, a, b: a - b, [(2, 3, 4), (3, 1)], None),
    ("mul", lambda L, a, b: a * b, [(3, 4), (4,)], None),
    ("div", lambda L, a, b: a / b, [(3, 4), (3, 1)], "pos"),
    ("pow_tt", lambda L, a, b: a**b, [(3, 4), (4,)], "pos"),
    ("radd", lambda L, a: 2.0 + a, [(3, 4)], None),
    ("rsub", lambda L, a: 2.0 - a, [(3, 4)], None),
    ("rmul", lambda L, a: 3 * a, [(3, 4)], None),
    ("rdiv", lambda L, a: 2.0 / a, [(3, 4)], "pos"),
    ("rpow", lambda L, a: 2.0**a, [(3, 4)], None),
    ("pow_scalar", lambda L, a: a**3, [(3, 4)], None),
    ("pow_half", lambda L, a: a**0.5, [(3, 4)], "pos"),
    ("pow_neg", lambda L, a: L.pow(a, -1.5), [(3, 4)], "pos"),
    ("square", lambda L, a: a * a, [(3, 4)], None),
    ("self_add", lambda L, a: a + a, [(3, 4)], None),
    ("neg", lambda L, a: -a, [(3, 4)], None),
    ("exp", lambda L, a: a.exp(), [(3, 4)], None),
    ("log", lambda L, a: L.log(a), [(3, 4)], "pos"),
    ("sqrt", lambda L, a: a.sqrt(), [(3, 4)], "pos"),
    ("abs", lambda L, a: a.abs(), [(3, 4)], None),
    ("abs_builtin", lambda L, a: abs(a), [(3, 4)], None),
    ("clamp", lambda L, a: a.clamp(-0.5, 0.5), [(3, 4)], None),
    ("clamp_min", lambda L, a: L.clamp(a, min=0.0), [(3, 4)], None),
    ("clamp_max", lambda L, a: a.clamp(max=0.3), [(3, 4)], None),
    ("maximum", lambda L, a, b: L.maximum(a, b), [(3, 4), (4,)], None),
    ("minimum", lambda L, a, b: L.minimum(a, b), [(3, 4), (3, 1)], None),
    ("max_elementwise", lambda L, a, b: L.max(a, b), [(3, 4), (3, 4)], None),
    ("where", lambda L, a, b: L.where(a > 0, a, b), [(3, 4), (4,)], None),
    ("where_scalar", lambda L, a: L.where(a > 0, a, 0.0), [(3, 4)], None),
    ("masked_fill", lambda L, a: a.masked_fill(const(L, MASK), 2.0), [(3, 4)], None),
    ("chain", lambda L, a, b: ((a * b).exp() + 1).log() / (b * b + 1), [(3, 4), (3, 4)], None),
    # ---- reductions
    ("sum", lambda L, a: a.sum(), [(3, 4)], None),
    ("sum_dim", lambda L, a: a.sum(dim=1), [(2, 3, 4)], None),
    ("sum_negdim_keep", lambda L, a: a.sum(dim=-1, keepdim=True), [(2, 3, 4)], None),
    ("sum_dims", lambda L, a: L.sum(a, dim=(0, 2)), [(2, 3, 4)], None),
    ("sum_dims_keep", lambda L, a: a.sum(dim=(0, 2), keepdim=True), [(2, 3, 4)], None),
    ("mean", lambda L, a: a.mean(), [(3, 4)], None),
    ("mean_dim", lambda L, a: a.mean(dim=0), [(2, 3, 4)], None),
    ("mean_dims_keep", lambda L, a: a.mean(dim=(-1, 0), keepdim=True), [(2, 3, 4)], None),
    ("var", lambda L, a: a.var(), [(3, 4)], None),
    ("var_dim", lambda L, a: a.var(dim=1), [(2, 3, 4)], None),
    ("var_biased_keep", lambda L, a: a.var(dim=-1, unbiased=False, keepdim=True), [(2, 3, 4)], None),
    ("var_correction", lambda L, a: a.var(dim=(0, 1), correction=0), [(2, 3, 4)], None),
    ("std", lambda L, a: a.std(), [(3, 4)], None),
    ("std_dim", lambda L, a: a.std(dim=0, keepdim=True), [(3, 4)], None),
    ("std_biased", lambda L, a: L.std(a, dim=(0, 2), unbiased=False), [(2, 3, 4)], None),
    ("max_all", lambda L, a: a.max(), [(3, 4)], None),
    ("min_all", lambda L, a: L.min(a), [(3, 4)], None),
    ("max_dim", lambda L, a: a.max(dim=1).values, [(3, 4)], None),
    ("max_dim_pos", lambda L, a: L.max(a, 0)[0], [(3, 4)], None),
    ("max_dim_keep", lambda L, a: a.max(dim=-1, keepdim=True).values, [(2, 3, 4)], None),
    ("min_dim", lambda L, a: a.min(dim=0).values, [(2, 3, 4)], None),
    ("min_dim_keep", lambda L, a: a.min(1, keepdim=True)[0], [(3, 4)], None),
    ("norm", lambda L, a: a.norm(), [(3, 4)], None),
    ("norm_dim", lambda L, a: a.norm(dim=1), [(3, 4)], None),
    ("norm_p1", lambda L, a: a.norm(p=1, dim=0), [(3, 4)], None),
    # ---- shapes
    ("reshape", lambda L, a: a.reshape(4, 3) * const(L, np.arange(12.0).reshape(4, 3)).to(a.dtype), [(3, 4)], None),
    ("reshape_tuple", lambda L, a: a.reshape((2, -1)), [(3, 4)], None),
    ("view", lambda L, a: a.view(-1), [(3, 4)], None),
    ("view_as", lambda L, a, b: a.view_as(b), [(3, 4), (2, 6)], None),
    ("flatten", lambda L, a: a.flatten(), [(2, 3, 4)], None),
    ("flatten_1", lambda L, a: a.flatten(1), [(2, 3, 4)], None),
    ("flatten_0_1", lambda L, a: L.flatten(a, 0, 1), [(2, 3, 4)], None),
    ("transpose", lambda L, a: a.transpose(0, 1), [(3, 4)], None),
    ("transpose_neg", lambda L, a: a.transpose(0, -1), [(2, 3, 4)], None),
    ("permute", lambda L, a: a.permute(2, 0, 1), [(2, 3, 4)], None),
    ("permute_tuple", lambda L, a: a.permute((1, 2, 0)), [(2, 3, 4)], None),
    ("T", lambda L, a: a.T, [(3, 4)], None),
    ("mT", lambda L, a: a.mT, [(2, 3, 4)], None),
    ("squeeze", lambda L, a: a.squeeze(), [(3, 1, 4, 1)], None),
    ("squeeze_dim", lambda L, a: a.squeeze(1), [(3, 1, 4)], None),
    ("squeeze_noop", lambda L, a: a.squeeze(0), [(3, 1, 4)], None),
    ("unsqueeze", lambda L, a: a.unsqueeze(0), [(3, 4)], None),
    ("unsqueeze_neg", lambda L, a: a.unsqueeze(-1), [(3, 4)], None),
    ("unsqueeze_mid", lambda L, a: L.unsqueeze(a, 1), [(3, 4)], None),
    ("expand", lambda L, a: a.expand(2, 3, 4), [(3, 1)], None),
    ("expand_neg1", lambda L, a: a.expand(3, -1), [(1, 4)], None),
    ("expand_as", lambda L, a, b: a.expand_as(b), [(4,), (3, 4)], None),
    ("cat", lambda L, a, b: L.cat([a, b]), [(2, 4), (3, 4)], None),
    ("cat_dim1", lambda L, a, b, c: L.cat([a, b, c], dim=1), [(3, 2), (3, 1), (3, 4)], None),
    ("cat_negdim", lambda L, a, b: L.cat((a, b), dim=-1), [(2, 3, 1), (2, 3, 2)], None),
    ("cat_same", lambda L, a: L.cat([a, a * 2], 0), [(2, 3)], None),
    ("stack", lambda L, a, b: L.stack([a, b]), [(3, 4), (3, 4)], None),
    ("stack_dim1", lambda L, a, b, c: L.stack([a, b, c], dim=1), [(3, 4), (3, 4), (3, 4)], None),
    ("stack_negdim", lambda L, a, b: L.stack((a, b), dim=-1), [(3, 4), (3, 4)], None),
    # ---- indexing
    ("idx_int", lambda L, a: a[1], [(3, 4)], None),
    ("idx_negint", lambda L, a: a[-1], [(3, 4)], None),
    ("idx_2int", lambda L, a: a[1, -2], [(3, 4)], None),
    ("idx_slice", lambda L, a: a[1:], [(3, 4)], None),
    ("idx_slice_step", lambda L, a: a[:, ::2], [(3, 4)], None),
    ("idx_slice_neg", lambda L, a: a[-2:, :-1], [(3, 4)], None),
    ("idx_col", lambda L, a: a[:, 0], [(3, 4)], None),
    ("idx_ellipsis", lambda L, a: a[..., 1], [(2, 3, 4)], None),
    ("idx_none", lambda L, a: a[None, :, 1], [(3, 4)], None),
    ("idx_list", lambda L, a: a[[0, 2]], [(3, 4)], None),
    ("idx_list_repeat", lambda L, a: a[[0, 2, 0, 0]], [(3, 4)], None),
    ("idx_tensor_repeat", lambda L, a: a[const(L, np.array([1, 1, 2]))], [(3, 4)], None),
    ("idx_tensor_neg", lambda L, a: a[const(L, np.array([-1, 0, -1]))], [(3, 4)], None),
    ("idx_2d_tensor", lambda L, a: a[const(L, np.array([[0, 1], [1, 1]]))], [(3, 4)], None),
    ("idx_pairs", lambda L, a: a[[0, 2, 2], [1, 3, 3]], [(3, 4)], None),
    ("idx_mixed", lambda L, a: a[1:, [0, 0, 3]], [(3, 4)], None),
    ("idx_int_list", lambda L, a: a[0, [1, 1, 2]], [(3, 4)], None),
    ("idx_bool", lambda L, a: a[const(L, MASK)], [(3, 4)], None),
    ("idx_bool_rows", lambda L, a: a[const(L, np.array([True, False, True]))], [(3, 4)], None),
    ("idx_cmp_mask", lambda L, a: a[a > 0], [(3, 4)], None),
    # ---- matmul
    ("mm", lambda L, a, b: a @ b, [(3, 4), (4, 5)], None),
    ("mm_method", lambda L, a, b: a.matmul(b), [(3, 4), (4, 2)], None),
    ("mm_func", lambda L, a, b: L.matmul(a, b), [(1, 4), (4, 1)], None),
    ("vv", lambda L, a, b: a @ b, [(4,), (4,)], None),
    ("vm", lambda L, a, b: a @ b, [(4,), (4, 3)], None),
    ("mv", lambda L, a, b: a @ b, [(3, 4), (4,)], None),
    ("bmm", lambda L, a, b: a @ b, [(2, 3, 4), (2, 4, 5)], None),
    ("bmm_broadcast_b", lambda L, a, b: a @ b, [(2, 3, 4), (4, 5)], None),
    ("bmm_broadcast_a", lambda L, a, b: a @ b, [(3, 4), (2, 4, 5)], None),
    ("bmm_broadcast_both", lambda L, a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)], None),
    ("bmv", lambda L, a, b: a @ b, [(2, 3, 4), (4,)], None),
    ("vbm", lambda L, a, b: a @ b, [(4,), (2, 4, 3)], None),
    ("mm_transposed", lambda L, a, b: a.T @ b.T, [(4, 3), (5, 4)], None),
    ("mm_chain", lambda L, a, b: (a @ b).exp() @ b.T, [(3, 4), (4, 5)], None),
]
CASE_IDS = [c[0] for c in CASES]


def _inputs(shapes, domain, dtype, seed):
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        x = rng.uniform(0.5, 2.0, s) if domain == "pos" else rng.standard_normal(s)
        out.append(x.astype(dtype))
    return out


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name, fn, shapes, domain", CASES, ids=CASE_IDS)
def test_values_and_gradients_match_torch(name, fn, shapes, domain, dtype):
    arrays = _inputs(shapes, domain, dtype, seed=zlib.crc32(name.encode()))
    xs = [pf.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn(pf, *xs), fn(torch, *ts)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    assert isinstance(out, pf.Tensor)
    assert out.shape == tuple(tout.shape)
    assert out.dtype == dtype and str(tout.dtype) == f"torch.{np.dtype(dtype).name}"
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **tol)
    assert out.requires_grad and not out.is_leaf

    g = np.random.default_rng(7).standard_normal(out.shape).astype(dtype)
    out.backward(pf.tensor(g))
    tout.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        if t.grad is None:  # an input that only gives its shape
            assert x.grad is None
            continue
        assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == dtype
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **tol)


@pytest.mark.parametrize("name, fn, shapes, domain", CASES, ids=CASE_IDS)
def test_gradcheck(name, fn, shapes, domain):
    arrays = _inputs(shapes, domain, np.float64, seed=zlib.crc32(name.encode()) + 1)
    xs = [pf.tensor(a, requires_grad=True) for a in arrays]
    if name == "view_as":  # the second input only gives a shape
        xs[1].requires_grad_(False)
    assert gradcheck(lambda *a: fn(pf, *a), xs)


@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda a: a[::-1], [(4, 3)]),  # negative steps (PyTorch has none)
        (lambda a: a[::-2, 1:], [(5, 3)]),
        (lambda a: pf.sum(a * a, dim=0), [(3, 4)]),
        (lambda a, b: pf.matmul(a, b), [(3, 4), (4, 2)]),
        (lambda a: a.T @ a, [(4, 3)]),
        (lambda a: a.to(pf.float64), [(2, 3)]),
        (lambda a: a.clone() * 2, [(3,)]),
        (lambda a: a.contiguous(), [(2, 2)]),
    ],
)
def test_gradcheck_more(fn, shapes):
    xs = [pf.tensor(a, requires_grad=True) for a in _inputs(shapes, None, np.float64, seed=3)]
    assert gradcheck(fn, xs)


def test_gradcheck_multiple_outputs_and_non_contiguous_inputs():
    # a transposed view as input: gradcheck must perturb it element by element in place
    base = np.random.default_rng(0).standard_normal((4, 3))
    x = pf.from_numpy(base.T).requires_grad_()
    assert not x.is_contiguous()
    assert gradcheck(lambda a: (a * a, a.exp().sum(0)), [x])


# ---------------------------------------------------------------- max/min over a dim: (values, indices)
@needs_torch
@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dim, keepdim", [(0, False), (1, True), (-1, False), (2, True)])
def test_max_min_dim_returns_values_and_indices(op, dim, keepdim):
    a = np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32)
    r = getattr(pf.tensor(a), op)(dim, keepdim=keepdim)
    w = getattr(torch.tensor(a), op)(dim, keepdim=keepdim)
    values, indices = r
    assert r.values is values and r.indices is indices
    np.testing.assert_array_equal(values.numpy(), w.values.numpy())
    np.testing.assert_array_equal(indices.numpy(), w.indices.numpy())
    assert indices.dtype == np.int64
    x = pf.tensor(a, requires_grad=True)
    v, i = getattr(pf, op)(x, dim=dim, keepdim=keepdim)
    assert v.requires_grad and not i.requires_grad
    v.sum().backward()  # the gradient goes to the chosen element only
    want = np.zeros_like(a)
    np.put_along_axis(want, w.indices.numpy() if keepdim else np.expand_dims(w.indices.numpy(), dim), 1, axis=dim)
    np.testing.assert_array_equal(x.grad.numpy(), want)


@needs_torch
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_argmin(op):
    a = np.random.default_rng(2).standard_normal((3, 4, 5)).astype(np.float32)
    for kw in ({}, {"dim": 1}, {"dim": -1, "keepdim": True}, {"dim": 0}):
        got = getattr(pf.tensor(a), op)(**kw)
        want = getattr(torch.tensor(a), op)(**kw)
        assert got.dtype == np.int64 and got.shape == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert getattr(pf, op)(pf.tensor(a)).item() == getattr(torch, op)(torch.tensor(a)).item()


def test_ties_share_gradient_like_torch():
    x = pf.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0.5, 0.5, 0])
    a = pf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = pf.tensor([1.0, 3.0, 2.0], requires_grad=True)
    pf.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0, 1])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1, 0])
    if torch is not None:
        ta = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        tb = torch.tensor([1.0, 3.0, 2.0], requires_grad=True)
        torch.maximum(ta, tb).sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
        tx = torch.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
        tx.max().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_std_of_constant_values_has_zero_gradient_like_torch():
    x = pf.ones(2, 3, requires_grad=True)
    x.std().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    y = pf.tensor([[1.0, 1.0], [1.0, 3.0]], requires_grad=True)
    y.std(dim=1).sum().backward()  # row 0 constant: zero gradient; row 1 regular
    if torch is not None:
        ty = torch.tensor([[1.0, 1.0], [1.0, 3.0]], requires_grad=True)
        ty.std(dim=1).sum().backward()
        np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-6)
    assert not np.isnan(y.grad.numpy()).any()


def test_clamp_and_abs_gradients_at_the_edges_like_torch():
    x = pf.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    x.clamp(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1, 1, 0])  # boundaries included
    y = pf.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    y.abs().sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [-1, 0, 1])
    with pytest.raises(ValueError):
        pf.clamp(x)


# ---------------------------------------------------------------- gradients stay in the tensor's dtype
FLOAT32_GRAPHS = [
    lambda x, w: pf.max(x @ w),
    lambda x, w: pf.maximum(x @ w, 0.0).sum(),
    lambda x, w: pf.minimum(x @ w, pf.zeros(2)).sum(),
    lambda x, w: (x @ w).max(dim=0).values.sum(),
    lambda x, w: ((x @ w) * pf.tensor([1, 2])).sum(),  # int64 constant
    lambda x, w: ((x @ w) * np.array([1.0, 2.0])).sum(),  # float64 numpy constant
    lambda x, w: ((x @ w) / pf.tensor([2, 4])).sum(),
    lambda x, w: pf.where(x @ w > 0, x @ w, 0.5).sum(),
    lambda x, w: (x.double() @ w.double()).sum(),
]


@pytest.mark.parametrize("graph", FLOAT32_GRAPHS)
def test_float32_graphs_keep_float32_gradients(graph):
    x = pf.randn(3, 4, requires_grad=True)
    w = pf.randn(4, 2, requires_grad=True)
    h = x @ w
    h.retain_grad()
    out = graph(x, w)
    out.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


# ---------------------------------------------------------------- matmul details
@needs_torch
def test_matmul_with_numpy_operands_and_reversed():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4, 2)).astype(np.float32)
    x = pf.tensor(a, requires_grad=True)
    y = x @ b  # numpy on the right
    z = a.T @ x  # numpy on the left: Tensor.__rmatmul__
    assert isinstance(y, pf.Tensor) and isinstance(z, pf.Tensor)
    (y.sum() + z.sum()).backward()
    tx = torch.tensor(a, requires_grad=True)
    ((tx @ torch.tensor(b)).sum() + (torch.tensor(a.T) @ tx).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pf.matmul(a, b), a @ b, rtol=1e-5, atol=1e-6)  # numpy in, numpy out


def test_integer_matmul():
    a = pf.tensor([[1, 2], [3, 4]])
    b = pf.tensor([[5], [6]])
    c = a @ b
    assert c.dtype == np.int64
    np.testing.assert_array_equal(c.numpy(), [[17], [39]])
    if torch is not None:
        np.testing.assert_array_equal(c.numpy(), (torch.tensor([[1, 2], [3, 4]]) @ torch.tensor([[5], [6]])).numpy())


def test_matmul_shape_and_dtype_errors():
    with pytest.raises((ValueError, RuntimeError)):
        pf.ones(2, 3) @ pf.ones(2, 3)
    with pytest.raises((TypeError, RuntimeError)):
        pf.ones(2, 3) @ pf.ones(3, 2, dtype=pf.float64)


# ---------------------------------------------------------------- shapes: errors and edge cases
def test_shape_errors():
    x = pf.ones(2, 3)
    with pytest.raises(RuntimeError, match="invalid for input of size 6"):
        x.reshape(4, 2)
    with pytest.raises(IndexError):
        x.sum(dim=2)
    with pytest.raises(IndexError):
        x.unsqueeze(3)
    with pytest.raises(IndexError):
        x.transpose(0, 2)
    with pytest.raises(RuntimeError):
        x.permute(0, 0)
    with pytest.raises(RuntimeError):
        x.permute(0)
    with pytest.raises(RuntimeError):
        pf.mean(pf.tensor([1, 2]))
    with pytest.raises(ValueError):
        pf.cat([])


@needs_torch
def test_reductions_of_integer_and_bool_tensors_match_torch():
    a = np.array([[1, 2, 3], [4, 5, 6]])
    for f in (lambda L, t: t.sum(), lambda L, t: t.sum(dim=0), lambda L, t: (t > 2).sum(),
              lambda L, t: t.max(), lambda L, t: t.argmax(dim=1)):
        got, want = f(pf, pf.tensor(a)), f(torch, torch.tensor(a))
        assert got.dtype.name == str(want.dtype).replace("torch.", "")
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_views_share_memory_like_torch():
    x = pf.zeros(3, 4)
    for v in (x[0], x[:, 1:], x.reshape(12), x.T, x.unsqueeze(0), x.flatten()):
        assert np.shares_memory(v.numpy(), x.numpy())
    x[0].fill_(1.0)  # writing through a view writes the base, as in PyTorch
    assert x.numpy()[0].sum() == 4


def test_gradients_of_views_through_chains():
    x = pf.randn(2, 3, 4, dtype=pf.float64, requires_grad=True)
    assert gradcheck(lambda a: a.permute(2, 0, 1).reshape(4, 6)[1:, ::2].T.unsqueeze(0).sum(-1), [x])
    assert gradcheck(lambda a: pf.stack([a[0], a[1]], dim=1).flatten(0, 1).squeeze(), [x])


@needs_torch
@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "pow"])
def test_numpy_arrays_and_numbers_on_either_side(op):
    import operator

    f = getattr(operator, op)
    rng = np.random.default_rng(11)
    a = rng.uniform(0.5, 2.0, (3, 4)).astype(np.float32)
    c = rng.uniform(0.5, 2.0, (4,)).astype(np.float32)
    for left in (True, False):
        for const_pf, const_t in ((c, torch.tensor(c)), (1.5, 1.5), (np.float32(1.5), 1.5)):
            x, t = pf.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
            y = f(const_pf, x) if left else f(x, const_pf)
            w = f(const_t, t) if left else f(t, const_t)
            assert isinstance(y, pf.Tensor) and y.dtype == np.float32, (left, type(const_pf))
            np.testing.assert_allclose(y.numpy(), w.detach().numpy(), rtol=1e-5)
            y.sum().backward()
            w.sum().backward()
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5)


def test_expand_errors_like_torch():
    with pytest.raises(RuntimeError, match="leading, non-existing dimension"):
        pf.ones(3).expand(-1, 3)
    with pytest.raises(RuntimeError):
        pf.ones(2, 3).expand(3)
    with pytest.raises((ValueError, RuntimeError)):
        pf.ones(2, 3).expand(4, 3)


@needs_torch
def test_non_differentiable_helpers_match_torch():
    a = np.array([[-1.5, -0.5, 0.0, 0.5], [1.5, 2.5, -2.5, 3.7]], np.float32)
    x, t = pf.tensor(a), torch.tensor(a)
    for f in (lambda v: v.sign(), lambda v: v.floor(), lambda v: v.ceil(), lambda v: v.round(),
              lambda v: v.round(decimals=1), lambda v: (v > 0).all(), lambda v: (v > -3).all(),
              lambda v: (v > 3).any(), lambda v: (v > 0).any(dim=1), lambda v: (v > -2).all(dim=0)):
        got, want = f(x), f(t)
        assert got.dtype.name == str(want.dtype).replace("torch.", "")
        np.testing.assert_array_equal(got.numpy(), want.numpy())

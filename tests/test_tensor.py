"""pf.Tensor: factories, dtypes, conversions, properties, in-place updates, __setitem__, repr.

PyTorch is the oracle where it is installed (the tests that need it skip otherwise).
"""

import copy
import pickle

import numpy as np
import pytest

import pyfastnn as pf

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")


def torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


# ---------------------------------------------------------------- pf.tensor dtype inference
@pytest.mark.parametrize(
    "data, want",
    [
        (1.5, np.float32),
        ([1.0, 2.0], np.float32),
        ([1, 2.5], np.float32),
        ([[1.0], [2.0]], np.float32),
        (3, np.int64),
        ([1, 2, 3], np.int64),
        (True, np.bool_),
        ([True, False], np.bool_),
        ([], np.float32),
        (np.arange(3, dtype=np.int32), np.int32),
        (np.arange(3, dtype=np.uint8), np.uint8),
        (np.ones(2, np.float64), np.float64),
        (np.ones(2, np.float16), np.float16),
        (np.float64(2.0), np.float64),
        (np.int32(2), np.int32),
    ],
)
def test_tensor_infers_dtype_like_torch(data, want):
    t = pf.tensor(data)
    assert t.dtype == want
    np.testing.assert_array_equal(t.numpy(), np.asarray(data, dtype=want))
    if torch is not None:
        assert torch_dtype_name(torch.tensor(data)) == np.dtype(want).name


def test_tensor_copies_and_takes_dtype_and_requires_grad():
    a = np.arange(4.0)
    t = pf.tensor(a)
    a[0] = 100
    assert t.numpy()[0] == 0  # a copy
    t = pf.tensor([1, 2], dtype=pf.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf and t.grad is None
    t2 = pf.tensor(t)
    assert not t2.requires_grad and not np.shares_memory(t2.numpy(), t.numpy())
    with pytest.raises(TypeError):
        pf.tensor("abc")


def test_tensor_of_integers_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        pf.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        pf.arange(3).requires_grad_()
    if torch is not None:
        with pytest.raises(RuntimeError, match="floating point"):
            torch.tensor([1, 2], requires_grad=True)


# ---------------------------------------------------------------- factories
@needs_torch
@pytest.mark.parametrize(
    "name, args, kwargs",
    [
        ("zeros", (2, 3), {}),
        ("zeros", ((2, 3),), {}),
        ("zeros", ([4],), {}),
        ("ones", (3,), {}),
        ("ones", (2, 2), {"dtype": "float64"}),
        ("ones", (2,), {"dtype": "int64"}),
        ("full", ((2, 2), 1.5), {}),
        ("full", ((2,), 7), {}),
        ("full", ((2,), True), {}),
        ("eye", (3,), {}),
        ("eye", (2, 4), {}),
        ("arange", (5,), {}),
        ("arange", (1, 7, 2), {}),
        ("arange", (0, 1, 0.25), {}),
        ("arange", (0.5, 3), {}),
        ("arange", (5,), {"dtype": "float64"}),
        ("linspace", (0, 1, 5), {}),
        ("linspace", (-2, 3, 11), {}),
    ],
)
def test_factories_match_torch(name, args, kwargs):
    pk = {k: getattr(pf, v) for k, v in kwargs.items()}
    tk = {k: getattr(torch, v) for k, v in kwargs.items()}
    got, want = getattr(pf, name)(*args, **pk), getattr(torch, name)(*args, **tk)
    assert isinstance(got, pf.Tensor)
    assert got.shape == tuple(want.shape)
    assert got.dtype.name == torch_dtype_name(want)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7)


def test_empty_and_requires_grad_factories():
    e = pf.empty(2, 3)
    assert e.shape == (2, 3) and e.dtype == np.float32
    for f in (pf.zeros, pf.ones, pf.empty, pf.rand, pf.randn):
        t = f(2, 2, requires_grad=True)
        assert t.requires_grad and t.is_leaf and t.grad_fn is None
    with pytest.raises(ValueError):
        pf.zeros(-1)
    with pytest.raises(ValueError):
        pf.zeros(2.5)


def test_like_factories():
    base = pf.tensor(np.arange(6, dtype=np.float64).reshape(2, 3))
    for f, val in ((pf.zeros_like, 0), (pf.ones_like, 1)):
        t = f(base)
        assert t.shape == (2, 3) and t.dtype == np.float64
        assert (t.numpy() == val).all()
    t = pf.full_like(base, 2.5)
    assert t.dtype == np.float64 and (t.numpy() == 2.5).all()
    assert pf.empty_like(base).shape == (2, 3)
    assert pf.zeros_like(base, dtype=pf.float32).dtype == np.float32
    r = pf.rand_like(base)
    assert r.shape == (2, 3) and r.dtype == np.float64 and ((r.numpy() >= 0) & (r.numpy() < 1)).all()
    assert pf.randn_like(base).dtype == np.float64
    assert pf.ones_like(base, requires_grad=True).requires_grad


def test_from_numpy_and_as_tensor_share_memory():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = pf.from_numpy(a)
    assert np.shares_memory(t.numpy(), a) and t.dtype == np.float32
    a[0, 0] = 42
    assert t.numpy()[0, 0] == 42
    with pf.no_grad():
        t[1, 1] = -1
    assert a[1, 1] == -1
    assert pf.from_numpy(np.arange(3)).dtype == np.int64
    assert np.shares_memory(pf.as_tensor(a).numpy(), a)
    assert not np.shares_memory(pf.as_tensor(a, dtype=pf.float64).numpy(), a)
    with pytest.raises(TypeError):
        pf.from_numpy([1, 2])


def test_random_factories_and_ranges():
    pf.manual_seed(0)
    r = pf.rand(10000)
    assert r.dtype == np.float32 and r.numpy().min() >= 0 and r.numpy().max() < 1
    assert abs(r.numpy().mean() - 0.5) < 0.02
    n = pf.randn(20000, dtype=pf.float64)
    assert n.dtype == np.float64 and abs(n.numpy().mean()) < 0.03 and abs(n.numpy().std() - 1) < 0.03
    i = pf.randint(3, 7, (1000,))
    assert i.dtype == np.int64 and i.numpy().min() == 3 and i.numpy().max() == 6
    assert pf.randint(5, size=(2, 2)).shape == (2, 2)
    p = pf.randperm(10)
    assert sorted(p.tolist()) == list(range(10)) and p.dtype == np.int64


def test_manual_seed_reproducibility():
    def draw():
        return pf.rand(5).numpy(), pf.randn(3, 2).numpy(), pf.randint(0, 100, (4,)).numpy(), pf.randperm(6).numpy()

    pf.manual_seed(1234)
    first = draw()
    pf.manual_seed(1234)
    second = draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert pf.initial_seed() == 1234
    pf.manual_seed(4321)
    assert not np.array_equal(draw()[0], first[0])
    with pytest.raises(TypeError):
        pf.manual_seed(1.5)


def test_default_dtype():
    try:
        pf.set_default_dtype(pf.float64)
        assert pf.get_default_dtype() == np.float64
        assert pf.tensor([1.5]).dtype == np.float64 and pf.zeros(2).dtype == np.float64
        assert pf.tensor([1]).dtype == np.int64
        with pytest.raises(TypeError):
            pf.set_default_dtype(pf.int64)
    finally:
        pf.set_default_dtype(pf.float32)
    assert pf.zeros(2).dtype == np.float32


# ---------------------------------------------------------------- conversions and properties
def test_numpy_item_tolist():
    t = pf.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert np.shares_memory(t.numpy(), t.data)
    assert t.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert pf.tensor(2.5).item() == 2.5 and isinstance(pf.tensor(2.5).item(), float)
    assert pf.tensor([7]).item() == 7 and isinstance(pf.tensor([7]).item(), int)
    assert pf.tensor([[True]]).item() is True
    with pytest.raises(ValueError):
        t.item()
    assert float(pf.tensor(1.25)) == 1.25 and int(pf.tensor(3)) == 3
    assert np.asarray(t).dtype == np.float32 and np.asarray(t, dtype=np.float64).dtype == np.float64
    assert [10, 20, 30][pf.tensor(1)] == 20  # __index__
    assert bool(pf.tensor([1.0])) and not bool(pf.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(pf.tensor([1.0, 2.0]))


def test_properties():
    t = pf.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.ndim == 3 and t.dim() == 3 and t.numel() == 24 and len(t) == 2
    assert t.dtype == pf.float32 and t.device == "cpu"
    assert t.is_leaf and not t.requires_grad and t.grad is None and t.grad_fn is None
    assert t.is_contiguous() and not t.permute(2, 0, 1).is_contiguous()
    assert t.permute(2, 0, 1).contiguous().is_contiguous()
    with pytest.raises(TypeError):
        len(pf.tensor(1.0))
    w = pf.ones(3, requires_grad=True)
    y = w * 2
    assert w.is_leaf and not y.is_leaf and y.requires_grad and y.grad_fn is not None
    assert y.grad_fn.name().startswith("Mul")


def test_to_and_dtype_conversions():
    t = pf.tensor([1.7, -2.2])
    assert t.to(pf.float64).dtype == np.float64 and t.double().dtype == np.float64
    assert t.long().tolist() == [1, -2] and t.int().dtype == np.int32
    assert t.bool().tolist() == [True, True]
    assert t.float() is t and t.to("cpu") is t and t.cpu() is t
    assert t.to(pf.float32, copy=True) is not t
    assert t.type_as(pf.zeros(1, dtype=pf.float64)).dtype == np.float64
    with pytest.raises(ValueError):
        t.to("tpu")
    # a dtype change is differentiable
    w = pf.tensor([1.0, 2.0], requires_grad=True)
    (w.double() * 3).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.numpy(), [3, 3])


def test_clone_and_detach():
    w = pf.tensor([1.0, 2.0], requires_grad=True)
    c = w.clone()
    assert not c.is_leaf and not np.shares_memory(c.numpy(), w.numpy())
    d = w.detach()
    assert np.shares_memory(d.numpy(), w.numpy()) and not d.requires_grad and d.is_leaf
    (c * c).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2, 4])


def test_copy_and_pickle():
    w = pf.tensor([1.0, 2.0], requires_grad=True)
    w2 = copy.deepcopy(w)
    assert w2.requires_grad and not np.shares_memory(w2.numpy(), w.numpy())
    np.testing.assert_array_equal(w2.numpy(), w.numpy())
    w3 = pickle.loads(pickle.dumps(w))
    assert w3.requires_grad
    np.testing.assert_array_equal(w3.numpy(), w.numpy())


# ---------------------------------------------------------------- dtype promotion (PyTorch's rules)
@needs_torch
@pytest.mark.parametrize(
    "a, b",
    [
        (np.array([1, 2]), 2),
        (np.array([1, 2]), 1.5),
        (np.array([1, 2], np.uint8), 255),
        (np.array([1, 2]), np.array([1.0, 2.0], np.float32)),
        (np.array([1.0, 2.0], np.float32), 2),
        (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.0], np.float64)),
        (np.array([1, 2], np.int32), 3),
        (np.array([1.0, 2.0], np.float32), np.float64(2.0)),
        (np.array([1.0, 2.0], np.float64), 0.5),
    ],
)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "pow"])
def test_result_dtypes_follow_torch(a, b, op):
    def wrap(lib, v):
        if isinstance(v, np.ndarray):
            return pf.tensor(v) if lib is pf else torch.tensor(v)
        return v

    import operator

    f = getattr(operator, op)
    got = f(wrap(pf, a), wrap(pf, b))
    want = f(wrap(torch, a), wrap(torch, b))
    assert got.dtype.name == torch_dtype_name(want), (op, a.dtype, type(b))
    np.testing.assert_allclose(got.numpy().astype(np.float64), want.numpy().astype(np.float64), rtol=1e-6)


def test_integer_images_scaled_feed_a_float32_layer():
    """uint8 pixels / 255 is float32 (as in PyTorch), so it multiplies float32 weights."""
    x = pf.from_numpy(np.arange(12, dtype=np.uint8).reshape(3, 4)) / 255
    assert x.dtype == np.float32
    w = pf.ones(4, 2, requires_grad=True)
    (x @ w).sum().backward()
    assert w.grad.dtype == np.float32


def test_numpy_scalars_act_as_python_numbers():
    x = pf.ones(3, requires_grad=True)
    for y in (x * np.float64(2), np.float64(2) * x, x / np.sqrt(np.float64(4)), x + np.float32(1), x ** np.int64(2)):
        assert isinstance(y, pf.Tensor) and y.dtype == np.float32 and y.requires_grad


# ---------------------------------------------------------------- comparisons
@needs_torch
@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons_match_torch(op):
    import operator

    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, (3, 4)).astype(np.float32)
    b = rng.integers(0, 3, (4,)).astype(np.float32)
    f = getattr(operator, op)
    for other_pf, other_t in ((pf.tensor(b), torch.tensor(b)), (1.0, 1.0), (b, torch.tensor(b))):
        got = f(pf.tensor(a), other_pf)
        want = f(torch.tensor(a), other_t)
        assert got.dtype == np.bool_ and not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert getattr(pf.tensor(a), op)(1.0).dtype == np.bool_
    w = pf.tensor(a, requires_grad=True)
    assert not (w > 1).requires_grad


# ---------------------------------------------------------------- in-place updates
def test_inplace_ops_values():
    t = pf.tensor([1.0, 2.0, 3.0])
    assert t.add_(1) is t
    t.sub_(pf.tensor([1.0, 1.0, 1.0]))
    t.mul_(2)
    t.div_(pf.tensor(2.0))
    np.testing.assert_array_equal(t.numpy(), [1, 2, 3])
    t.add_(pf.tensor([1.0, 1.0, 1.0]), alpha=2)
    np.testing.assert_array_equal(t.numpy(), [3, 4, 5])
    t.clamp_(min=3.5, max=4.5)
    np.testing.assert_array_equal(t.numpy(), [3.5, 4, 4.5])
    t.fill_(7)
    np.testing.assert_array_equal(t.numpy(), [7, 7, 7])
    t.zero_()
    np.testing.assert_array_equal(t.numpy(), [0, 0, 0])
    t.copy_(np.array([1, 2, 3]))
    np.testing.assert_array_equal(t.numpy(), [1, 2, 3])
    data = t.data
    t += 1
    t -= pf.tensor([1.0, 1.0, 1.0])
    t *= 3
    t /= 3
    assert t.data is data  # really in place
    np.testing.assert_array_equal(t.numpy(), [1, 2, 3])
    pf.manual_seed(0)
    t.uniform_(2, 3)
    assert ((t.numpy() >= 2) & (t.numpy() < 3)).all()
    t.normal_(0, 1)
    assert t.data is data


INPLACE_CALLS = [
    ("add_", lambda t: t.add_(1)),
    ("sub_", lambda t: t.sub_(1)),
    ("mul_", lambda t: t.mul_(2)),
    ("div_", lambda t: t.div_(2)),
    ("zero_", lambda t: t.zero_()),
    ("fill_", lambda t: t.fill_(1)),
    ("copy_", lambda t: t.copy_(pf.ones(3))),
    ("clamp_", lambda t: t.clamp_(0, 1)),
    ("normal_", lambda t: t.normal_()),
    ("uniform_", lambda t: t.uniform_()),
    ("setitem", lambda t: t.__setitem__(0, 5.0)),
    ("iadd", lambda t: t.__iadd__(1)),
    ("isub", lambda t: t.__isub__(1)),
    ("imul", lambda t: t.__imul__(2)),
    ("idiv", lambda t: t.__itruediv__(2)),
]


@pytest.mark.parametrize("name, call", INPLACE_CALLS, ids=[n for n, _ in INPLACE_CALLS])
def test_inplace_on_leaf_requiring_grad_raises_like_torch(name, call):
    w = pf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    before = w.numpy().copy()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        call(w)
    np.testing.assert_array_equal(w.numpy(), before)
    with pf.no_grad():  # the way to update parameters
        call(w)
    assert w.is_leaf and w.requires_grad


def test_augmented_assignment_on_leaf_raises_and_no_grad_updates_in_place():
    w = pf.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w += 1
    (w * w).sum().backward()
    ref = w
    with pf.no_grad():
        w -= 0.5 * w.grad
    assert w is ref and w.is_leaf
    np.testing.assert_allclose(w.numpy(), [0, 0])


def test_augmented_assignment_on_non_leaf_is_differentiable():
    w = pf.tensor([1.0, 2.0], requires_grad=True)
    y = w * 2
    y += w  # rebinds y to y + w (the graph stays correct)
    y *= 3
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [9, 9])


def test_augmented_assignment_of_a_tensor_requiring_grad_keeps_the_gradient():
    xs = [pf.tensor([1.0, 2.0], requires_grad=True) for _ in range(3)]
    acc = pf.zeros(2)
    for i, x in enumerate(xs):
        acc += x * (i + 1)
    acc *= pf.tensor([1.0, 10.0])
    assert acc.requires_grad
    acc.sum().backward()
    for i, x in enumerate(xs):
        np.testing.assert_array_equal(x.grad.numpy(), [i + 1, 10 * (i + 1)])


def test_setitem():
    t = pf.zeros(3, 4)
    t[0] = 1.0
    t[1, 2] = 5.0
    t[:, -1] = pf.tensor([7.0, 8.0, 9.0])
    t[t == 0] = -1.0
    t[pf.tensor([2]), 0] = 3.0
    want = np.array([[1, 1, 1, 7], [-1, -1, 5, 8], [3, -1, -1, 9]], np.float32)
    np.testing.assert_array_equal(t.numpy(), want)
    t[...] = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(t.numpy(), np.arange(12).reshape(3, 4))
    assert t.dtype == np.float32


def test_copying_a_tensor_that_requires_grad_into_another_is_refused():
    """PyTorch records such copies; we do not, so the gradient would be lost silently."""
    x = pf.tensor([1.0, 2.0], requires_grad=True)
    out = pf.zeros(3)
    with pytest.raises(RuntimeError, match="gradient would be lost"):
        out[0] = (x * 2).sum()
    with pytest.raises(RuntimeError, match="gradient would be lost"):
        out[:2].copy_(x)
    out[0] = (x * 2).sum().detach()  # explicitly a constant: fine
    with pf.no_grad():
        out[1:] = x
    np.testing.assert_array_equal(out.numpy(), [6, 1, 2])
    built = pf.stack([(x * 2).sum(), x[0], x[1]])  # the differentiable way
    built.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])


# ---------------------------------------------------------------- repr
@pytest.mark.parametrize(
    "data",
    [
        [1.0, 2.0, 3.0],
        [1.5, 2.25, -3.125],
        [0.1234567, 100.5],
        3.5,
        0.0,
        [[1.5, 2.0], [3.0, 4.0]],
        [1e10, 1.0],
        [1e-5, 1.0],
        [float("nan"), 1.5, float("inf")],
        [1, 2, 3],
        [True, False],
        [],
    ],
)
def test_repr_matches_torch(data):
    want = {
        3.5: "tensor(3.5000)",
        0.0: "tensor(0.)",
    }
    got = repr(pf.tensor(data))
    if torch is not None:
        assert got == repr(torch.tensor(data))
    elif isinstance(data, float):
        assert got == want[data]


def test_repr_dtype_grad_and_parameter():
    assert repr(pf.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(pf.tensor([1.0], dtype=pf.float64)) == "tensor([1.], dtype=float64)"
    assert repr(pf.tensor([1], dtype=pf.int32)) == "tensor([1], dtype=int32)"
    assert repr(pf.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    y = pf.tensor([1.0], requires_grad=True) * 2
    assert repr(y).startswith("tensor([2.], grad_fn=<Mul")
    p = pf.nn.Parameter(pf.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    if torch is not None:
        assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))

"""Dropout: the counter-based mask (bit-identical to the NumPy reference on every ISA and
thread count), its statistics, seeding, the backward pass, F.dropout and nn.Dropout."""

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import _C, nn
from pyfastnn.autograd.gradcheck import gradcheck
from pyfastnn.backends import cpu, reference
from pyfastnn.nn import functional as F
from pyfastnn.ops.dropout import DropoutFunction

SEEDS = [0, 1, 12345, 2**63 - 2, 2**64 - 1]
PS = [0.0, 1e-12, 0.1, 0.5, 0.9, 1 - 1e-9, 1.0]


def _bits(a):
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def test_reference_mask_matches_a_plain_python_definition():
    """The uint64 NumPy reference against the definition written out with Python ints."""
    mask64 = (1 << 64) - 1
    gamma = 0x9E3779B97F4A7C15

    def mix(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask64
        return z ^ (z >> 31)

    for seed, p in [(7, 0.3), (2**64 - 1, 0.5), (0, 0.99)]:
        key = mix((seed + gamma) & mask64)
        thr = int(p * 2**32)
        want = []
        for i in range(101):
            h = mix((key + (i // 2) * gamma) & mask64)
            u = h >> 32 if i % 2 else h & 0xFFFFFFFF
            want.append(u >= thr)
        np.testing.assert_array_equal(reference.dropout_mask(101, p, seed), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_bit_identical_to_reference_each_isa_and_thread_count(isa, threads, dtype):
    rng = np.random.default_rng(0)
    for n in [0, 1, 2, 3, 15, 16, 17, 33, 1001, 70001]:
        x = rng.standard_normal(n).astype(dtype)
        for seed in SEEDS:
            for p in PS:
                np.testing.assert_array_equal(cpu.dropout_mask(n, p, seed), reference.dropout_mask(n, p, seed))
                got = cpu.dropout_forward(x, p, seed)
                want = reference.dropout_forward(x, p, seed)
                assert got.dtype == dtype
                np.testing.assert_array_equal(_bits(got), _bits(want), err_msg=f"n={n} p={p} seed={seed}")


def test_unaligned_ranges_and_odd_offsets(isa):
    # a slice starting at an odd element index still follows the flat index of its own array
    rng = np.random.default_rng(1)
    base = rng.standard_normal(1000).astype(np.float32)
    for start in (1, 3, 7):
        x = np.ascontiguousarray(base[start:])
        np.testing.assert_array_equal(_bits(cpu.dropout_forward(x, 0.3, 99)), _bits(reference.dropout_forward(x, 0.3, 99)))


def test_large_multithreaded_matches_single_thread():
    x = np.ones(3_000_001, np.float32)
    before = pf.get_num_threads()
    try:
        pf.set_num_threads(1)
        one = cpu.dropout_forward(x, 0.25, 2024)
        pf.set_num_threads(2)
        two = cpu.dropout_forward(x, 0.25, 2024)
    finally:
        pf.set_num_threads(before)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one != 0, reference.dropout_mask(x.size, 0.25, 2024))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_kept_fraction_and_mean(p):
    n = 1_000_000
    pf.manual_seed(17)
    x = pf.ones(n)
    y = F.dropout(x, p).data
    kept = np.count_nonzero(y) / n
    sigma = np.sqrt(p * (1 - p) / n)
    assert abs(kept - (1 - p)) < 5 * sigma, (kept, 1 - p)
    # even and odd indices (the low and high halves of each hash) keep alike
    for half in (y[0::2], y[1::2]):
        assert abs(np.count_nonzero(half) / half.size - (1 - p)) < 5 * sigma * np.sqrt(2)
    # inverted dropout keeps the expected value: kept elements are 1 / (1 - p)
    np.testing.assert_array_equal(np.unique(y), [0, np.float32(1 / (1 - p))])
    sigma_mean = np.sqrt(p / (1 - p) / n)
    assert abs(y.astype(np.float64).mean() - 1.0) < 5 * sigma_mean


def test_masks_of_neighbouring_elements_and_seeds_are_uncorrelated():
    n = 200_000
    a = reference.dropout_mask(n, 0.5, 1).astype(np.float64)
    b = reference.dropout_mask(n, 0.5, 2).astype(np.float64)
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(n)
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 5 / np.sqrt(n)
    assert abs(np.corrcoef(a[:-2], a[2:])[0, 1]) < 5 / np.sqrt(n)


def test_manual_seed_reproducibility():
    x = pf.randn(64, 33)
    pf.manual_seed(123)
    a, b = F.dropout(x, 0.4), F.dropout(x, 0.4)
    pf.manual_seed(123)
    a2, b2 = F.dropout(x, 0.4), F.dropout(x, 0.4)
    np.testing.assert_array_equal(a.data, a2.data)
    np.testing.assert_array_equal(b.data, b2.data)
    assert not np.array_equal(a.data, b.data)  # each call draws a fresh seed


def test_backward_uses_the_forward_mask(rng):
    x = pf.tensor(rng.standard_normal((37, 29)).astype(np.float32), requires_grad=True)
    y = F.dropout(x, 0.3)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    keep = y.data != 0
    scale = np.float32(1 / 0.7)
    np.testing.assert_array_equal(x.grad.data, np.where(keep, g * scale, 0))
    np.testing.assert_array_equal(y.data, np.where(keep, x.data * scale, 0))
    assert 0.6 < keep.mean() < 0.8


def test_backward_non_contiguous_gradient(rng):
    x = pf.tensor(rng.standard_normal((8, 6)), requires_grad=True)
    y = F.dropout(x, 0.5)
    y.T.backward(np.ones((6, 8)) * np.arange(8.0))  # the gradient reaches dropout as a transposed view
    want = np.where(y.data != 0, 2.0 * np.arange(8.0)[:, None], 0.0)
    np.testing.assert_array_equal(x.grad.data, want)


def test_gradcheck_with_fixed_seed():
    rng = np.random.default_rng(5)
    x = pf.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    assert gradcheck(lambda t: DropoutFunction.apply(t, p=0.4, seed=77), (x,))


def test_eval_and_p_zero_are_identity_p_one_zeros():
    x = pf.randn(10, 10, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    d = nn.Dropout(0.5)
    d.eval()
    assert d(x) is x
    d.train()
    assert d(x) is not x
    y = F.dropout(x, 1.0)
    assert (y.data == 0).all()
    y.sum().backward()
    assert (x.grad.data == 0).all()


def test_float64_and_nd_shapes(rng):
    x = pf.tensor(rng.standard_normal((3, 4, 5)))
    pf.manual_seed(5)
    y = F.dropout(x, 0.2)
    assert y.dtype == np.float64 and y.shape == (3, 4, 5)
    pf.manual_seed(5)
    seed = pf.random.next_seed()
    np.testing.assert_array_equal(y.data, reference.dropout_forward(x.data, 0.2, seed))


def test_non_contiguous_input_follows_the_logical_flat_index(rng):
    base = rng.standard_normal((6, 9)).astype(np.float32)
    xt = pf.tensor(base).T  # a transposed view
    pf.manual_seed(8)
    y = F.dropout(xt, 0.5)
    pf.manual_seed(8)
    seed = pf.random.next_seed()
    np.testing.assert_array_equal(y.data, reference.dropout_forward(np.ascontiguousarray(base.T), 0.5, seed))


def test_inplace(rng):
    data = rng.standard_normal((20, 20)).astype(np.float32)
    x = pf.tensor(data.copy())
    pf.manual_seed(3)
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x  # nothing recorded: the data is overwritten
    pf.manual_seed(3)
    np.testing.assert_array_equal(x.data, F.dropout(pf.tensor(data), 0.5).data)
    # recorded through autograd: a new tensor with the same values, and a working backward
    w = pf.tensor(data.copy(), requires_grad=True)
    h = w * 1.0
    out = nn.Dropout(0.5, inplace=True)(h)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.data != 0, out.data != 0)


def test_p_validation_and_repr():
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got"):
            F.dropout(pf.ones(3), bad)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            nn.Dropout(bad)
    with pytest.raises(TypeError, match="dropout: p must be a number"):
        F.dropout(pf.ones(3), "0.5")
    with pytest.raises(ValueError, match=r"dropout_forward: dropout probability has to be between 0 and 1"):
        _C.dropout_forward(np.ones(3, np.float32), 2.0, 1)
    with pytest.raises(ValueError, match=r"must be C-contiguous"):
        _C.dropout_forward(np.ones((3, 4), np.float32).T, 0.5, 1)
    with pytest.raises(TypeError, match=r"dropout_forward: argument 'x' must be a float32 or float64 numpy array"):
        _C.dropout_forward(np.ones(3, np.int32), 0.5, 1)
    with pytest.raises(ValueError, match=r"argument 'out' must be 'x' itself or not overlap it"):
        buf = np.ones(10, np.float32)
        _C.dropout_forward(buf[:8], 0.5, 1, out=buf[1:9])
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Dropout(0.2, inplace=True)) == "Dropout(p=0.2, inplace=True)"
    assert nn.Dropout(0.3).p == 0.3


def test_module_in_a_model_train_and_eval():
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.5), nn.Linear(16, 2))
    x = pf.randn(32, 8)
    model.eval()
    a, b = model(x), model(x)
    np.testing.assert_array_equal(a.data, b.data)
    model.train()
    pf.manual_seed(0)
    c = model(x)
    pf.manual_seed(0)
    d = model(x)
    np.testing.assert_array_equal(c.data, d.data)
    assert not np.array_equal(a.data, c.data)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_torch_semantics():
    """The mask differs from PyTorch's (another generator); the semantics are the same:
    zeros, the 1 / (1 - p) scale, the gradient, identity in eval."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((50, 40)).astype(np.float32)
    for p in (0.2, 0.5):
        tx = torch.from_numpy(x).requires_grad_(True)
        ty = torch.nn.functional.dropout(tx, p)
        ty.sum().backward()
        px = pf.tensor(x, requires_grad=True)
        py = F.dropout(px, p)
        py.sum().backward()
        for y, g, m in ((ty.detach().numpy(), tx.grad.numpy(), ty.detach().numpy() != 0),
                        (py.data, px.grad.data, py.data != 0)):
            np.testing.assert_allclose(y[m], x[m] / (1 - p), rtol=1e-6)
            np.testing.assert_allclose(g, m / np.float32(1 - p), rtol=1e-6)
    td = torch.nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(td(torch.from_numpy(x)).numpy(), nn.Dropout(0.5).eval()(pf.tensor(x)).data)
    assert repr(torch.nn.Dropout(0.5)) == repr(nn.Dropout(0.5))

"""pyfastnn._C.gemm / gemm_strided_batched against the NumPy reference."""

import itertools

import numpy as np
import pytest

from pyfastnn import _C
from pyfastnn.backends import cpu

from gemm_check import assert_gemm_close, operands

SIZES = [0, 1, 7, 16, 17, 63, 64, 65, 255, 513]
TRANS = list(itertools.product([False, True], [False, True]))
TRANS_IDS = ["NN", "NT", "TN", "TT"]


def shapes_covering_sizes(seed):
    """Every size in SIZES appears as m, as n and as k, with the other two drawn at random
    (kept small when one dimension is 513 so that the slow ISAs stay quick)."""
    rng = np.random.default_rng(seed)
    small = [s for s in SIZES if s <= 65]
    out = []
    for axis in range(3):
        for s in SIZES:
            others = rng.choice(small if s >= 255 else SIZES, size=2)
            dims = list(others)
            dims.insert(axis, s)
            out.append(tuple(int(d) for d in dims))
    return out


def run_gemm(rng, m, n, k, dtype=np.float32, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, pads=(0, 0, 0)):
    a, b, c = operands(rng, m, n, k, dtype, trans_a, trans_b, pads)
    c0 = c.copy()
    _C.gemm(a, b, c, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
    assert_gemm_close(c, a, b, c0, alpha, beta, trans_a, trans_b, f"m={m} n={n} k={k} pads={pads}")
    return c


@pytest.mark.parametrize("trans", TRANS, ids=TRANS_IDS)
def test_sizes_each_isa_and_thread_count(isa, threads, trans, rng):
    for m, n, k in shapes_covering_sizes(seed=7):
        run_gemm(rng, m, n, k, np.float32, *trans)


@pytest.mark.parametrize("trans", TRANS, ids=TRANS_IDS)
def test_double_precision(isa, threads, trans, rng):
    for m, n, k in [(1, 1, 1), (7, 17, 5), (65, 33, 129), (130, 70, 300), (0, 5, 3), (4, 0, 3), (4, 5, 0)]:
        run_gemm(rng, m, n, k, np.float64, *trans)


@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (0.5, 2.0), (-1.5, 1.0), (2.0, -0.25), (0.0, 0.5), (0.0, 0.0)])
@pytest.mark.parametrize("trans", TRANS, ids=TRANS_IDS)
def test_alpha_beta(isa, trans, alpha, beta, rng):
    for m, n, k in [(1, 1, 1), (17, 33, 65), (100, 45, 300), (6, 16, 0)]:
        run_gemm(rng, m, n, k, np.float32, *trans, alpha=alpha, beta=beta)


def test_beta_zero_does_not_read_c(isa, threads, rng):
    a, b, _ = operands(rng, 40, 50, 60, np.float32)
    c = np.full((40, 50), np.nan, dtype=np.float32)
    _C.gemm(a, b, c, beta=0.0)
    assert np.isfinite(c).all()
    c = np.full((40, 50), np.nan, dtype=np.float32)
    _C.gemm(a, b, c, alpha=0.0, beta=0.0)
    assert (c == 0).all()


def test_k_zero_scales_c(rng):
    c = rng.standard_normal((5, 6)).astype(np.float32)
    want = 3 * c
    _C.gemm(np.zeros((5, 0), np.float32), np.zeros((0, 6), np.float32), c, beta=3.0)
    np.testing.assert_array_equal(c, want)


@pytest.mark.parametrize("trans", TRANS, ids=TRANS_IDS)
def test_leading_dimensions(isa, threads, trans, rng):
    """Row strides larger than the row length: slices of wider arrays, used in place."""
    for (m, n, k), pads in [((17, 33, 65), (3, 5, 7)), ((64, 64, 64), (1, 0, 16)), ((130, 20, 257), (64, 1, 3))]:
        run_gemm(rng, m, n, k, np.float32, *trans, alpha=1.25, beta=0.5, pads=pads)


def test_leading_dimension_multiple_of_4k(threads, rng):
    # rows 4 KiB apart take the packed-A path: check it against the in-place path
    for m, n, k in [(50, 70, 1024), (13, 40, 2048)]:
        run_gemm(rng, m, n, k, np.float32, False, False)
        run_gemm(rng, m, n, k, np.float32, False, False, pads=(3, 0, 0))


@pytest.mark.parametrize("m,n,k", [(4000, 3, 17), (3000, 1, 5), (1, 3000, 64), (5, 4000, 9), (2, 2, 6000), (700, 9, 1)])
def test_tall_skinny_and_wide_short(isa, threads, m, n, k, rng):
    for trans in TRANS:
        run_gemm(rng, m, n, k, np.float32, *trans)


def test_random_shapes(isa, threads):
    rng = np.random.default_rng(99)
    for _ in range(25):
        m, n, k = (int(x) for x in rng.integers(1, 300, size=3))
        trans = tuple(bool(t) for t in rng.integers(0, 2, size=2))
        pads = tuple(int(p) for p in rng.integers(0, 9, size=3))
        alpha, beta = float(rng.normal()), float(rng.choice([0.0, 1.0, rng.normal()]))
        run_gemm(rng, m, n, k, np.float32, *trans, alpha=alpha, beta=beta, pads=pads)


def test_large_multithreaded_blocks(threads, rng):
    # crosses every cache block boundary (MC, KC, NC) of every ISA
    run_gemm(rng, 1600, 1100, 600, np.float32, False, False, alpha=0.75, beta=0.5)
    run_gemm(rng, 1600, 600, 520, np.float32, True, True)


def test_all_isas_agree_with_each_other(rng):
    a, b, _ = operands(rng, 131, 77, 301, np.float32)
    results = {}
    for name in cpu.supported_isas():
        cpu.set_isa(name)
        c = np.empty((131, 77), np.float32)
        _C.gemm(a, b, c)
        results[name] = c
    cpu.set_isa(None)
    base = results.pop("portable")
    for name, c in results.items():
        np.testing.assert_allclose(c, base, rtol=2e-5, atol=2e-4, err_msg=name)


# ---- strided batch ----


@pytest.mark.parametrize("trans", TRANS, ids=TRANS_IDS)
def test_strided_batched(isa, threads, trans, rng):
    ta, tb = trans
    for batch, m, n, k in [(1, 5, 6, 7), (3, 17, 33, 65), (8, 16, 16, 16), (5, 64, 1, 30), (0, 4, 4, 4), (4, 0, 3, 2)]:
        a = rng.standard_normal((batch, k, m) if ta else (batch, m, k)).astype(np.float32)
        b = rng.standard_normal((batch, n, k) if tb else (batch, k, n)).astype(np.float32)
        c = rng.standard_normal((batch, m, n)).astype(np.float32)
        c0 = c.copy()
        _C.gemm_strided_batched(a, b, c, alpha=1.5, beta=0.5, trans_a=ta, trans_b=tb)
        for i in range(batch):
            assert_gemm_close(c[i], a[i], b[i], c0[i], 1.5, 0.5, ta, tb, f"batch item {i} of {batch}")


def test_strided_batched_broadcast_and_padding(threads, rng):
    # a shared by every item (batch stride 0), b with padded rows and a padded batch stride
    a = np.broadcast_to(rng.standard_normal((20, 30)).astype(np.float32), (6, 20, 30))
    b_store = rng.standard_normal((6, 35, 45)).astype(np.float32)
    b = b_store[:, :30, :40]
    c_store = np.zeros((6, 22, 41), np.float32)
    c = c_store[:, :20, :40]
    _C.gemm_strided_batched(a, b, c)
    for i in range(6):
        assert_gemm_close(c[i], a[i], b[i], c[i], 1.0, 0.0, False, False, f"item {i}")
    assert (c_store[:, 20:, :] == 0).all() and (c_store[:, :, 40:] == 0).all(), "wrote outside c"


def test_strided_batched_double(rng):
    a = rng.standard_normal((4, 9, 11))
    b = rng.standard_normal((4, 11, 13))
    c = np.empty((4, 9, 13))
    _C.gemm_strided_batched(a, b, c)
    np.testing.assert_allclose(c, np.matmul(a, b), rtol=1e-12, atol=1e-12)


def test_writes_stay_inside_c(isa, rng):
    """Edge tiles must not touch the padding around a sliced c."""
    store = np.full((40, 60), 7.0, np.float32)
    c = store[3:26, 5:38]  # 23 x 33 inside a larger array
    a, b, _ = operands(rng, 23, 33, 19, np.float32)
    _C.gemm(a, b, c)
    assert_gemm_close(c, a, b, c, 1.0, 0.0, False, False)
    mask = np.ones_like(store, bool)
    mask[3:26, 5:38] = False
    assert (store[mask] == 7.0).all()


# ---- bad input ----


def test_errors_name_the_op_argument_and_values():
    f32 = np.zeros((3, 4), np.float32)
    with pytest.raises(TypeError, match=r"gemm: argument 'b' must be a float64 numpy array \(the dtype of 'a'\), got a float32 array"):
        _C.gemm(np.zeros((3, 4)), np.zeros((4, 5), np.float32), np.zeros((3, 5), np.float32))
    with pytest.raises(TypeError, match=r"gemm: argument 'a' must be a float32 or float64 numpy array, got an int32 array"):
        _C.gemm(np.zeros((3, 4), np.int32), np.zeros((4, 5), np.float32), np.zeros((3, 5), np.float32))
    with pytest.raises(TypeError, match=r"argument 'b' .* got an int64 array"):
        _C.gemm(f32, np.zeros((4, 5), np.int64), np.zeros((3, 5), np.float32))
    with pytest.raises(TypeError, match=r"argument 'a' .* got an object of type list"):
        _C.gemm([[1.0]], np.zeros((1, 1), np.float32), np.zeros((1, 1), np.float32))
    with pytest.raises(TypeError, match=r"float16"):
        _C.gemm(f32.astype(np.float16), np.zeros((4, 5), np.float32), np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"gemm: argument 'a' must be 2-D, got shape \(12,\)"):
        _C.gemm(np.zeros(12, np.float32), np.zeros((4, 5), np.float32), np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"inner dimensions differ: op\(a\) = a is 3x4, op\(b\) = b is 5x5"):
        _C.gemm(f32, np.zeros((5, 5), np.float32), np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"argument 'c' must be 3x5 .* got 5x3"):
        _C.gemm(f32, np.zeros((4, 5), np.float32), np.zeros((5, 3), np.float32))
    with pytest.raises(ValueError, match=r"unit stride along its last dimension"):
        _C.gemm(np.zeros((4, 3), np.float32).T, np.zeros((4, 5), np.float32), np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"non-negative strides"):
        _C.gemm(f32[::-1], np.zeros((4, 5), np.float32), np.zeros((3, 5), np.float32))
    ro = np.zeros((3, 5), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"argument 'c' is read-only"):
        _C.gemm(f32, np.zeros((4, 5), np.float32), ro)
    sq = np.zeros((4, 4), np.float32)
    with pytest.raises(ValueError, match=r"must not share memory"):
        _C.gemm(sq, sq, sq)
    with pytest.raises(TypeError, match=r"argument 'c' must be a float32 numpy array \(the dtype of 'a'\), got a float64"):
        _C.gemm(f32, np.zeros((4, 5), np.float32), np.zeros((3, 5)))


def test_batched_errors():
    a = np.zeros((2, 3, 4), np.float32)
    b = np.zeros((3, 4, 5), np.float32)
    with pytest.raises(ValueError, match=r"batch sizes differ: a has 2, b has 3, c has 2"):
        _C.gemm_strided_batched(a, b, np.zeros((2, 3, 5), np.float32))
    with pytest.raises(ValueError, match=r"must be 3-D"):
        _C.gemm_strided_batched(a[0], b[0], np.zeros((3, 5), np.float32))
    c = np.broadcast_to(np.zeros((3, 5), np.float32), (2, 3, 5))
    with pytest.raises(ValueError, match=r"read-only|overlapping batch items"):
        _C.gemm_strided_batched(a, b[:2], c)

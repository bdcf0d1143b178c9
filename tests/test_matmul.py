"""pyfastnn.matmul: numpy.matmul semantics on our GEMM."""

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn.backends import reference


def ref_matmul(a, b):
    return reference.gemm(a, b)


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((3, 4), (4, 5)),
        ((4,), (4, 5)),
        ((3, 4), (4,)),
        ((4,), (4,)),
        ((2, 3, 4), (4, 5)),
        ((3, 4), (2, 4, 5)),
        ((2, 1, 3, 4), (5, 4, 6)),
        ((7, 3, 4), (7, 4, 2)),
        ((1, 0, 4), (3, 4, 5)),
        ((2, 3, 0), (2, 0, 5)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_numpy_semantics(sa, sb, dtype, threads, rng):
    a = rng.standard_normal(sa).astype(dtype)
    b = rng.standard_normal(sb).astype(dtype)
    got = pf.matmul(a, b)
    want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert got.shape == want.shape and got.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_views_are_used_without_copies_and_give_right_answers(rng):
    a = rng.standard_normal((50, 40)).astype(np.float32)
    b = rng.standard_normal((60, 50)).astype(np.float32)
    for x, y in [(a.T, b.T), (a[::2].T, b[:, ::2].T[:, :20]), (a[5:45, 3:33], b[:30, 7:17]), (a.T[:, ::-1].T.copy(), b.T)]:
        if x.shape[-1] != y.shape[0]:
            continue
        np.testing.assert_allclose(pf.matmul(x, y), ref_matmul(x, y), rtol=1e-5, atol=1e-4)
    # negative and non-unit strides on both axes: copied, still right
    x = a[::-1, ::-2]
    y = rng.standard_normal((20, 7)).astype(np.float32)[::-1]
    np.testing.assert_allclose(pf.matmul(x, y), ref_matmul(x, y), rtol=1e-5, atol=1e-4)


def test_batched_transposed_views(rng):
    a = rng.standard_normal((3, 8, 5)).astype(np.float32)
    b = rng.standard_normal((3, 8, 6)).astype(np.float32)
    at = np.swapaxes(a, 1, 2)  # (3, 5, 8) with unit stride on axis 1
    np.testing.assert_allclose(pf.matmul(at, b), np.matmul(at, b), rtol=1e-5, atol=1e-5)


def test_out_argument(rng):
    a = rng.standard_normal((4, 6)).astype(np.float32)
    b = rng.standard_normal((6, 3)).astype(np.float32)
    out = np.empty((4, 3), np.float32)
    res = pf.matmul(a, b, out=out)
    assert res is out
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"matmul: argument 'out' must be a float32 array of shape \(4, 3\)"):
        pf.matmul(a, b, out=np.empty((3, 4), np.float32))


def test_lists_are_accepted_when_float(rng):
    np.testing.assert_allclose(pf.matmul([[1.0, 2.0]], [[3.0], [4.0]]), [[11.0]])


def test_bad_input():
    f = np.zeros((3, 4), np.float32)
    with pytest.raises(TypeError, match=r"matmul: argument 'a' must be float32 or float64, got int64"):
        pf.matmul(np.zeros((3, 4), np.int64), f.T)
    with pytest.raises(TypeError, match=r"same dtype, got float32 and float64"):
        pf.matmul(f, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ: a has shape \(3, 4\), b has shape \(3, 4\)"):
        pf.matmul(f, f)
    with pytest.raises(ValueError, match=r"at least 1 dimension, got a scalar"):
        pf.matmul(np.float32(2.0), f)
    with pytest.raises(ValueError, match=r"do not broadcast"):
        pf.matmul(np.zeros((2, 3, 4), np.float32), np.zeros((3, 4, 5), np.float32))
    with pytest.raises(TypeError, match=r"must be a numpy array, got str"):
        pf.matmul("ab", f)


def test_torch_parity(rng):
    torch = pytest.importorskip("torch")
    for sa, sb in [((64, 100), (100, 33)), ((5, 17, 9), (9, 4)), ((9,), (9, 2))]:
        a = rng.standard_normal(sa).astype(np.float32)
        b = rng.standard_normal(sb).astype(np.float32)
        want = torch.matmul(torch.from_numpy(a), torch.from_numpy(b)).numpy()
        np.testing.assert_allclose(pf.matmul(a, b), want, rtol=1e-5, atol=1e-5)

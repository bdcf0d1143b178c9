"""Embedding: the gather / scatter-add kernels against the NumPy reference, F.embedding and
nn.Embedding (padding_idx, max_norm, scale_grad_by_freq, from_pretrained) against PyTorch,
gradcheck, and the bad-input errors."""

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import _C, nn
from pyfastnn.autograd.gradcheck import gradcheck
from pyfastnn.backends import cpu, reference
from pyfastnn.nn import functional as F


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_match_reference(threads, dtype):
    rng = np.random.default_rng(0)
    for num, dim, shape in [(1, 1, (1,)), (10, 3, (4, 5)), (50, 17, (2, 3, 7)), (1000, 64, (256,)),
                            (300, 128, (64, 40)), (7, 5, (0,))]:
        w = rng.standard_normal((num, dim)).astype(dtype)
        idx = rng.integers(0, num, size=shape)
        out = cpu.embedding_forward(w, idx)
        assert out.shape == shape + (dim,) and out.dtype == dtype
        np.testing.assert_array_equal(out, w[idx])
        g = rng.standard_normal(shape + (dim,)).astype(dtype)
        for pad in (None, int(idx.flat[0]) if idx.size else None):
            got = cpu.embedding_backward(idx, g, num, pad)
            want = np.zeros((num, dim))
            np.add.at(want, idx.reshape(-1), g.reshape(-1, dim).astype(np.float64))
            if pad is not None:
                want[pad] = 0
            np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)
            np.testing.assert_allclose(got, reference.embedding_backward(idx, g, num, pad), rtol=1e-5, atol=1e-5)


def test_backward_is_deterministic_across_thread_counts():
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 100, size=(4000,))  # many repeats of every row
    g = rng.standard_normal((4000, 64)).astype(np.float32)
    before = pf.get_num_threads()
    try:
        outs = []
        for n in (1, 2):
            pf.set_num_threads(n)
            outs.append(cpu.embedding_backward(idx, g, 100))
    finally:
        pf.set_num_threads(before)
    np.testing.assert_array_equal(outs[0], outs[1])


def test_weight_with_a_leading_dimension():
    base = np.arange(60, dtype=np.float32).reshape(6, 10)
    w = base[:, 2:7]  # rows of 5 values, 10 apart
    idx = np.array([5, 0, 3])
    np.testing.assert_array_equal(cpu.embedding_forward(w, idx), w[idx])


def test_module_matches_pytorch():
    torch = _torch()
    for kw in [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
               {"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0, "padding_idx": 0}]:
        te = torch.nn.Embedding(12, 4, **kw).double()
        pe = nn.Embedding(12, 4, dtype=np.float64, **kw)
        if "padding_idx" in kw:
            assert not pe.weight.numpy()[kw["padding_idx"]].any()
        pe.weight.data[...] = te.weight.detach().numpy()
        idx = np.array([[1, 2, 3, 3], [11, 0, 2, 3]])
        ot, op = te(torch.tensor(idx)), pe(pf.tensor(idx))
        np.testing.assert_allclose(op.numpy(), ot.detach().numpy(), rtol=1e-12, atol=1e-14)
        g = np.random.default_rng(2).standard_normal((2, 4, 4))
        (ot * torch.tensor(g)).sum().backward()
        (op * pf.tensor(g)).sum().backward()
        np.testing.assert_allclose(pe.weight.grad.numpy(), te.weight.grad.numpy(), rtol=1e-12, atol=1e-14)
        # max_norm renormalizes the looked-up rows of the weight in place
        np.testing.assert_allclose(pe.weight.numpy(), te.weight.detach().numpy(), rtol=1e-6, atol=1e-7)
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"


def test_initialization_and_from_pretrained():
    pf.manual_seed(0)
    e = nn.Embedding(2000, 50, padding_idx=7)
    w = e.weight.numpy()
    assert w.dtype == np.float32 and not w[7].any()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # N(0, 1)
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(pf.tensor(np.array([3, 1]))).numpy(), table[[3, 1]])
    trainable = nn.Embedding.from_pretrained(pf.tensor(table), freeze=False)
    assert trainable.weight.requires_grad
    table[0, 0] = 99  # a copy, not a view of the caller's array
    assert trainable.weight.numpy()[0, 0] == 0


def test_padding_row_is_never_updated_by_training():
    pf.manual_seed(1)
    e = nn.Embedding(6, 3, padding_idx=0)
    opt = pf.optim.SGD(e.parameters(), lr=0.1)
    idx = pf.tensor(np.array([[0, 1, 0], [2, 0, 5]]))
    for _ in range(3):
        opt.zero_grad()
        (e(idx) ** 2).sum().backward()
        opt.step()
    assert not e.weight.numpy()[0].any()
    assert e.weight.grad.numpy()[1].any() and not e.weight.grad.numpy()[3].any()


def test_functional_form_int32_indices_and_gradcheck():
    w = pf.randn(5, 3, dtype=pf.float64, requires_grad=True)
    idx = np.array([[4, 0], [0, 1]], np.int32)
    out = F.embedding(pf.tensor(idx), w)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy(), w.numpy()[idx])
    assert gradcheck(lambda w: (F.embedding(idx, w) ** 2).sum(), [w])
    (F.embedding(idx, w, padding_idx=0) ** 2).sum().backward()
    g = w.grad.numpy()
    assert not g[0].any()  # padding_idx: no gradient, though the row was used
    np.testing.assert_allclose(g[4], 2 * w.numpy()[4]) and np.testing.assert_allclose(g[1], 2 * w.numpy()[1])
    s = F.embedding(np.int64(2), w)  # a 0-d index gives one row
    assert s.shape == (3,)


def test_embedding_feeds_an_lstm():
    pf.manual_seed(2)
    emb, lstm = nn.Embedding(20, 8, padding_idx=0), nn.LSTM(8, 16, batch_first=True)
    tokens = np.array([[3, 4, 5, 0, 0], [7, 1, 2, 9, 4]])
    y, (h, c) = lstm(emb(pf.tensor(tokens)), lengths=[3, 5])
    assert y.shape == (2, 5, 16) and h.shape == (1, 2, 16)
    h.sum().backward()
    assert emb.weight.grad.numpy()[3].any() and not emb.weight.grad.numpy()[0].any()


def test_bad_input():
    e = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"embedding: index 5 is out of range for an embedding of 5 rows"):
        e(pf.tensor(np.array([1, 5])))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        e(pf.tensor(np.array([-1])))
    with pytest.raises(TypeError, match="embedding: expected an integer .* tensor of indices, got float64"):
        e(pf.tensor(np.array([1.0])))
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="sparse gradients are not supported"):
        nn.Embedding(5, 2, sparse=True)
    with pytest.raises(ValueError, match="num_embeddings' must be a non-negative int"):
        nn.Embedding(-1, 2)
    with pytest.raises(ValueError, match="embedding: weight must be 2-D"):
        F.embedding(np.array([0]), pf.randn(3))
    with pytest.raises(IndexError, match="embedding_forward: index 7 is out of range"):
        _C.embedding_forward(np.zeros((3, 2), np.float32), np.array([0, 7]))
    with pytest.raises(TypeError, match="embedding_forward: .*'indices'.*int64"):
        _C.embedding_forward(np.zeros((3, 2), np.float32), np.array([0, 1], np.int32))
    with pytest.raises(ValueError, match="embedding_backward: argument 'grad' must have shape"):
        _C.embedding_backward(np.array([0, 1]), np.zeros((3, 2), np.float32), 3)
    with pytest.raises(IndexError, match="embedding_backward: index 3 is out of range"):
        _C.embedding_backward(np.array([0, 3]), np.zeros((2, 2), np.float32), 3)

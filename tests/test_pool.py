"""Pooling, nearest upsampling and channel dropout: the C++ kernels against the NumPy
reference (random geometries, every ISA and thread count), the reference against PyTorch,
hand-computed course cases, ties and NaN, gradcheck, module parity with PyTorch and errors."""

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.autograd.gradcheck import gradcheck
from pyfastnn.backends import cpu, reference
from pyfastnn.nn import functional as F


def _torch():
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True, scope="module")
def _torch_one_thread():
    """PyTorch on one thread here: its thread pool costs milliseconds per call on tiny tensors."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _random_window(rng, H, W, dilate=True):
    """(kernel, stride, padding, dilation, ceil_mode) that PyTorch accepts for an H x W input."""
    while True:
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2)) if dilate else (1, 1)
        p = tuple(int(rng.integers(0, k[i] // 2 + 1)) for i in range(2))
        ceil = bool(rng.integers(2))
        o = [reference.pool_output_size((H, W)[i], k[i], s[i], p[i], d[i], ceil) for i in range(2)]
        if min(o) >= 1:
            return k, s, p, d, ceil


def _input(rng, shape, dtype, ties=False):
    x = rng.standard_normal(shape)
    if ties:
        x = np.round(x)  # many equal values in a window: the first maximum must win
    return x.astype(dtype)


def _close(got, want, dtype):
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


# ---------------------------------------------------------------- kernels vs reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_max_pool_kernel_matches_reference_random_geometries(isa, threads, dtype):
    rng = np.random.default_rng(10)
    for trial in range(40):
        N, C = int(rng.integers(1, 3)), int(rng.choice([1, 3]))
        H, W = (int(v) for v in rng.integers(1, 13, 2))
        k, s, p, d, ceil = _random_window(rng, H, W)
        x = _input(rng, (N, C, H, W), dtype, ties=trial % 2 == 0)
        for kind in ("int64", "int32"):
            y, idx = cpu.max_pool2d_forward(x, k, s, p, d, ceil, kind)
            yr, ir = reference.max_pool2d_forward(x, k, s, p, d, ceil, kind)
            assert idx.dtype == np.dtype(kind) and y.dtype == dtype
            np.testing.assert_array_equal(y, yr, err_msg=f"{x.shape} {k} {s} {p} {d} {ceil}")
            np.testing.assert_array_equal(idx, ir, err_msg=f"{x.shape} {k} {s} {p} {d} {ceil}")
            g = rng.standard_normal(y.shape).astype(dtype)
            gx = cpu.max_pool2d_backward(g, idx, x.shape, k, s, p, d)
            _close(gx, reference.max_pool2d_backward(g, ir, x.shape), dtype)
        y0, none = cpu.max_pool2d_forward(x, k, s, p, d, ceil, "none")
        assert none is None
        np.testing.assert_array_equal(y0, yr)


@pytest.mark.parametrize("shape", [(2, 3, 56, 56), (1, 2, 9, 13), (3, 1, 2, 2), (1, 1, 5, 33)])
@pytest.mark.parametrize("ceil", [False, True])
def test_max_pool_2x2_fast_path_and_dense_backward(isa, threads, shape, ceil):
    # 2x2 stride 2: the SIMD row kernel, odd sizes leave a ragged last row / column
    rng = np.random.default_rng(11)
    for dtype in (np.float32, np.float64):
        x = _input(rng, shape, dtype, ties=True)
        for kind in ("int32", "int64"):
            y, idx = cpu.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), ceil, kind)
            yr, ir = reference.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), ceil, kind)
            np.testing.assert_array_equal(y, yr)
            np.testing.assert_array_equal(idx, ir)
            g = rng.standard_normal(y.shape).astype(dtype)
            gx = cpu.max_pool2d_backward(g, idx, x.shape, (2, 2), (2, 2), (0, 0), (1, 1))
            np.testing.assert_array_equal(gx, reference.max_pool2d_backward(g, ir, x.shape))


def test_max_pool_dense_backward_other_tilings_and_foreign_indices(threads):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 3, 10, 11)).astype(np.float32)
    for k in [(3, 3), (1, 4), (2, 5), (5, 1)]:
        for ceil in (False, True):
            y, idx = cpu.max_pool2d_forward(x, k, k, (0, 0), (1, 1), ceil)
            g = rng.standard_normal(y.shape).astype(np.float32)
            want = reference.max_pool2d_backward(g, idx, x.shape)
            np.testing.assert_array_equal(cpu.max_pool2d_backward(g, idx, x.shape, k, k, (0, 0), (1, 1)), want)
            np.testing.assert_array_equal(cpu.max_pool2d_backward(g, idx, x.shape), want)
    # indices that are not in their window (not from this pooling): still a plain scatter
    y, idx = cpu.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    idx = idx[..., ::-1, :].copy()
    g = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_array_equal(cpu.max_pool2d_backward(g, idx, x.shape, (2, 2), (2, 2), (0, 0), (1, 1)),
                                  reference.max_pool2d_backward(g, idx, x.shape))


@pytest.mark.parametrize("ceil", [False, True])
def test_avg_pool_tiling_fast_paths(isa, threads, ceil):
    # kernel == stride without padding: the 2x2 row kernel forward, the dense backward
    rng = np.random.default_rng(17)
    for shape in [(2, 3, 56, 56), (1, 2, 9, 13), (3, 1, 2, 2), (1, 1, 5, 33)]:
        for dtype in (np.float32, np.float64):
            x = _input(rng, shape, dtype)
            for k in [(2, 2), (3, 3), (1, 4), (2, 5), (2, 1)]:
                if k[0] > shape[2] or k[1] > shape[3]:
                    continue
                for include, div in [(True, None), (False, None), (True, 3)]:
                    args = (k, k, (0, 0), ceil, include, div)
                    y = cpu.avg_pool2d_forward(x, *args)
                    _close(y, reference.avg_pool2d_forward(x, *args), dtype)
                    g = rng.standard_normal(y.shape).astype(dtype)
                    _close(cpu.avg_pool2d_backward(g, x.shape, *args), reference.avg_pool2d_backward(g, x.shape, *args),
                           dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_avg_pool_kernel_matches_reference_random_geometries(threads, dtype):
    rng = np.random.default_rng(13)
    for trial in range(40):
        N, C = int(rng.integers(1, 3)), int(rng.choice([1, 3]))
        H, W = (int(v) for v in rng.integers(1, 13, 2))
        k, s, p, _, ceil = _random_window(rng, H, W, dilate=False)
        include, div = bool(rng.integers(2)), [None, 1, 3][trial % 3]
        x = _input(rng, (N, C, H, W), dtype)
        args = (k, s, p, ceil, include, div)
        y = cpu.avg_pool2d_forward(x, *args)
        _close(y, reference.avg_pool2d_forward(x, *args), dtype)
        g = rng.standard_normal(y.shape).astype(dtype)
        _close(cpu.avg_pool2d_backward(g, x.shape, *args), reference.avg_pool2d_backward(g, x.shape, *args), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_adaptive_pools_match_reference(threads, dtype):
    rng = np.random.default_rng(14)
    for H, W, OH, OW in [(7, 9, 3, 4), (5, 5, 1, 1), (4, 6, 7, 9), (1, 1, 2, 3), (10, 3, 4, 3), (28, 28, 5, 7)]:
        x = _input(rng, (2, 3, H, W), dtype, ties=H == 10)
        y = cpu.adaptive_avg_pool2d_forward(x, (OH, OW))
        _close(y, reference.adaptive_avg_pool2d_forward(x, (OH, OW)), dtype)
        g = rng.standard_normal(y.shape).astype(dtype)
        _close(cpu.adaptive_avg_pool2d_backward(g, x.shape), reference.adaptive_avg_pool2d_backward(g, x.shape), dtype)
        ym, im = cpu.adaptive_max_pool2d_forward(x, (OH, OW))
        yr, ir = reference.adaptive_max_pool2d_forward(x, (OH, OW))
        np.testing.assert_array_equal(ym, yr)
        np.testing.assert_array_equal(im, ir)
        _close(cpu.max_pool2d_backward(g, im, x.shape), reference.max_pool2d_backward(g, ir, x.shape), dtype)


def test_upsample_and_channel_dropout_match_reference(threads):
    rng = np.random.default_rng(15)
    x = rng.standard_normal((2, 3, 5, 7)).astype(np.float32)
    ih, iw = np.array([0, 0, 1, 4, 4, 2], np.int64), np.array([6, 0, 3], np.int64)
    y = cpu.upsample_nearest2d_forward(x, ih, iw)
    np.testing.assert_array_equal(y, reference.upsample_nearest2d_forward(x, ih, iw))
    g = rng.standard_normal(y.shape).astype(np.float32)
    want = reference.upsample_nearest2d_backward(g, ih, iw, x.shape)
    _close(cpu.upsample_nearest2d_backward(g, ih, iw, x.shape), want, np.float32)
    for p in (0.0, 0.3, 1.0):
        np.testing.assert_array_equal(cpu.channel_dropout_forward(x, p, 7), reference.channel_dropout_forward(x, p, 7))


def test_non_contiguous_inputs_are_accepted():
    rng = np.random.default_rng(16)
    x = rng.standard_normal((2, 3, 8, 6)).astype(np.float32).transpose(0, 1, 3, 2)
    y, idx = cpu.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    yr, ir = reference.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    np.testing.assert_array_equal(y, yr)
    out = F.avg_pool2d(pf.tensor(x), 3, 1, 1)
    _close(out.data, reference.avg_pool2d_forward(x, (3, 3), (1, 1), (1, 1), False, True), np.float32)


# ---------------------------------------------------------------- reference vs PyTorch


def test_reference_matches_torch_random_geometries():
    torch = _torch()
    tf = torch.nn.functional
    rng = np.random.default_rng(20)
    for trial in range(60):
        H, W = (int(v) for v in rng.integers(1, 11, 2))
        k, s, p, d, ceil = _random_window(rng, H, W)
        x = _input(rng, (2, 2, H, W), np.float64, ties=trial % 3 == 0)
        y, idx = reference.max_pool2d_forward(x, k, s, p, d, ceil)
        ty, ti = tf.max_pool2d(torch.from_numpy(x), k, s, p, d, ceil, return_indices=True)
        np.testing.assert_array_equal(y, ty.numpy(), err_msg=f"{x.shape} {k} {s} {p} {d} {ceil}")
        np.testing.assert_array_equal(idx, ti.numpy(), err_msg=f"{x.shape} {k} {s} {p} {d} {ceil}")
        k, s, p, _, ceil = _random_window(rng, H, W, dilate=False)
        for include in (True, False):
            div = [None, 2][trial % 2]
            y = reference.avg_pool2d_forward(x, k, s, p, ceil, include, div)
            ty = tf.avg_pool2d(torch.from_numpy(x), k, s, p, ceil, include, div)
            np.testing.assert_allclose(y, ty.numpy(), rtol=1e-12, atol=1e-12,
                                       err_msg=f"{x.shape} {k} {s} {p} {ceil} {include} {div}")
        o = tuple(int(v) for v in rng.integers(1, 8, 2))
        np.testing.assert_allclose(reference.adaptive_avg_pool2d_forward(x, o),
                                   tf.adaptive_avg_pool2d(torch.from_numpy(x), o).numpy(), rtol=1e-12, atol=1e-12)
        y, idx = reference.adaptive_max_pool2d_forward(x, o)
        ty, ti = tf.adaptive_max_pool2d(torch.from_numpy(x), o, return_indices=True)
        np.testing.assert_array_equal(y, ty.numpy())
        np.testing.assert_array_equal(idx, ti.numpy())


# ---------------------------------------------------------------- course cases, ties, NaN


def test_2x2_pooling_of_a_4x4_map_by_hand():
    x = pf.tensor(np.array([[1, 3, 2, 1],
                            [4, 2, 0, 1],
                            [5, 6, 1, 2],
                            [7, 8, 3, 4]], np.float32).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(F.max_pool2d(x, 2).data.reshape(2, 2), [[4, 2], [8, 4]])
    np.testing.assert_array_equal(F.avg_pool2d(x, 2).data.reshape(2, 2), [[2.5, 1.0], [6.5, 2.5]])
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).data.reshape(2, 2), [[4, 2], [8, 4]])
    np.testing.assert_array_equal(nn.AvgPool2d(2, stride=2)(x).data.reshape(2, 2), [[2.5, 1.0], [6.5, 2.5]])
    _, idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(idx.data.reshape(2, 2), [[4, 2], [13, 15]])
    assert idx.dtype == np.int64
    # the gradient goes to the maxima only; average pooling spreads it evenly
    xg = x.detach().requires_grad_(True)
    F.max_pool2d(xg, 2).sum().backward()
    np.testing.assert_array_equal(xg.grad.data.reshape(4, 4), [[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 1]])
    xg.grad = None
    F.avg_pool2d(xg, 2).sum().backward()
    np.testing.assert_array_equal(xg.grad.data, np.full((1, 1, 4, 4), 0.25, np.float32))
    # global average pooling
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d((1, 1))(x).data.reshape(()), 50 / 16)


def test_ties_pick_the_first_maximum_and_nan_propagates(isa):
    for dtype in (np.float32, np.float64):
        x = np.zeros((1, 1, 4, 6), dtype)  # all equal: every window's first element
        for k, s in [((2, 2), (2, 2)), ((3, 3), (1, 1))]:
            y, idx = cpu.max_pool2d_forward(x, k, s, (0, 0), (1, 1), False)
            starts = (np.arange(idx.shape[2]) * s[0])[:, None] * 6 + (np.arange(idx.shape[3]) * s[1])[None, :]
            np.testing.assert_array_equal(idx[0, 0], starts)
        x = np.array([[1, 5, 5, 0], [5, 2, 0, 0]], dtype).reshape(1, 1, 2, 4)
        _, idx = cpu.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
        np.testing.assert_array_equal(idx.ravel(), [1, 2])
        x = np.array([[1, np.nan, 3, -np.inf], [np.nan, 2, -np.inf, -np.inf]], dtype).reshape(1, 1, 2, 4)
        y, idx = cpu.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
        assert np.isnan(y[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 4  # the last NaN, as PyTorch's CPU kernel
        assert y[0, 0, 0, 1] == 3 and idx[0, 0, 0, 1] == 2
        x[:] = -np.inf
        y, idx = cpu.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
        assert np.all(y == -np.inf) and list(idx.ravel()) == [0, 2]


def test_ties_and_nan_match_torch():
    torch = _torch()
    x = np.round(np.random.default_rng(21).standard_normal((2, 3, 9, 9)) * 0.7).astype(np.float32)
    x[0, 0, 1, 1] = x[1, 2, 4, 5] = np.nan
    for k, s, p in [(2, 2, 0), (3, 2, 1), (3, 1, 1)]:
        y, idx = F.max_pool2d(pf.tensor(x), k, s, p, return_indices=True)
        ty, ti = torch.nn.functional.max_pool2d(torch.from_numpy(x), k, s, p, return_indices=True)
        np.testing.assert_array_equal(y.data, ty.numpy())
        np.testing.assert_array_equal(idx.data, ti.numpy())


# ---------------------------------------------------------------- gradcheck


def _distinct(rng, shape):
    """float64 values at least 0.1 apart: finite differences do not move an argmax."""
    n = int(np.prod(shape))
    return pf.tensor((rng.permutation(n) * 0.1 - n * 0.05).reshape(shape), dtype=pf.float64, requires_grad=True)


def test_gradcheck_pooling_ops():
    rng = np.random.default_rng(30)
    x = _distinct(rng, (2, 2, 5, 6))
    gradcheck(lambda t: F.max_pool2d(t, 2), [x])
    gradcheck(lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True), [x])
    gradcheck(lambda t: F.max_pool2d(t, (2, 3), 1, dilation=(2, 1)), [x])
    gradcheck(lambda t: F.max_pool2d(t, 2, return_indices=True)[0], [x])
    gradcheck(lambda t: F.adaptive_max_pool2d(t, (3, 4)), [x])
    gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1), [x])
    gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False), [x])
    gradcheck(lambda t: F.avg_pool2d(t, 2, divisor_override=3), [x])
    gradcheck(lambda t: F.adaptive_avg_pool2d(t, (4, 4)), [x])
    gradcheck(lambda t: F.interpolate(t, scale_factor=2), [x])
    gradcheck(lambda t: F.interpolate(t, size=(3, 4)), [x])
    pf.manual_seed(0)
    gradcheck(lambda t: (pf.manual_seed(3), F.dropout2d(t, 0.5))[1], [x])


# ---------------------------------------------------------------- modules vs PyTorch


def _parity(module, tmodule, x, rtol=1e-6, atol=1e-6):
    torch = _torch()
    xt = pf.tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    out, tout = module(xt), tmodule(tt)
    if isinstance(out, tuple):
        np.testing.assert_array_equal(out[1].data, tout[1].numpy())
        out, tout = out[0], tout[0]
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xt.grad.data, tt.grad.numpy(), rtol=rtol, atol=atol)
    assert repr(module) == repr(tmodule)


@pytest.mark.parametrize("args,kwargs", [
    ((2,), {}), ((3,), {"stride": 2, "padding": 1}), ((3, 2, 1, 1, False, True), {}), (((2, 3),), {"stride": (1, 2)}),
    ((3,), {"stride": 1, "dilation": 2, "padding": 1}), ((2,), {"return_indices": True}),
])
def test_max_pool_module_matches_torch(args, kwargs):
    torch = _torch()
    x = np.random.default_rng(40).standard_normal((3, 4, 11, 10)).astype(np.float32)
    _parity(nn.MaxPool2d(*args, **kwargs), torch.nn.MaxPool2d(*args, **kwargs), x)
    _parity(nn.MaxPool2d(*args, **kwargs), torch.nn.MaxPool2d(*args, **kwargs), x[0])  # unbatched (C, H, W)


@pytest.mark.parametrize("args,kwargs", [
    ((2,), {}), ((3,), {"stride": 2, "padding": 1}), ((3, 2, 1, True, False), {}), ((3, 1, 1), {"divisor_override": 4}),
    (((2, 3),), {"stride": (1, 2), "padding": (1, 0)}),
])
def test_avg_pool_module_matches_torch(args, kwargs):
    torch = _torch()
    x = np.random.default_rng(41).standard_normal((3, 4, 11, 10)).astype(np.float32)
    _parity(nn.AvgPool2d(*args, **kwargs), torch.nn.AvgPool2d(*args, **kwargs), x)


def test_adaptive_upsample_dropout_modules_match_torch():
    torch = _torch()
    x = np.random.default_rng(42).standard_normal((2, 3, 7, 10)).astype(np.float32)
    for size in [1, (1, 1), (3, 4), (None, 5), (9, 13)]:
        _parity(nn.AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size), x)
        _parity(nn.AdaptiveMaxPool2d(size), torch.nn.AdaptiveMaxPool2d(size), x)
    _parity(nn.AdaptiveMaxPool2d((3, 4), return_indices=True), torch.nn.AdaptiveMaxPool2d((3, 4), return_indices=True),
            x)
    for kwargs in [{"scale_factor": 2}, {"scale_factor": 3}, {"scale_factor": (1.5, 0.7)}, {"size": (5, 13)},
                   {"size": 8}, {"scale_factor": 1.7, "recompute_scale_factor": True}]:
        _parity(nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs), x)
    _parity(nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2), x[0])  # (N, C, L)
    _parity(nn.UpsamplingNearest2d(size=(3, 20)), torch.nn.UpsamplingNearest2d(size=(3, 20)), x)
    assert repr(nn.Dropout2d(0.3)) == repr(torch.nn.Dropout2d(0.3))


def test_dropout2d_zeroes_whole_channels_reproducibly():
    x = pf.tensor(np.random.default_rng(43).standard_normal((16, 32, 5, 5)).astype(np.float32) + 3,
                  requires_grad=True)
    drop = nn.Dropout2d(0.25)
    pf.manual_seed(5)
    y = drop(x)
    pf.manual_seed(5)
    np.testing.assert_array_equal(drop(x).data, y.data)  # seeded
    kept = (y.data != 0).reshape(16, 32, -1)
    assert (kept.all(axis=2) | ~kept.any(axis=2)).all()  # whole planes
    rate = 1 - kept[:, :, 0].mean()
    assert 0.17 < rate < 0.33
    np.testing.assert_allclose(y.data[kept.reshape(y.shape)], (x.data / 0.75)[kept.reshape(y.shape)], rtol=1e-6)
    y.backward(np.ones(y.shape, np.float32))
    np.testing.assert_allclose(x.grad.data, np.where(kept.reshape(y.shape), np.float32(1 / 0.75), 0), rtol=1e-6)
    drop.eval()
    assert drop(x) is x
    assert F.dropout2d(x, 0.0) is x
    data = x.data.copy()
    F.dropout2d(pf.from_numpy(data), 1.0, inplace=True)
    assert not data.any()


def test_modules_in_a_small_cnn_and_on_the_reference_backend():
    torch = _torch()
    x = np.random.default_rng(44).standard_normal((4, 3, 12, 12)).astype(np.float32)
    mods = [nn.MaxPool2d(2), nn.AvgPool2d(3, 1, 1), nn.Upsample(scale_factor=2), nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten()]
    tmods = [torch.nn.MaxPool2d(2), torch.nn.AvgPool2d(3, 1, 1), torch.nn.Upsample(scale_factor=2),
             torch.nn.AdaptiveAvgPool2d((1, 1)), torch.nn.Flatten()]
    want = torch.nn.Sequential(*tmods)(torch.from_numpy(x)).numpy()
    for backend in ("cpu", "reference"):
        pf.use_backend(backend)
        try:
            np.testing.assert_allclose(nn.Sequential(*mods)(pf.tensor(x)).data, want, rtol=1e-6, atol=1e-6)
        finally:
            pf.use_backend("cpu")


# ---------------------------------------------------------------- errors


def test_bad_input_raises_clear_errors():
    x = pf.tensor(np.zeros((1, 2, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"max_pool2d: kernel \(5, 5\) is larger than the padded input \(4, 4\)"):
        F.max_pool2d(x, 5)
    with pytest.raises(ValueError, match=r"avg_pool2d: kernel \(7, 7\) is larger than the padded input \(6, 6\)"):
        F.avg_pool2d(x, 7, padding=1)
    with pytest.raises(ValueError, match=r"max_pool2d: kernel \(5, 5\) \(dilated\) is larger"):
        F.max_pool2d(x, 3, dilation=2)
    with pytest.raises(ValueError, match=r"max_pool2d: expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input, "
                                         r"got shape \(4, 4\)"):
        F.max_pool2d(pf.zeros(4, 4), 2)
    with pytest.raises(ValueError, match=r"avg_pool2d: expected a 3-D .* got shape \(1, 1, 1, 4, 4\)"):
        nn.AvgPool2d(2)(pf.zeros(1, 1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"max_pool2d: pad should be at most half of kernel size, but got pad = "
                                         r"\(2, 2\), kernel_size = \(3, 3\)"):
        F.max_pool2d(x, 3, padding=2, dilation=2)
    with pytest.raises(ValueError, match=r"pad should be at most half of kernel size"):
        F.avg_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"stride should be greater than zero"):
        F.max_pool2d(x, 2, stride=0)
    with pytest.raises(TypeError, match=r"max_pool2d: argument 'kernel_size' must be an int or a tuple of 2 ints"):
        F.max_pool2d(x, "2")
    with pytest.raises(TypeError, match=r"expected a floating point input"):
        F.max_pool2d(np.zeros((1, 1, 4, 4), np.int32), 2)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be non-negative"):
        F.adaptive_avg_pool2d(x, (-1, 2))
    with pytest.raises(ValueError, match=r"interpolate: mode 'bilinear' is not supported"):
        F.interpolate(x, scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match=r"exactly one of size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match=r"Upsample: mode 'bicubic' is not supported"):
        nn.Upsample(scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1"):
        nn.Dropout2d(1.5)
    # the kernels refuse what the ops would never pass
    with pytest.raises(ValueError, match=r"max_pool2d: argument 'indices' must be 'none', 'int32' or 'int64'"):
        cpu.max_pool2d_forward(x.data, (2, 2), (2, 2), (0, 0), (1, 1), False, "int8")
    with pytest.raises(ValueError, match=r"upsample_nearest2d: argument 'ih' holds 4, outside \[0, 4\)"):
        cpu.upsample_nearest2d_forward(x.data, np.array([4]), np.array([0]))
    with pytest.raises(ValueError, match=r"max_pool2d_backward: argument 'indices' of shape"):
        cpu.max_pool2d_backward(np.zeros((1, 2, 2, 2), np.float32), np.zeros((1, 2, 2), np.int64), (1, 2, 4, 4))
    with pytest.raises(TypeError, match=r"avg_pool2d: argument 'x' must be a float32 or float64 numpy array"):
        cpu.avg_pool2d_forward([1.0], (1, 1), (1, 1), (0, 0), False, True)

"""2-D convolution: the C++ kernels (implicit GEMM, Winograd, im2col, 1x1, depthwise; forward,
backward, transposed) against the NumPy reference on random shapes for each ISA and thread
count, F.conv2d / F.conv_transpose2d (gradcheck, 'same'/'valid' padding, padding modes),
nn.Conv2d / nn.ConvTranspose2d (PyTorch parity, init, repr, state_dict) and bad input."""

import itertools

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import _C, nn
from pyfastnn.autograd.gradcheck import gradcheck
from pyfastnn.backends import cpu, reference
from pyfastnn.nn import functional as F
from pyfastnn.ops.conv import convolve


def _torch():
    return pytest.importorskip("torch")


def _out(n, k, s=1, p=0, d=1):
    """The textbook output size, written out independently of the code under test."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


# ---------------------------------------------------------------- kernels vs reference

# (N, C, H, W, OC, KH, KW, stride, padding (top, bottom, left, right), dilation, groups)
CASES = [
    (1, 1, 1, 1, 1, 1, 1, 1, (0, 0, 0, 0), 1, 1),  # the smallest convolution
    (1, 3, 7, 9, 4, 3, 3, 1, (1, 1, 1, 1), 1, 1),  # batch 1, RGB, odd non-square input
    (2, 1, 9, 9, 6, 5, 5, 1, (0, 0, 0, 0), 1, 1),  # one input channel, valid
    (2, 3, 11, 8, 5, 3, 2, 2, (1, 0, 0, 1), 1, 1),  # stride 2, asymmetric padding, even kernel
    (3, 4, 10, 10, 6, 4, 4, 2, (1, 2, 1, 2), 1, 1),  # Keras 'same' at stride 2 (odd pixel after)
    (2, 4, 9, 12, 4, 3, 3, 1, (2, 2, 2, 2), 2, 1),  # dilation 2
    (2, 6, 8, 7, 9, 3, 3, (1, 2), (1, 1, 0, 0), (2, 1), 3),  # groups, mixed strides/dilations
    (2, 4, 9, 9, 4, 3, 3, 1, (1, 1, 1, 1), 1, 4),  # depthwise
    (2, 3, 8, 8, 6, 5, 3, 2, (2, 2, 1, 1), 1, 3),  # depthwise, channel multiplier 2, stride 2
    (2, 5, 6, 7, 3, 1, 1, 1, (0, 0, 0, 0), 1, 1),  # 1x1 (plain GEMMs)
    (2, 5, 6, 7, 3, 1, 1, 2, (1, 1, 1, 1), 1, 1),  # 1x1 with stride and padding
    (2, 3, 5, 5, 2, 5, 5, 1, (0, 0, 0, 0), 1, 1),  # the kernel covers the input: 1x1 output
    (1, 2, 4, 4, 3, 3, 3, 3, (3, 3, 3, 3), 1, 1),  # padding wider than the kernel reach
    (2, 30, 13, 21, 20, 3, 3, 1, (1, 1, 1, 1), 1, 1),  # K = 270: two K blocks; 273 pixels
    (1, 2, 5, 6, 200, 3, 3, 1, (1, 1, 1, 1), 1, 1),  # 200 output channels: blocks of them
    (2, 3, 24, 24, 8, 3, 3, 3, (0, 0, 0, 0), 1, 1),  # stride 3
    (2, 2, 6, 40, 3, 3, 7, 1, (1, 1, 3, 3), (1, 2), 1),  # wide rows, dilated along width
    (2, 64, 7, 6, 14, 4, 4, 1, (1, 2, 2, 1), 1, 1),  # K = 1024: weight rows 4 KiB apart (packed, not read in place)
    # 3x3 at stride 1 (Winograd F(2x2, 3x3) too): odd/even outputs, 'valid', asymmetric and
    # wide padding, tiny inputs, chunks of 64 tiles that span images and cut tile rows, two
    # K blocks of channels (300), output channels past several row tiles (70)
    (3, 5, 9, 8, 7, 3, 3, 1, (0, 0, 0, 0), 1, 1),  # 'valid': 7x6 output, odd rows
    (2, 4, 6, 7, 5, 3, 3, 1, (2, 0, 1, 2), 1, 1),  # asymmetric padding: 6x8 output
    (1, 3, 1, 1, 2, 3, 3, 1, (1, 1, 1, 1), 1, 1),  # a 1x1 input padded to 3x3
    (2, 2, 2, 3, 3, 3, 3, 1, (2, 2, 2, 2), 1, 1),  # padding 2: 4x5 output of mostly zeros
    (5, 6, 15, 13, 9, 3, 3, 1, (1, 1, 1, 1), 1, 1),  # 8x7 tiles per image: chunks across images
    (1, 33, 40, 37, 34, 3, 3, 1, (1, 1, 1, 1), 1, 1),  # 20x19 tiles: rows cut by chunks, odd width
    (1, 300, 6, 5, 70, 3, 3, 1, (1, 1, 1, 1), 1, 1),  # 300 channels: two K blocks; 70 outputs
]


def _ids(c):
    n, ch, h, w, oc, kh, kw, s, p, d, g = c
    return f"{n}x{ch}x{h}x{w}-{oc}x{kh}x{kw}-s{s}-p{''.join(map(str, p))}-d{d}-g{g}"


def _operands(rng, case, dtype):
    n, c, h, w, oc, kh, kw, s, p, d, g = case
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = (rng.standard_normal((oc, c // g, kh, kw)) / np.sqrt(c // g * kh * kw)).astype(dtype)
    b = rng.standard_normal(oc).astype(dtype)
    return x, wt, b, dict(stride=s, padding=p, dilation=d, groups=g)


def _close(got, want, kdim, dtype, what):
    assert got.dtype == dtype and got.shape == want.shape, what
    scale = max(1.0, float(np.sqrt(np.mean(np.square(want.astype(np.float64))))) if want.size else 1.0)
    if dtype == np.float32:
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-6 * np.sqrt(max(kdim, 1)) * scale, err_msg=what)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12 * np.sqrt(max(kdim, 1)) * scale, err_msg=what)


def _algos(case):
    n, c, h, w, oc, kh, kw, s, p, d, g = case
    algos = [None, "implicit", "im2col"]
    if kh == kw == 3 and s in (1, (1, 1)) and d in (1, (1, 1)) and g == 1:
        algos.append("winograd")
    if c == g:
        algos.append("depthwise")
    if kh == kw == 1 and s == 1 and not any(p):
        algos.append("1x1")
    return algos


def check_case(rng, case, dtype, algo, act, bias=True, band_rows=0):
    x, w, b, kw = _operands(rng, case, dtype)
    b = b if bias else None
    y = cpu.conv2d_forward(x, w, b, activation=act, algo=algo, band_rows=band_rows, **kw)
    y_ref = reference.conv2d_forward(x, w, b, activation=act, **kw)
    k_fwd = w.shape[1] * w.shape[2] * w.shape[3]
    tag = f"{_ids(case)} algo={algo} act={act} bias={bias} band_rows={band_rows}"
    _close(y, y_ref, k_fwd, dtype, "y " + tag)
    gy = rng.standard_normal(y.shape).astype(dtype)
    got = cpu.conv2d_backward(x, w, y, gy, activation=act, algo=algo, band_rows=band_rows, **kw)
    want = reference.conv2d_backward(x, w, y_ref, gy, activation=act, **kw)
    k_dw = y.shape[0] * y.shape[2] * y.shape[3]
    for name, g_, r, k in zip(("dx", "dw", "db"), got, want, (w.shape[0] * k_fwd, k_dw, k_dw)):
        if name == "db" and not bias:
            continue
        _close(g_, r, k, dtype, f"{name} {tag}")


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_kernels_match_reference(case, isa, threads):
    rng = np.random.default_rng(11)
    for algo in _algos(case):
        for act, bias in (("relu", True), (None, False)):
            check_case(rng, case, np.float32, algo, act, bias)


@pytest.mark.parametrize("case", CASES[:12], ids=_ids)
def test_kernels_match_reference_float64(case):
    rng = np.random.default_rng(12)
    for algo in _algos(case):
        check_case(rng, case, np.float64, algo, "relu")


def test_winograd_float64():
    """The 3x3 cases in float64 (forward, dx, dW): Winograd's transforms are exact up to rounding."""
    rng = np.random.default_rng(26)
    for case in CASES[-7:]:
        check_case(rng, case, np.float64, "winograd", "relu")


def test_float64_weight_rows_4k_apart():
    # K * 8 bytes = 4 KiB: the implicit GEMM packs the weights instead of reading them in place
    check_case(np.random.default_rng(25), (2, 32, 5, 6, 8, 4, 4, 1, (1, 2, 2, 1), 1, 1), np.float64, "implicit",
               "relu")


def test_bands_of_output_rows(threads):
    """Forced band heights (one output row per band, uneven last bands) give the same result."""
    rng = np.random.default_rng(13)
    for case in (CASES[3], CASES[13], CASES[16]):
        for algo, rows in itertools.product(["implicit", "im2col"], [1, 2, 5]):
            check_case(rng, case, np.float32, algo, "relu", band_rows=rows)


def test_random_shapes(threads):
    rng = np.random.default_rng(14)
    for _ in range(25):
        g = int(rng.choice([1, 1, 2, 3]))
        c = g * int(rng.integers(1, 4))
        oc = g * int(rng.integers(1, 4))
        kh, kw = (int(v) for v in rng.integers(1, 5, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        p = tuple(int(v) for v in rng.integers(0, 3, 4))
        h = int(rng.integers(d[0] * (kh - 1) + 1, 14)) - min(p[0] + p[1], d[0] * (kh - 1))
        w = int(rng.integers(d[1] * (kw - 1) + 1, 14)) - min(p[2] + p[3], d[1] * (kw - 1))
        case = (int(rng.integers(1, 4)), c, max(h, 1), max(w, 1), oc, kh, kw, s, p, d, g)
        if case[2] + p[0] + p[1] < d[0] * (kh - 1) + 1 or case[3] + p[2] + p[3] < d[1] * (kw - 1) + 1:
            continue
        for algo in _algos(case):
            check_case(rng, case, np.float32, algo, str(rng.choice(["relu", "none"])), bool(rng.integers(2)))


def test_random_winograd_shapes(isa, threads):
    """Winograd on random 3x3 stride-1 shapes: 1-40 channels each way, 1-24 pixels a side,
    0-2 padding per side (so partial and all-padding tiles, chunks across images)."""
    rng = np.random.default_rng(28)
    for _ in range(20):
        p = tuple(int(v) for v in rng.integers(0, 3, 4))
        h = max(1, int(rng.integers(1, 25)), 3 - p[0] - p[1])
        w = max(1, int(rng.integers(1, 25)), 3 - p[2] - p[3])
        case = (int(rng.integers(1, 5)), int(rng.integers(1, 41)), h, w, int(rng.integers(1, 41)), 3, 3, 1, p, 1, 1)
        check_case(rng, case, np.float32, "winograd", str(rng.choice(["relu", "none"])), bool(rng.integers(2)))


def test_transposed_kernels_match_reference(isa, threads):
    rng = np.random.default_rng(15)
    # (x shape, weight shape, stride, padding, output_padding, dilation, groups)
    cases = [
        ((2, 4, 5, 5), (4, 3, 3, 3), 2, 1, 1, 1, 1),  # the classic x2 upsampling
        ((1, 3, 4, 6), (3, 2, 4, 4), 2, 1, 0, 1, 1),
        ((2, 6, 5, 4), (6, 1, 3, 3), (2, 1), (1, 0), (1, 0), 1, 3),
        ((2, 4, 6, 6), (4, 2, 3, 3), 1, 1, 0, 2, 2),
        ((1, 5, 3, 3), (5, 4, 1, 1), 1, 0, 0, 1, 1),
        ((2, 8, 9, 7), (8, 6, 3, 3), 1, 0, 0, 1, 1),  # stride 1: a forward convolution inside
        ((4, 32, 16, 16), (32, 33, 3, 3), 1, 1, 0, 1, 1),  # 32+ channels, 256 tiles: Winograd inside
    ]
    for xs, ws, s, p, op, d, g in cases:
        for dtype, bias in ((np.float32, True), (np.float64, False)):
            x = rng.standard_normal(xs).astype(dtype)
            w = rng.standard_normal(ws).astype(dtype)
            b = rng.standard_normal(ws[1] * g).astype(dtype) if bias else None
            kw = dict(stride=s, padding=p, output_padding=op, dilation=d, groups=g)
            y = cpu.conv_transpose2d_forward(x, w, b, **kw)
            y_ref = reference.conv_transpose2d_forward(x, w, b, **kw)
            _close(y, y_ref, ws[0] * ws[2] * ws[3], dtype, f"y {xs} {ws} {kw}")
            gy = rng.standard_normal(y.shape).astype(dtype)
            got = cpu.conv_transpose2d_backward(x, w, gy, **kw, need_db=bias)
            want = reference.conv_transpose2d_backward(x, w, gy, **kw, need_db=bias)
            for name, g_, r in zip(("dx", "dw", "db"), got, want):
                if r is not None:
                    _close(g_, r, y.shape[0] * y.shape[2] * y.shape[3], dtype, f"{name} {xs} {ws} {kw}")


def test_backward_computes_only_what_is_asked(rng):
    x, w, b, kw = _operands(rng, CASES[3], np.float32)
    y = cpu.conv2d_forward(x, w, b, activation="relu", **kw)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    full = cpu.conv2d_backward(x, w, y, gy, activation="relu", **kw)
    for flags in itertools.product([False, True], repeat=3):
        got = cpu.conv2d_backward(x, w, y, gy, activation="relu", need_dx=flags[0], need_dw=flags[1],
                                  need_db=flags[2], **kw)
        for want, g_, flag in zip(full, got, flags):
            if flag:
                np.testing.assert_array_equal(g_, want)
            else:
                assert g_ is None


def test_results_do_not_depend_on_scheduling(rng):
    """The weight gradient sums per-thread partials in a fixed order: repeated runs agree
    bit for bit, and so do 1 and 2 threads for the forward pass and dx."""
    x, w, b, kw = _operands(rng, (8, 32, 12, 12, 40, 3, 3, 1, (1, 1, 1, 1), 1, 1), np.float32)
    assert _C.conv2d_algorithm(x.shape, w.shape, padding=1) == "winograd"
    before = pf.get_num_threads()
    try:
        runs = {}
        for t in (1, 2, 2):
            pf.set_num_threads(t)
            y = cpu.conv2d_forward(x, w, b, **kw)
            runs.setdefault(t, []).append((y,) + cpu.conv2d_backward(x, w, y, np.cos(y), **kw))
    finally:
        pf.set_num_threads(before)
    for a, b_ in zip(*runs[2]):
        np.testing.assert_array_equal(a, b_)
    for i in (0, 1, 3):  # y, dx, db
        np.testing.assert_array_equal(runs[1][0][i], runs[2][0][i])


def test_relu_gradient_semantics():
    """PyTorch's threshold_backward: no gradient where y <= 0; a NaN output passes it."""
    x = np.zeros((1, 1, 1, 3), np.float32)
    w = np.ones((1, 1, 1, 1), np.float32)
    y = np.array([[[[-1.0, 0.0, np.nan]]]], np.float32)
    gy = np.array([[[[5.0, 6.0, 7.0]]]], np.float32)
    for algo in ("implicit", "im2col", "1x1", "depthwise"):
        dx, dw, db = cpu.conv2d_backward(x, w, y, gy, activation="relu", algo=algo)
        np.testing.assert_array_equal(dx, [[[[0, 0, 7]]]])
        np.testing.assert_array_equal(db, [7])


def test_empty_batch_and_zero_channels(rng):
    x = np.zeros((0, 3, 5, 5), np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    y = cpu.conv2d_forward(x, w, np.ones(4, np.float32))
    assert y.shape == (0, 4, 3, 3)
    dx, dw, db = cpu.conv2d_backward(x, w, y, y)
    assert dx.shape == x.shape and (dw == 0).all() and (db == 0).all()
    # no input channels: the output is the bias (then the ReLU)
    b = np.array([1.0, -2.0], np.float32)
    y = cpu.conv2d_forward(np.zeros((2, 0, 4, 4), np.float32), np.zeros((2, 0, 3, 3), np.float32), b,
                           activation="relu")
    np.testing.assert_array_equal(y, np.broadcast_to(np.array([1.0, 0.0], np.float32)[:, None, None], (2, 2, 2, 2)))


def test_algorithm_choice():
    assert _C.conv2d_algorithm((8, 32, 28, 28), (64, 32, 3, 3), padding=1) == "winograd"
    assert _C.conv2d_algorithm((8, 256, 14, 14), (512, 256, 3, 3), padding=1) == "winograd"
    # too few tiles (the weight transforms would dominate), or too many of them half empty
    assert _C.conv2d_algorithm((1, 32, 14, 14), (32, 32, 3, 3), padding=1) == "implicit"
    assert _C.conv2d_algorithm((64, 64, 7, 7), (64, 64, 3, 3), padding=1) == "implicit"
    # few channels (the transforms would cost more than they save), strides, dilation, groups
    assert _C.conv2d_algorithm((8, 16, 28, 28), (64, 16, 3, 3), padding=1) == "implicit"
    assert _C.conv2d_algorithm((8, 64, 28, 28), (16, 64, 3, 3), padding=1) == "implicit"
    assert _C.conv2d_algorithm((8, 32, 28, 28), (64, 32, 3, 3), stride=2, padding=1) == "implicit"
    assert _C.conv2d_algorithm((8, 32, 28, 28), (64, 32, 3, 3), dilation=2) == "implicit"
    assert _C.conv2d_algorithm((8, 64, 28, 28), (64, 32, 3, 3), groups=2) == "implicit"
    assert _C.conv2d_algorithm((8, 32, 28, 28), (64, 32, 5, 5), padding=2) == "implicit"
    assert _C.conv2d_algorithm((8, 32, 28, 28), (64, 32, 1, 1)) == "1x1"
    assert _C.conv2d_algorithm((8, 32, 28, 28), (64, 32, 1, 1), padding=1) == "implicit"
    assert _C.conv2d_algorithm((8, 32, 28, 28), (64, 1, 3, 3), groups=32) == "depthwise"
    assert _C.conv2d_algorithm((8, 1, 28, 28), (3, 1, 3, 3)) == "depthwise"
    assert _C.conv2d_algorithm((8, 1, 28, 28), (32, 1, 3, 3)) == "implicit"


def test_kernel_bad_input():
    x, w = np.zeros((2, 3, 8, 8), np.float32), np.zeros((4, 3, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"algo '1x1' cannot run this convolution"):
        _C.conv2d_forward(x, w, algo="1x1")
    with pytest.raises(ValueError, match=r"algo 'winograd' cannot run this convolution \(it needs a 3x3 kernel, "
                                         r"stride 1, dilation 1 and one group\)"):
        _C.conv2d_forward(x, w, stride=2, algo="winograd")
    with pytest.raises(ValueError, match=r"unknown algo 'fft'"):
        _C.conv2d_forward(x, w, algo="fft")
    with pytest.raises(TypeError, match=r"conv2d_forward: argument 'weight' must be a float32 numpy array"):
        _C.conv2d_forward(x, w.astype(np.float64))
    with pytest.raises(ValueError, match=r"argument 'x' must be 4-D"):
        _C.conv2d_forward(x[0], w)
    with pytest.raises(ValueError, match=r"argument 'gy' must have the output's shape \[2, 4, 6, 6\]"):
        _C.conv2d_backward(x, w, None, np.zeros((2, 4, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"argument 'y' \(the forward output\) is needed"):
        _C.conv2d_backward(x, w, None, np.zeros((2, 4, 6, 6), np.float32), activation="relu")
    with pytest.raises(ValueError, match=r"argument 'stride' must be >= 1"):
        _C.conv2d_forward(x, w, stride=0)
    with pytest.raises(ValueError, match=r"output padding must be smaller than either stride or dilation"):
        _C.conv_transpose2d_forward(x, np.zeros((3, 2, 3, 3), np.float32), output_padding=1)


# ---------------------------------------------------------------- output sizes


def test_output_size_formula_classic_cases():
    x28 = pf.randn(2, 1, 28, 28)
    w5 = pf.randn(6, 1, 5, 5)
    assert F.conv2d(x28, w5).shape == (2, 6, 24, 24) == (2, 6, _out(28, 5), _out(28, 5))
    assert F.conv2d(x28, w5, padding="valid").shape == (2, 6, 24, 24)
    assert F.conv2d(x28, w5, padding="same").shape == (2, 6, 28, 28)
    assert F.conv2d(x28, w5, stride=2, padding="same").shape == (2, 6, 14, 14)
    x5 = pf.randn(1, 1, 5, 5)
    w3 = pf.randn(1, 1, 3, 3)
    assert F.conv2d(x5, w3).shape[2:] == (3, 3) == (_out(5, 3), _out(5, 3))
    assert F.conv2d(x5, w3, stride=2).shape[2:] == (2, 2) == (_out(5, 3, 2), _out(5, 3, 2))
    assert F.conv2d(x5, w3, stride=2, padding=1).shape[2:] == (_out(5, 3, 2, 1),) * 2 == (3, 3)
    assert F.conv2d(x5, w3, dilation=2).shape[2:] == (_out(5, 3, 1, 0, 2),) * 2 == (1, 1)
    for n, k, s, p, d in itertools.product([7, 10, 28], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2]):
        want = _out(n, k, s, p, d)
        if want < 1:
            continue
        y = F.conv2d(pf.zeros(1, 1, n, n + 1), pf.zeros(1, 1, k, k), stride=s, padding=p, dilation=d)
        assert y.shape[2:] == (want, _out(n + 1, k, s, p, d))


def test_same_padding_is_keras_same():
    """'same': ceil(n / stride) outputs, the odd padding pixel after (TensorFlow's rule); at
    stride 2 on 28x28 with a 5x5 kernel that is 1 pixel before and 2 after."""
    rng = np.random.default_rng(16)
    x = rng.standard_normal((2, 3, 28, 28))
    w = rng.standard_normal((4, 3, 5, 5))
    y = F.conv2d(pf.tensor(x), pf.tensor(w), stride=2, padding="same")
    want = reference.conv2d_forward(np.pad(x, ((0, 0), (0, 0), (1, 2), (1, 2))), w, stride=2)
    np.testing.assert_allclose(y.data, want, rtol=1e-12, atol=1e-12)
    # an even kernel at stride 1: 3 padding pixels, 1 before and 2 after (as PyTorch)
    w4 = rng.standard_normal((4, 3, 4, 4))
    y = F.conv2d(pf.tensor(x), pf.tensor(w4), padding="same")
    want = reference.conv2d_forward(np.pad(x, ((0, 0), (0, 0), (1, 2), (1, 2))), w4)
    assert y.shape == (2, 4, 28, 28)
    np.testing.assert_allclose(y.data, want, rtol=1e-12, atol=1e-12)
    for n, k, s in itertools.product(range(5, 12), [1, 2, 3, 4, 5], [1, 2, 3]):
        assert F.conv2d(pf.zeros(1, 1, n, n), pf.zeros(1, 1, k, k), stride=s, padding="same").shape[2] == -(-n // s)


# ---------------------------------------------------------------- F.conv2d / autograd


def _t(a, grad=True):
    return pf.tensor(a).requires_grad_(grad)


@pytest.mark.parametrize("params", [
    dict(),
    dict(stride=2, padding=1),
    dict(padding="same", dilation=(1, 2)),
    dict(stride=(2, 1), padding=(1, 0), groups=2),
    dict(groups=4, padding=1),
    dict(stride=2, padding="same"),
], ids=["plain", "s2p1", "same-dil", "groups", "depthwise", "same-s2"])
def test_gradcheck(params):
    rng = np.random.default_rng(17)
    g = params.get("groups", 1)
    x = _t(rng.standard_normal((2, 4, 5, 6)))
    w = _t(rng.standard_normal((4, 4 // g, 3, 3)))
    b = _t(rng.standard_normal(4))
    assert gradcheck(lambda a, ww, bb: F.conv2d(a, ww, bb, **params), (x, w, b))


def test_gradcheck_relu_and_transposed():
    rng = np.random.default_rng(18)
    x = rng.standard_normal((2, 3, 5, 5))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    pre = reference.conv2d_forward(x, w, b, padding=1)
    assert np.abs(pre).min() > 1e-3 and (pre < 0).any()  # off the kink at 0, and some clipped
    assert gradcheck(lambda a, ww, bb: F.conv2d(a, ww, bb, padding=1, activation="relu"), (_t(x), _t(w), _t(b)))
    xt = _t(rng.standard_normal((1, 4, 3, 3)))
    wt = _t(rng.standard_normal((4, 2, 3, 3)))
    bt = _t(rng.standard_normal(4))
    assert gradcheck(lambda a, ww, bb: F.conv_transpose2d(a, ww, bb, stride=2, padding=1, output_padding=1,
                                                          groups=2), (xt, wt, bt))


def test_winograd_gradients_match_finite_differences():
    """float64 gradcheck of the Winograd kernels (forward, dx, dW), by directions: for random
    v, <dL/dx, v> must equal (L(x + eps v) - L(x - eps v)) / (2 eps), L = <gy, relu(conv)>."""
    rng = np.random.default_rng(27)
    x = rng.standard_normal((2, 33, 9, 8))
    w = rng.standard_normal((34, 33, 3, 3)) / 10
    b = rng.standard_normal(34)
    kw = dict(padding=(1, 0, 2, 1), activation="relu", algo="winograd")
    y = cpu.conv2d_forward(x, w, b, **kw)
    gy = rng.standard_normal(y.shape)
    dx, dw, db = cpu.conv2d_backward(x, w, y, gy, **kw)

    def loss(xx, ww):
        return float(np.sum(gy * cpu.conv2d_forward(xx, ww, b, **kw)))

    eps = 1e-6
    for _ in range(3):
        vx, vw = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
        fd_x = (loss(x + eps * vx, w) - loss(x - eps * vx, w)) / (2 * eps)
        fd_w = (loss(x, w + eps * vw) - loss(x, w - eps * vw)) / (2 * eps)
        assert abs(fd_x - np.sum(dx * vx)) <= 1e-6 * (1 + abs(fd_x))
        assert abs(fd_w - np.sum(dw * vw)) <= 1e-6 * (1 + abs(fd_w))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_gradcheck_padding_modes(mode):
    rng = np.random.default_rng(19)
    x = _t(rng.standard_normal((1, 2, 4, 5)))
    w = _t(rng.standard_normal((3, 2, 3, 3)))
    assert gradcheck(lambda a, ww: convolve(a, ww, padding=(1, 2), padding_mode=mode), (x, w))


def test_gradcheck_reference_backend():
    rng = np.random.default_rng(20)
    pf.use_backend("reference")
    try:
        args = (_t(rng.standard_normal((1, 2, 4, 4))), _t(rng.standard_normal((3, 2, 2, 2))), _t(rng.standard_normal(3)))
        assert gradcheck(lambda a, w, b: F.conv2d(a, w, b, stride=2, padding=1), args)
    finally:
        pf.use_backend("cpu")


def test_nodes_and_plain_arrays(rng):
    x = _t(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    w = _t(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    assert F.conv2d(x, w).grad_fn.name() == "ConvolutionBackward"
    assert F.conv2d(x, w, activation="relu").grad_fn.name() == "ConvolutionReluBackward"
    assert F.conv_transpose2d(F.conv2d(x, w), w).grad_fn.name() == "ConvolutionTransposeBackward"
    y = F.conv2d(x.data, w.data)  # numpy arrays are constants
    assert not y.requires_grad and y.shape == (2, 4, 4, 4)
    with pf.no_grad():
        assert F.conv2d(x, w).grad_fn is None
    np.testing.assert_allclose(F.conv2d(x, w, activation="tanh").data, np.tanh(F.conv2d(x, w).data), rtol=1e-6,
                               atol=1e-6)


def test_unbatched_input():
    conv = nn.Conv2d(3, 4, 3, padding=1)
    x = pf.randn(3, 6, 5, requires_grad=True)
    y = conv(x)
    assert y.shape == (4, 6, 5)
    np.testing.assert_allclose(y.data, conv(x.unsqueeze(0)).data[0], rtol=1e-6)
    y.sum().backward()
    assert x.grad.shape == (3, 6, 5)
    up = nn.ConvTranspose2d(4, 2, 2, stride=2)
    assert up(y).shape == (2, 12, 10)


def test_only_weight_requires_grad_and_strided_input(rng):
    conv = nn.Conv2d(3, 4, 3, activation="relu")
    x = pf.tensor(rng.standard_normal((2, 8, 8, 3)).astype(np.float32)).permute(0, 3, 1, 2)  # NHWC data, viewed NCHW
    conv(x).sum().backward()
    assert x.grad is None and conv.weight.grad is not None and conv.bias.grad is not None
    xc = np.ascontiguousarray(x.data)
    y = reference.conv2d_forward(xc, conv.weight.data, conv.bias.data, activation="relu")
    np.testing.assert_allclose(conv(x).data, y, rtol=1e-5, atol=1e-5)


def test_backends_agree(rng):
    x = rng.standard_normal((3, 4, 9, 9)).astype(np.float32)
    models = [nn.Conv2d(4, 6, 3, stride=2, padding="same", activation="relu"), nn.Conv2d(4, 4, 3, groups=4),
              nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)]
    for m in models:
        out = {}
        for name in ("cpu", "reference"):
            pf.use_backend(name)
            try:
                m.zero_grad()
                xt = _t(x)
                y = m(xt)
                y.backward(np.linspace(-1, 1, y.data.size, dtype=np.float32).reshape(y.shape))
                out[name] = (y.data, xt.grad.data, m.weight.grad.data, m.bias.grad.data)
            finally:
                pf.use_backend("cpu")
        for a, b in zip(out["cpu"], out["reference"]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- modules


def test_module_api_is_pytorchs():
    c = nn.Conv2d(1, 6, 5)
    assert repr(c) == "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))"
    assert repr(nn.Conv2d(1, 6, 5, padding="same")) == "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=same)"
    assert repr(nn.Conv2d(4, 6, (3, 5), stride=2, padding=(1, 2), dilation=2, groups=2, bias=False,
                          padding_mode="reflect")) == (
        "Conv2d(4, 6, kernel_size=(3, 5), stride=(2, 2), padding=(1, 2), dilation=(2, 2), groups=2, bias=False, "
        "padding_mode=reflect)")
    assert repr(nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1)) == (
        "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))")
    assert repr(nn.Conv2d(3, 8, 3, activation="relu")).endswith("activation='relu')")
    assert list(c.state_dict()) == ["weight", "bias"]
    assert list(nn.Conv2d(1, 6, 5, bias=False).state_dict()) == ["weight"]
    assert c.weight.shape == (6, 1, 5, 5) and c.bias.shape == (6,)
    assert nn.ConvTranspose2d(4, 6, 3, groups=2).weight.shape == (4, 3, 3, 3)
    assert nn.Conv2d(2, 4, 3, dtype=np.float64).weight.dtype == np.float64
    assert (c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding, c.dilation, c.groups) == (
        1, 6, (5, 5), (1, 1), (0, 0), (1, 1), 1)


def test_default_init_bounds():
    """kaiming_uniform_(a=sqrt(5)) and U(+-1/sqrt(fan_in)) both bound by 1/sqrt(fan_in),
    fan_in = in_channels / groups * kH * kW (out_channels / groups * kH * kW transposed)."""
    pf.manual_seed(0)
    for m, fan_in in ((nn.Conv2d(16, 32, 3), 144), (nn.Conv2d(16, 32, 3, groups=4), 36),
                      (nn.ConvTranspose2d(16, 8, 4), 128)):
        bound = 1 / np.sqrt(fan_in)
        for p in (m.weight.data, m.bias.data):
            assert np.abs(p).max() <= bound and np.abs(p).max() > 0.8 * bound
        assert abs(m.weight.data.std() - bound / np.sqrt(3)) < 0.1 * bound


@pytest.mark.parametrize("kwargs,shape", [
    (dict(in_channels=3, out_channels=8, kernel_size=3, padding=1), (4, 3, 9, 11)),
    (dict(in_channels=1, out_channels=6, kernel_size=5), (2, 1, 28, 28)),
    (dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=2, padding=(1, 0), dilation=(1, 2), groups=2),
     (1, 4, 10, 9)),
    (dict(in_channels=6, out_channels=6, kernel_size=3, padding=1, groups=6), (2, 6, 8, 8)),
    (dict(in_channels=3, out_channels=4, kernel_size=4, padding="same"), (2, 3, 7, 7)),
    (dict(in_channels=2, out_channels=3, kernel_size=3, padding=2, padding_mode="reflect"), (2, 2, 6, 5)),
    (dict(in_channels=2, out_channels=3, kernel_size=3, padding=1, padding_mode="replicate"), (2, 2, 6, 5)),
    (dict(in_channels=2, out_channels=3, kernel_size=3, padding=(1, 2), padding_mode="circular"), (2, 2, 6, 5)),
    (dict(in_channels=3, out_channels=4, kernel_size=1, bias=False), (2, 3, 5, 5)),
    (dict(in_channels=32, out_channels=48, kernel_size=3, padding=1), (3, 32, 13, 10)),
    (dict(in_channels=40, out_channels=32, kernel_size=3), (2, 40, 9, 12)),
], ids=["pad1", "lenet", "mixed", "depthwise", "same-even", "reflect", "replicate", "circular", "1x1",
        "winograd-same", "winograd-valid"])
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_conv2d_torch_parity(kwargs, shape):
    torch = _torch()
    rng = np.random.default_rng(21)
    m = nn.Conv2d(**kwargs)
    tm = torch.nn.Conv2d(**kwargs)
    tm.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in m.state_dict().items()})
    x = rng.standard_normal(shape).astype(np.float32)
    xt = _t(x)
    y = m(xt)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = tm(tx)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m.weight.grad.data, tm.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    if m.bias is not None:
        np.testing.assert_allclose(m.bias.grad.data, tm.bias.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_conv2d_relu_torch_parity():
    torch = _torch()
    rng = np.random.default_rng(22)
    m = nn.Conv2d(3, 5, 3, stride=2, padding=1, activation="relu")
    tm = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1)
    tm.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in m.state_dict().items()})
    x = rng.standard_normal((4, 3, 11, 11)).astype(np.float32)
    xt, tx = _t(x), torch.from_numpy(x).requires_grad_(True)
    m(xt).sum().backward()
    torch.relu(tm(tx)).sum().backward()
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m.weight.grad.data, tm.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(m.bias.grad.data, tm.bias.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kwargs,shape,output_size", [
    (dict(in_channels=4, out_channels=2, kernel_size=3, stride=2, padding=1, output_padding=1), (2, 4, 5, 5), None),
    (dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), groups=2, dilation=2),
     (1, 4, 4, 6), None),
    (dict(in_channels=3, out_channels=3, kernel_size=4, stride=2, padding=1, bias=False), (2, 3, 4, 4), None),
    (dict(in_channels=4, out_channels=2, kernel_size=3, stride=2, padding=1), (1, 4, 5, 5), (10, 9)),
], ids=["upsample", "groups-dilation", "k4s2", "output_size"])
def test_conv_transpose2d_torch_parity(kwargs, shape, output_size):
    torch = _torch()
    rng = np.random.default_rng(23)
    m = nn.ConvTranspose2d(**kwargs)
    tm = torch.nn.ConvTranspose2d(**kwargs)
    tm.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in m.state_dict().items()})
    x = rng.standard_normal(shape).astype(np.float32)
    xt = _t(x)
    y = m(xt, output_size=output_size)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = tm(tx, output_size=output_size)
    ty.backward(torch.from_numpy(g))
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m.weight.grad.data, tm.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    if m.bias is not None:
        np.testing.assert_allclose(m.bias.grad.data, tm.bias.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_torch_float64_parity_functional():
    torch = _torch()
    rng = np.random.default_rng(24)
    x, w, b = rng.standard_normal((2, 6, 9, 8)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    for kw in (dict(stride=2, padding=1, groups=2), dict(dilation=2, padding=(2, 1), groups=2)):
        xt, wt, bt = _t(x), _t(w), _t(b)
        y = F.conv2d(xt, wt, bt, **kw)
        y.backward(np.ones(y.shape))
        tx, tw, tb = (torch.from_numpy(a).requires_grad_(True) for a in (x, w, b))
        ty = torch.nn.functional.conv2d(tx, tw, tb, **kw)
        ty.backward(torch.ones_like(ty))
        for a, t in ((y.data, ty.detach()), (xt.grad.data, tx.grad), (wt.grad.data, tw.grad), (bt.grad.data, tb.grad)):
            np.testing.assert_allclose(a, t.numpy(), rtol=1e-12, atol=1e-12)


def test_torch_state_dict_loads():
    torch = _torch()
    tm = torch.nn.Conv2d(3, 4, 3, padding=1)
    m = nn.Conv2d(3, 4, 3, padding=1)
    m.load_state_dict(tm.state_dict())
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(m(pf.tensor(x)).data, tm(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- bad input


def test_errors():
    conv = nn.Conv2d(3, 6, 5)
    with pytest.raises(ValueError, match=r"^Conv2d: expected input\[N, C, H, W\] with C = 3 \(weight \[6, 3, 5, 5\], "
                                         r"groups=1\), got \[8, 28, 28, 3\] with C = 28; this looks like channels-last "
                                         r"\(NHWC\) data"):
        conv(pf.zeros(8, 28, 28, 3))
    with pytest.raises(ValueError, match=r"Conv2d: expected input\[N, C, H, W\] with C = 3 .* got \[8, 1, 28, 28\] "
                                         r"with C = 1$"):
        conv(pf.zeros(8, 1, 28, 28))
    with pytest.raises(ValueError, match=r"^Conv2d: kernel size \(5, 5\) \(dilated\) can't be greater than the padded "
                                         r"input size \(4, 4\) of input \[1, 3, 4, 4\]$"):
        conv(pf.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match=r"kernel size \(9, 9\) \(dilated\)"):
        F.conv2d(pf.zeros(1, 3, 8, 8), pf.zeros(6, 3, 5, 5), dilation=2)
    with pytest.raises(ValueError, match=r"^Conv2d: expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input, got shape "
                                         r"\(28, 28\)$"):
        conv(pf.zeros(28, 28))
    with pytest.raises(ValueError, match=r"^Conv2d: in_channels \(3\) must be divisible by groups \(2\)$"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match=r"^Conv2d: out_channels \(6\) must be divisible by groups \(4\)$"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match=r"conv2d: out_channels \(weight.shape\[0\] = 6\) must be divisible by groups"):
        F.conv2d(pf.zeros(1, 4, 8, 8), pf.zeros(6, 2, 3, 3), groups=4)
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(6,\) \(out_channels\), got \(5,\)"):
        F.conv2d(pf.zeros(1, 3, 8, 8), pf.zeros(6, 3, 3, 3), pf.zeros(5))
    with pytest.raises(TypeError, match=r"conv2d: input and weight must have the same dtype, got float32 and float64"):
        F.conv2d(pf.zeros(1, 3, 8, 8), pf.zeros(6, 3, 3, 3, dtype=pf.float64))
    with pytest.raises(TypeError, match=r"conv2d: expected a floating point input"):
        F.conv2d(pf.tensor(np.zeros((1, 3, 8, 8), np.int64)), pf.zeros(6, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: weight must be 4-D"):
        F.conv2d(pf.zeros(1, 3, 8, 8), pf.zeros(6, 3, 3))
    with pytest.raises(ValueError, match=r"argument 'padding' must be 'same', 'valid', an int or a pair"):
        F.conv2d(pf.zeros(1, 3, 8, 8), pf.zeros(6, 3, 3, 3), padding="full")
    with pytest.raises(TypeError, match=r"conv2d: argument 'stride' must be an int or a pair of ints, got 1.5"):
        F.conv2d(pf.zeros(1, 3, 8, 8), pf.zeros(6, 3, 3, 3), stride=1.5)
    with pytest.raises(ValueError, match=r"conv2d: argument 'stride' must be >= 1, got 0"):
        F.conv2d(pf.zeros(1, 3, 8, 8), pf.zeros(6, 3, 3, 3), stride=0)
    with pytest.raises(ValueError, match=r"Conv2d: padding_mode must be one of"):
        nn.Conv2d(3, 6, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"reflect padding \(4, 4\) must be smaller than the input height \(4\)"):
        nn.Conv2d(3, 6, 3, padding=4, padding_mode="reflect")(pf.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match=r"ConvTranspose2d: only padding_mode 'zeros' is supported"):
        nn.ConvTranspose2d(3, 6, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"ConvTranspose2d: output padding must be smaller than either stride or "
                                         r"dilation"):
        nn.ConvTranspose2d(3, 6, 3, output_padding=1)(pf.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match=r"ConvTranspose2d: requested an output size of \(12, 12\), but valid sizes "
                                         r"range from 9 to 10"):
        nn.ConvTranspose2d(3, 6, 3, stride=2, padding=1)(pf.zeros(1, 3, 5, 5), output_size=(12, 12))
    with pytest.raises(ValueError, match=r"conv_transpose2d: expected input\[N, C, H, W\] with C = 3"):
        F.conv_transpose2d(pf.zeros(1, 4, 8, 8), pf.zeros(3, 2, 3, 3))
    with pytest.raises(ValueError, match=r"Conv2d: argument 'in_channels' must be a positive int"):
        nn.Conv2d(0, 6, 3)

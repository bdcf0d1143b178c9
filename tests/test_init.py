"""nn.init: gains, fans, every initializer's distribution, Linear's default init, errors,
and the course's numbers (He / Glorot)."""

import math

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.nn import init

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")


@pytest.fixture(autouse=True)
def _seed():
    pf.manual_seed(0)


GAINS = [
    ("linear", None),
    ("conv1d", None),
    ("conv2d", None),
    ("conv3d", None),
    ("conv_transpose1d", None),
    ("conv_transpose2d", None),
    ("conv_transpose3d", None),
    ("sigmoid", None),
    ("tanh", None),
    ("relu", None),
    ("leaky_relu", None),
    ("leaky_relu", 0.2),
    ("leaky_relu", 1),
    ("leaky_relu", math.sqrt(5)),
    ("selu", None),
]


@pytest.mark.parametrize("nonlinearity, param", GAINS)
def test_calculate_gain(nonlinearity, param):
    want = {
        "tanh": 5.0 / 3,
        "relu": math.sqrt(2.0),
        "selu": 0.75,
        "leaky_relu": math.sqrt(2.0 / (1 + (0.01 if param is None else param) ** 2)),
    }.get(nonlinearity, 1.0)
    got = init.calculate_gain(nonlinearity, param)
    assert got == pytest.approx(want, rel=1e-12)
    if torch is not None:
        assert got == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12)


def test_calculate_gain_errors():
    with pytest.raises(ValueError):
        init.calculate_gain("swish")
    with pytest.raises(ValueError):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("shape", [(7, 5), (10, 1), (1, 10), (8, 3, 5), (16, 4, 3, 3), (6, 2, 3, 3, 3)])
def test_fan_in_and_fan_out(shape):
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(pf.empty(*shape))
    assert (fan_in, fan_out) == (shape[1] * receptive, shape[0] * receptive)
    if torch is not None:
        assert (fan_in, fan_out) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


@pytest.mark.parametrize(
    "fn",
    [
        init.xavier_uniform_,
        init.xavier_normal_,
        init.kaiming_uniform_,
        init.kaiming_normal_,
        init.he_uniform_,
        init.he_normal_,
        init.lecun_normal_,
        init.lecun_uniform_,
        init.orthogonal_,
        init.glorot_uniform_,
        init.glorot_normal_,
        init.eye_,
    ],
)
def test_one_dimensional_tensors_are_refused(fn):
    with pytest.raises(ValueError):
        fn(pf.empty(5))
    if torch is not None and hasattr(torch.nn.init, fn.__name__):
        with pytest.raises(ValueError):
            getattr(torch.nn.init, fn.__name__)(torch.empty(5))


def test_bad_mode_is_refused():
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_uniform_(pf.empty(3, 3), mode="fan_avg")


# ---------------------------------------------------------------- distributions on large tensors
def _uniform_stats_ok(x, bound):
    x = x.numpy().astype(np.float64)
    assert x.min() >= -bound and x.max() <= bound
    assert x.max() > 0.99 * bound and x.min() < -0.99 * bound  # fills the whole range
    assert abs(x.mean()) < 0.01 * bound
    assert x.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)


def _normal_stats_ok(x, std, mean=0.0):
    x = x.numpy().astype(np.float64)
    assert abs(x.mean() - mean) < 0.01 * std + 1e-12
    assert x.std() == pytest.approx(std, rel=0.01)
    # roughly Gaussian: about 68.3% within one std
    assert np.mean(np.abs(x - mean) < std) == pytest.approx(0.6827, abs=0.01)


SHAPE = (256, 300)  # fan_in 300, fan_out 256
FAN_IN, FAN_OUT = 300, 256


@pytest.mark.parametrize(
    "name, call, bound",
    [
        ("uniform", lambda t: init.uniform_(t, -0.3, 0.3), 0.3),
        ("xavier_uniform", lambda t: init.xavier_uniform_(t), math.sqrt(6 / (FAN_IN + FAN_OUT))),
        ("xavier_uniform_gain", lambda t: init.xavier_uniform_(t, gain=2.0), 2 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
        ("kaiming_uniform", lambda t: init.kaiming_uniform_(t), math.sqrt(2) * math.sqrt(3 / FAN_IN)),
        ("kaiming_uniform_relu_fan_out", lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
         math.sqrt(2) * math.sqrt(3 / FAN_OUT)),
        ("kaiming_uniform_a", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(FAN_IN)),
        ("he_uniform", lambda t: init.he_uniform_(t), math.sqrt(6 / FAN_IN)),
        ("lecun_uniform", lambda t: init.lecun_uniform_(t), math.sqrt(3 / FAN_IN)),
    ],
)
def test_uniform_initializers(name, call, bound):
    t = pf.empty(*SHAPE)
    assert call(t) is t
    _uniform_stats_ok(t, bound)


@pytest.mark.parametrize(
    "name, call, std",
    [
        ("normal", lambda t: init.normal_(t, 0.0, 0.5), 0.5),
        ("xavier_normal", lambda t: init.xavier_normal_(t), math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("xavier_normal_gain", lambda t: init.xavier_normal_(t, gain=0.5), 0.5 * math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("kaiming_normal", lambda t: init.kaiming_normal_(t), math.sqrt(2 / FAN_IN)),
        ("kaiming_normal_fan_out", lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
         math.sqrt(2 / FAN_OUT)),
        ("kaiming_normal_tanh", lambda t: init.kaiming_normal_(t, nonlinearity="tanh"), 5 / 3 / math.sqrt(FAN_IN)),
        ("he_normal", lambda t: init.he_normal_(t), math.sqrt(2 / FAN_IN)),
        ("lecun_normal", lambda t: init.lecun_normal_(t), math.sqrt(1 / FAN_IN)),
    ],
)
def test_normal_initializers(name, call, std):
    t = pf.empty(*SHAPE)
    assert call(t) is t
    _normal_stats_ok(t, std)


def test_normal_with_mean():
    t = init.normal_(pf.empty(*SHAPE), mean=3.0, std=0.2)
    _normal_stats_ok(t, 0.2, mean=3.0)


@needs_torch
@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda t: init.xavier_uniform_(t), lambda t: torch.nn.init.xavier_uniform_(t)),
        (lambda t: init.xavier_normal_(t), lambda t: torch.nn.init.xavier_normal_(t)),
        (lambda t: init.kaiming_uniform_(t, a=0.1, mode="fan_out"),
         lambda t: torch.nn.init.kaiming_uniform_(t, a=0.1, mode="fan_out")),
        (lambda t: init.kaiming_normal_(t, nonlinearity="relu"),
         lambda t: torch.nn.init.kaiming_normal_(t, nonlinearity="relu")),
        (lambda t: init.trunc_normal_(t, std=0.02), lambda t: torch.nn.init.trunc_normal_(t, std=0.02)),
    ],
)
@pytest.mark.parametrize("shape", [(256, 300), (32, 16, 3, 3)])
def test_distributions_match_torch(ours, theirs, shape):
    mine = ours(pf.empty(*shape)).numpy().astype(np.float64)
    torch.manual_seed(0)
    ref = theirs(torch.empty(*shape)).numpy().astype(np.float64)
    assert mine.std() == pytest.approx(ref.std(), rel=0.03)
    assert np.quantile(np.abs(mine), 0.95) == pytest.approx(np.quantile(np.abs(ref), 0.95), rel=0.05)
    assert abs(mine.mean()) < 0.02 * ref.std()


def test_trunc_normal():
    t = init.trunc_normal_(pf.empty(*SHAPE), mean=0.5, std=1.0, a=-1.0, b=2.0)
    x = t.numpy()
    assert x.min() >= -1.0 and x.max() <= 2.0
    assert x.min() < -0.98 and x.max() > 1.98
    t = init.trunc_normal_(pf.empty(*SHAPE), std=0.02)  # the usual use: bounds far outside
    _normal_stats_ok(t, 0.02)


def test_constant_ones_zeros_eye():
    t = pf.empty(3, 4)
    assert init.constant_(t, 0.25) is t and (t.numpy() == 0.25).all()
    assert (init.ones_(t).numpy() == 1).all()
    assert (init.zeros_(t).numpy() == 0).all()
    np.testing.assert_array_equal(init.eye_(t).numpy(), np.eye(3, 4))


@pytest.mark.parametrize("shape", [(6, 6), (8, 3), (3, 8), (4, 2, 3, 3), (64, 64)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal(shape, gain):
    t = init.orthogonal_(pf.empty(*shape, dtype=pf.float64), gain=gain)
    w = t.numpy().reshape(shape[0], -1) / gain
    rows, cols = w.shape
    if rows >= cols:
        np.testing.assert_allclose(w.T @ w, np.eye(cols), atol=1e-10)
    else:
        np.testing.assert_allclose(w @ w.T, np.eye(rows), atol=1e-10)


# ---------------------------------------------------------------- in place, no graph, dtype, seeds
def test_initializers_fill_in_place_without_a_graph():
    p = nn.Parameter(pf.zeros(4, 5, dtype=pf.float64))
    data = p.data
    for fn in (init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_, init.normal_, init.trunc_normal_):
        assert fn(p) is p
        assert p.data is data and p.dtype == np.float64 and p.is_leaf and p.requires_grad and p.grad_fn is None


def test_initializers_are_reproducible_with_manual_seed():
    def draw():
        return [f(pf.empty(5, 7)).numpy().copy() for f in (init.xavier_uniform_, init.kaiming_normal_,
                                                            init.orthogonal_, init.trunc_normal_)]

    pf.manual_seed(99)
    a = draw()
    pf.manual_seed(99)
    b = draw()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


# ---------------------------------------------------------------- Linear's default initialization
@pytest.mark.parametrize("fan_in, fan_out", [(784, 256), (64, 10), (3, 2000)])
def test_linear_default_init_bounds(fan_in, fan_out):
    lin = nn.Linear(fan_in, fan_out)
    bound = 1 / math.sqrt(fan_in)
    w, b = lin.weight.numpy(), lin.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.95 * bound  # uniform over the whole range
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    if torch is not None:
        tl = torch.nn.Linear(fan_in, fan_out)
        assert tl.weight.abs().max().item() <= bound + 1e-7
        assert tl.weight.std().item() == pytest.approx(w.std(), rel=0.05)


# ---------------------------------------------------------------- the course's numbers
def test_course_he_normal_std_for_fan_in_64():
    assert math.sqrt(2 / 64) == pytest.approx(0.176777, abs=1e-6)
    t = init.he_normal_(pf.empty(4096, 64))
    assert t.numpy().std() == pytest.approx(0.176777, rel=0.01)
    t = init.kaiming_normal_(pf.empty(4096, 64), nonlinearity="relu")
    assert t.numpy().std() == pytest.approx(0.176777, rel=0.01)


def test_course_glorot_uniform_limit_for_5_to_10():
    limit = math.sqrt(6 / 15)
    assert limit == pytest.approx(0.632456, abs=1e-6)
    w = pf.empty(10, 5)  # a 5 -> 10 layer (out, in)
    samples = np.concatenate([init.glorot_uniform_(w).numpy().ravel().copy() for _ in range(2000)])
    assert np.abs(samples).max() <= limit
    assert np.abs(samples).max() > 0.999 * limit
    assert samples.std() == pytest.approx(limit / math.sqrt(3), rel=0.01)


def test_course_glorot_normal_std_for_10_to_1():
    std = math.sqrt(2 / 11)
    assert std == pytest.approx(0.426401, abs=1e-6)
    w = pf.empty(1, 10)  # a 10 -> 1 layer
    samples = np.concatenate([init.glorot_normal_(w).numpy().ravel().copy() for _ in range(10000)])
    assert samples.std() == pytest.approx(0.426401, rel=0.01)
    assert abs(samples.mean()) < 0.01

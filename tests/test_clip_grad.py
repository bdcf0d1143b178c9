"""nn.utils.clip_grad_norm_ / clip_grad_value_ against torch.nn.utils on the same gradients."""

import math

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import nn
from pyfastnn.nn.utils import clip_grad_norm_, clip_grad_value_

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")


def params_with_grads(grads, dtype=np.float32):
    out = []
    for g in grads:
        p = nn.Parameter(pf.zeros(*np.shape(g), dtype=dtype))
        p.grad = pf.tensor(np.asarray(g, dtype=dtype))
        out.append(p)
    return out


def torch_params_with_grads(grads, dtype=np.float32):
    out = []
    for g in grads:
        p = torch.nn.Parameter(torch.zeros(np.shape(g), dtype=getattr(torch, np.dtype(dtype).name)))
        p.grad = torch.tensor(np.asarray(g, dtype=dtype))
        out.append(p)
    return out


def random_grads(seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) * scale for s in [(4, 3), (3,), (2, 2, 2)]]


def test_course_case_global_norm_45_clipped_to_10():
    # two gradients with global norm sqrt(27^2 + 36^2) = 45
    params = params_with_grads([[27.0, 0.0], [0.0, 36.0]])
    norm = clip_grad_norm_(params, max_norm=10)
    assert isinstance(norm, pf.Tensor) and norm.item() == pytest.approx(45.0)
    scale = 10 / (45 + 1e-6)
    np.testing.assert_allclose(params[0].grad.numpy(), [27 * scale, 0], rtol=1e-6)
    np.testing.assert_allclose(params[1].grad.numpy(), [0, 36 * scale], rtol=1e-6)
    total = math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in params))
    assert total == pytest.approx(10.0, rel=1e-6)


def test_norm_below_max_leaves_gradients_alone():
    grads = random_grads(scale=0.01)
    params = params_with_grads(grads)
    norm = clip_grad_norm_(params, max_norm=100.0)
    want = math.sqrt(sum((np.asarray(g, np.float32).astype(np.float64) ** 2).sum() for g in grads))
    assert norm.item() == pytest.approx(want, rel=1e-6)
    for p, g in zip(params, grads):
        np.testing.assert_array_equal(p.grad.numpy(), np.asarray(g, np.float32))


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 5.0, 1000.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    grads = random_grads(seed=1)
    ours, theirs = params_with_grads(grads, dtype), torch_params_with_grads(grads, dtype)
    n = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    tn = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert n.dtype == dtype and n.shape == ()
    assert n.item() == pytest.approx(tn.item(), rel=1e-5)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_inputs_forms_and_parameters_without_grad():
    lin = nn.Linear(3, 2)
    lin(pf.randn(4, 3) * 100).sum().backward()
    norm = clip_grad_norm_(lin.parameters(), 1.0)  # a generator works
    assert norm.item() > 1
    total = math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in lin.parameters()))
    assert total == pytest.approx(1.0, rel=1e-5)
    single = params_with_grads([[3.0, 4.0]])[0]
    assert clip_grad_norm_(single, 1.0).item() == pytest.approx(5.0)  # a single tensor
    np.testing.assert_allclose(single.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    no_grad_param = nn.Parameter(pf.ones(3))
    assert clip_grad_norm_([no_grad_param], 1.0).item() == 0.0
    assert no_grad_param.grad is None
    assert clip_grad_norm_([], 1.0).item() == 0.0


def test_inf_norm():
    params = params_with_grads([[1.0, -7.0], [3.0]])
    norm = clip_grad_norm_(params, 3.5, norm_type=float("inf"))
    assert norm.item() == 7.0
    np.testing.assert_allclose(params[0].grad.numpy(), [0.5, -3.5], rtol=1e-6)
    np.testing.assert_allclose(params[1].grad.numpy(), [1.5], rtol=1e-6)


def test_error_if_nonfinite():
    for bad in (float("nan"), float("inf")):
        params = params_with_grads([[1.0, bad], [2.0]])
        with pytest.raises(RuntimeError, match="non-finite"):
            clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
        np.testing.assert_array_equal(params[1].grad.numpy(), [2.0])  # untouched
        norm = clip_grad_norm_(params_with_grads([[1.0, bad]]), 1.0)  # default: no error
        assert not math.isfinite(norm.item())
    if torch is not None:
        for bad in (float("nan"), float("inf")):  # without the error: scaled like PyTorch
            ours = params_with_grads([[1.0, bad], [2.0]])
            theirs = torch_params_with_grads([[1.0, bad], [2.0]])
            clip_grad_norm_(ours, 1.0)
            torch.nn.utils.clip_grad_norm_(theirs, 1.0)
            for p, tp in zip(ours, theirs):
                np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
        with pytest.raises(RuntimeError, match="non-finite"):
            torch.nn.utils.clip_grad_norm_(torch_params_with_grads([[1.0, float("nan")]]), 1.0,
                                           error_if_nonfinite=True)


def test_clip_grad_value():
    grads = random_grads(seed=2)
    params = params_with_grads(grads)
    data = [p.grad.data for p in params]
    assert clip_grad_value_(params, 1.5) is None
    for p, g, d in zip(params, grads, data):
        assert p.grad.data is d  # in place
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(np.asarray(g, np.float32), -1.5, 1.5))
    if torch is not None:
        theirs = torch_params_with_grads(grads)
        torch.nn.utils.clip_grad_value_(theirs, 1.5)
        for p, tp in zip(params, theirs):
            np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
    single = params_with_grads([[5.0, -5.0, 0.5]])[0]
    clip_grad_value_(single, 1)
    np.testing.assert_array_equal(single.grad.numpy(), [1, -1, 0.5])
    clip_grad_value_([nn.Parameter(pf.ones(2))], 1.0)  # no grad: nothing to do


def test_clipping_inside_a_training_step():
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 1))
    x, y = pf.randn(16, 4), pf.randn(16, 1)
    loss = ((model(x) - y) ** 2).mean() * 1e4
    loss.backward()
    before = clip_grad_norm_(model.parameters(), max_norm=1.0)
    assert before.item() > 1.0
    after = clip_grad_norm_(model.parameters(), max_norm=1.0)
    assert after.item() == pytest.approx(1.0, rel=1e-5)
    with pf.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad

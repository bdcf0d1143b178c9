"""Optimizers: the fused C++ kernels against the NumPy reference (each ISA, 1 and 2 threads,
float32/float64, odd sizes), the optimizer classes against torch.optim (same start, same
gradients, 20 steps), param groups, zero_grad, state_dict round trips (also through
pf.save/pf.load and from a torch optimizer), and hyperparameter validation."""

import copy

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import optim
from pyfastnn.backends import cpu, reference

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

SIZES = [1, 7, 100003]


# ---------------------------------------------------------------- kernels vs reference

def _kernel_cases():
    """(name, kernel name, builder) where builder(rng, shapes, dtype, step) returns the args
    (as a dict, arrays fresh) for the *_step functions."""
    def sgd(momentum, dampening=0.0, nesterov=False, wd=0.0, maximize=False):
        def build(rng, shapes, dtype, step):
            n = len(shapes)
            bufs = [rng.standard_normal(s).astype(dtype) for s in shapes] if momentum else []
            first = [step == 1] * n if momentum else []
            return dict(bufs=bufs, first=first, lr=0.05, momentum=momentum, dampening=dampening,
                        nesterov=nesterov, weight_decay=wd, maximize=maximize)
        return build

    def adam(amsgrad=False, wd=0.0, decoupled=False, maximize=False):
        def build(rng, shapes, dtype, step):
            return dict(exp_avgs=[rng.standard_normal(s).astype(dtype) for s in shapes],
                        exp_avg_sqs=[rng.random(s).astype(dtype) for s in shapes],
                        max_exp_avg_sqs=[rng.random(s).astype(dtype) for s in shapes] if amsgrad else None,
                        steps=[step + i for i in range(len(shapes))], lr=1e-2, beta1=0.9, beta2=0.99, eps=1e-8,
                        weight_decay=wd, amsgrad=amsgrad, maximize=maximize, decoupled=decoupled)
        return build

    def rmsprop(momentum=0.0, centered=False, wd=0.0, maximize=False):
        def build(rng, shapes, dtype, step):
            sq = [rng.random(s).astype(dtype) + 1.0 for s in shapes]
            return dict(square_avgs=sq,
                        momentum_bufs=[rng.standard_normal(s).astype(dtype) for s in shapes] if momentum else None,
                        grad_avgs=[(rng.random(s) * 0.5).astype(dtype) for s in shapes] if centered else None,
                        lr=1e-2, alpha=0.9, eps=1e-8, weight_decay=wd, momentum=momentum, centered=centered,
                        maximize=maximize)
        return build

    def adagrad(lr_decay=0.0, wd=0.0, maximize=False):
        def build(rng, shapes, dtype, step):
            return dict(state_sums=[rng.random(s).astype(dtype) for s in shapes],
                        steps=[step + i for i in range(len(shapes))], lr=0.1, lr_decay=lr_decay, weight_decay=wd,
                        eps=1e-10, maximize=maximize)
        return build

    def adadelta(wd=0.0, maximize=False):
        def build(rng, shapes, dtype, step):
            return dict(square_avgs=[rng.random(s).astype(dtype) for s in shapes],
                        acc_deltas=[rng.random(s).astype(dtype) for s in shapes], lr=1.0, rho=0.9, eps=1e-6,
                        weight_decay=wd, maximize=maximize)
        return build

    return [
        ("sgd_plain", "sgd_step", sgd(0.0)),
        ("sgd_wd_max", "sgd_step", sgd(0.0, wd=0.1, maximize=True)),
        ("sgd_momentum", "sgd_step", sgd(0.9)),
        ("sgd_dampening", "sgd_step", sgd(0.9, dampening=0.3, wd=0.01)),
        ("sgd_nesterov", "sgd_step", sgd(0.9, nesterov=True, wd=0.01)),
        ("adam", "adam_step", adam()),
        ("adam_l2", "adam_step", adam(wd=0.1)),
        ("adam_amsgrad", "adam_step", adam(amsgrad=True, wd=0.1)),
        ("adamw", "adam_step", adam(wd=0.1, decoupled=True)),
        ("adamw_amsgrad_max", "adam_step", adam(amsgrad=True, wd=0.05, decoupled=True, maximize=True)),
        ("rmsprop", "rmsprop_step", rmsprop()),
        ("rmsprop_momentum", "rmsprop_step", rmsprop(momentum=0.9, wd=0.01)),
        ("rmsprop_centered", "rmsprop_step", rmsprop(centered=True)),
        ("rmsprop_centered_momentum_max", "rmsprop_step", rmsprop(momentum=0.5, centered=True, maximize=True)),
        ("adagrad", "adagrad_step", adagrad()),
        ("adagrad_decay_wd", "adagrad_step", adagrad(lr_decay=0.01, wd=0.1, maximize=True)),
        ("adadelta", "adadelta_step", adadelta()),
        ("adadelta_wd_max", "adadelta_step", adadelta(wd=0.1, maximize=True)),
    ]


KERNEL_CASES = _kernel_cases()


def _run_kernel(module, kernel, build, dtype, shapes, seed, step):
    """Fresh identical inputs from the seed, one update by `module`; returns every array."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
    kwargs = build(rng, shapes, dtype, step)
    getattr(module, kernel)(params, grads, **kwargs)
    arrays = list(params)
    for v in kwargs.values():
        if isinstance(v, list) and v and isinstance(v[0], np.ndarray):
            arrays += v
    return arrays


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,kernel,build", KERNEL_CASES, ids=[c[0] for c in KERNEL_CASES])
def test_kernel_matches_reference(isa, threads, name, kernel, build, dtype):
    shapes = [(s,) for s in SIZES] + [(3, 5)]
    for step in (1, 3):
        got = _run_kernel(cpu, kernel, build, dtype, shapes, 11 + step, step)
        want = _run_kernel(reference, kernel, build, dtype, shapes, 11 + step, step)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == dtype and w.dtype == dtype
            if dtype == np.float64:
                np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
            else:
                np.testing.assert_allclose(g, w, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name,kernel,build", KERNEL_CASES[:1] + KERNEL_CASES[5:6], ids=["sgd", "adam"])
def test_kernel_single_tensor_each_size(name, kernel, build):
    for n in SIZES:
        got = _run_kernel(cpu, kernel, build, np.float32, [(n,)], 3, 1)
        want = _run_kernel(reference, kernel, build, np.float32, [(n,)], 3, 1)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=2e-6, atol=1e-6)


def test_kernel_thread_count_does_not_change_results():
    build = {c[0]: c[2] for c in KERNEL_CASES}["adam_amsgrad"]
    shapes = [(200003,), (70000,), (5,)]
    before = pf.get_num_threads()
    try:
        pf.set_num_threads(1)
        one = _run_kernel(cpu, "adam_step", build, np.float32, shapes, 9, 4)
        pf.set_num_threads(2)
        two = _run_kernel(cpu, "adam_step", build, np.float32, shapes, 9, 4)
    finally:
        pf.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_kernel_argument_errors():
    p = [np.zeros(4, np.float32)]
    g = [np.zeros(4, np.float32)]
    with pytest.raises(ValueError, match="exp_avgs"):
        cpu.adam_step(p, g, [np.zeros(3, np.float32)], [np.zeros(4, np.float32)], None, [1], 1e-3, 0.9, 0.999,
                      1e-8, 0.0, False, False, False)
    with pytest.raises(TypeError):
        cpu.adam_step(p, [np.zeros(4, np.float64)], [np.zeros(4, np.float32)], [np.zeros(4, np.float32)], None,
                      [1], 1e-3, 0.9, 0.999, 1e-8, 0.0, False, False, False)
    with pytest.raises(ValueError, match="lr"):
        cpu.sgd_step(p, g, None, [], -1.0, 0.0, 0.0, False, 0.0, False)
    ro = np.zeros(4, np.float32)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        cpu.sgd_step([ro], g, None, [], 0.1, 0.0, 0.0, False, 0.0, False)


def test_kernel_non_contiguous_gradient():
    rng = np.random.default_rng(0)
    p = rng.standard_normal((6, 4)).astype(np.float32)
    g = rng.standard_normal((4, 6)).astype(np.float32).T  # a transposed view
    p1, p2 = p.copy(), p.copy()
    cpu.sgd_step([p1], [g], None, [], 0.1, 0.0, 0.0, False, 0.0, False)
    reference.sgd_step([p2], [g], None, [], 0.1, 0.0, 0.0, False, 0.0, False)
    np.testing.assert_allclose(p1, p2, rtol=1e-6)


# ---------------------------------------------------------------- optimizers vs torch.optim

OPTIM_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("AdamW", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=1e-2)),
    ("RMSprop", dict(lr=1e-2, momentum=0.9)),
    ("RMSprop", dict(lr=1e-2, centered=True)),
    ("RMSprop", dict(lr=1e-2, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=1e-2, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    ("Adadelta", dict(lr=1.0, maximize=True)),
]
OPTIM_IDS = [f"{n}-" + ",".join(f"{k}={v}" for k, v in kw.items()) for n, kw in OPTIM_CASES]

SHAPES = [(1,), (7,), (4, 3), (300, 40)]


def _start(seed=0, dtype=np.float32, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _grads(step, dtype=np.float32, shapes=SHAPES):
    rng = np.random.default_rng(1000 + step)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _pf_params(arrays):
    return [pf.nn.Parameter(pf.tensor(a.copy())) for a in arrays]


def _pf_run(opt, params, steps, first=0, dtype=np.float32):
    for t in range(first, first + steps):
        opt.zero_grad()
        for p, g in zip(params, _grads(t, dtype)):
            p.grad = pf.tensor(g)
        opt.step()


def _torch_run(name, kwargs, arrays, steps, dtype=np.float32):
    tparams = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    topt = getattr(torch.optim, name)(tparams, **kwargs)
    for t in range(steps):
        topt.zero_grad()
        for p, g in zip(tparams, _grads(t, dtype)):
            p.grad = torch.tensor(g)
        topt.step()
    return [p.detach().numpy() for p in tparams], topt


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,kwargs", OPTIM_CASES, ids=OPTIM_IDS)
def test_optimizer_matches_torch(name, kwargs, dtype):
    start = _start(dtype=dtype)
    params = _pf_params(start)
    opt = getattr(optim, name)(params, **kwargs)
    _pf_run(opt, params, 20, dtype=dtype)
    want, _ = _torch_run(name, kwargs, start, 20, dtype)
    for p, w, s in zip(params, want, start):
        assert p.dtype == dtype
        tol = 1e-5 if dtype == np.float32 else 1e-10
        np.testing.assert_allclose(p.numpy(), w, rtol=tol, atol=tol)
        assert not np.array_equal(p.numpy(), s)


@needs_torch
@pytest.mark.parametrize("name,kwargs", OPTIM_CASES[1:2] + OPTIM_CASES[8:9] + OPTIM_CASES[16:17],
                         ids=["SGD", "Adam", "RMSprop"])
def test_optimizer_matches_torch_on_reference_backend(name, kwargs):
    start = _start()
    params = _pf_params(start)
    opt = getattr(optim, name)(params, **kwargs)
    pf.use_backend("reference")
    try:
        _pf_run(opt, params, 20)
    finally:
        pf.use_backend("cpu")
    want, _ = _torch_run(name, kwargs, start, 20)
    for p, w in zip(params, want):
        np.testing.assert_allclose(p.numpy(), w, rtol=1e-5, atol=1e-5)


@needs_torch
def test_training_a_model_matches_torch():
    """A real loss and backward: Linear-Tanh-Linear, MSE, Adam, 20 steps."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((32, 5)).astype(np.float32)
    y = rng.standard_normal((32, 1)).astype(np.float32)
    model = pf.nn.Sequential(pf.nn.Linear(5, 8), pf.nn.Tanh(), pf.nn.Linear(8, 1))
    tmodel = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    with torch.no_grad():
        for tp, p in zip(tmodel.parameters(), model.parameters()):
            tp.copy_(torch.tensor(p.numpy()))
    opt = optim.Adam(model.parameters(), lr=0.01)
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.01)
    for _ in range(20):
        opt.zero_grad()
        loss = pf.nn.functional.mse_loss(model(pf.tensor(x)), pf.tensor(y))
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.mse_loss(tmodel(torch.tensor(x)), torch.tensor(y))
        tloss.backward()
        topt.step()
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_params_without_gradient_are_skipped():
    a, b = _pf_params(_start(shapes=[(3,), (4,)]))
    b0 = b.numpy().copy()
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = pf.ones(3)
    opt.step()
    np.testing.assert_array_equal(b.numpy(), b0)
    assert b not in opt.state or not opt.state[b]
    assert opt.state[a]["step"] == 1


def test_step_closure_returns_loss():
    w = pf.nn.Parameter(pf.tensor([1.0, 2.0]))
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss.item()) == pytest.approx(5.0)
    np.testing.assert_allclose(w.numpy(), [0.8, 1.6], rtol=1e-6)


def test_gradient_shape_mismatch_raises():
    w = pf.nn.Parameter(pf.zeros(3))
    w.grad = pf.zeros(4)
    with pytest.raises(RuntimeError, match="shape"):
        optim.SGD([w], lr=0.1).step()


def test_mixed_dtypes_in_one_group():
    a = pf.nn.Parameter(pf.tensor(np.ones(3, np.float32)))
    b = pf.nn.Parameter(pf.tensor(np.ones(3, np.float64)))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad, b.grad = pf.tensor(np.ones(3, np.float32)), pf.tensor(np.ones(3, np.float64))
    opt.step()
    np.testing.assert_allclose(a.numpy(), 0.9, rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), 1 - 0.1 / (1 + 1e-8), rtol=1e-14)
    assert a.dtype == np.float32 and b.dtype == np.float64


# ---------------------------------------------------------------- param groups


@needs_torch
def test_param_groups_with_per_group_options_match_torch():
    start = _start()
    params = _pf_params(start)
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": 0.05, "momentum": 0.5, "nesterov": True}]
    opt = optim.SGD(groups, lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.9
    assert opt.param_groups[1]["lr"] == 0.05 and opt.param_groups[1]["nesterov"] is True
    _pf_run(opt, params, 20)
    tparams = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    topt = torch.optim.SGD([{"params": tparams[:2]},
                            {"params": tparams[2:], "lr": 0.05, "momentum": 0.5, "nesterov": True}],
                           lr=0.1, momentum=0.9)
    for t in range(20):
        topt.zero_grad()
        for p, g in zip(tparams, _grads(t)):
            p.grad = torch.tensor(g)
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-5)


@needs_torch
def test_add_param_group_matches_torch():
    start = _start()
    params = _pf_params(start)
    tparams = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    opt = optim.Adam(params[:2], lr=0.01)
    topt = torch.optim.Adam(tparams[:2], lr=0.01)
    for t in range(20):
        if t == 5:
            opt.add_param_group({"params": params[2:], "lr": 0.003, "betas": (0.5, 0.9)})
            topt.add_param_group({"params": tparams[2:], "lr": 0.003, "betas": (0.5, 0.9)})
        opt.zero_grad()
        topt.zero_grad()
        for p, tp, g in zip(params, tparams, _grads(t)):
            p.grad = pf.tensor(g)
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["eps"] == 1e-8  # defaults fill what the group leaves out
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_add_param_group_errors():
    a, b = _pf_params(_start(shapes=[(2,), (2,)]))
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="dict"):
        opt.add_param_group([b])
    with pytest.raises(TypeError, match="Tensors"):
        opt.add_param_group({"params": [np.zeros(2)]})
    with pytest.raises(ValueError, match="lr"):
        opt.add_param_group({"params": [b], "lr": -1.0})
    opt.add_param_group({"params": b})  # a single tensor is accepted
    assert opt.param_groups[1]["params"] == [b]


def test_constructor_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(pf.nn.Parameter(pf.zeros(2)), lr=0.1)
    x = pf.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([x * 2], lr=0.1)


def test_generator_of_parameters_is_accepted():
    model = pf.nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 2


# ---------------------------------------------------------------- zero_grad


def test_zero_grad_set_to_none_both_ways():
    a, b = _pf_params(_start(shapes=[(3,), (2,)]))
    opt = optim.SGD([a, b], lr=0.1)
    a.grad, b.grad = pf.ones(3), pf.ones(2)
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is g
    np.testing.assert_array_equal(a.grad.numpy(), 0)
    np.testing.assert_array_equal(b.grad.numpy(), 0)
    opt.zero_grad()  # default: set_to_none=True
    assert a.grad is None and b.grad is None
    opt.zero_grad(set_to_none=False)  # no gradients: nothing to do
    assert a.grad is None


def test_zero_grad_then_backward_accumulates_fresh():
    w = pf.nn.Parameter(pf.tensor([1.0, 2.0]))
    opt = optim.SGD([w], lr=0.1)
    for set_to_none in (True, False):
        for _ in range(2):
            opt.zero_grad(set_to_none=set_to_none)
            (w * 3.0).sum().backward()
            np.testing.assert_allclose(w.grad.numpy(), [3.0, 3.0])


# ---------------------------------------------------------------- state dict


STATE_CASES = [c for c in OPTIM_CASES if c[0] != "SGD" or c[1].get("momentum")]
STATE_IDS = [f"{n}-" + ",".join(f"{k}={v}" for k, v in kw.items()) for n, kw in STATE_CASES]


@pytest.mark.parametrize("name,kwargs", STATE_CASES, ids=STATE_IDS)
def test_state_dict_round_trip_continues_exactly(name, kwargs):
    start = _start()
    ref = _pf_params(start)
    ref_opt = getattr(optim, name)(ref, **kwargs)
    _pf_run(ref_opt, ref, 20)

    first = _pf_params(start)
    opt = getattr(optim, name)(first, **kwargs)
    _pf_run(opt, first, 10)
    at_10 = [p.numpy().copy() for p in first]
    sd = opt.state_dict()
    saved = copy.deepcopy(sd)
    _pf_run(opt, first, 3, first=10)  # the state dict is a snapshot, not a view
    for k, s in sd["state"].items():
        for n, v in s.items():
            if isinstance(v, np.ndarray):
                np.testing.assert_array_equal(v, saved["state"][k][n])

    # a new optimizer over the parameters as they were at step 10, loaded with the state then
    second = _pf_params(at_10)
    new_opt = getattr(optim, name)(second, **kwargs)
    new_opt.load_state_dict(saved)
    _pf_run(new_opt, second, 10, first=10)
    for p, r in zip(second, ref):
        np.testing.assert_array_equal(p.numpy(), r.numpy())


@pytest.mark.parametrize("fmt", ["npz", "safetensors-weights"])
@pytest.mark.parametrize("name,kwargs", [("Adam", dict(lr=1e-2, amsgrad=True)), ("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
                                         ("RMSprop", dict(lr=1e-2, momentum=0.5, centered=True))],
                         ids=["Adam", "SGD", "Adagrad", "RMSprop"])
def test_state_dict_round_trip_through_save_load(tmp_path, name, kwargs, fmt):
    start = _start()
    ref = _pf_params(start)
    ref_opt = getattr(optim, name)(ref, **kwargs)
    _pf_run(ref_opt, ref, 20)

    params = _pf_params(start)
    opt = getattr(optim, name)(params, **kwargs)
    _pf_run(opt, params, 10)
    weights = {str(i): p for i, p in enumerate(params)}
    if fmt == "npz":
        pf.save({"weights": weights, "optimizer": opt.state_dict()}, tmp_path / "ckpt.npz")
        loaded = pf.load(tmp_path / "ckpt.npz")
        weights, osd = loaded["weights"], loaded["optimizer"]
    else:
        pf.save(weights, tmp_path / "w.safetensors")
        pf.save({"optimizer": opt.state_dict()}, tmp_path / "o.npz")
        weights, osd = pf.load(tmp_path / "w.safetensors"), pf.load(tmp_path / "o.npz")["optimizer"]
    new = [pf.nn.Parameter(pf.tensor(weights[str(i)].numpy().copy())) for i in range(len(start))]
    new_opt = getattr(optim, name)(new, **kwargs)
    new_opt.load_state_dict(osd)
    assert new_opt.param_groups[0]["lr"] == kwargs["lr"]
    for p in new:
        for v in new_opt.state[p].values():
            if isinstance(v, np.ndarray):
                assert v.dtype == p.dtype and v.flags.c_contiguous and v.flags.writeable
    _pf_run(new_opt, new, 10, first=10)
    for p, r in zip(new, ref):
        np.testing.assert_array_equal(p.numpy(), r.numpy())


def test_state_dict_layout_like_torch():
    params = _pf_params(_start(shapes=[(2,), (3,), (4,)]))
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}], lr=0.1)
    for p in params:
        p.grad = pf.ones(p.shape)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 1, 2]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 1


def test_load_state_dict_errors():
    a, b = _pf_params(_start(shapes=[(2,), (3,)]))
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    other = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="number of parameter groups"):
        opt.load_state_dict(other.state_dict())
    single = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="size"):
        opt.load_state_dict(single.state_dict())


@needs_torch
@pytest.mark.parametrize("name,kwargs", [("Adam", dict(lr=1e-2, amsgrad=True)), ("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("RMSprop", dict(lr=1e-2, momentum=0.5, centered=True)),
                                         ("Adagrad", dict(lr=0.1)), ("Adadelta", dict())],
                         ids=["Adam", "SGD", "RMSprop", "Adagrad", "Adadelta"])
def test_load_torch_optimizer_state_dict(name, kwargs):
    """Train 10 steps in torch, continue 10 in pyfastnn from torch's state dict: equals 20 in torch."""
    start = _start()
    want, _ = _torch_run(name, kwargs, start, 20)
    mid, topt = _torch_run(name, kwargs, start, 10)
    params = _pf_params(mid)
    opt = getattr(optim, name)(params, **kwargs)
    opt.load_state_dict(topt.state_dict())
    _pf_run(opt, params, 10, first=10)
    for p, w in zip(params, want):
        np.testing.assert_allclose(p.numpy(), w, rtol=1e-5, atol=1e-5)


def test_repr_lists_groups():
    opt = optim.SGD(_pf_params(_start(shapes=[(2,)])), lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


# ---------------------------------------------------------------- hyperparameter validation

BAD = [
    ("SGD", dict(lr=-0.1), "lr"),
    ("SGD", dict(lr=0.1, momentum=-0.5), "momentum"),
    ("SGD", dict(lr=0.1, weight_decay=-1), "weight_decay"),
    ("SGD", dict(lr=0.1, nesterov=True), "[Nn]esterov"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "[Nn]esterov"),
    ("Adam", dict(lr=-1e-3), "lr"),
    ("Adam", dict(eps=-1.0), "eps"),
    ("Adam", dict(betas=(1.0, 0.999)), "betas"),
    ("Adam", dict(betas=(0.9, -0.1)), "betas"),
    ("Adam", dict(weight_decay=-0.1), "weight_decay"),
    ("AdamW", dict(weight_decay=-0.1), "weight_decay"),
    ("AdamW", dict(lr=-0.1), "lr"),
    ("RMSprop", dict(lr=-0.1), "lr"),
    ("RMSprop", dict(alpha=-0.1), "alpha"),
    ("RMSprop", dict(eps=-0.1), "eps"),
    ("RMSprop", dict(momentum=-0.1), "momentum"),
    ("RMSprop", dict(weight_decay=-0.1), "weight_decay"),
    ("Adagrad", dict(lr=-0.1), "lr"),
    ("Adagrad", dict(lr_decay=-0.1), "lr_decay"),
    ("Adagrad", dict(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    ("Adagrad", dict(eps=-0.1), "eps"),
    ("Adagrad", dict(weight_decay=-0.1), "weight_decay"),
    ("Adadelta", dict(lr=-0.1), "lr"),
    ("Adadelta", dict(rho=1.5), "rho"),
    ("Adadelta", dict(eps=-0.1), "eps"),
    ("Adadelta", dict(weight_decay=-0.1), "weight_decay"),
]


@pytest.mark.parametrize("name,kwargs,arg", BAD, ids=[f"{n}-{a}-{i}" for i, (n, _, a) in enumerate(BAD)])
def test_bad_hyperparameters_raise_value_error_naming_the_argument(name, kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        getattr(optim, name)(_pf_params(_start(shapes=[(2,)])), **kwargs)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "Adadelta"])
def test_nan_learning_rate_is_refused(name):
    with pytest.raises(ValueError, match="lr"):
        getattr(optim, name)(_pf_params(_start(shapes=[(2,)])), lr=float("nan"))


def test_defaults_like_torch():
    p = _pf_params(_start(shapes=[(2,)]))
    assert optim.Adam(p).defaults["lr"] == 1e-3 and optim.Adam(p).defaults["betas"] == (0.9, 0.999)
    assert optim.AdamW(p).defaults["weight_decay"] == 1e-2
    assert optim.RMSprop(p).defaults["alpha"] == 0.99 and optim.RMSprop(p).defaults["lr"] == 1e-2
    assert optim.Adagrad(p).defaults["eps"] == 1e-10
    assert optim.Adadelta(p).defaults["lr"] == 1.0 and optim.Adadelta(p).defaults["rho"] == 0.9


def test_strided_parameter_is_updated():
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    w = pf.nn.Parameter(pf.tensor(base).T)  # a transposed view: not C-contiguous
    opt = optim.Adam([w], lr=0.1)
    w.grad = pf.ones((4, 3))
    opt.step()
    np.testing.assert_allclose(w.numpy(), base.T - 0.1, rtol=1e-6)


def test_gradient_of_another_dtype_is_cast():
    w = pf.nn.Parameter(pf.tensor(np.ones(3, np.float32)))
    w.grad = pf.tensor(np.ones(3, np.float64))
    optim.SGD([w], lr=0.5).step()
    np.testing.assert_allclose(w.numpy(), 0.5)
    assert w.dtype == np.float32


@needs_torch
def test_adagrad_param_group_added_later():
    start = _start()
    params = _pf_params(start)
    tparams = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    opt = optim.Adagrad(params[:2], lr=0.1, initial_accumulator_value=0.2)
    topt = torch.optim.Adagrad(tparams[:2], lr=0.1, initial_accumulator_value=0.2)
    for t in range(6):
        if t == 2:
            opt.add_param_group({"params": params[2:], "lr": 0.05})
            topt.add_param_group({"params": tparams[2:], "lr": 0.05})
            for p in tparams[2:]:  # torch creates Adagrad state in the constructor only
                topt.state[p] = {"step": torch.tensor(0.0), "sum": torch.full_like(p, 0.2)}
        for p, tp, g in zip(params, tparams, _grads(t)):
            p.grad = pf.tensor(g)
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6)

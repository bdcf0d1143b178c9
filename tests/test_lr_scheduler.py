"""Learning-rate schedules: each one's lr sequence (and OneCycleLR's momentum/beta1) against
torch.optim.lr_scheduler step for step, the course's ReduceLROnPlateau case, state dicts and
argument errors."""

import math
import warnings

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import optim
from pyfastnn.optim import lr_scheduler as S

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def _pf_opt(kind="SGD", lrs=(0.1, 0.02), **kw):
    groups = [{"params": [pf.nn.Parameter(pf.zeros(2))], "lr": lr} for lr in lrs]
    return getattr(optim, kind)(groups, **kw)


def _torch_opt(kind="SGD", lrs=(0.1, 0.02), **kw):
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return getattr(torch.optim, kind)(groups, **kw)


def _momentum(group):
    return group["betas"][0] if "betas" in group else group.get("momentum")


def _sequences(make_sched, make_torch_sched, steps, kind="SGD", metrics=None, lrs=(0.1, 0.02), **opt_kw):
    """lr (and momentum) of every group after construction and after each step, both libraries."""
    opt, topt = _pf_opt(kind, lrs, **opt_kw), _torch_opt(kind, lrs, **opt_kw)
    sched, tsched = make_sched(opt), make_torch_sched(topt)
    ours = [([g["lr"] for g in opt.param_groups], [_momentum(g) for g in opt.param_groups])]
    theirs = [([g["lr"] for g in topt.param_groups], [_momentum(g) for g in topt.param_groups])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(steps):
            opt.step()
            topt.step()
            if metrics is None:
                sched.step()
                tsched.step()
            else:
                sched.step(metrics[i])
                tsched.step(metrics[i])
            ours.append(([g["lr"] for g in opt.param_groups], [_momentum(g) for g in opt.param_groups]))
            theirs.append(([g["lr"] for g in topt.param_groups], [_momentum(g) for g in topt.param_groups]))
            np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12, atol=1e-15)
    return ours, theirs


def _assert_same(ours, theirs):
    for i, ((lr, m), (tlr, tm)) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(lr, tlr, rtol=1e-12, atol=1e-15, err_msg=f"lr after step {i}")
        if tm[0] is not None:
            np.testing.assert_allclose(m, tm, rtol=1e-12, atol=1e-15, err_msg=f"momentum after step {i}")


SCHEDULES = [
    ("StepLR", dict(step_size=3)),
    ("StepLR", dict(step_size=2, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=1e-3)),  # past T_max it goes back up
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=4)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.2, total_iters=6)),
    ("ConstantLR", dict(factor=0.5, total_iters=3)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e)),
    ("LambdaLR", dict(lr_lambda=[lambda e: 1 / (1 + e), lambda e: min(1.0, (e + 1) / 5)])),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.9)),
]


@needs_torch
@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)])
def test_schedule_matches_torch(name, kwargs):
    ours, theirs = _sequences(lambda o: getattr(S, name)(o, **kwargs),
                              lambda o: getattr(torch.optim.lr_scheduler, name)(o, **kwargs), 25)
    _assert_same(ours, theirs)


ONECYCLE = [
    dict(max_lr=0.1, total_steps=30),
    dict(max_lr=[0.1, 0.05], epochs=3, steps_per_epoch=10, pct_start=0.25),
    dict(max_lr=0.1, total_steps=30, anneal_strategy="linear"),
    dict(max_lr=0.1, total_steps=30, three_phase=True),
    dict(max_lr=0.1, total_steps=30, three_phase=True, anneal_strategy="linear", div_factor=10,
         final_div_factor=100),
    dict(max_lr=0.1, total_steps=30, cycle_momentum=False),
    dict(max_lr=0.1, total_steps=30, base_momentum=0.8, max_momentum=0.9),
]


@needs_torch
@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("kwargs", ONECYCLE, ids=[str(i) for i in range(len(ONECYCLE))])
def test_one_cycle_lr_and_momentum_match_torch(kwargs, kind):
    opt_kw = dict(momentum=0.9) if kind == "SGD" else {}
    ours, theirs = _sequences(lambda o: S.OneCycleLR(o, **kwargs),
                              lambda o: torch.optim.lr_scheduler.OneCycleLR(o, **kwargs), 30, kind, **opt_kw)
    _assert_same(ours, theirs)
    lrs = [lr[0] for lr, _ in ours]
    peak = kwargs["max_lr"][0] if isinstance(kwargs["max_lr"], list) else kwargs["max_lr"]
    assert max(lrs) == pytest.approx(peak, rel=2e-3) and max(lrs) <= peak


def test_one_cycle_cycles_beta1_of_adam():
    opt = _pf_opt("Adam", betas=(0.9, 0.99))
    sched = S.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=0.5)
    assert opt.param_groups[0]["betas"] == (0.95, 0.99)
    for _ in range(4):
        sched.step()
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.85)
    assert opt.param_groups[0]["betas"][1] == 0.99


def test_one_cycle_errors():
    with pytest.raises(ValueError, match="total_steps"):
        S.OneCycleLR(_pf_opt(momentum=0.9), max_lr=0.1)
    with pytest.raises(ValueError, match="total_steps"):
        S.OneCycleLR(_pf_opt(momentum=0.9), max_lr=0.1, total_steps=0)
    with pytest.raises(ValueError, match="anneal_strategy"):
        S.OneCycleLR(_pf_opt(momentum=0.9), max_lr=0.1, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="momentum"):
        S.OneCycleLR(_pf_opt("Adagrad"), max_lr=0.1, total_steps=5)
    sched = S.OneCycleLR(_pf_opt(momentum=0.9), max_lr=0.1, total_steps=3)
    for _ in range(2):
        sched.step()
    with pytest.raises(ValueError, match="total_steps"):
        for _ in range(2):
            sched.step()


PLATEAU = [
    (dict(), [1.0] * 30),
    (dict(patience=2, factor=0.5), [1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.9]),
    (dict(patience=1, cooldown=2, factor=0.5), [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0]),
    (dict(mode="max", patience=1, factor=0.5), [0.1, 0.2, 0.2, 0.2, 0.3, 0.1, 0.1, 0.1, 0.1]),
    (dict(patience=0, threshold=0.1, threshold_mode="rel"), [1.0, 0.95, 0.89, 0.85, 0.8, 0.7, 0.69]),
    (dict(patience=0, threshold=0.1, threshold_mode="abs"), [1.0, 0.95, 0.89, 0.85, 0.78, 0.7, 0.69]),
    (dict(mode="max", patience=0, threshold=0.1, threshold_mode="abs"), [1.0, 1.05, 1.11, 1.2, 1.35, 1.4]),
    (dict(mode="max", patience=0, threshold=0.1, threshold_mode="rel"), [1.0, 1.05, 1.11, 1.2, 1.35, 1.4]),
    (dict(patience=0, factor=0.5, min_lr=[0.03, 0.001]), [1.0] * 12),
    (dict(patience=0, factor=0.5, min_lr=0.02, eps=0.004), [1.0] * 12),
]


@needs_torch
@pytest.mark.parametrize("kwargs,metrics", PLATEAU, ids=[str(i) for i in range(len(PLATEAU))])
def test_reduce_lr_on_plateau_matches_torch(kwargs, metrics):
    ours, theirs = _sequences(lambda o: S.ReduceLROnPlateau(o, **kwargs),
                              lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kwargs), len(metrics),
                              metrics=metrics)
    _assert_same(ours, theirs)


def test_reduce_lr_on_plateau_course_case():
    """factor=0.5, patience=5, min_lr=1e-4 from 0.01 on a flat metric: 0.005, 0.0025, ...
    each after 6 epochs without improvement, clamped at 1e-4."""
    opt = _pf_opt(lrs=(0.01,))
    sched = S.ReduceLROnPlateau(opt, factor=0.5, patience=5, min_lr=1e-4)
    lrs = []
    for _ in range(80):
        sched.step(1.0)
        lrs.append(opt.param_groups[0]["lr"])
    distinct = [lrs[0]] + [b for a, b in zip(lrs, lrs[1:]) if b != a]
    np.testing.assert_allclose(distinct, [0.01, 0.005, 0.0025, 0.00125, 0.000625, 0.0003125, 0.00015625, 1e-4],
                               rtol=1e-12)
    assert lrs[5] == 0.01 and lrs[6] == 0.005  # epoch 1 sets best, epochs 2..7 are 6 bad epochs > patience 5
    assert lrs[12] == 0.0025
    assert lrs[-1] == 1e-4 and min(lrs) == 1e-4
    assert sched.get_last_lr() == [1e-4]


def test_reduce_lr_on_plateau_improvement_resets_patience():
    opt = _pf_opt(lrs=(0.01,))
    sched = S.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    for m in [1.0, 1.0, 1.0, 0.5, 0.6, 0.6]:  # the improvement at epoch 4 resets the count
        sched.step(m)
    assert opt.param_groups[0]["lr"] == 0.01
    sched.step(0.6)
    assert opt.param_groups[0]["lr"] == 0.005


def test_reduce_lr_on_plateau_errors():
    with pytest.raises(ValueError, match="factor"):
        S.ReduceLROnPlateau(_pf_opt(), factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        S.ReduceLROnPlateau(_pf_opt(), mode="up")
    with pytest.raises(ValueError, match="threshold_mode"):
        S.ReduceLROnPlateau(_pf_opt(), threshold_mode="pct")


def test_linear_lr_errors():
    with pytest.raises(ValueError, match="start_factor"):
        S.LinearLR(_pf_opt(), start_factor=0.0)
    with pytest.raises(ValueError, match="end_factor"):
        S.LinearLR(_pf_opt(), end_factor=1.5)


def test_lambda_lr_needs_one_function_per_group():
    with pytest.raises(ValueError, match="lr_lambda"):
        S.LambdaLR(_pf_opt(), [lambda e: 1.0])


def test_resume_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(_pf_opt(), step_size=2, last_epoch=3)


def test_scheduler_sets_initial_lr_and_base_lrs():
    opt = _pf_opt()
    sched = S.StepLR(opt, step_size=2, gamma=0.5)
    assert sched.base_lrs == [0.1, 0.02]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]
    assert sched.last_epoch == 0 and sched.get_last_lr() == [0.1, 0.02]


def _run(sched, opt, n, metric=None):
    out = []
    for _ in range(n):
        sched.step() if metric is None else sched.step(metric)
        out.append([g["lr"] for g in opt.param_groups])
    return out


@pytest.mark.parametrize("make", [
    lambda o: S.StepLR(o, step_size=3, gamma=0.5),
    lambda o: S.MultiStepLR(o, milestones=[2, 4], gamma=0.1),
    lambda o: S.CosineAnnealingLR(o, T_max=6),
    lambda o: S.LinearLR(o, start_factor=0.2, total_iters=5),
    lambda o: S.LambdaLR(o, lambda e: 0.9 ** e),
    lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=20),
    lambda o: S.ReduceLROnPlateau(o, patience=1, factor=0.5, cooldown=1),
], ids=["StepLR", "MultiStepLR", "Cosine", "LinearLR", "LambdaLR", "OneCycleLR", "ReduceLROnPlateau"])
def test_state_dict_round_trip_through_save_load(tmp_path, make):
    opt = _pf_opt(momentum=0.9)
    sched = make(opt)
    metric = 1.0 if isinstance(sched, S.ReduceLROnPlateau) else None
    _run(sched, opt, 5, metric)
    pf.save({"sched": sched.state_dict(), "opt": opt.state_dict()}, tmp_path / "s.npz")
    want = _run(sched, opt, 8, metric)

    opt2 = _pf_opt(momentum=0.9)
    sched2 = make(opt2)
    state = pf.load(tmp_path / "s.npz")
    opt2.load_state_dict(state["opt"])
    sched2.load_state_dict(state["sched"])
    got = _run(sched2, opt2, 8, metric)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_state_dict_leaves_out_functions():
    sched = S.LambdaLR(_pf_opt(), lambda e: 0.5)
    assert not any(callable(v) or (isinstance(v, list) and v and callable(v[0])) for v in sched.state_dict().values())


def test_epoch_based_training_loop_with_step_lr():
    """The PyTorch pattern: optimizer.step() each batch, scheduler.step() each epoch."""
    w = pf.nn.Parameter(pf.tensor([1.0]))
    opt = optim.SGD([w], lr=0.1)
    sched = S.StepLR(opt, step_size=2, gamma=0.1)
    seen = []
    for epoch in range(5):
        for _ in range(3):
            opt.zero_grad()
            (w * 1.0).sum().backward()
            opt.step()
        seen.append(opt.param_groups[0]["lr"])
        sched.step()
    np.testing.assert_allclose(seen, [0.1, 0.1, 0.01, 0.01, 0.001], rtol=1e-12)
    np.testing.assert_allclose(w.numpy(), [1 - 3 * (0.1 + 0.1 + 0.01 + 0.01 + 0.001)], rtol=1e-6)


def test_cosine_closed_form():
    opt = _pf_opt(lrs=(1.0,))
    sched = S.CosineAnnealingLR(opt, T_max=8, eta_min=0.1)
    for e in range(1, 9):
        sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi * e / 8)) / 2)

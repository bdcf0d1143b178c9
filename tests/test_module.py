"""nn.Module, Parameter and the containers: registration, traversal order and names,
modes, zero_grad, state_dict / load_state_dict (with real PyTorch state dicts), apply,
to(dtype), requires_grad_, hooks, repr, Sequential / ModuleList / ModuleDict / ParameterList.

The models here use only Linear, Flatten and Identity (other layers arrive separately).
"""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import nn

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")


def build(lib):
    """The same model in pyfastnn (lib=pf) and PyTorch (lib=torch)."""
    N = lib.nn

    class Block(N.Module):
        def __init__(self):
            super().__init__()
            self.scale = N.Parameter(lib.ones(3))
            self.inner = N.Linear(3, 3)
            self.register_buffer("running_mean", lib.zeros(3))
            self.register_buffer("scratch", lib.zeros(1), persistent=False)

        def forward(self, x):
            return self.inner(x) * self.scale + self.running_mean

    class Net(N.Module):
        def __init__(self):
            super().__init__()
            self.flatten = N.Flatten()
            self.fc1 = N.Linear(4, 3)
            self.block = Block()
            self.head = N.Sequential(N.Linear(3, 3), N.Identity(), N.Linear(3, 2, bias=False))
            self.extra = N.ModuleList([N.Linear(2, 2), N.Linear(2, 2)])
            self.table = N.ModuleDict({"b": N.Linear(2, 1), "a": N.Identity()})

        def forward(self, x):
            h = self.head(self.block(self.fc1(self.flatten(x))))
            for m in self.extra:
                h = m(h)
            return self.table["b"](h)

    return Net()


# ---------------------------------------------------------------- registration and traversal
@needs_torch
def test_traversal_order_and_names_match_torch():
    ours, theirs = build(pf), build(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [type(m).__name__ for m in ours.children()] == [type(m).__name__ for m in theirs.children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == [n for n, _ in theirs.named_parameters(recurse=False)]
    assert [n for n, _ in ours.block.named_parameters(prefix="x")] == [
        n for n, _ in theirs.block.named_parameters(prefix="x")
    ]


def test_registration_via_attributes():
    m = nn.Module()
    m.w = nn.Parameter(pf.ones(2))
    m.sub = nn.Linear(2, 2)
    m.register_buffer("buf", pf.zeros(2))
    m.plain = pf.zeros(2)  # a plain tensor attribute is neither parameter nor buffer
    m.n = 3
    assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    assert [n for n, _ in m.named_buffers()] == ["buf"]
    assert list(m.state_dict()) == ["w", "buf", "sub.weight", "sub.bias"]
    assert m.w.requires_grad and isinstance(m.w, pf.Tensor)
    assert "w" in dir(m) and "sub" in dir(m)
    # re-assigning a parameter slot: Parameter or None only
    with pytest.raises(TypeError):
        m.w = pf.ones(2)
    m.w = None
    assert [n for n, _ in m.named_parameters()] == ["sub.weight", "sub.bias"]
    with pytest.raises(TypeError):
        m.sub = 3
    m.buf = pf.ones(2)  # buffers can be replaced by tensors
    np.testing.assert_array_equal(m.state_dict()["buf"].numpy(), [1, 1])
    del m.sub
    assert not hasattr(m, "sub") and [n for n, _ in m.named_modules()] == [""]
    with pytest.raises(AttributeError):
        m.missing  # noqa: B018
    with pytest.raises(KeyError):
        m.add_module("a.b", nn.Identity())
    with pytest.raises(TypeError):
        m.add_module("x", 3)
    with pytest.raises(TypeError):
        m.register_parameter("p", pf.ones(2))


def test_assignment_before_init_is_an_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(pf.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_shared_parameters_and_modules_counted_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in seq.named_modules()] == ["", "0"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]  # state_dict keeps both
    if torch is not None:
        tl = torch.nn.Linear(2, 2)
        ts = torch.nn.Sequential(tl, tl)
        assert [n for n, _ in seq.named_parameters()] == [n for n, _ in ts.named_parameters()]
        assert list(seq.state_dict()) == list(ts.state_dict())


def test_parameter():
    p = nn.Parameter(pf.tensor([1.0, 2.0]))
    assert isinstance(p, pf.Tensor) and p.requires_grad and p.is_leaf
    q = nn.Parameter(pf.tensor([1.0]), requires_grad=False)
    assert not q.requires_grad
    t = pf.tensor([1.0, 2.0])
    assert np.shares_memory(nn.Parameter(t).numpy(), t.numpy())  # shares, like torch
    assert nn.Parameter().shape == (0,)
    assert (p * 2).__class__ is pf.Tensor  # results of ops are plain tensors


# ---------------------------------------------------------------- modes, grads, apply, to
def test_train_eval_propagate():
    m = build(pf)
    assert m.training and all(c.training for c in m.modules())
    assert m.eval() is m
    assert not m.training and not any(c.training for c in m.modules())
    m.train()
    assert all(c.training for c in m.modules())
    m.head.train(False)
    assert m.training and not m.head[0].training and m.fc1.training
    with pytest.raises(ValueError):
        m.train("yes")


def _backward_once(m):
    out = m(pf.randn(5, 2, 2))
    out.sum().backward()


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    m = build(pf)
    _backward_once(m)
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=set_to_none)
    for p in m.parameters():
        if set_to_none:
            assert p.grad is None
        else:
            assert p.grad is not None and not p.grad.numpy().any()
    _backward_once(m)
    assert all(p.grad.numpy().any() for p in m.parameters())
    m.zero_grad()  # default: set to None, like PyTorch 2
    assert all(p.grad is None for p in m.parameters())


def test_apply_visits_children_first():
    m = build(pf)
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen[-1] == "Net" and seen.count("Linear") == 7
    if torch is not None:
        tseen = []
        build(torch).apply(lambda mod: tseen.append(type(mod).__name__))
        assert seen == tseen

    def init(mod):
        if isinstance(mod, nn.Linear):
            nn.init.constant_(mod.weight, 0.5)

    m.apply(init)
    assert all((mod.weight.numpy() == 0.5).all() for mod in m.modules() if isinstance(mod, nn.Linear))


def test_to_dtype_and_back():
    m = build(pf)
    _backward_once(m)
    assert m.double() is m
    assert all(p.dtype == np.float64 for p in m.parameters())
    assert all(b.dtype == np.float64 for b in m.buffers())
    assert all(p.grad.dtype == np.float64 for p in m.parameters())
    assert all(isinstance(p, nn.Parameter) and p.is_leaf and p.requires_grad for p in m.parameters())
    out = m(pf.randn(2, 2, 2, dtype=pf.float64))
    assert out.dtype == np.float64
    m.to(pf.float32)
    assert all(p.dtype == np.float32 for p in m.parameters())
    m.float()
    assert m.to("cpu") is m


def test_requires_grad_():
    m = build(pf)
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    out = m(pf.randn(2, 2, 2))
    assert not out.requires_grad
    m.fc1.requires_grad_()
    assert [n for n, p in m.named_parameters() if p.requires_grad] == ["fc1.weight", "fc1.bias"]


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda mod, args: calls.append(("pre", args[0].shape)))
    h2 = lin.register_forward_hook(lambda mod, args, out: calls.append(("post", out.shape)))
    lin(pf.ones(3, 2))
    assert calls == [("pre", (3, 2)), ("post", (3, 2))]
    h1.remove()
    h2.remove()
    lin(pf.ones(1, 2))
    assert len(calls) == 2
    lin.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))  # replaces the input
    h = lin.register_forward_hook(lambda mod, args, out: out + 1)  # replaces the output
    np.testing.assert_allclose(lin(pf.ones(1, 2)).numpy(), lin.bias.numpy()[None] + 1, rtol=1e-6)
    h.remove()


def test_forward_not_implemented():
    with pytest.raises(NotImplementedError):
        nn.Module()(pf.ones(1))


def test_deepcopy_and_pickle_of_a_model():
    m = build(pf)
    m2 = copy.deepcopy(m)
    for (n1, p1), (n2, p2) in zip(m.named_parameters(), m2.named_parameters()):
        assert n1 == n2 and isinstance(p2, nn.Parameter) and p2.requires_grad
        assert not np.shares_memory(p1.numpy(), p2.numpy())
        np.testing.assert_array_equal(p1.numpy(), p2.numpy())
    m3 = pickle.loads(pickle.dumps(m.head))
    np.testing.assert_array_equal(m3[0].weight.numpy(), m.head[0].weight.numpy())


# ---------------------------------------------------------------- state_dict
def test_state_dict_values_are_detached_and_share_memory():
    m = build(pf)
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    w = sd["fc1.weight"]
    assert not w.requires_grad and np.shares_memory(w.numpy(), m.fc1.weight.numpy())
    assert "block.scratch" not in sd and "block.running_mean" in sd
    assert m.state_dict(keep_vars=True)["fc1.weight"] is m.fc1.weight


def test_load_state_dict_round_trip():
    a, b = build(pf), build(pf)
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (_, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())
        assert not np.shares_memory(pa.numpy(), pb.numpy())  # copied into b's own arrays
    before = b.fc1.weight
    b.load_state_dict({k: v.numpy() * 2 for k, v in a.state_dict().items()})  # numpy values too
    assert b.fc1.weight is before  # loaded in place
    np.testing.assert_allclose(b.fc1.weight.numpy(), 2 * a.fc1.weight.numpy())


def test_load_state_dict_strict_and_errors():
    lin = nn.Linear(2, 3)
    good = {"weight": pf.zeros(3, 2), "bias": pf.zeros(3)}
    with pytest.raises(RuntimeError) as err:
        lin.load_state_dict({"weight": pf.zeros(3, 2), "extra": pf.zeros(1)})
    msg = str(err.value)
    assert msg.startswith("Error(s) in loading state_dict for Linear:")
    assert 'Missing key(s) in state_dict: "bias".' in msg and 'Unexpected key(s) in state_dict: "extra".' in msg
    assert msg.index("Missing") < msg.index("Unexpected")  # PyTorch's order
    res = lin.load_state_dict({"weight": pf.ones(3, 2), "extra": pf.zeros(1)}, strict=False)
    assert res.missing_keys == ["bias"] and res.unexpected_keys == ["extra"]
    assert (lin.weight.numpy() == 1).all()
    with pytest.raises(RuntimeError) as err:
        lin.load_state_dict({"weight": pf.zeros(2, 2), "bias": pf.zeros(3)})
    assert ("size mismatch for weight: copying a param with shape (2, 2) from checkpoint, the shape in current "
            "model is (3, 2).") in str(err.value)
    with pytest.raises(RuntimeError, match="size mismatch"):
        lin.load_state_dict({"weight": pf.zeros(2, 2), "bias": pf.zeros(3)}, strict=False)
    lin.load_state_dict(good)
    assert not lin.weight.numpy().any()


@needs_torch
def test_torch_error_messages_for_comparison():
    """Our messages carry PyTorch's wording (shapes print as tuples instead of torch.Size)."""
    lin = torch.nn.Linear(2, 3)
    with pytest.raises(RuntimeError) as err:
        lin.load_state_dict({"weight": torch.zeros(3, 2), "extra": torch.zeros(1)})
    theirs = str(err.value)
    ours_lin = nn.Linear(2, 3)
    with pytest.raises(RuntimeError) as err:
        ours_lin.load_state_dict({"weight": pf.zeros(3, 2), "extra": pf.zeros(1)})
    assert [line.strip() for line in str(err.value).split("\n")] == [line.strip() for line in theirs.split("\n")]


@needs_torch
def test_load_a_real_torch_state_dict_and_match_outputs_and_gradients():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(12, 8), torch.nn.Identity(), torch.nn.Linear(8, 5), torch.nn.Linear(5, 3)
    )
    ours = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Identity(), nn.Linear(8, 5), nn.Linear(5, 3))
    assert list(ours.state_dict()) == list(tm.state_dict())
    result = ours.load_state_dict(tm.state_dict())  # torch tensors load as they are
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = np.random.default_rng(0).standard_normal((4, 3, 4)).astype(np.float32)
    out, tout = ours(pf.tensor(x)), tm(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    tout.sum().backward()
    for (name, p), (tname, tp) in zip(ours.named_parameters(), tm.named_parameters()):
        assert name == tname
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6)
    # and back: our state dict loads into torch
    tm2 = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(12, 8), torch.nn.Identity(), torch.nn.Linear(8, 5), torch.nn.Linear(5, 3)
    )
    tm2.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    np.testing.assert_allclose(tm2(torch.tensor(x)).detach().numpy(), out.numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- repr
def test_repr_of_a_custom_model_like_the_course():
    class CustomModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(64, 128)
            self.fc2 = nn.Linear(128, 64)
            self.fc3 = nn.Linear(64, 10, bias=False)

        def forward(self, x):
            return self.fc3(self.fc2(self.fc1(x)))

    want = (
        "CustomModel(\n"
        "  (fc1): Linear(in_features=64, out_features=128, bias=True)\n"
        "  (fc2): Linear(in_features=128, out_features=64, bias=True)\n"
        "  (fc3): Linear(in_features=64, out_features=10, bias=False)\n"
        ")"
    )
    assert repr(CustomModel()) == want
    assert str(CustomModel()) == want


@needs_torch
def test_repr_matches_torch():
    assert repr(build(pf)) == repr(build(torch))
    for make in (
        lambda N: N.Sequential(),
        lambda N: N.Linear(3, 4),
        lambda N: N.Identity(),
        lambda N: N.Flatten(),
        lambda N: N.ModuleList(),
        lambda N: N.ModuleList([N.Linear(2, 2), N.Linear(2, 2), N.Linear(2, 3), N.Linear(2, 2)]),
        lambda N: N.Sequential(OrderedDict(first=N.Linear(1, 2), second=N.Sequential(N.Linear(2, 2)))),
        lambda N: N.ModuleDict({"x": N.Linear(1, 1)}),
    ):
        assert repr(make(nn)) == repr(make(torch.nn))


def test_repr_with_extra_repr_and_children():
    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(1, 1)

        def extra_repr(self):
            return "k=3"

    assert repr(WithExtra()) == "WithExtra(\n  k=3\n  (lin): Linear(in_features=1, out_features=1, bias=True)\n)"


def test_parameter_list_repr():
    pl = nn.ParameterList([nn.Parameter(pf.ones(2)), pf.zeros(2, 3)])
    assert repr(pl) == (
        "ParameterList(\n"
        "    (0): Parameter containing: [float32 of size 2]\n"
        "    (1): Parameter containing: [float32 of size 2x3]\n"
        ")"
    )


# ---------------------------------------------------------------- containers
def _lins(*sizes):
    return [nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]


def test_sequential_construction_forms_and_forward():
    a, b = _lins(4, 3, 2)
    for seq in (nn.Sequential(a, b), nn.Sequential([a, b]), nn.Sequential((a, b))):
        assert len(seq) == 2 and seq[0] is a and seq[1] is b and seq[-1] is b
        assert list(seq) == [a, b]
        x = pf.randn(5, 4)
        np.testing.assert_allclose(seq(x).numpy(), b(a(x)).numpy(), rtol=1e-6)
    named = nn.Sequential(OrderedDict(first=a, second=b))
    assert named.first is a and list(dict(named.named_children())) == ["first", "second"]
    k = nn.Sequential()
    assert k.add(a) is k
    k.add(b)
    assert list(k) == [a, b] and list(dict(k.named_children())) == ["0", "1"]
    x = pf.randn(1, 4)
    np.testing.assert_array_equal(nn.Sequential()(x).numpy(), x.numpy())  # empty: identity


def test_sequential_indexing_slicing_insert_delete():
    mods = _lins(1, 2, 3, 4, 5)
    seq = nn.Sequential(*mods)
    sub = seq[1:3]
    assert isinstance(sub, nn.Sequential) and list(sub) == mods[1:3]
    assert list(dict(sub.named_children())) == ["1", "2"]  # PyTorch keeps the keys of a slice
    assert list(seq[::-1]) == mods[::-1]
    with pytest.raises(IndexError):
        seq[10]
    new = nn.Identity()
    seq[2] = new
    assert seq[2] is new
    seq.insert(1, nn.Flatten())
    assert isinstance(seq[1], nn.Flatten) and len(seq) == 5
    assert list(dict(seq.named_children())) == ["0", "1", "2", "3", "4"]
    del seq[1]
    assert list(seq) == [mods[0], mods[1], new, mods[3]]
    del seq[-1]
    del seq[0:2]
    assert list(seq) == [new] and list(dict(seq.named_children())) == ["0"]
    seq.append(mods[0]).extend([mods[1]])
    assert len(seq) == 3
    if torch is not None:
        ts = torch.nn.Sequential(*[torch.nn.Linear(1, 1) for _ in range(4)])
        del ts[1]
        ours = nn.Sequential(*[nn.Linear(1, 1) for _ in range(4)])
        del ours[1]
        assert list(dict(ts.named_children())) == list(dict(ours.named_children()))


def test_module_list():
    mods = _lins(1, 2, 3, 4)
    ml = nn.ModuleList(mods[:2])
    ml.append(mods[2])
    assert len(ml) == 3 and list(ml) == mods and ml[-1] is mods[2]
    ml.extend([nn.Identity()])
    ml += [nn.Flatten()]
    assert len(ml) == 5
    ml.insert(0, nn.Identity())
    assert isinstance(ml[0], nn.Identity) and ml[1] is mods[0]
    assert isinstance(ml[1:3], nn.ModuleList) and list(ml[1:3]) == mods[:2]
    del ml[0]
    assert ml[0] is mods[0] and list(dict(ml.named_children()))[:2] == ["0", "1"]
    ml[0] = nn.Identity()
    assert isinstance(ml[0], nn.Identity)
    assert [n for n, _ in ml.named_parameters()][:2] == ["1.weight", "1.bias"]
    holder = nn.Module()
    holder.layers = ml
    assert "layers.1.weight" in holder.state_dict()


def test_module_dict():
    a, b = _lins(1, 2, 3)
    md = nn.ModuleDict({"a": a})
    md["b"] = b
    md.update({"c": nn.Identity()})
    assert list(md) == ["a", "b", "c"] and list(md.keys()) == ["a", "b", "c"]
    assert md["a"] is a and "b" in md and "z" not in md and len(md) == 3
    assert list(md.values())[1] is b and list(md.items())[0] == ("a", a)
    assert md.pop("c").__class__ is nn.Identity and len(md) == 2
    del md["a"]
    assert list(md) == ["b"]
    assert [n for n, _ in md.named_parameters()] == ["b.weight", "b.bias"]
    md2 = nn.ModuleDict([("x", nn.Identity()), ("y", nn.Identity())])
    assert list(md2) == ["x", "y"]


def test_parameter_list():
    pl = nn.ParameterList([nn.Parameter(pf.ones(2)), pf.zeros(3)])
    assert len(pl) == 2 and all(isinstance(p, nn.Parameter) for p in pl)
    pl.append(pf.ones(1))
    pl.extend([pf.ones(4)])
    assert len(pl) == 4 and pl[-1].shape == (4,)
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2", "3"]
    holder = nn.Module()
    holder.params = pl
    assert list(holder.state_dict()) == ["params.0", "params.1", "params.2", "params.3"]
    if torch is not None:
        tpl = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)), torch.zeros(3)])
        assert [n for n, _ in tpl.named_parameters()] == ["0", "1"]

"""Autograd semantics: accumulation, retain_graph, errors, grad modes, detach, retain_grad,
autograd.grad, branching graphs without aliased gradients, deep graphs, custom Functions
and gradcheck itself."""

import sys
import threading

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn.autograd import Function, gradcheck
from pyfastnn.autograd.gradcheck import GradcheckError

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")

TORCH_SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if "
    "you need to access saved tensors after calling backward."
)


# ---------------------------------------------------------------- accumulation and retain_graph
def test_gradients_accumulate_across_backward_calls():
    x = pf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5, 7, 9])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3, 3])


def test_retain_graph_allows_a_second_backward():
    x = pf.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6, 24])


def test_second_backward_through_freed_graph_raises_torchs_message():
    x = pf.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError) as err:
        y.backward()
    assert str(err.value) == TORCH_SECOND_BACKWARD
    if torch is not None:
        tx = torch.tensor([1.0, 2.0], requires_grad=True)
        ty = (tx * tx).sum()
        ty.backward()
        with pytest.raises(RuntimeError) as terr:
            ty.backward()
        assert str(terr.value) == TORCH_SECOND_BACKWARD


def test_backward_errors():
    x = pf.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        pf.tensor([1.0, 2.0]).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        with pf.no_grad():
            y = (x * 2).sum()
        y.backward()
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(pf.ones(3))


def test_backward_with_explicit_gradient():
    x = pf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    g = np.array([1.0, 0.5, -1.0], np.float32)
    (x * x).backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.numpy() * g)
    assert not np.shares_memory(x.grad.numpy(), g)
    x.grad = None
    (x * 1).backward(pf.tensor(g))
    x.grad.data += 1  # the caller's gradient is not aliased
    np.testing.assert_array_equal(g, [1.0, 0.5, -1.0])
    x.grad = None
    x.backward(pf.tensor(g))  # backward of a leaf itself
    np.testing.assert_array_equal(x.grad.numpy(), g)
    x.grad.data[0] = 100
    assert g[0] == 1


def test_integer_tensors_get_no_gradient():
    with pytest.raises(RuntimeError, match="floating point"):
        pf.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        pf.nn.Parameter(pf.tensor([1, 2]))
    x = pf.tensor([1.5, -2.0], requires_grad=True)
    idx = x.argmax()
    assert not idx.requires_grad and idx.grad_fn is None
    assert not x.long().requires_grad  # a cast to integers leaves the graph
    assert not (x > 0).requires_grad


# ---------------------------------------------------------------- grad modes
def test_no_grad_enable_grad_set_grad_enabled():
    x = pf.tensor([1.0], requires_grad=True)
    assert pf.is_grad_enabled()
    with pf.no_grad():
        assert not pf.is_grad_enabled()
        y = x * 2
        with pf.enable_grad():
            assert pf.is_grad_enabled()
            z = x * 2
        assert not pf.is_grad_enabled()
    assert pf.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and z.requires_grad
    with pf.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert pf.is_grad_enabled()
    pf.set_grad_enabled(False)  # plain call
    assert not pf.is_grad_enabled()
    pf.set_grad_enabled(True)
    assert pf.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with pf.no_grad():
            raise ValueError
    assert pf.is_grad_enabled()


def test_grad_modes_as_decorators():
    @pf.no_grad()
    def f():
        return pf.is_grad_enabled()

    @pf.no_grad
    def g():
        return pf.is_grad_enabled()

    @pf.set_grad_enabled(False)
    def h():
        return pf.is_grad_enabled()

    assert pf.is_grad_enabled()  # decorating does not switch the mode
    assert f() is False and g() is False and h() is False
    assert pf.is_grad_enabled()
    assert f.__name__ == "f" and g.__name__ == "g" and h.__name__ == "h"

    @pf.enable_grad()
    def e():
        return pf.is_grad_enabled()

    with pf.no_grad():
        assert e() is True
        assert not pf.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = {}

    def worker():
        seen["enabled"] = pf.is_grad_enabled()
        x = pf.tensor([1.0], requires_grad=True)
        seen["requires_grad"] = (x * 2).requires_grad

    with pf.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert not pf.is_grad_enabled()
    assert seen == {"enabled": True, "requires_grad": True}


# ---------------------------------------------------------------- detach, requires_grad_, retain_grad
def test_detach_cuts_the_graph():
    x = pf.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and np.shares_memory(d.numpy(), y.numpy())
    (y * d).sum().backward()  # d is a constant
    np.testing.assert_array_equal(x.grad.numpy(), 2 * d.numpy())
    z = x * 3
    z.detach_()
    assert z.is_leaf and not z.requires_grad


def test_requires_grad_flags():
    x = pf.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    y = pf.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_retain_grad_on_non_leaf():
    x = pf.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    z = y * y
    y.retain_grad()  # after y was used: still works, as in PyTorch
    assert y.retains_grad and not x.retains_grad
    w = z.sum()
    w.retain_grad()
    w.backward()
    np.testing.assert_array_equal(y.grad.numpy(), 2 * y.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), 18 * x.numpy())
    assert w.grad.item() == 1.0
    assert y.grad_fn.name().startswith("Mul") and not y.is_leaf
    u = x * 2  # not retained: no .grad
    u.sum().backward()
    assert u.grad is None
    with pytest.raises(RuntimeError):
        pf.tensor([1.0]).retain_grad()


@needs_torch
def test_retain_grad_matches_torch_across_two_backward_calls():
    a = np.array([0.5, -1.0, 2.0], np.float32)
    x, tx = pf.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    res = []
    for lib, t in ((pf, x), (torch, tx)):
        h = t.exp()
        h.retain_grad()
        out = (h * h).sum()
        out.backward(retain_graph=True)
        out.backward()
        res.append((h.grad.numpy(), t.grad.numpy()))
    for mine, theirs in zip(*res):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)


# ---------------------------------------------------------------- autograd.grad
def test_autograd_grad():
    x = pf.tensor([1.0, 2.0], requires_grad=True)
    y = pf.tensor([3.0, 4.0], requires_grad=True)
    z = (x * x * y).sum()
    gx, gy = pf.autograd.grad(z, [x, y], retain_graph=True)
    np.testing.assert_array_equal(gx.numpy(), 2 * x.numpy() * y.numpy())
    np.testing.assert_array_equal(gy.numpy(), x.numpy() ** 2)
    assert x.grad is None and y.grad is None  # .grad untouched
    (gx2,) = pf.autograd.grad(z, x)
    np.testing.assert_array_equal(gx2.numpy(), gx.numpy())


def test_autograd_grad_allow_unused_and_non_leaf_inputs():
    x = pf.tensor([1.0, 2.0], requires_grad=True)
    unused = pf.tensor([5.0], requires_grad=True)
    h = x * 2
    out = (h * h).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        pf.autograd.grad(out, [x, unused], retain_graph=True)
    gx, gu = pf.autograd.grad(out, [x, unused], allow_unused=True, retain_graph=True)
    assert gu is None
    np.testing.assert_array_equal(gx.numpy(), 8 * x.numpy())
    (gh,) = pf.autograd.grad(out, h)  # gradient with respect to an intermediate tensor
    np.testing.assert_array_equal(gh.numpy(), 2 * h.numpy())


def test_autograd_grad_with_grad_outputs_and_several_outputs():
    x = pf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a, b = x * 2, x * x
    (g,) = pf.autograd.grad([a, b], x, grad_outputs=[pf.ones(3), pf.tensor([1.0, 0.0, 2.0])])
    np.testing.assert_array_equal(g.numpy(), 2 + 2 * x.numpy() * np.array([1, 0, 2]))
    with pytest.raises(RuntimeError):
        pf.autograd.grad(pf.tensor([1.0]).sum(), x)


# ---------------------------------------------------------------- branching graphs and aliasing
def test_one_tensor_feeding_two_branches():
    x = pf.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = x.exp()
    (a + b).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 + np.exp(x.numpy()), rtol=1e-6)


def test_diamond_graph_matches_torch():
    def f(lib, x):
        h = x * 2
        left = h.exp()
        right = h * h
        return (left * right + h).sum()

    a = np.array([0.1, -0.3, 0.7])
    x = pf.tensor(a, requires_grad=True)
    f(pf, x).backward()
    assert gradcheck(lambda t: f(pf, t), [pf.tensor(a, requires_grad=True)])
    if torch is not None:
        tx = torch.tensor(a, requires_grad=True)
        f(torch, tx).backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: (a + b).reshape(-1),
        lambda a, b: pf.cat([a, b]),
        lambda a, b: pf.stack([a, b]).sum(0),
        lambda a, b: a.clone() + b.clone(),
        lambda a, b: a + b + a,
        lambda a, b: (a + b).sum(),
        lambda a, b: (a + b).mean(),
        lambda a, b: (a.T + b.T).T,
    ],
)
def test_leaves_never_share_gradient_memory(make):
    a = pf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = pf.tensor([4.0, 5.0, 6.0], requires_grad=True)
    out = make(a, b)
    out.backward(pf.ones(*out.shape))
    ga, gb = a.grad.numpy(), b.grad.numpy()
    assert not np.shares_memory(ga, gb)
    assert not np.shares_memory(ga, out.numpy()) and not np.shares_memory(gb, out.numpy())
    assert ga.flags.writeable and gb.flags.writeable
    before = gb.copy()
    with pf.no_grad():
        a.grad.mul_(10)  # an optimizer updating one gradient in place
        a.grad.data += 1
    np.testing.assert_array_equal(b.grad.numpy(), before)
    # a later backward accumulates into each separately
    make(a, b).backward(pf.ones(*out.shape))
    np.testing.assert_array_equal(b.grad.numpy(), 2 * before)


def test_gradient_reused_by_the_caller_is_not_aliased():
    x = pf.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    g = pf.tensor([1.0, 1.0])
    h.backward(g, retain_graph=True)
    h.backward(g)  # accumulation must not write into g
    np.testing.assert_array_equal(g.numpy(), [1, 1])
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2])


# ---------------------------------------------------------------- deep graphs
def test_long_chain_does_not_hit_the_recursion_limit():
    n = max(10000, sys.getrecursionlimit() * 3)
    x = pf.tensor([1.0, -2.0], requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0 + 0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1])
    del y  # freeing a deep graph must not recurse either
    z = x
    for _ in range(n):
        z = z + 1
    del z


# ---------------------------------------------------------------- custom Functions and gradcheck
class Cube(Function):
    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, g):
        return 3 * self.x**2 * g


class WrongCube(Cube):
    def backward(self, g):
        return 2 * self.x**2 * g  # deliberately wrong


class ScaleBy(Function):
    """A non-tensor positional argument gets None as its gradient."""

    def forward(self, x, k):
        self.k = k
        return x * k

    def backward(self, g):
        return g * self.k, None


class SplitHalves(Function):
    """Two outputs; the backward sees zeros for the one that got no gradient."""

    def forward(self, x):
        n = x.shape[0] // 2
        return x[:n].copy(), x[n:].copy()

    def backward(self, g1, g2):
        return np.concatenate([g1, g2])


def test_custom_function():
    x = pf.tensor([1.0, 2.0], dtype=pf.float64, requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 12])
    assert gradcheck(Cube.apply, [pf.tensor([0.5, -1.5, 2.0], dtype=pf.float64, requires_grad=True)])
    assert gradcheck(lambda t: ScaleBy.apply(t, 2.5), [pf.randn(3, dtype=pf.float64, requires_grad=True)])
    z = pf.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = SplitHalves.apply(z)
    (a * 2).sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [2, 2, 0, 0])
    assert gradcheck(SplitHalves.apply, [pf.randn(4, dtype=pf.float64, requires_grad=True)])
    # without gradients nothing is recorded
    w = Cube.apply(pf.tensor([2.0]))
    assert w.grad_fn is None and not w.requires_grad


class Blocked(Function):
    """Passes values, no gradient (backward returns None for a tensor that wants one)."""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return None


def test_nodes_that_receive_no_gradient():
    x = pf.tensor([1.0, 2.0], requires_grad=True)
    y = pf.tensor([3.0, 4.0], requires_grad=True)
    h = x * 2  # reaches the output only through Blocked: gets no gradient at all
    out = (Blocked.apply(h) * y).sum()
    out.backward()
    assert x.grad is None
    np.testing.assert_array_equal(y.grad.numpy(), [2, 4])
    gx, gy = pf.autograd.grad((Blocked.apply(x * 2) * y).sum(), [x, y], allow_unused=True)
    assert gx is None
    np.testing.assert_array_equal(gy.numpy(), [2, 4])


def test_autograd_grad_through_two_outputs_of_one_node():
    x = pf.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = SplitHalves.apply(x)
    (g,) = pf.autograd.grad([a, b], x, grad_outputs=[pf.tensor([1.0, 2.0]), pf.tensor([3.0, 4.0])])
    np.testing.assert_array_equal(g.numpy(), [1, 2, 3, 4])
    a, b = SplitHalves.apply(x)
    (g,) = pf.autograd.grad([a, b], x, grad_outputs=[pf.ones(2), pf.zeros(2)])
    np.testing.assert_array_equal(g.numpy(), [1, 1, 0, 0])


def test_gradcheck_detects_a_wrong_backward():
    x = pf.tensor([0.5, -1.5, 2.0], dtype=pf.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(WrongCube.apply, [x])
    assert gradcheck(WrongCube.apply, [x], raise_exception=False) is False
    assert issubclass(GradcheckError, RuntimeError)


def test_gradcheck_input_checks():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(Cube.apply, [pf.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError):
        gradcheck(Cube.apply, [pf.tensor([1.0], dtype=pf.float64)])


def test_function_returning_wrong_number_of_gradients_is_reported():
    class Bad(Function):
        def forward(self, x, y):
            return x + y

        def backward(self, g):
            return g

    x = pf.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="expected 2"):
        Bad.apply(x, x).sum().backward()

"""Reverse-mode traversal of the graph built by Function.apply."""

import numpy as np

from .function import AccumulateGrad
from .grad_mode import _state as _grad_state

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after calling backward."
)


def _root(a):
    """The array that owns a's memory (views point to their base)."""
    while getattr(a, "base", None) is not None:
        a = a.base
    return a


class _Delivery:
    """Hands gradient arrays to their destinations so that no two destinations share
    memory: an array (or a view of it) held by one destination goes to a second one as a
    copy. A node's incoming gradients are released once its backward has run, so an
    identity-like backward passes its gradient on without copying."""

    __slots__ = ("owners", "foreign")

    def __init__(self, foreign=()):
        self.owners = set()
        # arrays the caller keeps (a gradient passed to backward): they may travel through
        # the graph, but a leaf's .grad gets a copy (it is accumulated into in place later)
        self.foreign = {id(_root(a)) for a in foreign if a is not None}

    def __call__(self, g):
        key = id(_root(g))
        if key in self.owners:
            return g.copy()
        self.owners.add(key)
        return g

    def release(self, grads):
        for g in grads:
            if g is not None:
                self.owners.discard(id(_root(g)))


def _dependencies(roots):
    """Number of graph edges into each node reachable from the roots."""
    deps = {}
    stack = list(dict.fromkeys(roots))  # two outputs of one node are one root
    seen = set(stack)
    while stack:
        node = stack.pop()
        for edge in node.next:
            if edge is None:
                continue
            nxt = edge[0]
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return deps


def run_backward(roots, root_grads, retain_graph=False, capture=None, grads_are_ours=False):
    """Propagate root_grads (arrays) from roots ((node, output_index) pairs) to the leaves.
    grads_are_ours: the root gradients were made for this call (not the caller's arrays).

    With capture (a dict {(node, output_index): None}), the gradients reaching those edges
    are stored there instead of being accumulated into leaves' .grad (autograd.grad).
    """
    nodes = [n for n, _ in roots]
    deps = _dependencies(nodes)
    deliver = _Delivery(() if grads_are_ours else root_grads)
    buffers = {}
    for (node, idx), g in zip(roots, root_grads):
        _add(buffers, node, idx, g, deliver)
    ready = [n for n in dict.fromkeys(nodes) if deps.get(n, 0) == 0]

    was_enabled = _grad_state.enabled  # backward itself records nothing (no_grad, inlined)
    _grad_state.enabled = False
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None)
            if grads is None:
                grads = [None] * node.n_outputs
            if capture is not None:
                for i, g in enumerate(grads):
                    if (node, i) in capture:
                        capture[(node, i)] = g if capture[(node, i)] is None else capture[(node, i)] + g
            elif node._retained:
                _store_retained(node, grads)
            if type(node) is AccumulateGrad:
                if capture is None and grads[0] is not None:
                    g = grads[0]
                    if deliver.foreign and id(_root(g)) in deliver.foreign:
                        g = g.copy()
                    _accumulate(node.variable, g)
            else:
                _call(node, grads, retain_graph, buffers, deliver)
            for edge in node.next:
                if edge is None:
                    continue
                nxt = edge[0]
                left = deps[nxt] - 1
                deps[nxt] = left
                if left == 0:
                    ready.append(nxt)
    finally:
        _grad_state.enabled = was_enabled


def _store_retained(node, grads):
    """.grad of the non-leaf outputs of node that asked for it (Tensor.retain_grad)."""
    from ..tensor import Tensor

    for i, ref in node._retained.items():
        t, g = ref(), grads[i]
        if t is None or g is None:
            continue
        if t.grad is None:
            t.grad = Tensor._wrap(g.astype(t.dtype, order="C", copy=True))
        else:
            t.grad = Tensor._wrap((t.grad.data + g).astype(t.dtype, copy=False))


def _call(node, grads, retain_graph, buffers, deliver):
    if node._freed:
        raise RuntimeError(SECOND_BACKWARD)
    # A gradient gets its output's dtype (an op mixing dtypes may have promoted it); a node
    # that no gradient reached passes nothing on.
    if len(grads) == 1:
        g = grads[0]
        if g is None:
            return _skip(node, retain_graph)
        dt = node.out_dtype
        if dt is not None and g.dtype is not dt and g.dtype != dt:
            grads = [g.astype(dt)]
    else:
        if all(g is None for g in grads):
            return _skip(node, retain_graph)
        meta = getattr(node, "output_meta", None)
        if meta is not None:
            grads = [g if g is None or g.dtype == m[1] else g.astype(m[1]) for g, m in zip(grads, meta)]
    if not node.allow_none_grads and any(g is None for g in grads):
        like = next(g for g in grads if g is not None)  # zeros on the same device
        grads = [
            g if g is not None else _zeros_like_output(node, i, like) for i, g in enumerate(grads)
        ]
    in_grads = node.backward(*grads)
    if type(in_grads) is not tuple:
        in_grads = (in_grads,)
    if len(in_grads) != len(node.next):
        raise RuntimeError(
            f"{node.name()} returned {len(in_grads)} gradients, expected {len(node.next)} (one per input)"
        )
    if not retain_graph:
        node._release()
    deliver.release(grads)
    for edge, g in zip(node.next, in_grads):
        if edge is not None and g is not None:
            _add(buffers, edge[0], edge[1], g, deliver)


def _skip(node, retain_graph):
    if not retain_graph:
        node._release()


def _zeros_like_output(node, i, like):
    shape, dtype = node.output_meta[i]
    if isinstance(like, np.ndarray):
        return np.zeros(shape, dtype)
    return np.zeros_like(like, dtype=dtype, shape=shape)  # dispatched to CuPy


def _add(buffers, node, idx, g, deliver):
    if isinstance(g, np.generic):  # numpy math on 0-d arrays returns scalars
        g = np.asarray(g)
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * node.n_outputs
    if slots[idx] is None:
        slots[idx] = deliver(g)
    else:
        slots[idx] = slots[idx] + g


def _accumulate(t, g):
    from ..tensor import Tensor

    if g.shape != t.shape:
        raise RuntimeError(f"gradient of shape {g.shape} does not match its tensor's shape {t.shape}")
    if t.grad is not None:
        t.grad.data += g
        return
    # keep g itself when it is a plain, exclusively delivered array (the common case)
    if type(g) is np.ndarray:
        if g.base is not None or g.dtype != t.dtype or not (g.flags.c_contiguous and g.flags.writeable):
            g = np.array(g, dtype=t.dtype, order="C")
    elif g.base is not None or g.dtype != t.dtype or not g.flags.c_contiguous:  # CuPy (or a numpy subclass)
        g = g.astype(t.dtype, order="C", copy=True)
    t.grad = Tensor._wrap(g)

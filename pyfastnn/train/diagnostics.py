"""Training diagnostics: is the gradient reaching the first layers, or blowing up? Are ReLUs dying?

    monitor = pf.train.GradientMonitor()
    model.fit(x, y, epochs=10, callbacks=[monitor])
    print(monitor.report())          # per layer: gradient norm, activation mean/std, dead ReLUs
    monitor.plot(path="grad_flow.png")

A "layer" is a module with parameters of its own (Linear, Conv2d, LSTM, ...), named as in
named_modules(). Each epoch records, per layer, the mean (and max) L2 norm of its parameter
gradients over the batches, and, on sampled batches, the mean and std of the outputs of
layers and activation modules and the fraction of dead ReLU units (zero for every sample
seen in the epoch). Forward hooks are attached only for the sampled batches, so the other
batches run exactly as without the monitor (fused Linear+ReLU included).

In a hand-written loop call the hooks yourself: monitor.set_model(model) once, then
on_train_batch_begin(i) before the forward pass, on_train_batch_end(i) after backward, and
on_epoch_end(epoch) at the end of each epoch.
"""

import math
import warnings

import numpy as np

from .callbacks import Callback

__all__ = ["GradientMonitor", "GradientWarning", "gradient_norms", "parameterized_layers"]


class GradientWarning(UserWarning):
    """Vanishing or exploding gradients seen by GradientMonitor."""


def parameterized_layers(model):
    """[(name, module)] of the modules that own parameters directly, in registration order
    (for a Sequential: input side first)."""
    out = []
    for name, m in model.named_modules():
        if any(p is not None and p.requires_grad for p in m._parameters.values()):
            out.append((name or type(m).__name__, m))
    return out


def _host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)  # cupy -> numpy


def _sq_norm(params):
    total = 0.0
    for p in params:
        if p is None or p.grad is None:
            continue
        g = p.grad.data.reshape(-1)
        total += float(_host(g.dot(g)))
    return total


def gradient_norms(model):
    """{layer name: L2 norm of the gradients of its own parameters} (layers without a
    gradient yet are left out); call after backward()."""
    out = {}
    for name, m in parameterized_layers(model):
        if any(p is not None and p.grad is not None for p in m._parameters.values()):
            out[name] = math.sqrt(_sq_norm(m._parameters.values()))
    return out


def _is_relu(module):
    from ..nn.activation import ReLU
    from ..nn.linear import Linear

    if type(module) is ReLU:
        return True
    return isinstance(module, Linear) and getattr(module, "activation", None) == "relu"


def _watched_modules(model):
    """Layers with parameters and activation modules, leaves only (their outputs are the
    activations people look at)."""
    from ..nn import activation

    out = []
    for name, m in model.named_modules():
        if m._modules:
            continue
        own = any(p is not None for p in m._parameters.values())
        if own or type(m).__module__ == activation.__name__:
            out.append((name or type(m).__name__, m))
    return out


class GradientMonitor(Callback):
    """Records gradient norms and activation statistics per layer and epoch, and warns in
    plain words when gradients vanish or explode.

    vanish_ratio: warn when (first layer's gradient norm) / (last layer's) falls below this.
    explode_norm: warn when any layer's gradient norm exceeds this, or is NaN/inf.
    activation_every: record activations on every n-th batch (batch 0 always); 0 = never.
    verbose: also print each warning as a line (warnings.warn always fires, once per kind
    and training run; every alert is kept in .alerts).

    After training: .layers (names, input side first; .weight_layers without the
    normalization layers), .epochs, and .history with
    "grad_norm", "grad_norm_max" {layer: [per epoch]}, "act_mean", "act_std"
    {module: [per epoch]}, "dead_relu" {relu module: [fraction per epoch]}.
    """

    def __init__(self, vanish_ratio=1e-3, explode_norm=1e3, activation_every=10, verbose=0):
        super().__init__()
        if not vanish_ratio > 0:
            raise ValueError(f"GradientMonitor: vanish_ratio must be > 0, got {vanish_ratio}")
        if not explode_norm > 0:
            raise ValueError(f"GradientMonitor: explode_norm must be > 0, got {explode_norm}")
        self.vanish_ratio, self.explode_norm = float(vanish_ratio), float(explode_norm)
        self.activation_every, self.verbose = int(activation_every), verbose
        self.layers, self.epochs, self.alerts, self.kinds = [], [], [], {}
        self.history = {k: {} for k in ("grad_norm", "grad_norm_max", "act_mean", "act_std", "dead_relu")}
        self._warned = set()
        self._handles = []
        self._reset_epoch()

    # ---- callback hooks ----
    def set_model(self, model):
        super().set_model(model)
        self._layers = parameterized_layers(model)
        self.layers = [name for name, _ in self._layers]
        self._watched = _watched_modules(model)
        self.kinds = {name: type(m).__name__ for name, m in self._layers + self._watched}

    def on_train_begin(self, logs=None):
        self._warned = set()
        self._reset_epoch()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_epoch()

    def on_train_batch_begin(self, batch, logs=None):
        if self.activation_every > 0 and batch % self.activation_every == 0:
            self._attach()

    def on_train_batch_end(self, batch, logs=None):
        self._detach()
        self._batches += 1
        for name, m in self._layers:
            sq = _sq_norm(m._parameters.values())
            norm = math.sqrt(sq) if math.isfinite(sq) else float("nan") if math.isnan(sq) else float("inf")
            self._sum[name] = self._sum.get(name, 0.0) + norm
            self._max[name] = max(self._max.get(name, 0.0), norm) if math.isfinite(norm) else norm

    def on_epoch_end(self, epoch, logs=None):
        self._detach()
        if not self._batches:
            return
        self.epochs.append(epoch)
        grad = {name: self._sum.get(name, 0.0) / self._batches for name in self.layers}
        for name in self.layers:
            self.history["grad_norm"].setdefault(name, []).append(grad[name])
            self.history["grad_norm_max"].setdefault(name, []).append(self._max.get(name, 0.0))
        for name, (s, s2, n) in self._act.items():
            mean = s / n
            self.history["act_mean"].setdefault(name, []).append(mean)
            self.history["act_std"].setdefault(name, []).append(math.sqrt(max(s2 / n - mean * mean, 0.0)))
        for name, alive in self._alive.items():
            self.history["dead_relu"].setdefault(name, []).append(float(1.0 - alive.mean()) if alive.size else 0.0)
        self._check(epoch, grad)

    def on_train_end(self, logs=None):
        self._detach()

    # ---- the checks ----
    def _check(self, epoch, grad):
        bad = [self._label(n) for n in self.layers if not math.isfinite(self._max.get(n, 0.0))]
        if bad:
            self._alert("explode", epoch, f"gradients are not finite (NaN or inf) in layer(s) {', '.join(bad)}: "
                        "training has diverged; lower the learning rate, clip gradients (compile(clipnorm=...)) "
                        "or check the inputs for NaN")
            return
        big = {n: self._max[n] for n in self.layers if self._max.get(n, 0.0) > self.explode_norm}
        if big:
            worst = max(big, key=big.get)
            self._alert("explode", epoch, f"exploding gradients: the gradient norm of layer {self._label(worst)} "
                        f"reached {big[worst]:.3g} (threshold {self.explode_norm:g}); lower the learning rate, clip "
                        "gradients (compile(clipnorm=...)) or use a smaller weight initialization")
        chain = self.weight_layers
        if len(chain) >= 2:
            first, last = grad[chain[0]], grad[chain[-1]]
            a, b = self._label(chain[0]), self._label(chain[-1])
            if last > 0 and first == 0:
                self._alert("vanish", epoch, f"vanishing gradients: the first layer, {a}, gets no gradient at all "
                            "(dead ReLUs after a too large step? see .history['dead_relu']); lower the learning "
                            "rate or use LeakyReLU")
            elif last > 0 and first / last < self.vanish_ratio:
                self._alert("vanish", epoch, f"vanishing gradients: the first layer, {a}, gets {first / last:.2g} "
                            f"times the gradient norm of the last, {b} (threshold {self.vanish_ratio:g}); the early "
                            "layers barely learn. Try ReLU activations with He initialization, batch normalization, "
                            "residual connections or fewer layers")

    @property
    def weight_layers(self):
        """The layers that carry the signal (Linear, Conv, RNN, ...): normalization layers
        (BatchNorm, LayerNorm), whose small scale/shift gradients say little about the flow,
        are left out of the vanishing check and the default gradient-flow chart."""
        return [n for n in self.layers if "Norm" not in self.kinds.get(n, "")]

    def _label(self, name):
        return f"{name} ({self.kinds[name]})" if name in self.kinds else name

    def _alert(self, kind, epoch, text):
        msg = f"GradientMonitor, epoch {epoch + 1}: {text}"
        self.alerts.append((epoch, kind, msg))
        if kind in self._warned:
            return
        self._warned.add(kind)
        warnings.warn(msg, GradientWarning, stacklevel=2)
        if self.verbose:
            print(msg, flush=True)

    @property
    def vanishing(self):
        return any(k == "vanish" for _, k, _ in self.alerts)

    @property
    def exploding(self):
        return any(k == "explode" for _, k, _ in self.alerts)

    # ---- activations ----
    def _reset_epoch(self):
        self._batches = 0
        self._sum, self._max = {}, {}
        self._act = {}  # name -> [sum, sum of squares, count]
        self._alive = {}  # relu name -> bool array: unit was > 0 for some sample

    def _attach(self):
        if self._handles or self.model is None:
            return
        for name, m in self._watched:
            self._handles.append(m.register_forward_hook(self._make_hook(name, _is_relu(m))))

    def _detach(self):
        for h in self._handles:
            h.remove()
        self._handles = []

    def _make_hook(self, name, relu):
        def hook(module, inputs, output):
            out = output[0] if isinstance(output, tuple) else output  # an LSTM's (output, state)
            a = getattr(out, "data", None)
            if a is None or not hasattr(a, "dtype") or a.dtype.kind != "f" or a.size == 0:
                return None
            acc = self._act.setdefault(name, [0.0, 0.0, 0])
            acc[0] += float(a.sum(dtype=np.float64))
            acc[1] += float((a.astype(np.float64) ** 2).sum())
            acc[2] += a.size
            if relu and a.ndim >= 2:
                alive = _host((a > 0).any(axis=0))
                prev = self._alive.get(name)
                self._alive[name] = alive if prev is None or prev.shape != alive.shape else prev | alive
            return None

        return hook

    # ---- reading the results ----
    def report(self, epoch=-1):
        """A table of the given epoch's numbers, one row per layer (input side first)."""
        if not self.epochs:
            return "GradientMonitor: nothing recorded yet (train first)"
        h = self.history
        label = self._label

        rows = [f"{'layer':<24}{'grad norm':>12}{'grad max':>12}"]
        for name in self.layers:
            norm, top = h["grad_norm"][name][epoch], h["grad_norm_max"][name][epoch]
            rows.append(f"{label(name):<24}{norm:>12.3g}{top:>12.3g}")
        if h["act_mean"]:
            rows.append(f"{'activations':<24}{'mean':>12}{'std':>12}{'dead ReLU':>12}")
            for name in h["act_mean"]:
                dead = h["dead_relu"].get(name)
                rows.append(f"{label(name):<24}{h['act_mean'][name][epoch]:>12.3g}{h['act_std'][name][epoch]:>12.3g}"
                            + (f"{dead[epoch]:>12.1%}" if dead else ""))
        for _, _, msg in self.alerts:
            rows.append(msg)
        return "\n".join(rows)

    def plot(self, ax=None, path=None, show=False, epochs=None, layers=None):
        """The gradient flow chart (see pyfastnn.train.plots.plot_gradient_flow)."""
        from .plots import plot_gradient_flow

        return plot_gradient_flow(self, ax=ax, path=path, show=show, epochs=epochs, layers=layers)

"""The same model in PyTorch: a pyfastnn zoo model (Sequential of standard layers, or the
LSTM SequenceModel) rebuilt with torch.nn layers and pyfastnn's weights, to time both on the
same work. Raises ImportError without torch."""

import time

import numpy as np
import torch

__all__ = ["to_torch", "torch_epoch_seconds"]


def _layer(m):
    nn = torch.nn
    kind = type(m).__name__
    simple = {"ReLU": nn.ReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid, "Identity": nn.Identity}
    if kind in simple:
        return simple[kind]()
    if kind == "Flatten":
        return nn.Flatten(m.start_dim, m.end_dim)
    if kind in ("Dropout", "Dropout2d"):
        return getattr(nn, kind)(m.p)
    if kind == "Linear":
        t = nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
        return (nn.Sequential(t, nn.ReLU()) if getattr(m, "activation", None) == "relu" else t)
    if kind == "Conv2d":
        return nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation, m.groups,
                         bias=m.bias is not None)
    if kind == "BatchNorm2d" or kind == "BatchNorm1d":
        return getattr(nn, kind)(m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats)
    if kind == "MaxPool2d":
        return nn.MaxPool2d(m.kernel_size, m.stride, m.padding, m.dilation, ceil_mode=m.ceil_mode)
    if kind == "AvgPool2d":
        return nn.AvgPool2d(m.kernel_size, m.stride, m.padding, ceil_mode=m.ceil_mode,
                            count_include_pad=m.count_include_pad)
    raise NotImplementedError(f"to_torch: no PyTorch twin for {kind}")


class _TorchSequenceModel(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        lstm = m.lstm
        self.lstm = torch.nn.LSTM(lstm.input_size, lstm.hidden_size, lstm.num_layers, batch_first=True)
        self.head = torch.nn.Linear(m.head.in_features, m.head.out_features)

    def forward(self, x):
        if x.ndim == 4:
            x = x.reshape(x.shape[0], x.shape[2], x.shape[3])
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def _state(model):
    return {k: torch.from_numpy(np.array(v.numpy() if hasattr(v, "numpy") else v)) for k, v in
            model.state_dict().items()}


def to_torch(model):
    """A torch.nn.Module computing what `model` computes, with a copy of its weights."""
    kind = type(model).__name__
    if kind == "SequenceModel":
        out = _TorchSequenceModel(model)
        out.load_state_dict(_state(model))
        return out
    if kind != "Sequential":
        raise NotImplementedError(f"to_torch: converts Sequential and SequenceModel models, not {kind}")
    out = torch.nn.Sequential(*[_layer(m) for m in model])
    state = _state(model)
    # a fused Linear(activation='relu') became Sequential(Linear, ReLU): its keys gain a ".0"
    theirs = out.state_dict()
    mapped = {}
    for k, v in state.items():
        prefix, _, rest = k.partition(".")
        mapped[k if k in theirs else f"{prefix}.0.{rest}"] = v
    out.load_state_dict(mapped)
    return out


def torch_epoch_seconds(model, x, y, batch_size, optimizer="adam", lr=1e-3, classification=True, threads=None):
    """Seconds for one shuffled training epoch of the PyTorch twin of `model` on (x, y)."""
    if threads is not None:
        torch.set_num_threads(threads)
    net = to_torch(model).train()
    opts = {"adam": lambda p: torch.optim.Adam(p, lr=lr, eps=1e-7), "sgd": lambda p: torch.optim.SGD(p, lr=lr),
            "adamw": lambda p: torch.optim.AdamW(p, lr=lr, eps=1e-7),
            "rmsprop": lambda p: torch.optim.RMSprop(p, lr=lr, alpha=0.9, eps=1e-7),
            "adagrad": lambda p: torch.optim.Adagrad(p, lr=lr), "adadelta": lambda p: torch.optim.Adadelta(p, lr=lr)}
    opt = opts[optimizer](net.parameters())
    loss_fn = torch.nn.functional.cross_entropy if classification else torch.nn.functional.mse_loss
    xt = torch.from_numpy(np.ascontiguousarray(x, np.float32))
    yt = torch.from_numpy(np.ascontiguousarray(y, np.int64 if classification else np.float32))
    order = torch.from_numpy(np.random.default_rng(0).permutation(len(xt)))
    t0 = time.perf_counter()
    for start in range(0, len(xt), batch_size):
        idx = order[start : start + batch_size]
        opt.zero_grad()
        loss_fn(net(xt[idx]), yt[idx]).backward()
        opt.step()
    return time.perf_counter() - t0

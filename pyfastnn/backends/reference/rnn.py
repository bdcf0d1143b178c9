"""Reference of the recurrent layers, the fused cells and the embedding lookup (float64).

The layer functions loop over time steps in Python on top of the cell functions below: the
plain definition the C++ time loops are checked against. Gate orders and formulas are
PyTorch's (LSTM i, f, g, o; GRU r, z, n with n = tanh(gx_n + r * gh_n)).
"""

import numpy as np

__all__ = [
    "rnn_layer_forward", "rnn_layer_backward",
    "lstm_cell_forward", "lstm_cell_backward", "gru_cell_forward", "gru_cell_backward",
    "rnn_cell_forward", "rnn_cell_backward",
    "embedding_forward", "embedding_backward",
]

_F64 = np.float64
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _mode(mode, op):
    if not isinstance(mode, str):
        raise TypeError(f"{op}: argument 'mode' must be one of 'RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU', "
                        f"got {type(mode).__name__}")
    m = mode.upper()
    m = {"TANH": "RNN_TANH", "RNN": "RNN_TANH", "RELU": "RNN_RELU"}.get(m, m)
    if m not in _GATES:
        raise ValueError(f"{op}: unknown mode '{mode}'; expected 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'")
    return m


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow warnings for large |x|


def _f64(a):
    return None if a is None else np.asarray(a, dtype=_F64)


# ---------------------------------------------------------------- cells


def lstm_cell_forward(gx, gh, c):
    """(h, c_new, act) from gates = gx + gh (B, 4H) in order i, f, g, o; act holds the
    activated gates."""
    dt = gx.dtype
    g = _f64(gx) + _f64(gh)
    H = g.shape[1] // 4
    i, f, gg, o = _sigmoid(g[:, :H]), _sigmoid(g[:, H:2 * H]), np.tanh(g[:, 2 * H:3 * H]), _sigmoid(g[:, 3 * H:])
    c_new = f * _f64(c) + i * gg
    h = o * np.tanh(c_new)
    return h.astype(dt), c_new.astype(dt), np.concatenate([i, f, gg, o], axis=1).astype(dt)


def _lstm_bwd(act, c, dh, dc_new):
    H = act.shape[1] // 4
    i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
    tc = np.tanh(f * c + i * g)
    dct = (0.0 if dc_new is None else dc_new) + (0.0 if dh is None else dh * o * (1 - tc * tc))
    dh_ = 0.0 if dh is None else dh
    dgates = np.concatenate([dct * g * i * (1 - i), dct * c * f * (1 - f), dct * i * (1 - g * g),
                             dh_ * tc * o * (1 - o) + np.zeros_like(i)], axis=1)
    return dgates, dct * f


def lstm_cell_backward(act, c, dh, dc_new=None):
    """(dgates, dc): gradients w.r.t. the gate pre-activations and the previous cell state."""
    dt = act.dtype
    dg, dc = _lstm_bwd(_f64(act), _f64(c), _f64(dh), _f64(dc_new))
    return dg.astype(dt), dc.astype(dt)


def _gru_fwd(gx, gh, h):
    H = h.shape[1]
    r = _sigmoid(gx[:, :H] + gh[:, :H])
    z = _sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
    ghn = gh[:, 2 * H:]
    n = np.tanh(gx[:, 2 * H:] + r * ghn)
    return (1 - z) * n + z * h, np.concatenate([r, z, n, ghn], axis=1)


def gru_cell_forward(gx, gh, h):
    """(h_new, act): gx = x W_ih^T + b_ih, gh = h W_hh^T + b_hh (B, 3H); act (B, 4H) holds
    r, z, n and gh's n part."""
    dt = gx.dtype
    hn, act = _gru_fwd(_f64(gx), _f64(gh), _f64(h))
    return hn.astype(dt), act.astype(dt)


def _gru_bwd(act, h, dh):
    H = h.shape[1]
    r, z, n, ghn = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
    dnp = dh * (1 - z) * (1 - n * n)
    dzp = dh * (h - n) * z * (1 - z)
    drp = dnp * ghn * r * (1 - r)
    return (np.concatenate([drp, dzp, dnp], axis=1), np.concatenate([drp, dzp, dnp * r], axis=1), dh * z)


def gru_cell_backward(act, h, dh_new):
    """(dgx, dgh, dh): gradients w.r.t. gx, gh and the direct z * h path of h."""
    dt = act.dtype
    return tuple(a.astype(dt) for a in _gru_bwd(_f64(act), _f64(h), _f64(dh_new)))


def _relu_flag(nonlinearity, op):
    if nonlinearity in (None, "tanh"):
        return False
    if nonlinearity == "relu":
        return True
    raise ValueError(f"{op}: unknown nonlinearity '{nonlinearity}'; expected 'tanh' or 'relu'")


def rnn_cell_forward(gx, gh, nonlinearity="tanh"):
    """h = tanh(gx + gh) or relu(gx + gh)."""
    relu = _relu_flag(nonlinearity, "rnn_cell_forward")
    v = _f64(gx) + _f64(gh)
    return (np.where(v < 0, 0.0, v) if relu else np.tanh(v)).astype(gx.dtype)


def rnn_cell_backward(h, dh, nonlinearity="tanh"):
    """The gradient w.r.t. the pre-activation, from the output h."""
    relu = _relu_flag(nonlinearity, "rnn_cell_backward")
    h64, dh64 = _f64(h), _f64(dh)
    return (np.where(h64 > 0, dh64, 0.0) if relu else dh64 * (1 - h64 * h64)).astype(h.dtype)


# ---------------------------------------------------------------- layers


def _time_of(s, lengths, reverse):
    if not reverse:
        return np.full(lengths.shape, s)
    return np.where(s < lengths, lengths - 1 - s, s)


def _prep(mode, x, weights, lengths, batch_first, op):
    mode = _mode(mode, op)
    if x.ndim != 3:
        raise ValueError(f"{op}: argument 'x' must be 3-D, got shape {x.shape}")
    xt = _f64(x).transpose(1, 0, 2) if batch_first else _f64(x)  # (T, B, I)
    T, B, _ = xt.shape
    lens = np.full(B, T, np.int64) if lengths is None else np.asarray(lengths, np.int64)
    if lens.shape != (B,) or (lens < 1).any() or (lens > T).any():
        raise ValueError(f"{op}: argument 'lengths' must hold {B} values in [1, {T}], got {lens}")
    ws = [tuple(_f64(w) for w in d) for d in weights]
    return mode, xt, T, B, lens, ws


def _cell_step(mode, gx, gh, h, c):
    """One step of every row: (h_new, c_new, act, h_raw)."""
    if mode == "LSTM":
        hn, cn, act = lstm_cell_forward(gx, gh, c)
        return hn, cn, act
    if mode == "GRU":
        hn, act = _gru_fwd(gx, gh, h)
        return hn, None, act
    hn = rnn_cell_forward(gx, gh, "relu" if mode == "RNN_RELU" else "tanh")
    return hn, None, hn


def rnn_layer_forward(mode, x, weights, h0=None, c0=None, lengths=None, batch_first=False, training=True):
    """(y, h_n, c_n, saved) of one layer, every direction, over the whole sequence (see
    pyfastnn._C.rnn_layer_forward); saved is this backend's own record for backward."""
    mode, xt, T, B, lens, ws = _prep(mode, x, weights, lengths, batch_first, "rnn_layer_forward")
    D = len(ws)
    H = ws[0][0].shape[0] // _GATES[mode]
    P = ws[0][4].shape[0] if ws[0][4] is not None else 0
    Hout = P or H
    y = np.zeros((T, B, D * Hout))
    hn = np.zeros((D, B, Hout))
    cn = np.zeros((D, B, H)) if mode == "LSTM" else None
    saved = []
    rows = np.arange(B)
    for d, (w_ih, w_hh, b_ih, b_hh, w_hr) in enumerate(ws):
        h = np.zeros((B, Hout)) if h0 is None else _f64(h0)[d].copy()
        c = np.zeros((B, H)) if c0 is None else _f64(c0)[d].copy()
        steps = []
        for s in range(T):
            t = _time_of(s, lens, d == 1)
            valid = (s < lens)[:, None]
            xs = xt[t, rows]
            gx = xs @ w_ih.T + (0.0 if b_ih is None else b_ih)
            gh = h @ w_hh.T + (0.0 if b_hh is None else b_hh)
            hr, cnew, act = _cell_step(mode, gx, gh, h, c)
            hr, act = _f64(hr), _f64(act)
            hout = hr @ w_hr.T if P else hr
            steps.append(dict(t=t, valid=valid, x=xs, h=h, c=c, act=act, hraw=hr if P else None))
            y[t, rows, d * Hout:(d + 1) * Hout] = np.where(valid, hout, 0.0)
            h = np.where(valid, hout, h)
            if mode == "LSTM":
                c = np.where(valid, _f64(cnew), c)
        hn[d] = h
        if cn is not None:
            cn[d] = c
        saved.append(steps)
    dt = x.dtype
    y = y.transpose(1, 0, 2) if batch_first else y
    return (np.ascontiguousarray(y).astype(dt), hn.astype(dt), None if cn is None else cn.astype(dt),
            saved if training else None)


def rnn_layer_backward(mode, x, weights, saved, lengths=None, batch_first=False, dy=None, dhn=None, dcn=None,
                       need_dx=True, need_dh0=True, need_dc0=True, need_weights=True):
    """(dx, dh0, dc0, [(dw_ih, dw_hh, db_ih, db_hh, dw_hr) per direction]) by plain
    back-propagation through time over the steps forward recorded."""
    mode, xt, T, B, lens, ws = _prep(mode, x, weights, lengths, batch_first, "rnn_layer_backward")
    D = len(ws)
    H = ws[0][0].shape[0] // _GATES[mode]
    P = ws[0][4].shape[0] if ws[0][4] is not None else 0
    Hout = P or H
    dyt = None
    if dy is not None:
        dyt = _f64(dy).transpose(1, 0, 2) if batch_first else _f64(dy)
    dx = np.zeros(xt.shape)
    dh0 = np.zeros((D, B, Hout))
    dc0 = np.zeros((D, B, H))
    grads = []
    rows = np.arange(B)
    for d, (w_ih, w_hh, b_ih, b_hh, w_hr) in enumerate(ws):
        dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
        db_ih, db_hh = np.zeros(w_ih.shape[0]), np.zeros(w_ih.shape[0])
        dw_hr = np.zeros_like(w_hr) if P else None
        dh = np.zeros((B, Hout)) if dhn is None else _f64(dhn)[d].copy()
        dc = np.zeros((B, H)) if dcn is None else _f64(dcn)[d].copy()
        for s in range(T - 1, -1, -1):
            st = saved[d][s]
            t, valid = st["t"], st["valid"]
            dtot = dh + (0.0 if dyt is None else dyt[t, rows, d * Hout:(d + 1) * Hout])
            dtot = np.where(valid, dtot, 0.0)
            if P:
                dw_hr += dtot.T @ st["hraw"]
                dcell = dtot @ w_hr
            else:
                dcell = dtot
            direct = 0.0
            if mode == "LSTM":
                dg, dc_prev = _lstm_bwd(st["act"], st["c"], dcell, np.where(valid, dc, 0.0))
                dgh = dg
            elif mode == "GRU":
                dg, dgh, direct = _gru_bwd(st["act"], st["h"], dcell)
            else:
                hh = st["act"]
                dg = np.where(hh > 0, dcell, 0.0) if mode == "RNN_RELU" else dcell * (1 - hh * hh)
                dgh = dg
            dg, dgh = np.where(valid, dg, 0.0), np.where(valid, dgh, 0.0)
            dw_ih += dg.T @ st["x"]
            dw_hh += dgh.T @ st["h"]
            db_ih += dg.sum(0)
            db_hh += dgh.sum(0)
            dx[t, rows] += dg @ w_ih
            dh = np.where(valid, dgh @ w_hh + direct, dh)
            if mode == "LSTM":
                dc = np.where(valid, dc_prev, dc)
        dh0[d], dc0[d] = dh, dc
        dt = x.dtype
        if need_weights:
            grads.append((dw_ih.astype(dt), dw_hh.astype(dt), None if b_ih is None else db_ih.astype(dt),
                          None if b_hh is None else db_hh.astype(dt), None if not P else dw_hr.astype(dt)))
        else:
            grads.append((None,) * 5)
    dt = x.dtype
    dx = dx.transpose(1, 0, 2) if batch_first else dx
    return (np.ascontiguousarray(dx).astype(dt) if need_dx else None, dh0.astype(dt) if need_dh0 else None,
            dc0.astype(dt) if need_dc0 and mode == "LSTM" else None, grads)


# ---------------------------------------------------------------- embedding


def embedding_forward(weight, indices):
    """weight[indices] for int64 indices of any shape; IndexError outside [0, num)."""
    idx = np.asarray(indices)
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        bad = idx[(idx < 0) | (idx >= num)].flat[0]
        raise IndexError(f"embedding_forward: index {bad} is out of range for an embedding of {num} rows "
                         f"(valid indices: 0 to {num - 1})")
    return weight[idx]


def embedding_backward(indices, grad, num_embeddings, padding_idx=None):
    """The dense weight gradient: grad rows added at their indices, none at padding_idx."""
    idx = np.asarray(indices).reshape(-1)
    g = _f64(grad).reshape(idx.size, grad.shape[-1])
    out = np.zeros((num_embeddings, g.shape[1]))
    np.add.at(out, idx, g)
    if padding_idx is not None:
        out[padding_idx] = 0.0
    return out.astype(grad.dtype)

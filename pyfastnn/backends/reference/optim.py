"""Reference optimizer updates (PyTorch's formulas), one tensor at a time in float64.

Each *_step function updates the lists of arrays in place: params, and the state buffers.
steps[i] is the step number of parameter i after this update (1 on the first).
"""

import numpy as np

__all__ = ["sgd_step", "adam_step", "rmsprop_step", "adagrad_step", "adadelta_step"]


def _f64(a):
    return a.astype(np.float64)


def _grad(g, p, weight_decay, maximize):
    g = -_f64(g) if maximize else _f64(g)
    return g + weight_decay * _f64(p) if weight_decay else g


def sgd_step(params, grads, bufs, first, lr, momentum, dampening, nesterov, weight_decay, maximize):
    """bufs[i]: momentum buffer (or None without momentum); first[i]: its first use."""
    for i, (p, g) in enumerate(zip(params, grads)):
        d = _grad(g, p, weight_decay, maximize)
        if momentum:
            b = d.copy() if first[i] else momentum * _f64(bufs[i]) + (1 - dampening) * d
            bufs[i][...] = b
            d = d + momentum * b if nesterov else b
        p[...] = _f64(p) - lr * d


def adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, lr, beta1, beta2, eps, weight_decay,
              amsgrad, maximize, decoupled):
    """Adam (L2 weight decay added to the gradient) or AdamW (decoupled: p *= 1 - lr*wd)."""
    for i, (p, g) in enumerate(zip(params, grads)):
        pf = _f64(p)
        if decoupled:
            pf = pf * (1 - lr * weight_decay)
            d = -_f64(g) if maximize else _f64(g)
        else:
            d = _grad(g, p, weight_decay, maximize)
        m = beta1 * _f64(exp_avgs[i]) + (1 - beta1) * d
        v = beta2 * _f64(exp_avg_sqs[i]) + (1 - beta2) * d * d
        exp_avgs[i][...] = m
        exp_avg_sqs[i][...] = v
        bc1, bc2 = 1 - beta1 ** steps[i], 1 - beta2 ** steps[i]
        if amsgrad:
            vmax = np.maximum(_f64(max_exp_avg_sqs[i]), v)
            max_exp_avg_sqs[i][...] = vmax
            denom = np.sqrt(vmax) / np.sqrt(bc2) + eps
        else:
            denom = np.sqrt(v) / np.sqrt(bc2) + eps
        p[...] = pf - (lr / bc1) * m / denom


def rmsprop_step(params, grads, square_avgs, momentum_bufs, grad_avgs, lr, alpha, eps, weight_decay, momentum,
                 centered, maximize):
    for i, (p, g) in enumerate(zip(params, grads)):
        d = _grad(g, p, weight_decay, maximize)
        sq = alpha * _f64(square_avgs[i]) + (1 - alpha) * d * d
        square_avgs[i][...] = sq
        if centered:
            ga = alpha * _f64(grad_avgs[i]) + (1 - alpha) * d
            grad_avgs[i][...] = ga
            avg = np.sqrt(sq - ga * ga) + eps
        else:
            avg = np.sqrt(sq) + eps
        if momentum > 0:
            b = momentum * _f64(momentum_bufs[i]) + d / avg
            momentum_bufs[i][...] = b
            p[...] = _f64(p) - lr * b
        else:
            p[...] = _f64(p) - lr * d / avg


def adagrad_step(params, grads, state_sums, steps, lr, lr_decay, weight_decay, eps, maximize):
    for i, (p, g) in enumerate(zip(params, grads)):
        d = _grad(g, p, weight_decay, maximize)
        clr = lr / (1 + (steps[i] - 1) * lr_decay)
        s = _f64(state_sums[i]) + d * d
        state_sums[i][...] = s
        p[...] = _f64(p) - clr * d / (np.sqrt(s) + eps)


def adadelta_step(params, grads, square_avgs, acc_deltas, lr, rho, eps, weight_decay, maximize):
    for i, (p, g) in enumerate(zip(params, grads)):
        d = _grad(g, p, weight_decay, maximize)
        sq = rho * _f64(square_avgs[i]) + (1 - rho) * d * d
        square_avgs[i][...] = sq
        delta = np.sqrt(_f64(acc_deltas[i]) + eps) / np.sqrt(sq + eps) * d
        acc_deltas[i][...] = rho * _f64(acc_deltas[i]) + (1 - rho) * delta * delta
        p[...] = _f64(p) - lr * delta

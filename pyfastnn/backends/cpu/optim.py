"""Optimizer updates: fused C++ multi-tensor kernels (pyfastnn._C), in place.

Same names and signatures as backends.reference.optim. Gradients that arrive as views
(a broadcast, a transpose) are made contiguous first; parameters and state are ours.
"""

import numpy as np

from ... import _C

__all__ = ["sgd_step", "adam_step", "rmsprop_step", "adagrad_step", "adadelta_step"]


def _contiguous(grads):
    return [g if g.flags.c_contiguous else np.ascontiguousarray(g) for g in grads]


def sgd_step(params, grads, bufs, first, lr, momentum, dampening, nesterov, weight_decay, maximize):
    _C.sgd_step(params, _contiguous(grads), bufs or None, list(first), lr, momentum, dampening, nesterov,
                weight_decay, maximize)


def adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, lr, beta1, beta2, eps, weight_decay,
              amsgrad, maximize, decoupled):
    _C.adam_step(params, _contiguous(grads), exp_avgs, exp_avg_sqs, max_exp_avg_sqs, [float(s) for s in steps], lr,
                 beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled)


def rmsprop_step(params, grads, square_avgs, momentum_bufs, grad_avgs, lr, alpha, eps, weight_decay, momentum,
                 centered, maximize):
    _C.rmsprop_step(params, _contiguous(grads), square_avgs, momentum_bufs, grad_avgs, lr, alpha, eps, weight_decay,
                    momentum, centered, maximize)


def adagrad_step(params, grads, state_sums, steps, lr, lr_decay, weight_decay, eps, maximize):
    _C.adagrad_step(params, _contiguous(grads), state_sums, [float(s) for s in steps], lr, lr_decay, weight_decay,
                    eps, maximize)


def adadelta_step(params, grads, square_avgs, acc_deltas, lr, rho, eps, weight_decay, maximize):
    _C.adadelta_step(params, _contiguous(grads), square_avgs, acc_deltas, lr, rho, eps, weight_decay, maximize)

"""pyfastnn.train: Keras-style training (compile/fit/evaluate/predict/summary), callbacks,
metrics and checkpoints, attached to every nn.Module."""

from ..nn.module import Module
from . import callbacks, metrics, plots
from .callbacks import *  # noqa: F401,F403
from .diagnostics import GradientMonitor, GradientWarning, gradient_norms
from .plots import (plot_confusion_matrix, plot_decision_boundary, plot_feature_maps, plot_filters,  # noqa: F401
                    plot_gradient_flow, plot_history)
from .checkpoint import checkpoint, load_checkpoint, load_weights, save_checkpoint, save_weights
from .loop import compile, evaluate, fit, predict
from .search import SearchResult, grid_search, random_search
from .summary import count_params, summary

# Keras' model methods on every Module (PyTorch loops keep working unchanged)
Module.compile = compile
Module.fit = fit
Module.evaluate = evaluate
Module.predict = predict
Module.summary = summary
Module.count_params = count_params
Module.save_weights = save_weights
Module.load_weights = load_weights
Module.checkpoint = checkpoint
Module.save_checkpoint = save_checkpoint
Module.load_checkpoint = load_checkpoint
Module.stop_training = False

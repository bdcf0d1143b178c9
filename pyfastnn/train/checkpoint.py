"""Weights and resumable checkpoints of a model (and its optimizer and RNG state)."""

from ..random import generator
from ..serialization import load, save


def save_weights(model, path):
    save(model.state_dict(), path)


def load_weights(model, path, strict=True):
    return model.load_state_dict(load(path), strict=strict)


def checkpoint(model, epoch=None):
    """Everything needed to resume training exactly: weights, optimizer state, epoch and
    the global random generator (which drives shuffling and dropout)."""
    state = {"model": model.state_dict(), "rng": generator().bit_generator.state}
    if getattr(model, "optimizer", None) is not None:
        state["optimizer"] = model.optimizer.state_dict()
    if epoch is not None:
        state["epoch"] = epoch
    return state


def save_checkpoint(model, path, epoch=None):
    save(checkpoint(model, epoch), path)


def load_checkpoint(model, path):
    """Restore what save_checkpoint wrote; returns the epoch to pass as fit(initial_epoch=)."""
    state = load(path)
    model.load_state_dict(state["model"])
    if "optimizer" in state:
        if getattr(model, "optimizer", None) is None:
            raise RuntimeError("load_checkpoint: the checkpoint has optimizer state; compile the model first")
        model.optimizer.load_state_dict(state["optimizer"])
    if "rng" in state:
        generator().bit_generator.state = state["rng"]
    return state.get("epoch", 0)

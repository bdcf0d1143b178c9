"""Whether operations record the autograd graph (thread-local, as in PyTorch)."""

import functools
import threading

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def _set(enabled):
    _state.enabled = bool(enabled)


class set_grad_enabled:
    """Context manager (or plain call) setting grad mode on or off."""

    def __init__(self, mode):
        self.prev = is_grad_enabled()
        _set(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(self.prev)
        return False


class _Mode:
    enabled = True

    def __enter__(self):
        self.prev = is_grad_enabled()
        _set(self.enabled)
        return self

    def __exit__(self, *exc):
        _set(self.prev)
        return False

    def __call__(self, fn):  # usable as a decorator
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_Mode):
    """Operations inside do not record the graph (inference, parameter updates)."""

    enabled = False


class enable_grad(_Mode):
    """Re-enables recording inside a no_grad block."""

    enabled = True

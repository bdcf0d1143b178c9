"""Whether operations record the autograd graph (thread-local, as in PyTorch)."""

import functools
import threading

class _State(threading.local):
    enabled = True  # class attribute: a new thread starts with grad mode on, no getattr default


_state = _State()


def is_grad_enabled():
    return _state.enabled


def _set(enabled):
    _state.enabled = bool(enabled)


class set_grad_enabled:
    """Context manager, plain call or decorator (@set_grad_enabled(False)) setting grad
    mode on or off."""

    def __init__(self, mode):
        self.prev = is_grad_enabled()
        self.mode = bool(mode)
        _set(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(self.prev)
        return False

    def __call__(self, fn):
        _set(self.prev)  # decorating is not entering: undo the switch __init__ made
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class _Mode:
    """A grad-mode context manager that is also a decorator, with or without parentheses
    (@no_grad() and @no_grad), as in PyTorch."""

    enabled = True

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        if fn is not None:  # @no_grad without parentheses
            if not callable(fn):
                raise TypeError(f"{cls.__name__}() takes no arguments other than a function to decorate")
            return self(fn)
        return self

    def __init__(self, fn=None):
        pass

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

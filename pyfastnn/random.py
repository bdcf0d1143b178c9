"""The global random generator behind rand/randn, initializers and dropout masks.

`manual_seed(s)` makes every draw after it reproducible, as torch.manual_seed does.
"""

import numpy as np

_generator = np.random.default_rng()
_initial_seed = None


def manual_seed(seed):
    """Seed the global generator; returns it."""
    global _generator, _initial_seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: argument 'seed' must be an int, got {type(seed).__name__}")
    _initial_seed = int(seed)
    _generator = np.random.default_rng(int(seed) & (2**64 - 1))
    return _generator


def initial_seed():
    return _initial_seed


def generator():
    """The global numpy Generator."""
    return _generator


def next_seed():
    """A fresh 64-bit seed for kernels with their own counter-based RNG (dropout)."""
    return int(_generator.integers(0, 2**63 - 1, dtype=np.int64))

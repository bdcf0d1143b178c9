"""pf.cuda: is the GPU usable, and the few device-wide calls (synchronize, memory).

CUDA tensors hold CuPy arrays; our kernels (pyfastnn._cuda) run on CuPy's current stream
and allocate through CuPy's memory pool. Everything needs three things: pyfastnn built with
CUDA (nvcc found at install time), CuPy (`pip install 'pyfastnn[cuda]'`) and a visible
NVIDIA GPU. `is_available()` says whether all three are there; `require()` raises a
RuntimeError saying what is missing and how to get it.
"""

__all__ = ["is_available", "device_count", "synchronize", "require", "get_device_name", "memory_allocated",
           "current_stream"]

INSTALL_HINT = "pip install 'pyfastnn[cuda]' (cupy-cuda13x; for a CUDA 12 driver, pip install cupy-cuda12x)"

_ready = False  # set once everything was found (a GPU does not come and go within a process)


def _module():
    try:
        from . import _cuda
    except ImportError:
        return None
    return _cuda


def _problems():
    """What stands between this process and CUDA tensors (empty when nothing does)."""
    problems = []
    mod = _module()
    if mod is None:
        problems.append("pyfastnn was built without its CUDA kernels (pyfastnn._cuda is missing)")
    try:
        import cupy  # noqa: F401
    except ImportError:
        problems.append("CuPy is not installed")
    if mod is not None and mod.device_count() == 0:
        why = mod.last_error()
        problems.append("no NVIDIA GPU is visible" + (f" (CUDA runtime: {why})" if why else ""))
    return problems


def is_available():
    """True when CUDA tensors can be made: the CUDA module is built, CuPy is installed and a
    GPU is visible."""
    global _ready
    if not _ready:
        _ready = not _problems()
    return _ready


def require(what="CUDA tensors"):
    """Raise RuntimeError naming everything missing for `what`; returns the cupy module."""
    if not is_available():
        raise RuntimeError(f"{what} are not available: " + "; ".join(_problems()) + ". They need an NVIDIA GPU "
                           f"with its driver, CuPy -- {INSTALL_HINT} -- and pyfastnn built with its CUDA kernels "
                           "(nvcc on PATH when pyfastnn is installed).")
    import cupy

    return cupy


def device_count():
    """Number of visible GPUs (0 without a driver, a GPU or the CUDA module)."""
    mod = _module()
    return mod.device_count() if mod is not None else 0


def get_device_name(device=0):
    require("CUDA devices")
    return _module().device_name(device)


def synchronize():
    """Wait until all work queued on the current GPU has finished (kernels run
    asynchronously: time them, or read results, after this)."""
    require("CUDA devices")
    import cupy

    cupy.cuda.get_current_stream().synchronize()
    _module().synchronize()


def current_stream():
    """CuPy's current stream (the one every pyfastnn kernel is queued on)."""
    return require("CUDA streams").cuda.get_current_stream()


def memory_allocated():
    """Bytes in use in CuPy's default memory pool (where CUDA tensors live)."""
    return require("CUDA memory statistics").get_default_memory_pool().used_bytes()

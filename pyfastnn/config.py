"""Threads and the build/run-time configuration report."""

import platform

from . import _C
from ._version import __version__


def set_num_threads(n):
    """Number of threads the CPU kernels use (default: every core this process may use)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: argument 'n' must be an int, got {type(n).__name__}")
    _C.set_num_threads(n)


def get_num_threads():
    """Number of threads the CPU kernels use."""
    return _C.get_num_threads()


def cuda_status():
    """(module_built, device_count, device_names, note) for the CUDA backend."""
    try:
        from . import _cuda
    except ImportError as e:
        return False, 0, [], f"pyfastnn._cuda was not built ({e.__class__.__name__})"
    count = _cuda.device_count()
    names = [_cuda.device_name(i) for i in range(count)]
    note = "" if count else f"no GPU visible ({_cuda.last_error() or 'no device'})"
    return True, count, names, note


def config():
    """The configuration as a dict (what show_config prints)."""
    from .backends import cpu

    built, count, names, note = cuda_status()
    return {
        "version": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "isa": cpu.isa(),
        "best_isa": cpu.best_isa(),
        "supported_isas": cpu.supported_isas(),
        "num_threads": get_num_threads(),
        "available_cores": _C.available_cores(),
        "compiler": _C.build_info.get("compiler", "unknown"),
        "openmp": _C.build_info.get("openmp"),
        "cuda_built": built,
        "cuda_devices": names,
        "cuda_note": note,
    }


def show_config(file=None):
    """Print version, the instruction set chosen at run time, threads and CUDA status."""
    c = config()
    lines = [
        f"pyfastnn {c['version']} (Python {c['python']}, {c['machine']})",
        f"  CPU kernels : {c['isa']}" + ("" if c["isa"] == c["best_isa"] else f" (forced; best is {c['best_isa']})"),
        f"  supported   : {', '.join(c['supported_isas'])}",
        f"  threads     : {c['num_threads']} of {c['available_cores']} available cores",
        f"  compiler    : {c['compiler']}, OpenMP {c['openmp']}",
        f"  CUDA module : {'built' if c['cuda_built'] else 'not built'}",
        "  GPU         : " + (", ".join(c["cuda_devices"]) if c["cuda_devices"] else c["cuda_note"]),
    ]
    print("\n".join(lines), file=file)

"""What the CUDA wrappers share: argument checks (ValueError/TypeError naming the op and the
argument), device pointers, the current stream."""

import cupy as cp
import numpy as np

from ... import _cuda  # noqa: F401  (re-exported for the area modules)

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
I64 = np.dtype(np.int64)
FLOATS = (F32, F64)
ndarray = cp.ndarray


def stream():
    """CuPy's current stream, as the integer handle the kernels take."""
    return cp.cuda.get_current_stream().ptr


def ptr(a):
    return 0 if a is None else a.data.ptr


def describe(a):
    if isinstance(a, cp.ndarray):
        return f"a CUDA {a.dtype} array of shape {a.shape}"
    if isinstance(a, np.ndarray):
        return f"a CPU (numpy) {a.dtype} array of shape {a.shape}"
    return f"an object of type {type(a).__name__}"


def on_device(a, op, arg):
    """a, which must be a CuPy array (tensors of one op live on one device)."""
    if type(a) is not cp.ndarray and not isinstance(a, cp.ndarray):
        raise ValueError(f"{op}: argument '{arg}' must be on the GPU like the op's other tensors (a CuPy array), got "
                         f"{describe(a)}; move it with .cuda() / .to('cuda')")
    return a


def float_array(a, op, arg):
    on_device(a, op, arg)
    if a.dtype not in FLOATS:
        raise TypeError(f"{op}: argument '{arg}' must be float32 or float64, got {describe(a)}")
    return a


def same_dtype(a, ref, op, arg, ref_name):
    on_device(a, op, arg)
    if a.dtype != ref.dtype:
        raise TypeError(f"{op}: argument '{arg}' must have the dtype of '{ref_name}' ({ref.dtype}), got {describe(a)}")
    return a


def contig(a):
    return a if a is None or a.flags.c_contiguous else cp.ascontiguousarray(a)


def precision():
    from . import matmul

    return matmul.precision()

"""The CUDA kernels (pyfastnn._cuda) on CuPy arrays, one module per area, with the names and
signatures of backends.cpu / backends.reference; ops reach them through
`backends.for_array(a)` when `a` is a CuPy array.

Importing this package is free: CuPy and the CUDA module load on first use of a kernel
function, so the flags below can be set on any machine (as torch.backends.cuda's):

    pf.backends.cuda.matmul.allow_tf32 = True   # float32 products on the tensor cores, TF32 inputs
    pf.backends.cuda.matmul.allow_bf16 = True   # ... with BF16 inputs (an extension; wins over TF32)
    pf.backends.cuda.check_targets = True       # cross_entropy checks class indices (costs a sync)

float32 runs on our kernels; float64 (gradcheck) runs on CuPy's own routines where a kernel
is float32-only (the GEMM). Areas without CUDA kernels yet (convolution, pooling,
normalization, recurrent layers) raise NotImplementedError naming the function.
"""

__all__ = ["matmul", "check_targets", "is_loaded"]


class _MatmulFlags:
    """torch.backends.cuda.matmul's switches: how float32 matrix products may round."""

    __slots__ = ("allow_tf32", "allow_bf16")

    def __init__(self):
        self.allow_tf32 = False
        self.allow_bf16 = False

    def precision(self):
        """The kernels' name for the current choice: 'bf16', 'tf32' or 'fp32'."""
        return "bf16" if self.allow_bf16 else ("tf32" if self.allow_tf32 else "fp32")

    def __repr__(self):
        return f"matmul(allow_tf32={self.allow_tf32}, allow_bf16={self.allow_bf16})"


matmul = _MatmulFlags()
# cross_entropy on the GPU: check that class indices are in range (ValueError as on the CPU)
# at the cost of a device-to-host synchronization per call; off, a bad index gives that row
# a NaN loss (the CPU kernels always check).
check_targets = False

_AREAS = ("gemm", "activation", "linear", "softmax", "dropout", "optim")
_loaded = False


def is_loaded():
    """Whether the kernel wrappers (and with them CuPy) have been imported."""
    return _loaded


def _load():
    global _loaded
    if _loaded:
        return
    from ... import cuda as _pf_cuda

    _pf_cuda.require("CUDA kernels")
    import importlib

    g = globals()
    for area in _AREAS:
        mod = importlib.import_module(f"{__name__}.{area}")
        for name in mod.__all__:
            g[name] = getattr(mod, name)
    _loaded = True


def _reference_names():
    from .. import reference

    return {n for n in dir(reference) if not n.startswith("_")}


def __getattr__(name):
    if name.startswith("__") or (name not in _reference_names() and name not in ("array_matmul",)):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _load()
    g = globals()
    if name in g:
        return g[name]
    raise NotImplementedError(f"{name}: there is no CUDA kernel for it yet; run this op on the CPU (move the tensors "
                              "with .cpu(), or the model with .to('cpu'))")

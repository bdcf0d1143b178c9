"""GEMM kernels and the choice of instruction set.

The instruction set is picked at run time from what the CPU supports (AVX-512, AVX2+FMA,
portable). Set the environment variable PYFASTNN_ISA (avx512 | avx2 | portable |
avx512_emulated) before import, or call `set_isa`, to force one.
"""

import os

from ... import _C

__all__ = ["gemm", "gemm_strided_batched"]

gemm = _C.gemm
gemm_strided_batched = _C.gemm_strided_batched


def peak_gflops(threads=None, seconds=0.25):
    """Measured FP32 FMA peak (GFLOP/s) of the active instruction set."""
    from ...config import get_num_threads

    return _C.peak_gflops(threads or get_num_threads(), seconds)


def isa():
    """Instruction set the kernels use now."""
    return _C.isa()


def best_isa():
    """Instruction set the run-time dispatch picks on this CPU."""
    return _C.best_isa()


def supported_isas():
    """Instruction sets this build can run on this CPU, best first."""
    return list(_C.supported_isas())


def set_isa(name):
    """Force the kernels' instruction set; `None` returns to the run-time choice."""
    _C.set_isa(best_isa() if name is None else name)


_forced = os.environ.get("PYFASTNN_ISA")
if _forced:
    try:
        set_isa(_forced)
    except ValueError as e:
        raise ImportError(f"pyfastnn: environment variable PYFASTNN_ISA={_forced!r} is not usable: {e}") from None

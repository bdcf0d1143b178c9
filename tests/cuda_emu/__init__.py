"""Run the CUDA tests without a GPU: pyfastnn's CUDA sources compiled for the CPU (the fiber
emulator in include/) behind a NumPy-backed stand-in for CuPy (fakecupy.py).

    PYFASTNN_CUDA_EMULATOR=1 pytest tests/test_cuda_*.py

checks the kernels' indexing, bounds, reductions and warp/block logic, the bindings and the
whole Python device layer against the NumPy reference. It cannot check what only a GPU
shows: speed, the memory model, real WMMA fragment layouts, the real CuPy. Tests only.
"""

from .build import install  # noqa: F401
